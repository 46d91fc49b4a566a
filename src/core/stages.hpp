// lifecycle_stage: a customer's stage by the days since the last order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "error.hpp"

namespace customer_analytics {

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

}  // namespace customer_analytics
