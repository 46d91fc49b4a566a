-- rfm_agg with an order key: order lines grouped into orders, and what
-- counts as a purchase, on a small table shaped like the Online Retail data
-- set (text invoice numbers, cancellations 'C...', several lines an order,
-- a free item, a purchase cancelled the same day). Every figure below is
-- worked out by hand in the comments.
SET ROLE ca_analyst;
SET extra_float_digits = 0;
SET datestyle = 'ISO, YMD';

CREATE TABLE online_retail (invoice_no text, stock_code text, quantity integer, invoice_date timestamp,
                           unit_price numeric(10, 2), customer_id text);
INSERT INTO online_retail VALUES
    -- 12347: three invoices of 3, 2 and 1 lines: 77.70, 66.50 and 51.00.
    ('537626', '85116', 12, '2010-12-07 14:57', 2.10, '12347'),
    ('537626', '22375', 24, '2010-12-07 14:57', 1.25, '12347'),
    ('537626', '71477', 6, '2010-12-07 14:57', 3.75, '12347'),
    ('542237', '84625A', 10, '2011-01-26 14:30', 4.95, '12347'),
    ('542237', '22772', 2, '2011-01-26 14:30', 8.50, '12347'),
    ('549222', '22195', 4, '2011-04-07 10:43', 12.75, '12347'),
    -- 12346: 77,183.60 bought and cancelled the same day under two invoices.
    ('541431', '23166', 74215, '2011-01-18 10:01', 1.04, '12346'),
    ('C541433', '23166', -74215, '2011-01-18 10:17', 1.04, '12346'),
    -- X-17: one free item, nothing else.
    ('550000', 'POST', 1, '2011-05-01 09:00', 0.00, 'X-17'),
    -- 'Q"uoted 9': 560001 = 10.00 with a free gift line and 560002 = 3.00 on
    -- 06-01 (day 13.00); a partial refund C560010 = -5.00 on 06-05; 560020
    -- with a line on 06-11 (15.00) listed before its line on 06-10 (1.00):
    -- one order of 16.00 dated 06-10; a line without an invoice, 2.50 on 06-20.
    ('560001', '21212', 2, '2011-06-01 12:00', 5.00, 'Q"uoted 9'),
    ('560001', 'GIFT', 1, '2011-06-01 12:00', 0.00, 'Q"uoted 9'),
    ('560002', '21213', 1, '2011-06-01 16:00', 3.00, 'Q"uoted 9'),
    ('C560010', '21212', -1, '2011-06-05 08:00', 5.00, 'Q"uoted 9'),
    ('560020', '22000', 2, '2011-06-11 09:00', 7.50, 'Q"uoted 9'),
    ('560020', '22001', 1, '2011-06-10 18:00', 1.00, 'Q"uoted 9'),
    (NULL, '22002', 1, '2011-06-20 10:00', 2.50, 'Q"uoted 9'),
    -- Lines without a customer: one 'customer' when grouped naively.
    ('570000', '22003', 1, '2011-07-01 10:00', 9.99, NULL),
    ('570001', '22003', 1, '2011-07-02 10:00', 9.99, NULL);

-- Lines as orders (rfm_agg without a key): 12347 has 6 "orders" averaging
-- 32.53; 12346 stays a purchaser; the free item is a purchase.
SELECT customer_id, (s).*, round((s).monetary / nullif((s).frequency, 0), 2) AS avg_order_value
FROM (SELECT customer_id, rfm_agg(invoice_date::date, quantity * unit_price) AS s
      FROM online_retail WHERE customer_id IS NOT NULL GROUP BY 1) t ORDER BY 1;

-- Orders by invoice: 12347 has 3 orders (average 65.07); 'Q"uoted 9' has
-- 4 purchases (560001, 560002, 560020, the line without an invoice) on 3
-- days (06-01, 06-10, 06-20) and one refund (C560010), monetary 26.50.
-- Without a minimum a net >= 0 is a purchase: 12346's 541431 and X-17's
-- free item still count.
SELECT customer_id, (s).*, round((s).monetary / nullif((s).frequency, 0), 2) AS avg_order_value
FROM (SELECT customer_id, rfm_agg(invoice_date::date, quantity * unit_price, invoice_no) AS s
      FROM online_retail WHERE customer_id IS NOT NULL GROUP BY 1) t ORDER BY 1;

-- min_purchase 0.01: a purchase is an order with a net > 0 on a day that
-- netted at least 0.01. 12346's day nets to 0.00: no purchase (refunds 1,
-- monetary 0.00, first_order NULL); X-17's free item is neither a purchase
-- nor a refund; the others are unchanged.
SELECT customer_id, (rfm_agg(invoice_date::date, quantity * unit_price, invoice_no, 0.01)).*
FROM online_retail WHERE customer_id IS NOT NULL GROUP BY 1 ORDER BY 1;
-- min_purchase 15: 'Q"uoted 9' keeps only 560020 (day 06-10 nets 16.00;
-- 06-01 nets 13.00, 06-20 2.50); 12347's days all reach 15.
SELECT customer_id, (rfm_agg(invoice_date::date, quantity * unit_price, invoice_no, 15)).*
FROM online_retail WHERE customer_id IN ('12347', 'Q"uoted 9') GROUP BY 1 ORDER BY 1;

-- The same with float8 amounts, timestamptz times and bigint keys (the
-- invoice number without its prefix, NULL for the line without one).
SET TIME ZONE 'UTC';
SELECT customer_id, (rfm_agg(invoice_date::timestamptz, (quantity * unit_price)::float8, invoice_no, 0.01::float8)).*
FROM online_retail WHERE customer_id IS NOT NULL GROUP BY 1 ORDER BY 1;
SELECT customer_id,
       (rfm_agg(invoice_date::date, quantity * unit_price,
                (CASE WHEN invoice_no LIKE 'C%' THEN -1 ELSE 1 END) * substr(invoice_no, 2)::bigint, 0.01)).*
FROM online_retail WHERE customer_id IS NOT NULL GROUP BY 1 ORDER BY 1;
RESET TIME ZONE;

-- Generated order lines: rfm_agg with a key equals plain SQL that groups
-- lines into orders (net, earliest date) and days (sum of their orders'
-- nets), for every customer, without and with a minimum.
CREATE TABLE generated_lines AS
SELECT i AS line_id, abs(hashint4(i)) % 300 AS customer,
       'INV' || (abs(hashint4(i * 3 + 7)) % 4000) AS invoice,
       DATE '2023-01-01' + abs(hashint4(i * 5 + 1)) % 60 AS line_date,
       ((abs(hashint4(i * 13 + 5)) % 20000) - 6000) / 100.0 AS amount
FROM generate_series(1, 30000) AS i;
UPDATE generated_lines SET invoice = NULL WHERE line_id % 97 = 0;
UPDATE generated_lines SET amount = 0 WHERE line_id % 89 = 0;
CREATE FUNCTION pg_temp.reference(minimum numeric)
RETURNS TABLE (customer int, first_order date, last_order date, frequency bigint, purchase_days bigint,
               monetary numeric, refunds bigint) LANGUAGE sql AS $$
    WITH orders AS (
        SELECT customer, min(line_date) AS day, sum(amount) AS net
        FROM generated_lines GROUP BY customer, coalesce(invoice, 'line ' || line_id)
    ), days AS (
        SELECT customer, day, sum(net) AS day_net FROM orders GROUP BY 1, 2
    ), classified AS (
        SELECT o.*, CASE WHEN o.net < 0 THEN 'refund'
                         WHEN minimum IS NULL OR (o.net > 0 AND d.day_net >= minimum) THEN 'purchase' END AS kind
        FROM orders o JOIN days d USING (customer, day)
    )
    SELECT customer, min(day) FILTER (WHERE kind = 'purchase'), max(day) FILTER (WHERE kind = 'purchase'),
           count(*) FILTER (WHERE kind = 'purchase'), count(DISTINCT day) FILTER (WHERE kind = 'purchase'),
           sum(net), count(*) FILTER (WHERE kind = 'refund')
    FROM classified GROUP BY customer
$$;
SELECT m AS min_purchase, count(*) AS customers,
       count(*) FILTER (WHERE (o.s).first_order IS NOT DISTINCT FROM r.first_order
                          AND (o.s).last_order IS NOT DISTINCT FROM r.last_order
                          AND (o.s).frequency = r.frequency AND (o.s).purchase_days = r.purchase_days
                          AND (o.s).monetary::text = r.monetary::text AND (o.s).refunds = r.refunds) AS identical,
       sum((o.s).frequency) AS purchases, sum((o.s).refunds) AS refunds
FROM (VALUES (NULL::numeric), (0), (0.01), (25)) AS v(m),
     LATERAL (SELECT customer, rfm_agg(line_date, amount, invoice, v.m) AS s FROM generated_lines GROUP BY 1) o
     JOIN LATERAL pg_temp.reference(v.m) r USING (customer)
GROUP BY m ORDER BY m NULLS FIRST;
-- money: sum(amount) digit for digit; and a key per line (or none) is
-- rfm_agg without a key.
SELECT (rfm_agg(line_date, amount, invoice)).monetary::text = sum(amount)::text AS exact,
       rfm_agg(line_date, amount, line_id) = rfm_agg(line_date, amount) AS line_keys,
       rfm_agg(line_date, amount, NULL::text) = rfm_agg(line_date, amount) AS null_keys
FROM generated_lines;

-- Stored states: the lines of one order split over three batches, merged
-- in any order, equal one pass; so do the states' summaries.
CREATE TABLE batch_states AS
SELECT customer, line_id % 3 AS batch, rfm_agg_state(line_date, amount, invoice, 0.01) AS state
FROM generated_lines GROUP BY 1, 2;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE m.s = o.s) AS equal
FROM (SELECT customer, rfm_state_summary(rfm_state_merge(state ORDER BY batch DESC)) AS s
      FROM batch_states GROUP BY 1) m
JOIN (SELECT customer, rfm_agg(line_date, amount, invoice, 0.01) AS s FROM generated_lines GROUP BY 1) o
USING (customer);
-- A merged state is again a state: merged on its own it stays the same.
-- (Merging a state with itself would add its lines twice: batches must be
-- disjoint, as the builder's are.)
SELECT rfm_state_summary(twice.state) = (SELECT rfm_agg(line_date, amount, invoice, 0.01)
                                         FROM generated_lines WHERE customer = 7) AS stable
FROM (SELECT rfm_state_merge(state) AS state
      FROM (SELECT rfm_state_merge(state) AS state FROM batch_states WHERE customer = 7) once) twice;

-- Errors.
SELECT rfm_agg(d, a, k, -0.01) FROM (VALUES (DATE '2024-01-01', 1.0, 1::bigint)) v(d, a, k);
SELECT rfm_agg(d, a, k, 'NaN'::float8) FROM (VALUES (DATE '2024-01-01', 1.0::float8, 'x')) v(d, a, k);
SELECT rfm_agg(d, a, k, m) FROM (VALUES (DATE '2024-01-01', 1.0, 'a', 1.0), (DATE '2024-01-02', 2.0, 'b', 2.0)) v(d, a, k, m);
SELECT rfm_agg(d, a, k, m) FROM (VALUES (DATE '2024-01-01', 1.0, 'a', 1.0), (DATE '2024-01-02', 2.0, 'b', NULL)) v(d, a, k, m);
SELECT rfm_agg(DATE '2024-01-01', 1e40, 'a');
SELECT rfm_agg(DATE '2024-01-01', 1e-40, 'a');
-- Each amount fits; the order's net does not.
SELECT rfm_agg(d, a, 'a') FROM (VALUES (DATE '2024-01-01', 1e38), (DATE '2024-01-01', 1e38)) v(d, a);
SELECT rfm_state_merge(s) FROM (SELECT rfm_agg_state(DATE '2024-01-01', 1.0, 'a') UNION ALL
                                SELECT rfm_agg_state(DATE '2024-01-01', 1.0)) t(s);
SELECT rfm_state_merge(s) FROM (SELECT rfm_agg_state(DATE '2024-01-01', 1.0, 'a') UNION ALL
                                SELECT rfm_agg_state(DATE '2024-01-01', 1.0, 1::bigint)) t(s);
SELECT rfm_state_merge(s) FROM (SELECT rfm_agg_state(DATE '2024-01-01', 1.0, 'a', 0.01) UNION ALL
                                SELECT rfm_agg_state(DATE '2024-01-01', 1.0, 'a', 0.02)) t(s);
-- Stored bytes are checked field by field: a truncated state, and orders
-- whose keys are out of order.
SELECT rfm_state_summary(substr(rfm_agg_state(DATE '2024-01-01', 1.0, 'a'), 1, 20));
SELECT rfm_state_summary(overlay(s PLACING '\xffffffffffffffff'::bytea FROM 12))
FROM (SELECT rfm_agg_state(d, 1.0, k) AS s FROM (VALUES (DATE '2024-01-01', 1::bigint), (DATE '2024-01-01', 2)) v(d, k)) t;
RESET ROLE;
