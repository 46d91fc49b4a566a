-- The real CDNOW sample (2,357 customers, 6,919 transactions), read in place
-- from ../shared/data beside the checkout.
CREATE TABLE cdnow_lines (line text);
\copy cdnow_lines FROM '../shared/data/cdnow/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE cdnow AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD') AS order_date, f[4]::int AS cds, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM cdnow_lines) t;
SELECT count(*) AS transactions, count(DISTINCT customer) AS customers, sum(amount) AS dollars,
       min(order_date), max(order_date) FROM cdnow;

CREATE TABLE cdnow_rfm AS SELECT customer, rfm_agg(order_date, amount) AS s FROM cdnow GROUP BY customer;
-- Totals agree with the plain aggregates; purchase days are what the
-- published analyses count (several transactions on one day are one).
SELECT sum((s).frequency) AS purchases, sum((s).purchase_days) AS purchase_days, sum((s).monetary) AS dollars,
       sum((s).refunds) AS refunds FROM cdnow_rfm;
SELECT count(DISTINCT (customer, order_date)) AS distinct_customer_days FROM cdnow WHERE amount >= 0;

-- Bins as of the last transaction, and their agreement with percentile_cont.
CREATE TABLE cdnow_bins AS SELECT rfm_bins(s, DATE '1998-06-30') AS b FROM cdnow_rfm;
SELECT (b).customers, (b).recency_cuts, (b).frequency_cuts, (b).monetary_cuts,
       round((b).recency_mean::numeric, 3) AS recency_mean, round((b).frequency_mean::numeric, 4) AS frequency_mean,
       round((b).monetary_mean::numeric, 4) AS monetary_mean
FROM cdnow_bins;
SELECT (b).recency_cuts = r AND (b).frequency_cuts = f AND (b).monetary_cuts = m AS cuts_equal_percentile_cont
FROM cdnow_bins, (SELECT percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY DATE '1998-06-30' - (s).last_order) AS r,
                         percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY (s).frequency) AS f,
                         percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY (s).monetary::float8) AS m
                  FROM cdnow_rfm) p;

-- Every customer's score equals the score written in plain SQL with the
-- documented tie rule (value <= cut goes to the lower bucket).
CREATE TABLE cdnow_scored AS
SELECT customer, s, rfm_score(s, b) AS score, rfm_segment(rfm_score(s, b)) AS segment,
       rfm_class(s, b, DATE '1998-06-30') AS class, lifecycle_stage((s).last_order, DATE '1998-06-30') AS stage
FROM cdnow_rfm, cdnow_bins;
SELECT count(*) AS customers, count(*) FILTER (WHERE
         recency_score(score) = 5 - (SELECT count(*) FROM unnest((b).recency_cuts) c WHERE DATE '1998-06-30' - (s).last_order > c)
     AND frequency_score(score) = 1 + (SELECT count(*) FROM unnest((b).frequency_cuts) c WHERE (s).frequency > c)
     AND monetary_score(score) = 1 + (SELECT count(*) FROM unnest((b).monetary_cuts) c WHERE (s).monetary > c)) AS agreeing
FROM cdnow_scored, cdnow_bins;

-- The segment table (segment, customers, share of customers, revenue, share of revenue).
SELECT segment, count(*) AS customers, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct_customers,
       sum((s).monetary) AS revenue, round(100.0 * sum((s).monetary) / sum(sum((s).monetary)) OVER (), 1) AS pct_revenue
FROM cdnow_scored GROUP BY segment ORDER BY revenue DESC;
SELECT class, count(*) FROM cdnow_scored GROUP BY class ORDER BY class;
SELECT stage, count(*) FROM cdnow_scored GROUP BY stage ORDER BY stage;
-- Lifecycle stages equal the plain CASE over days since the last order.
SELECT count(*) FILTER (WHERE stage = CASE WHEN d <= 63 THEN 'active' WHEN d <= 126 THEN 'silent'
                                          WHEN d <= 365 THEN 'sleeping' ELSE 'churned' END) AS agreeing
FROM (SELECT stage, DATE '1998-06-30' - (s).last_order AS d FROM cdnow_scored) t;
