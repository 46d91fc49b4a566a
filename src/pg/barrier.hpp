// The one place where C++ meets PostgreSQL error handling, in both
// directions.
//
// From PostgreSQL into C++: every SQL-callable function is declared with
// CA_FUNCTION(name), whose body runs inside guarded(): C++ exceptions are
// caught, their text copied into fixed buffers, the try block is left (so
// every destructor has run), and only then is the PostgreSQL error raised.
//
// From C++ into PostgreSQL: an ereport longjmps over C++ frames without
// running their destructors. So the bodies follow one rule: while a C++
// object with a destructor is alive in a frame, PostgreSQL is called only
// through pg_call(), which turns an ereport into a PostgresError exception;
// guarded() raises it again, with its SQLSTATE, message, detail, hint and
// context unchanged, once the C++ frames have unwound. Calls made while no
// such object is alive (reading arguments, palloc before the core runs) need
// no guard.
#pragma once

#include <exception>
#include <type_traits>

#include "error.hpp"
#include "postgres_headers.hpp"

namespace customer_analytics::pg {

// The texts are written only when an error is recorded: guarded() runs on
// every row of an aggregate, where zeroing 2.5 kB per call would cost a few
// percent of the whole query.
struct CaughtError {
    int sqlstate = 0;
    bool canceled = false;
    char message[1024];
    char detail[1024];
    char hint[512];
};

void record_error(CaughtError* caught, const Error& error);
void record_error(CaughtError* caught, int sqlstate, const char* message);
[[noreturn]] void raise_error(const CaughtError& caught);

// Datums of 8-byte values (Float8GetDatum, Int64GetDatum) are made without
// calling PostgreSQL, so frames that hold C++ objects use them unguarded.
static_assert(FLOAT8PASSBYVAL, "8-byte values are passed by value");

// A PostgreSQL error caught by pg_call, on its way through C++ frames. The
// error data was copied into the memory context current at the call, which
// outlives the unwinding.
class PostgresError final : public std::exception {
public:
    explicit PostgresError(ErrorData* data) noexcept : data_(data) {}
    ErrorData* data() const noexcept { return data_; }
    const char* what() const noexcept override;

private:
    ErrorData* data_;
};

// Inside PG_CATCH: the error data copied into `context`, the error state
// cleared.
ErrorData* take_error(MemoryContext context);

// Calls function(arguments...), a PostgreSQL function (or a lambda that only
// calls PostgreSQL), under PG_TRY: an ereport(ERROR) in it becomes a
// PostgresError. The function must not throw C++ exceptions itself (a throw
// would leave PostgreSQL's exception stack pointing into this frame, so it
// terminates instead), and its result must be a scalar (a pointer, a Datum,
// a number).
template <typename Function, typename... Arguments>
auto pg_call(Function function, Arguments... arguments) -> decltype(function(arguments...)) {
    using Result = decltype(function(arguments...));
    static_assert(std::is_void<Result>::value || std::is_scalar<Result>::value, "pg_call returns plain values");
    auto call = [&]() noexcept { return function(arguments...); };
    MemoryContext context = CurrentMemoryContext;
    ErrorData* volatile error = nullptr;
    if constexpr (std::is_void<Result>::value) {
        PG_TRY();
        { call(); }
        PG_CATCH();
        { error = take_error(context); }
        PG_END_TRY();
        if (error != nullptr)
            throw PostgresError(error);
    } else {
        // Set between sigsetjmp and a possible longjmp: volatile.
        volatile Result result{};
        PG_TRY();
        { result = call(); }
        PG_CATCH();
        { error = take_error(context); }
        PG_END_TRY();
        if (error != nullptr)
            throw PostgresError(error);
        return result;
    }
}

template <typename Body>
Datum guarded(FunctionCallInfo fcinfo, Body body) {
    CaughtError caught;
    ErrorData* postgres_error = nullptr;
    Datum result = 0;
    try {
        result = body(fcinfo);
    } catch (const PostgresError& error) {
        postgres_error = error.data();
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
    if (postgres_error != nullptr)
        ReThrowError(postgres_error);
    if (caught.sqlstate != 0)
        raise_error(caught);
    return result;
}

// For core loops: reads PostgreSQL's interrupt flag without acting on it.
Interrupts interrupts();

}  // namespace customer_analytics::pg

#define CA_FUNCTION(name)                                                                         \
    static Datum name##_body(FunctionCallInfo fcinfo);                                            \
    extern "C" {                                                                                  \
    PG_FUNCTION_INFO_V1(name);                                                                    \
    Datum name(PG_FUNCTION_ARGS) { return customer_analytics::pg::guarded(fcinfo, name##_body); } \
    }                                                                                             \
    static Datum name##_body(FunctionCallInfo fcinfo)
