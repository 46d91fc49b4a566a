
-- ------------------------------------------------- Buy-Till-You-Die models
--
-- BG/NBD, Pareto/NBD and Gamma-Gamma fitted by maximum likelihood, per-
-- customer predictions and CLV (src/core/btyd/btyd.hpp has formulas and
-- units).
-- A customer is (x, t_x, t_cal): repeat purchases (distinct purchase days
-- after the first), time from the first to the last purchase, and time from
-- the first purchase to the end of the calibration period, all within the
-- calibration period and in one time unit (day, week or month); model
-- parameters with a time dimension (alpha, beta) and horizons t are in that
-- unit too.

CREATE TYPE btyd_input AS (
    x float8,       -- repeat purchases
    t_x float8,     -- time of the last purchase since the first
    t_cal float8    -- time from the first purchase to the calibration end
);

-- From a summary of the orders up to cal_end (filter WHERE order_date <=
-- cal_end before rfm_agg): x = purchase_days - 1, t_x = (last_order -
-- first_order) / unit, t_cal = (cal_end - first_order) / unit, unit = 1, 7
-- or 30.4375 days. NULL for a customer without a purchase.
CREATE FUNCTION btyd_inputs(summary rfm_summary, cal_end date, unit text DEFAULT 'week') RETURNS btyd_input
    AS 'MODULE_PATHNAME', 'ca_btyd_inputs_summary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION btyd_inputs(first_order date, last_order date, purchase_days bigint, cal_end date,
                            unit text DEFAULT 'week') RETURNS btyd_input
    AS 'MODULE_PATHNAME', 'ca_btyd_inputs_dates' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Fitted models. Prediction functions read only the parameters, so a model
-- can also be built from stored parameters with the constructors below.
CREATE TYPE bgnbd_model AS (
    r float8, alpha float8, a float8, b float8,
    log_likelihood float8,  -- at the estimate, without the l2 penalty
    customers bigint,       -- customers fitted
    converged boolean,      -- a proper maximum was found (else the best point reached)
    iterations integer      -- optimizer iterations
);
CREATE TYPE pareto_nbd_model AS (
    r float8, alpha float8, s float8, beta float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer
);
CREATE TYPE gamma_gamma_model AS (
    p float8, q float8, gamma float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer
);

-- Models from stored parameters (each finite and > 0, else 22023), the other
-- fields NULL. C functions: they resolve nothing through the caller's
-- search_path.
CREATE FUNCTION bgnbd_model(r float8, alpha float8, a float8, b float8) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_model(r float8, alpha float8, s float8, beta float8) RETURNS pareto_nbd_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model(p float8, q float8, gamma float8) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The fit aggregates. State: the distinct observations with their counts.
-- Rows with a NULL argument are skipped; an empty input gives NULL.
CREATE FUNCTION btyd_fit_transfn(analytics_state, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_fit_transfn(analytics_state, float8, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_finalfn(analytics_state) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_finalfn(analytics_state) RETURNS pareto_nbd_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE bgnbd_fit(x float8, t_x float8, t_cal float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = bgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
-- l2_penalty >= 0 on the log-parameters, added to the mean negative
-- log-likelihood per customer; the same value on every row.
CREATE AGGREGATE bgnbd_fit(x float8, t_x float8, t_cal float8, l2_penalty float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = bgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(x float8, t_x float8, t_cal float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = pareto_nbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(x float8, t_x float8, t_cal float8, l2_penalty float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = pareto_nbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);

-- Customers with x = 0 carry no spend information and are skipped.
CREATE FUNCTION gamma_gamma_fit_transfn(analytics_state, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(analytics_state, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_finalfn(analytics_state) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE gamma_gamma_fit(x float8, mean_spend float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = analytics_state, FINALFUNC = gamma_gamma_fit_finalfn,
    COMBINEFUNC = gamma_gamma_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(x float8, mean_spend float8, l2_penalty float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = analytics_state, FINALFUNC = gamma_gamma_fit_finalfn,
    COMBINEFUNC = gamma_gamma_fit_combinefn, PARALLEL = SAFE);

-- Per customer. t is a horizon in the model's time unit: purchases in
-- (t_cal, t_cal + t]. The two-argument *_expected(model, t) is a new
-- customer's expected repeat purchases in (0, t].
CREATE FUNCTION bgnbd_p_alive(model bgnbd_model, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_expected(model bgnbd_model, t float8, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_expected' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_expected(model bgnbd_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_expected_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- 100 * P(at least one purchase in (t_cal, t_cal + t]), 0..100, not rounded.
CREATE FUNCTION bgnbd_repurchase_score(model bgnbd_model, t float8, x float8, t_x float8, t_cal float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_repurchase_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pareto_nbd_p_alive(model pareto_nbd_model, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_expected(model pareto_nbd_model, t float8, x float8, t_x float8, t_cal float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_expected' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_expected(model pareto_nbd_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_expected_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_repurchase_score(model pareto_nbd_model, t float8, x float8, t_x float8, t_cal float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_repurchase_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- E[spend per purchase | x, mean_spend] = p (gamma + x mean_spend) / (p x + q - 1);
-- x = 0 (mean_spend ignored, may be NULL) gives the population mean
-- p gamma / (q - 1). Not STRICT for that reason; other NULLs give NULL.
CREATE FUNCTION gamma_gamma_expected_spend(model gamma_gamma_model, x float8, mean_spend float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_expected_spend' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Expected discounted revenue over `periods` periods of `period_length`
-- model time units, each period's purchases discounted at its end:
--   expected_spend * sum_{k=1..periods} (E[Y(k L)] - E[Y((k-1) L)]) / (1 + discount_rate)^k
CREATE FUNCTION clv(model bgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                    periods integer, discount_rate float8, period_length float8 DEFAULT 1) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_clv_bgnbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv(model pareto_nbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                    periods integer, discount_rate float8, period_length float8 DEFAULT 1) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_clv_pareto_nbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
