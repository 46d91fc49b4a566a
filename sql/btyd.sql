-- Buy-Till-You-Die models from SQL: the published CDNOW figures reproduced
-- from the raw transactions, predictions checked against closed forms,
-- parallel plans, per-group fits, NULLs and bad input.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never
SET extra_float_digits = 0;
SET datestyle = 'ISO, YMD';

-- The CDNOW sample (2,357 customers), read in place from ../shared/data.
CREATE TABLE btyd_lines (line text);
\copy btyd_lines FROM '../shared/data/cdnow/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE btyd_orders AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD') AS order_date, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM btyd_lines) t;

-- Calibration period 1997-01-01 .. 1997-09-30, time unit weeks: one
-- (x, t_x, t_cal) per customer from the summary of the orders up to the end
-- of the calibration period.
CREATE TABLE btyd_cal AS
SELECT customer, (i).x, (i).t_x, (i).t_cal
FROM (SELECT customer, btyd_inputs(rfm_agg(order_date, amount), DATE '1997-09-30', 'week') AS i
      FROM btyd_orders WHERE order_date <= DATE '1997-09-30' GROUP BY customer) s;
SELECT count(*) AS customers, count(*) FILTER (WHERE x = 0) AS without_repeat, sum(x) AS repeat_purchases,
       max(x) AS max_x, round(avg(t_cal)::numeric, 4) AS mean_t_cal
FROM btyd_cal;
-- Customer 1 bought on 1997-01-01, 01-18 and 08-02 (and after the period).
SELECT customer, x, round(t_x::numeric, 4) AS t_x, round(t_cal::numeric, 4) AS t_cal FROM btyd_cal WHERE customer <= 3
ORDER BY customer;

-- Spend: per customer with repeat purchases, the mean value of the repeat
-- purchase days in the calibration period (rfm_agg over the orders after
-- the first purchase day: several orders on one day are one purchase).
CREATE TABLE btyd_spend AS
SELECT customer, (s).purchase_days AS x, (s).monetary / (s).purchase_days AS mean_spend
FROM (SELECT customer, rfm_agg(order_date, amount) FILTER (WHERE order_date > first_day) AS s
      FROM (SELECT customer, order_date, amount, min(order_date) OVER (PARTITION BY customer) AS first_day
            FROM btyd_orders WHERE order_date <= DATE '1997-09-30') o
      GROUP BY customer) r
WHERE s IS NOT NULL;
SELECT count(*) AS customers, count(*) FILTER (WHERE s.x = c.x) AS same_x, round(avg(mean_spend), 4) AS mean_spend
FROM btyd_spend s JOIN btyd_cal c USING (customer);

-- The fits. Published (Fader, Hardie & Lee 2005): BG/NBD r = 0.243,
-- alpha = 4.414, a = 0.793, b = 2.426, LL -9582.4; Pareto/NBD r = 0.553,
-- alpha = 10.578, s = 0.606, beta = 11.669, LL -9595.0; Gamma-Gamma
-- (946 customers) p = 6.25, q = 3.74, gamma = 15.44, LL -4055.9.
CREATE TABLE btyd_models AS
SELECT (SELECT bgnbd_fit(x, t_x, t_cal) FROM btyd_cal) AS bg,
       (SELECT pareto_nbd_fit(x, t_x, t_cal) FROM btyd_cal) AS pn,
       (SELECT gamma_gamma_fit(x, mean_spend) FROM btyd_spend) AS gg;
SELECT round((bg).r::numeric, 3) AS r, round((bg).alpha::numeric, 3) AS alpha, round((bg).a::numeric, 3) AS a,
       round((bg).b::numeric, 3) AS b, round((bg).log_likelihood::numeric, 1) AS log_likelihood,
       (bg).customers, (bg).converged, (bg).iterations > 0 AS iterated
FROM btyd_models;
SELECT round((pn).r::numeric, 3) AS r, round((pn).alpha::numeric, 3) AS alpha, round((pn).s::numeric, 3) AS s,
       round((pn).beta::numeric, 3) AS beta, round((pn).log_likelihood::numeric, 1) AS log_likelihood,
       (pn).customers, (pn).converged, (pn).iterations > 0 AS iterated
FROM btyd_models;
SELECT round((gg).p::numeric, 2) AS p, round((gg).q::numeric, 2) AS q, round((gg).gamma::numeric, 2) AS gamma,
       round((gg).log_likelihood::numeric, 1) AS log_likelihood, (gg).customers, (gg).converged,
       (gg).iterations > 0 AS iterated
FROM btyd_models;

-- Published conditional expectation (FHL 2005): x = 2, t_x = 30.43,
-- t_cal = 38.86 expects 1.226 purchases in the next 39 weeks.
SELECT round(bgnbd_expected(bgnbd_model(0.243, 4.414, 0.793, 2.426), 39, 2, 30.43, 38.86)::numeric, 3) AS expected;

-- Predictions against their closed forms, for every customer:
--   BG/NBD P(alive) = 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)), 1 when x = 0;
--   repurchase score = 100 P(alive) (1 - ((alpha + T) / (alpha + T + t))^(r + x));
--   Pareto/NBD E[Y(t)] = P(alive) (r + x)(beta + T) / ((alpha + T)(s - 1)) (1 - ((beta + T) / (beta + T + t))^(s - 1));
--   Gamma-Gamma E[spend] = p (gamma + x z) / (p x + q - 1).
SELECT count(*) AS customers,
       count(*) FILTER (WHERE abs(bgnbd_p_alive(bg, x, t_x, t_cal) - CASE WHEN x = 0 THEN 1 ELSE
           1 / (1 + (bg).a / ((bg).b + x - 1) * (((bg).alpha + t_cal) / ((bg).alpha + t_x)) ^ ((bg).r + x)) END) < 1e-12)
           AS p_alive_agrees,
       count(*) FILTER (WHERE abs(bgnbd_repurchase_score(bg, 39, x, t_x, t_cal) - 100 * bgnbd_p_alive(bg, x, t_x, t_cal)
           * (1 - (((bg).alpha + t_cal) / ((bg).alpha + t_cal + 39)) ^ ((bg).r + x))) < 1e-10) AS score_agrees,
       count(*) FILTER (WHERE abs(pareto_nbd_expected(pn, 39, x, t_x, t_cal) - pareto_nbd_p_alive(pn, x, t_x, t_cal)
           * ((pn).r + x) * ((pn).beta + t_cal) / (((pn).alpha + t_cal) * ((pn).s - 1))
           * (1 - (((pn).beta + t_cal) / ((pn).beta + t_cal + 39)) ^ ((pn).s - 1))) < 1e-12) AS pareto_expected_agrees,
       count(*) FILTER (WHERE bgnbd_p_alive(bg, x, t_x, t_cal) BETWEEN 0 AND 1
                          AND pareto_nbd_p_alive(pn, x, t_x, t_cal) BETWEEN 0 AND 1
                          AND bgnbd_repurchase_score(bg, 39, x, t_x, t_cal) BETWEEN 0 AND 100
                          AND pareto_nbd_repurchase_score(pn, 39, x, t_x, t_cal) BETWEEN 0 AND 100) AS in_range
FROM btyd_cal, btyd_models;
SELECT count(*) AS customers, count(*) FILTER (WHERE abs(gamma_gamma_expected_spend(gg, x, mean_spend)
           - (gg).p * ((gg).gamma + x * mean_spend) / ((gg).p * x + (gg).q - 1)) < 1e-9) AS spend_agrees
FROM btyd_spend, btyd_models;
-- A customer without repeat purchases gets the population mean p gamma / (q - 1).
SELECT round(gamma_gamma_expected_spend(gg, 0, NULL)::numeric, 3) AS population_mean,
       round(((gg).p * (gg).gamma / ((gg).q - 1))::numeric, 3) AS formula
FROM btyd_models;
-- New customers: expected repeat purchases in their first 39 and 78 weeks.
SELECT round(bgnbd_expected(bg, 39)::numeric, 4) AS bgnbd_39, round(bgnbd_expected(bg, 78)::numeric, 4) AS bgnbd_78,
       round(pareto_nbd_expected(pn, 39)::numeric, 4) AS pareto_39, round(pareto_nbd_expected(pn, 78)::numeric, 4) AS pareto_78
FROM btyd_models;

-- Holdout: repeat purchase days in the 39 weeks after the calibration
-- period, against the sum of the models' conditional expectations.
SELECT (SELECT count(DISTINCT (customer, order_date)) FROM btyd_orders
        WHERE order_date > DATE '1997-09-30' AND order_date <= DATE '1998-06-30') AS actual,
       round(sum(bgnbd_expected(bg, 39, x, t_x, t_cal))::numeric, 1) AS bgnbd_expected,
       round(sum(pareto_nbd_expected(pn, 39, x, t_x, t_cal))::numeric, 1) AS pareto_nbd_expected
FROM btyd_cal, btyd_models;

-- Top customers by expected purchases in the next 39 weeks.
SELECT customer, x, round(t_x::numeric, 2) AS t_x, round(t_cal::numeric, 2) AS t_cal,
       round(bgnbd_p_alive(bg, x, t_x, t_cal)::numeric, 4) AS p_alive,
       round(bgnbd_expected(bg, 39, x, t_x, t_cal)::numeric, 4) AS expected_39,
       round(bgnbd_repurchase_score(bg, 39, x, t_x, t_cal)::numeric, 1) AS score,
       round(pareto_nbd_p_alive(pn, x, t_x, t_cal)::numeric, 4) AS pareto_p_alive,
       round(pareto_nbd_expected(pn, 39, x, t_x, t_cal)::numeric, 4) AS pareto_expected_39
FROM btyd_cal, btyd_models
ORDER BY bgnbd_expected(bg, 39, x, t_x, t_cal) DESC, customer LIMIT 5;

-- CLV over the next 12 months (period_length = 52/12 weeks), monthly
-- discount rate 1 %, spend per purchase from the Gamma-Gamma model.
CREATE TABLE btyd_clv AS
SELECT c.customer, c.x, s.mean_spend, gamma_gamma_expected_spend(gg, c.x, s.mean_spend) AS spend,
       clv(bg, c.x, c.t_x, c.t_cal, gamma_gamma_expected_spend(gg, c.x, s.mean_spend), 12, 0.01, 52.0 / 12) AS clv,
       clv(pn, c.x, c.t_x, c.t_cal, gamma_gamma_expected_spend(gg, c.x, s.mean_spend), 12, 0.01, 52.0 / 12) AS pareto_clv
FROM btyd_cal c LEFT JOIN btyd_spend s USING (customer), btyd_models;
SELECT customer, x, round(mean_spend, 2) AS mean_spend, round(spend::numeric, 2) AS expected_spend,
       round(clv::numeric, 2) AS clv, round(pareto_clv::numeric, 2) AS pareto_clv
FROM btyd_clv WHERE customer <= 5 OR customer IN (SELECT customer FROM btyd_clv ORDER BY clv DESC LIMIT 3)
ORDER BY customer;
SELECT count(*) AS customers, round(sum(clv)::numeric, 0) AS total_clv, round(sum(pareto_clv)::numeric, 0) AS total_pareto_clv
FROM btyd_clv;
-- CLV is the discounted sum of the per-period increments of E[Y(t)]; with
-- no discount it telescopes to spend * E[Y(12 L)].
SELECT count(*) FILTER (WHERE abs(clv(bg, x, t_x, t_cal, 35, 12, 0, 52.0 / 12) - 35 * bgnbd_expected(bg, 52, x, t_x, t_cal)) < 1e-9)
           AS undiscounted_agrees,
       count(*) FILTER (WHERE abs(clv(pn, x, t_x, t_cal, 35, 12, 0.01, 4) - (
           SELECT sum(35 * (pareto_nbd_expected(pn, 4 * k, x, t_x, t_cal) - pareto_nbd_expected(pn, 4 * (k - 1), x, t_x, t_cal))
                      / 1.01 ^ k) FROM generate_series(1, 12) k)) < 1e-9) AS discounted_agrees
FROM btyd_cal, btyd_models WHERE customer <= 50;

-- Per-group fits with GROUP BY: one model per acquisition cohort (month of
-- the first purchase), equal to the fit of each cohort alone.
CREATE TABLE btyd_cohorts AS
SELECT c.*, date_trunc('month', f.first_order)::date AS cohort
FROM btyd_cal c JOIN (SELECT customer, min(order_date) AS first_order FROM btyd_orders GROUP BY customer) f USING (customer);
CREATE TABLE btyd_cohort_fits AS SELECT cohort, bgnbd_fit(x, t_x, t_cal) AS m FROM btyd_cohorts GROUP BY cohort;
SELECT cohort, (m).customers, round((m).r::numeric, 3) AS r, round((m).alpha::numeric, 3) AS alpha,
       round((m).a::numeric, 3) AS a, round((m).b::numeric, 3) AS b, round((m).log_likelihood::numeric, 1) AS log_likelihood,
       (m).converged
FROM btyd_cohort_fits ORDER BY cohort;
SELECT count(*) AS cohorts,
       count(*) FILTER (WHERE m = (SELECT bgnbd_fit(x, t_x, t_cal) FROM btyd_cohorts c WHERE c.cohort = f.cohort)) AS equal
FROM btyd_cohort_fits f;
SELECT cohort, round((pareto_nbd_fit(x, t_x, t_cal)).log_likelihood::numeric, 1) AS pareto_log_likelihood
FROM btyd_cohorts GROUP BY cohort ORDER BY cohort;

-- Memory and time follow the distinct triples: 20 copies of every customer
-- give the same estimates and 20 times the log-likelihood.
CREATE TABLE btyd_many AS SELECT c.*, k FROM btyd_cal c, generate_series(1, 20) k;
CREATE TABLE btyd_many_spend AS SELECT s.*, k FROM btyd_spend s, generate_series(1, 20) k;
ANALYZE btyd_many;
ANALYZE btyd_many_spend;
CREATE TABLE btyd_serial AS
SELECT (SELECT bgnbd_fit(x, t_x, t_cal) FROM btyd_many) AS bg,
       (SELECT pareto_nbd_fit(x, t_x, t_cal) FROM btyd_many) AS pn,
       (SELECT gamma_gamma_fit(x, mean_spend) FROM btyd_many_spend) AS gg;
SELECT (s.bg).customers, round((s.bg).r::numeric, 6) = round((m.bg).r::numeric, 6) AS same_r,
       round((s.bg).alpha::numeric, 4) = round((m.bg).alpha::numeric, 4) AS same_alpha,
       round((s.bg).a::numeric, 5) = round((m.bg).a::numeric, 5) AS same_a,
       round((s.bg).b::numeric, 4) = round((m.bg).b::numeric, 4) AS same_b,
       round(((s.bg).log_likelihood / 20)::numeric, 6) = round((m.bg).log_likelihood::numeric, 6) AS twenty_times_ll,
       (s.gg).customers AS spend_customers, round((s.gg).p::numeric, 2) AS p, round((s.pn).s::numeric, 3) AS s
FROM btyd_serial s, btyd_models m;

-- A forced parallel plan (partial states in the workers, serialized and
-- combined) gives exactly the serial results.
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
EXPLAIN (COSTS OFF) SELECT bgnbd_fit(x, t_x, t_cal) FROM btyd_many;
SELECT (SELECT bgnbd_fit(x, t_x, t_cal) FROM btyd_many) = bg AS bgnbd_equal,
       (SELECT pareto_nbd_fit(x, t_x, t_cal) FROM btyd_many) = pn AS pareto_nbd_equal,
       (SELECT gamma_gamma_fit(x, mean_spend) FROM btyd_many_spend) = gg AS gamma_gamma_equal
FROM btyd_serial;
EXPLAIN (COSTS OFF) SELECT k % 3, bgnbd_fit(x, t_x, t_cal) FROM btyd_many GROUP BY 1;
CREATE TEMP TABLE btyd_parallel_groups AS SELECT k % 3 AS g, bgnbd_fit(x, t_x, t_cal) AS m FROM btyd_many GROUP BY 1;
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
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE m = (SELECT bgnbd_fit(x, t_x, t_cal) FROM btyd_many WHERE k % 3 = p.g)) AS equal_to_serial
FROM btyd_parallel_groups p;
RESET max_parallel_workers_per_gather;

-- The l2 penalty shrinks the log-parameters towards 0; the reported
-- log-likelihood is the unpenalised one, so it drops.
SELECT round((m).r::numeric, 3) AS r, round((m).alpha::numeric, 3) AS alpha, round((m).a::numeric, 3) AS a,
       round((m).b::numeric, 3) AS b, (m).log_likelihood < (bg).log_likelihood AS lower_log_likelihood, (m).converged
FROM (SELECT bgnbd_fit(x, t_x, t_cal, 1) AS m FROM btyd_cal) f, btyd_models;
SELECT (SELECT bgnbd_fit(x, t_x, t_cal, 0) FROM btyd_cal) = bg AS zero_penalty_is_plain,
       (SELECT pareto_nbd_fit(x, t_x, t_cal, 0.01) FROM btyd_cal).converged AS pareto_penalised_converged,
       (SELECT gamma_gamma_fit(x, mean_spend, 0.01) FROM btyd_spend).converged AS gamma_gamma_penalised_converged
FROM btyd_models;

-- A long fit honours statement_timeout (and so query cancellation): 100,000
-- synthetic customers with 37,925 distinct triples take seconds to
-- fit; the fit stops within an optimizer iteration of the timeout.
SET statement_timeout = '300ms';
SELECT pareto_nbd_fit(x, CASE WHEN x = 0 THEN 0 ELSE (g % (age + 1)) / 7.0 END, age / 7.0)
FROM (SELECT abs(hashint4(i)) % 1000 AS age, abs(hashint4(i * 7 + 1)) % 1000 AS g,
             CASE WHEN abs(hashint4(i * 13 + 5)) % 100 < 60 THEN 0 ELSE abs(hashint4(i * 17 + 3)) % 15 END AS x
      FROM generate_series(1, 100000) i) s;
RESET statement_timeout;

-- Time units and the date form of btyd_inputs (a month is 30.4375 days).
SELECT u, (btyd_inputs(DATE '2024-01-01', DATE '2024-03-01', 3, DATE '2024-12-31', u)).*
FROM unnest(ARRAY['day', 'Weeks', 'MONTH']) u;
SELECT (btyd_inputs(DATE '2024-01-01', DATE '2024-01-01', 1, DATE '2024-01-01')).* AS first_purchase_on_cal_end;

-- Degenerate data: a fit that cannot converge reports converged = false
-- with finite parameters, never NaN.
SELECT (m).customers, (m).converged, (m).r > 0 AND (m).alpha > 0 AND (m).a > 0 AND (m).b > 0 AS positive,
       (m).log_likelihood > '-Infinity' AND (m).log_likelihood < 'Infinity' AS finite_log_likelihood
FROM (SELECT bgnbd_fit(2, 10, 20) AS m) one_customer;
SELECT (m).customers, (m).converged, (m).r > 0 AND (m).alpha > 0 AND (m).s > 0 AND (m).beta > 0 AS positive
FROM (SELECT pareto_nbd_fit(2, 10, 20) AS m FROM generate_series(1, 100)) identical_customers;
SELECT (m).customers, (m).converged, (m).p > 0 AND (m).q > 0 AND (m).gamma > 0 AS positive
FROM (SELECT gamma_gamma_fit(2, 10) AS m FROM generate_series(1, 100)) identical_spend;

-- The boundary of the Pareto/NBD: 3,000 customers who buy like clockwork
-- (every k days from their first purchase, k from 3 to 122 days) show no
-- sign of dropout, and the likelihood rises towards s/beta -> 0. The fit
-- stops there quickly, reports converged = false with boundary 'no dropout',
-- and its predictions are those of the limiting model: everybody alive and
-- E[Y(t)] = (r + x) t / (alpha + t_cal).
CREATE TABLE btyd_regular AS
SELECT i, floor((372 - f) / k) AS x, floor((372 - f) / k) * k / 7.0 AS t_x, (372 - f) / 7.0 AS t_cal
FROM (SELECT i, 3 + abs(hashint4(i)) % 120 AS k, abs(hashint4(i * 7 + 3)) % 330 AS f
      FROM generate_series(1, 3000) i) s;
SELECT clock_timestamp() AS fit_start \gset
CREATE TABLE btyd_boundary AS SELECT pareto_nbd_fit(x, t_x, t_cal) AS m FROM btyd_regular;
SELECT clock_timestamp() - :'fit_start'::timestamptz < interval '1 s' AS within_a_second;
-- No dropout: the oldest customer's prior probability of having dropped
-- out, 1 - (1 + t_cal / beta)^-s, is below 1e-6.
SELECT (m).customers, (m).converged, (m).boundary, round((m).r::numeric, 3) AS r,
       round((m).alpha::numeric, 3) AS alpha,
       (m).s * ln(1 + (SELECT max(t_cal) FROM btyd_regular) / (m).beta) < 1e-6 AS dropout_vanishes,
       round((m).log_likelihood::numeric, 1) AS log_likelihood
FROM btyd_boundary;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE pareto_nbd_p_alive(m, x, t_x, t_cal) > 1 - 1e-6) AS alive,
       count(*) FILTER (WHERE abs(pareto_nbd_expected(m, 52, x, t_x, t_cal) - ((m).r + x) * 52 / ((m).alpha + t_cal))
                              < 1e-6 * pareto_nbd_expected(m, 52, x, t_x, t_cal)) AS limit_expectation
FROM btyd_regular, btyd_boundary;
SELECT (pareto_nbd_fit(x, t_x, t_cal)).boundary IS NULL AS cdnow_interior FROM btyd_cal;

-- NULLs: aggregates skip rows with a NULL argument (an empty or all-NULL
-- input gives NULL); Gamma-Gamma also skips x = 0; functions are STRICT
-- except gamma_gamma_expected_spend, where x = 0 needs no mean spend.
SELECT bgnbd_fit(x, t_x, t_cal) IS NULL AS bgnbd_all_null, pareto_nbd_fit(x, t_x, t_cal) IS NULL AS pareto_all_null
FROM (VALUES (NULL, 0, 5), (1, NULL, 3), (1, 1, NULL)) v(x, t_x, t_cal);
SELECT bgnbd_fit(x, t_x, t_cal) IS NULL AS bgnbd_empty, gamma_gamma_fit(x, 10.0) IS NULL AS gamma_gamma_empty
FROM btyd_cal WHERE false;
SELECT (gamma_gamma_fit(x, s)).customers AS spend_customers
FROM (VALUES (0, -5.0), (0, NULL), (NULL, 3.0), (1, 10.0), (2, 12.0), (3, 9.5)) v(x, s);
SELECT (bgnbd_fit(x, t_x, t_cal)).customers AS customers_with_nulls_skipped
FROM (SELECT x, t_x, t_cal FROM btyd_cal UNION ALL SELECT NULL, 1, 2 UNION ALL SELECT 1, 1, NULL) v;
SELECT btyd_inputs(NULL::rfm_summary, DATE '1997-09-30') IS NULL AS null_summary,
       btyd_inputs(ROW(NULL, NULL, 0, 0, -5.0, 1)::rfm_summary, DATE '1997-09-30') IS NULL AS only_refunds,
       btyd_inputs(ROW(DATE '1997-01-01', DATE '1997-01-01', 1, 1, 5.0, 0)::rfm_summary, NULL) IS NULL AS null_cal_end,
       btyd_inputs(DATE '1997-01-01', NULL, 1, DATE '1997-09-30', 'week') IS NULL AS null_last_order,
       btyd_inputs(DATE '1997-01-01', DATE '1997-01-01', 1, DATE '1997-09-30', NULL) IS NULL AS null_unit;
SELECT bgnbd_p_alive(NULL, 1, 1, 2) IS NULL AS p_alive, bgnbd_expected(bg, NULL, 1, 1, 2) IS NULL AS expected,
       bgnbd_expected(bg, NULL) IS NULL AS expected_new, bgnbd_repurchase_score(bg, 39, 1, NULL, 2) IS NULL AS score,
       pareto_nbd_p_alive(pn, 1, 1, NULL) IS NULL AS pareto_p_alive,
       pareto_nbd_expected(pn, 39, NULL, 1, 2) IS NULL AS pareto_expected,
       pareto_nbd_repurchase_score(NULL, 39, 1, 1, 2) IS NULL AS pareto_score,
       gamma_gamma_expected_spend(NULL, 1, 10) IS NULL AS spend_null_model,
       gamma_gamma_expected_spend(gg, 2, NULL) IS NULL AS spend_null_mean,
       clv(bg, 1, 1, 2, NULL, 12, 0.01) IS NULL AS clv, clv(pn, 1, 1, 2, 35, NULL, 0.01) IS NULL AS pareto_clv
FROM btyd_models;
-- Models from stored parameters; every constructor is STRICT.
SELECT bgnbd_model(0.243, 4.414, 0.793, 2.426), pareto_nbd_model(0.553, 10.578, 0.606, 11.669),
       gamma_gamma_model(6.25, 3.74, 15.44), bgnbd_model(NULL, 1, 1, 1) IS NULL AS strict;

-- Bad input: errors with SQLSTATE 22023 (invalid parameter value), 22004
-- (null value not allowed), 22000 (data exception: nothing to estimate) or
-- 22003 (numeric value out of range).
CREATE FUNCTION btyd_error(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT q AS query, btyd_error(q) AS error FROM (VALUES
    -- btyd_inputs
    ($$SELECT btyd_inputs(ROW('1997-01-01', '1997-12-01', 2, 2, 10.0, 0)::rfm_summary, '1997-09-30')$$),
    ($$SELECT btyd_inputs(ROW('1997-01-01', '1997-01-01', 1, 1, 10.0, 0)::rfm_summary, '1997-09-30', 'fortnight')$$),
    ($$SELECT btyd_inputs(ROW('1997-01-01', '1997-01-01', 1, 1, 10.0, 0)::rfm_summary, 'infinity')$$),
    ($$SELECT btyd_inputs(ROW('1997-01-01', NULL, 1, 1, 10.0, 0)::rfm_summary, '1997-09-30')$$),
    ($$SELECT btyd_inputs('1997-03-01', '1997-01-01', 2, '1997-09-30', 'week')$$),
    ($$SELECT btyd_inputs('1997-01-01', '1997-03-01', 0, '1997-09-30', 'week')$$),
    ($$SELECT btyd_inputs('1997-01-01', '1997-03-01', 1, '1997-09-30', 'week')$$),
    ($$SELECT btyd_inputs('1997-01-01', '1997-01-03', 4, '1997-09-30', 'week')$$),
    ($$SELECT btyd_inputs('-infinity', '1997-03-01', 2, '1997-09-30', 'week')$$),
    -- bgnbd_fit and pareto_nbd_fit
    ($$SELECT bgnbd_fit(-1, 0, 5)$$),
    ($$SELECT bgnbd_fit(1.5, 1, 5)$$),
    ($$SELECT bgnbd_fit('NaN', 1, 5)$$),
    ($$SELECT bgnbd_fit(1, 6, 5)$$),
    ($$SELECT bgnbd_fit(0, 1, 5)$$),
    ($$SELECT pareto_nbd_fit(1, 1, 'Infinity')$$),
    ($$SELECT bgnbd_fit(1, 1, 5, -0.1)$$),
    ($$SELECT bgnbd_fit(1, 1, 5, NULL)$$),
    ($$SELECT pareto_nbd_fit(x, t_x, t_cal, x) FROM btyd_cal$$),
    ($$SELECT bgnbd_fit(0, 0, t_cal) FROM btyd_cal$$),
    ($$SELECT pareto_nbd_fit(0, 0, t_cal) FROM btyd_cal$$),
    ($$SELECT bgnbd_fit(1, 0, 0)$$),
    -- gamma_gamma_fit
    ($$SELECT gamma_gamma_fit(1.5, 10)$$),
    ($$SELECT gamma_gamma_fit(-1, 10)$$),
    ($$SELECT gamma_gamma_fit(2, 0)$$),
    ($$SELECT gamma_gamma_fit(2, 'NaN')$$),
    ($$SELECT gamma_gamma_fit(2, 10, 'Infinity')$$),
    -- predictions
    ($$SELECT bgnbd_p_alive(bgnbd_model(-1, 1, 1, 1), 1, 1, 2)$$),
    ($$SELECT bgnbd_p_alive(ROW(0.2, NULL, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL)::bgnbd_model, 1, 1, 2)$$),
    ($$SELECT bgnbd_p_alive(bgnbd_model(0.2, 4, 0.8, 2.4), 1, 3, 2)$$),
    ($$SELECT bgnbd_expected(bgnbd_model(0.2, 4, 0.8, 2.4), -1, 1, 1, 2)$$),
    ($$SELECT bgnbd_expected(bgnbd_model(0.2, 4, 0.8, 2.4), 'Infinity')$$),
    ($$SELECT bgnbd_expected(bgnbd_model(0.2, 4, 0.8, 2.4), 1e12, 1, 1, 2)$$),
    ($$SELECT bgnbd_repurchase_score(bgnbd_model(0.2, 4, 0.8, 2.4), 39, 'NaN', 1, 2)$$),
    ($$SELECT pareto_nbd_p_alive(pareto_nbd_model(0.5, 10, 0, 11), 1, 1, 2)$$),
    ($$SELECT pareto_nbd_expected(pareto_nbd_model(0.5, 10, 0.6, 11), 39, 2, 1, 0.5)$$),
    ($$SELECT pareto_nbd_repurchase_score(pareto_nbd_model(0.5, 10, 0.6, 11), -39, 2, 1, 2)$$),
    ($$SELECT gamma_gamma_expected_spend(gamma_gamma_model(6, 3.7, 15), 2, 0)$$),
    ($$SELECT gamma_gamma_expected_spend(gamma_gamma_model(6, 3.7, 15), 1.5, 10)$$),
    ($$SELECT gamma_gamma_expected_spend(gamma_gamma_model(1, 0.5, 15), 0, NULL)$$),
    ($$SELECT gamma_gamma_expected_spend(gamma_gamma_model(6, 'NaN', 15), 2, NULL)$$),
    ($$SELECT clv(bgnbd_model(0.2, 4, 0.8, 2.4), 1, 1, 2, 35, 0, 0.01)$$),
    ($$SELECT clv(bgnbd_model(0.2, 4, 0.8, 2.4), 1, 1, 2, 35, 100001, 0.01)$$),
    ($$SELECT clv(pareto_nbd_model(0.5, 10, 0.6, 11), 1, 1, 2, 35, 12, -0.01)$$),
    ($$SELECT clv(pareto_nbd_model(0.5, 10, 0.6, 11), 1, 1, 2, 35, 12, 0.01, 0)$$),
    ($$SELECT clv(bgnbd_model(0.2, 4, 0.8, 2.4), 1, 1, 2, -35, 12, 0.01)$$)
) v(q);
-- Messages with detail and hint. Forgetting the calibration filter before
-- rfm_agg is an error, not a silently wrong customer age.
\set VERBOSITY default
SELECT btyd_inputs(rfm_agg(order_date, amount), DATE '1997-09-30') FROM btyd_orders WHERE customer = 1;
SELECT bgnbd_fit(0, 0, 5);
SELECT bgnbd_fit(x, t_x, t_cal, x) FROM btyd_cal;

DROP FUNCTION btyd_error(text);
DROP TABLE btyd_regular, btyd_boundary, btyd_lines, btyd_orders, btyd_cal, btyd_spend, btyd_models, btyd_clv, btyd_cohorts, btyd_cohort_fits,
           btyd_many, btyd_many_spend, btyd_serial;
RESET ROLE;
