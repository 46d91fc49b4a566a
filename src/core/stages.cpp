#include "stages.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

std::int64_t days_since(std::int64_t last_day, std::int64_t as_of_day) {
    return as_of_day > last_day ? as_of_day - last_day : 0;
}

std::size_t lifecycle_index(std::int64_t days, const std::int32_t* thresholds, std::size_t count) {
    std::size_t index = 0;
    while (index < count && days > thresholds[index])
        ++index;
    return index;
}

void check_lifecycle_thresholds(const std::int32_t* thresholds, std::size_t count) {
    if (count == 0)
        throw Error(ErrorKind::invalid_parameter_value, "lifecycle thresholds must not be empty");
    for (std::size_t i = 0; i < count; ++i) {
        if (thresholds[i] < 0)
            throw Error(ErrorKind::invalid_parameter_value, "lifecycle thresholds must not be negative",
                        "Threshold " + std::to_string(i + 1) + " is " + std::to_string(thresholds[i]) + ".");
        if (i > 0 && thresholds[i] <= thresholds[i - 1])
            throw Error(ErrorKind::invalid_parameter_value, "lifecycle thresholds must be strictly ascending",
                        "Threshold " + std::to_string(i + 1) + " (" + std::to_string(thresholds[i]) +
                            ") is not greater than threshold " + std::to_string(i) + " (" +
                            std::to_string(thresholds[i - 1]) + ").");
    }
}

void check_stage_names(std::size_t threshold_count, std::size_t name_count) {
    if (name_count != threshold_count + 1)
        throw Error(ErrorKind::array_subscript_error, "there must be one stage name more than thresholds",
                    "There are " + std::to_string(threshold_count) + " thresholds and " + std::to_string(name_count) +
                        " stage names.");
}

}  // namespace customer_analytics
