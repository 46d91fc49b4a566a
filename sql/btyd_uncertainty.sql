-- Uncertainty and model checking on the CDNOW sample: standard errors of
-- every fit (a published figure and identities), CLV prediction intervals
-- (seeded, narrowing with data), the calibration/holdout comparison and the
-- cumulative tracking (against the per-customer functions they summarize).
SET ROLE ca_analyst;
\set SHOW_CONTEXT never
SET extra_float_digits = 0;
SET datestyle = 'ISO, YMD';

CREATE TABLE unc_lines (line text);
\copy unc_lines FROM '../shared/data/cdnow/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE unc_orders AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD') AS order_date, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM unc_lines) t;
CREATE TABLE unc_cal AS
SELECT customer, (i).x, (i).t_x, (i).t_cal
FROM (SELECT customer, btyd_inputs(rfm_agg(order_date, amount), DATE '1997-09-30', 'week') AS i
      FROM unc_orders WHERE order_date <= DATE '1997-09-30' GROUP BY customer) s;
CREATE TABLE unc_spend AS
SELECT customer, (s).purchase_days AS x, (s).monetary / (s).purchase_days AS mean_spend
FROM (SELECT customer, rfm_agg(order_date, amount) FILTER (WHERE order_date > first_day) AS s
      FROM (SELECT customer, order_date, amount, min(order_date) OVER (PARTITION BY customer) AS first_day
            FROM unc_orders WHERE order_date <= DATE '1997-09-30') o
      GROUP BY customer) r
WHERE s IS NOT NULL;
-- The donors of Fader, Hardie & Shang and the regular subscribers of Fader
-- & Hardie (years 0-7), as in btyd_models.
CREATE TABLE unc_donations (frequency int, recency int, periods int, weights int);
\copy unc_donations FROM '../shared/data/donations/donations.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE unc_subscribers AS
SELECT y AS t, true AS churned
FROM unnest(ARRAY[369, 163, 86, 56, 37, 27, 21]) WITH ORDINALITY u(n, y), generate_series(1, n)
UNION ALL SELECT 7, false FROM generate_series(1, 241);

-- ------------------------------------------------------- standard errors
-- Every fit, on the data once (copies = 1) and with every customer twice.
CREATE TABLE unc_fits AS
SELECT copies, bgnbd_fit(x, t_x, t_cal) AS bg, pareto_nbd_fit(x, t_x, t_cal) AS pn, mbgnbd_fit(x, t_x, t_cal) AS mbg,
       (SELECT gamma_gamma_fit(x, mean_spend) FROM unc_spend, generate_series(1, copies)) AS gg,
       (SELECT bgbb_fit(frequency, recency, periods)
        FROM unc_donations, generate_series(1, weights * copies)) AS bb,
       (SELECT sbg_fit(t, churned) FROM unc_subscribers, generate_series(1, copies)) AS sbg
FROM unc_cal, generate_series(1, 2) copies, generate_series(1, copies) k GROUP BY copies;
CREATE TABLE unc_params AS
SELECT copies, model, p, se, cov, d
FROM unc_fits,
     LATERAL (VALUES ('bgnbd', ARRAY[(bg).r, (bg).alpha, (bg).a, (bg).b], (bg).standard_errors, (bg).covariance, 4),
                     ('pareto_nbd', ARRAY[(pn).r, (pn).alpha, (pn).s, (pn).beta], (pn).standard_errors,
                      (pn).covariance, 4),
                     ('mbgnbd', ARRAY[(mbg).r, (mbg).alpha, (mbg).a, (mbg).b], (mbg).standard_errors,
                      (mbg).covariance, 4),
                     ('gamma_gamma', ARRAY[(gg).p, (gg).q, (gg).gamma], (gg).standard_errors, (gg).covariance, 3),
                     ('bgbb', ARRAY[(bb).alpha, (bb).beta, (bb).gamma, (bb).delta], (bb).standard_errors,
                      (bb).covariance, 4),
                     ('sbg', ARRAY[(sbg).alpha, (sbg).beta], (sbg).standard_errors, (sbg).covariance, 2)) v(model, p, se, cov, d);
-- Pareto/NBD on CDNOW: the R package CLVTools pins its standard errors in
-- its correctness tests (r 0.0476264, alpha 0.8427222, s 0.1872594, beta
-- 6.2105448, tolerance 0.001, at its own estimate r 0.55315, alpha
-- 10.57633, s 0.60625, beta 11.67150).
SELECT name, round(e::numeric, 5) AS standard_error, clvtools, abs(e / clvtools - 1) < 1e-3 AS within_0_1_percent
FROM unc_params,
     unnest(se, ARRAY[0.0476264, 0.8427222, 0.1872594, 6.2105448], ARRAY['r', 'alpha', 's', 'beta']) u(e, clvtools, name)
WHERE model = 'pareto_nbd' AND copies = 1;
-- BG/NBD on CDNOW: the Python package lifetimes (BetaGeoFitter.summary, its
-- se(coef) column, at its estimate r 0.242593, alpha 4.413532, a 0.792886,
-- b 2.425752) reports r 0.012557, alpha 0.378221, a 0.185719, b 0.705345.
SELECT name, round(e::numeric, 6) AS standard_error, lifetimes, abs(e / lifetimes - 1) < 1e-3 AS within_0_1_percent
FROM unc_params,
     unnest(se, ARRAY[0.012557, 0.378221, 0.185719, 0.705345], ARRAY['r', 'alpha', 'a', 'b']) u(e, lifetimes, name)
WHERE model = 'bgnbd' AND copies = 1;
-- Every fit, to 3 significant digits (none published for the other four).
SELECT model, array_agg(round(s::numeric, 3 - ceil(log(s))::int) ORDER BY i) AS standard_errors
FROM unc_params, unnest(se) WITH ORDINALITY u(s, i) WHERE copies = 1 GROUP BY model ORDER BY model;
-- Identities: se_i = p_i sqrt(cov_ii) (delta method on the log-parameters),
-- the covariance is d x d, symmetric, with correlations in [-1, 1]; every
-- customer counted twice doubles the information, so every standard error
-- shrinks by sqrt(2) (the estimates stay).
SELECT model, count(*) AS fits,
       bool_and(cardinality(se) = d AND cardinality(cov) = d * d) AS sizes,
       bool_and((SELECT bool_and(abs(se[i] - p[i] * sqrt(cov[(i - 1) * d + i])) <= 1e-12 * se[i])
                 FROM generate_series(1, d) i)) AS delta_method,
       bool_and((SELECT bool_and(cov[(i - 1) * d + j] = cov[(j - 1) * d + i]
                                 AND abs(cov[(i - 1) * d + j]) <= sqrt(cov[(i - 1) * d + i] * cov[(j - 1) * d + j]))
                 FROM generate_series(1, d) i, generate_series(1, d) j)) AS symmetric_correlations
FROM unc_params GROUP BY model ORDER BY model;
SELECT a.model, (SELECT bool_and(abs(a.se[i] / b.se[i] / sqrt(2) - 1) < 1e-4 AND abs(a.p[i] / b.p[i] - 1) < 1e-5)
                 FROM generate_series(1, a.d) i) AS sqrt2_smaller_when_doubled
FROM unc_params a JOIN unc_params b ON b.model = a.model AND b.copies = 2 WHERE a.copies = 1 ORDER BY a.model;
-- The covariate fits (acquisition month as two dummies): standard errors of
-- r, alpha, a|s, b|beta (delta method) and of the coefficients (directly),
-- with the same identities.
CREATE TABLE unc_cov AS
SELECT copies, bgnbd_cov_fit(x, t_x, t_cal, z) AS bg, pareto_nbd_cov_fit(x, t_x, t_cal, z) AS pn
FROM (SELECT c.*, ARRAY[(extract(month FROM f) = 2)::int, (extract(month FROM f) = 3)::int]::float8[] AS z
      FROM unc_cal c JOIN (SELECT customer, min(order_date) AS f FROM unc_orders GROUP BY 1) o USING (customer)) c,
     generate_series(1, 2) copies, generate_series(1, copies) k
GROUP BY copies;
CREATE TABLE unc_cov_params AS
SELECT copies, model, p, se, cov, 8 AS d
FROM unc_cov,
     LATERAL (VALUES ('bgnbd_cov', ARRAY[(bg).r, (bg).alpha, (bg).a, (bg).b] || (bg).gamma_purchase || (bg).gamma_dropout,
                      (bg).standard_errors, (bg).covariance),
                     ('pareto_nbd_cov', ARRAY[(pn).r, (pn).alpha, (pn).s, (pn).beta] || (pn).gamma_purchase
                      || (pn).gamma_dropout, (pn).standard_errors, (pn).covariance)) v(model, p, se, cov);
SELECT model, array_agg(round(s::numeric, 3 - ceil(log(s))::int) ORDER BY i) AS standard_errors
FROM unc_cov_params, unnest(se) WITH ORDINALITY u(s, i) WHERE copies = 1 GROUP BY model ORDER BY model;
SELECT a.model, cardinality(a.se) = 8 AND cardinality(a.cov) = 64 AS sizes,
       (SELECT bool_and(abs(a.se[i] - CASE WHEN i <= 4 THEN a.p[i] ELSE 1 END * sqrt(a.cov[(i - 1) * 8 + i]))
                        <= 1e-12 * a.se[i]) FROM generate_series(1, 8) i) AS delta_method,
       (SELECT bool_and(abs(a.se[i] / b.se[i] / sqrt(2) - 1) < 1e-3) FROM generate_series(1, 8) i)
           AS sqrt2_smaller_when_doubled
FROM unc_cov_params a JOIN unc_cov_params b ON b.model = a.model AND b.copies = 2 WHERE a.copies = 1 ORDER BY a.model;
-- A model from stored parameters, or a fit that did not converge, has none.
SELECT (bgnbd_model(0.243, 4.414, 0.793, 2.426)).standard_errors IS NULL AS constructor_none,
       (sbg_model(0.7, 1.2)).covariance IS NULL AS sbg_constructor_none;

-- --------------------------------------------------------- CLV intervals
-- Customer 1 of the sample (x 2, t_x 30.43, t_cal 38.86), 12 months of
-- 52/12 weeks, $35 per purchase, 1 % a month: the 90 % interval from 1,000
-- draws of the fitted parameters.
CREATE TABLE unc_intervals AS
SELECT copies, clv(bg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12) AS clv_bg, i.*, again.*, other.*,
       clv(pn, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12) AS clv_pn, p.*
FROM unc_fits,
     clv_interval(bg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12, 1000, 0.9, 42) i(estimate, lower, upper),
     clv_interval(bg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12, 1000, 0.9, 42) again(a_estimate, a_lower, a_upper),
     clv_interval(bg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12, 1000, 0.9, 43) other(o_estimate, o_lower, o_upper),
     clv_interval(pn, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12, 300, 0.8, 42) p(p_estimate, p_lower, p_upper);
SELECT copies, round(estimate::numeric, 2) AS estimate, round(lower::numeric, 2) AS lower,
       round(upper::numeric, 2) AS upper,
       estimate = clv_bg AND p_estimate = clv_pn AS estimate_is_clv,
       lower < estimate AND estimate < upper AND p_lower < p_estimate AND p_estimate < p_upper AS contains_estimate,
       (a_estimate, a_lower, a_upper) = (estimate, lower, upper) AS same_seed_same_interval,
       o_lower <> lower AND abs(o_lower - lower) < 0.1 * (upper - lower) AS other_seed_close
FROM unc_intervals ORDER BY copies;
-- Twice the customers: the parameter covariance halves, and the interval
-- (the same normal draws, scaled) narrows by about sqrt(2).
SELECT round(((b.upper - b.lower) / (a.upper - a.lower))::numeric, 2) AS width_ratio,
       round(((b.p_upper - b.p_lower) / (a.p_upper - a.p_lower))::numeric, 2) AS pareto_ratio
FROM unc_intervals a, unc_intervals b WHERE a.copies = 1 AND b.copies = 2;
-- MBG/NBD: the same for its model.
SELECT i.estimate = clv(a.mbg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12) AS estimate_is_clv,
       i.lower < i.estimate AND i.estimate < i.upper AS contains_estimate,
       round(((j.upper - j.lower) / (i.upper - i.lower))::numeric, 2) AS width_ratio_when_doubled
FROM unc_fits a, unc_fits b,
     clv_interval(a.mbg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12, 500, 0.9, 7) i,
     clv_interval(b.mbg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12, 500, 0.9, 7) j
WHERE a.copies = 1 AND b.copies = 2;
-- A wider level gives a wider interval from the same draws.
SELECT w.lower < n.lower AND w.upper > n.upper AS wider_level_wider
FROM unc_fits, clv_interval(bg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12, 500, 0.95, 1) w,
     clv_interval(bg, 2, 30.43, 38.86, 35, 12, 0.01, 52.0 / 12, 500, 0.5, 1) n
WHERE copies = 1;
-- STRICT: a NULL argument gives NULL.
SELECT clv_interval(bg, NULL, 30.43, 38.86, 35, 12, 0.01) IS NULL AS null_gives_null FROM unc_fits WHERE copies = 1;
-- Bounded and cancellable: the largest request stops at statement_timeout.
SET statement_timeout = '100ms';
SELECT clv_interval(pn, 2, 30.43, 38.86, 35, 120, 0.01, 1, 100000, 0.9, 1) FROM unc_fits WHERE copies = 1;
RESET statement_timeout;

-- ----------------------------------------------------- calibration/holdout
-- 39 weeks of calibration (to 1997-09-30) and 39 of holdout (to
-- 1998-06-30), as in Fader, Hardie & Lee (2005).
CREATE TABLE unc_buckets AS
SELECT * FROM btyd_calibration('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30', '1998-06-30');
SELECT frequency, customers, round(predicted::numeric, 3) AS predicted, round(actual::numeric, 3) AS actual
FROM unc_buckets ORDER BY frequency;
-- The buckets summarize the per-customer functions: the customers by x
-- (7 and more together), the conditional expectation over 39 weeks, and the
-- 1,882 purchase days of these customers in the holdout.
SELECT (SELECT sum(customers) FROM unc_buckets) AS customers,
       (SELECT bool_and(b.customers = c.n) FROM unc_buckets b
        JOIN (SELECT least(x, 7)::int AS frequency, count(*) AS n FROM unc_cal GROUP BY 1) c USING (frequency))
           AS counts_agree,
       abs((SELECT sum(customers * predicted) FROM unc_buckets)
           - (SELECT sum(bgnbd_expected(bg, 39, x, t_x, t_cal)) FROM unc_cal, unc_fits WHERE copies = 1)) < 1e-6
           AS predictions_agree,
       (SELECT round(sum(customers * actual)) FROM unc_buckets) AS holdout_purchase_days,
       (SELECT count(DISTINCT (customer, order_date)) FROM unc_orders
        WHERE order_date > '1997-09-30' AND order_date <= '1998-06-30') AS counted_directly;
-- Cumulative repeat purchase days, expected and actual, week by week: the
-- first week of 1997 to the end of the holdout.
CREATE TABLE unc_tracking AS
SELECT * FROM btyd_tracking('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30', '1998-06-30');
SELECT count(*) AS weeks, min(period) AS first_period, max(period) AS last_period, min(as_of) AS first_week_end,
       max(as_of) AS last_week_end, bool_and(as_of = DATE '1997-09-30' + 7 * period) AS weekly
FROM unc_tracking;
SELECT period, as_of, round(expected::numeric, 1) AS expected, actual
FROM unc_tracking WHERE period IN (-38, -26, -13, 0, 13, 26, 39) ORDER BY period;
-- At the calibration end the actual count is the repeat purchases in
-- calibration (sum x) and the expected one the sum of the unconditional
-- E[X(t_cal)]; the holdout adds the 1,882 days counted above. Both series
-- never decrease.
SELECT (SELECT actual FROM unc_tracking WHERE period = 0) = (SELECT sum(x) FROM unc_cal) AS calibration_actual,
       abs((SELECT expected FROM unc_tracking WHERE period = 0)
           - (SELECT sum(bgnbd_expected(bg, t_cal)) FROM unc_cal, unc_fits WHERE copies = 1)) < 1e-6
           AS calibration_expected,
       (SELECT actual FROM unc_tracking WHERE period = 39) - (SELECT actual FROM unc_tracking WHERE period = 0)
           AS holdout_actual,
       (SELECT bool_and(expected >= prev_e AND actual >= prev_a)
        FROM (SELECT expected, actual, lag(expected) OVER w AS prev_e, lag(actual) OVER w AS prev_a
              FROM unc_tracking WINDOW w AS (ORDER BY period)) s WHERE prev_e IS NOT NULL) AS monotone;
-- The other models: the same actual counts, their own predictions.
SELECT model, (SELECT sum(actual * customers) FROM btyd_calibration('unc_orders', 'customer', 'order_date', 'amount',
                                                '1997-09-30', '1998-06-30', model)) AS holdout_actual,
       (SELECT round(sum(predicted * customers)::numeric, 1)
        FROM btyd_calibration('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30', '1998-06-30', model))
           AS holdout_predicted,
       (SELECT round(expected::numeric, 1) FROM btyd_tracking('unc_orders', 'customer', 'order_date', 'amount',
                                              '1997-09-30', '1998-06-30', model) WHERE period = 39) AS tracking_end
FROM unnest(ARRAY['bgnbd', 'pareto_nbd', 'mbgnbd']) model;
-- Months, and a smaller last bucket.
SELECT count(*) AS months, max(as_of) AS last_month_end
FROM btyd_tracking('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30', '1998-06-30', unit => 'month');
SELECT frequency, customers FROM btyd_calibration('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30',
                                                  '1998-06-30', max_frequency => 2) ORDER BY frequency;
-- Refunds are not purchases; nothing before the calibration end: no rows.
CREATE TABLE unc_refunds AS
SELECT customer, order_date, CASE WHEN customer % 2 = 0 THEN -amount ELSE amount END AS amount FROM unc_orders;
SELECT sum(customers) AS odd_customers FROM btyd_calibration('unc_refunds', 'customer', 'order_date', 'amount',
                                                             '1997-09-30', '1998-06-30');
SELECT count(*) AS no_rows FROM btyd_calibration('unc_orders', 'customer', 'order_date', 'amount', '1996-09-30',
                                                 '1996-12-31');

-- ------------------------------------------------------------- bad input
CREATE FUNCTION unc_error(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT q AS query, unc_error(q) AS error FROM (VALUES
    ($$SELECT clv_interval(bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30, 38, 35, 12, 0.01)$$),
    ($$SELECT clv_interval(bg, 2, 30, 38, 35, 12, 0.01, 1, 0) FROM unc_fits$$),
    ($$SELECT clv_interval(mbgnbd_model(0.525, 6.183, 0.891, 1.614), 2, 30, 38, 35, 12, 0.01)$$),
    ($$SELECT clv_interval(bg, 2, 30, 38, 35, 12, 0.01, 1, 100001) FROM unc_fits$$),
    ($$SELECT clv_interval(bg, 2, 30, 38, 35, 12, 0.01, 1, 100, 1) FROM unc_fits$$),
    ($$SELECT clv_interval(bg, 2, 30, 38, 35, 12, 0.01, 1, 100, 'NaN') FROM unc_fits$$),
    ($$SELECT clv_interval(bg, 2, 40, 38, 35, 12, 0.01) FROM unc_fits$$),
    ($$SELECT clv_interval(bg, 2, 30, 38, 35, 0, 0.01) FROM unc_fits$$),
    ($$SELECT clv_interval(ROW((bg).r, (bg).alpha, (bg).a, (bg).b, NULL, NULL, NULL, NULL, NULL,
                               (bg).covariance[1:15])::bgnbd_model, 2, 30, 38, 35, 12, 0.01) FROM unc_fits$$),
    ($$SELECT clv_interval(ROW((bg).r, (bg).alpha, (bg).a, (bg).b, NULL, NULL, NULL, NULL, NULL,
                               (bg).covariance || 0::float8)::bgnbd_model, 2, 30, 38, 35, 12, 0.01) FROM unc_fits$$),
    ($$SELECT clv_interval(ROW((bg).r, (bg).alpha, (bg).a, (bg).b, NULL, NULL, NULL, NULL, NULL,
                               array_fill(1::float8, ARRAY[16]))::bgnbd_model, 2, 30, 38, 35, 12, 0.01) FROM unc_fits$$),
    ($$SELECT clv_interval(ROW((bg).r, (bg).alpha, (bg).a, (bg).b, NULL, NULL, NULL, NULL, NULL,
                               (bg).covariance[1:15] || '{NaN}'::float8[])::bgnbd_model, 2, 30, 38, 35, 12, 0.01) FROM unc_fits$$),
    ($$SELECT clv_interval(ROW((bg).r, (bg).alpha, (bg).a, (bg).b, NULL, NULL, NULL, NULL, NULL,
                               array_fill(1e300::float8, ARRAY[16]))::bgnbd_model, 2, 30, 38, 35, 12, 0.01) FROM unc_fits$$),
    ($$SELECT clv_interval(ROW((bg).r, (bg).alpha, (bg).a, (bg).b, NULL, NULL, NULL, NULL, NULL,
                               '{400,0,0,0,0,400,0,0,0,0,400,0,0,0,0,400}')::bgnbd_model, 2, 30, 38, 35, 12, 0.01,
                           1, 1000) FROM unc_fits WHERE copies = 1$$),
    ($$SELECT btyd_calibration('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30', '1997-09-30')$$),
    ($$SELECT btyd_calibration('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30', '1998-06-30', 'gamma')$$),
    ($$SELECT btyd_calibration('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30', '1998-06-30',
                               max_frequency => -1)$$),
    ($$SELECT btyd_calibration('unc_orders', 'customer', 'order_date', 'amount', NULL, '1998-06-30')$$),
    ($$SELECT btyd_tracking('unc_orders', 'customer', 'no_such_column', 'amount', '1997-09-30', '1998-06-30')$$),
    ($$SELECT btyd_tracking('unc_orders', 'customer', 'order_date', 'amount', '1997-09-30', '1998-06-30',
                            unit => 'year')$$),
    ($$SELECT btyd_tracking('unc_orders; DROP TABLE unc_cal', 'customer', 'order_date', 'amount', '1997-09-30',
                            '1998-06-30')$$),
    ($$SELECT btyd_tracking('unc_orders', 'customer"; DROP TABLE unc_cal; --', 'order_date', 'amount', '1997-09-30',
                            '1998-06-30')$$)
) v(q);
SELECT count(*) AS unc_cal_still_there FROM unc_cal;

DROP FUNCTION unc_error(text);
DROP TABLE unc_lines, unc_orders, unc_cal, unc_spend, unc_donations, unc_subscribers, unc_fits, unc_params, unc_cov,
           unc_cov_params,
           unc_intervals, unc_buckets, unc_tracking, unc_refunds;
RESET ROLE;
