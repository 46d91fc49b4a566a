
-- --------------------------------------------------------------- campaign
--
-- Holdouts (holdout, holdout_unit) and the campaign report against them.

-- Deterministic hash-based holdout: the same (key, salt) always gives the
-- same answer; nested in the fraction; use the campaign name as the salt.
CREATE FUNCTION holdout(customer_key bigint, fraction float8, salt text DEFAULT '') RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_holdout_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION holdout(customer_key text, fraction float8, salt text DEFAULT '') RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_holdout_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The uniform number in [0, 1) behind holdout: holdout = unit < fraction.
CREATE FUNCTION holdout_unit(customer_key bigint, salt text DEFAULT '') RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_holdout_unit_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION holdout_unit(customer_key text, salt text DEFAULT '') RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_holdout_unit_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE campaign_report AS (
    treated bigint,               -- contacted customers
    treated_responders bigint,
    treated_revenue float8,
    holdout bigint,               -- held-out customers
    holdout_responders bigint,
    holdout_revenue float8,
    treated_rate float8,          -- response rates
    holdout_rate float8,
    revenue_per_treated float8,
    revenue_per_holdout float8,
    absolute_lift float8,         -- treated_rate - holdout_rate
    relative_lift float8,         -- absolute_lift / holdout_rate
    lift_ci_low float8,           -- Newcombe interval for absolute_lift
    lift_ci_high float8,
    z float8,                     -- pooled two-proportion z test
    p_value float8,
    incremental_responders float8,
    revenue_lift float8,          -- revenue_per_treated - revenue_per_holdout
    incremental_revenue float8,
    roi float8                    -- (incremental_revenue - cost) / cost
);

CREATE FUNCTION campaign_report_transfn(analytics_state, boolean, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_transfn(analytics_state, boolean, boolean, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_transfn(analytics_state, boolean, boolean, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_campaign_report_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_finalfn(analytics_state) RETURNS campaign_report
    AS 'MODULE_PATHNAME', 'ca_campaign_report_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per customer of the campaign (contacted or held out). A NULL
-- in_holdout skips the row; a NULL responded counts as no response and a
-- NULL revenue as 0. Full form: confidence of the interval (0.95) and the
-- campaign's cost (0 = no ROI).
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean) (
    SFUNC = campaign_report_transfn, STYPE = analytics_state, SSPACE = 144,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean, revenue float8) (
    SFUNC = campaign_report_transfn, STYPE = analytics_state, SSPACE = 144,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean, revenue float8, confidence float8,
                                 cost float8) (
    SFUNC = campaign_report_transfn, STYPE = analytics_state, SSPACE = 144,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    PARALLEL = SAFE);
