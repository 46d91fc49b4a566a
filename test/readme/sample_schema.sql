-- The tables the README's examples read, filled with generated data
-- (seeded: the same every run). test/readme/run.sh loads this, then runs
-- every ```sql block of README.md in order; the README describes the same
-- tables in "The tables the examples use".
\set QUIET on
\set n 20000
\set seed 7
\set end_date 2024-12-31
\set years 2
\ir ../../bench/generate_orders.sql
\set QUIET on

-- orders(order_id, customer_id, order_date, amount) from the generator,
-- plus the channel of each order.
ALTER TABLE orders ADD COLUMN channel text;
UPDATE orders SET channel = (ARRAY['web', 'app', 'store'])[1 + (customer_id + order_id % 2) % 3];

-- One row per order line.
CREATE TABLE order_lines AS
SELECT o.order_id, o.customer_id, o.order_date, (ARRAY['books', 'music', 'games', 'toys', 'garden'])[1 + (o.order_id * 7 + l) % 5] AS category,
       CASE WHEN (o.order_id + l) % 4 = 0 THEN 0.10 ELSE 0 END AS discount,
       o.order_date - ((o.order_id * 13 + l) % 200)::int AS launched_on
FROM orders o, generate_series(1, 1 + (o.order_id % 3)::int) l;

CREATE TABLE customers AS
SELECT DISTINCT customer_id, (ARRAY['web', 'app', 'store'])[1 + customer_id % 3] AS channel FROM orders;

-- Interactions: visits, purchases and store check-ins.
CREATE TABLE interactions AS
SELECT customer_id, order_date::timestamptz + interval '10 hours' AS event_time, 'purchase' AS kind FROM orders
UNION ALL
SELECT customer_id, DATE '2024-12-31' - ((customer_id * 31 + v) % 200)::int + interval '9 hours',
       (ARRAY['visit', 'checkin', 'visit'])[1 + v % 3]
FROM customers, generate_series(1, 1 + (customer_id % 4)::int) v;

-- Coupons offered on a ladder of values, and whether each was redeemed.
CREATE TABLE coupon_offers AS
SELECT customer_id, value::float8 AS coupon_value, value >= 5 * (1 + customer_id % 4) AS redeemed
FROM customers, unnest(ARRAY[5, 10, 15, 20]) value;

-- Marketing contacts by channel and whether the customer responded.
CREATE TABLE contacts AS
SELECT customer_id, (ARRAY['sms', 'email', 'app', 'phone'])[1 + (customer_id + c) % 4] AS channel,
       (customer_id * 17 + c * 5) % 7 = 0 AS responded
FROM customers, generate_series(1, 6) c;

-- Per-customer features for clustering.
CREATE TABLE customer_features AS
SELECT customer_id, (DATE '2024-12-31' - max(order_date))::float8 AS recency, count(*)::float8 AS frequency,
       greatest(sum(amount), 0)::float8 AS monetary
FROM orders GROUP BY customer_id;

-- A campaign: who was in its audience and who responded, with revenue.
CREATE TABLE campaign_audience AS SELECT customer_id FROM customers WHERE customer_id % 2 = 0;
CREATE TABLE campaign_responses AS
SELECT customer_id, 20.0::float8 + customer_id % 30 AS revenue FROM campaign_audience WHERE customer_id % 9 = 0;

-- The CDNOW sample (Fader, Hardie and Lee 2005), read in place.
CREATE TABLE cdnow_lines (line text);
\copy cdnow_lines FROM '../shared/data/cdnow/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE cdnow AS
SELECT f[1] AS customer, to_date(f[3], 'YYYYMMDD') AS order_date, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM cdnow_lines) t;
DROP TABLE cdnow_lines;
ANALYZE;
\set QUIET off
