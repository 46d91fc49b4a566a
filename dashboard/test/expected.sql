-- The figures the dashboard's pages must show for the demo build
-- (customer_segments over sales), read with SQL written independently of
-- the pages' loaders: one JSON object, "page/row/column" -> {kind, value}.
-- Kinds: int and money must match exactly (money to the cent), pct, num1,
-- num3 and num4 within half a unit of the last digit shown, text exactly.
\set ON_ERROR_STOP on
SELECT as_of, as_of - 7 * 26 AS cal_end FROM segment_builds WHERE target = 'customer_segments'::regclass \gset

WITH checks(key, kind, value) AS (
    -- Segments page: the view, and totals straight from the table.
    SELECT format('segments/%s/%s', segment, c.col), c.kind, c.value
    FROM customer_segments_segment_sizes,
         LATERAL (VALUES ('customers', 'int', customers::text), ('customer_share', 'pct', customer_share::text),
                         ('revenue', 'money', round(revenue, 2)::text), ('revenue_share', 'pct', revenue_share::text)) c(col, kind, value)
    UNION ALL
    SELECT 'segments/total/' || c.col, c.kind, c.value
    FROM (SELECT count(*) AS n, sum(monetary) AS revenue FROM customer_segments) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('revenue', 'money', round(revenue, 2)::text),
                         ('customer_share', 'pct', '1'), ('revenue_share', 'pct', '1')) c(col, kind, value)
    UNION ALL
    SELECT format('classes/%s/%s', coalesce(rfm_class, 'none'), c.col), c.kind, c.value
    FROM (SELECT rfm_class, count(*) AS n, sum(monetary) AS revenue FROM customer_segments GROUP BY 1) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('revenue', 'money', round(revenue, 2)::text)) c(col, kind, value)
    -- R x F grid.
    UNION ALL
    SELECT format('grid/%s%s/%s', r_score, f_score, c.col), c.kind, c.value
    FROM (SELECT r_score, f_score, count(*) AS n, sum(monetary) AS revenue FROM customer_segments
          WHERE r_score IS NOT NULL GROUP BY 1, 2) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('revenue', 'money', round(revenue, 2)::text)) c(col, kind, value)
    UNION ALL
    SELECT 'grid/total/' || c.col, c.kind, c.value
    FROM (SELECT count(*) AS n, sum(monetary) AS revenue FROM customer_segments WHERE r_score IS NOT NULL) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('revenue', 'money', round(revenue, 2)::text)) c(col, kind, value)
    UNION ALL
    SELECT 'grid/unscored/customers', 'int', count(*)::text FROM customer_segments WHERE r_score IS NULL
    -- Lifecycle stages, tiers, quadrants.
    UNION ALL
    SELECT format('stages/%s/%s', lifecycle_stage, c.col), c.kind, c.value
    FROM customer_segments_stage_counts,
         LATERAL (VALUES ('customers', 'int', customers::text), ('customer_share', 'pct', customer_share::text),
                         ('revenue', 'money', round(revenue, 2)::text)) c(col, kind, value)
    UNION ALL
    SELECT 'stages/total/' || c.col, c.kind, c.value
    FROM (SELECT count(*) AS n, sum(monetary) AS revenue FROM customer_segments) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('customer_share', 'pct', '1'),
                         ('revenue', 'money', round(revenue, 2)::text)) c(col, kind, value)
    UNION ALL
    SELECT format('tiers/%s/%s', tier, c.col), c.kind, c.value
    FROM customer_segments_tier_funnel,
         LATERAL (VALUES ('customers', 'int', customers::text), ('customer_share', 'pct', customer_share::text),
                         ('revenue', 'money', round(revenue, 2)::text),
                         ('lowest_spend', 'money', round(lowest_spend, 2)::text)) c(col, kind, value)
    UNION ALL
    SELECT format('quadrants/%s/%s', quadrant, c.col), c.kind, c.value
    FROM customer_segments_quadrant_counts,
         LATERAL (VALUES ('customers', 'int', customers::text), ('customer_share', 'pct', customer_share::text),
                         ('revenue', 'money', round(revenue, 2)::text)) c(col, kind, value)
    -- Migration: the view's cells, and the totals derived independently
    -- from what the build keeps: the previous refresh's statistics, and the
    -- summaries the last refresh replaced (history) or kept (state).
    UNION ALL
    SELECT format('cells/%s→%s/customers', coalesce(from_segment, 'new'), to_segment), 'int', customers::text
    FROM customer_segments_migration
    UNION ALL
    SELECT 'migration/' || c.col || '/customers', 'int', c.value
    FROM (SELECT count(*) AS total,
                 count(*) FILTER (WHERE b.segment IS NULL) AS new,
                 count(*) FILTER (WHERE b.segment = t.segment) AS stayed,
                 count(*) FILTER (WHERE b.segment <> t.segment) AS moved
          FROM customer_segments t
          LEFT JOIN (SELECT s.customer,
                            coalesce(rfm_segment(rfm_score(
                                CASE WHEN h.customer IS NULL
                                     THEN ROW(s.first_order, s.last_order, s.frequency, s.purchase_days, s.monetary,
                                              s.refunds)::rfm_summary
                                     ELSE ROW(h.first_order, h.last_order, h.frequency, h.purchase_days, h.monetary,
                                              h.refunds)::rfm_summary END, p.bins, p.as_of)), 'No purchase') AS segment
                     FROM customer_segments_state s
                     CROSS JOIN (SELECT * FROM customer_segments_statistics
                                 ORDER BY refresh_number DESC OFFSET 1 LIMIT 1) p
                     LEFT JOIN customer_segments_history h
                            ON h.customer = s.customer AND h.refresh_number = p.refresh_number + 1
                     WHERE s.first_refresh <= p.refresh_number) b ON b.customer = t.customer) m,
         LATERAL (VALUES ('total', total::text), ('new', new::text), ('stayed', stayed::text), ('moved', moved::text)) c(col, value)
)
SELECT json_object_agg(key, json_build_object('kind', kind, 'value', value) ORDER BY key) FROM checks \gset checks_

-- The models, the README's way: BG/NBD in weeks on every order up to as_of,
-- Gamma-Gamma on the mean spend of the orders after each first purchase day.
CREATE TEMPORARY TABLE cal AS
SELECT customer_id AS customer, (i).x, (i).t_x, (i).t_cal
FROM (SELECT customer_id, btyd_inputs(rfm_agg(order_date, amount), :'as_of', 'week') AS i
      FROM sales WHERE order_date <= :'as_of' GROUP BY customer_id) s
WHERE i IS NOT NULL;
CREATE TEMPORARY TABLE spend AS
SELECT customer, (s).purchase_days AS x, (s).monetary / (s).purchase_days AS mean_spend
FROM (SELECT customer_id AS customer, rfm_agg(order_date, amount) FILTER (WHERE order_date > first_day) AS s
      FROM (SELECT customer_id, order_date, amount, min(order_date) FILTER (WHERE amount > 0) OVER (PARTITION BY customer_id) AS first_day
            FROM sales WHERE order_date <= :'as_of') o
      GROUP BY customer_id) r
WHERE (s).purchase_days > 0;
CREATE TEMPORARY TABLE fits AS
SELECT (SELECT bgnbd_fit(x, t_x, t_cal) FROM cal) AS bg,
       (SELECT gamma_gamma_fit(x, mean_spend) FROM spend WHERE mean_spend > 0) AS gg;
CREATE TEMPORARY TABLE predictions AS
SELECT t.segment, bgnbd_p_alive(f.bg, c.x, c.t_x, c.t_cal) AS p_alive,
       clv(f.bg, c.x, c.t_x, c.t_cal,
           CASE WHEN s.mean_spend > 0 THEN gamma_gamma_expected_spend(f.gg, s.x, s.mean_spend)
                ELSE gamma_gamma_expected_spend(f.gg, 0, NULL) END, 12, 0.01, 52.0 / 12) AS clv
FROM cal c JOIN customer_segments t ON t.customer = c.customer LEFT JOIN spend s ON s.customer = c.customer, fits f;

-- Calibration: purchase days (days with a positive order) in the 26 weeks
-- after cal_end of the customers who had bought by cal_end.
CREATE TEMPORARY TABLE holdout AS
WITH c AS (
    SELECT customer_id AS customer, (btyd_inputs(rfm_agg(order_date, amount), :'cal_end', 'week')).*
    FROM sales WHERE order_date <= :'cal_end' GROUP BY customer_id
), m AS (SELECT bgnbd_fit(x, t_x, t_cal) AS m FROM c),
h AS (
    SELECT customer_id AS customer, count(DISTINCT order_date) AS purchases
    FROM sales WHERE order_date > :'cal_end' AND order_date <= :'as_of' AND amount > 0 GROUP BY 1
)
SELECT CASE WHEN c.x >= 7 THEN '7+' ELSE c.x::int::text END AS bucket, coalesce(h.purchases, 0) AS actual,
       bgnbd_expected(m.m, 26, c.x, c.t_x, c.t_cal) AS predicted
FROM c LEFT JOIN h USING (customer), m WHERE c.x IS NOT NULL;

WITH checks(key, kind, value) AS (
    SELECT format('clv/%s/%s', segment, c.col), c.kind, c.value
    FROM (SELECT segment, count(*) AS n, avg(p_alive) AS p, sum(clv) AS clv FROM predictions GROUP BY 1) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('p_alive_mean', 'pct', p::text), ('clv_sum', 'money', clv::text)) c(col, kind, value)
    UNION ALL
    SELECT 'clv/total/' || c.col, c.kind, c.value
    FROM (SELECT count(*) AS n, sum(clv) AS clv FROM predictions) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('clv_sum', 'money', clv::text), ('clv', 'money', clv::text),
                         ('p_alive_mean', 'text', '–')) c(col, kind, value)
    UNION ALL
    SELECT 'clv/model/converged', 'text', CASE WHEN (bg).converged THEN 'converged' ELSE 'not converged' END FROM fits
    UNION ALL
    SELECT 'models/bgnbd/parameters', 'params4',
           format('r = %s, α = %s, a = %s, b = %s', (bg).r, (bg).alpha, (bg).a, (bg).b) FROM fits
    UNION ALL
    SELECT 'models/bgnbd/customers', 'int', (bg).customers::text FROM fits
    UNION ALL
    SELECT 'models/gamma_gamma/parameters', 'params4', format('p = %s, q = %s, γ = %s', (gg).p, (gg).q, (gg).gamma) FROM fits
    UNION ALL
    SELECT 'models/gamma_gamma/customers', 'int', (gg).customers::text FROM fits
    UNION ALL
    SELECT format('calibration/%s/%s', bucket, c.col), c.kind, c.value
    FROM (SELECT bucket, count(*) AS n, avg(actual) AS actual_mean, avg(predicted) AS predicted_mean, sum(actual) AS actual_sum
          FROM holdout GROUP BY 1) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('actual_mean', 'num3', actual_mean::text),
                         ('predicted_mean', 'num3', predicted_mean::text), ('actual_sum', 'int', actual_sum::text)) c(col, kind, value)
    UNION ALL
    SELECT 'calibration/total/' || c.col, c.kind, c.value
    FROM (SELECT count(*) AS n, sum(actual) AS actual, sum(predicted) AS predicted FROM holdout) t,
         LATERAL (VALUES ('customers', 'int', n::text), ('actual', 'int', actual::text), ('predicted', 'num1', predicted::text)) c(col, kind, value)
)
SELECT (:'checks_json_object_agg'::jsonb || json_object_agg(key, json_build_object('kind', kind, 'value', value))::jsonb)::text
FROM checks;
