
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
-- Every model type of a fit ends with standard_errors (of its parameters,
-- in their order, by the delta method from the inverse observed information
-- of the log-likelihood at the estimate) and covariance (of the natural
-- logarithms of the parameters, d x d row-major, what the CLV intervals
-- draw from); both NULL unless the fit converged, and for a model built
-- from stored parameters.
CREATE TYPE bgnbd_model AS (
    r float8, alpha float8, a float8, b float8,
    log_likelihood float8,  -- at the estimate, without the l2 penalty
    customers bigint,       -- customers fitted
    converged boolean,      -- a proper maximum was found (else the best point reached)
    iterations integer,     -- optimizer iterations
    standard_errors float8[],  -- of r, alpha, a, b (NULL unless converged)
    covariance float8[]        -- of the log-parameters, 4 x 4 row-major
);
-- boundary: NULL, or when the fit found no proper maximum the limit its
-- likelihood rises towards: 'no dropout' (s/beta -> 0), 'homogeneous
-- dropout' (s, beta -> infinity), 'homogeneous purchase' (r, alpha ->
-- infinity); the parameters are then the point reached.
CREATE TYPE pareto_nbd_model AS (
    r float8, alpha float8, s float8, beta float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    boundary text, standard_errors float8[], covariance float8[]
);
CREATE TYPE gamma_gamma_model AS (
    p float8, q float8, gamma float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
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

-- MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may
-- also drop out right after the first purchase. Same data as bgnbd_fit (and
-- the same aggregate state).
CREATE TYPE mbgnbd_model AS (
    r float8, alpha float8, a float8, b float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE FUNCTION mbgnbd_model(r float8, alpha float8, a float8, b float8) RETURNS mbgnbd_model
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_fit_finalfn(analytics_state) RETURNS mbgnbd_model
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE mbgnbd_fit(x float8, t_x float8, t_cal float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = mbgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE mbgnbd_fit(x float8, t_x float8, t_cal float8, l2_penalty float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = mbgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE FUNCTION mbgnbd_p_alive(model mbgnbd_model, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_expected(model mbgnbd_model, t float8, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_expected' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_expected(model mbgnbd_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_expected_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_repurchase_score(model mbgnbd_model, t float8, x float8, t_x float8, t_cal float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_repurchase_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv(model mbgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                    periods integer, discount_rate float8, period_length float8 DEFAULT 1) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_clv_mbgnbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- BG/BB (Fader, Hardie & Shang 2010): discrete-time non-contractual. A
-- customer is (x, t_x, n): x transactions at n opportunities (years,
-- events), the last at opportunity t_x (0 when x = 0); integers with
-- 0 <= x <= t_x <= n.
CREATE TYPE bgbb_model AS (
    alpha float8, beta float8, gamma float8, delta float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE FUNCTION bgbb_model(alpha float8, beta float8, gamma float8, delta float8) RETURNS bgbb_model
    AS 'MODULE_PATHNAME', 'ca_bgbb_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgbb_fit_transfn(analytics_state, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_bgbb_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgbb_fit_transfn(analytics_state, float8, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_bgbb_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgbb_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_bgbb_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgbb_fit_finalfn(analytics_state) RETURNS bgbb_model
    AS 'MODULE_PATHNAME', 'ca_bgbb_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE bgbb_fit(x float8, t_x float8, n float8) (
    SFUNC = bgbb_fit_transfn, STYPE = analytics_state, FINALFUNC = bgbb_fit_finalfn,
    COMBINEFUNC = bgbb_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE bgbb_fit(x float8, t_x float8, n float8, l2_penalty float8) (
    SFUNC = bgbb_fit_transfn, STYPE = analytics_state, FINALFUNC = bgbb_fit_finalfn,
    COMBINEFUNC = bgbb_fit_combinefn, PARALLEL = SAFE);
-- P(alive at opportunity n + 1); expected transactions at the next n_star
-- opportunities; a new customer's at the first n; P(X(n) = x).
CREATE FUNCTION bgbb_p_alive(model bgbb_model, x float8, t_x float8, n float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgbb_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgbb_expected(model bgbb_model, n_star float8, x float8, t_x float8, n float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgbb_expected' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgbb_expected(model bgbb_model, n float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgbb_expected_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgbb_probability(model bgbb_model, x float8, n float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgbb_probability' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- sBG (Fader & Hardie 2007): contractual retention. A customer is (t,
-- churned): cancelled in period t >= 1, or still active after t periods.
CREATE TYPE sbg_model AS (
    alpha float8, beta float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE FUNCTION sbg_model(alpha float8, beta float8) RETURNS sbg_model
    AS 'MODULE_PATHNAME', 'ca_sbg_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_fit_transfn(analytics_state, float8, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_sbg_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION sbg_fit_transfn(analytics_state, float8, boolean, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_sbg_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION sbg_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_sbg_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION sbg_fit_finalfn(analytics_state) RETURNS sbg_model
    AS 'MODULE_PATHNAME', 'ca_sbg_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE sbg_fit(t float8, churned boolean) (
    SFUNC = sbg_fit_transfn, STYPE = analytics_state, FINALFUNC = sbg_fit_finalfn,
    COMBINEFUNC = sbg_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE sbg_fit(t float8, churned boolean, l2_penalty float8) (
    SFUNC = sbg_fit_transfn, STYPE = analytics_state, FINALFUNC = sbg_fit_finalfn,
    COMBINEFUNC = sbg_fit_combinefn, PARALLEL = SAFE);
-- S(t): share active after t periods; r(t): retention rate of period t;
-- DERL: discounted expected residual lifetime (future payments, one per
-- period, the next undiscounted) of a customer who has made `renewals`
-- renewals, at the next renewal decision.
CREATE FUNCTION sbg_survival(model sbg_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_sbg_survival' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_retention(model sbg_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_sbg_retention' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_derl(model sbg_model, renewals float8, discount_rate float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_sbg_derl' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Time-invariant covariates (Fader & Hardie 2007; CLVTools' parametrisation):
-- each customer has the same number k of covariates z (1 to 20); alpha_i =
-- alpha exp(-gamma_purchase' z) in both models, b_i = b exp(-gamma_dropout'
-- z) (BG/NBD) and beta_i = beta exp(-gamma_dropout' z) (Pareto/NBD): a
-- positive coefficient raises the mean purchase (dropout) rate by exp(gamma)
-- per unit. bgnbd_model(model, z) and pareto_nbd_model(model, z) are the
-- customer's own models, for every prediction function.
-- standard_errors: of r, alpha, a|s, b|beta (delta method), then of the
-- coefficients gamma_purchase and gamma_dropout; covariance: of (log r,
-- log alpha, log a|s, log b|beta, gamma_purchase, gamma_dropout), (4 + 2k)^2
-- row-major; both NULL unless converged.
CREATE TYPE bgnbd_cov_model AS (
    r float8, alpha float8, a float8, b float8, gamma_purchase float8[], gamma_dropout float8[],
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE TYPE pareto_nbd_cov_model AS (
    r float8, alpha float8, s float8, beta float8, gamma_purchase float8[], gamma_dropout float8[],
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE FUNCTION btyd_cov_fit_transfn(analytics_state, float8, float8, float8, float8[]) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_cov_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_cov_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_cov_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_cov_fit_finalfn(analytics_state) RETURNS bgnbd_cov_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_cov_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_cov_fit_finalfn(analytics_state) RETURNS pareto_nbd_cov_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_cov_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE bgnbd_cov_fit(x float8, t_x float8, t_cal float8, covariates float8[]) (
    SFUNC = btyd_cov_fit_transfn, STYPE = analytics_state, FINALFUNC = bgnbd_cov_fit_finalfn,
    COMBINEFUNC = btyd_cov_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_cov_fit(x float8, t_x float8, t_cal float8, covariates float8[]) (
    SFUNC = btyd_cov_fit_transfn, STYPE = analytics_state, FINALFUNC = pareto_nbd_cov_fit_finalfn,
    COMBINEFUNC = btyd_cov_fit_combinefn, PARALLEL = SAFE);
CREATE FUNCTION bgnbd_model(model bgnbd_cov_model, covariates float8[]) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_model_covariates' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_model(model pareto_nbd_cov_model, covariates float8[]) RETURNS pareto_nbd_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_model_covariates' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- A prediction interval of a customer's CLV (clv above) for the
-- uncertainty of the fitted parameters: a parametric bootstrap drawing
-- `draws` log-parameter vectors from the normal distribution with the fit's
-- estimate and covariance, the (1 - level)/2 and (1 + level)/2 quantiles of
-- the CLV at them, and the CLV at the estimate. Deterministic for a seed;
-- 1 <= draws <= 100000 and 0 < level < 1 (else 22023); the model must come
-- from a fit that converged (its covariance field, else 22023). Cancellable.
CREATE FUNCTION clv_interval(model bgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                             periods integer, discount_rate float8, period_length float8 DEFAULT 1,
                             draws integer DEFAULT 1000, level float8 DEFAULT 0.9, seed bigint DEFAULT 0,
                             OUT estimate float8, OUT lower float8, OUT upper float8) RETURNS record
    AS 'MODULE_PATHNAME', 'ca_clv_interval_bgnbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_interval(model pareto_nbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                             periods integer, discount_rate float8, period_length float8 DEFAULT 1,
                             draws integer DEFAULT 1000, level float8 DEFAULT 0.9, seed bigint DEFAULT 0,
                             OUT estimate float8, OUT lower float8, OUT upper float8) RETURNS record
    AS 'MODULE_PATHNAME', 'ca_clv_interval_pareto_nbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_interval(model mbgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                             periods integer, discount_rate float8, period_length float8 DEFAULT 1,
                             draws integer DEFAULT 1000, level float8 DEFAULT 0.9, seed bigint DEFAULT 0,
                             OUT estimate float8, OUT lower float8, OUT upper float8) RETURNS record
    AS 'MODULE_PATHNAME', 'ca_clv_interval_mbgnbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Calibration against a holdout period (the checks of Fader, Hardie & Lee
-- 2005): the model is fitted on the customers whose first purchase is on or
-- before cal_end, from their purchases up to cal_end, and compared with what
-- they did in (cal_end, holdout_end]. A purchase day is a day with a row of
-- non-negative amount (as rfm_agg without an order key counts them); rows
-- with a NULL customer, date or amount are skipped. model: 'bgnbd',
-- 'pareto_nbd' or 'mbgnbd'; unit as in btyd_inputs.
--
-- btyd_calibration: per frequency (repeat purchases in calibration; the
-- last bucket, max_frequency, holds every customer with at least that many)
-- the customers, their mean predicted purchase days in the holdout (the
-- conditional expectation *_expected(model, holdout length, x, t_x, t_cal))
-- and their mean actual ones.
CREATE FUNCTION btyd_holdout_query(source regclass, customer_column name, date_column name, amount_column name,
                                   model text, tracking boolean)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
BEGIN
    IF source IS NULL OR customer_column IS NULL OR date_column IS NULL OR amount_column IS NULL OR model IS NULL THEN
        RAISE EXCEPTION 'source, column names and model must not be null' USING ERRCODE = '22004';
    END IF;
    IF model NOT IN ('bgnbd', 'pareto_nbd', 'mbgnbd') THEN
        RAISE EXCEPTION 'model must be ''bgnbd'', ''pareto_nbd'' or ''mbgnbd'''
            USING ERRCODE = '22023', DETAIL = format('The model given was %s.', left(quote_literal(model), 40));
    END IF;
    -- $1 cal_end, $2 holdout_end, $3 unit, $4 max_frequency; the
    -- identifiers are quoted and the model name is one of three. Every call
    -- of the extension's functions passes exactly their argument types
    -- (1::bigint), so no closer overload another role created in the
    -- extension's schema is chosen and run with the caller's rights.
    RETURN format($q$
        WITH lines AS (
            SELECT %3$I AS customer, %4$I::date AS day FROM %2$s
            WHERE %3$I IS NOT NULL AND %4$I IS NOT NULL AND %5$I >= 0 AND %4$I::date <= $2
        ), days AS (
            SELECT DISTINCT customer, day FROM lines
        ), firsts AS (
            SELECT customer, min(day) AS first FROM days GROUP BY customer HAVING min(day) <= $1
        ), cal AS (
            SELECT customer, %1$s.btyd_inputs(min(f.first), max(d.day), count(*), $1, $3) AS i
            FROM days d JOIN firsts f USING (customer) WHERE d.day <= $1 GROUP BY customer
        ), fitted AS MATERIALIZED (
            SELECT %1$s.%6$s_fit((i).x, (i).t_x, (i).t_cal) AS m,
                   (%1$s.btyd_inputs($1, $1, 1::bigint, $2, $3)).t_cal AS horizon FROM cal
        )$q$, ext, source, customer_column, date_column, amount_column, model)
    || CASE WHEN NOT tracking THEN format($q$
        , holdout AS (
            SELECT customer, count(*) AS purchases FROM days WHERE day > $1 GROUP BY customer
        ), per_customer AS (
            SELECT least((c.i).x, $4)::integer AS frequency,
                   %1$s.%2$s_expected(f.m, f.horizon, (c.i).x, (c.i).t_x, (c.i).t_cal) AS predicted,
                   coalesce(h.purchases, 0)::float8 AS actual
            FROM cal c LEFT JOIN holdout h USING (customer), fitted f WHERE (f.m).r IS NOT NULL
        )
        SELECT frequency, count(*), avg(predicted), avg(actual) FROM per_customer GROUP BY 1 ORDER BY 1$q$,
        ext, model)
    ELSE format($q$
        , unit_days AS (
            SELECT ($2 - $1) / horizon AS d FROM fitted
        ), grid AS (
            SELECT k, least($1 + round(k * u.d)::integer, $2) AS as_of
            FROM unit_days u,
                 generate_series(-floor(($1 - (SELECT min(first) FROM firsts)) / u.d)::integer,
                                 ceil(($2 - $1) / u.d)::integer) k
        ), cohorts AS (
            SELECT first, count(*) AS n FROM firsts GROUP BY first
        ), repeats AS (
            SELECT d.day, count(*) AS n FROM days d JOIN firsts f USING (customer) WHERE d.day > f.first GROUP BY 1
        )
        SELECT g.k::integer, g.as_of,
               coalesce((SELECT sum(c.n * %1$s.%2$s_expected(f.m, (g.as_of - c.first) / u.d))
                         FROM cohorts c WHERE c.first < g.as_of), 0)::float8,
               coalesce((SELECT sum(r.n) FROM repeats r WHERE r.day <= g.as_of), 0)::bigint
        FROM grid g, fitted f, unit_days u WHERE (f.m).r IS NOT NULL ORDER BY g.k$q$,
        ext, model)
    END;
END
$fn$;

CREATE FUNCTION btyd_calibration(source regclass, customer_column name, date_column name, amount_column name,
                                 cal_end date, holdout_end date, model text DEFAULT 'bgnbd',
                                 max_frequency integer DEFAULT 7, unit text DEFAULT 'week')
RETURNS TABLE (frequency integer, customers bigint, predicted float8, actual float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF cal_end IS NULL OR holdout_end IS NULL OR max_frequency IS NULL OR unit IS NULL THEN
        RAISE EXCEPTION 'cal_end, holdout_end, max_frequency and unit must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT holdout_end > cal_end THEN
        RAISE EXCEPTION 'holdout_end must be after cal_end' USING ERRCODE = '22023',
            DETAIL = format('cal_end is %s, holdout_end is %s.', cal_end, holdout_end);
    END IF;
    IF max_frequency < 0 OR max_frequency > 1000 THEN
        RAISE EXCEPTION 'max_frequency must be between 0 and 1000' USING ERRCODE = '22023',
            DETAIL = format('The value given was %s.', max_frequency);
    END IF;
    RETURN QUERY EXECUTE @extschema@.btyd_holdout_query(source, customer_column, date_column, amount_column,
                                                        model, false)
        USING cal_end, holdout_end, unit, max_frequency;
END
$fn$;

-- btyd_tracking: the cumulative repeat purchase days of those customers,
-- expected (a new customer's *_expected(model, age) summed over the
-- customers by first purchase day) and actual, at cal_end + k units for
-- every k from the first purchase to holdout_end (k <= 0: calibration; the
-- last as_of is holdout_end).
CREATE FUNCTION btyd_tracking(source regclass, customer_column name, date_column name, amount_column name,
                              cal_end date, holdout_end date, model text DEFAULT 'bgnbd', unit text DEFAULT 'week')
RETURNS TABLE (period integer, as_of date, expected float8, actual bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF cal_end IS NULL OR holdout_end IS NULL OR unit IS NULL THEN
        RAISE EXCEPTION 'cal_end, holdout_end and unit must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT holdout_end > cal_end THEN
        RAISE EXCEPTION 'holdout_end must be after cal_end' USING ERRCODE = '22023',
            DETAIL = format('cal_end is %s, holdout_end is %s.', cal_end, holdout_end);
    END IF;
    RETURN QUERY EXECUTE @extschema@.btyd_holdout_query(source, customer_column, date_column, amount_column,
                                                        model, true)
        USING cal_end, holdout_end, unit, 0;
END
$fn$;
