// Bounded resources: the interruptible sorts, the polling of long loops
// (sorting, k-means, affinity, bins, Pareto diagnosis), the documented size
// limits (raised before allocating, as program_limit_exceeded), and finite
// bins for values near the limits of double.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "affinity.hpp"
#include "pareto.hpp"
#include "kmeans.hpp"
#include "rfm_bins.hpp"
#include "rfm_summary.hpp"
#include "sort.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

// Interrupts that count the polls and report a pending cancel from poll
// number `cancel_at` on (never when 0).
struct PollCounter {
    long polls = 0;
    long cancel_at = 0;
    Interrupts interrupts() {
        Interrupts in;
        in.context = this;
        in.pending = [](void* context) {
            auto* self = static_cast<PollCounter*>(context);
            ++self->polls;
            return self->cancel_at != 0 && self->polls >= self->cancel_at;
        };
        return in;
    }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// ------------------------------------------------------------------- sort

TEST(SortInterruptible, SortsLikeStdSort) {
    std::mt19937_64 g(7);
    for (std::size_t n : {0, 1, 2, 3, 100, 16384, 16385, 100000, 300000}) {
        for (int shape = 0; shape < 5; ++shape) {
            std::vector<double> v(n);
            for (std::size_t i = 0; i < n; ++i) {
                switch (shape) {
                case 0:
                    v[i] = static_cast<double>(g() % 1000003);
                    break;  // random
                case 1:
                    v[i] = static_cast<double>(g() % 3);
                    break;  // few distinct values
                case 2:
                    v[i] = static_cast<double>(i);
                    break;  // sorted
                case 3:
                    v[i] = static_cast<double>(n - i);
                    break;  // reversed
                default:
                    v[i] = static_cast<double>(i % 2 ? i : n - i);  // organ pipe
                }
            }
            std::vector<double> expected = v;
            std::sort(expected.begin(), expected.end());
            sort_interruptible(v.data(), v.data() + n, std::less<double>(), Interrupts{});
            EXPECT_EQ(v, expected) << "n " << n << " shape " << shape;
        }
    }
}

TEST(SortInterruptible, PollsAndStops) {
    std::mt19937_64 g(11);
    std::vector<double> v(2000000);
    for (double& x : v)
        x = static_cast<double>(g());
    std::vector<double> w = v;
    PollCounter counter;
    sort_interruptible(v.data(), v.data() + v.size(), std::less<double>(), counter.interrupts());
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    // Polled every few million units of work (a few milliseconds): at least
    // once per 500,000 values, not once at the end.
    EXPECT_GE(counter.polls, 4);
    PollCounter cancel;
    cancel.cancel_at = 3;
    EXPECT_EQ(kind_of(
                  [&] { sort_interruptible(w.data(), w.data() + w.size(), std::less<double>(), cancel.interrupts()); }),
              ErrorKind::query_canceled);
    EXPECT_EQ(cancel.polls, 3);
}

TEST(SortInterruptible, SmallestSortedIsThePrefixOfTheSortedOrder) {
    std::mt19937_64 g(5);
    for (std::size_t n : {0, 10, 70000, 300000}) {
        for (std::size_t keep : {0, 1, 7, 100, 65536, 200000, 400000}) {
            std::vector<std::int64_t> v(n);
            for (auto& x : v)
                x = static_cast<std::int64_t>(g() % 5000);  // many ties
            std::vector<std::int64_t> expected = v;
            std::sort(expected.begin(), expected.end());
            expected.resize(std::min(keep, n));
            const std::size_t kept = smallest_sorted(v.data(), n, keep, std::less<std::int64_t>(), Interrupts{});
            ASSERT_EQ(kept, std::min(keep, n));
            v.resize(kept);
            EXPECT_EQ(v, expected) << n << " " << keep;
        }
    }
}

TEST(InterruptMeter, PollsOncePerBudget) {
    PollCounter counter;
    const Interrupts in = counter.interrupts();
    InterruptMeter meter(in, 100);
    for (int i = 0; i < 1000; ++i)
        meter.add(1);
    EXPECT_EQ(counter.polls, 10);
    meter.add(250);  // one poll for a large step, not 2
    EXPECT_EQ(counter.polls, 11);
}

// ----------------------------------------------------------------- memory

TEST(Limits, FlatArrayNeverAsksForMoreThanTheArenaCanGive) {
    TestArena test_arena;
    Arena arena = test_arena.arena();
    arena.max_bytes = 1000;
    FlatArray<double> values;
    for (int i = 0; i < 125; ++i)
        values.push_back(arena, i);  // 125 * 8 = 1000 bytes: fits
    EXPECT_EQ(values.size, 125u);
    EXPECT_LE(values.capacity * sizeof(double), 1000u);
    // One more: a clear limit error, not an allocation request the
    // allocator would refuse (PostgreSQL: "invalid memory alloc request size").
    EXPECT_EQ(kind_of([&] { values.push_back(arena, 1.0); }), ErrorKind::program_limit_exceeded);
    EXPECT_EQ(values.size, 125u);
}

TEST(Limits, PurchaseDaysOfOneCustomer) {
    TestArena arena;
    OrderSummaryState in_order;
    for (std::int32_t day = 0; day < static_cast<std::int32_t>(kMaxPurchaseDays); ++day)
        in_order.add_row_date(arena, day, true);
    EXPECT_EQ(in_order.purchase_days.distinct_count(), kMaxPurchaseDays);
    EXPECT_EQ(kind_of([&] {
                  in_order.add_row_date(arena, -1, true);
                  in_order.purchase_days.compact();
              }),
              ErrorKind::program_limit_exceeded);
    // Out of order (compacted in batches), with duplicates that do not count.
    TestArena arena2;
    DaySet shuffled;
    std::vector<std::int32_t> days(kMaxPurchaseDays + 1);
    for (std::size_t i = 0; i < days.size(); ++i)
        days[i] = static_cast<std::int32_t>(i * 7 % days.size());
    EXPECT_EQ(kind_of([&] {
                  for (std::int32_t day : days) {
                      shuffled.add(arena2, day);
                      shuffled.add(arena2, day);
                  }
                  shuffled.compact();
              }),
              ErrorKind::program_limit_exceeded);
}

TEST(Limits, BinsCustomers) {
    TestArena arena;
    BinsState state, huge;
    state.start(0, 5);
    huge.start(0, 5);
    state.add(arena, 1, 1, 1);
    // A partial state claiming the limit itself: merging it would exceed the
    // limit, which is raised before anything is read or allocated.
    huge.recency.size = huge.frequency.size = huge.monetary.size = kMaxBinsCustomers;
    EXPECT_EQ(kind_of([&] { state.merge(arena, huge); }), ErrorKind::program_limit_exceeded);
    EXPECT_EQ(state.recency.size, 1u);
}

TEST(Limits, KMeansPointsAndValues) {
    const double one = 1.0;
    KMeansParams params;
    params.k = 1;
    // Raised before a single value is read.
    EXPECT_EQ(kind_of([&] { kmeans_fit(&one, kKMeansMaxPoints + 1, 1, params); }), ErrorKind::program_limit_exceeded);
    EXPECT_EQ(kind_of([&] { kmeans_fit(&one, kKMeansMaxValues / 1000 + 1, 1000, params); }),
              ErrorKind::program_limit_exceeded);
}

// ------------------------------------------------------------ cancellation

TEST(Cancel, KMeansStopsDuringSeedingAndIterations) {
    // 1000 clusters of 20000 points: seeding alone is billions of operations.
    std::mt19937_64 g(3);
    std::vector<double> data(20000 * 10);
    for (double& x : data)
        x = static_cast<double>(g() % 100000) / 1000.0;
    KMeansParams params;
    params.k = 1000;
    for (long cancel_at : {2L, 5L, 20L}) {
        PollCounter counter;
        counter.cancel_at = cancel_at;
        const auto start = std::chrono::steady_clock::now();
        EXPECT_EQ(kind_of([&] { kmeans_fit(data, 10, params, counter.interrupts()); }), ErrorKind::query_canceled);
        EXPECT_LT(seconds_since(start), 0.5) << cancel_at;
    }
    KMeansModel model;
    model.k = 2;
    model.d = 10;
    model.feature_means.assign(10, 0.0);
    model.feature_scales.assign(10, 1.0);
    model.centroids_standardized.assign(20, 0.0);
    model.centroids_standardized[10] = 50;
    SilhouetteParams sample;
    sample.sample_size = 20000;  // 4e8 distances
    PollCounter counter;
    counter.cancel_at = 2;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(kind_of([&] { silhouette(data.data(), 20000, 10, model, sample, counter.interrupts()); }),
              ErrorKind::query_canceled);
    EXPECT_LT(seconds_since(start), 0.5);
}

TEST(Cancel, BinsSortingPolls) {
    TestArena arena;
    BinsState state;
    state.start(0, 5);
    std::mt19937_64 g(1);
    for (int i = 0; i < 1000000; ++i)
        state.add(arena, static_cast<double>(g() % 1000), static_cast<double>(g() % 50),
                  static_cast<double>(g() % 100000));
    PollCounter counter;
    const Bins bins = compute_bins(state, counter.interrupts());
    EXPECT_GE(counter.polls, 3);
    EXPECT_EQ(bins.customers, 1000000);
    PollCounter cancel;
    cancel.cancel_at = 1;
    BinsState again;
    again.start(0, 5);
    again.merge(arena, state);
    EXPECT_EQ(kind_of([&] { compute_bins(again, cancel.interrupts()); }), ErrorKind::query_canceled);
}

TEST(Cancel, ParetoDiagnosisAndAffinityPoll) {
    std::mt19937_64 g(2);
    std::vector<double> spends(2000000);
    for (double& s : spends)
        s = static_cast<double>(g() % 1000000) / 100.0;
    PollCounter counter;
    counter.cancel_at = 1;
    EXPECT_EQ(kind_of([&] { ParetoDiagnosis(spends, counter.interrupts()); }), ErrorKind::query_canceled);

    AffinityState state;
    std::vector<std::string> basket;
    for (int b = 0; b < 100; ++b) {
        basket.clear();
        for (int i = 0; i < 200; ++i)
            basket.push_back("item" + std::to_string((b * 37 + i * 11) % 2000));
        state.add_basket(basket);
    }
    ASSERT_GT(state.distinct_pairs(), 300000u);
    AffinityQuery query;
    query.min_support = 0;
    PollCounter pairs_counter;
    const auto top = state.pairs(query, pairs_counter.interrupts());
    EXPECT_EQ(top.size(), 100u);
    EXPECT_GE(pairs_counter.polls, 2);
    // The top pairs are the same as with no polling at all.
    const auto plain = state.pairs(query);
    ASSERT_EQ(plain.size(), top.size());
    for (std::size_t i = 0; i < top.size(); ++i) {
        EXPECT_EQ(top[i].item_a, plain[i].item_a);
        EXPECT_EQ(top[i].item_b, plain[i].item_b);
    }
    PollCounter cancel;
    cancel.cancel_at = 1;
    EXPECT_EQ(kind_of([&] { state.pairs(query, cancel.interrupts()); }), ErrorKind::query_canceled);
    AffinityState merged;
    PollCounter merge_cancel;
    merge_cancel.cancel_at = 1;
    EXPECT_EQ(kind_of([&] { merged.merge(state, merge_cancel.interrupts()); }), ErrorKind::query_canceled);
}

// ------------------------------------------------------------ finite bins

TEST(Bins, CutsStayFiniteNearTheLimitsOfDouble) {
    TestArena arena;
    BinsState state;
    state.start(0, 5);
    const double big = 1.7e308;
    for (double m : {-big, -big, big, big})
        state.add(arena, 1, 1, m);
    const Bins bins = compute_bins(state);
    // percentile_cont would give -1.7e308, Infinity, Infinity, 1.7e308: the
    // interpolation low + (high - low) f overflows. The same points, computed
    // as low (1 - f) + high f: positions 0.6, 1.2, 1.8, 2.4 of 4 values.
    EXPECT_EQ(bins.monetary_cuts[0], -big);
    EXPECT_DOUBLE_EQ(bins.monetary_cuts[1], -big * 0.8 + big * 0.2);
    EXPECT_DOUBLE_EQ(bins.monetary_cuts[2], -big * 0.2 + big * 0.8);
    EXPECT_EQ(bins.monetary_cuts[3], big);
    EXPECT_EQ(bins.monetary_mean, 0.0);
    // Accepted by the scores.
    EXPECT_NO_THROW(check_bins(5, bins.recency_cuts, 4, bins.frequency_cuts, 4, bins.monetary_cuts, 4));
    // Elsewhere the interpolation is percentile_cont's, to the bit.
    const double values[] = {1.0, 2.0, 4.0, 8.0};
    EXPECT_EQ(percentile_cont_sorted(values, 4, 0.4), 2.0 + (4.0 - 2.0) * (0.4 * 3.0 - 1.0));
}
