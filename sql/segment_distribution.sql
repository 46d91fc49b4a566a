-- segment_distribution: the builder's population statistics kept
-- incrementally must equal the SQL definitions over every customer, bit
-- for bit, however the distribution was reached.
SET ROLE ca_analyst;

-- Customers with ties (prices from a short list, few distinct days),
-- prices of several scales, refunds, and refunds-only customers.
SELECT setseed(0.25);
CREATE TEMP TABLE dist_orders AS
SELECT c AS customer, DATE '2024-06-30' - (random() * CASE WHEN c % 3 = 0 THEN 20 ELSE 700 END)::int AS order_date,
       CASE WHEN c % 50 = 0 THEN -round((random() * 40)::numeric, 2)         -- refunds only
            WHEN c % 50 = 25 AND k = 1 THEN -500                             -- more refunded than spent
            WHEN c % 5 = 0 AND k = 2 THEN -round((random() * 30)::numeric, 2)  -- a refund
            WHEN c % 4 = 0 THEN (ARRAY[9.99, 19.99, 5, 49.5])[1 + (random() * 3)::int]
            WHEN c % 4 = 1 THEN round((random() * 300)::numeric, 2)
            WHEN c % 4 = 2 THEN round((random() * 1000)::numeric, 0)
            ELSE round((random() * 80)::numeric, 3) END AS amount
FROM generate_series(1, 3000) AS c, generate_series(1, 1 + (c * 7919) % 6) AS k;
CREATE TEMP TABLE dist_s AS
SELECT customer, rfm_agg(order_date, amount) AS s FROM dist_orders GROUP BY customer;

-- The statistics the builder's SQL computes, and the distribution's.
CREATE FUNCTION pg_temp.sql_statistics(as_of date, buckets integer)
RETURNS TABLE (bins text, frequency_median float8, value_median float8, top numeric[], above numeric, buyers bigint)
LANGUAGE sql AS $$
    WITH q AS (
        SELECT rfm_bins(s, as_of, buckets)::text AS bins,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s).frequency) FILTER (WHERE (s).frequency > 0) AS fm,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s).monetary / (s).frequency)
                   FILTER (WHERE (s).frequency > 0) AS vm,
               percentile_disc(ARRAY[0.8, 0.95]) WITHIN GROUP (ORDER BY (s).monetary)
                   FILTER (WHERE (s).frequency > 0) AS top,
               count(*) FILTER (WHERE (s).frequency > 0) AS buyers
        FROM pg_temp.dist_s)
    SELECT q.bins, q.fm, q.vm, q.top,
           (SELECT min((t.s).monetary) FROM pg_temp.dist_s t WHERE (t.s).frequency > 0 AND (t.s).monetary > q.top[1]),
           q.buyers
    FROM q
$$;
CREATE FUNCTION pg_temp.sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
CREATE FUNCTION pg_temp.same_statistics(distribution bytea, as_of date, buckets integer) RETURNS TABLE (
    buyers bigint, exact_spend boolean, bins_equal boolean, frequency_median_equal boolean,
    value_median_equal boolean, spend_top_equal boolean, spend_above_equal boolean)
LANGUAGE sql AS $$
    SELECT d.buyers, d.exact_spend,
           d.bins::text = q.bins,   -- float8 text is the shortest exact form
           d.frequency_median::text = q.frequency_median::text,
           d.value_median::text = q.value_median::text,
           ARRAY[segment_spend_numeric(d.spend_top[1]), segment_spend_numeric(d.spend_top[2])] = q.top
               AND d.spend_top = q.top::float8[],
           segment_spend_numeric(d.spend_above) IS NOT DISTINCT FROM q.above
    FROM segment_distribution_statistics(distribution, as_of, buckets) d,
         pg_temp.sql_statistics(as_of, buckets) q
$$;

CREATE TEMP TABLE dist_full AS
SELECT segment_distribution_apply(NULL, segment_distribution_delta(NULL, s)) AS d FROM dist_s;
SELECT count(*) FILTER (WHERE (s).last_order IS NULL) AS refunds_only,
       count(*) FILTER (WHERE (s).refunds > 0 AND (s).frequency > 0) AS buyers_with_refunds,
       count(*) FILTER (WHERE (s).monetary < 0 AND (s).frequency > 0) AS buyers_below_zero
FROM dist_s;
-- as_of after every order, and inside the range of orders (recency clamps
-- at 0); 5 buckets and 7.
SELECT * FROM pg_temp.same_statistics((SELECT d FROM dist_full), DATE '2024-12-31', 5);
SELECT * FROM pg_temp.same_statistics((SELECT d FROM dist_full), DATE '2024-06-25', 7);
SELECT * FROM pg_temp.same_statistics((SELECT d FROM dist_full), DATE '2023-01-01', 99);
-- The values themselves, for a reader.
SELECT (bins).customers, (bins).recency_cuts, frequency_median, spend_top, spend_above, buyers
FROM segment_distribution_statistics((SELECT d FROM dist_full), DATE '2024-12-31', 4);

-- Incremental: change some customers (new orders, a refund, gone) and add
-- new ones; the delta of before/after pairs applied to the old
-- distribution gives the bytes of a build from scratch.
CREATE TEMP TABLE dist_orders2 AS
SELECT * FROM dist_orders WHERE customer % 97 <> 5                             -- gone
UNION ALL SELECT customer, DATE '2024-07-02', 12.34 FROM dist_s WHERE customer % 13 = 0    -- bought again
UNION ALL SELECT customer, DATE '2024-07-03', -3.00 FROM dist_s WHERE customer % 17 = 0    -- a refund
UNION ALL SELECT 5000 + c, DATE '2024-07-01' - c, c * 1.25 FROM generate_series(1, 200) c  -- new
UNION ALL SELECT 6000, DATE '2024-07-01', -5;                                              -- new, refund only
CREATE TEMP TABLE dist_s2 AS
SELECT customer, rfm_agg(order_date, amount) AS s FROM dist_orders2 GROUP BY customer;
CREATE TEMP TABLE dist_delta AS
SELECT segment_distribution_delta(o.s, n.s) AS x, count(*) AS changed
FROM dist_s o FULL JOIN dist_s2 n USING (customer)
WHERE o.s IS DISTINCT FROM n.s;
SELECT changed FROM dist_delta;
SELECT segment_distribution_apply((SELECT d FROM dist_full), (SELECT x FROM dist_delta))
     = (SELECT segment_distribution_apply(NULL, segment_distribution_delta(NULL, s)) FROM dist_s2) AS incremental_equals_scratch;
-- ... and a delta of every customer (unchanged ones removed and added
-- again) too.
SELECT segment_distribution_apply((SELECT d FROM dist_full),
           (SELECT segment_distribution_delta(o.s, n.s) FROM dist_s o FULL JOIN dist_s2 n USING (customer)))
     = (SELECT segment_distribution_apply(NULL, segment_distribution_delta(NULL, s)) FROM dist_s2) AS full_delta_equals_scratch;
-- Removing every customer gives an empty distribution: no buyers, NULL
-- statistics.
SELECT (segment_distribution_statistics(
            segment_distribution_apply((SELECT d FROM dist_full),
                                       (SELECT segment_distribution_delta(s, NULL) FROM dist_s)),
            DATE '2024-12-31', 5)).*;
SELECT (segment_distribution_statistics(NULL, DATE '2024-12-31', 5)).*;
-- A NULL delta changes nothing; a delta with no buyer is NULL.
SELECT segment_distribution_apply((SELECT d FROM dist_full), NULL) = (SELECT d FROM dist_full) AS unchanged,
       segment_distribution_apply(NULL, NULL) IS NULL AS still_null,
       (SELECT segment_distribution_delta(s, s) FROM dist_s WHERE (s).last_order IS NULL) IS NULL AS no_buyer_delta;
-- The statistics after the change equal the SQL over the new summaries.
ALTER TABLE dist_s RENAME TO dist_s_old;
ALTER TABLE dist_s2 RENAME TO dist_s;
SELECT * FROM pg_temp.same_statistics(
    segment_distribution_apply((SELECT d FROM dist_full), (SELECT x FROM dist_delta)), DATE '2024-12-31', 5);
ALTER TABLE dist_s RENAME TO dist_s2;
ALTER TABLE dist_s_old RENAME TO dist_s;

-- Order values as SQL's (monetary / frequency)::float8, across scales and
-- large frequencies: one customer per distribution, its value the median.
CREATE TEMP TABLE dist_pairs AS
SELECT CASE i % 6 WHEN 0 THEN round((random() * 1000)::numeric, 2)
                  WHEN 1 THEN round((random() * 1e9)::numeric, (random() * 6)::int)
                  WHEN 2 THEN round((random() * 0.01)::numeric, 10)
                  WHEN 3 THEN round((random() * 1e15)::numeric, 0)
                  WHEN 4 THEN -round((random() * 500)::numeric, 3)
                  ELSE round((random() * 1e20)::numeric, 30) END AS m,
       CASE WHEN i % 7 = 0 THEN (random() * 1e12)::bigint + 1 ELSE (1 + random() * 40)::bigint END AS f
FROM generate_series(1, 6000) i;
SELECT count(*) AS pairs, count(*) FILTER (WHERE v IS DISTINCT FROM (m / f)::float8) AS differ
FROM (SELECT m, f, (segment_distribution_statistics(segment_distribution_apply(NULL, d.x), DATE '2024-03-01', 5)).value_median AS v
      FROM dist_pairs CROSS JOIN LATERAL (
          SELECT segment_distribution_delta(NULL, ROW(DATE '2024-01-01', DATE '2024-02-01', f, one, m, 0)::rfm_summary) AS x
          FROM (SELECT 1 AS one) o) d) y;

-- exact_spend: a monetary of more than 15 significant digits has no exact
-- float8; trailing zeros do not count.
SELECT (s).monetary,
       (segment_distribution_statistics(segment_distribution_apply(NULL, segment_distribution_delta(NULL, s)),
                                        DATE '2024-12-31', 5)).exact_spend
FROM (VALUES (ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 123456789012345.000000, 0)::rfm_summary),
             (ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 1234567890123456, 0)::rfm_summary),
             (ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 0.1234567890123456, 0)::rfm_summary)) v(s)
GROUP BY (s).monetary ORDER BY (s).monetary;
SELECT segment_spend_numeric(19.99::float8), segment_spend_numeric(1e20), segment_spend_numeric(-0.1),
       segment_spend_numeric(123456789012345::float8), segment_spend_numeric(0.1::float8 + 0.2::float8);
SELECT segment_spend_numeric('NaN');
SELECT segment_spend_numeric('Infinity');

-- Bad input: never a crash. A summary whose last_order and frequency
-- disagree cannot count as a buyer in both definitions.
SELECT segment_distribution_delta(NULL, ROW(DATE '2024-01-01', DATE '2024-01-01', 0, 0, 10, 0)::rfm_summary);
SELECT segment_distribution_delta(NULL, ROW(NULL, NULL, 2, 2, 10, 0)::rfm_summary);
SELECT segment_distribution_delta(NULL, ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 'NaN', 0)::rfm_summary);
-- Forged and truncated bytes: 22P03. Every truncation of a small
-- distribution and of a delta.
SELECT DISTINCT pg_temp.sqlstate_of(format('SELECT segment_distribution_statistics(%L::bytea, DATE ''2024-12-31'', 5)',
                                           substring(d FROM 1 FOR n))) AS truncated_distribution
FROM (SELECT segment_distribution_apply(NULL, segment_distribution_delta(NULL, s)) AS d FROM dist_s WHERE customer < 8) t,
     generate_series(0, length(d) - 1) n;
SELECT DISTINCT pg_temp.sqlstate_of(format('SELECT segment_distribution_apply(NULL, %L::bytea)',
                                           substring(x FROM 1 FOR n))) AS truncated_delta
FROM (SELECT segment_distribution_delta(NULL, s) AS x FROM dist_s WHERE customer < 8) t,
     generate_series(0, length(x) - 1) n;
SELECT segment_distribution_statistics('\x434102130100000000'::bytea, DATE '2024-12-31', 5);
SELECT segment_distribution_statistics(substring((SELECT d FROM dist_full) FROM 1 FOR 1000), DATE '2024-12-31', 5);
SELECT segment_distribution_apply(NULL, substring((SELECT x FROM dist_delta) FROM 1 FOR 200));
-- A distribution where a delta is expected, and the other way round.
SELECT segment_distribution_apply(NULL, (SELECT d FROM dist_full)) IS NULL;
SELECT segment_distribution_statistics((SELECT x FROM dist_delta), DATE '2024-12-31', 5);
-- Monetary values out of order (two doubles swapped).
SELECT segment_distribution_statistics(
    overlay(d PLACING substring(d FROM p + 8 FOR 8) || substring(d FROM p FOR 8) FROM p FOR 16),
    DATE '2024-12-31', 5)
FROM (SELECT d, length(d) - 8 - 16 * 2000 + 1 AS p FROM dist_full) t;
-- Removing a customer the distribution does not hold: 22000, rebuild.
SELECT pg_temp.sqlstate_of($q$SELECT segment_distribution_apply(NULL, (SELECT x FROM dist_delta))$q$) AS not_held;
SELECT segment_distribution_apply((SELECT d FROM dist_full),
    segment_distribution_delta(ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 123456.78, 0)::rfm_summary, NULL));
SELECT segment_distribution_apply(NULL, (SELECT x FROM dist_delta));
-- buckets as rfm_bins checks them; as_of must be finite.
SELECT segment_distribution_statistics((SELECT d FROM dist_full), DATE '2024-12-31', 1);
SELECT segment_distribution_statistics((SELECT d FROM dist_full), 'infinity', 5);
SELECT segment_distribution_statistics((SELECT d FROM dist_full), NULL, 5);
RESET ROLE;
