#include "convert.hpp"

#include "barrier.hpp"
#include "error.hpp"

namespace customer_analytics::pg {

namespace {

void* allocate_in_context(void* context, std::size_t bytes) {
    return MemoryContextAllocExtended(static_cast<MemoryContext>(context), bytes, MCXT_ALLOC_NO_OOM);
}

// numeric's on-disk header (numeric.c keeps it private; the layout is fixed by
// pg_upgrade compatibility): after the varlena length, a uint16 whose top two
// bits say positive / negative / short / special. Short values pack sign,
// display scale and weight into that word; long values add an int16 weight.
constexpr std::uint16_t kSignMask = 0xC000;
constexpr std::uint16_t kNegative = 0x4000;
constexpr std::uint16_t kShort = 0x8000;
constexpr std::uint16_t kSpecial = 0xC000;
constexpr std::uint16_t kShortSign = 0x2000;
constexpr std::uint16_t kShortScaleMask = 0x1F80;
constexpr int kShortScaleShift = 7;
constexpr std::uint16_t kShortWeightSign = 0x0040;
constexpr std::uint16_t kShortWeightMask = 0x003F;
constexpr std::uint16_t kLongScaleMask = 0x3FFF;

struct NumericView {
    const char* payload;  // just after the varlena header
    std::size_t length;
    std::uint16_t header;
};

NumericView view_numeric(Datum numeric) {
    auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(numeric));
    if (VARATT_IS_EXTENDED(raw) && !VARATT_IS_SHORT(raw))
        raw = pg_detoast_datum_packed(raw);
    NumericView view;
    view.payload = VARDATA_ANY(raw);
    view.length = VARSIZE_ANY_EXHDR(raw);
    std::memcpy(&view.header, view.payload, sizeof view.header);
    return view;
}

}  // namespace

Arena arena_for(MemoryContext context) {
    Arena arena;
    arena.allocate = allocate_in_context;
    arena.context = context;
    arena.max_bytes = MaxAllocSize;
    return arena;
}

MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char* function) {
    MemoryContext context = nullptr;
    if (!AggCheckCallContext(fcinfo, &context))
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s called in non-aggregate context", function)));
    return context;
}

std::int32_t finite_date(DateADT date, const char* what) {
    if (DATE_NOT_FINITE(date))
        throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be a finite date");
    return date;
}

std::int32_t date_of_timestamptz(TimestampTz timestamp, const char* what) {
    if (TIMESTAMP_NOT_FINITE(timestamp))
        throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be a finite timestamp");
    return DatumGetDateADT(DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(timestamp)));
}

bool numeric_to_decimal(Datum numeric, Decimal* out, bool* is_negative, const char* what) {
    const NumericView view = view_numeric(numeric);
    const std::uint16_t flags = view.header & kSignMask;
    if (flags == kSpecial)
        throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be a finite number",
                    "NaN and infinite values cannot be summed into money totals.");
    int weight;
    int scale;
    bool negative;
    std::size_t header_bytes;
    if (flags == kShort) {
        negative = (view.header & kShortSign) != 0;
        scale = (view.header & kShortScaleMask) >> kShortScaleShift;
        weight = (view.header & kShortWeightSign)
                     ? static_cast<int>(~kShortWeightMask | (view.header & kShortWeightMask))
                     : (view.header & kShortWeightMask);
        header_bytes = sizeof(std::uint16_t);
    } else {
        negative = flags == kNegative;
        scale = view.header & kLongScaleMask;
        std::int16_t long_weight;
        std::memcpy(&long_weight, view.payload + sizeof(std::uint16_t), sizeof long_weight);
        weight = long_weight;
        header_bytes = sizeof(std::uint16_t) + sizeof(std::int16_t);
    }
    *is_negative = negative;
    const int digit_count = static_cast<int>((view.length - header_bytes) / sizeof(std::int16_t));
    std::int16_t digits[16];
    if (digit_count > 16)
        return false;  // more than 64 significant digits never fit 128 bits
    std::memcpy(digits, view.payload + header_bytes, digit_count * sizeof(std::int16_t));
    return decimal_from_base10000(negative, weight, scale, digits, digit_count, out);
}

bool small_numeric_to_decimal(Datum numeric, Decimal* out, bool* negative) {
    // Only the inline short form with a 1-byte varlena header: what a
    // numeric of a few digits looks like in a heap tuple.
    const auto* raw = reinterpret_cast<const std::uint8_t*>(DatumGetPointer(numeric));
    if (!VARATT_IS_SHORT(raw))
        return false;
    const std::size_t length = VARSIZE_SHORT(raw) - VARHDRSZ_SHORT;
    if (length < sizeof(std::uint16_t) || length > sizeof(std::uint16_t) * 5)
        return false;
    std::uint16_t header;
    std::memcpy(&header, raw + VARHDRSZ_SHORT, sizeof header);
    if ((header & kSignMask) != kShort)
        return false;
    const int scale = (header & kShortScaleMask) >> kShortScaleShift;
    const int weight = (header & kShortWeightSign) ? static_cast<int>(~kShortWeightMask | (header & kShortWeightMask))
                                                   : (header & kShortWeightMask);
    const int count = static_cast<int>((length - sizeof(std::uint16_t)) / sizeof(std::int16_t));
    if (scale > 18)
        return false;
    static const std::int64_t powers[] = {1,
                                          10,
                                          100,
                                          1000,
                                          10000,
                                          100000,
                                          1000000,
                                          10000000,
                                          100000000,
                                          1000000000,
                                          10000000000,
                                          100000000000,
                                          1000000000000,
                                          10000000000000,
                                          100000000000000,
                                          1000000000000000,
                                          10000000000000000,
                                          100000000000000000,
                                          1000000000000000000};
    // Digit i is worth 10^(4 * (weight - i) + scale) units of the result;
    // summed in 64 bits (anything larger takes numeric_to_decimal), with
    // constant divisors for the fractional digits (a price's cents).
    std::int64_t mantissa = 0;
    const std::uint8_t* digits = raw + VARHDRSZ_SHORT + sizeof header;
    for (int i = 0; i < count; ++i) {
        std::int16_t digit;
        std::memcpy(&digit, digits + sizeof(std::int16_t) * i, sizeof digit);
        if (digit < 0 || digit >= 10000)
            return false;
        const int exponent = 4 * (weight - i) + scale;
        std::int64_t term;
        switch (exponent) {
        case -1:
            if (digit % 10 != 0)
                return false;
            term = digit / 10;
            break;
        case -2:
            if (digit % 100 != 0)
                return false;
            term = digit / 100;
            break;
        case -3:
            if (digit % 1000 != 0)
                return false;
            term = digit / 1000;
            break;
        default:
            if (exponent < 0 || exponent > 18 || __builtin_mul_overflow(std::int64_t(digit), powers[exponent], &term))
                return false;
        }
        if (__builtin_add_overflow(mantissa, term, &mantissa))
            return false;
    }
    *negative = (header & kShortSign) != 0;
    out->mantissa = *negative ? -static_cast<__int128>(mantissa) : static_cast<__int128>(mantissa);
    out->scale = scale;
    return true;
}

void check_numeric_finite(Datum numeric, const char* what) {
    const NumericView view = view_numeric(numeric);
    if ((view.header & kSignMask) == kSpecial)
        throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be a finite number");
}

Datum decimal_to_numeric(const Decimal& value) {
    // Written in numeric's own short format (display scale <= 38 and weight
    // within +-10 always fit it), as numeric's make_result would: once per
    // customer, so no text round trip.
    NumericDigits digits;
    decimal_to_base10000(value, &digits);
    const std::size_t size = VARHDRSZ + sizeof(std::uint16_t) + digits.digit_count * sizeof(std::int16_t);
    auto* result = static_cast<char*>(palloc(size));
    SET_VARSIZE(result, size);
    std::uint16_t header = kShort | static_cast<std::uint16_t>(digits.display_scale << kShortScaleShift);
    if (digits.negative)
        header |= kShortSign;
    if (digits.weight < 0)
        header |= kShortWeightSign;
    header |= static_cast<std::uint16_t>(digits.weight) & kShortWeightMask;
    std::memcpy(result + VARHDRSZ, &header, sizeof header);
    std::memcpy(result + VARHDRSZ + sizeof header, digits.digits, digits.digit_count * sizeof(std::int16_t));
    return PointerGetDatum(result);
}

LargeDecimal numeric_to_large_decimal(Datum numeric) {
    const NumericView view = view_numeric(numeric);
    const std::uint16_t flags = view.header & kSignMask;
    if (flags == kSpecial)
        throw Error(ErrorKind::internal_error, "overflow total is not a finite number");
    LargeDecimal value;
    std::size_t header_bytes;
    if (flags == kShort) {
        value.negative = (view.header & kShortSign) != 0;
        value.display_scale = (view.header & kShortScaleMask) >> kShortScaleShift;
        value.weight = (view.header & kShortWeightSign)
                           ? static_cast<int>(~kShortWeightMask | (view.header & kShortWeightMask))
                           : (view.header & kShortWeightMask);
        header_bytes = sizeof(std::uint16_t);
    } else {
        value.negative = flags == kNegative;
        value.display_scale = view.header & kLongScaleMask;
        std::int16_t weight;
        std::memcpy(&weight, view.payload + sizeof(std::uint16_t), sizeof weight);
        value.weight = weight;
        header_bytes = sizeof(std::uint16_t) + sizeof(std::int16_t);
    }
    value.count = static_cast<std::uint32_t>((view.length - header_bytes) / sizeof(std::int16_t));
    // Copied: a packed (1-byte header) value leaves its digits unaligned.
    auto* digits = static_cast<std::int16_t*>(palloc(sizeof(std::int16_t) * (value.count + 1)));
    std::memcpy(digits, view.payload + header_bytes, sizeof(std::int16_t) * value.count);
    value.digits = digits;
    return value;
}

Datum large_decimal_to_numeric(const LargeDecimal& value, MemoryContext context) {
    char* text = static_cast<char*>(palloc(large_decimal_text_capacity(value)));
    large_decimal_format(value, text);
    MemoryContext previous = MemoryContextSwitchTo(context);
    const Datum numeric =
        DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
    MemoryContextSwitchTo(previous);
    pfree(text);
    return numeric;
}

double numeric_to_double(Datum numeric) {
    Decimal decimal;
    bool negative;
    if (numeric_to_decimal(numeric, &decimal, &negative, "numeric value") && decimal.scale <= 18)
        return decimal_to_double(decimal);
    return DatumGetFloat8(DirectFunctionCall1(numeric_float8, numeric));
}

int numeric_compare(Datum left, Datum right) { return DatumGetInt32(DirectFunctionCall2(numeric_cmp, left, right)); }

double finite_double(double value, const char* what) {
    if (!std::isfinite(value))
        throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be a finite number");
    return value;
}

Datum* copy_varlena_datums(MemoryContext context, const Datum* elements, int count) {
    auto* copies = static_cast<Datum*>(MemoryContextAlloc(context, sizeof(Datum) * (count + 1)));
    for (int i = 0; i < count; ++i) {
        const std::size_t size = VARSIZE_ANY(DatumGetPointer(elements[i]));
        void* copy = MemoryContextAlloc(context, size);
        std::memcpy(copy, DatumGetPointer(elements[i]), size);
        copies[i] = PointerGetDatum(copy);
    }
    return copies;
}

void check_limit(std::uint64_t count, std::uint64_t limit, const char* message, const char* hint) {
    if (count <= limit)
        return;
    throw Error(ErrorKind::program_limit_exceeded, message,
                "The limit is " + std::to_string(limit) + "; the input reached " + std::to_string(count) + ".", hint);
}

namespace {

void check_plain_array(ArrayType* array, const char* what, int max_count) {
    if (ARR_NDIM(array) > 1)
        throw Error(ErrorKind::array_subscript_error, std::string(what) + " must be a one-dimensional array");
    const int elements = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
    if (elements > max_count)
        throw Error(ErrorKind::program_limit_exceeded,
                    std::string(what) + " must have at most " + std::to_string(max_count) + " elements",
                    "The array has " + std::to_string(elements) + " elements.",
                    "Pass a shorter array; this limit keeps the parsed arguments small.");
    if (array_contains_nulls(array))
        throw Error(ErrorKind::null_value_not_allowed, std::string(what) + " must not contain NULL elements");
}

}  // namespace

Datum* datum_array(ArrayType* array, Oid element_type, int* count, const char* what, int max_count) {
    check_plain_array(array, what, max_count);
    std::int16_t length;
    bool by_value;
    char alignment;
    get_typlenbyvalalign(element_type, &length, &by_value, &alignment);
    Datum* elements = nullptr;
    deconstruct_array(array, element_type, length, by_value, alignment, &elements, nullptr, count);
    return elements;
}

std::int32_t* int4_array(ArrayType* array, int* count, const char* what, int max_count) {
    check_plain_array(array, what, max_count);
    Datum* elements = nullptr;
    deconstruct_array(array, INT4OID, 4, true, TYPALIGN_INT, &elements, nullptr, count);
    auto* values = static_cast<std::int32_t*>(palloc(sizeof(std::int32_t) * (*count + 1)));
    for (int i = 0; i < *count; ++i)
        values[i] = DatumGetInt32(elements[i]);
    return values;
}

double* float8_array(ArrayType* array, int* count, const char* what, int max_count) {
    check_plain_array(array, what, max_count);
    Datum* elements = nullptr;
    deconstruct_array(array, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elements, nullptr, count);
    auto* values = static_cast<double*>(palloc(sizeof(double) * (*count + 1)));
    for (int i = 0; i < *count; ++i)
        values[i] = DatumGetFloat8(elements[i]);
    return values;
}

namespace {

// The bytes of a varlena argument, detoasted only when compressed or
// external (a short-header value is compared in place).
const char* key_bytes(Datum value, std::uint32_t* length) {
    auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(value));
    if (VARATT_IS_EXTENDED(raw) && !VARATT_IS_SHORT(raw))
        raw = pg_detoast_datum_packed(raw);
    *length = static_cast<std::uint32_t>(VARSIZE_ANY_EXHDR(raw));
    return VARDATA_ANY(raw);
}

}  // namespace

ArgumentCache* argument_cache(FunctionCallInfo fcinfo, void** slot) {
    if (*slot != nullptr)
        return static_cast<ArgumentCache*>(*slot);
    auto* cache = static_cast<ArgumentCache*>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ArgumentCache)));
    cache->context =
        AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "customer_analytics argument cache", ALLOCSET_SMALL_SIZES);
    *slot = cache;
    return cache;
}

void* argument_cache_lookup(const ArgumentCache* cache, const Datum* keys, int count) {
    if (cache->value == nullptr || cache->key_count != count)
        return nullptr;
    for (int i = 0; i < count; ++i) {
        std::uint32_t length = 0;
        const char* bytes = key_bytes(keys[i], &length);
        if (length != cache->key_lengths[i] || std::memcmp(bytes, cache->keys[i], length) != 0)
            return nullptr;
    }
    return cache->value;
}

MemoryContext argument_cache_reset(ArgumentCache* cache) {
    cache->value = nullptr;
    cache->key_count = 0;
    MemoryContextReset(cache->context);
    return cache->context;
}

void argument_cache_store(ArgumentCache* cache, const Datum* keys, int count, void* value) {
    if (count > kMaxCacheKeys)
        throw Error(ErrorKind::program_limit_exceeded, "too many cache keys");
    for (int i = 0; i < count; ++i) {
        std::uint32_t length = 0;
        const char* bytes = key_bytes(keys[i], &length);
        cache->keys[i] = static_cast<char*>(MemoryContextAlloc(cache->context, length + 1));
        std::memcpy(cache->keys[i], bytes, length);
        cache->key_lengths[i] = length;
    }
    cache->key_count = count;
    cache->value = value;
}

CompositeReader* composite_reader(FunctionCallInfo fcinfo, void** slot, HeapTupleHeader tuple) {
    auto* reader = static_cast<CompositeReader*>(*slot);
    const Oid type_id = HeapTupleHeaderGetTypeId(tuple);
    const std::int32_t type_mod = HeapTupleHeaderGetTypMod(tuple);
    if (reader != nullptr && reader->type_id == type_id && reader->type_mod == type_mod)
        return reader;
    if (reader != nullptr) {  // another row type: replace, never accumulate
        *slot = nullptr;
        FreeTupleDesc(reader->descriptor);
        pfree(reader);
    }
    MemoryContext previous = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
    reader = static_cast<CompositeReader*>(palloc0(sizeof(CompositeReader)));
    TupleDesc descriptor = lookup_rowtype_tupdesc(type_id, type_mod);
    reader->descriptor = CreateTupleDescCopy(descriptor);
    ReleaseTupleDesc(descriptor);
    reader->type_id = type_id;
    reader->type_mod = type_mod;
    MemoryContextSwitchTo(previous);
    *slot = reader;
    return reader;
}

Datum composite_field(const CompositeReader* reader, HeapTupleHeader tuple, int field_number, bool* is_null) {
    HeapTupleData row;
    row.t_len = HeapTupleHeaderGetDatumLength(tuple);
    ItemPointerSetInvalid(&row.t_self);
    row.t_tableOid = InvalidOid;
    row.t_data = tuple;
    if (field_number > reader->descriptor->natts)
        throw Error(ErrorKind::data_exception, "composite value has too few fields");
    return heap_getattr(&row, field_number, reader->descriptor, is_null);
}

Datum required_field(const CompositeReader* reader, HeapTupleHeader tuple, int field_number, const char* name) {
    bool is_null = false;
    const Datum value = composite_field(reader, tuple, field_number, &is_null);
    if (is_null)
        throw Error(ErrorKind::null_value_not_allowed, std::string(name) + " must not be null");
    return value;
}

TupleDesc result_descriptor(FunctionCallInfo fcinfo, void** slot) {
    if (*slot != nullptr)
        return static_cast<TupleDesc>(*slot);
    TupleDesc descriptor = nullptr;
    if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("function returning a record called in a context that cannot accept it")));
    MemoryContext previous = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
    descriptor = BlessTupleDesc(CreateTupleDescCopy(descriptor));
    MemoryContextSwitchTo(previous);
    *slot = descriptor;
    return descriptor;
}

Datum text_datum(std::string_view value) {
    return pg_call(
        [value] { return PointerGetDatum(cstring_to_text_with_len(value.data(), static_cast<int>(value.size()))); });
}

Datum float8_array_datum(const double* values, int count) {
    return pg_call([values, count] {
        Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
        for (int i = 0; i < count; ++i)
            elements[i] = Float8GetDatum(values[i]);
        return PointerGetDatum(construct_array(elements, count, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    });
}

Datum tuple_datum(TupleDesc descriptor, const Datum* values, const bool* nulls) {
    return pg_call([descriptor, values, nulls] {
        return HeapTupleGetDatum(heap_form_tuple(descriptor, const_cast<Datum*>(values), const_cast<bool*>(nulls)));
    });
}

CompositeArray::CompositeArray(FunctionCallInfo fcinfo, int count, const char* type_name)
    : element_type_(InvalidOid), descriptor_(nullptr), count_(count), added_(0), elements_(nullptr), values_(nullptr),
      nulls_(nullptr) {
    pg_call([this, fcinfo, type_name] {
        const Oid array_type = get_func_rettype(fcinfo->flinfo->fn_oid);
        element_type_ = OidIsValid(array_type) ? get_element_type(array_type) : InvalidOid;
        if (!OidIsValid(element_type_))
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("could not determine the %s type", type_name)));
        descriptor_ = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element_type_, -1));
        elements_ = static_cast<Datum*>(palloc(sizeof(Datum) * (count_ + 1)));
        values_ = static_cast<Datum*>(palloc0(sizeof(Datum) * (descriptor_->natts + 1)));
        nulls_ = static_cast<bool*>(palloc0(sizeof(bool) * (descriptor_->natts + 1)));
    });
}

void CompositeArray::add_row() {
    if (added_ >= count_)
        throw Error(ErrorKind::internal_error, "more rows than the array was made for");
    elements_[added_++] = tuple_datum(descriptor_, values_, nulls_);
    std::memset(values_, 0, sizeof(Datum) * descriptor_->natts);
    std::memset(nulls_, 0, sizeof(bool) * descriptor_->natts);
}

Datum CompositeArray::result() {
    return pg_call([this] {
        if (added_ == 0)
            return PointerGetDatum(construct_empty_array(element_type_));
        std::int16_t length;
        bool by_value;
        char alignment;
        get_typlenbyvalalign(element_type_, &length, &by_value, &alignment);
        return PointerGetDatum(construct_array(elements_, added_, element_type_, length, by_value, alignment));
    });
}

}  // namespace customer_analytics::pg
