// Conversions between PostgreSQL values and the core's plain types. Every
// argument check that depends on PostgreSQL's representation lives here.
#pragma once

#include "arena.hpp"
#include "decimal.hpp"
#include "postgres_headers.hpp"

namespace customer_analytics::pg {

// Allocates from a memory context without raising PostgreSQL errors (the
// core turns a nullptr into std::bad_alloc).
Arena arena_for(MemoryContext context);

// Memory context of the running aggregate; errors outside an aggregate.
MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char* function);

// Dates are PostgreSQL day numbers (days since 2000-01-01); infinite dates are
// rejected with a message naming the argument.
std::int32_t finite_date(DateADT date, const char* what);
// A timestamptz becomes the calendar date in the session's TimeZone.
std::int32_t date_of_timestamptz(TimestampTz timestamp, const char* what);

// Reads a numeric without detoasting copies or text conversion. Returns false
// when the value does not fit a Decimal (the caller uses numeric arithmetic);
// *negative is set either way. NaN and infinities are rejected with a message
// naming the argument.
bool numeric_to_decimal(Datum numeric, Decimal* out, bool* negative, const char* what);
// The same for the common case of a plain, short, in-line numeric (a price,
// an amount) whose scaled value fits 64 bits: false when the value is
// anything else, and the caller then calls numeric_to_decimal. Reads the
// value in place, allocates nothing.
bool small_numeric_to_decimal(Datum numeric, Decimal* out, bool* negative);
void check_numeric_finite(Datum numeric, const char* what);
Datum decimal_to_numeric(const Decimal& value);
// The digits of a finite numeric this extension computed itself (never of
// bytes from SQL); the digit array is palloc'd.
LargeDecimal numeric_to_large_decimal(Datum numeric);
// A numeric in `context` from digits that large_decimal_problem accepted:
// through their decimal text and numeric_in, so PostgreSQL checks them too.
Datum large_decimal_to_numeric(const LargeDecimal& value, MemoryContext context);
double numeric_to_double(Datum numeric);
int numeric_compare(Datum left, Datum right);

double finite_double(double value, const char* what);

// One-dimensional arrays without NULL elements; the returned element arrays
// are palloc'd. An empty array gives count 0.
std::int32_t* int4_array(ArrayType* array, int* count, const char* what);
double* float8_array(ArrayType* array, int* count, const char* what);
Datum* datum_array(ArrayType* array, Oid element_type, int* count, const char* what);
char** text_array(ArrayType* array, int* count, const char* what);

// Reads fields of a composite value (an rfm_summary, rfm_bins, ...) with its
// tuple descriptor cached in flinfo->fn_extra across calls.
struct CompositeReader {
    Oid type_id = InvalidOid;
    std::int32_t type_mod = -1;
    TupleDesc descriptor = nullptr;
};
CompositeReader* composite_reader(FunctionCallInfo fcinfo, void** slot, HeapTupleHeader tuple);
Datum composite_field(const CompositeReader* reader, HeapTupleHeader tuple, int field_number, bool* is_null);

// A blessed descriptor for the function's composite result, cached in *slot.
TupleDesc result_descriptor(FunctionCallInfo fcinfo, void** slot);

// Arguments that are usually the same on every row (thresholds, names) are
// parsed once per query: a cache holds a copy of the last value's bytes.
struct CachedBytes {
    std::uint32_t length;
    char* bytes;
};
bool matches_cached(const CachedBytes& cache, Datum value);
void remember_bytes(FunctionCallInfo fcinfo, CachedBytes* cache, Datum value);

// Per-call cache: a small block in fn_mcxt holding named slots.
template <typename T>
T* call_cache(FunctionCallInfo fcinfo) {
    if (fcinfo->flinfo->fn_extra == nullptr)
        fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(T));
    return static_cast<T*>(fcinfo->flinfo->fn_extra);
}

}  // namespace customer_analytics::pg
