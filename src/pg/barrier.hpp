// The one place where C++ meets PostgreSQL error handling.
//
// Every SQL-callable function is declared with CA_FUNCTION(name), whose body
// runs inside guarded(): C++ exceptions are caught, their text copied into
// fixed buffers, the try block is left (so every destructor has run), and only
// then is the PostgreSQL error raised. The bodies themselves follow one rule:
// while they call anything that can ereport (palloc, detoasting, catalog
// look-ups), no C++ object with a destructor is alive in their frame; such
// objects live only inside core calls, which never call PostgreSQL.
#pragma once

#include "error.hpp"
#include "postgres_headers.hpp"

namespace customer_analytics::pg {

struct CaughtError {
    int sqlstate = 0;
    bool canceled = false;
    char message[1024] = {0};
    char detail[1024] = {0};
    char hint[512] = {0};
};

void record_error(CaughtError* caught, const Error& error);
void record_error(CaughtError* caught, int sqlstate, const char* message);
[[noreturn]] void raise_error(const CaughtError& caught);

template <typename Body>
Datum guarded(FunctionCallInfo fcinfo, Body body) {
    CaughtError caught;
    Datum result = 0;
    try {
        result = body(fcinfo);
    } catch (const Error& error) {
        record_error(&caught, error);
    } catch (const std::bad_alloc&) {
        record_error(&caught, ERRCODE_OUT_OF_MEMORY, "out of memory");
    } catch (const std::length_error&) {
        // A container asked for more than it can ever hold.
        record_error(&caught, ERRCODE_PROGRAM_LIMIT_EXCEEDED, "requested size exceeds the limit of a container");
    } catch (const std::domain_error&) {
        // How Boost.Math reports arguments outside a function's domain, and
        // results it cannot represent; the core converts these where it
        // calls Boost, this is the net behind it.
        record_error(&caught, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "value out of range of a special function");
    } catch (const std::range_error&) {
        record_error(&caught, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "value out of range of a special function");
    } catch (const std::overflow_error&) {
        record_error(&caught, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "value out of range of a special function");
    } catch (const std::underflow_error&) {
        record_error(&caught, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "value out of range of a special function");
    } catch (const std::exception& error) {
        record_error(&caught, ERRCODE_INTERNAL_ERROR, error.what());
    } catch (...) {
        record_error(&caught, ERRCODE_INTERNAL_ERROR, "unexpected C++ exception");
    }
    if (caught.sqlstate != 0)
        raise_error(caught);
    return result;
}

// For core loops: reads PostgreSQL's interrupt flag without acting on it.
Interrupts interrupts();

}  // namespace customer_analytics::pg

#define CA_FUNCTION(name)                                                          \
    static Datum name##_body(FunctionCallInfo fcinfo);                              \
    extern "C" {                                                                    \
    PG_FUNCTION_INFO_V1(name);                                                      \
    Datum name(PG_FUNCTION_ARGS) {                                                  \
        return customer_analytics::pg::guarded(fcinfo, name##_body);                \
    }                                                                               \
    }                                                                               \
    static Datum name##_body(FunctionCallInfo fcinfo)
