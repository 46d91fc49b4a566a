// Shared glue of aggregates whose state is one trivially copyable struct in
// the aggregate memory context (often {params, core}, where the parameters
// must be the same on every row). The serialized state is an 8-byte tag
// followed by the struct's bytes (native layout: the bytes never leave the
// server). Each aggregate supplies only its merge and its validation of
// deserialized bytes. Everything here is called from CA_FUNCTION bodies and
// follows their rule: no C++ object with a destructor is alive while
// PostgreSQL is called.
#pragma once

#include <cstdio>
#include <string>
#include <type_traits>

#include "convert.hpp"
#include "error.hpp"
#include "postgres_headers.hpp"

namespace customer_analytics::pg {

// One aggregate: its SQL name (in messages; its combine and deserialize
// functions report themselves as name_combine and name_deserialize) and the
// tag, with a format version, that starts its serialized state.
struct FlatAggregate {
    const char* name;
    char tag[8];
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

inline void require_argument(FunctionCallInfo fcinfo, int argument, const char* what) {
    if (PG_ARGISNULL(argument))
        throw Error(ErrorKind::null_value_not_allowed, std::string(what) + " must not be null");
}

[[noreturn]] inline void corrupt_state(const char* aggregate) {
    throw Error(ErrorKind::data_exception, std::string("invalid serialized ") + aggregate + " state");
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

template <typename State>
Datum flat_serialize(FunctionCallInfo fcinfo, const FlatAggregate& aggregate) {
    const auto* state = reinterpret_cast<const State*>(PG_GETARG_POINTER(0));
    bytea* result = new_bytea(sizeof aggregate.tag + sizeof(State));
    std::memcpy(VARDATA(result), aggregate.tag, sizeof aggregate.tag);
    std::memcpy(VARDATA(result) + sizeof aggregate.tag, state, sizeof(State));
    PG_RETURN_BYTEA_P(result);
}

// validate(const State&) raises for bytes that are no valid state (parameters
// the transition function would have rejected, inconsistent counts).
template <typename State, typename Validate>
Datum flat_deserialize(FunctionCallInfo fcinfo, const FlatAggregate& aggregate, Validate validate) {
    MemoryContext context = flat_context(fcinfo, aggregate, "deserialize");
    bytea* bytes = PG_GETARG_BYTEA_PP(0);
    const char* data = VARDATA_ANY(bytes);
    if (VARSIZE_ANY_EXHDR(bytes) != sizeof aggregate.tag + sizeof(State) ||
        std::memcmp(data, aggregate.tag, sizeof aggregate.tag) != 0)
        corrupt_state(aggregate.name);
    State* state = new_flat_state<State>(context);
    std::memcpy(static_cast<void*>(state), data + sizeof aggregate.tag, sizeof(State));
    validate(*state);
    PG_RETURN_POINTER(state);
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
