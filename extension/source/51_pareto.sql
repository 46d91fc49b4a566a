
-- ----------------------------------------------------------------- pareto
--
-- The Pareto diagnosis of spend: gini, pareto_share, lorenz_curve,
-- pareto_tier_thresholds and value_band_cuts.

-- One spend per customer (non-negative; NULLs skipped). The aggregates share
-- one state: every spend, 8 bytes per customer.
CREATE TYPE lorenz_point AS (
    customer_share float8,  -- the poorest p of customers ...
    revenue_share float8    -- ... hold this share of revenue
);

CREATE FUNCTION pareto_spend_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_pareto_spend_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION gini_transfn(analytics_state, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_gini_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gini_finalfn(analytics_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_gini_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Gini coefficient, population form: 0 = all equal, (n - 1) / n = one
-- customer holds everything.
CREATE AGGREGATE gini(spend float8) (
    SFUNC = gini_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = gini_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);

CREATE FUNCTION pareto_share_transfn(analytics_state, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_pareto_share_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_share_finalfn(analytics_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_share_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Share of revenue from the top ceil(top_fraction * n) customers.
CREATE AGGREGATE pareto_share(spend float8, top_fraction float8) (
    SFUNC = pareto_share_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = pareto_share_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);

CREATE FUNCTION lorenz_curve_transfn(analytics_state, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lorenz_curve_transfn(analytics_state, float8, integer) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_transfn_segments_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lorenz_curve_finalfn(analytics_state) RETURNS lorenz_point[]
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- segments + 1 evenly spaced points (default 10 segments) from (0, 0) to (1, 1).
CREATE AGGREGATE lorenz_curve(spend float8) (
    SFUNC = lorenz_curve_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = lorenz_curve_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE lorenz_curve(spend float8, segments integer) (
    SFUNC = lorenz_curve_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = lorenz_curve_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);

CREATE FUNCTION pareto_tier_thresholds_transfn(analytics_state, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_tier_thresholds_transfn(analytics_state, float8, float8[]) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_transfn_fractions_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_tier_thresholds_finalfn(analytics_state) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- The spend level of the top X% customers (the k-th largest spend, k =
-- ceil(X * n)) for each fraction, default {0.20, 0.05}: the silver and gold
-- thresholds for tier_for(spend, thresholds).
CREATE AGGREGATE pareto_tier_thresholds(spend float8) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = pareto_tier_thresholds_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_tier_thresholds(spend float8, top_fractions float8[]) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = pareto_tier_thresholds_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);

CREATE FUNCTION value_band_cuts_transfn(analytics_state, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION value_band_cuts_finalfn(analytics_state) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- {low_cut, high_cut} for value_band: bottom 50% low, next 30% mid, top 20% high.
CREATE AGGREGATE value_band_cuts(spend float8) (
    SFUNC = value_band_cuts_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = value_band_cuts_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
