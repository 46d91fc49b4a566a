// tier_for: membership tiers by spend thresholds, with hysteresis.
#pragma once

#include <cstddef>
#include <string>

#include "error.hpp"

namespace customer_analytics {

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
                        "Threshold " + std::to_string(i + 1) + " is not greater than threshold " + std::to_string(i) +
                            ".");
}

// Membership with hysteresis: a customer moves up as soon as spend reaches a
// higher tier, but moves down only at a re-rating. current < 0 means no tier
// yet (the computed tier applies).
std::size_t tier_with_hysteresis(std::size_t earned, long current, bool rerating);

int compare_doubles(double left, double right);

}  // namespace customer_analytics
