-- rfm_bins: quantile cut points and means over customers.
SET ROLE ca_analyst;
SET extra_float_digits = 0;

-- Ten customers whose values are easy to check by hand: customer i bought
-- i times, spent 10 * i, and last bought i * 10 days before 2024-12-31.
CREATE TEMP TABLE ten_orders AS
SELECT c AS customer, DATE '2024-12-31' - c * 10 - (k - 1) * 365 AS order_date, 10.0 AS amount
FROM generate_series(1, 10) AS c, generate_series(1, c) AS k;
CREATE TEMP TABLE ten AS SELECT customer, rfm_agg(order_date, amount) AS s FROM ten_orders GROUP BY 1;
-- Quintile cuts: percentile_cont at 0.2, 0.4, 0.6, 0.8 of 10..100 days,
-- 1..10 orders and 10..100 spent.
SELECT (b).buckets, (b).as_of, (b).customers, (b).recency_cuts, (b).frequency_cuts, (b).monetary_cuts,
       (b).recency_mean, (b).frequency_mean, (b).monetary_mean
FROM (SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM ten) t;
-- ... the same numbers PostgreSQL's percentile_cont gives.
SELECT percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY DATE '2024-12-31' - (s).last_order) AS recency,
       percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY (s).frequency) AS frequency
FROM ten;
RESET ROLE;
