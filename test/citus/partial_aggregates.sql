-- The aggregates whose state type is analytics_state, on a table
-- distributed by customer and grouped by something else: Citus runs them as
-- partial aggregates on the workers (worker_partial_agg) and a combine on
-- the coordinator (coord_combine_agg), shipping the states as text, and the
-- answers equal those of the same orders in a plain table. Runs after
-- builder.sql, in the same database (the extension exists).
SET client_min_messages = error;  -- Citus warns that pg_temp functions stay on the coordinator
CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'citus check failed: %', what;
    END IF;
    RAISE NOTICE 'ok: %', what;
END $$;
CREATE FUNCTION pg_temp.plan_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END $$;
-- The plan of `query` on dist_orders has worker partials and a coordinator
-- combine, and its rows equal those of the same query on plain_orders.
CREATE FUNCTION pg_temp.check_split(query text, what text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    plan text := pg_temp.plan_of(query);
    differ bigint;
    local_query text := replace(query, 'dist_orders', 'plain_orders');
BEGIN
    IF plan NOT LIKE '%worker_partial_agg(%' OR plan NOT LIKE '%coord_combine_agg(%' THEN
        RAISE EXCEPTION 'citus check failed: % is not split into worker partials and a coordinator combine:%',
            what, E'\n' || plan;
    END IF;
    EXECUTE format('SELECT count(*) FROM ((%s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL %s)) d',
                   query, local_query, local_query, query) INTO differ;
    PERFORM pg_temp.check(differ = 0, what || ': worker partials + coordinator combine, equal to one node');
END $$;
RESET client_min_messages;

CREATE TABLE dist_orders (customer_id bigint, channel int, order_id bigint, order_date date,
                          order_time timestamptz, amount numeric(12, 2));
SELECT create_distributed_table('dist_orders', 'customer_id');
INSERT INTO dist_orders
SELECT abs(hashint4(g)) % 4000, abs(hashint4(g * 3)) % 5, g / 3, DATE '2023-01-01' + abs(hashint4(g * 7)) % 700,
       TIMESTAMPTZ '2023-01-01 00:00:00+00' + (abs(hashint4(g * 7)) % 700) * interval '1 day'
           + (abs(hashint4(g * 11)) % 1440) * interval '1 minute',
       ((abs(hashint4(g * 13)) % 30000) - 600) / 100.0
FROM generate_series(1, 60000) g;
CREATE TABLE plain_orders AS SELECT * FROM dist_orders;

-- The control: an aggregate Citus cannot split (ORDER BY inside it) has
-- its rows pulled to the coordinator, and the check sees it.
SELECT pg_temp.check(pg_temp.plan_of('SELECT channel, array_agg(amount ORDER BY amount) FROM dist_orders GROUP BY channel')
                     NOT LIKE '%worker_partial_agg(%', 'an aggregate with ORDER BY is not split (the control)');
SELECT pg_temp.check_split('SELECT channel, rfm_agg(order_date, amount) FROM dist_orders GROUP BY channel',
                           'rfm_agg(date, numeric)');
SELECT pg_temp.check_split('SELECT channel, rfm_agg(order_date, amount::float8) FROM dist_orders WHERE amount > 0
                            GROUP BY channel', 'rfm_agg(date, float8)');
SELECT pg_temp.check_split('SELECT channel, rfm_agg(order_date, amount, order_id) FROM dist_orders GROUP BY channel',
                           'rfm_agg(date, numeric, order key)');
SELECT pg_temp.check_split('SELECT channel, rfm_agg(order_date, amount, order_id::text, 5.0) FROM dist_orders
                            GROUP BY channel', 'rfm_agg(date, numeric, text order key, min_purchase)');
SELECT pg_temp.check_split('SELECT channel, rfm_state_summary(rfm_agg_state(order_date, amount)) FROM dist_orders
                            GROUP BY channel', 'rfm_agg_state');
SELECT pg_temp.check_split('SELECT channel, rfm_state_summary(rfm_state_merge(s)) FROM (
                                SELECT channel, customer_id, rfm_agg_state(order_date, amount) s FROM dist_orders
                                 GROUP BY channel, customer_id) c GROUP BY channel', 'rfm_state_merge');
SELECT pg_temp.check_split('SELECT gini(greatest(amount, 0)::float8) FROM dist_orders', 'gini');
SELECT pg_temp.check_split('SELECT channel, gini(greatest(amount, 0)::float8) FROM dist_orders GROUP BY channel',
                           'gini by channel');
SELECT pg_temp.check_split('SELECT channel, pareto_share(greatest(amount, 0)::float8, 0.2) FROM dist_orders
                            GROUP BY channel', 'pareto_share');
SELECT pg_temp.check_split('SELECT lorenz_curve(greatest(amount, 0)::float8)::text FROM dist_orders', 'lorenz_curve');
SELECT pg_temp.check_split('SELECT lorenz_curve(greatest(amount, 0)::float8, 4)::text FROM dist_orders',
                           'lorenz_curve(segments)');
SELECT pg_temp.check_split('SELECT pareto_tier_thresholds(greatest(amount, 0)::float8) FROM dist_orders',
                           'pareto_tier_thresholds');
SELECT pg_temp.check_split('SELECT pareto_tier_thresholds(greatest(amount, 0)::float8, ''{0.5, 0.1}'') FROM dist_orders',
                           'pareto_tier_thresholds(fractions)');
SELECT pg_temp.check_split('SELECT value_band_cuts(greatest(amount, 0)::float8) FROM dist_orders', 'value_band_cuts');
SELECT pg_temp.check_split('SELECT channel, rfm_bins(s, DATE ''2024-12-31'')::text FROM (
                                SELECT channel, customer_id, rfm_agg(order_date, amount) s FROM dist_orders
                                 GROUP BY channel, customer_id) c GROUP BY channel', 'rfm_bins');
SELECT pg_temp.check_split('SELECT rfm_bins(s, DATE ''2024-12-31'', 4)::text FROM (
                                SELECT customer_id, rfm_agg(order_date, amount) s FROM dist_orders
                                 GROUP BY customer_id) c', 'rfm_bins(buckets) of per-customer summaries');
SELECT pg_temp.check_split('SELECT gini(s::float8) FROM (SELECT customer_id, greatest(sum(amount), 0) s
                                                          FROM dist_orders GROUP BY customer_id) c',
                           'gini of per-customer spend');
SELECT pg_temp.check_split('SELECT channel, kmeans_fit(ARRAY[amount::float8, extract(doy FROM order_date)::float8], 3)::text
                              FROM dist_orders GROUP BY channel', 'kmeans_fit');
SELECT pg_temp.check_split('SELECT channel, segment_overlap(amount > 100, order_date >= DATE ''2024-01-01'')
                              FROM dist_orders GROUP BY channel', 'segment_overlap');
SELECT pg_temp.check_split('SELECT channel, campaign_report(order_id % 10 = 0, amount > 150, greatest(amount, 0)::float8)
                              FROM dist_orders GROUP BY channel', 'campaign_report');
SELECT pg_temp.check_split('SELECT channel, activity_status(order_date, CASE WHEN amount > 150 THEN ''checkin''
                                                                            ELSE ''visit'' END, DATE ''2024-12-31'')
                              FROM dist_orders GROUP BY channel', 'activity_status');
SELECT pg_temp.check_split('SELECT channel, coupon_sensitivity(greatest(amount, 0)::float8, order_id % 3 = 0)
                              FROM dist_orders GROUP BY channel', 'coupon_sensitivity');
SELECT pg_temp.check_split('SELECT channel, purchase_mix(order_id % 4 = 0, order_id % 7 = 0)
                              FROM dist_orders GROUP BY channel', 'purchase_mix');SELECT pg_temp.check_split('SELECT channel, channel_preference(''c'' || customer_id % 3, amount > 150)
                              FROM dist_orders GROUP BY channel', 'channel_preference');
SELECT pg_temp.check_split('SELECT affinity(items, 0.01, 5)::text FROM (
                                SELECT customer_id, array_agg(DISTINCT ''item'' || channel) items FROM dist_orders
                                 GROUP BY customer_id) c', 'affinity of per-customer baskets');

-- The model fits over per-customer inputs (a subquery by customer).
SELECT pg_temp.check_split('SELECT bgnbd_fit((i).x, (i).t_x, (i).t_cal)::text FROM (
                                SELECT btyd_inputs(rfm_agg(order_date, amount), DATE ''2024-12-31'') i
                                  FROM dist_orders GROUP BY customer_id) c', 'bgnbd_fit');
SELECT pg_temp.check_split('SELECT pareto_nbd_fit((i).x, (i).t_x, (i).t_cal, 0.01)::text FROM (
                                SELECT btyd_inputs(rfm_agg(order_date, amount), DATE ''2024-12-31'') i
                                  FROM dist_orders GROUP BY customer_id) c', 'pareto_nbd_fit');
SELECT pg_temp.check_split('SELECT gamma_gamma_fit(x, m)::text FROM (
                                SELECT count(*)::float8 - 1 AS x, avg(greatest(amount, 1))::float8 AS m
                                  FROM dist_orders GROUP BY customer_id) c', 'gamma_gamma_fit');
SELECT pg_temp.check_split('SELECT mbgnbd_fit((i).x, (i).t_x, (i).t_cal)::text FROM (
                                SELECT btyd_inputs(rfm_agg(order_date, amount), DATE ''2024-12-31'') i
                                  FROM dist_orders GROUP BY customer_id) c', 'mbgnbd_fit');
SELECT pg_temp.check_split('SELECT bgnbd_cov_fit((i).x, (i).t_x, (i).t_cal, ARRAY[(customer_id % 2)::float8])::text FROM (
                                SELECT customer_id, btyd_inputs(rfm_agg(order_date, amount), DATE ''2024-12-31'') i
                                  FROM dist_orders GROUP BY customer_id) c', 'bgnbd_cov_fit');
SELECT pg_temp.check_split('SELECT bgbb_fit(x, x, 4)::text FROM (
                                SELECT count(DISTINCT channel)::float8 - 1 AS x
                                  FROM dist_orders GROUP BY customer_id) c', 'bgbb_fit');
SELECT pg_temp.check_split('SELECT sbg_fit((n % 7 + 1)::float8, customer_id % 3 = 0)::text FROM (
                                SELECT customer_id, count(*) AS n
                                  FROM dist_orders GROUP BY customer_id) c', 'sbg_fit');
-- Customers whose refunds make the mean spend non-positive: one node
-- reports them from the final function; a worker's partial state cannot
-- carry them, so the worker raises. Neither ignores them silently.
SET client_min_messages = error;
CREATE FUNCTION pg_temp.sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
RESET client_min_messages;
SELECT pg_temp.check(pg_temp.sqlstate_of('SELECT gamma_gamma_fit(x, m) FROM (SELECT count(*)::float8 - 1 AS x,
                                              avg(amount - 150)::float8 AS m FROM dist_orders GROUP BY customer_id) c')
                     = '22023' AND
                     pg_temp.sqlstate_of('SELECT gamma_gamma_fit(x, m) FROM (SELECT count(*)::float8 - 1 AS x,
                                              avg(amount - 150)::float8 AS m FROM plain_orders GROUP BY customer_id) c')
                     = '22023', 'gamma_gamma_fit with non-positive mean spends raises on Citus as on one node');

-- Time zones. A timestamptz becomes a date in the session's TimeZone, but
-- Citus's workers run in their own: the coordinator's SET does not reach
-- them. An explicit conversion gives the same dates everywhere.
SET TimeZone = 'Asia/Tokyo';
SELECT pg_temp.check_split('SELECT channel, rfm_agg((order_time AT TIME ZONE ''Asia/Tokyo'')::date, amount)
                            FROM dist_orders GROUP BY channel', 'rfm_agg on Tokyo dates, explicit');
SELECT pg_temp.check(
    (SELECT array_agg(s ORDER BY channel) FROM (SELECT channel, rfm_agg(order_time, amount) s FROM dist_orders
                                                 GROUP BY channel) d)
    IS DISTINCT FROM
    (SELECT array_agg(s ORDER BY channel) FROM (SELECT channel, rfm_agg(order_time, amount) s FROM plain_orders
                                                 GROUP BY channel) d),
    'rfm_agg(timestamptz) on the workers does not follow the coordinator''s SET TimeZone');
-- SET LOCAL reaches the workers when Citus propagates it.
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL TimeZone = 'Asia/Tokyo';
SELECT pg_temp.check(
    (SELECT array_agg(s ORDER BY channel) FROM (SELECT channel, rfm_agg(order_time, amount) s FROM dist_orders
                                                 GROUP BY channel) d)
    = (SELECT array_agg(s ORDER BY channel) FROM (SELECT channel, rfm_agg(order_time, amount) s FROM plain_orders
                                                   GROUP BY channel) d),
    'with citus.propagate_set_commands = local, SET LOCAL TimeZone gives the workers the session''s dates');
COMMIT;
RESET TimeZone;

DROP TABLE dist_orders, plain_orders;
