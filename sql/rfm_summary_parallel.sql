-- rfm_agg and rfm_bins under a forced parallel plan give the same results as
-- under the serial plan.
CREATE TABLE parallel_orders AS
SELECT i AS order_id, abs(hashint4(i)) % 5000 AS customer,
       DATE '2021-01-01' + abs(hashint4(i * 3 + 1)) % 1400 AS order_date,
       ((abs(hashint4(i * 11 + 2)) % 100000) - 2000) / 100.0 AS amount
FROM generate_series(1, 200000) AS i;
ANALYZE parallel_orders;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_summary AS
SELECT customer, rfm_agg(order_date, amount) AS s FROM parallel_orders GROUP BY customer;
CREATE TEMP TABLE serial_total AS SELECT rfm_agg(order_date, amount) AS s FROM parallel_orders;
CREATE TEMP TABLE serial_bins AS SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM serial_summary;

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

EXPLAIN (COSTS OFF) SELECT rfm_agg(order_date, amount) FROM parallel_orders;
SELECT (p.s) = (t.s) AS numeric_total_equal, (p.s).monetary = (SELECT sum(amount) FROM parallel_orders) AS exact
FROM (SELECT rfm_agg(order_date, amount) AS s FROM parallel_orders) p, serial_total t;

-- Group by a coarse key so each group's state is built by several workers
-- and merged: purchase days, first/last order and money must all combine.
EXPLAIN (COSTS OFF) SELECT customer % 7, rfm_agg(order_date, amount) FROM parallel_orders GROUP BY 1;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE p.s = (SELECT rfm_agg(order_date, amount) FROM parallel_orders WHERE customer % 7 = p.k)) AS equal
FROM (SELECT customer % 7 AS k, rfm_agg(order_date, amount) AS s FROM parallel_orders GROUP BY 1) p;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT customer % 7, rfm_agg(order_date, amount) FROM parallel_orders GROUP BY 1;
CREATE TEMP TABLE coarse_sorted AS SELECT customer % 7 AS k, rfm_agg(order_date, amount) AS s FROM parallel_orders GROUP BY 1;
RESET enable_hashagg;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS groups, count(*) FILTER (WHERE c.s = (SELECT rfm_agg(order_date, amount) FROM parallel_orders WHERE customer % 7 = c.k)) AS equal
FROM coarse_sorted c;
SET max_parallel_workers_per_gather = 2;

-- Per customer, and the bins over customers.
SELECT count(*) AS customers, count(*) FILTER (WHERE p.s = s.s) AS equal
FROM (SELECT customer, rfm_agg(order_date, amount) AS s FROM parallel_orders GROUP BY customer) p
JOIN serial_summary s USING (customer);
CREATE TABLE summary_for_bins AS SELECT * FROM serial_summary;
ANALYZE summary_for_bins;
EXPLAIN (COSTS OFF) SELECT rfm_bins(s, DATE '2024-12-31') FROM summary_for_bins;
SELECT (SELECT rfm_bins(s, DATE '2024-12-31') FROM summary_for_bins)::text = b::text AS bins_equal FROM serial_bins;

-- With an order key: lines with one key lie 20,011 rows apart, so each
-- parallel worker sees part of many orders (and of their days); the
-- combined states equal the serial ones.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_orders AS
SELECT customer % 7 AS k, rfm_agg(order_date, amount, order_id % 20011) AS b,
       rfm_agg(order_date, amount, 'K' || order_id % 20011, 0.01) AS t,
       rfm_agg(order_date, amount::float8, order_id % 20011, 5::float8) AS f
FROM parallel_orders GROUP BY 1;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT customer % 7, rfm_agg(order_date, amount, 'K' || order_id % 20011, 0.01)
FROM parallel_orders GROUP BY 1;
SELECT count(*) AS groups, count(*) FILTER (WHERE p.b = s.b AND p.t = s.t) AS equal,
       count(*) FILTER (WHERE ((p.f).first_order, (p.f).last_order, (p.f).frequency, (p.f).purchase_days,
                               (p.f).refunds, round((p.f).monetary, 2))
                            = ((s.f).first_order, (s.f).last_order, (s.f).frequency, (s.f).purchase_days,
                               (s.f).refunds, round((s.f).monetary, 2))) AS float_equal
FROM (SELECT customer % 7 AS k, rfm_agg(order_date, amount, order_id % 20011) AS b,
             rfm_agg(order_date, amount, 'K' || order_id % 20011, 0.01) AS t,
             rfm_agg(order_date, amount::float8, order_id % 20011, 5::float8) AS f
      FROM parallel_orders GROUP BY 1) p
JOIN serial_orders s USING (k);
-- Per customer with text keys, and the stored states of the workers merged.
EXPLAIN (COSTS OFF) SELECT customer, rfm_agg_state(order_date, amount, 'K' || order_id % 20011, 0.01)
FROM parallel_orders GROUP BY 1;
SELECT count(*) AS customers, count(*) FILTER (WHERE rfm_state_summary(p.state) = s.s) AS equal
FROM (SELECT customer, rfm_agg_state(order_date, amount, 'K' || order_id % 20011, 0.01) AS state
      FROM parallel_orders GROUP BY 1) p
JOIN (SELECT customer, rfm_agg(order_date, amount, 'K' || order_id % 20011, 0.01) AS s
      FROM parallel_orders GROUP BY 1) s USING (customer);
