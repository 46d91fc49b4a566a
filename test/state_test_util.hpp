// Serialized states as byte vectors, for the unit tests.
#pragma once

#include <cstdint>
#include <vector>

#include "state_format.hpp"

namespace customer_analytics_test {

// The bytes write(StateWriter&) produces.
template <typename Write>
std::vector<std::uint8_t> bytes_of(Write write) {
    std::vector<std::uint8_t> out;
    customer_analytics::write_state(write, [&out](std::size_t size) {
        out.resize(size);
        return out.data();
    });
    return out;
}

}  // namespace customer_analytics_test
