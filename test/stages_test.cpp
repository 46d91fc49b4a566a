// Unit tests for src/core/stages: days since the last order and the
// lifecycle stage by recency.
#include "stages.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "test_util.hpp"

using namespace customer_analytics;
using namespace customer_analytics_test;

namespace {

const std::int32_t kDefaultThresholds[] = {63, 126, 365};

const char* default_stage(std::int64_t days) {
    return kDefaultStageNames[lifecycle_index(days, kDefaultThresholds, 3)];
}

}  // namespace

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
