// Unit tests for src/core/rfm: the per-customer order summary (rfm_agg's
// state) and its serialization, quantile bins, scores, the standard segment
// map and the 8-class scheme.
#include "rfm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "error.hpp"
#include "test_arena.hpp"

using namespace customer_analytics;
using customer_analytics_test::TestArena;

namespace {

template <class F>
ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "expected a customer_analytics::Error";
    return ErrorKind::internal_error;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Decimal dec(int128 mantissa, std::int32_t scale) {
    Decimal value;
    value.mantissa = mantissa;
    value.scale = scale;
    return value;
}

std::vector<std::int32_t> days_of(DaySet& set) {
    set.compact();
    return std::vector<std::int32_t>(set.days.begin(), set.days.end());
}

// One order row: day, amount in cents (negative = refund).
struct Row {
    std::int32_t day;
    std::int64_t cents;
};

void add_row(const Arena& arena, OrderSummaryState& state, const Row& row) {
    state.add_row_date(arena, row.day, row.cents >= 0);
    ASSERT_TRUE(state.add_decimal(dec(row.cents, 2)));
}

std::vector<std::uint8_t> serialize(OrderSummaryState& state) {
    std::vector<std::uint8_t> bytes(summary_serialized_size(state));
    summary_serialize(state, bytes.data());
    return bytes;
}

std::vector<std::uint8_t> serialize(const BinsState& state) {
    std::vector<std::uint8_t> bytes(bins_serialized_size(state));
    bins_serialize(state, bytes.data());
    return bytes;
}

template <typename T>
void poke(std::vector<std::uint8_t>& bytes, std::size_t offset, T value) {
    ASSERT_LE(offset + sizeof(T), bytes.size());
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

// Byte offsets of the rfm_agg serialization (format 1).
constexpr std::size_t kVersionAt = 0, kKindAt = 1, kFirstAt = 4, kLastAt = 8, kPurchasesAt = 12,
                      kRefundsAt = 20, kScaleAt = 44, kDayCountAt = 64, kDaysAt = 68;

ErrorKind deserialize_kind(const std::vector<std::uint8_t>& bytes, std::size_t length) {
    TestArena arena;
    OrderSummaryState out;
    std::size_t consumed = 0;
    return kind_of([&] { summary_deserialize(arena, bytes.data(), length, &out, &consumed); });
}

std::string score_text(const RfmScore& score) {
    char buffer[kScoreTextCapacity];
    return format_score(score, buffer);
}

RfmScore score_of(int r, int f, int m) { return RfmScore{r, f, m}; }

bool same_score(const RfmScore& a, const RfmScore& b) { return a.r == b.r && a.f == b.f && a.m == b.m; }

}  // namespace

// ================================================================ DaySet

TEST(DaySet, InOrderWithDuplicates) {
    TestArena arena;
    DaySet set;
    for (std::int32_t day : {10, 10, 11, 15, 15, 15, 20})
        set.add(arena, day);
    EXPECT_EQ(set.distinct_count(), 4u);
    EXPECT_EQ(days_of(set), (std::vector<std::int32_t>{10, 11, 15, 20}));
}

TEST(DaySet, AnyOrderWithDuplicates) {
    TestArena arena;
    DaySet set;
    for (std::int32_t day : {20, 3, 20, 7, 3, 3, -5, 7, 100, 20, 0, -5})
        set.add(arena, day);
    EXPECT_EQ(set.distinct_count(), 6u);
    EXPECT_EQ(days_of(set), (std::vector<std::int32_t>{-5, 0, 3, 7, 20, 100}));
    // Adding after a compaction keeps counting correctly.
    set.add(arena, 50);
    set.add(arena, 3);
    set.add(arena, 50);
    EXPECT_EQ(set.distinct_count(), 7u);
    EXPECT_EQ(days_of(set), (std::vector<std::int32_t>{-5, 0, 3, 7, 20, 50, 100}));
}

TEST(DaySet, EmptyAndSingle) {
    TestArena arena;
    DaySet set;
    EXPECT_EQ(set.distinct_count(), 0u);
    set.add(arena, 42);
    EXPECT_EQ(set.distinct_count(), 1u);
    set.add(arena, 42);
    EXPECT_EQ(set.distinct_count(), 1u);
}

TEST(DaySet, ExtremeDays) {
    TestArena arena;
    DaySet set;
    const std::int32_t lo = std::numeric_limits<std::int32_t>::min();
    const std::int32_t hi = std::numeric_limits<std::int32_t>::max();
    for (std::int32_t day : {hi, lo, 0, hi, lo})
        set.add(arena, day);
    EXPECT_EQ(days_of(set), (std::vector<std::int32_t>{lo, 0, hi}));
}

// Property: for random day sequences (sorted runs, reversed runs, random
// order, heavy duplication), distinct_count equals the size of a std::set of
// the same days, the compacted contents equal the set, and the array never
// holds more than a small multiple of the distinct days. (The array grows
// only when the unsorted tail is shorter than the sorted part, so capacity
// stays below 4x the distinct days; rfm.hpp's "twice" is not quite what the
// code guarantees: days 1..5 then 1, 2, 1, 2, ... fill 16 slots.)
TEST(DaySet, RandomSequencesMatchStdSet) {
    std::mt19937 random(12345);
    for (int trial = 0; trial < 400; ++trial) {
        TestArena arena;
        DaySet set;
        std::set<std::int32_t> reference;
        const int length = static_cast<int>(random() % 2000);
        const int range = 1 + static_cast<int>(random() % (trial % 4 == 0 ? 10 : 5000));
        const int style = trial % 5;
        std::int32_t day = static_cast<std::int32_t>(random() % 1000);
        for (int i = 0; i < length; ++i) {
            switch (style) {
                case 0: day = static_cast<std::int32_t>(random() % range); break;          // any order
                case 1: day += static_cast<std::int32_t>(random() % 3); break;              // ascending, repeats
                case 2: day -= static_cast<std::int32_t>(random() % 3); break;              // descending
                case 3: day = (i % 7 == 0) ? static_cast<std::int32_t>(random() % range)    // mostly ascending
                                           : day + 1; break;
                default: day = static_cast<std::int32_t>(random() % 4) * 1000 +              // few values
                               static_cast<std::int32_t>(i % 2); break;
            }
            set.add(arena, day);
            reference.insert(day);
            if (random() % 97 == 0) {  // interleave queries, which compact
                ASSERT_EQ(set.distinct_count(), reference.size());
            }
            ASSERT_LE(set.days.size, 4 * reference.size() + 8) << "trial " << trial << " at row " << i;
        }
        ASSERT_EQ(set.distinct_count(), reference.size()) << "trial " << trial;
        ASSERT_EQ(days_of(set), std::vector<std::int32_t>(reference.begin(), reference.end()));
    }
}

TEST(DaySet, RepeatedOldDaysDoNotGrowWithoutBound) {
    TestArena arena;
    DaySet set;
    for (std::int32_t day = 1; day <= 5; ++day)
        set.add(arena, day);
    std::uint32_t largest = 0;
    for (int i = 0; i < 10000; ++i) {
        set.add(arena, 1 + i % 2);  // never equal to the last entry
        largest = std::max(largest, set.days.size);
    }
    EXPECT_EQ(set.distinct_count(), 5u);
    EXPECT_LE(set.days.capacity, 16u);
    EXPECT_EQ(largest, 16u);  // 3.2x the distinct days before a compaction
}

TEST(DaySet, MergeIsUnion) {
    TestArena arena;
    DaySet a, b, empty;
    for (std::int32_t day : {5, 1, 9, 1})
        a.add(arena, day);
    for (std::int32_t day : {9, 2, 5, 30})
        b.add(arena, day);
    a.merge(arena, b);
    EXPECT_EQ(days_of(a), (std::vector<std::int32_t>{1, 2, 5, 9, 30}));
    a.merge(arena, empty);
    EXPECT_EQ(a.distinct_count(), 5u);
    empty.merge(arena, a);
    EXPECT_EQ(days_of(empty), (std::vector<std::int32_t>{1, 2, 5, 9, 30}));
}

TEST(DaySet, OutOfMemoryThrowsBadAlloc) {
    TestArena arena;
    arena.fail_after(1);
    DaySet set;
    for (std::int32_t day = 0; day < 8; ++day)  // the first block holds 8 days
        set.add(arena, day);
    EXPECT_THROW(set.add(arena, 8), std::bad_alloc);
    EXPECT_EQ(set.distinct_count(), 8u);  // unchanged by the failed add
}

// ==================================================== OrderSummaryState

TEST(OrderSummary, FirstAndLastDayAnyOrder) {
    TestArena arena;
    OrderSummaryState state;
    for (std::int32_t day : {100, 40, 250, 40, 180})
        state.add_row_date(arena, day, true);
    EXPECT_EQ(state.first_day, 40);
    EXPECT_EQ(state.last_day, 250);
    EXPECT_EQ(state.purchases, 5);
    EXPECT_EQ(state.refunds, 0);
    EXPECT_EQ(state.purchase_days.distinct_count(), 4u);
}

TEST(OrderSummary, RefundsCountMoneyButNotPurchasesOrDates) {
    TestArena arena;
    OrderSummaryState state;
    add_row(arena, state, {100, 5000});   // 50.00
    add_row(arena, state, {90, -1250});   // refund before the first purchase
    add_row(arena, state, {300, -250});   // refund after the last purchase
    add_row(arena, state, {120, 0});      // a zero amount is a purchase
    EXPECT_EQ(state.purchases, 2);
    EXPECT_EQ(state.refunds, 2);
    EXPECT_EQ(state.first_day, 100);
    EXPECT_EQ(state.last_day, 120);
    EXPECT_EQ(state.purchase_days.distinct_count(), 2u);
    EXPECT_TRUE(state.decimal_total.mantissa == 3500);  // 50.00 - 12.50 - 2.50 + 0
    EXPECT_EQ(state.decimal_total.scale, 2);
}

TEST(OrderSummary, OnlyRefunds) {
    TestArena arena;
    OrderSummaryState state;
    add_row(arena, state, {10, -500});
    add_row(arena, state, {20, -700});
    EXPECT_EQ(state.purchases, 0);
    EXPECT_EQ(state.refunds, 2);
    EXPECT_EQ(state.purchase_days.distinct_count(), 0u);
    EXPECT_TRUE(state.decimal_total.mantissa == -1200);
    // The first purchase sets both dates, whatever came before.
    add_row(arena, state, {15, 100});
    EXPECT_EQ(state.first_day, 15);
    EXPECT_EQ(state.last_day, 15);
}

TEST(OrderSummary, AddDecimalOverflowKeepsTotal) {
    OrderSummaryState state;
    int128 big = 1;
    for (int i = 0; i < 38; ++i)
        big *= 10;
    ASSERT_TRUE(state.add_decimal(dec(big, 0)));
    EXPECT_FALSE(state.add_decimal(dec(big, 0)));  // 2 * 10^38 > 2^127
    EXPECT_TRUE(state.decimal_total.mantissa == big);
    EXPECT_FALSE(state.add_decimal(dec(1, 1)));     // 10^39 at scale 1
    EXPECT_TRUE(state.decimal_total.mantissa == big);
    EXPECT_EQ(state.decimal_total.scale, 0);
}

TEST(OrderSummary, MergeWithEmptySides) {
    TestArena arena;
    OrderSummaryState filled, empty, target;
    add_row(arena, filled, {7, 1000});
    add_row(arena, filled, {3, 1});
    add_row(arena, filled, {1, -5});
    // Merging an empty state changes nothing.
    ASSERT_TRUE(filled.merge(arena, empty));
    EXPECT_EQ(filled.first_day, 3);
    EXPECT_EQ(filled.last_day, 7);
    EXPECT_EQ(filled.purchases, 2);
    EXPECT_EQ(filled.refunds, 1);
    // Merging into an empty state copies the dates.
    ASSERT_TRUE(target.merge(arena, filled));
    EXPECT_EQ(target.first_day, 3);
    EXPECT_EQ(target.last_day, 7);
    EXPECT_EQ(target.purchases, 2);
    EXPECT_EQ(target.refunds, 1);
    EXPECT_EQ(days_of(target.purchase_days), (std::vector<std::int32_t>{3, 7}));
    EXPECT_TRUE(target.decimal_total.mantissa == 996);
    // A refund-only state does not disturb the dates of the other.
    OrderSummaryState refunds_only;
    add_row(arena, refunds_only, {100, -1});
    ASSERT_TRUE(target.merge(arena, refunds_only));
    EXPECT_EQ(target.first_day, 3);
    EXPECT_EQ(target.last_day, 7);
    EXPECT_EQ(target.refunds, 2);
    // ...and a refund-only target takes the other's dates.
    ASSERT_TRUE(refunds_only.merge(arena, filled));
    EXPECT_EQ(refunds_only.first_day, 3);
    EXPECT_EQ(refunds_only.last_day, 7);
    EXPECT_EQ(refunds_only.purchases, 2);
}

TEST(OrderSummary, MergeRejectsDifferentMoneyKinds) {
    TestArena arena;
    OrderSummaryState exact, binary;
    binary.money_kind = MoneyKind::binary_float;
    EXPECT_EQ(kind_of([&] { exact.merge(arena, binary); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { binary.merge(arena, exact); }), ErrorKind::invalid_parameter_value);
}

TEST(OrderSummary, MergeDecimalOverflowReportsFalse) {
    TestArena arena;
    int128 big = 1;
    for (int i = 0; i < 38; ++i)
        big *= 10;
    OrderSummaryState a, b;
    ASSERT_TRUE(a.add_decimal(dec(big, 0)));
    ASSERT_TRUE(b.add_decimal(dec(big, 0)));
    b.add_row_date(arena, 5, true);
    EXPECT_FALSE(a.merge(arena, b));
    // The decimal total is left alone for the caller; the rest is merged.
    EXPECT_TRUE(a.decimal_total.mantissa == big);
    EXPECT_EQ(a.purchases, 1);
}

// Property: splitting the rows of a customer at random over several partial
// states (as parallel workers do) and merging them in any order gives the
// same summary as one pass.
TEST(OrderSummary, RandomSplitsMergeToOnePass) {
    std::mt19937 random(777);
    for (int trial = 0; trial < 300; ++trial) {
        TestArena arena;
        std::vector<Row> rows(random() % 200);
        for (Row& row : rows) {
            row.day = static_cast<std::int32_t>(random() % (trial % 3 == 0 ? 20 : 3000));
            const std::int64_t cents = static_cast<std::int64_t>(random() % 1000000);
            row.cents = random() % 5 == 0 ? -cents : cents;
        }
        OrderSummaryState whole;
        std::set<std::int32_t> purchase_days;
        for (const Row& row : rows) {
            add_row(arena, whole, row);
            if (row.cents >= 0)
                purchase_days.insert(row.day);
        }
        const std::size_t parts = 1 + random() % 5;
        std::vector<OrderSummaryState> partial(parts);
        for (const Row& row : rows)
            add_row(arena, partial[random() % parts], row);
        std::vector<std::size_t> order(parts);
        for (std::size_t i = 0; i < parts; ++i)
            order[i] = i;
        std::shuffle(order.begin(), order.end(), random);
        OrderSummaryState merged;
        for (std::size_t i : order)
            ASSERT_TRUE(merged.merge(arena, partial[i]));

        ASSERT_EQ(merged.purchases, whole.purchases);
        ASSERT_EQ(merged.refunds, whole.refunds);
        ASSERT_TRUE(merged.decimal_total.mantissa == whole.decimal_total.mantissa);
        ASSERT_EQ(merged.decimal_total.scale, whole.decimal_total.scale);
        ASSERT_EQ(merged.purchase_days.distinct_count(), purchase_days.size());
        ASSERT_EQ(whole.purchase_days.distinct_count(), purchase_days.size());
        ASSERT_EQ(days_of(merged.purchase_days), days_of(whole.purchase_days));
        if (whole.purchases > 0) {
            ASSERT_EQ(merged.first_day, *purchase_days.begin());
            ASSERT_EQ(merged.last_day, *purchase_days.rbegin());
            ASSERT_EQ(whole.first_day, *purchase_days.begin());
            ASSERT_EQ(whole.last_day, *purchase_days.rbegin());
        }
    }
}

// ------------------------------------------------------------ float sums

TEST(OrderSummaryFloat, NeumaierCancellation) {
    OrderSummaryState state;
    state.money_kind = MoneyKind::binary_float;
    for (double amount : {1e16, 1.0, -1e16})
        state.add_float(amount);
    EXPECT_EQ(state.float_sum(), 1.0);  // a naive sum gives 0

    OrderSummaryState big_first;
    for (double amount : {1.0, 1e100, 1.0, -1e100})
        big_first.add_float(amount);
    EXPECT_EQ(big_first.float_sum(), 2.0);

    OrderSummaryState small_last;
    for (double amount : {1e16, -1e16, 0.5, 1e-3})
        small_last.add_float(amount);
    EXPECT_EQ(small_last.float_sum(), 0.5 + 1e-3);
}

TEST(OrderSummaryFloat, ManyTenths) {
    OrderSummaryState ten;
    for (int i = 0; i < 10; ++i)
        ten.add_float(0.1);
    EXPECT_EQ(ten.float_sum(), 1.0);  // a naive sum gives 0.9999999999999999

    OrderSummaryState million;
    for (int i = 0; i < 1000000; ++i)
        million.add_float(0.1);
    EXPECT_EQ(million.float_sum(), 100000.0);  // naive: 100000.00000133288

    OrderSummaryState cents;
    for (int i = 0; i < 100000; ++i)
        cents.add_float(i % 2 == 0 ? 19.99 : -0.01);
    EXPECT_DOUBLE_EQ(cents.float_sum(), 50000 * 19.98);
}

// Property: sums of exactly representable values of wildly different
// magnitudes stay within a few ulps of the exact sum (computed in int128),
// one pass or merged from random splits.
TEST(OrderSummaryFloat, RandomSumsNearExact) {
    std::mt19937_64 random(4242);
    for (int trial = 0; trial < 200; ++trial) {
        TestArena arena;
        const int count = 1 + static_cast<int>(random() % 1000);
        OrderSummaryState whole;
        whole.money_kind = MoneyKind::binary_float;
        std::vector<OrderSummaryState> parts(3);
        for (auto& part : parts)
            part.money_kind = MoneyKind::binary_float;
        int128 exact = 0;  // in units of 2^-10
        for (int i = 0; i < count; ++i) {
            const std::int64_t mantissa = static_cast<std::int64_t>(random() >> 11) * ((random() & 1) != 0 ? -1 : 1);
            const int shift = static_cast<int>(random() % 21);
            const double amount = std::ldexp(static_cast<double>(mantissa), shift - 10);  // exact
            exact += static_cast<int128>(mantissa) * (static_cast<int128>(1) << shift);
            whole.add_float(amount);
            parts[random() % 3].add_float(amount);
        }
        OrderSummaryState merged;
        merged.money_kind = MoneyKind::binary_float;
        for (const auto& part : parts)
            ASSERT_TRUE(merged.merge(arena, part));
        const double reference = std::ldexp(static_cast<double>(exact), -10);
        EXPECT_DOUBLE_EQ(whole.float_sum(), reference) << "trial " << trial;
        EXPECT_DOUBLE_EQ(merged.float_sum(), reference) << "trial " << trial;
    }
}

// ======================================================== serialization

TEST(SummarySerialization, RoundTripDecimal) {
    TestArena arena;
    OrderSummaryState state;
    for (const Row& row : std::vector<Row>{{300, 1999}, {100, 500}, {200, -300}, {100, 1}, {250, 70000}})
        add_row(arena, state, row);
    ASSERT_TRUE(state.add_decimal(dec(5, 4)));  // the scale goes to 4
    std::vector<std::uint8_t> bytes = serialize(state);
    EXPECT_EQ(bytes.size(), 68u + 3u * 4u);

    TestArena other_arena;
    OrderSummaryState back;
    std::size_t consumed = 0;
    summary_deserialize(other_arena, bytes.data(), bytes.size(), &back, &consumed);
    EXPECT_EQ(consumed, bytes.size());
    EXPECT_EQ(back.money_kind, MoneyKind::exact_decimal);
    EXPECT_EQ(back.first_day, 100);
    EXPECT_EQ(back.last_day, 300);
    EXPECT_EQ(back.purchases, 4);
    EXPECT_EQ(back.refunds, 1);
    EXPECT_TRUE(back.decimal_total.mantissa == (1999 + 500 - 300 + 1 + 70000) * 100 + 5);
    EXPECT_EQ(back.decimal_total.scale, 4);
    EXPECT_EQ(days_of(back.purchase_days), (std::vector<std::int32_t>{100, 250, 300}));
    // The deserialized state keeps working.
    back.add_row_date(other_arena, 50, true);
    EXPECT_EQ(back.first_day, 50);
    EXPECT_EQ(back.purchase_days.distinct_count(), 4u);
    // And serializes to the same bytes as the original would with that row.
    state.add_row_date(arena, 50, true);
    EXPECT_EQ(serialize(back), serialize(state));
}

TEST(SummarySerialization, RoundTripFloatAndExtremes) {
    TestArena arena;
    OrderSummaryState state;
    state.money_kind = MoneyKind::binary_float;
    for (double amount : {1e16, 1.0, -3.5})
        state.add_float(amount);
    state.add_row_date(arena, std::numeric_limits<std::int32_t>::min(), true);
    state.add_row_date(arena, std::numeric_limits<std::int32_t>::max(), true);
    state.decimal_total = dec(-(static_cast<int128>(1) << 120), 38);
    std::vector<std::uint8_t> bytes = serialize(state);
    OrderSummaryState back;
    std::size_t consumed = 0;
    summary_deserialize(arena, bytes.data(), bytes.size(), &back, &consumed);
    EXPECT_EQ(back.money_kind, MoneyKind::binary_float);
    EXPECT_EQ(back.float_total, state.float_total);
    EXPECT_EQ(back.float_compensation, state.float_compensation);
    EXPECT_EQ(back.float_sum(), 1e16 - 2.5);
    EXPECT_TRUE(back.decimal_total.mantissa == state.decimal_total.mantissa);
    EXPECT_EQ(back.decimal_total.scale, 38);
    EXPECT_EQ(back.first_day, std::numeric_limits<std::int32_t>::min());
    EXPECT_EQ(back.last_day, std::numeric_limits<std::int32_t>::max());
}

TEST(SummarySerialization, CompactsBeforeWriting) {
    TestArena arena;
    OrderSummaryState state;
    for (std::int32_t day : {9, 3, 9, 3, 6, 1})
        state.add_row_date(arena, day, true);
    std::vector<std::uint8_t> bytes = serialize(state);
    ASSERT_EQ(bytes.size(), 68u + 4u * 4u);
    std::uint32_t count = 0;
    std::memcpy(&count, bytes.data() + kDayCountAt, 4);
    EXPECT_EQ(count, 4u);
    std::int32_t days[4];
    std::memcpy(days, bytes.data() + kDaysAt, sizeof days);
    EXPECT_EQ(std::vector<std::int32_t>(days, days + 4), (std::vector<std::int32_t>{1, 3, 6, 9}));
}

TEST(SummarySerialization, TrailingBytesAreNotConsumed) {
    // The glue appends an overflow numeric after the core bytes and relies
    // on `consumed` to find it.
    TestArena arena;
    OrderSummaryState state;
    add_row(arena, state, {5, 100});
    std::vector<std::uint8_t> bytes = serialize(state);
    const std::size_t core = bytes.size();
    bytes.insert(bytes.end(), {1, 2, 3, 4, 5});
    OrderSummaryState back;
    std::size_t consumed = 0;
    summary_deserialize(arena, bytes.data(), bytes.size(), &back, &consumed);
    EXPECT_EQ(consumed, core);
}

TEST(SummarySerialization, EveryTruncationIsRejected) {
    TestArena arena;
    OrderSummaryState state;
    for (const Row& row : std::vector<Row>{{10, 100}, {20, 200}, {15, -5}, {30, 1}})
        add_row(arena, state, row);
    const std::vector<std::uint8_t> bytes = serialize(state);
    for (std::size_t length = 0; length < bytes.size(); ++length)
        EXPECT_EQ(deserialize_kind(bytes, length), ErrorKind::data_exception) << "length " << length;
}

TEST(SummarySerialization, CorruptionsAreRejected) {
    TestArena arena;
    OrderSummaryState state;
    for (const Row& row : std::vector<Row>{{10, 100}, {20, 200}, {15, -5}, {30, 1}})
        add_row(arena, state, row);
    const std::vector<std::uint8_t> good = serialize(state);
    ASSERT_EQ(good.size(), 68u + 3u * 4u);  // days 10, 20, 30
    struct Case {
        const char* what;
        void (*corrupt)(std::vector<std::uint8_t>&);
    };
    const Case cases[] = {
        {"unknown version", [](std::vector<std::uint8_t>& b) { b[kVersionAt] = 2; }},
        {"version zero", [](std::vector<std::uint8_t>& b) { b[kVersionAt] = 0; }},
        {"amount type zero", [](std::vector<std::uint8_t>& b) { b[kKindAt] = 0; }},
        {"amount type three", [](std::vector<std::uint8_t>& b) { b[kKindAt] = 3; }},
        {"negative purchases", [](std::vector<std::uint8_t>& b) { poke<std::int64_t>(b, kPurchasesAt, -1); }},
        {"negative refunds", [](std::vector<std::uint8_t>& b) { poke<std::int64_t>(b, kRefundsAt, -1); }},
        {"negative scale", [](std::vector<std::uint8_t>& b) { poke<std::int32_t>(b, kScaleAt, -1); }},
        {"scale 39", [](std::vector<std::uint8_t>& b) { poke<std::int32_t>(b, kScaleAt, 39); }},
        {"more days than purchases", [](std::vector<std::uint8_t>& b) { poke<std::int64_t>(b, kPurchasesAt, 2); }},
        {"purchases without days",
         [](std::vector<std::uint8_t>& b) {
             poke<std::uint32_t>(b, kDayCountAt, 0);
             b.resize(kDaysAt);
         }},
        {"days without purchases",
         [](std::vector<std::uint8_t>& b) { poke<std::int64_t>(b, kPurchasesAt, 0); }},
        {"first after last",
         [](std::vector<std::uint8_t>& b) {
             poke<std::int32_t>(b, kFirstAt, 31);
             poke<std::int32_t>(b, kLastAt, 30);
         }},
        {"days unsorted", [](std::vector<std::uint8_t>& b) { poke<std::int32_t>(b, kDaysAt + 8, 15); }},
        {"duplicate day", [](std::vector<std::uint8_t>& b) { poke<std::int32_t>(b, kDaysAt + 4, 10); }},
        {"day before first", [](std::vector<std::uint8_t>& b) { poke<std::int32_t>(b, kFirstAt, 11); }},
        {"day after last", [](std::vector<std::uint8_t>& b) { poke<std::int32_t>(b, kLastAt, 29); }},
        {"day count beyond the bytes",
         [](std::vector<std::uint8_t>& b) {
             poke<std::int64_t>(b, kPurchasesAt, 4);
             poke<std::uint32_t>(b, kDayCountAt, 4);
         }},
        {"huge day count",
         [](std::vector<std::uint8_t>& b) {
             poke<std::int64_t>(b, kPurchasesAt, std::numeric_limits<std::int64_t>::max());
             poke<std::uint32_t>(b, kDayCountAt, 0xffffffffu);
         }},
    };
    for (const Case& c : cases) {
        std::vector<std::uint8_t> bytes = good;
        c.corrupt(bytes);
        EXPECT_EQ(deserialize_kind(bytes, bytes.size()), ErrorKind::data_exception) << c.what;
    }
    // The untouched bytes still deserialize.
    OrderSummaryState back;
    std::size_t consumed = 0;
    EXPECT_NO_THROW(summary_deserialize(arena, good.data(), good.size(), &back, &consumed));
}

TEST(SummarySerialization, ErrorCarriesDetail) {
    std::vector<std::uint8_t> bytes(10, 0);
    TestArena arena;
    OrderSummaryState out;
    std::size_t consumed = 0;
    try {
        summary_deserialize(arena, bytes.data(), bytes.size(), &out, &consumed);
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::data_exception);
        EXPECT_NE(std::string(e.what()).find("rfm_agg"), std::string::npos);
        EXPECT_FALSE(e.detail().empty());
    }
}

// Bug: a state without purchases (a customer seen only through refunds, or
// an empty partial state) has no day array; summary_deserialize then calls
// memcpy(nullptr, ..., 0) (rfm.cpp, after reserve(arena, 0)), which is
// undefined behaviour: UBSan aborts with "null pointer passed as argument 1".
TEST(SummarySerialization, RoundTripWithoutPurchases) {
    TestArena arena;
    OrderSummaryState state;
    add_row(arena, state, {10, -500});
    std::vector<std::uint8_t> bytes = serialize(state);
    EXPECT_EQ(bytes.size(), 68u);
    OrderSummaryState back;
    std::size_t consumed = 0;
    summary_deserialize(arena, bytes.data(), bytes.size(), &back, &consumed);
    EXPECT_EQ(back.purchases, 0);
    EXPECT_EQ(back.refunds, 1);
    EXPECT_TRUE(back.decimal_total.mantissa == -500);
}

// Weak validation: the first and last order days are only checked to
// enclose the purchase days, not to be the first and last of them, so a
// state claiming a first order on day 1 with purchase days {10, 20, 30} is
// accepted (summary_serialize never writes such a state).
TEST(SummarySerialization, FirstAndLastMustBePurchaseDays) {
    TestArena arena;
    OrderSummaryState state;
    for (const Row& row : std::vector<Row>{{10, 100}, {20, 200}, {30, 1}})
        add_row(arena, state, row);
    std::vector<std::uint8_t> bytes = serialize(state);
    poke<std::int32_t>(bytes, kFirstAt, 1);
    EXPECT_EQ(deserialize_kind(bytes, bytes.size()), ErrorKind::data_exception);
    bytes = serialize(state);
    poke<std::int32_t>(bytes, kLastAt, 40);
    EXPECT_EQ(deserialize_kind(bytes, bytes.size()), ErrorKind::data_exception);
}

// ================================================================= bins

TEST(PercentileCont, MatchesPostgres) {
    const double ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    // SELECT percentile_cont(p) WITHIN GROUP (ORDER BY x) FROM generate_series(1, 10) x
    EXPECT_DOUBLE_EQ(percentile_cont_sorted(ten, 10, 0.2), 2.8);
    EXPECT_DOUBLE_EQ(percentile_cont_sorted(ten, 10, 0.4), 4.6);
    EXPECT_DOUBLE_EQ(percentile_cont_sorted(ten, 10, 0.5), 5.5);
    EXPECT_DOUBLE_EQ(percentile_cont_sorted(ten, 10, 0.25), 3.25);
    EXPECT_DOUBLE_EQ(percentile_cont_sorted(ten, 10, 0.75), 7.75);
    EXPECT_DOUBLE_EQ(percentile_cont_sorted(ten, 10, 0.9), 9.1);
    EXPECT_EQ(percentile_cont_sorted(ten, 10, 0.0), 1.0);
    EXPECT_EQ(percentile_cont_sorted(ten, 10, 1.0), 10.0);
    EXPECT_EQ(percentile_cont_sorted(ten, 10, 1.0 / 3.0), 4.0);  // position 3 exactly
    EXPECT_EQ(percentile_cont_sorted(ten, 10, 2.0 / 3.0), 7.0);

    const double one[] = {7.5};
    for (double p : {0.0, 0.2, 0.5, 0.99, 1.0})
        EXPECT_EQ(percentile_cont_sorted(one, 1, p), 7.5);

    const double two[] = {2, 4};
    EXPECT_EQ(percentile_cont_sorted(two, 2, 0.0), 2.0);
    EXPECT_EQ(percentile_cont_sorted(two, 2, 0.5), 3.0);
    EXPECT_EQ(percentile_cont_sorted(two, 2, 0.25), 2.5);
    EXPECT_DOUBLE_EQ(percentile_cont_sorted(two, 2, 0.2), 2.4);
    EXPECT_EQ(percentile_cont_sorted(two, 2, 1.0), 4.0);

    const double ties[] = {1, 1, 1, 5, 5};
    EXPECT_EQ(percentile_cont_sorted(ties, 5, 0.25), 1.0);  // between two 1s
    EXPECT_EQ(percentile_cont_sorted(ties, 5, 0.625), 3.0);  // position 2.5: halfway 1..5
}

namespace {

void add_customers(const Arena& arena, BinsState& state, const std::vector<std::array<double, 3>>& customers) {
    for (const auto& c : customers)
        state.add(arena, c[0], c[1], c[2]);
}

}  // namespace

TEST(ComputeBins, HandMadeFiveCustomers) {
    TestArena arena;
    BinsState state;
    state.start(19000, 5);
    // recency, frequency, monetary
    const std::vector<std::array<double, 3>> customers = {
        {30, 2, 50.5}, {10, 1, 100}, {50, 10, 0}, {20, 1, 300}, {40, 3, 20},
    };
    add_customers(arena, state, customers);
    const Bins bins = compute_bins(state);
    EXPECT_EQ(bins.buckets, 5);
    EXPECT_EQ(bins.customers, 5);
    // Cut j is percentile_cont(j / 5); positions 0.8, 1.6, 2.4, 3.2.
    const double recency[] = {18, 26, 34, 42};         // sorted 10 20 30 40 50
    const double frequency[] = {1, 1.6, 2.4, 4.4};     // sorted 1 1 2 3 10
    const double monetary[] = {16, 38.3, 70.3, 140};   // sorted 0 20 50.5 100 300
    for (int j = 0; j < 4; ++j) {
        EXPECT_DOUBLE_EQ(bins.recency_cuts[j], recency[j]) << j;
        EXPECT_DOUBLE_EQ(bins.frequency_cuts[j], frequency[j]) << j;
        EXPECT_DOUBLE_EQ(bins.monetary_cuts[j], monetary[j]) << j;
    }
    for (int j = 4; j < kMaxBuckets - 1; ++j)
        EXPECT_EQ(bins.recency_cuts[j], 0.0);
    EXPECT_DOUBLE_EQ(bins.recency_mean, 30);
    EXPECT_DOUBLE_EQ(bins.frequency_mean, 3.4);
    EXPECT_DOUBLE_EQ(bins.monetary_mean, 94.1);

    // Scores by hand: the number of cuts strictly below the value, plus one
    // (recency reversed).
    const char* expected[] = {"333", "514", "151", "415", "242"};
    for (std::size_t i = 0; i < customers.size(); ++i) {
        const RfmScore score = score_customer(customers[i][0], customers[i][1], customers[i][2], bins.buckets,
                                              bins.recency_cuts, bins.frequency_cuts, bins.monetary_cuts);
        EXPECT_EQ(score_text(score), expected[i]) << "customer " << i;
    }
}

TEST(ComputeBins, TiesLeaveBucketsEmpty) {
    TestArena arena;
    BinsState state;
    state.start(0, 4);
    const double frequency[] = {3, 1, 1, 8, 1, 2, 1, 1, 2, 1};
    for (int i = 0; i < 10; ++i)
        state.add(arena, i + 1, frequency[i], 10 - i);
    const Bins bins = compute_bins(state);
    // recency and monetary are 1..10: positions 2.25, 4.5, 6.75.
    EXPECT_DOUBLE_EQ(bins.recency_cuts[0], 3.25);
    EXPECT_DOUBLE_EQ(bins.recency_cuts[1], 5.5);
    EXPECT_DOUBLE_EQ(bins.recency_cuts[2], 7.75);
    EXPECT_DOUBLE_EQ(bins.monetary_cuts[1], 5.5);
    // frequency sorted 1 1 1 1 1 1 2 2 3 8.
    EXPECT_EQ(bins.frequency_cuts[0], 1.0);
    EXPECT_EQ(bins.frequency_cuts[1], 1.0);
    EXPECT_EQ(bins.frequency_cuts[2], 2.0);
    EXPECT_DOUBLE_EQ(bins.frequency_mean, 2.1);
    EXPECT_EQ(bucket_of(1, bins.frequency_cuts, 3), 1);
    EXPECT_EQ(bucket_of(2, bins.frequency_cuts, 3), 3);  // bucket 2 stays empty
    EXPECT_EQ(bucket_of(3, bins.frequency_cuts, 3), 4);
    EXPECT_EQ(bucket_of(8, bins.frequency_cuts, 3), 4);
}

TEST(ComputeBins, AllEqualValues) {
    TestArena arena;
    BinsState state;
    state.start(0, 5);
    for (int i = 0; i < 37; ++i)
        state.add(arena, 12, 3, 99.99);
    const Bins bins = compute_bins(state);
    for (int j = 0; j < 4; ++j) {
        EXPECT_EQ(bins.recency_cuts[j], 12.0);
        EXPECT_EQ(bins.frequency_cuts[j], 3.0);
        EXPECT_EQ(bins.monetary_cuts[j], 99.99);
    }
    EXPECT_DOUBLE_EQ(bins.monetary_mean, 99.99);
    const RfmScore score = score_customer(12, 3, 99.99, 5, bins.recency_cuts, bins.frequency_cuts, bins.monetary_cuts);
    // Every value equals every cut: lowest bucket, so r (reversed) is 5.
    EXPECT_EQ(score_text(score), "511");
}

TEST(ComputeBins, OneCustomer) {
    TestArena arena;
    BinsState state;
    state.start(0, 3);
    state.add(arena, 4, 1, 25);
    const Bins bins = compute_bins(state);
    EXPECT_EQ(bins.customers, 1);
    EXPECT_EQ(bins.buckets, 3);
    EXPECT_EQ(bins.recency_cuts[0], 4.0);
    EXPECT_EQ(bins.recency_cuts[1], 4.0);
    EXPECT_EQ(bins.frequency_cuts[1], 1.0);
    EXPECT_EQ(bins.monetary_cuts[0], 25.0);
    EXPECT_EQ(bins.recency_mean, 4.0);
    EXPECT_EQ(bins.monetary_mean, 25.0);
    const RfmScore score = score_customer(4, 1, 25, 3, bins.recency_cuts, bins.frequency_cuts, bins.monetary_cuts);
    EXPECT_EQ(score_text(score), "311");
}

TEST(ComputeBins, NoCustomers) {
    BinsState state;
    state.start(0, 7);
    Bins bins = compute_bins(state);
    EXPECT_EQ(bins.customers, 0);
    EXPECT_EQ(bins.buckets, 7);
    EXPECT_EQ(bins.recency_cuts[0], 0.0);
    EXPECT_EQ(bins.monetary_mean, 0.0);
    BinsState never_started;  // e.g. a combine of empty partial states
    bins = compute_bins(never_started);
    EXPECT_EQ(bins.customers, 0);
    EXPECT_EQ(bins.buckets, 5);
}

TEST(ComputeBins, NinetyNineBuckets) {
    TestArena arena;
    BinsState state;
    state.start(0, 99);
    for (int i = 0; i <= 98; ++i)
        state.add(arena, i, i, i);
    const Bins bins = compute_bins(state);
    // 99 values 0..98 and 99 buckets: cut j sits at position 98 j / 99.
    for (int j = 1; j < 99; ++j)
        EXPECT_NEAR(bins.frequency_cuts[j - 1], 98.0 * j / 99.0, 1e-12) << j;
    for (int i = 0; i <= 98; ++i) {
        const RfmScore s = score_customer(i, i, i, 99, bins.recency_cuts, bins.frequency_cuts, bins.monetary_cuts);
        EXPECT_EQ(s.f, i + 1);
        EXPECT_EQ(s.r, 99 - i);
    }
}

TEST(BinsState, StartChecksBuckets) {
    BinsState state;
    EXPECT_EQ(kind_of([&] { state.start(0, 1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { state.start(0, 100); }), ErrorKind::invalid_parameter_value);
    EXPECT_NO_THROW(state.start(5, 99));
    EXPECT_EQ(state.buckets, 99);
    EXPECT_EQ(state.as_of_day, 5);
}

TEST(BinsState, MergeEqualsOnePass) {
    std::mt19937 random(31337);
    for (int trial = 0; trial < 100; ++trial) {
        TestArena arena;
        const int buckets = 2 + static_cast<int>(random() % 9);
        const int count = 1 + static_cast<int>(random() % 300);
        std::vector<std::array<double, 3>> customers(static_cast<std::size_t>(count));
        for (auto& c : customers)
            c = {static_cast<double>(random() % 400), static_cast<double>(1 + random() % 12),
                 static_cast<double>(random() % 100000) / 100.0};
        BinsState whole;
        whole.start(19500, buckets);
        add_customers(arena, whole, customers);
        // Contiguous random pieces, some empty and never started, merged in order.
        BinsState merged;
        std::size_t at = 0;
        while (at < customers.size()) {
            const std::size_t take = std::min<std::size_t>(customers.size() - at, random() % 60);
            BinsState piece;
            if (take != 0 || random() % 2 == 0)
                piece.start(19500, buckets);
            for (std::size_t i = at; i < at + take; ++i)
                piece.add(arena, customers[i][0], customers[i][1], customers[i][2]);
            merged.merge(arena, piece);
            at += take;
        }
        ASSERT_EQ(merged.buckets, buckets);
        ASSERT_EQ(merged.as_of_day, 19500);
        const Bins a = compute_bins(whole);
        const Bins b = compute_bins(merged);
        ASSERT_EQ(a.customers, b.customers);
        ASSERT_EQ(a.buckets, b.buckets);
        ASSERT_EQ(std::memcmp(a.recency_cuts, b.recency_cuts, sizeof a.recency_cuts), 0);
        ASSERT_EQ(std::memcmp(a.frequency_cuts, b.frequency_cuts, sizeof a.frequency_cuts), 0);
        ASSERT_EQ(std::memcmp(a.monetary_cuts, b.monetary_cuts, sizeof a.monetary_cuts), 0);
        ASSERT_EQ(a.recency_mean, b.recency_mean);
        ASSERT_EQ(a.frequency_mean, b.frequency_mean);
        ASSERT_EQ(a.monetary_mean, b.monetary_mean);
    }
}

TEST(BinsState, MergeRejectsDifferentParameters) {
    TestArena arena;
    BinsState a, b, c;
    a.start(100, 5);
    b.start(100, 4);
    c.start(101, 5);
    EXPECT_EQ(kind_of([&] { a.merge(arena, b); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { a.merge(arena, c); }), ErrorKind::invalid_parameter_value);
}

TEST(BinsSerialization, RoundTrip) {
    TestArena arena;
    BinsState state;
    state.start(-42, 7);
    state.add(arena, 1.5, 2, -3.25);
    state.add(arena, kInf, 0, 1e300);
    state.add(arena, 0, 5, 0.1);
    std::vector<std::uint8_t> bytes = serialize(state);
    EXPECT_EQ(bytes.size(), 16u + 3u * 24u);
    BinsState back;
    bins_deserialize(arena, bytes.data(), bytes.size(), &back);
    EXPECT_EQ(back.as_of_day, -42);
    EXPECT_EQ(back.buckets, 7);
    ASSERT_EQ(back.recency.size, 3u);
    ASSERT_EQ(back.frequency.size, 3u);
    ASSERT_EQ(back.monetary.size, 3u);
    for (std::uint32_t i = 0; i < 3; ++i) {
        EXPECT_EQ(back.recency.data[i], state.recency.data[i]);
        EXPECT_EQ(back.frequency.data[i], state.frequency.data[i]);
        EXPECT_EQ(back.monetary.data[i], state.monetary.data[i]);
    }
    EXPECT_EQ(serialize(back), bytes);
    // The copy is independent and keeps growing.
    back.add(arena, 9, 9, 9);
    EXPECT_EQ(back.recency.size, 4u);
    EXPECT_EQ(state.recency.size, 3u);
}

TEST(BinsSerialization, CorruptionsAreRejected) {
    TestArena arena;
    BinsState state;
    state.start(0, 5);
    state.add(arena, 1, 2, 3);
    state.add(arena, 4, 5, 6);
    const std::vector<std::uint8_t> good = serialize(state);
    auto kind = [&](const std::vector<std::uint8_t>& bytes, std::size_t length) {
        BinsState out;
        return kind_of([&] { bins_deserialize(arena, bytes.data(), length, &out); });
    };
    for (std::size_t length = 0; length < good.size(); ++length)
        EXPECT_EQ(kind(good, length), ErrorKind::data_exception) << "length " << length;
    std::vector<std::uint8_t> bytes = good;
    poke<std::uint32_t>(bytes, 0, 2);
    EXPECT_EQ(kind(bytes, bytes.size()), ErrorKind::data_exception) << "version";
    for (std::int32_t buckets : {1, 100, -5}) {
        bytes = good;
        poke<std::int32_t>(bytes, 8, buckets);
        EXPECT_EQ(kind(bytes, bytes.size()), ErrorKind::data_exception) << "buckets " << buckets;
    }
    for (std::uint32_t count : {1u, 3u, 0xffffffffu}) {
        bytes = good;
        poke<std::uint32_t>(bytes, 12, count);
        EXPECT_EQ(kind(bytes, bytes.size()), ErrorKind::data_exception) << "count " << count;
    }
    bytes = good;
    bytes.push_back(0);
    EXPECT_EQ(kind(bytes, bytes.size()), ErrorKind::data_exception) << "trailing byte";
}

// Bug: like summary_deserialize, bins_deserialize of a state with no
// customers calls memcpy(nullptr, ..., 0) (rfm.cpp, reserve(arena, 0) leaves
// the column without storage): undefined behaviour that UBSan aborts on.
TEST(BinsSerialization, RoundTripEmpty) {
    TestArena arena;
    BinsState state;
    state.start(3, 5);
    std::vector<std::uint8_t> bytes = serialize(state);
    EXPECT_EQ(bytes.size(), 16u);
    BinsState back;
    bins_deserialize(arena, bytes.data(), bytes.size(), &back);
    EXPECT_EQ(back.buckets, 5);
    EXPECT_EQ(back.recency.size, 0u);
}

TEST(CheckBuckets, Range) {
    EXPECT_EQ(kind_of([] { check_buckets(1); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { check_buckets(100); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { check_buckets(0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { check_buckets(-3); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([] { check_buckets(1L << 40); }), ErrorKind::invalid_parameter_value);
    EXPECT_NO_THROW(check_buckets(2));
    EXPECT_NO_THROW(check_buckets(5));
    EXPECT_NO_THROW(check_buckets(99));
}

TEST(CheckBins, Validation) {
    const double good[] = {1, 2, 2, 3};  // equal neighbours are allowed
    EXPECT_NO_THROW(check_bins(5, good, 4, good, 4, good, 4));
    const double longer[] = {1, 2, 3, 4, 5};
    // Wrong lengths, one array at a time.
    EXPECT_EQ(kind_of([&] { check_bins(5, good, 3, good, 4, good, 4); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { check_bins(5, good, 4, longer, 5, good, 4); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { check_bins(5, good, 4, good, 4, good, 0); }), ErrorKind::array_subscript_error);
    // Bad bucket counts come first.
    EXPECT_EQ(kind_of([&] { check_bins(1, good, 0, good, 0, good, 0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_bins(100, good, 4, good, 4, good, 4); }), ErrorKind::invalid_parameter_value);
    // Non-finite and descending cuts in each array.
    const double with_nan[] = {1, kNaN, 3, 4};
    const double with_inf[] = {1, 2, 3, kInf};
    const double with_minus_inf[] = {-kInf, 2, 3, 4};
    const double descending[] = {1, 3, 2, 4};
    for (const double* bad : {with_nan, with_inf, with_minus_inf, descending}) {
        EXPECT_EQ(kind_of([&] { check_bins(5, bad, 4, good, 4, good, 4); }), ErrorKind::invalid_parameter_value);
        EXPECT_EQ(kind_of([&] { check_bins(5, good, 4, bad, 4, good, 4); }), ErrorKind::invalid_parameter_value);
        EXPECT_EQ(kind_of([&] { check_bins(5, good, 4, good, 4, bad, 4); }), ErrorKind::invalid_parameter_value);
    }
    const double two[] = {10};
    EXPECT_NO_THROW(check_bins(2, two, 1, two, 1, two, 1));
}

// ================================================================ scores

TEST(BucketOf, ValueEqualToCutGoesToLowerBucket) {
    const double cuts[] = {10, 20, 30, 40};
    EXPECT_EQ(bucket_of(-1e300, cuts, 4), 1);
    EXPECT_EQ(bucket_of(9.99, cuts, 4), 1);
    EXPECT_EQ(bucket_of(10, cuts, 4), 1);
    EXPECT_EQ(bucket_of(std::nextafter(10.0, 11.0), cuts, 4), 2);
    EXPECT_EQ(bucket_of(20, cuts, 4), 2);
    EXPECT_EQ(bucket_of(25, cuts, 4), 3);
    EXPECT_EQ(bucket_of(40, cuts, 4), 4);
    EXPECT_EQ(bucket_of(40.0001, cuts, 4), 5);
    EXPECT_EQ(bucket_of(kInf, cuts, 4), 5);
    EXPECT_EQ(bucket_of(-kInf, cuts, 4), 1);
    const double repeated[] = {5, 5, 5, 7};
    EXPECT_EQ(bucket_of(5, repeated, 4), 1);
    EXPECT_EQ(bucket_of(6, repeated, 4), 4);
    EXPECT_EQ(bucket_of(7, repeated, 4), 4);
    EXPECT_EQ(bucket_of(8, repeated, 4), 5);
}

TEST(ScoreCustomer, RecencyIsReversed) {
    const double cuts[] = {10, 20, 30, 40};
    // Smallest recency (most recent) gets the highest r.
    EXPECT_EQ(score_customer(0, 0, 0, 5, cuts, cuts, cuts).r, 5);
    EXPECT_EQ(score_customer(10, 0, 0, 5, cuts, cuts, cuts).r, 5);
    EXPECT_EQ(score_customer(11, 0, 0, 5, cuts, cuts, cuts).r, 4);
    EXPECT_EQ(score_customer(40, 0, 0, 5, cuts, cuts, cuts).r, 2);
    EXPECT_EQ(score_customer(41, 0, 0, 5, cuts, cuts, cuts).r, 1);
    // Frequency and monetary are not reversed.
    const RfmScore s = score_customer(25, 35, 5, 5, cuts, cuts, cuts);
    EXPECT_TRUE(same_score(s, score_of(3, 4, 1)));
    // Different cut arrays per dimension.
    const double r_cuts[] = {100}, f_cuts[] = {2}, m_cuts[] = {50};
    EXPECT_TRUE(same_score(score_customer(100, 3, 50, 2, r_cuts, f_cuts, m_cuts), score_of(2, 2, 1)));
    EXPECT_TRUE(same_score(score_customer(101, 2, 51, 2, r_cuts, f_cuts, m_cuts), score_of(1, 1, 2)));
}

TEST(ScoreCustomer, RejectsNaN) {
    const double cuts[] = {10, 20, 30, 40};
    EXPECT_EQ(kind_of([&] { score_customer(kNaN, 1, 1, 5, cuts, cuts, cuts); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { score_customer(1, kNaN, 1, 5, cuts, cuts, cuts); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { score_customer(1, 1, kNaN, 5, cuts, cuts, cuts); }), ErrorKind::invalid_parameter_value);
}

// Property: over random populations with many ties, equal values always get
// equal scores, scores are monotonic in each value, stay in 1..buckets, and
// with many distinct values every bucket is used.
TEST(ScoreCustomer, EqualValuesEqualScoresAndMonotonic) {
    std::mt19937 random(2718);
    for (int trial = 0; trial < 60; ++trial) {
        TestArena arena;
        const int buckets = 2 + static_cast<int>(random() % 8);
        const int distinct = 1 + static_cast<int>(random() % (trial % 2 == 0 ? 4 : 1000));
        const int count = 1 + static_cast<int>(random() % 500);
        std::vector<std::array<double, 3>> customers(static_cast<std::size_t>(count));
        for (auto& c : customers)
            c = {static_cast<double>(random() % distinct), static_cast<double>(random() % distinct) / 4,
                 static_cast<double>(random() % distinct) * 12.5};
        BinsState state;
        state.start(0, buckets);
        add_customers(arena, state, customers);
        const Bins bins = compute_bins(state);
        std::map<double, int> r_of, f_of, m_of;
        std::vector<RfmScore> scores;
        for (const auto& c : customers) {
            const RfmScore s = score_customer(c[0], c[1], c[2], buckets, bins.recency_cuts, bins.frequency_cuts,
                                              bins.monetary_cuts);
            ASSERT_GE(s.r, 1);
            ASSERT_LE(s.r, buckets);
            ASSERT_GE(s.f, 1);
            ASSERT_LE(s.f, buckets);
            ASSERT_GE(s.m, 1);
            ASSERT_LE(s.m, buckets);
            auto r = r_of.emplace(c[0], s.r);
            ASSERT_EQ(r.first->second, s.r) << "recency " << c[0];
            auto f = f_of.emplace(c[1], s.f);
            ASSERT_EQ(f.first->second, s.f) << "frequency " << c[1];
            auto m = m_of.emplace(c[2], s.m);
            ASSERT_EQ(m.first->second, s.m) << "monetary " << c[2];
        }
        // Walking the values upwards, r never rises and f, m never fall.
        int previous = buckets + 1;
        for (const auto& entry : r_of) {
            ASSERT_LE(entry.second, previous);
            previous = entry.second;
        }
        for (const std::map<double, int>* scores_by_value : {&f_of, &m_of}) {
            previous = 0;
            for (const auto& entry : *scores_by_value) {
                ASSERT_GE(entry.second, previous);
                previous = entry.second;
            }
        }
        // Without ties every bucket gets customers.
        if (static_cast<int>(f_of.size()) == count && count >= buckets) {
            std::set<int> used;
            for (const auto& entry : f_of)
                used.insert(entry.second);
            EXPECT_EQ(static_cast<int>(used.size()), buckets);
        }
    }
}

TEST(PackScore, RoundTripAndOrder) {
    std::mt19937 random(55);
    auto random_score = [&] {
        // Mostly small values, so equal components are common.
        auto part = [&] { return random() % 3 == 0 ? 1 + static_cast<int>(random() % 99) : 1 + static_cast<int>(random() % 3); };
        const int r = part();
        const int f = part();
        const int m = part();
        return score_of(r, f, m);
    };
    for (int i = 0; i < 20000; ++i) {
        const RfmScore a = random_score();
        const RfmScore b = random_score();
        const std::uint32_t pa = pack_score(a);
        const std::uint32_t pb = pack_score(b);
        ASSERT_TRUE(same_score(unpack_score(pa), a));
        ASSERT_LT(pa, 1u << 24);
        ASSERT_EQ(pa < pb, std::tie(a.r, a.f, a.m) < std::tie(b.r, b.f, b.m));
        ASSERT_EQ(pa == pb, same_score(a, b));
    }
    EXPECT_EQ(pack_score(score_of(5, 4, 5)), 0x050405u);
    EXPECT_EQ(pack_score(score_of(99, 99, 99)), 0x636363u);
}

TEST(PackScore, RejectsOutOfRange) {
    for (const RfmScore& bad : {score_of(0, 1, 1), score_of(1, 0, 1), score_of(1, 1, 0), score_of(100, 1, 1),
                                score_of(1, 100, 1), score_of(1, 1, 100), score_of(-1, 5, 5), score_of(256, 1, 1)}) {
        EXPECT_EQ(kind_of([&] { pack_score(bad); }), ErrorKind::invalid_parameter_value);
        EXPECT_EQ(kind_of([&] { check_score(bad); }), ErrorKind::invalid_parameter_value);
        EXPECT_EQ(kind_of([&] { score_text(bad); }), ErrorKind::invalid_parameter_value);
    }
}

TEST(FormatScore, Shapes) {
    EXPECT_EQ(score_text(score_of(5, 4, 5)), "545");
    EXPECT_EQ(score_text(score_of(1, 1, 1)), "111");
    EXPECT_EQ(score_text(score_of(9, 9, 9)), "999");
    EXPECT_EQ(score_text(score_of(10, 4, 5)), "10-4-5");
    EXPECT_EQ(score_text(score_of(1, 1, 10)), "1-1-10");
    EXPECT_EQ(score_text(score_of(9, 20, 9)), "9-20-9");
    EXPECT_EQ(score_text(score_of(99, 99, 99)), "99-99-99");
    char buffer[kScoreTextCapacity];
    EXPECT_EQ(format_score(score_of(1, 2, 3), buffer), buffer);
}

TEST(ParseScore, Accepts) {
    EXPECT_TRUE(same_score(parse_score("545"), score_of(5, 4, 5)));
    EXPECT_TRUE(same_score(parse_score("111"), score_of(1, 1, 1)));
    EXPECT_TRUE(same_score(parse_score("10-4-5"), score_of(10, 4, 5)));
    EXPECT_TRUE(same_score(parse_score("5-4-5"), score_of(5, 4, 5)));
    EXPECT_TRUE(same_score(parse_score("99-99-99"), score_of(99, 99, 99)));
    // Every formatted score parses back to itself.
    for (int r : {1, 2, 5, 9, 10, 11, 50, 98, 99})
        for (int f : {1, 3, 9, 10, 99})
            for (int m : {1, 7, 9, 10, 42, 99}) {
                const RfmScore s = score_of(r, f, m);
                ASSERT_TRUE(same_score(parse_score(score_text(s).c_str()), s)) << score_text(s);
            }
}

TEST(ParseScore, Rejects) {
    // Malformed text.
    for (const char* text : {"12", "1234", "5a5", "", "1--2-3", "505", "-1-1-1", "1-1", "1-1-1-", "1-1-1-1",
                             " 545", "545 ", "5-4-5 ", "1000-1-1", "1-1-a", "+1-1-1", "a45", "1.5-1-1"}) {
        EXPECT_EQ(kind_of([&] { parse_score(text); }), ErrorKind::invalid_text_representation) << '"' << text << '"';
    }
    // Well-formed numbers out of range are reported by the range check.
    for (const char* text : {"0-1-1", "100-1-1", "1-100-1", "1-1-0", "999-1-1"})
        EXPECT_EQ(kind_of([&] { parse_score(text); }), ErrorKind::invalid_parameter_value) << '"' << text << '"';
}

// ============================================================== segments

TEST(StandardSegments, EveryCellCounted) {
    // Cells per segment over r, f, m in 1..5, worked out by hand from the
    // rule table (first match wins, in the listed order):
    //   Champions          r4-5 f4-5 m4-5                               8
    //   Loyal Customers    r2-5 f3-5 m3-5 = 36, minus Champions 8      28
    //   Can't Lose Them    r1 f4-5 m4-5                                 4
    //   New Customers      r4-5 f1 m1                                   2
    //   Promising          r3-4 f1 m1, minus 411                        1
    //   Need Attention     r2-3 f2-3 m2-3 = 8, minus 233, 333           6
    //   Potential Loyalist r3-5 f1-3 m1-3 = 27, minus 333 433 533,
    //                      411 511, 311, 322 323 332                   18
    //   About To Sleep     r2-3 f1-2 m1-2 = 8: r3 all taken, 222 taken  3
    //   At Risk            r1: 16 minus 4 Can't Lose; r2: 16 minus 9
    //                      Loyal minus 222 223 232                     16
    //   Lost               111                                          1
    //   Hibernating        r1-2 f1-2 m1-2: only 112 and 121 left        2
    //   Others             125 - 89                                    36
    const std::map<std::string, int> expected = {
        {"Champions", 8},      {"Loyal Customers", 28},    {"Can't Lose Them", 4}, {"New Customers", 2},
        {"Promising", 1},      {"Need Attention", 6},      {"Potential Loyalist", 18},
        {"About To Sleep", 3}, {"At Risk", 16},            {"Lost", 1},            {"Hibernating", 2},
        {"Others", 36},
    };
    std::map<std::string, int> counts;
    for (int r = 1; r <= 5; ++r)
        for (int f = 1; f <= 5; ++f)
            for (int m = 1; m <= 5; ++m)
                ++counts[standard_segment(score_of(r, f, m))];
    EXPECT_EQ(counts, expected);
    EXPECT_EQ(standard_segment_rules().size(), 11u);
    for (std::size_t i = 0; i < standard_segment_rules().size(); ++i) {
        EXPECT_NO_THROW(check_segment_rule(standard_segment_rules()[i], i));
        EXPECT_GT(counts[standard_segment_rules()[i].name], 0) << standard_segment_rules()[i].name;
    }
}

TEST(StandardSegments, SpotChecks) {
    const std::pair<const char*, const char*> cases[] = {
        {"555", "Champions"},          {"444", "Champions"},          {"545", "Champions"},
        {"155", "Can't Lose Them"},    {"144", "Can't Lose Them"},    {"154", "Can't Lose Them"},
        {"111", "Lost"},               {"211", "About To Sleep"},     {"212", "About To Sleep"},
        {"221", "About To Sleep"},     {"511", "New Customers"},      {"411", "New Customers"},
        {"311", "Promising"},          {"222", "Need Attention"},     {"322", "Need Attention"},
        {"233", "Loyal Customers"},    {"333", "Loyal Customers"},    {"543", "Loyal Customers"},
        {"453", "Loyal Customers"},    {"312", "Potential Loyalist"}, {"521", "Potential Loyalist"},
        {"533", "Loyal Customers"},    {"532", "Potential Loyalist"}, {"122", "At Risk"},
        {"135", "At Risk"},            {"225", "At Risk"},            {"112", "Hibernating"},
        {"121", "Hibernating"},        {"113", "Others"},             {"151", "Others"},
        {"551", "Others"},             {"315", "Others"},             {"241", "Others"},
    };
    for (const auto& c : cases)
        EXPECT_STREQ(standard_segment(parse_score(c.first)), c.second) << c.first;
    EXPECT_STREQ(kOtherSegment, "Others");
}

TEST(StandardSegments, RejectsScoresAboveFive) {
    for (const RfmScore& s : {score_of(6, 1, 1), score_of(1, 6, 1), score_of(1, 1, 6), score_of(99, 99, 99)})
        EXPECT_EQ(kind_of([&] { standard_segment(s); }), ErrorKind::invalid_parameter_value) << score_text(s);
    EXPECT_EQ(kind_of([] { standard_segment(score_of(0, 1, 1)); }), ErrorKind::invalid_parameter_value);
}

TEST(SegmentRules, FirstMatchWins) {
    const SegmentRule rules[] = {
        {"top", 5, 5, 5, 5, 5, 5},
        {"recent", 4, 9, 1, 9, 1, 9},
        {"everyone", 1, 9, 1, 9, 1, 9},
        {"never", 1, 9, 1, 9, 1, 9},
    };
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(5, 5, 5)), 0);
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(5, 5, 4)), 1);
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(4, 1, 1)), 1);
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(3, 9, 9)), 2);
    EXPECT_EQ(first_matching_rule(rules, 4, score_of(10, 1, 1)), -1);  // outside every box
    EXPECT_EQ(first_matching_rule(rules + 1, 3, score_of(5, 5, 5)), 0);
    EXPECT_EQ(first_matching_rule(rules, 0, score_of(5, 5, 5)), -1);
    // Box edges are inclusive on every side.
    const SegmentRule box[] = {{"box", 2, 3, 4, 5, 6, 7}};
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 4, 6)), 0);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(3, 5, 7)), 0);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(1, 4, 6)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(4, 4, 6)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 3, 6)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 6, 6)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 4, 5)), -1);
    EXPECT_EQ(first_matching_rule(box, 1, score_of(2, 4, 8)), -1);
}

TEST(SegmentRules, CheckRejectsBadRules) {
    EXPECT_NO_THROW(check_segment_rule({"ok", 1, 99, 1, 99, 1, 99}, 0));
    EXPECT_NO_THROW(check_segment_rule({"point", 3, 3, 3, 3, 3, 3}, 0));
    const SegmentRule bad[] = {
        {"r min > max", 3, 2, 1, 5, 1, 5}, {"f min > max", 1, 5, 5, 4, 1, 5}, {"m min > max", 1, 5, 1, 5, 2, 1},
        {"r min 0", 0, 5, 1, 5, 1, 5},     {"f min 0", 1, 5, 0, 5, 1, 5},     {"m min 0", 1, 5, 1, 5, 0, 0},
        {"r max 100", 1, 100, 1, 5, 1, 5}, {"m max 100", 1, 5, 1, 5, 1, 100}, {"negative", -1, 5, 1, 5, 1, 5},
        {"", 1, 5, 1, 5, 1, 5},            {nullptr, 1, 5, 1, 5, 1, 5},
    };
    for (const SegmentRule& rule : bad)
        EXPECT_EQ(kind_of([&] { check_segment_rule(rule, 6); }), ErrorKind::invalid_parameter_value)
            << (rule.name == nullptr ? "(null)" : rule.name);
    // The detail names the rule by its 1-based position.
    try {
        check_segment_rule({"late", 4, 2, 1, 5, 1, 5}, 2);
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_NE(e.detail().find("Rule 3"), std::string::npos) << e.detail();
        EXPECT_NE(e.detail().find("late"), std::string::npos) << e.detail();
    }
}

// ============================================================= 8 classes

TEST(Classify, AllEightCombinations) {
    // Cuts: recency 30 days, frequency 4, monetary 100.
    struct Case {
        double recency, frequency, monetary;
        RfmClass expected;
    };
    const Case cases[] = {
        {10, 5, 200, RfmClass::important_value},        // recent, frequent, valuable
        {10, 1, 200, RfmClass::important_development},  // recent, rare, valuable
        {90, 5, 200, RfmClass::important_retention},    // lapsed, frequent, valuable
        {90, 1, 200, RfmClass::important_recall},       // lapsed, rare, valuable
        {10, 5, 50, RfmClass::general_value},
        {10, 1, 50, RfmClass::general_development},
        {90, 5, 50, RfmClass::general_retention},
        {90, 1, 50, RfmClass::general_recall},
    };
    for (const Case& c : cases)
        EXPECT_EQ(classify(c.recency, c.frequency, c.monetary, 30, 4, 100), c.expected)
            << c.recency << " " << c.frequency << " " << c.monetary;
}

TEST(Classify, TiesAtTheCutsCountAsHigh) {
    // Exactly at every cut: recent (<=), frequent (>=), valuable (>=).
    EXPECT_EQ(classify(30, 4, 100, 30, 4, 100), RfmClass::important_value);
    // Just beyond each cut, one at a time.
    EXPECT_EQ(classify(std::nextafter(30.0, 31.0), 4, 100, 30, 4, 100), RfmClass::important_retention);
    EXPECT_EQ(classify(30, std::nextafter(4.0, 3.0), 100, 30, 4, 100), RfmClass::important_development);
    EXPECT_EQ(classify(30, 4, std::nextafter(100.0, 99.0), 30, 4, 100), RfmClass::general_value);
    // Infinite values are ordinary comparisons.
    EXPECT_EQ(classify(kInf, 0, 0, 30, 4, 100), RfmClass::general_recall);
    EXPECT_EQ(classify(-kInf, kInf, kInf, 30, 4, 100), RfmClass::important_value);
}

TEST(Classify, RejectsNaN) {
    for (int position = 0; position < 6; ++position) {
        double args[6] = {10, 5, 200, 30, 4, 100};
        args[position] = kNaN;
        EXPECT_EQ(kind_of([&] { classify(args[0], args[1], args[2], args[3], args[4], args[5]); }),
                  ErrorKind::invalid_parameter_value)
            << "argument " << position;
    }
}

TEST(ClassLabel, EnglishAndChinese) {
    const std::tuple<RfmClass, const char*, const char*> labels[] = {
        {RfmClass::important_value, "important value", "重要价值客户"},
        {RfmClass::important_development, "important development", "重要发展客户"},
        {RfmClass::important_retention, "important retention", "重要保持客户"},
        {RfmClass::important_recall, "important recall", "重要挽留客户"},
        {RfmClass::general_value, "general value", "一般价值客户"},
        {RfmClass::general_development, "general development", "一般发展客户"},
        {RfmClass::general_retention, "general retention", "一般保持客户"},
        {RfmClass::general_recall, "general recall", "一般挽留客户"},
    };
    for (const auto& label : labels) {
        EXPECT_STREQ(class_label(std::get<0>(label), Language::en), std::get<1>(label));
        EXPECT_STREQ(class_label(std::get<0>(label), Language::zh), std::get<2>(label));
    }
}

TEST(ParseLanguage, KnownAndUnknown) {
    EXPECT_EQ(parse_language("en"), Language::en);
    EXPECT_EQ(parse_language("zh"), Language::zh);
    for (const char* text : {"fr", "", "EN", "zh-CN", "en "})
        EXPECT_EQ(kind_of([&] { parse_language(text); }), ErrorKind::invalid_parameter_value) << text;
}
