// Unit tests for src/core/quadrant: the four quadrant names.
#include "quadrant.hpp"

#include <gtest/gtest.h>

using namespace customer_analytics;

TEST(Quadrant, Names) {
    EXPECT_STREQ(quadrant_name(true, true), "high_frequency_high_value");
    EXPECT_STREQ(quadrant_name(true, false), "high_frequency_low_value");
    EXPECT_STREQ(quadrant_name(false, true), "low_frequency_high_value");
    EXPECT_STREQ(quadrant_name(false, false), "low_frequency_low_value");
}
