#include "quadrant.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

const char* quadrant_name(bool high_frequency, bool high_value) {
    if (high_frequency)
        return high_value ? "high_frequency_high_value" : "high_frequency_low_value";
    return high_value ? "low_frequency_high_value" : "low_frequency_low_value";
}

}  // namespace customer_analytics
