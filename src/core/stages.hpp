// Lifecycle stages by recency, membership tiers with hysteresis, and the
// frequency x order-value quadrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "error.hpp"

namespace customer_analytics {

// ------------------------------------------------------------- lifecycle

// Days since the last order; an order after as_of counts as today (0 days).
std::int64_t days_since(std::int64_t last_day, std::int64_t as_of_day);

// Stage index for `days`: 0 while days <= thresholds[0], i while
// thresholds[i-1] < days <= thresholds[i], and count past the last threshold.
// The default thresholds {63, 126, 365} give active, silent, sleeping, churned.
std::size_t lifecycle_index(std::int64_t days, const std::int32_t* thresholds, std::size_t count);

// Thresholds must be non-negative and strictly ascending.
void check_lifecycle_thresholds(const std::int32_t* thresholds, std::size_t count);
// There must be exactly one stage name more than thresholds.
void check_stage_names(std::size_t threshold_count, std::size_t name_count);

constexpr const char* kDefaultStageNames[] = {"active", "silent", "sleeping", "churned"};

// ----------------------------------------------------------------- tiers

// Tier index = number of thresholds the spend has reached (spend >= threshold
// upgrades), so tier 0 is below the first threshold. Compare is a three-way
// comparison (negative, zero, positive), letting the glue compare PostgreSQL
// numerics exactly.
template <typename T, typename Compare>
std::size_t thresholds_reached(const T& value, const T* thresholds, std::size_t count, Compare compare) {
    std::size_t reached = 0;
    while (reached < count && compare(value, thresholds[reached]) >= 0)
        ++reached;
    return reached;
}

template <typename T, typename Compare>
void check_tier_thresholds(const T* thresholds, std::size_t count, std::size_t tier_count, Compare compare) {
    if (tier_count < 1)
        throw Error(ErrorKind::invalid_parameter_value, "tiers must not be empty");
    if (count + 1 != tier_count)
        throw Error(ErrorKind::array_subscript_error, "there must be one tier more than thresholds",
                    "There are " + std::to_string(count) + " thresholds and " + std::to_string(tier_count) + " tiers.",
                    "The i-th threshold is the spend that reaches the (i + 1)-th tier.");
    for (std::size_t i = 1; i < count; ++i)
        if (compare(thresholds[i - 1], thresholds[i]) >= 0)
            throw Error(ErrorKind::invalid_parameter_value, "tier thresholds must be strictly ascending",
                        "Threshold " + std::to_string(i + 1) + " is not greater than threshold " + std::to_string(i) + ".");
}

// Membership with hysteresis: a customer moves up as soon as spend reaches a
// higher tier, but moves down only at a re-rating. current < 0 means no tier
// yet (the computed tier applies).
std::size_t tier_with_hysteresis(std::size_t earned, long current, bool rerating);

int compare_doubles(double left, double right);

// -------------------------------------------------------------- quadrant

// A value equal to its cut counts as high.
const char* quadrant_name(bool high_frequency, bool high_value);

}  // namespace customer_analytics
