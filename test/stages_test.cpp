// Unit tests for src/core/stages: lifecycle stages by recency, membership
// tiers (thresholds and hysteresis) and the frequency x value quadrant.
#include "stages.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"

using namespace customer_analytics;

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

const std::int32_t kDefaultThresholds[] = {63, 126, 365};

const char* default_stage(std::int64_t days) {
    return kDefaultStageNames[lifecycle_index(days, kDefaultThresholds, 3)];
}

// An exact three-way comparison on integers, standing in for the glue's
// numeric_cmp: thresholds_reached must only use the sign of the result.
int compare_cents(const std::int64_t& left, const std::int64_t& right) {
    return left < right ? -7 : (left > right ? 42 : 0);
}

}  // namespace

// ------------------------------------------------------------- lifecycle

TEST(DaysSince, PastTodayAndFuture) {
    EXPECT_EQ(days_since(100, 163), 63);
    EXPECT_EQ(days_since(100, 100), 0);
    EXPECT_EQ(days_since(101, 100), 0);  // an order after as_of counts as today
    EXPECT_EQ(days_since(1000000, 100), 0);
    EXPECT_EQ(days_since(-10, 5), 15);
    // PostgreSQL dates span int32 days; the difference needs 64 bits.
    const std::int64_t lo = std::numeric_limits<std::int32_t>::min();
    const std::int64_t hi = std::numeric_limits<std::int32_t>::max();
    EXPECT_EQ(days_since(lo, hi), hi - lo);
    EXPECT_EQ(days_since(hi, lo), 0);
}

TEST(LifecycleIndex, DefaultBoundaries) {
    EXPECT_STREQ(default_stage(0), "active");
    EXPECT_STREQ(default_stage(1), "active");
    EXPECT_STREQ(default_stage(63), "active");
    EXPECT_STREQ(default_stage(64), "silent");
    EXPECT_STREQ(default_stage(126), "silent");
    EXPECT_STREQ(default_stage(127), "sleeping");
    EXPECT_STREQ(default_stage(365), "sleeping");
    EXPECT_STREQ(default_stage(366), "churned");
    EXPECT_STREQ(default_stage(std::numeric_limits<std::int64_t>::max()), "churned");
    EXPECT_EQ(lifecycle_index(63, kDefaultThresholds, 3), 0u);
    EXPECT_EQ(lifecycle_index(64, kDefaultThresholds, 3), 1u);
    EXPECT_EQ(lifecycle_index(366, kDefaultThresholds, 3), 3u);
}

TEST(LifecycleIndex, WithDaysSince) {
    // Last order on day 1000: as_of 1063 is active, 1064 silent; an order in
    // the future is active.
    EXPECT_STREQ(default_stage(days_since(1000, 1063)), "active");
    EXPECT_STREQ(default_stage(days_since(1000, 1064)), "silent");
    EXPECT_STREQ(default_stage(days_since(1000, 1366)), "churned");
    EXPECT_STREQ(default_stage(days_since(1000, 900)), "active");
}

TEST(LifecycleIndex, CustomThresholds) {
    const std::int32_t zero_first[] = {0, 30};
    EXPECT_EQ(lifecycle_index(0, zero_first, 2), 0u);  // only today is stage 0
    EXPECT_EQ(lifecycle_index(1, zero_first, 2), 1u);
    EXPECT_EQ(lifecycle_index(30, zero_first, 2), 1u);
    EXPECT_EQ(lifecycle_index(31, zero_first, 2), 2u);
    const std::int32_t one[] = {7};
    EXPECT_EQ(lifecycle_index(7, one, 1), 0u);
    EXPECT_EQ(lifecycle_index(8, one, 1), 1u);
}

// Property: the index is the number of thresholds strictly below the days.
TEST(LifecycleIndex, CountsThresholdsBelow) {
    std::mt19937 random(8);
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<std::int32_t> thresholds;
        std::int32_t at = static_cast<std::int32_t>(random() % 5);
        const std::size_t count = 1 + random() % 6;
        for (std::size_t i = 0; i < count; ++i) {
            thresholds.push_back(at);
            at += 1 + static_cast<std::int32_t>(random() % 50);
        }
        ASSERT_NO_THROW(check_lifecycle_thresholds(thresholds.data(), thresholds.size()));
        for (std::int64_t days = 0; days < at + 5; ++days) {
            std::size_t below = 0;
            for (std::int32_t t : thresholds)
                below += t < days ? 1 : 0;
            ASSERT_EQ(lifecycle_index(days, thresholds.data(), thresholds.size()), below) << days;
        }
    }
}

TEST(LifecycleThresholds, Validation) {
    EXPECT_NO_THROW(check_lifecycle_thresholds(kDefaultThresholds, 3));
    const std::int32_t zero[] = {0};
    EXPECT_NO_THROW(check_lifecycle_thresholds(zero, 1));

    const std::int32_t unsorted[] = {63, 365, 126};
    const std::int32_t duplicate[] = {63, 63, 365};
    const std::int32_t negative[] = {-1, 63};
    const std::int32_t negative_later[] = {10, -5};
    EXPECT_EQ(kind_of([&] { check_lifecycle_thresholds(unsorted, 3); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_lifecycle_thresholds(duplicate, 3); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_lifecycle_thresholds(negative, 2); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_lifecycle_thresholds(negative_later, 2); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_lifecycle_thresholds(kDefaultThresholds, 0); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_lifecycle_thresholds(nullptr, 0); }), ErrorKind::invalid_parameter_value);
    // The detail points at the offending threshold (1-based).
    try {
        check_lifecycle_thresholds(unsorted, 3);
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_NE(e.detail().find("Threshold 3"), std::string::npos) << e.detail();
    }
}

TEST(StageNames, OneMoreThanThresholds) {
    EXPECT_NO_THROW(check_stage_names(3, 4));
    EXPECT_NO_THROW(check_stage_names(1, 2));
    EXPECT_EQ(kind_of([] { check_stage_names(3, 3); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([] { check_stage_names(3, 5); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([] { check_stage_names(0, 0); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(sizeof kDefaultStageNames / sizeof kDefaultStageNames[0], 4u);
    EXPECT_NO_THROW(check_stage_names(3, sizeof kDefaultStageNames / sizeof kDefaultStageNames[0]));
}

// ----------------------------------------------------------------- tiers

TEST(Tiers, ThresholdsReachedWithDoubles) {
    const double thresholds[] = {100, 500, 2000};
    EXPECT_EQ(thresholds_reached(0.0, thresholds, 3, compare_doubles), 0u);
    EXPECT_EQ(thresholds_reached(99.99, thresholds, 3, compare_doubles), 0u);
    EXPECT_EQ(thresholds_reached(100.0, thresholds, 3, compare_doubles), 1u);  // equal reaches
    EXPECT_EQ(thresholds_reached(std::nextafter(100.0, 0.0), thresholds, 3, compare_doubles), 0u);
    EXPECT_EQ(thresholds_reached(499.0, thresholds, 3, compare_doubles), 1u);
    EXPECT_EQ(thresholds_reached(500.0, thresholds, 3, compare_doubles), 2u);
    EXPECT_EQ(thresholds_reached(2000.0, thresholds, 3, compare_doubles), 3u);
    EXPECT_EQ(thresholds_reached(1e9, thresholds, 3, compare_doubles), 3u);
    EXPECT_EQ(thresholds_reached(-50.0, thresholds, 3, compare_doubles), 0u);
    EXPECT_EQ(thresholds_reached(1e9, thresholds, 0, compare_doubles), 0u);  // a single tier
}

TEST(Tiers, ThresholdsReachedWithCustomCompare) {
    const std::int64_t cents[] = {10000, 50000};
    const std::int64_t spend[] = {9999, 10000, 49999, 50000, 1 << 30};
    const std::size_t expected[] = {0, 1, 1, 2, 2};
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(thresholds_reached(spend[i], cents, 2, compare_cents), expected[i]) << spend[i];
    const std::int64_t empty[] = {0};
    EXPECT_NO_THROW(check_tier_thresholds(empty, 0, 1, compare_cents));
}

TEST(Tiers, CompareDoubles) {
    EXPECT_EQ(compare_doubles(1, 2), -1);
    EXPECT_EQ(compare_doubles(2, 1), 1);
    EXPECT_EQ(compare_doubles(2, 2), 0);
    EXPECT_EQ(compare_doubles(-0.0, 0.0), 0);
    EXPECT_EQ(compare_doubles(-1e300, 1e300), -1);
}

TEST(Tiers, CheckThresholds) {
    const double good[] = {100, 500, 2000};
    EXPECT_NO_THROW(check_tier_thresholds(good, 3, 4, compare_doubles));
    EXPECT_NO_THROW(check_tier_thresholds(good, 0, 1, compare_doubles));
    // Mismatched lengths.
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(good, 3, 3, compare_doubles); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(good, 3, 5, compare_doubles); }), ErrorKind::array_subscript_error);
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(good, 1, 1, compare_doubles); }), ErrorKind::array_subscript_error);
    // No tiers at all.
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(good, 0, 0, compare_doubles); }), ErrorKind::invalid_parameter_value);
    // Unsorted and duplicate thresholds.
    const double unsorted[] = {100, 2000, 500};
    const double duplicate[] = {100, 500, 500};
    const double first_two_equal[] = {100, 100};
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(unsorted, 3, 4, compare_doubles); }),
              ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(duplicate, 3, 4, compare_doubles); }),
              ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(first_two_equal, 2, 3, compare_doubles); }),
              ErrorKind::invalid_parameter_value);
    // With the custom comparison as well.
    const std::int64_t cents[] = {500, 100};
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(cents, 2, 3, compare_cents); }), ErrorKind::invalid_parameter_value);
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(cents, 2, 2, compare_cents); }), ErrorKind::array_subscript_error);
    // The length check comes before the order check.
    EXPECT_EQ(kind_of([&] { check_tier_thresholds(unsorted, 3, 2, compare_doubles); }),
              ErrorKind::array_subscript_error);
}

TEST(Tiers, Hysteresis) {
    // No current tier: the earned tier applies, up or down.
    EXPECT_EQ(tier_with_hysteresis(0, -1, false), 0u);
    EXPECT_EQ(tier_with_hysteresis(3, -1, false), 3u);
    EXPECT_EQ(tier_with_hysteresis(2, -1, true), 2u);
    // Upgrade immediately, with or without a re-rating.
    EXPECT_EQ(tier_with_hysteresis(3, 1, false), 3u);
    EXPECT_EQ(tier_with_hysteresis(3, 1, true), 3u);
    // No downgrade without a re-rating.
    EXPECT_EQ(tier_with_hysteresis(0, 2, false), 2u);
    EXPECT_EQ(tier_with_hysteresis(1, 2, false), 2u);
    // Downgrade at a re-rating.
    EXPECT_EQ(tier_with_hysteresis(0, 2, true), 0u);
    EXPECT_EQ(tier_with_hysteresis(1, 2, true), 1u);
    // Same tier stays.
    EXPECT_EQ(tier_with_hysteresis(2, 2, false), 2u);
    EXPECT_EQ(tier_with_hysteresis(2, 2, true), 2u);
}

TEST(Tiers, ThresholdsThenHysteresis) {
    // Tiers bronze < silver < gold at 0 / 1000 / 5000 spend.
    const double thresholds[] = {1000, 5000};
    const char* const tiers[] = {"bronze", "silver", "gold"};
    ASSERT_NO_THROW(check_tier_thresholds(thresholds, 2, 3, compare_doubles));
    auto tier = [&](double spend, long current, bool rerating) {
        return tiers[tier_with_hysteresis(thresholds_reached(spend, thresholds, 2, compare_doubles), current,
                                          rerating)];
    };
    EXPECT_STREQ(tier(999, -1, false), "bronze");
    EXPECT_STREQ(tier(1000, -1, false), "silver");
    EXPECT_STREQ(tier(5000, 1, false), "gold");     // upgrade from silver
    EXPECT_STREQ(tier(200, 2, false), "gold");      // spend fell, keeps gold
    EXPECT_STREQ(tier(200, 2, true), "bronze");     // until the re-rating
    EXPECT_STREQ(tier(1500, 2, true), "silver");
}

// -------------------------------------------------------------- quadrant

TEST(Quadrant, Names) {
    EXPECT_STREQ(quadrant_name(true, true), "high_frequency_high_value");
    EXPECT_STREQ(quadrant_name(true, false), "high_frequency_low_value");
    EXPECT_STREQ(quadrant_name(false, true), "low_frequency_high_value");
    EXPECT_STREQ(quadrant_name(false, false), "low_frequency_low_value");
}
