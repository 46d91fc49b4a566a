-- The segment builder, run by an ordinary role that owns its order table.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never
SET extra_float_digits = 0;
SET datestyle = 'ISO, YMD';

CREATE TABLE shop_orders (order_id bigserial PRIMARY KEY, customer_id int, ordered_on date, amount numeric(12, 2));
INSERT INTO shop_orders (customer_id, ordered_on, amount)
SELECT abs(hashint4(i)) % 300, DATE '2023-01-01' + abs(hashint4(i * 7 + 3)) % 700,
       ((abs(hashint4(i * 13 + 1)) % 40000) - 800) / 100.0
FROM generate_series(1, 6000) AS i;

SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'shop_segments',
                      as_of => DATE '2024-12-31',
                      options => '{"lifecycle_thresholds": [63, 126, 365]}');
-- One row per customer; the summary columns equal plain SQL over the orders.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE s.frequency = p.frequency AND s.monetary = p.monetary AND s.last_order = p.last_order
                          AND s.refunds = p.refunds) AS agreeing
FROM shop_segments s JOIN (SELECT customer_id, count(*) FILTER (WHERE amount >= 0) AS frequency, sum(amount) AS monetary,
                                  max(ordered_on) FILTER (WHERE amount >= 0) AS last_order,
                                  count(*) FILTER (WHERE amount < 0) AS refunds
                           FROM shop_orders GROUP BY 1) p ON p.customer_id = s.customer;
-- Stable, documented columns and types.
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'shop_segments'::regclass AND attnum > 0 ORDER BY attnum;
-- The default layout: the target is a view over the state table (whose
-- primary key a lookup by customer uses through the view) and the last
-- statistics row.
SELECT c.relkind, b.layout, b.statistics_table FROM pg_class c JOIN segment_builds b ON b.target = c.oid
WHERE c.relname = 'shop_segments';
SELECT tablename, indexdef FROM pg_indexes WHERE tablename LIKE 'shop\_segments%' ORDER BY indexname;
EXPLAIN (COSTS OFF) SELECT segment FROM shop_segments WHERE customer = 42;
SELECT target, source, customer_column, date_column, amount_column, as_of, refresh_number, last_mode, customers,
       orders_merged FROM segment_builds;
-- Dashboard views.
SELECT sum(customers) AS customers, sum(customer_share) AS share, sum(revenue) = (SELECT sum(amount) FROM shop_orders) AS revenue
FROM shop_segments_segment_sizes;
SELECT * FROM shop_segments_stage_counts ORDER BY lifecycle_stage;
SELECT tier, tier_rank, customers FROM shop_segments_tier_funnel ORDER BY tier_rank;
SELECT sum(customers) FROM shop_segments_quadrant_counts;
SELECT from_segment IS NULL AS new_customers, sum(customers) FROM shop_segments_migration GROUP BY 1;

-- Incremental refresh after batches of new orders equals a full rebuild.
CREATE FUNCTION add_orders(batch int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO shop_orders (customer_id, ordered_on, amount)
    SELECT abs(hashint4(i * batch)) % 360, DATE '2024-06-01' + abs(hashint4(i * 31 + batch)) % 240,
           ((abs(hashint4(i * 17 + batch)) % 30000) - 600) / 100.0
    FROM generate_series(1, 50 * batch) AS i
$$;
SELECT add_orders(1);
SELECT refresh_segments('shop_segments', DATE '2024-12-31') - 'seconds';
SELECT add_orders(2);
SELECT add_orders(3);
SELECT refresh_segments('shop_segments', DATE '2024-12-31') - 'seconds';
SELECT add_orders(4);
SELECT refresh_segments('shop_segments', DATE '2025-01-31') - 'seconds';
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'shop_rebuilt', DATE '2025-01-31');
SELECT (SELECT count(*) FROM shop_segments) AS customers,
       (SELECT count(*) FROM (SELECT * FROM shop_segments EXCEPT SELECT * FROM shop_rebuilt) d) AS only_incremental,
       (SELECT count(*) FROM (SELECT * FROM shop_rebuilt EXCEPT SELECT * FROM shop_segments) d) AS only_rebuilt;
-- Migration between the last two refreshes, and the kept history.
SELECT sum(customers) = (SELECT count(*) FROM shop_segments) AS every_customer,
       sum(customers) FILTER (WHERE from_segment IS DISTINCT FROM to_segment) > 0 AS some_moved
FROM shop_segments_migration;
SELECT count(DISTINCT refresh_number) AS refreshes_with_changes FROM shop_segments_history;

-- Updates and deletes of orders cannot be merged: they force a full rebuild,
-- which again equals a fresh build.
DELETE FROM shop_orders WHERE customer_id = 7;
UPDATE shop_orders SET amount = amount + 1 WHERE customer_id = 8;
SELECT refresh_segments('shop_segments', DATE '2025-01-31') - 'seconds';
SELECT drop_segments('shop_rebuilt');
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'shop_rebuilt', DATE '2025-01-31');
SELECT (SELECT count(*) FROM (SELECT * FROM shop_segments EXCEPT SELECT * FROM shop_rebuilt) d) AS only_incremental,
       (SELECT count(*) FROM (SELECT * FROM shop_rebuilt EXCEPT SELECT * FROM shop_segments) d) AS only_rebuilt,
       (SELECT count(*) FROM shop_segments WHERE customer = 7) AS deleted_customer;
-- A refresh with nothing new rewrites nothing.
SELECT (refresh_segments('shop_segments', DATE '2025-01-31'))->'rows_written' AS rows_written;
SELECT drop_segments('shop_rebuilt');

-- Rule-based tags, checked when added.
SELECT add_segment_rule('shop_segments', 'vip', 'monetary >= 1000 AND frequency >= 20');
SELECT add_segment_rule('shop_segments', 'lapsed', $$lifecycle_stage = 'churned'$$);
SELECT add_segment_rule('shop_segments', 'it''s "quoted"', 'refunds > 0');
SELECT add_segment_rule('shop_segments', 'broken', 'no_such_column > 1');
SELECT add_segment_rule('shop_segments', 'not boolean', 'monetary + 1');
SELECT add_segment_rule('shop_segments', 'two statements', 'true; DROP TABLE shop_orders');
SELECT add_segment_rule('shop_segments', 'syntax', 'monetary >');
SELECT refresh_segments('shop_segments', DATE '2025-01-31') ->> 'mode';
SELECT count(*) FILTER (WHERE 'vip' = ANY (tags)) = count(*) FILTER (WHERE monetary >= 1000 AND frequency >= 20) AS vip,
       count(*) FILTER (WHERE tags @> '{lapsed}') = count(*) FILTER (WHERE lifecycle_stage = 'churned') AS lapsed,
       count(*) FILTER (WHERE tags @> ARRAY['it''s "quoted"']) = count(*) FILTER (WHERE refunds > 0) AS quoted
FROM shop_segments;
-- In the stored layout the tags are GIN-indexed (on a table this small the
-- planner prefers a sequential scan unless told otherwise), as are segment,
-- stage and tier; both layouts hold the same rows.
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'shop_stored', DATE '2025-01-31',
                      '{"lifecycle_thresholds": [63, 126, 365], "layout": "table"}');
SELECT add_segment_rule('shop_stored', r.tag, r.condition) FROM segment_tag_rules r
WHERE r.target = 'shop_segments'::regclass AND r.enabled;
SELECT refresh_segments('shop_stored', DATE '2025-01-31') ->> 'mode';
SELECT indexdef FROM pg_indexes WHERE tablename = 'shop_stored' ORDER BY indexname;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT customer FROM shop_stored WHERE tags @> '{vip}';
RESET enable_seqscan;
SELECT (SELECT count(*) FROM (SELECT * FROM shop_segments EXCEPT SELECT * FROM shop_stored) d) AS only_view,
       (SELECT count(*) FROM (SELECT * FROM shop_stored EXCEPT SELECT * FROM shop_segments) d) AS only_table;
SELECT drop_segments('shop_stored');
SELECT drop_segment_rule('shop_segments', 'vip'), drop_segment_rule('shop_segments', 'vip');

-- Names are identifiers, never SQL.
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'x"; DROP TABLE shop_orders; --');
SELECT build_segments('shop_orders', 'customer_id"; DROP TABLE shop_orders; --', 'ordered_on', 'amount', 'evil');
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'a.b.c');
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', '"Odd Name; --"', DATE '2025-01-31');
SELECT customer, segment FROM "Odd Name; --" ORDER BY customer LIMIT 3;
SELECT drop_segments('"Odd Name; --"');
SELECT count(*) > 0 AS orders_intact FROM shop_orders;

-- Bad arguments.
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'shop_segments');
SELECT build_segments('shop_orders', 'customer_id', 'amount', 'amount', 'wrong_types');
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'ordered_on', 'wrong_types');
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'bad_options', options => '[1]');
SELECT build_segments('shop_orders', 'customer_id', 'ordered_on', 'amount', 'bad_as_of', 'infinity');
SELECT refresh_segments('shop_orders');
SELECT refresh_segments(NULL);

-- A view as the source: no triggers can capture its new rows, so every
-- refresh is a full rebuild.
CREATE VIEW shop_orders_view AS SELECT * FROM shop_orders WHERE amount IS NOT NULL;
SELECT build_segments('shop_orders_view', 'customer_id', 'ordered_on', 'amount', 'view_segments', DATE '2025-01-31');
SELECT refresh_segments('view_segments', DATE '2025-01-31') ->> 'mode' AS mode;
-- Same rows as the table-based build (tags aside: the rules belong to shop_segments).
SELECT (SELECT count(*) FROM (SELECT customer, monetary, rfm_code, segment, rfm_class, lifecycle_stage, tier, quadrant
                              FROM shop_segments EXCEPT
                              SELECT customer, monetary, rfm_code, segment, rfm_class, lifecycle_stage, tier, quadrant
                              FROM view_segments) d) AS differences;
SELECT drop_segments('view_segments');
DROP VIEW shop_orders_view;

-- Order lines: with the order_column option the lines of one invoice are
-- one order, and with min_purchase a purchase needs a day that netted at
-- least that much (an Online Retail-shaped table: text invoices and
-- customers, cancellations 'C...', a free item, a same-day cancellation).
CREATE TABLE retail_lines (line_id bigserial PRIMARY KEY, invoice_no text, customer_id text,
                           invoice_date timestamp, amount numeric(12, 2));
INSERT INTO retail_lines (invoice_no, customer_id, invoice_date, amount) VALUES
    ('537626', '12347', '2010-12-07 14:57', 25.20), ('537626', '12347', '2010-12-07 14:57', 30.00),
    ('537626', '12347', '2010-12-07 14:57', 22.50), ('542237', '12347', '2011-01-26 14:30', 49.50),
    ('542237', '12347', '2011-01-26 14:30', 17.00),
    ('541431', '12346', '2011-01-18 10:01', 77183.60), ('C541433', '12346', '2011-01-18 10:17', -77183.60),
    ('550000', 'X-17', '2011-05-01 09:00', 0.00),
    ('560001', 'Q"uoted 9', '2011-06-01 12:00', 10.00), ('560001', 'Q"uoted 9', '2011-06-01 12:00', 0.00),
    ('C560010', 'Q"uoted 9', '2011-06-05 08:00', -5.00),
    (NULL, 'Q"uoted 9', '2011-06-20 10:00', 2.50),
    ('570000', NULL, '2011-07-01 10:00', 9.99);
INSERT INTO retail_lines (invoice_no, customer_id, invoice_date, amount)
SELECT 'G' || (i / 3), 'c' || (abs(hashint4(i / 3)) % 40), TIMESTAMP '2011-01-01' + (abs(hashint4(i / 3)) % 300) * interval '1 day',
       ((abs(hashint4(i)) % 5000) - 500) / 100.0
FROM generate_series(1, 1500) AS i;
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'retail_segments', DATE '2011-12-09',
                      options => '{"order_column": "invoice_no", "min_purchase": 0.01}');
SELECT order_column, order_type, incremental FROM segment_builds WHERE target = 'retail_segments'::regclass;
SELECT attname, col_description(attrelid, attnum) FROM pg_attribute
WHERE attrelid = 'retail_segments'::regclass AND attname IN ('frequency', 'refunds') ORDER BY attname;
-- 12347: 2 orders (not 5 lines), average 72.10; 12346: bought and cancelled
-- the same day, so no purchase; X-17: a free item only, no purchase;
-- 'Q"uoted 9': 560001 and the line without an invoice, one refund.
SELECT customer, first_order, last_order, frequency, purchase_days, monetary, avg_order_value, refunds, segment
FROM retail_segments WHERE customer NOT LIKE 'c%' ORDER BY customer;
-- Batches that split orders: more lines of existing invoices (one dated
-- earlier than the order), a same-day cancellation, new orders; then the
-- rest of an order in a later batch.
INSERT INTO retail_lines (invoice_no, customer_id, invoice_date, amount) VALUES
    ('542237', '12347', '2011-01-25 09:00', 3.50),        -- 542237 is now dated 2011-01-25
    ('549222', '12347', '2011-04-07 10:43', 51.00),
    ('580000', '12346', '2011-12-01 10:00', 20.00),
    ('580001', 'X-17', '2011-12-02 10:00', 12.00), ('C580001', 'X-17', '2011-12-02 11:00', -12.00),
    ('G10', 'c5', '2011-03-01 10:00', 7.25);
SELECT refresh_segments('retail_segments', DATE '2011-12-09') - 'seconds';
INSERT INTO retail_lines (invoice_no, customer_id, invoice_date, amount) VALUES
    ('549222', '12347', '2011-04-07 10:43', -51.00),      -- 549222 nets to zero: no purchase
    ('580000', '12346', '2011-12-01 10:05', 5.00);
SELECT refresh_segments('retail_segments', DATE '2011-12-09') - 'seconds';
SELECT customer, first_order, last_order, frequency, purchase_days, monetary, refunds, segment
FROM retail_segments WHERE customer NOT LIKE 'c%' ORDER BY customer;
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'retail_rebuilt', DATE '2011-12-09',
                      options => '{"order_column": "invoice_no", "min_purchase": 0.01}');
SELECT (SELECT count(*) FROM retail_segments) AS customers,
       (SELECT count(*) FROM (SELECT * FROM retail_segments EXCEPT SELECT * FROM retail_rebuilt) d) AS only_incremental,
       (SELECT count(*) FROM (SELECT * FROM retail_rebuilt EXCEPT SELECT * FROM retail_segments) d) AS only_rebuilt;
-- Changing an order key forces a full rebuild, which again equals a fresh build.
UPDATE retail_lines SET invoice_no = '542237' WHERE invoice_no = '537626';
SELECT refresh_segments('retail_segments', DATE '2011-12-09') ->> 'mode' AS mode;
SELECT frequency, monetary FROM retail_segments WHERE customer = '12347';
SELECT drop_segments('retail_rebuilt');
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'retail_rebuilt', DATE '2011-12-09',
                      options => '{"order_column": "invoice_no", "min_purchase": 0.01}');
SELECT (SELECT count(*) FROM (SELECT * FROM retail_segments EXCEPT SELECT * FROM retail_rebuilt) d) AS only_incremental,
       (SELECT count(*) FROM (SELECT * FROM retail_rebuilt EXCEPT SELECT * FROM retail_segments) d) AS only_rebuilt;
SELECT drop_segments('retail_rebuilt');
SELECT drop_segments('retail_segments');
-- Integer order keys and integer amounts; min_purchase alone (every row
-- its own order). Captured lines are read with the build's own casts, so
-- an incremental refresh merges numeric states into numeric states.
CREATE TABLE int_lines (order_no int, customer_id int, ordered_on date, cents integer);
INSERT INTO int_lines SELECT i / 4, i % 17, DATE '2024-01-01' + i % 90, (i % 50) - 5 FROM generate_series(1, 800) i;
SELECT build_segments('int_lines', 'customer_id', 'ordered_on', 'cents', 'int_keyed', DATE '2024-12-31',
                      options => '{"order_column": "order_no"}');
SELECT build_segments('int_lines', 'customer_id', 'ordered_on', 'cents', 'int_minimum', DATE '2024-12-31',
                      options => '{"min_purchase": 10}');
SELECT build_segments('int_lines', 'customer_id', 'ordered_on', 'cents', 'int_rows', DATE '2024-12-31');
INSERT INTO int_lines SELECT i / 4, i % 19, DATE '2024-03-01' + i % 90, (i % 50) - 5 FROM generate_series(790, 900) i;
SELECT refresh_segments(t, DATE '2024-12-31') ->> 'mode' AS mode FROM unnest('{int_keyed,int_minimum,int_rows}'::regclass[]) t;
SELECT build_segments('int_lines', 'customer_id', 'ordered_on', 'cents', 'int_keyed_fresh', DATE '2024-12-31',
                      options => '{"order_column": "order_no"}');
SELECT build_segments('int_lines', 'customer_id', 'ordered_on', 'cents', 'int_minimum_fresh', DATE '2024-12-31',
                      options => '{"min_purchase": 10}');
SELECT build_segments('int_lines', 'customer_id', 'ordered_on', 'cents', 'int_rows_fresh', DATE '2024-12-31');
SELECT (SELECT count(*) FROM (SELECT * FROM int_keyed EXCEPT SELECT * FROM int_keyed_fresh) d) AS keyed_differ,
       (SELECT count(*) FROM (SELECT * FROM int_minimum EXCEPT SELECT * FROM int_minimum_fresh) d) AS minimum_differ,
       (SELECT count(*) FROM (SELECT * FROM int_rows EXCEPT SELECT * FROM int_rows_fresh) d) AS rows_differ,
       (SELECT sum(frequency) FROM int_keyed) AS keyed_orders, (SELECT sum(frequency) FROM int_minimum) AS minimum_orders,
       (SELECT sum(frequency) FROM int_rows) AS row_orders;
SELECT drop_segments(t) FROM unnest('{int_keyed,int_minimum,int_rows,int_keyed_fresh,int_minimum_fresh,int_rows_fresh}'::regclass[]) t;
-- Bad options.
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"order_column": 1}');
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"order_column": "nope"}');
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"order_column": "invoice_date"}');
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"order_column": "x\"; DROP TABLE retail_lines; --"}');
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"min_purchase": -1}');
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"min_purchase": "0.01"}');
-- The layout is "view" or "table", nothing else (and nothing is created).
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"layout": "matview"}');
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"layout": 3}');
SELECT build_segments('retail_lines', 'customer_id', 'invoice_date', 'amount', 'bad', options => '{"layout": null}');
SELECT to_regclass('bad') IS NULL AND to_regclass('bad_state') IS NULL AS nothing_created;
SELECT count(*) > 0 AS lines_intact FROM retail_lines;

-- Another role that may read the segment table sees its build (not the
-- other builds), but cannot refresh it.
RESET ROLE;
SET client_min_messages = warning;
DROP ROLE IF EXISTS ca_other;
RESET client_min_messages;
CREATE ROLE ca_other NOLOGIN;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO ca_other;
SET ROLE ca_other;
SELECT count(*) AS visible_builds FROM segment_builds;
SELECT refresh_segments('shop_segments', DATE '2025-01-31');
RESET ROLE;

-- Orders inserted by a role without rights on the builder's tables are
-- still captured (the capture trigger runs with the builder owner's rights).
GRANT INSERT ON shop_orders TO ca_other;
GRANT USAGE ON SEQUENCE shop_orders_order_id_seq TO ca_other;
SET ROLE ca_other;
INSERT INTO shop_orders (customer_id, ordered_on, amount) VALUES (1000, DATE '2025-01-15', 42);
SET ROLE ca_analyst;
SELECT refresh_segments('shop_segments', DATE '2025-01-31') ->> 'orders_merged' AS merged;
SELECT customer, frequency, monetary, segment, lifecycle_stage FROM shop_segments WHERE customer = 1000;
SELECT drop_segments('shop_segments');
SELECT count(*) AS leftover_relations FROM pg_class WHERE relname LIKE 'shop\_segments%';
SELECT count(*) AS leftover_triggers FROM pg_trigger WHERE tgrelid = 'shop_orders'::regclass AND NOT tgisinternal;
RESET ROLE;
REVOKE ALL ON shop_orders FROM ca_other;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ca_other;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ca_other;
DROP OWNED BY ca_other;
DROP ROLE ca_other;
