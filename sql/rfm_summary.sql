-- rfm_summary: rfm_agg without an order key, on hand-checked customers.
SET ROLE ca_analyst;
SET extra_float_digits = 0;

-- A hand-checked customer: three purchases on two days, one refund.
CREATE TABLE small_orders (customer int, order_date date, amount numeric);
INSERT INTO small_orders VALUES
    (1, '2024-01-01', 10.5), (1, '2024-01-01', 2.25), (1, '2024-03-01', -3),
    (1, '2024-02-01', 100),
    (2, '2024-06-01', 1),
    (3, NULL, 5), (3, '2023-01-01', NULL),        -- only NULL rows: NULL summary
    (4, '2024-01-01', -5),                        -- only a refund: no purchase
    (5, '2024-05-05', 0);                         -- a free order is a purchase
SELECT customer, (rfm_agg(order_date, amount)).* FROM small_orders GROUP BY customer ORDER BY customer;
-- Composite output and field access compose with ordinary SQL.
SELECT customer, rfm_agg(order_date, amount) AS summary FROM small_orders GROUP BY 1 ORDER BY 1;
SELECT (rfm_agg(order_date, amount)).monetary FROM small_orders WHERE customer = 1;
-- Empty input gives NULL, like sum().
SELECT rfm_agg(order_date, amount) IS NULL AS empty_is_null FROM small_orders WHERE false;

-- float8 amounts: same semantics, totals in double precision.
SELECT customer, (rfm_agg(order_date, amount::float8)).* FROM small_orders GROUP BY 1 ORDER BY 1;

-- timestamptz order times count calendar days in the session's TimeZone:
-- 23:30 and 00:30 UTC are two days in UTC, one day in New York.
CREATE TABLE stamped_orders (customer int, ordered_at timestamptz, amount numeric);
INSERT INTO stamped_orders VALUES (1, '2024-03-01 23:30+00', 5), (1, '2024-03-02 00:30+00', 7);
SET TIME ZONE 'UTC';
SELECT (rfm_agg(ordered_at, amount)).* FROM stamped_orders;
SET TIME ZONE 'America/New_York';
SELECT (rfm_agg(ordered_at, amount)).* FROM stamped_orders;
SELECT (rfm_agg(ordered_at, amount::float8)).* FROM stamped_orders;
RESET TIME ZONE;

-- Generated orders: rfm_agg agrees with the plain aggregates for every customer.
CREATE TABLE generated_orders AS
SELECT i AS order_id,
       abs(hashint4(i)) % 2000 AS customer,
       DATE '2022-01-01' + abs(hashint4(i * 7 + 1)) % 1000 AS order_date,
       ((abs(hashint4(i * 13 + 5)) % 200000) - 4000) / 100.0 AS amount
FROM generate_series(1, 60000) AS i;
WITH ours AS (
    SELECT customer, rfm_agg(order_date, amount) AS s FROM generated_orders GROUP BY customer
), plain AS (
    SELECT customer,
           min(order_date) FILTER (WHERE amount >= 0) AS first_order,
           max(order_date) FILTER (WHERE amount >= 0) AS last_order,
           count(*) FILTER (WHERE amount >= 0) AS frequency,
           count(DISTINCT order_date) FILTER (WHERE amount >= 0) AS purchase_days,
           sum(amount) AS monetary,
           count(*) FILTER (WHERE amount < 0) AS refunds
    FROM generated_orders GROUP BY customer
)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE (o.s).first_order IS NOT DISTINCT FROM p.first_order
                          AND (o.s).last_order IS NOT DISTINCT FROM p.last_order
                          AND (o.s).frequency = p.frequency
                          AND (o.s).purchase_days = p.purchase_days
                          AND (o.s).monetary = p.monetary
                          AND (o.s).monetary::text = p.monetary::text
                          AND (o.s).refunds = p.refunds) AS identical
FROM ours o JOIN plain p USING (customer);
-- Whole-table totals: count(*) = purchases + refunds, monetary = sum(amount).
SELECT (s).frequency + (s).refunds = n AS counts_match, (s).monetary = total AS sum_matches,
       (s).monetary, (s).first_order = first_day AS first_matches, (s).last_order = last_day AS last_matches
FROM (SELECT rfm_agg(order_date, amount) AS s, count(*) AS n, sum(amount) AS total,
             min(order_date) FILTER (WHERE amount >= 0) AS first_day,
             max(order_date) FILTER (WHERE amount >= 0) AS last_day
      FROM generated_orders) t;

-- Exact totals beyond 128 bits and at any scale: rfm_agg = sum() digit for digit.
CREATE TABLE huge_amounts (customer int, order_date date, amount numeric);
INSERT INTO huge_amounts
SELECT i % 3, DATE '2024-01-01' + i, v
FROM generate_series(1, 40) AS i,
     LATERAL (VALUES (9.99e37::numeric * (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END) + i),
                     (1e-30 * i), (123456789012345678901234567890.123456789::numeric)) AS v(v);
SELECT customer, (rfm_agg(order_date, amount)).monetary = sum(amount) AS exact,
       (rfm_agg(order_date, amount)).monetary::text = sum(amount)::text AS same_text
FROM huge_amounts GROUP BY customer ORDER BY customer;
SELECT (rfm_agg(order_date, amount)).monetary, sum(amount) FROM huge_amounts;
RESET ROLE;
