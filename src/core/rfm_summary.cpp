#include "rfm_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "error.hpp"
#include "sort.hpp"
#include "state_format.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

// ---------------------------------------------------------------- day set

namespace {

[[noreturn]] void too_many_days() {
    throw Error(ErrorKind::program_limit_exceeded,
                "a customer has more than " + std::to_string(kMaxPurchaseDays) + " distinct purchase days",
                "The summary keeps every distinct purchase day of a customer, up to this limit.",
                "Group the orders by customer, so that each rfm_agg summarizes one customer.");
}

}  // namespace

void DaySet::add(const Arena& arena, std::int32_t day, const Interrupts& interrupts) {
    if (days.size != 0) {
        const std::int32_t last = days.data[days.size - 1];
        if (day == last)
            return;
        if (day > last && sorted_unique == days.size) {
            if (days.size >= kMaxPurchaseDays)
                too_many_days();
            days.push_back(arena, day);
            sorted_unique = days.size;
            return;
        }
    }
    if (days.size == days.capacity && days.size - sorted_unique >= sorted_unique) {
        compact(interrupts);
        if (days.size < days.capacity) {
            days.data[days.size++] = day;
            return;
        }
    }
    days.push_back(arena, day);
    if (days.size == 1)
        sorted_unique = 1;
}

void DaySet::compact(const Interrupts& interrupts) {
    if (sorted_unique == days.size)
        return;
    sort_interruptible(days.begin(), days.end(), std::less<std::int32_t>(), interrupts);
    days.size = static_cast<std::uint32_t>(std::unique(days.begin(), days.end()) - days.begin());
    sorted_unique = days.size;
    if (days.size > kMaxPurchaseDays)
        too_many_days();
}

void DaySet::merge(const Arena& arena, const DaySet& other, const Interrupts& interrupts) {
    compact(interrupts);
    if (other.days.size == 0)
        return;
    if (other.sorted_unique != other.days.size || days.size == 0 || other.days.data[0] > days.data[days.size - 1]) {
        // An unsorted other (a state still aggregating), or days that all come
        // after ours (states combined in time order): append, and sort only
        // what needs it.
        const bool after = days.size == 0 || other.days.data[0] > days.data[days.size - 1];
        days.append(arena, other.days.data, other.days.size);
        if (after && other.sorted_unique == other.days.size)
            sorted_unique = days.size;
        compact(interrupts);
        if (days.size > kMaxPurchaseDays)
            too_many_days();
        return;
    }
    // Two sorted runs: one linear merge instead of sorting both again
    // (combining many partial states of one customer stays linear).
    FlatArray<std::int32_t> merged;
    merged.reserve(arena, std::uint64_t(days.size) + other.days.size);
    std::int32_t* out = std::set_union(days.begin(), days.end(), other.days.begin(), other.days.end(), merged.data);
    merged.size = static_cast<std::uint32_t>(out - merged.data);
    interrupts.check();
    if (arena.release != nullptr && days.data != nullptr)
        arena.release(arena.context, days.data);
    days = merged;
    sorted_unique = days.size;
    if (days.size > kMaxPurchaseDays)
        too_many_days();
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

void OrderSummaryState::add_row_date(const Arena& arena, std::int32_t day, bool is_purchase,
                                     const Interrupts& interrupts) {
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
    purchase_days.add(arena, day, interrupts);
}

bool OrderSummaryState::add_decimal(const Decimal& amount) { return decimal_add(&decimal_total, amount); }

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

bool OrderSummaryState::merge(const Arena& arena, const OrderSummaryState& other, const Interrupts& interrupts) {
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
        purchase_days.merge(arena, other.purchase_days, interrupts);
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

}  // namespace customer_analytics
