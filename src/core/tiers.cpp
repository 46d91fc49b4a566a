#include "tiers.hpp"

#include "no_postgres.hpp"

namespace customer_analytics {

std::size_t tier_with_hysteresis(std::size_t earned, long current, bool rerating) {
    if (current < 0 || rerating)
        return earned;
    const auto held = static_cast<std::size_t>(current);
    return earned > held ? earned : held;
}

int compare_doubles(double left, double right) { return left < right ? -1 : (left > right ? 1 : 0); }

}  // namespace customer_analytics
