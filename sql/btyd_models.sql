-- MBG/NBD, BG/BB and sBG from SQL: the published figures reproduced, the
-- predictions against their definitions, parallel plans equal to serial
-- ones, NULLs and bad input.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

-- ---------------------------------------------------------------- MBG/NBD
-- The CDNOW sample, calibration to 1997-09-30, weeks (as in btyd.sql).
CREATE TABLE mbg_lines (line text);
\copy mbg_lines FROM '../shared/data/cdnow/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE mbg_cal AS
SELECT customer, (i).x, (i).t_x, (i).t_cal
FROM (SELECT customer, btyd_inputs(rfm_agg(order_date, amount), DATE '1997-09-30', 'week') AS i
      FROM (SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD') AS order_date, f[5]::numeric AS amount
            FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM mbg_lines) t) o
      WHERE order_date <= DATE '1997-09-30' GROUP BY customer) s;
-- Published (Batislam, Denizel & Filiztekin 2007; the BTYDplus figures):
-- r 0.525, alpha 6.183, a 0.891, b 1.614.
CREATE TABLE mbg_model AS SELECT mbgnbd_fit(x, t_x, t_cal) AS m FROM mbg_cal;
SELECT round((m).r::numeric, 3) AS r, round((m).alpha::numeric, 3) AS alpha, round((m).a::numeric, 3) AS a,
       round((m).b::numeric, 3) AS b, round((m).log_likelihood::numeric, 1) AS log_likelihood, (m).customers,
       (m).converged
FROM mbg_model;
-- P(alive) = 1 / (1 + a / (b + x) ((alpha + t_cal) / (alpha + t_x))^(r + x)), also for x = 0;
-- score = 100 P(alive) (1 - ((alpha + t_cal) / (alpha + t_cal + t))^(r + x)).
SELECT count(*) AS customers,
       count(*) FILTER (WHERE abs(mbgnbd_p_alive(m, x, t_x, t_cal) - 1 / (1 + (m).a / ((m).b + x)
           * (((m).alpha + t_cal) / ((m).alpha + t_x)) ^ ((m).r + x))) < 1e-12) AS p_alive_agrees,
       count(*) FILTER (WHERE abs(mbgnbd_repurchase_score(m, 39, x, t_x, t_cal) - 100 * mbgnbd_p_alive(m, x, t_x, t_cal)
           * (1 - (((m).alpha + t_cal) / ((m).alpha + t_cal + 39)) ^ ((m).r + x))) < 1e-10) AS score_agrees,
       count(*) FILTER (WHERE mbgnbd_p_alive(m, x, t_x, t_cal) < 1) AS not_surely_alive
FROM mbg_cal, mbg_model;
-- Over the 39-week holdout the customers made 1,882 repeat purchase days.
SELECT round(sum(mbgnbd_expected(m, 39, x, t_x, t_cal))::numeric, 1) AS expected_holdout,
       (SELECT round(mbgnbd_expected(m, 39)::numeric, 4) FROM mbg_model) AS new_customer_39,
       round(sum(clv(m, x, t_x, t_cal, 35, 12, 0.01, 52.0 / 12))::numeric, 0) AS clv_at_35_per_purchase
FROM mbg_cal, mbg_model;

-- ------------------------------------------------------------------ BG/BB
-- The 11,104 first-time donors of 1995, six annual opportunities
-- 1996-2001, as 22 (frequency, recency) patterns with their counts.
CREATE TABLE donations (frequency int, recency int, periods int, weights int);
\copy donations FROM '../shared/data/donations/donations.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE donors AS SELECT d.* FROM donations d, generate_series(1, d.weights);
-- Published (Fader, Hardie & Shang 2010): alpha 1.204, beta 0.750,
-- gamma 0.657, delta 2.783.
CREATE TABLE bgbb_fitted AS SELECT bgbb_fit(frequency, recency, periods) AS m FROM donors;
SELECT round((m).alpha::numeric, 3) AS alpha, round((m).beta::numeric, 3) AS beta,
       round((m).gamma::numeric, 3) AS gamma, round((m).delta::numeric, 3) AS delta,
       round((m).log_likelihood::numeric, 1) AS log_likelihood, (m).customers, (m).converged
FROM bgbb_fitted;
-- In-sample fit: donors by number of repeat donations, actual and expected
-- (N P(X(6) = x)); published 3,454.9 for x = 0 and 1,253.1 for x = 6.
SELECT x, coalesce(actual, 0) AS actual, round((11104 * bgbb_probability(m, x, 6))::numeric, 1) AS expected
FROM generate_series(0, 6) x
     LEFT JOIN (SELECT frequency AS x, sum(weights) AS actual FROM donations GROUP BY 1) a USING (x), bgbb_fitted
ORDER BY x;
SELECT round(sum(bgbb_probability(m, x, 6))::numeric, 12) AS total_probability,
       round(sum(x * bgbb_probability(m, x, 6))::numeric, 10)
           = (SELECT round(bgbb_expected(m, 6)::numeric, 10) FROM bgbb_fitted) AS mean_is_expected
FROM generate_series(0, 6) x, bgbb_fitted;
-- Per pattern: P(alive in 2002) and donations expected 2002-2006.
SELECT frequency AS x, recency AS t_x, weights AS donors, round(bgbb_p_alive(m, frequency, recency, periods)::numeric, 4) AS p_alive,
       round(bgbb_expected(m, 5, frequency, recency, periods)::numeric, 4) AS expected_next_5
FROM donations, bgbb_fitted WHERE frequency IN (0, 3, 6) ORDER BY frequency, recency;
-- A donor who gave at the last opportunity is alive unless she dropped out
-- right after it: (delta + n) / (gamma + delta + n) under the prior.
SELECT round(bgbb_p_alive(bgbb_model(1.2, 0.75, 0.66, 2.8), 6, 6, 6)::numeric, 12) AS p_alive,
       round(((2.8 + 6) / (0.66 + 2.8 + 6))::numeric, 12) AS formula;

-- -------------------------------------------------------------------- sBG
-- Fader & Hardie (2007): of 1,000 customers acquired in year 0, those still
-- active at the start of each year.
CREATE TABLE retention (segment text, year int, active int);
INSERT INTO retention
SELECT 'regular', y - 1, v FROM unnest(ARRAY[1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]) WITH ORDINALITY u(v, y)
UNION ALL
SELECT 'high end', y - 1, v FROM unnest(ARRAY[1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]) WITH ORDINALITY u(v, y);
-- One row per customer, from years 0-7: churned in year t, or still active
-- after 7 years.
CREATE TABLE subscribers AS
SELECT r.segment, r.year AS t, true AS churned FROM retention r JOIN retention p ON p.segment = r.segment AND p.year = r.year - 1,
     generate_series(1, p.active - r.active) WHERE r.year BETWEEN 1 AND 7
UNION ALL
SELECT segment, 7, false FROM retention, generate_series(1, active) WHERE year = 7;
-- Published fits on years 0-7: regular alpha 0.704, beta 1.182; high end
-- alpha 0.668, beta 3.806.
CREATE TABLE sbg_fits AS SELECT segment, sbg_fit(t, churned) AS m FROM subscribers GROUP BY segment;
SELECT segment, round((m).alpha::numeric, 3) AS alpha, round((m).beta::numeric, 3) AS beta,
       round((m).log_likelihood::numeric, 1) AS log_likelihood, (m).customers, (m).converged
FROM sbg_fits ORDER BY segment;
-- Projections for years 8-12 (not used in the fit) against what happened:
-- customers still active of 1,000, and the retention rate of the year.
SELECT f.segment, r.year, r.active AS actual, round((1000 * sbg_survival(m, r.year))::numeric, 1) AS projected,
       round(sbg_retention(m, r.year)::numeric, 4) AS retention
FROM sbg_fits f JOIN retention r USING (segment) WHERE r.year >= 8 ORDER BY f.segment, r.year;
-- Survival is the product of the retention rates.
SELECT segment, bool_and(abs(sbg_survival(m, t) - (SELECT exp(sum(ln(sbg_retention(m, k)))) FROM generate_series(1, t) k)) < 1e-12)
       AS survival_is_product
FROM sbg_fits, generate_series(1, 12) t GROUP BY segment ORDER BY segment;
-- Discounted expected residual lifetime at 10 % a year, after 0, 4 and 7
-- renewals (payments expected), and its definition summed directly.
SELECT segment, n AS renewals, round(sbg_derl(m, n, 0.1)::numeric, 4) AS derl,
       round((SELECT sum(sbg_survival(m, n + k) / sbg_survival(m, n) / 1.1 ^ (k - 1)) FROM generate_series(1, 2000) k)::numeric, 4)
           AS summed
FROM sbg_fits, unnest(ARRAY[0, 4, 7]) n ORDER BY segment, n;

-- ------------------------------------------------------------- covariates
-- CDNOW with the acquisition month as covariates (dummies for February and
-- March; January is the reference customer, z = 0).
CREATE TABLE mbg_cohort AS
SELECT c.*, ARRAY[(extract(month FROM f.first_order) = 2)::int, (extract(month FROM f.first_order) = 3)::int]::float8[] AS z,
       extract(month FROM f.first_order) AS cohort
FROM mbg_cal c JOIN (SELECT f[2]::int AS customer, min(to_date(f[3], 'YYYYMMDD')) AS first_order
                     FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM mbg_lines) t GROUP BY 1) f USING (customer);
CREATE TABLE cov_fits AS
SELECT (SELECT bgnbd_cov_fit(x, t_x, t_cal, z) FROM mbg_cohort) AS bg, (SELECT pareto_nbd_cov_fit(x, t_x, t_cal, z) FROM mbg_cohort) AS pn;
SELECT round((bg).r::numeric, 3) AS r, round((bg).alpha::numeric, 3) AS alpha, round((bg).a::numeric, 3) AS a,
       round((bg).b::numeric, 3) AS b, (SELECT array_agg(round(g::numeric, 3)) FROM unnest((bg).gamma_purchase) g) AS gamma_purchase,
       (SELECT array_agg(round(g::numeric, 3)) FROM unnest((bg).gamma_dropout) g) AS gamma_dropout,
       round((bg).log_likelihood::numeric, 1) AS log_likelihood, (bg).customers, (bg).converged
FROM cov_fits;
SELECT round((pn).r::numeric, 3) AS r, round((pn).alpha::numeric, 3) AS alpha, round((pn).s::numeric, 3) AS s,
       round((pn).beta::numeric, 3) AS beta, (pn).converged, round((pn).log_likelihood::numeric, 1) AS log_likelihood
FROM cov_fits;
-- Nested models: one model for all <= covariates <= one model per cohort.
SELECT (SELECT (bgnbd_fit(x, t_x, t_cal)).log_likelihood FROM mbg_cohort) <= (bg).log_likelihood AS above_one_model,
       (bg).log_likelihood <= (SELECT sum((m).log_likelihood) FROM (SELECT bgnbd_fit(x, t_x, t_cal) AS m FROM mbg_cohort GROUP BY cohort) g)
           AS below_one_per_cohort,
       (SELECT (pareto_nbd_fit(x, t_x, t_cal)).log_likelihood FROM mbg_cohort) <= (pn).log_likelihood AS pareto_above_one_model
FROM cov_fits;
-- The reference customer's model has the fitted alpha and b (beta); a
-- March customer's alpha is alpha exp(-gamma_purchase[2]).
SELECT bgnbd_model(bg, '{0,0}') = bgnbd_model((bg).r, (bg).alpha, (bg).a, (bg).b) AS reference_bg,
       pareto_nbd_model(pn, '{0,0}') = pareto_nbd_model((pn).r, (pn).alpha, (pn).s, (pn).beta) AS reference_pareto,
       abs((bgnbd_model(bg, '{0,1}')).alpha - (bg).alpha * exp(-(bg).gamma_purchase[2])) < 1e-12 AS march_alpha,
       abs((pareto_nbd_model(pn, '{1,0}')).beta - (pn).beta * exp(-(pn).gamma_dropout[1])) < 1e-12 AS february_beta
FROM cov_fits;
-- Predictions per customer through the customer's own model.
SELECT cohort, count(*) AS customers, round(avg(bgnbd_p_alive(bgnbd_model(bg, z), x, t_x, t_cal))::numeric, 4) AS mean_p_alive,
       round(sum(bgnbd_expected(bgnbd_model(bg, z), 39, x, t_x, t_cal))::numeric, 1) AS expected_39,
       round(sum(pareto_nbd_expected(pareto_nbd_model(pn, z), 39, x, t_x, t_cal))::numeric, 1) AS pareto_expected_39
FROM mbg_cohort, cov_fits GROUP BY cohort ORDER BY cohort;

-- ------------------------------------- parallel plans equal serial ones
CREATE TABLE mbg_many AS SELECT c.*, k FROM mbg_cal c, generate_series(1, 5) k;
CREATE TABLE donors_many AS SELECT d.*, k FROM donors d, generate_series(1, 3) k;
CREATE TABLE subscribers_many AS SELECT s.*, k FROM subscribers s, generate_series(1, 20) k;
CREATE TABLE cohort_many AS SELECT c.*, k FROM mbg_cohort c, generate_series(1, 2) k;
ANALYZE cohort_many;
ANALYZE mbg_many;
ANALYZE donors_many;
ANALYZE subscribers_many;
CREATE TABLE serial_fits AS
SELECT (SELECT mbgnbd_fit(x, t_x, t_cal) FROM mbg_many) AS mbg,
       (SELECT bgbb_fit(frequency, recency, periods) FROM donors_many) AS bb,
       (SELECT sbg_fit(t, churned) FROM subscribers_many WHERE segment = 'regular') AS sbg,
       (SELECT bgnbd_cov_fit(x, t_x, t_cal, z) FROM cohort_many) AS cov;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
SELECT current_setting('server_version_num')::int >= 160000 AS pg16 \gset
\if :pg16
SET debug_parallel_query = on;
\else
SET force_parallel_mode = on;
\endif
EXPLAIN (COSTS OFF) SELECT bgbb_fit(frequency, recency, periods) FROM donors_many;
SELECT (SELECT mbgnbd_fit(x, t_x, t_cal) FROM mbg_many) = mbg AS mbgnbd_equal,
       (SELECT bgbb_fit(frequency, recency, periods) FROM donors_many) = bb AS bgbb_equal,
       (SELECT sbg_fit(t, churned) FROM subscribers_many WHERE segment = 'regular') = sbg AS sbg_equal,
       (SELECT bgnbd_cov_fit(x, t_x, t_cal, z) FROM cohort_many) = cov AS covariates_equal,
       (bb).customers AS bgbb_customers, (sbg).customers AS sbg_customers
FROM serial_fits;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
\if :pg16
RESET debug_parallel_query;
\else
RESET force_parallel_mode;
\endif

-- ------------------------------------------------------- NULLs and errors
-- Aggregates skip rows with a NULL argument; empty input gives NULL;
-- prediction functions are STRICT.
SELECT bgbb_fit(x, t_x, n) IS NULL AS bgbb_all_null, sbg_fit(t, c) IS NULL AS sbg_all_null,
       mbgnbd_fit(x, t_x, n) IS NULL AS mbgnbd_all_null
FROM (VALUES (NULL::float8, 0::float8, 6::float8, NULL::float8, true), (1, NULL, 6, 2, NULL)) v(x, t_x, n, t, c);
SELECT (bgbb_fit(frequency, recency, periods)).customers AS bgbb_nulls_skipped
FROM (SELECT frequency, recency, periods FROM donors UNION ALL SELECT NULL, 1, 6 UNION ALL SELECT 1, 1, NULL) v;
SELECT bgbb_p_alive(NULL, 1, 1, 6) IS NULL AS bgbb_strict, sbg_survival(NULL, 3) IS NULL AS sbg_strict,
       mbgnbd_expected(NULL, 39) IS NULL AS mbgnbd_strict, sbg_derl(sbg_model(0.7, 1.2), NULL, 0.1) IS NULL AS derl_strict;
SELECT bgbb_model(1.204, 0.75, 0.657, 2.783), sbg_model(0.704, 1.182), mbgnbd_model(0.525, 6.183, 0.891, 1.614);
CREATE FUNCTION models_error(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT q AS query, models_error(q) AS error FROM (VALUES
    ($$SELECT bgbb_fit(3, 2, 6)$$),
    ($$SELECT bgbb_fit(0, 1, 6)$$),
    ($$SELECT bgbb_fit(2, 7, 6)$$),
    ($$SELECT bgbb_fit(1.5, 2, 6)$$),
    ($$SELECT bgbb_fit(0, 0, 6)$$),
    ($$SELECT bgbb_fit(6, 6, 6)$$),
    ($$SELECT bgbb_fit(1, 2, 6, -1)$$),
    ($$SELECT sbg_fit(0, true)$$),
    ($$SELECT sbg_fit(2.5, false)$$),
    ($$SELECT sbg_fit(5, false)$$),
    ($$SELECT sbg_fit(1, true)$$),
    ($$SELECT mbgnbd_fit(0, 0, 5)$$),
    ($$SELECT bgbb_model(1, 0, 1, 1)$$),
    ($$SELECT sbg_model('NaN', 1)$$),
    ($$SELECT mbgnbd_model(1, 1, 1, 'Infinity')$$),
    ($$SELECT bgbb_probability(bgbb_model(1, 1, 1, 1), 7, 6)$$),
    ($$SELECT bgbb_expected(bgbb_model(1, 1, 1, 1), -1, 1, 1, 6)$$),
    ($$SELECT sbg_retention(sbg_model(0.7, 1.2), 0)$$),
    ($$SELECT sbg_derl(sbg_model(0.7, 1.2), 3, 0)$$),
    ($$SELECT sbg_survival(sbg_model(0.7, 1.2), 1e7)$$),
    ($$SELECT mbgnbd_p_alive(mbgnbd_model(0.5, 6, 0.9, 1.6), 1, 3, 2)$$),
    ($$SELECT sbg_survival(ROW(0.7, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::sbg_model, 3)$$),
    ($$SELECT bgnbd_cov_fit(x, t_x, t_cal, CASE WHEN x > 3 THEN '{1}' ELSE '{1,2}' END::float8[]) FROM mbg_cal$$),
    ($$SELECT bgnbd_cov_fit(x, t_x, t_cal, ARRAY[1]) FROM mbg_cal$$),
    ($$SELECT pareto_nbd_cov_fit(2, 1, 5, ARRAY['NaN'::float8])$$),
    ($$SELECT bgnbd_cov_fit(2, 1, 5, ARRAY[NULL::float8])$$),
    ($$SELECT bgnbd_cov_fit(2, 1, 5, '{}')$$),
    ($$SELECT bgnbd_model(bg, '{1}') FROM cov_fits$$),
    ($$SELECT pareto_nbd_model(pn, '{1e300,0}') FROM cov_fits$$)
) v(q);

DROP FUNCTION models_error(text);
DROP TABLE mbg_cohort, cov_fits, cohort_many, mbg_lines, mbg_cal, mbg_model, donations, donors, bgbb_fitted, retention, subscribers, sbg_fits, mbg_many,
           donors_many, subscribers_many, serial_fits;
RESET ROLE;
