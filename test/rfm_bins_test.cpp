// Unit tests for src/core/rfm_bins: percentile_cont, the bins aggregate
// state, the cut points and means, and the check of bins built by hand.
#include "rfm_bins.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "rfm_score.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

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
    EXPECT_EQ(percentile_cont_sorted(ties, 5, 0.25), 1.0);   // between two 1s
    EXPECT_EQ(percentile_cont_sorted(ties, 5, 0.625), 3.0);  // position 2.5: halfway 1..5
}

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
    const double recency[] = {18, 26, 34, 42};        // sorted 10 20 30 40 50
    const double frequency[] = {1, 1.6, 2.4, 4.4};    // sorted 1 1 2 3 10
    const double monetary[] = {16, 38.3, 70.3, 140};  // sorted 0 20 50.5 100 300
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
