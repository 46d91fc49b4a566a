// Unit tests for src/core/rfm_summary: the set of purchase days and the
// per-customer order summary (rfm_agg's state), with exact decimal and
// compensated float totals.
#include "rfm_summary.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

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
// stays below 4x the distinct days; rfm_summary.hpp's "twice" is not quite what the
// code guarantees: days 1..5 then 1, 2, 1, 2, ... fill 16 slots.)
// Property: merging two sets (each sorted or still unsorted, overlapping,
// disjoint, or all of one after the other) gives the union, sorted and
// unique, whichever path the merge takes; merging many partial sets of one
// customer in any order gives the same set.
TEST(DaySet, MergeIsTheUnion) {
    std::mt19937 random(777);
    for (int trial = 0; trial < 600; ++trial) {
        TestArena arena;
        DaySet a, b;
        std::set<std::int32_t> expected;
        const int shape = trial % 4;
        const int na = static_cast<int>(random() % 200), nb = static_cast<int>(random() % 200);
        for (int i = 0; i < na; ++i) {
            const std::int32_t day = shape == 2 ? i * 2 : static_cast<std::int32_t>(random() % 300);
            a.add(arena, day);
            expected.insert(day);
        }
        for (int i = 0; i < nb; ++i) {
            const std::int32_t day = shape == 2   ? 1000 + i
                                     : shape == 3 ? static_cast<std::int32_t>(random() % 300) - 400
                                                  : static_cast<std::int32_t>(random() % 300);
            b.add(arena, day);
            expected.insert(day);
        }
        if (trial % 3 == 0)
            b.compact();
        a.merge(arena, b);
        EXPECT_EQ(a.sorted_unique, a.days.size) << "trial " << trial;
        EXPECT_EQ(days_of(a), std::vector<std::int32_t>(expected.begin(), expected.end())) << "trial " << trial;
    }
    // Twenty partial sets of one customer, combined in a random order.
    TestArena arena;
    std::vector<DaySet> parts(20);
    std::set<std::int32_t> expected;
    for (int i = 0; i < 5000; ++i) {
        const std::int32_t day = static_cast<std::int32_t>(random() % 3000);
        parts[random() % parts.size()].add(arena, day);
        expected.insert(day);
    }
    std::shuffle(parts.begin(), parts.end(), random);
    DaySet all;
    for (DaySet& part : parts) {
        part.compact();
        all.merge(arena, part);
    }
    EXPECT_EQ(days_of(all), std::vector<std::int32_t>(expected.begin(), expected.end()));
}

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
            case 0:
                day = static_cast<std::int32_t>(random() % range);
                break;  // any order
            case 1:
                day += static_cast<std::int32_t>(random() % 3);
                break;  // ascending, repeats
            case 2:
                day -= static_cast<std::int32_t>(random() % 3);
                break;  // descending
            case 3:
                day = (i % 7 == 0) ? static_cast<std::int32_t>(random() % range)  // mostly ascending
                                   : day + 1;
                break;
            default:
                day = static_cast<std::int32_t>(random() % 4) * 1000 +  // few values
                      static_cast<std::int32_t>(i % 2);
                break;
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
    add_row(arena, state, {100, 5000});  // 50.00
    add_row(arena, state, {90, -1250});  // refund before the first purchase
    add_row(arena, state, {300, -250});  // refund after the last purchase
    add_row(arena, state, {120, 0});     // a zero amount is a purchase
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
    EXPECT_FALSE(state.add_decimal(dec(1, 1)));  // 10^39 at scale 1
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
    exact.add_row_date(arena, 10, true);
    EXPECT_EQ(kind_of([&] { exact.merge(arena, binary); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { binary.merge(arena, exact); }), ErrorKind::invalid_parameter_value);
    // Nothing changed.
    EXPECT_EQ(exact.purchases, 1);
    EXPECT_EQ(binary.purchases, 0);
}

TEST(OrderSummary, MergeCountOverflowIsOutOfRangeAndChangesNothing) {
    TestArena arena;
    OrderSummaryState big, more;
    big.add_row_date(arena, 10, true);
    big.purchases = INT64_MAX - 1;
    more.add_row_date(arena, 20, true);
    more.add_row_date(arena, 21, true);
    EXPECT_EQ(kind_of([&] { big.merge(arena, more); }), ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(big.purchases, INT64_MAX - 1);
    EXPECT_EQ(big.last_day, 10);
    more.add_row_date(arena, 22, false);
    big.refunds = INT64_MAX;
    EXPECT_EQ(kind_of([&] { big.merge(arena, more); }), ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(kind_of([&] { big.add_row_date(arena, 30, false); }), ErrorKind::numeric_value_out_of_range);
    big.purchases = INT64_MAX;
    EXPECT_EQ(kind_of([&] { big.add_row_date(arena, 30, true); }), ErrorKind::numeric_value_out_of_range);
    EXPECT_EQ(big.purchases, INT64_MAX);
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
