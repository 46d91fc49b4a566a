// quadrant.
#include "quadrant.hpp"

#include "barrier.hpp"
#include "convert.hpp"

namespace ca = customer_analytics;

CA_FUNCTION(ca_quadrant_numeric) {
    const char* names[] = {"frequency", "avg_order_value", "frequency_cut", "value_cut"};
    for (int i = 0; i < 4; ++i)
        if (numeric_is_nan(PG_GETARG_NUMERIC(i)))
            throw ca::Error(ca::ErrorKind::invalid_parameter_value, std::string(names[i]) + " must not be NaN");
    const bool high_frequency = ca::pg::numeric_compare(PG_GETARG_DATUM(0), PG_GETARG_DATUM(2)) >= 0;
    const bool high_value = ca::pg::numeric_compare(PG_GETARG_DATUM(1), PG_GETARG_DATUM(3)) >= 0;
    PG_RETURN_TEXT_P(cstring_to_text(ca::quadrant_name(high_frequency, high_value)));
}

CA_FUNCTION(ca_quadrant_float8) {
    const char* names[] = {"frequency", "avg_order_value", "frequency_cut", "value_cut"};
    for (int i = 0; i < 4; ++i)
        if (std::isnan(PG_GETARG_FLOAT8(i)))
            throw ca::Error(ca::ErrorKind::invalid_parameter_value, std::string(names[i]) + " must not be NaN");
    const bool high_frequency = PG_GETARG_FLOAT8(0) >= PG_GETARG_FLOAT8(2);
    const bool high_value = PG_GETARG_FLOAT8(1) >= PG_GETARG_FLOAT8(3);
    PG_RETURN_TEXT_P(cstring_to_text(ca::quadrant_name(high_frequency, high_value)));
}
