#include "rfm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "error.hpp"
#include "state_format.hpp"

namespace customer_analytics {

// ---------------------------------------------------------------- day set

void DaySet::add(const Arena& arena, std::int32_t day) {
    if (days.size != 0) {
        const std::int32_t last = days.data[days.size - 1];
        if (day == last)
            return;
        if (day > last && sorted_unique == days.size) {
            days.push_back(arena, day);
            sorted_unique = days.size;
            return;
        }
    }
    if (days.size == days.capacity && days.size - sorted_unique >= sorted_unique) {
        compact();
        if (days.size < days.capacity) {
            days.data[days.size++] = day;
            return;
        }
    }
    days.push_back(arena, day);
    if (days.size == 1)
        sorted_unique = 1;
}

void DaySet::compact() {
    if (sorted_unique == days.size)
        return;
    std::sort(days.begin(), days.end());
    days.size = static_cast<std::uint32_t>(std::unique(days.begin(), days.end()) - days.begin());
    sorted_unique = days.size;
}

void DaySet::merge(const Arena& arena, const DaySet& other) {
    days.append(arena, other.days.data, other.days.size);
    compact();
}

std::uint32_t DaySet::distinct_count() {
    compact();
    return days.size;
}

// ---------------------------------------------------------------- summary

namespace {

[[noreturn]] void count_out_of_range() {
    throw Error(ErrorKind::numeric_value_out_of_range, "order count out of range for type bigint");
}

std::int64_t checked_sum(std::int64_t a, std::int64_t b) {
    std::int64_t sum;
    if (__builtin_add_overflow(a, b, &sum))
        count_out_of_range();
    return sum;
}

}  // namespace

void OrderSummaryState::add_row_date(const Arena& arena, std::int32_t day, bool is_purchase) {
    if (!is_purchase) {
        refunds = checked_sum(refunds, 1);
        return;
    }
    if (purchases == INT64_MAX)
        count_out_of_range();
    if (purchases == 0) {
        first_day = last_day = day;
    } else {
        first_day = std::min(first_day, day);
        last_day = std::max(last_day, day);
    }
    ++purchases;
    purchase_days.add(arena, day);
}

bool OrderSummaryState::add_decimal(const Decimal& amount) {
    return decimal_add(&decimal_total, amount);
}

void OrderSummaryState::add_float(double amount) {
    // Neumaier's compensated summation: the error of each addition is kept
    // separately, so long sums of money-like values stay accurate.
    const double total = float_total + amount;
    if (std::fabs(float_total) >= std::fabs(amount))
        float_compensation += (float_total - total) + amount;
    else
        float_compensation += (amount - total) + float_total;
    float_total = total;
}

bool OrderSummaryState::merge(const Arena& arena, const OrderSummaryState& other) {
    if (other.money_kind != money_kind)
        throw Error(ErrorKind::invalid_parameter_value,
                    "cannot merge rfm_agg states of numeric amounts with states of double precision amounts",
                    "Numeric totals are exact and double precision totals are not, so they are never added.",
                    "Compute every state of a customer with the same amount type, for example with amount::numeric.");
    const std::int64_t merged_purchases = checked_sum(purchases, other.purchases);
    const std::int64_t merged_refunds = checked_sum(refunds, other.refunds);
    if (other.purchases > 0) {
        if (purchases == 0) {
            first_day = other.first_day;
            last_day = other.last_day;
        } else {
            first_day = std::min(first_day, other.first_day);
            last_day = std::max(last_day, other.last_day);
        }
        purchase_days.merge(arena, other.purchase_days);
    }
    purchases = merged_purchases;
    refunds = merged_refunds;
    add_float(other.float_total);
    add_float(other.float_compensation);
    return decimal_add(&decimal_total, other.decimal_total);
}

// ------------------------------------------------- serialized summaries

namespace {

constexpr StateKind kSummary = StateKind::rfm_summary;

[[noreturn]] void corrupt_summary(const std::string& detail) { invalid_state(kSummary, detail); }

MoneyKind money_kind_of(std::uint8_t byte) {
    if (byte != static_cast<std::uint8_t>(MoneyKind::exact_decimal) &&
        byte != static_cast<std::uint8_t>(MoneyKind::binary_float))
        corrupt_summary("The money kind " + std::to_string(byte) + " is unknown.");
    return static_cast<MoneyKind>(byte);
}

// Counts, then the day array (already read into state.purchase_days); sets
// first_day and last_day from the days.
void check_counts_and_days(OrderSummaryState& state) {
    if (state.purchases < 0)
        corrupt_summary("The purchase count is negative.");
    if (state.refunds < 0)
        corrupt_summary("The refund count is negative.");
    const std::uint32_t count = state.purchase_days.days.size;
    if (static_cast<std::uint64_t>(count) > static_cast<std::uint64_t>(state.purchases))
        corrupt_summary("The purchase count is smaller than the number of purchase days.");
    if (state.purchases > 0 && count == 0)
        corrupt_summary("The state has purchases but no purchase days.");
    const std::int32_t* days = state.purchase_days.days.data;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (!valid_day(days[i]))
            corrupt_summary("A purchase day is outside the range of PostgreSQL dates.");
        if (i > 0 && days[i] <= days[i - 1])
            corrupt_summary("The purchase days are not in strictly ascending order.");
    }
    state.purchase_days.sorted_unique = count;
    state.first_day = count == 0 ? 0 : days[0];
    state.last_day = count == 0 ? 0 : days[count - 1];
}

void check_decimal_scale(std::int64_t scale) {
    if (scale < 0 || scale > kMaxDecimalScale)
        corrupt_summary("The scale of the decimal total is out of range.");
}

void check_overflow(const LargeDecimal& overflow) {
    if (const char* problem = large_decimal_problem(overflow))
        corrupt_summary(problem);
}

std::int16_t* allocate_digits(const Arena& arena, std::uint32_t count) {
    return static_cast<std::int16_t*>(arena.allocate_or_throw(sizeof(std::int16_t) * count));
}

void read_summary_v2(const Arena& arena, const std::uint8_t* bytes, std::size_t length, OrderSummaryState* out,
                     LargeDecimal* overflow, bool* has_overflow) {
    StateReader reader(bytes, length, kSummary);
    OrderSummaryState state;
    state.money_kind = money_kind_of(reader.u8("money kind"));
    state.purchases = reader.i64("purchase count");
    state.refunds = reader.i64("refund count");
    const std::uint32_t day_count = reader.count("purchase day count", sizeof(std::int32_t));
    state.purchase_days.days.reserve(arena, day_count);
    reader.i32_array(state.purchase_days.days.data, day_count, "purchase days");
    state.purchase_days.days.size = day_count;
    check_counts_and_days(state);
    *has_overflow = false;
    if (state.money_kind == MoneyKind::exact_decimal) {
        state.decimal_total.mantissa = reader.i128("decimal total");
        const std::uint8_t scale = reader.u8("decimal scale");
        check_decimal_scale(scale);
        state.decimal_total.scale = scale;
        if (reader.boolean("overflow flag")) {
            LargeDecimal value;
            value.negative = reader.boolean("overflow sign");
            value.weight = reader.i32("overflow weight");
            value.display_scale = reader.u16("overflow display scale");
            value.count = reader.count("overflow digit count", sizeof(std::uint16_t), kLargeDecimalMaxDigits);
            std::int16_t* digits = allocate_digits(arena, value.count);
            for (std::uint32_t i = 0; i < value.count; ++i) {
                const std::uint16_t digit = reader.u16("overflow digits");
                if (digit >= 10000)
                    reader.fail("A digit of the overflow total is not between 0 and 9999.");
                digits[i] = static_cast<std::int16_t>(digit);
            }
            value.digits = digits;
            check_overflow(value);
            *overflow = value;
            *has_overflow = true;
        }
    } else {
        state.float_total = reader.finite_f64("float total");
        state.float_compensation = reader.finite_f64("float compensation");
    }
    reader.finish();
    *out = state;
}

// ---- 0.1.0

// Reads fields in the byte order of this machine, as 0.1.0 wrote them.
class NativeReader {
public:
    NativeReader(const std::uint8_t* bytes, std::size_t length) : bytes_(bytes), length_(length) {}
    template <typename T>
    T get(const char* field) {
        need(sizeof(T), field);
        T value;
        std::memcpy(&value, bytes_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }
    void need(std::size_t size, const char* field) const {
        if (length_ - pos_ < size)
            corrupt_summary(std::string("The state ends inside the ") + field + ".");
    }
    const std::uint8_t* here() const { return bytes_ + pos_; }
    void skip(std::size_t size) { pos_ += size; }
    std::size_t remaining() const { return length_ - pos_; }

private:
    const std::uint8_t* bytes_;
    std::size_t length_;
    std::size_t pos_ = 0;
};

constexpr bool kBigEndian = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;

// The overflow total of a 0.1.0 state: the bytes of a PostgreSQL numeric
// varlena as 0.1.0 copied them. Only an inline, uncompressed value with a
// 4-byte or 1-byte header whose length is exactly the rest of the state is
// accepted; pointers to other data (external, indirect, expanded or on-disk
// TOAST pointers) and compressed values are refused, never followed or
// inflated. The numeric inside is parsed as fields (numeric.c's layout:
// a uint16 header word holding sign and display scale, for the short form
// also the weight, else an int16 weight; then the int16 digits) and checked
// like format 2's digits.
void read_legacy_overflow(const Arena& arena, const std::uint8_t* tail, std::size_t length, LargeDecimal* out) {
    const std::uint8_t first = tail[0];
    std::size_t header;
    std::size_t declared;
    const bool one_byte = kBigEndian ? (first & 0x80) != 0 : (first & 0x01) != 0;
    if (one_byte) {
        if (first == (kBigEndian ? 0x80 : 0x01))
            corrupt_summary("The overflow total is a pointer to data stored elsewhere.");
        header = 1;
        declared = kBigEndian ? (first & 0x7F) : ((first >> 1) & 0x7F);
    } else {
        const bool compressed = kBigEndian ? (first & 0xC0) == 0x40 : (first & 0x03) == 0x02;
        if (compressed || (kBigEndian ? (first & 0xC0) != 0 : (first & 0x03) != 0))
            corrupt_summary("The overflow total is compressed.");
        if (length < 4)
            corrupt_summary("The overflow total is truncated.");
        std::uint32_t word;
        std::memcpy(&word, tail, sizeof word);
        header = 4;
        declared = kBigEndian ? (word & 0x3FFFFFFF) : ((word >> 2) & 0x3FFFFFFF);
    }
    if (declared != length)
        corrupt_summary("The length of the overflow total does not match the rest of the state.");
    const std::uint8_t* payload = tail + header;
    const std::size_t payload_length = length - header;
    if (payload_length < sizeof(std::uint16_t))
        corrupt_summary("The overflow total is truncated.");
    std::uint16_t word;
    std::memcpy(&word, payload, sizeof word);
    LargeDecimal value;
    std::size_t numeric_header = sizeof(std::uint16_t);
    switch (word & 0xC000) {
        case 0xC000:
            corrupt_summary("The overflow total is not a finite number.");
        case 0x8000:  // short form: sign, display scale and weight in one word
            value.negative = (word & 0x2000) != 0;
            value.display_scale = (word & 0x1F80) >> 7;
            value.weight = (word & 0x0040) != 0 ? static_cast<std::int32_t>(word & 0x003F) - 64
                                                : static_cast<std::int32_t>(word & 0x003F);
            break;
        default: {
            value.negative = (word & 0xC000) == 0x4000;
            value.display_scale = word & 0x3FFF;
            std::int16_t weight;
            if (payload_length < 2 * sizeof(std::int16_t))
                corrupt_summary("The overflow total is truncated.");
            std::memcpy(&weight, payload + sizeof word, sizeof weight);
            value.weight = weight;
            numeric_header += sizeof(std::int16_t);
        }
    }
    const std::size_t digit_bytes = payload_length - numeric_header;
    if (digit_bytes % sizeof(std::int16_t) != 0)
        corrupt_summary("The overflow total ends inside a digit.");
    if (digit_bytes / sizeof(std::int16_t) > kLargeDecimalMaxDigits)
        corrupt_summary("The overflow total has too many digits.");
    value.count = static_cast<std::uint32_t>(digit_bytes / sizeof(std::int16_t));
    std::int16_t* digits = allocate_digits(arena, value.count);
    if (value.count != 0)
        std::memcpy(digits, payload + numeric_header, digit_bytes);
    value.digits = digits;
    check_overflow(value);
    *out = value;
}

void read_summary_v1(const Arena& arena, const std::uint8_t* bytes, std::size_t length, OrderSummaryState* out,
                     LargeDecimal* overflow, bool* has_overflow) {
    NativeReader reader(bytes, length);
    OrderSummaryState state;
    reader.get<std::uint8_t>("format version");
    state.money_kind = money_kind_of(reader.get<std::uint8_t>("money kind"));
    if (reader.get<std::uint8_t>("padding") != 0 || reader.get<std::uint8_t>("padding") != 0)
        corrupt_summary("The padding bytes are not zero.");
    const std::int32_t first_day = reader.get<std::int32_t>("first order date");
    const std::int32_t last_day = reader.get<std::int32_t>("last order date");
    state.purchases = reader.get<std::int64_t>("purchase count");
    state.refunds = reader.get<std::int64_t>("refund count");
    reader.need(sizeof(int128), "decimal total");
    int128 mantissa;
    std::memcpy(&mantissa, reader.here(), sizeof mantissa);
    reader.skip(sizeof mantissa);
    const std::int32_t scale = reader.get<std::int32_t>("decimal scale");
    const double float_total = reader.get<double>("float total");
    const double float_compensation = reader.get<double>("float compensation");
    const std::uint32_t day_count = reader.get<std::uint32_t>("purchase day count");
    if (day_count > reader.remaining() / sizeof(std::int32_t))
        corrupt_summary("The purchase day count " + std::to_string(day_count) + " is larger than the state can hold.");
    state.purchase_days.days.reserve(arena, day_count);
    if (day_count != 0)
        std::memcpy(state.purchase_days.days.data, reader.here(), sizeof(std::int32_t) * day_count);
    reader.skip(sizeof(std::int32_t) * day_count);
    state.purchase_days.days.size = day_count;
    check_counts_and_days(state);
    if (first_day != state.first_day || last_day != state.last_day)
        corrupt_summary(state.purchases == 0 ? "A state without purchases has order dates."
                                             : "The first and last order dates do not match the purchase days.");
    check_decimal_scale(scale);
    *has_overflow = false;
    if (state.money_kind == MoneyKind::exact_decimal) {
        if (float_total != 0 || float_compensation != 0)
            corrupt_summary("A state of numeric amounts has a float total.");
        state.decimal_total.mantissa = mantissa;
        state.decimal_total.scale = scale;
        if (reader.remaining() != 0) {
            read_legacy_overflow(arena, reader.here(), reader.remaining(), overflow);
            *has_overflow = true;
        }
    } else {
        if (mantissa != 0 || scale != 0)
            corrupt_summary("A state of float8 amounts has a decimal total.");
        if (!std::isfinite(float_total) || !std::isfinite(float_compensation))
            corrupt_summary("The float total is not a finite number.");
        if (reader.remaining() != 0)
            corrupt_summary("A state of float8 amounts has an overflow total.");
        state.float_total = float_total;
        state.float_compensation = float_compensation;
    }
    *out = state;
}

constexpr std::uint8_t kLegacySummaryFormat = 1;

}  // namespace

void write_summary_state(StateWriter& writer, OrderSummaryState& state, const LargeDecimal* overflow) {
    if (state.purchase_days.sorted_unique != state.purchase_days.days.size)
        state.purchase_days.compact();
    const bool exact = state.money_kind == MoneyKind::exact_decimal;
    if (!exact && !(std::isfinite(state.float_total) && std::isfinite(state.float_compensation)))
        throw Error(ErrorKind::numeric_value_out_of_range, "sum of amounts is out of range for type double precision",
                    {}, "Use numeric amounts for exact totals of any size.");
    // Written once per group and worker in parallel plans: the fixed fields
    // go through blocks.
    StateBlock head = writer.block(4 + 1 + 8 + 8 + 4);
    head.u8('C');
    head.u8('A');
    head.u8(kStateFormatVersion);
    head.u8(static_cast<std::uint8_t>(kSummary));
    head.u8(static_cast<std::uint8_t>(state.money_kind));
    head.i64(state.purchases);
    head.i64(state.refunds);
    head.u32(state.purchase_days.days.size);
    head.finish();
    writer.i32_array(state.purchase_days.days.data, state.purchase_days.days.size);
    if (exact) {
        StateBlock total = writer.block(16 + 1 + 1);
        total.i128(state.decimal_total.mantissa);
        total.u8(static_cast<std::uint8_t>(state.decimal_total.scale));
        total.boolean(overflow != nullptr);
        total.finish();
        if (overflow != nullptr) {
            writer.boolean(overflow->negative);
            writer.i32(overflow->weight);
            writer.u16(static_cast<std::uint16_t>(overflow->display_scale));
            writer.u32(overflow->count);
            for (std::uint32_t i = 0; i < overflow->count; ++i)
                writer.u16(static_cast<std::uint16_t>(overflow->digits[i]));
        }
    } else {
        writer.f64(state.float_total);
        writer.f64(state.float_compensation);
    }
}

std::size_t summary_state_size(OrderSummaryState& state, const LargeDecimal* overflow) {
    if (state.purchase_days.sorted_unique != state.purchase_days.days.size)
        state.purchase_days.compact();
    std::size_t size = 4 + 1 + 8 + 8 + 4 + 4 * std::size_t(state.purchase_days.days.size);
    if (state.money_kind == MoneyKind::exact_decimal) {
        size += 16 + 1 + 1;
        if (overflow != nullptr)
            size += 1 + 4 + 2 + 4 + 2 * std::size_t(overflow->count);
    } else {
        size += 8 + 8;
    }
    return size;
}

void read_summary_state(const Arena& arena, const std::uint8_t* bytes, std::size_t length, OrderSummaryState* out,
                        LargeDecimal* overflow, bool* has_overflow) {
    if (bytes != nullptr && length != 0 && bytes[0] == kLegacySummaryFormat)
        read_summary_v1(arena, bytes, length, out, overflow, has_overflow);
    else
        read_summary_v2(arena, bytes, length, out, overflow, has_overflow);
}
// ------------------------------------------------------------------- bins

void check_buckets(long buckets) {
    if (buckets < kMinBuckets || buckets > kMaxBuckets)
        throw Error(ErrorKind::invalid_parameter_value,
                    "buckets must be between " + std::to_string(kMinBuckets) + " and " +
                        std::to_string(kMaxBuckets),
                    "The value given was " + std::to_string(buckets) + ".");
}

void BinsState::start(std::int32_t day, std::int32_t bucket_count) {
    check_buckets(bucket_count);
    as_of_day = day;
    buckets = bucket_count;
}

void BinsState::add(const Arena& arena, double recency_days, double frequency_value, double monetary_value) {
    recency.push_back(arena, recency_days);
    frequency.push_back(arena, frequency_value);
    monetary.push_back(arena, monetary_value);
}

void BinsState::merge(const Arena& arena, const BinsState& other) {
    if (buckets == 0) {
        as_of_day = other.as_of_day;
        buckets = other.buckets;
    } else if (other.buckets != 0 && (other.buckets != buckets || other.as_of_day != as_of_day)) {
        throw Error(ErrorKind::invalid_parameter_value,
                    "rfm_bins needs the same as_of and buckets on every row");
    }
    recency.append(arena, other.recency.data, other.recency.size);
    frequency.append(arena, other.frequency.data, other.frequency.size);
    monetary.append(arena, other.monetary.data, other.monetary.size);
}

void write_bins_state(StateWriter& writer, const BinsState& state) {
    writer.header(StateKind::rfm_bins);
    writer.i32(state.as_of_day);
    writer.u8(static_cast<std::uint8_t>(state.buckets));
    writer.u32(state.recency.size);
    writer.f64_array(state.recency.data, state.recency.size);
    writer.f64_array(state.frequency.data, state.frequency.size);
    writer.f64_array(state.monetary.data, state.monetary.size);
}

void read_bins_state(const Arena& arena, const std::uint8_t* bytes, std::size_t length, BinsState* out) {
    StateReader reader(bytes, length, StateKind::rfm_bins);
    BinsState state;
    state.as_of_day = reader.i32("as_of date");
    state.buckets = reader.u8("bucket count");
    const std::uint32_t count = reader.count("customer count", 3 * sizeof(double));
    if (state.buckets == 0) {
        // Only an empty state, never started by a row, has no buckets.
        if (count != 0 || state.as_of_day != 0)
            reader.fail("A state without buckets has customers or an as_of date.");
    } else {
        if (state.buckets < kMinBuckets || state.buckets > kMaxBuckets)
            reader.fail("The bucket count is out of range.");
        if (!valid_day(state.as_of_day))
            reader.fail("The as_of date is outside the range of PostgreSQL dates.");
    }
    const char* names[] = {"recency value", "frequency value", "monetary value"};
    FlatArray<double>* columns[] = {&state.recency, &state.frequency, &state.monetary};
    for (int c = 0; c < 3; ++c) {
        columns[c]->reserve(arena, count);
        reader.finite_f64_array(columns[c]->data, count, names[c]);
        columns[c]->size = count;
    }
    reader.finish();
    *out = state;
}

double percentile_cont_sorted(const double* sorted, std::size_t count, double fraction) {
    // Same arithmetic as PostgreSQL's percentile_cont (float8 variant), so the
    // cut points agree with it to the last bit.
    const double position = fraction * static_cast<double>(count - 1);
    const auto first = static_cast<std::size_t>(std::floor(position));
    const auto second = static_cast<std::size_t>(std::ceil(position));
    const double low = sorted[first];
    if (first == second)
        return low;
    const double high = sorted[second];
    return low + (high - low) * (position - static_cast<double>(first));
}

namespace {

double mean_of(const FlatArray<double>& values) {
    long double total = 0;
    for (double value : values)
        total += value;
    return static_cast<double>(total / values.size);
}

void cuts_of(const FlatArray<double>& values, int buckets, double* cuts) {
    for (int j = 1; j < buckets; ++j)
        cuts[j - 1] = percentile_cont_sorted(values.data, values.size, static_cast<double>(j) / buckets);
}

void check_cuts(const char* what, int buckets, const double* cuts, std::size_t count) {
    if (count != static_cast<std::size_t>(buckets - 1))
        throw Error(ErrorKind::array_subscript_error,
                    std::string(what) + " must have buckets - 1 elements",
                    "buckets is " + std::to_string(buckets) + " but " + what + " has " +
                        std::to_string(count) + " elements.");
    for (std::size_t i = 0; i < count; ++i) {
        if (!std::isfinite(cuts[i]))
            throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be finite");
        if (i > 0 && cuts[i] < cuts[i - 1])
            throw Error(ErrorKind::invalid_parameter_value, std::string(what) + " must be in ascending order");
    }
}

}  // namespace

Bins compute_bins(BinsState& state) {
    for (FlatArray<double>* values : {&state.recency, &state.frequency, &state.monetary})
        std::sort(values->begin(), values->end());
    return bins_of_sorted(state);
}

Bins bins_of_sorted(const BinsState& state) {
    Bins bins;
    bins.buckets = state.buckets == 0 ? 5 : state.buckets;
    bins.customers = state.recency.size;
    if (state.recency.size == 0)
        return bins;
    // Means after sorting: summing in sorted order makes them independent of
    // the order rows arrived in, so parallel and serial plans agree exactly.
    cuts_of(state.recency, bins.buckets, bins.recency_cuts);
    cuts_of(state.frequency, bins.buckets, bins.frequency_cuts);
    cuts_of(state.monetary, bins.buckets, bins.monetary_cuts);
    bins.recency_mean = mean_of(state.recency);
    bins.frequency_mean = mean_of(state.frequency);
    bins.monetary_mean = mean_of(state.monetary);
    return bins;
}

void check_bins(int buckets, const double* recency_cuts, std::size_t recency_count,
                const double* frequency_cuts, std::size_t frequency_count,
                const double* monetary_cuts, std::size_t monetary_count) {
    check_buckets(buckets);
    check_cuts("recency_cuts", buckets, recency_cuts, recency_count);
    check_cuts("frequency_cuts", buckets, frequency_cuts, frequency_count);
    check_cuts("monetary_cuts", buckets, monetary_cuts, monetary_count);
}

// ----------------------------------------------------------------- scores

int bucket_of(double value, const double* cuts, std::size_t cut_count) {
    // Number of cuts strictly below the value, plus one.
    return 1 + static_cast<int>(std::lower_bound(cuts, cuts + cut_count, value) - cuts);
}

RfmScore score_customer(double recency_days, double frequency, double monetary, int buckets,
                        const double* recency_cuts, const double* frequency_cuts,
                        const double* monetary_cuts) {
    if (std::isnan(recency_days) || std::isnan(frequency) || std::isnan(monetary))
        throw Error(ErrorKind::invalid_parameter_value, "cannot score a NaN recency, frequency or monetary value");
    const std::size_t cuts = static_cast<std::size_t>(buckets - 1);
    RfmScore score;
    score.r = buckets + 1 - bucket_of(recency_days, recency_cuts, cuts);
    score.f = bucket_of(frequency, frequency_cuts, cuts);
    score.m = bucket_of(monetary, monetary_cuts, cuts);
    return score;
}

std::uint32_t pack_score(const RfmScore& score) {
    check_score(score);
    return static_cast<std::uint32_t>(score.r) << 16 | static_cast<std::uint32_t>(score.f) << 8 |
           static_cast<std::uint32_t>(score.m);
}

RfmScore unpack_score(std::uint32_t packed) {
    return RfmScore{static_cast<int>(packed >> 16 & 0xff), static_cast<int>(packed >> 8 & 0xff),
                    static_cast<int>(packed & 0xff)};
}

void check_score(const RfmScore& score) {
    for (int part : {score.r, score.f, score.m})
        if (part < 1 || part > kMaxBuckets)
            throw Error(ErrorKind::invalid_parameter_value,
                        "rfm_score components must be between 1 and " + std::to_string(kMaxBuckets),
                        "The value given was " + std::to_string(part) + ".");
}

const char* format_score(const RfmScore& score, char* buffer) {
    check_score(score);
    if (score.r <= 9 && score.f <= 9 && score.m <= 9) {
        buffer[0] = static_cast<char>('0' + score.r);
        buffer[1] = static_cast<char>('0' + score.f);
        buffer[2] = static_cast<char>('0' + score.m);
        buffer[3] = '\0';
        return buffer;
    }
    std::size_t length = 0;
    for (int part : {score.r, score.f, score.m}) {
        if (length != 0)
            buffer[length++] = '-';
        if (part >= 10)
            buffer[length++] = static_cast<char>('0' + part / 10);
        buffer[length++] = static_cast<char>('0' + part % 10);
    }
    buffer[length] = '\0';
    return buffer;
}

RfmScore parse_score(const char* text) {
    const std::string input(text);
    auto bad = [&]() {
        return Error(ErrorKind::invalid_text_representation,
                     "invalid input syntax for type rfm_score: \"" + input + "\"",
                     {}, "Write three digits such as \"545\", or three numbers joined by dashes such as \"10-4-5\".");
    };
    RfmScore score;
    if (input.find('-') == std::string::npos) {
        if (input.size() != 3 || !std::all_of(input.begin(), input.end(), [](char c) { return c >= '1' && c <= '9'; }))
            throw bad();
        score = RfmScore{input[0] - '0', input[1] - '0', input[2] - '0'};
    } else {
        int parts[3];
        std::size_t position = 0;
        for (int i = 0; i < 3; ++i) {
            std::size_t digits = 0;
            long value = 0;
            while (position < input.size() && input[position] >= '0' && input[position] <= '9' && digits < 3) {
                value = value * 10 + (input[position] - '0');
                ++position;
                ++digits;
            }
            if (digits == 0)
                throw bad();
            parts[i] = static_cast<int>(value);
            if (i < 2) {
                if (position >= input.size() || input[position] != '-')
                    throw bad();
                ++position;
            }
        }
        if (position != input.size())
            throw bad();
        score = RfmScore{parts[0], parts[1], parts[2]};
    }
    check_score(score);
    return score;
}

// --------------------------------------------------------------- segments

const std::vector<SegmentRule>& standard_segment_rules() {
    // Ranges from the R package rfm's documentation. rfm applies its table
    // first match first in an order where New Customers and Promising sit
    // inside Potential Loyalist and Can't Lose Them inside At Risk, and its
    // Hibernating and Lost boxes are both "R, F, M at most 2", so some
    // segments can never be assigned. Here the narrower rules come first and
    // Lost is the all-lowest cell (1,1,1), which makes all 11 reachable; the
    // tests pin the resulting map of all 125 cells.
    static const std::vector<SegmentRule> rules = {
        {"Champions", 4, 5, 4, 5, 4, 5},
        {"Loyal Customers", 2, 5, 3, 5, 3, 5},
        {"Can't Lose Them", 1, 1, 4, 5, 4, 5},
        {"New Customers", 4, 5, 1, 1, 1, 1},
        {"Promising", 3, 4, 1, 1, 1, 1},
        {"Need Attention", 2, 3, 2, 3, 2, 3},
        {"Potential Loyalist", 3, 5, 1, 3, 1, 3},
        {"About To Sleep", 2, 3, 1, 2, 1, 2},
        {"At Risk", 1, 2, 2, 5, 2, 5},
        {"Lost", 1, 1, 1, 1, 1, 1},
        {"Hibernating", 1, 2, 1, 2, 1, 2},
    };
    return rules;
}

const char* standard_segment(const RfmScore& score) {
    check_score(score);
    if (score.r > 5 || score.f > 5 || score.m > 5) {
        char text[kScoreTextCapacity];
        throw Error(ErrorKind::invalid_parameter_value,
                    "the standard RFM segments need scores from 1 to 5",
                    std::string("The score given was ") + format_score(score, text) + ".",
                    "Score with buckets => 5, or pass your own segment rules to rfm_segment.");
    }
    const auto& rules = standard_segment_rules();
    const long index = first_matching_rule(rules.data(), rules.size(), score);
    return index < 0 ? kOtherSegment : rules[static_cast<std::size_t>(index)].name;
}

void check_segment_rule(const SegmentRule& rule, std::size_t position) {
    if (rule.name == nullptr || rule.name[0] == '\0')
        throw Error(ErrorKind::invalid_parameter_value, "segment rule names must not be empty",
                    "Rule " + std::to_string(position + 1) + " has an empty name.");
    const int bounds[3][2] = {{rule.r_min, rule.r_max}, {rule.f_min, rule.f_max}, {rule.m_min, rule.m_max}};
    for (const auto& bound : bounds) {
        if (bound[0] < 1 || bound[1] > kMaxBuckets || bound[0] > bound[1]) {
            const std::string where = "Rule " + std::to_string(position + 1) + " (\"" + rule.name + "\")";
            throw Error(ErrorKind::invalid_parameter_value, "invalid score range in segment rule",
                        where + " has a range from " + std::to_string(bound[0]) + " to " +
                            std::to_string(bound[1]) + ".",
                        "Each range needs 1 <= min <= max <= " + std::to_string(kMaxBuckets) + ".");
        }
    }
}

long first_matching_rule(const SegmentRule* rules, std::size_t count, const RfmScore& score) {
    for (std::size_t i = 0; i < count; ++i) {
        const SegmentRule& rule = rules[i];
        if (score.r >= rule.r_min && score.r <= rule.r_max && score.f >= rule.f_min &&
            score.f <= rule.f_max && score.m >= rule.m_min && score.m <= rule.m_max)
            return static_cast<long>(i);
    }
    return -1;
}

RfmClass classify(double recency_days, double frequency, double monetary,
                  double recency_cut, double frequency_cut, double monetary_cut) {
    for (double value : {recency_days, frequency, monetary, recency_cut, frequency_cut, monetary_cut})
        if (std::isnan(value))
            throw Error(ErrorKind::invalid_parameter_value, "cannot classify NaN values");
    const bool recent = recency_days <= recency_cut;
    const bool frequent = frequency >= frequency_cut;
    const bool valuable = monetary >= monetary_cut;
    static const RfmClass table[2][2][2] = {
        // [valuable][recent][frequent]
        {{RfmClass::general_recall, RfmClass::general_retention},
         {RfmClass::general_development, RfmClass::general_value}},
        {{RfmClass::important_recall, RfmClass::important_retention},
         {RfmClass::important_development, RfmClass::important_value}},
    };
    return table[valuable][recent][frequent];
}

Language parse_language(const char* text) {
    const std::string value(text);
    if (value == "en")
        return Language::en;
    if (value == "zh")
        return Language::zh;
    throw Error(ErrorKind::invalid_parameter_value, "unknown language \"" + value + "\"",
                {}, "Use 'en' for English labels or 'zh' for Chinese labels.");
}

const char* class_label(RfmClass value, Language language) {
    static const char* const english[] = {
        "important value",   "important development", "important retention", "important recall",
        "general value",     "general development",   "general retention",   "general recall",
    };
    static const char* const chinese[] = {
        "重要价值客户", "重要发展客户", "重要保持客户", "重要挽留客户",
        "一般价值客户", "一般发展客户", "一般保持客户", "一般挽留客户",
    };
    const auto index = static_cast<std::size_t>(value);
    return language == Language::zh ? chinese[index] : english[index];
}

}  // namespace customer_analytics
