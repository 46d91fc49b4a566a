// Unit tests for src/core/tiers: membership tiers by thresholds, and
// hysteresis.
#include "tiers.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "error.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

// An exact three-way comparison on integers, standing in for the glue's
// numeric_cmp: thresholds_reached must only use the sign of the result.
int compare_cents(const std::int64_t& left, const std::int64_t& right) {
    return left < right ? -7 : (left > right ? 42 : 0);
}

}  // namespace

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
    EXPECT_STREQ(tier(5000, 1, false), "gold");  // upgrade from silver
    EXPECT_STREQ(tier(200, 2, false), "gold");   // spend fell, keeps gold
    EXPECT_STREQ(tier(200, 2, true), "bronze");  // until the re-rating
    EXPECT_STREQ(tier(1500, 2, true), "silver");
}
