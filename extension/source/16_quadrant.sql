
-- -------------------------------------------------------------- quadrant
--
-- quadrant: frequency x average order value, each high or low.

CREATE FUNCTION quadrant(frequency numeric, avg_order_value numeric, frequency_cut numeric, value_cut numeric)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_quadrant_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION quadrant(frequency float8, avg_order_value float8, frequency_cut float8, value_cut float8)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_quadrant_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
