// Shared glue of aggregates whose state is one trivially copyable struct in
// the aggregate memory context (often {params, core}, where the parameters
// must be the same on every row), and of every aggregate's serialize and
// deserialize functions: states are written and read by the core
// (state_format.hpp); the glue only copies the bytes in and out of a bytea.
// Everything here is called from CA_FUNCTION bodies and follows their rule:
// no C++ object with a destructor is alive while PostgreSQL is called.
#pragma once

#include <cstdio>
#include <string>
#include <type_traits>

#include "convert.hpp"
#include "error.hpp"
#include "state_format.hpp"

#include "postgres_headers.hpp"

namespace customer_analytics::pg {

// One aggregate: its SQL name (in messages; its combine and deserialize
// functions report themselves as name_combine and name_deserialize).
struct FlatAggregate {
    const char* name;
};

[[noreturn]] inline void different_parameters(const char* aggregate) {
    throw Error(ErrorKind::invalid_parameter_value, std::string(aggregate) + " needs the same parameters on every row",
                {}, "Pass constants (or one value per group) as the parameters.");
}

// Parameter blocks hold only 8-byte fields, so they have no padding and
// compare bytewise.
template <typename T>
void require_same(const T& stored, const T& now, const char* aggregate) {
    static_assert(std::is_trivially_copyable<T>::value && sizeof(T) % 8 == 0, "flat parameter block");
    if (std::memcmp(&stored, &now, sizeof(T)) != 0)
        different_parameters(aggregate);
}

// The same for parameters kept as an array of doubles (a ladder, fractions).
inline void require_same_values(const FlatArray<double>& stored, const double* values, int count,
                                const char* aggregate) {
    if (stored.size != static_cast<std::uint32_t>(count) ||
        (count != 0 && std::memcmp(stored.data, values, sizeof(double) * count) != 0))
        different_parameters(aggregate);
}

// -0 and 0 are the same parameter: stored as 0, they compare bytewise.
inline double positive_zero(double value) { return value == 0.0 ? 0.0 : value; }

inline void require_argument(FunctionCallInfo fcinfo, int argument, const char* what) {
    if (PG_ARGISNULL(argument))
        throw Error(ErrorKind::null_value_not_allowed, std::string(what) + " must not be null");
}

// An uninitialized bytea with room for `payload` bytes.
inline bytea* new_bytea(std::size_t payload) {
    if (payload > MaxAllocSize - VARHDRSZ)
        throw Error(ErrorKind::numeric_value_out_of_range, "aggregate state is too large to serialize");
    bytea* result = static_cast<bytea*>(palloc(VARHDRSZ + payload));
    SET_VARSIZE(result, VARHDRSZ + payload);
    return result;
}

template <typename State>
State* new_flat_state(MemoryContext context) {
    static_assert(std::is_trivially_copyable<State>::value, "copied as bytes");
    return new (MemoryContextAllocZero(context, sizeof(State))) State();
}

// The memory context of aggregate's combine or deserialize function.
inline MemoryContext flat_context(FunctionCallInfo fcinfo, const FlatAggregate& aggregate, const char* suffix) {
    char function[NAMEDATALEN + 16];
    std::snprintf(function, sizeof function, "%s_%s", aggregate.name, suffix);
    return aggregate_context(fcinfo, function);
}

// A combinefn's result when its second state is NULL: the first, as it is.
inline Datum keep_first_state(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

// merge(State* state, const State& other) folds `other` into `state`; a NULL
// first state becomes a copy of the other in the aggregate context.
template <typename State, typename Merge>
Datum flat_combine(FunctionCallInfo fcinfo, const FlatAggregate& aggregate, Merge merge) {
    MemoryContext context = flat_context(fcinfo, aggregate, "combine");
    if (PG_ARGISNULL(1))
        return keep_first_state(fcinfo);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<State*>(PG_GETARG_POINTER(0));
    const auto* other = reinterpret_cast<const State*>(PG_GETARG_POINTER(1));
    if (state == nullptr) {
        state = new_flat_state<State>(context);
        *state = *other;
        PG_RETURN_POINTER(state);
    }
    merge(state, *other);
    PG_RETURN_POINTER(state);
}

// The combinefn of a {params, core} state.
template <typename State>
Datum flat_combine_params(FunctionCallInfo fcinfo, const FlatAggregate& aggregate) {
    return flat_combine<State>(fcinfo, aggregate, [&aggregate](State* state, const State& other) {
        require_same(state->params, other.params, aggregate.name);
        state->core.merge(other.core);
    });
}

// A serialized state in a new bytea; write(StateWriter&) is the core's
// writer of the state (called twice: to measure, then to write).
template <typename Write>
bytea* state_bytea(Write write) {
    bytea* result = nullptr;
    write_state(write, [&result](std::size_t size) {
        result = new_bytea(size);
        return reinterpret_cast<std::uint8_t*>(VARDATA(result));
    });
    return result;
}

// The same when the core can tell the size up front (one writing pass).
template <typename Write>
bytea* state_bytea(std::size_t size, Write write) {
    bytea* result = new_bytea(size);
    write_state(size, write, [result](std::size_t) { return reinterpret_cast<std::uint8_t*>(VARDATA(result)); });
    return result;
}

// The bytes of a serialized state argument, for the core's reader.
struct StateBytes {
    const std::uint8_t* data;
    std::size_t size;
};
inline StateBytes state_argument(FunctionCallInfo fcinfo, int argument) {
    bytea* bytes = PG_GETARG_BYTEA_PP(argument);
    return StateBytes{reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(bytes)), VARSIZE_ANY_EXHDR(bytes)};
}

// A float8[] argument that is usually the same on every row, parsed and
// checked (validate(const double*, int) raises) once per distinct value;
// the copy lives in the ArgumentCache in fn_extra.
struct CachedFloat8Array {
    double* values;
    int count;
};

template <typename Validate>
const CachedFloat8Array* cached_float8_array(FunctionCallInfo fcinfo, int argument, const char* what,
                                             Validate validate) {
    ArgumentCache* cache = argument_cache(fcinfo, &fcinfo->flinfo->fn_extra);
    const Datum datum = PG_GETARG_DATUM(argument);
    if (void* hit = argument_cache_lookup(cache, &datum, 1))
        return static_cast<const CachedFloat8Array*>(hit);
    MemoryContext context = argument_cache_reset(cache);
    int count = 0;
    const double* values = float8_array(PG_GETARG_ARRAYTYPE_P(argument), &count, what, kMaxParameterElements);
    validate(values, count);
    auto* parsed = static_cast<CachedFloat8Array*>(MemoryContextAlloc(context, sizeof(CachedFloat8Array)));
    parsed->values = static_cast<double*>(MemoryContextAlloc(context, sizeof(double) * (count + 1)));
    std::memcpy(parsed->values, values, sizeof(double) * count);
    parsed->count = count;
    argument_cache_store(cache, &datum, 1, parsed);
    return parsed;
}

}  // namespace customer_analytics::pg
