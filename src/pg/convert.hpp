// Conversions between PostgreSQL values and the core's plain types. Every
// argument check that depends on PostgreSQL's representation lives here.
#pragma once

#include <optional>
#include <string_view>

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

// The bytes of a (detoasted) text value, in place.
inline std::string_view text_view(const text* value) {
    return std::string_view(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

// values[field] and nulls[field] of a result row from an optional double
// (std::nullopt is NULL).
inline void set_optional_float8(Datum* values, bool* nulls, int field, const std::optional<double>& value) {
    values[field] = Float8GetDatum(value.value_or(0.0));
    nulls[field] = !value.has_value();
}

// Copies datums of a varlena array into `context` so a cache can keep them.
Datum* copy_varlena_datums(MemoryContext context, const Datum* elements, int count);

// A date or timestamptz argument as a day number (finite_date,
// date_of_timestamptz).
enum class DateArgument { date, timestamptz };
template <DateArgument kind>
std::int32_t day_argument(FunctionCallInfo fcinfo, int argument, const char* what) {
    if constexpr (kind == DateArgument::date)
        return finite_date(PG_GETARG_DATEADT(argument), what);
    else
        return date_of_timestamptz(PG_GETARG_TIMESTAMPTZ(argument), what);
}

// One-dimensional arrays without NULL elements; the returned element arrays
// are palloc'd. An empty array gives count 0. More than max_count elements
// is a program_limit_exceeded error, raised before anything is allocated.
std::int32_t* int4_array(ArrayType* array, int* count, const char* what, int max_count);
double* float8_array(ArrayType* array, int* count, const char* what, int max_count);
Datum* datum_array(ArrayType* array, Oid element_type, int* count, const char* what, int max_count);

// The documented bound on parameter arrays (thresholds, names, rules,
// ladders, fractions): far beyond any real use, small enough that parsing
// never nears PostgreSQL's allocation limit.
constexpr int kMaxParameterElements = 1000;

// Raises program_limit_exceeded with `message` (which names the limit),
// a detail giving count and limit, and `hint`, when count > limit.
void check_limit(std::uint64_t count, std::uint64_t limit, const char* message, const char* hint);

// Reads fields of a composite value (an rfm_summary, rfm_bins, ...) with its
// tuple descriptor cached in flinfo->fn_extra across calls.
struct CompositeReader {
    Oid type_id = InvalidOid;
    std::int32_t type_mod = -1;
    TupleDesc descriptor = nullptr;
};
CompositeReader* composite_reader(FunctionCallInfo fcinfo, void** slot, HeapTupleHeader tuple);
Datum composite_field(const CompositeReader* reader, HeapTupleHeader tuple, int field_number, bool* is_null);
// The same for a field that must not be NULL: null_value_not_allowed, "<name>
// must not be null", when it is.
Datum required_field(const CompositeReader* reader, HeapTupleHeader tuple, int field_number, const char* name);

// A blessed descriptor for the function's composite result, cached in *slot.
TupleDesc result_descriptor(FunctionCallInfo fcinfo, void** slot);

// Results. These call PostgreSQL only through pg_call (barrier.hpp), so a
// caller may hold C++ objects (the core's results) while it builds them.
//
// A text value of the bytes.
Datum text_datum(std::string_view value);
// A float8[] of the values.
Datum float8_array_datum(const double* values, int count);
// A composite value of the descriptor's type.
Datum tuple_datum(TupleDesc descriptor, const Datum* values, const bool* nulls);

// An array of the function's result element type, a composite type
// (lorenz_point[], affinity_pair[], rfm_segment_rule[]), built row by row:
//
//   CompositeArray array(fcinfo, count, "lorenz_point");
//   for (...) { Datum* values = array.values(); ... array.add_row(); }
//   return array.result();
//
// type_name names the element type in the (internal) error raised when the
// function's result type is not an array of a composite type.
class CompositeArray {
public:
    CompositeArray(FunctionCallInfo fcinfo, int count, const char* type_name);
    int fields() const { return descriptor_->natts; }
    // The next row's fields and null flags, all set to 0 and not null.
    Datum* values() { return values_; }
    bool* nulls() { return nulls_; }
    void add_row();
    Datum result();

private:
    Oid element_type_;
    TupleDesc descriptor_;
    int count_;
    int added_;
    Datum* elements_;
    Datum* values_;
    bool* nulls_;
};

// Arguments that are usually the same on every row (thresholds, names,
// rules, bins, models) are parsed once per distinct value. Every such cache
// is an ArgumentCache: it owns a small child context of fn_mcxt holding the
// keys (the arguments' bytes) and the parsed value, and that context is
// reset whenever an argument changes. A call site therefore holds at most
// one parsed value, whose size is bounded by its arguments, however many
// distinct values a query passes (fn_mcxt itself lives as long as the query,
// or as a PL/pgSQL function's cached expressions).
constexpr int kMaxCacheKeys = 2;
struct ArgumentCache {
    MemoryContext context;
    int key_count;
    std::uint32_t key_lengths[kMaxCacheKeys];
    char* keys[kMaxCacheKeys];
    void* value;  // the caller's parsed value (in context), nullptr when invalid
};

// The cache in *slot (a field of the function's call cache), created on
// first use.
ArgumentCache* argument_cache(FunctionCallInfo fcinfo, void** slot);
// The stored value when the varlena arguments `keys` equal the stored keys
// byte for byte (compressed or external values are compared detoasted),
// nullptr otherwise.
void* argument_cache_lookup(const ArgumentCache* cache, const Datum* keys, int count);
// Frees the previous keys and value; returns the context to build the new
// value in. Until argument_cache_store, lookups miss.
MemoryContext argument_cache_reset(ArgumentCache* cache);
// Copies the keys into the cache and makes `value` (allocated in the
// context returned by argument_cache_reset) the cached value.
void argument_cache_store(ArgumentCache* cache, const Datum* keys, int count, void* value);

// Per-call cache: a small block in fn_mcxt holding named slots.
template <typename T>
T* call_cache(FunctionCallInfo fcinfo) {
    if (fcinfo->flinfo->fn_extra == nullptr)
        fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(T));
    return static_cast<T*>(fcinfo->flinfo->fn_extra);
}

}  // namespace customer_analytics::pg
