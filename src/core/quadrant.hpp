// quadrant: the frequency x order-value quadrant of a customer.
#pragma once

namespace customer_analytics {

// A value equal to its cut counts as high.
const char* quadrant_name(bool high_frequency, bool high_value);

}  // namespace customer_analytics
