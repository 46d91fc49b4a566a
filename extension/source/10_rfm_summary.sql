
-- ------------------------------------------------------------ rfm_summary
--
-- The per-customer order summary: rfm_agg (with or without an order key),
-- and rfm_agg_state, rfm_state_merge and rfm_state_summary, which keep the
-- summary's state as bytes and read it back.

CREATE TYPE rfm_summary AS (
    first_order date,       -- first purchase (NULL when the customer only has refunds)
    last_order date,        -- last purchase
    frequency bigint,       -- purchases: order rows with amount >= 0 (with an order key: orders, see rfm_agg)
    purchase_days bigint,   -- distinct days with a purchase
    monetary numeric,       -- sum of every amount, refunds included (= sum(amount))
    refunds bigint          -- order rows with amount < 0 (with an order key: orders whose net is < 0)
);

CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- timestamptz order times become dates in the session's TimeZone: STABLE.
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_serialfn(analytics_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_serialfn_state' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_agg_finalfn(analytics_state) RETURNS rfm_summary
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_agg(order_date date, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);

-- With an order key: lines with one key are one order, and the purchase
-- rule applies to orders and days, never to lines
-- (src/core/rfm_summary_orders.hpp; README, rfm_agg). Keys are bigint or
-- text; a NULL key makes its line an order of its own; min_purchase (NULL:
-- none) is the smallest net amount of a day that has purchases. Not
-- STRICT, for those NULLs.
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_bigint_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric, bigint, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_bigint_minimum_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_text_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric, text, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_text_minimum_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_bigint_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8, bigint, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_bigint_minimum_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_text_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8, text, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_text_minimum_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_bigint_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric, bigint, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_bigint_minimum_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_text_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric, text, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_text_minimum_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_bigint_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8, bigint, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_bigint_minimum_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_text_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8, text, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_text_minimum_state' LANGUAGE C STABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_agg(order_date date, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);

-- rfm_agg's state as bytes, kept per customer so that new orders can be
-- merged in later without rereading old ones (the builder's refresh does
-- this). rfm_state_merge(state) folds states; rfm_state_summary(state) is
-- the rfm_summary they stand for. The bytes are versioned and checked when
-- read back; states with and without an order key never merge.
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
-- The same with an order key (and a minimum): the state keeps every order's
-- net amount and date, so lines of one order merge exactly across batches.
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);

CREATE FUNCTION rfm_state_merge_transfn(analytics_state, bytea) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_state_merge_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE rfm_state_merge(state bytea) (
    SFUNC = rfm_state_merge_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION rfm_state_summary(state bytea) RETURNS rfm_summary
    AS 'MODULE_PATHNAME', 'ca_rfm_state_summary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
