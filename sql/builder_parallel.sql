-- The builder's full build reads the orders through the bulk path
-- (segment_bulk_states, here in parallel workers): its states, summaries,
-- scores and every derived column must be those of the composed rfm_agg
-- query and of the GROUP BY path (which a view as source takes), and every
-- refresh path must then equal a fresh build.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;
SET datestyle = 'ISO, YMD';
SET max_parallel_workers_per_gather = 2;
SET min_parallel_table_scan_size = 0;
SET parallel_setup_cost = 0;
SET ROLE ca_analyst;

-- Random orders: refunds, NULL customers, dates and amounts, customers
-- with only refunds or only NULL amounts.
CREATE TABLE bulk_orders (order_id bigserial, customer_id bigint, ordered_on date, amount numeric(12, 2));
INSERT INTO bulk_orders (customer_id, ordered_on, amount)
SELECT CASE WHEN i % 97 = 0 THEN NULL ELSE abs(hashint4(i)) % 1500 END,
       CASE WHEN i % 89 = 0 THEN NULL ELSE DATE '2022-01-01' + abs(hashint4(i * 7 + 3)) % 1090 END,
       CASE WHEN i % 83 = 0 THEN NULL ELSE ((abs(hashint4(i * 13 + 1)) % 60000) - 3000) / 100.0 END
FROM generate_series(1, 30000) AS i;
INSERT INTO bulk_orders (customer_id, ordered_on, amount)
VALUES (5001, '2024-03-01', -20), (5002, '2024-03-01', NULL), (5003, NULL, 12.5);
CREATE VIEW bulk_orders_view AS SELECT * FROM bulk_orders;

-- The build takes the bulk path (one call of segment_bulk_states)...
-- The calls are counted from what the view shows before: its counts are
-- those this backend has not yet passed on to the shared statistics, which
-- may still include calls of an earlier transaction (a backend passes them
-- on at most once a second, and not while another holds their entry).
RESET ROLE;
BEGIN;
SET LOCAL track_functions = 'all';
SET LOCAL ROLE ca_analyst;
SELECT coalesce(sum(calls), 0) AS calls_before FROM pg_stat_xact_user_functions WHERE funcname = 'segment_bulk_states'
\gset
SELECT build_segments('bulk_orders', 'customer_id', 'ordered_on', 'amount', 'bulk_segments', DATE '2024-12-31');
SELECT sum(calls) - :calls_before AS calls FROM pg_stat_xact_user_functions WHERE funcname = 'segment_bulk_states';
COMMIT;
-- A build is a maintenance operation: at a work_mem too small for
-- rfm_summaries on these orders, it still takes the bulk path within
-- maintenance_work_mem (and equals the build above).
SET work_mem = '64kB';
SET hash_mem_multiplier = 1;
SET maintenance_work_mem = '64MB';
\set VERBOSITY terse
SELECT count(*) FROM rfm_summaries('bulk_orders', 'customer_id', 'ordered_on', 'amount');
\set VERBOSITY default
BEGIN;
SET LOCAL track_functions = 'all';
SET LOCAL ROLE ca_analyst;
SELECT coalesce(sum(calls), 0) AS calls_before FROM pg_stat_xact_user_functions WHERE funcname = 'segment_bulk_states'
\gset
SELECT build_segments('bulk_orders', 'customer_id', 'ordered_on', 'amount', 'bulk_low_work_mem', DATE '2024-12-31');
SELECT sum(calls) - :calls_before AS calls FROM pg_stat_xact_user_functions WHERE funcname = 'segment_bulk_states';
COMMIT;
RESET work_mem;
RESET hash_mem_multiplier;
RESET maintenance_work_mem;
SELECT (SELECT count(*) FROM bulk_segments) AS customers,
       (SELECT count(*) FROM (SELECT * FROM bulk_segments EXCEPT SELECT * FROM bulk_low_work_mem) d) AS only_first,
       (SELECT count(*) FROM (SELECT * FROM bulk_low_work_mem EXCEPT SELECT * FROM bulk_segments) d) AS only_low_work_mem;
-- The budget still bounds it: 10,000 customers in one process need more
-- than 1MB (the smallest maintenance_work_mem), and the build takes GROUP BY.
SET ROLE ca_analyst;
CREATE TABLE bulk_many AS
SELECT i AS customer_id, DATE '2024-01-01' + i % 300 AS ordered_on, (i % 50)::numeric AS amount
FROM generate_series(1, 10000) i;
RESET ROLE;
SET work_mem = '64kB';
SET hash_mem_multiplier = 1;
SET maintenance_work_mem = '1MB';
SET max_parallel_workers_per_gather = 0;
BEGIN;
SET LOCAL track_functions = 'all';
SET LOCAL ROLE ca_analyst;
SELECT coalesce(sum(calls), 0) AS calls_before FROM pg_stat_xact_user_functions WHERE funcname = 'segment_bulk_states'
\gset
SELECT build_segments('bulk_many', 'customer_id', 'ordered_on', 'amount', 'bulk_low_memory', DATE '2024-12-31');
SELECT coalesce(sum(calls), 0) - :calls_before AS calls FROM pg_stat_xact_user_functions WHERE funcname = 'segment_bulk_states';
COMMIT;
RESET work_mem;
RESET hash_mem_multiplier;
RESET maintenance_work_mem;
SET max_parallel_workers_per_gather = 2;
SELECT count(*) AS customers, count(*) FILTER (WHERE monetary = customer % 50) AS right_monetary FROM bulk_low_memory;
SELECT drop_segments('bulk_low_work_mem'), drop_segments('bulk_low_memory');
DROP TABLE bulk_many;
SET ROLE ca_analyst;
-- ... and a view the GROUP BY path.
SELECT build_segments('bulk_orders_view', 'customer_id', 'ordered_on', 'amount', 'bulk_grouped', DATE '2024-12-31');

-- Its states are rfm_agg_state's, byte for byte.
SELECT count(*) AS customers, count(*) FILTER (WHERE s.state IS NOT DISTINCT FROM g.state) AS same_state,
       count(*) FILTER (WHERE s.state IS NULL) AS without_summary
FROM bulk_segments_state s
FULL JOIN (SELECT customer_id AS customer, rfm_agg_state(ordered_on, amount) AS state
           FROM bulk_orders WHERE customer_id IS NOT NULL GROUP BY 1) g USING (customer);
-- Every customer's row is the composed query's: rfm_agg, rfm_bins over all
-- summaries, rfm_score, rfm_segment, rfm_class and lifecycle_stage.
WITH s AS (SELECT customer_id AS customer, rfm_agg(ordered_on, amount) AS s
           FROM bulk_orders WHERE customer_id IS NOT NULL GROUP BY 1),
     b AS (SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM s)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE (t.first_order, t.last_order, t.frequency, t.purchase_days, t.monetary, t.refunds)
                              IS NOT DISTINCT FROM ((s.s).first_order, (s.s).last_order, (s.s).frequency,
                                                    (s.s).purchase_days, (s.s).monetary, (s.s).refunds)
                          AND t.rfm_code IS NOT DISTINCT FROM rfm_score(s.s, b.b)::text
                          AND t.segment = coalesce(rfm_segment(rfm_score(s.s, b.b)), 'No purchase')
                          AND t.rfm_class IS NOT DISTINCT FROM rfm_class(s.s, b.b, DATE '2024-12-31')
                          AND t.lifecycle_stage IS NOT DISTINCT FROM
                              lifecycle_stage((s.s).last_order, DATE '2024-12-31')) AS agreeing
FROM s CROSS JOIN b JOIN bulk_segments t ON t.customer = s.customer;
-- The bulk path's build equals the GROUP BY path's, column for column.
SELECT (SELECT count(*) FROM (SELECT * FROM bulk_segments EXCEPT SELECT * FROM bulk_grouped) d) AS only_bulk,
       (SELECT count(*) FROM (SELECT * FROM bulk_grouped EXCEPT SELECT * FROM bulk_segments) d) AS only_grouped;

-- The stored layout (a table) of the same build, refreshed alongside.
SELECT build_segments('bulk_orders', 'customer_id', 'ordered_on', 'amount', 'bulk_stored', DATE '2024-12-31',
                      '{"layout": "table"}');
SELECT c.relname, c.relkind, b.layout FROM pg_class c JOIN segment_builds b ON b.target = c.oid
WHERE c.relname IN ('bulk_segments', 'bulk_stored') ORDER BY 1;

-- Every refresh path equals a fresh build (made by the bulk path), in
-- either layout, and both layouts agree on the migration between the last
-- two refreshes (the view derives the segments before it from the kept
-- statistics and before-images, the table stored them).
CREATE FUNCTION bulk_matches(as_of date)
RETURNS TABLE (only_refreshed bigint, only_fresh bigint, only_view bigint, only_table bigint,
               migration_view_only bigint, migration_table_only bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_segments('bulk_stored', as_of);
    PERFORM build_segments('bulk_orders', 'customer_id', 'ordered_on', 'amount', 'bulk_fresh', as_of);
    RETURN QUERY SELECT (SELECT count(*) FROM (SELECT * FROM bulk_segments EXCEPT SELECT * FROM bulk_fresh) d),
                        (SELECT count(*) FROM (SELECT * FROM bulk_fresh EXCEPT SELECT * FROM bulk_segments) d),
                        (SELECT count(*) FROM (SELECT * FROM bulk_segments EXCEPT SELECT * FROM bulk_stored) d),
                        (SELECT count(*) FROM (SELECT * FROM bulk_stored EXCEPT SELECT * FROM bulk_segments) d),
                        (SELECT count(*) FROM (SELECT * FROM bulk_segments_migration
                                               EXCEPT SELECT * FROM bulk_stored_migration) d),
                        (SELECT count(*) FROM (SELECT * FROM bulk_stored_migration
                                               EXCEPT SELECT * FROM bulk_segments_migration) d);
    PERFORM drop_segments('bulk_fresh');
END $$;
-- New orders for existing and for new customers, with refunds.
INSERT INTO bulk_orders (customer_id, ordered_on, amount)
SELECT CASE WHEN i % 2 = 0 THEN abs(hashint4(i + 77)) % 1500 ELSE 2000 + i END,
       DATE '2024-12-01' + i % 31, CASE WHEN i % 5 = 0 THEN -10.5 ELSE i * 1.25 END
FROM generate_series(1, 300) AS i;
SELECT refresh_segments('bulk_segments', DATE '2024-12-31') - 'seconds' - 'customers' - 'rows_written';
SELECT * FROM bulk_matches(DATE '2024-12-31');
-- as_of one day later, no new orders.
SELECT (refresh_segments('bulk_segments', DATE '2025-01-01'))->>'mode' AS mode;
SELECT * FROM bulk_matches(DATE '2025-01-01');
-- Only refunds: of buying customers, and of a new customer.
INSERT INTO bulk_orders (customer_id, ordered_on, amount)
SELECT abs(hashint4(i + 5)) % 1500, DATE '2024-12-20', -(i % 7 + 1) * 3.5 FROM generate_series(1, 100) AS i;
INSERT INTO bulk_orders (customer_id, ordered_on, amount) VALUES (9000, '2024-12-30', -4);
SELECT (refresh_segments('bulk_segments', DATE '2025-01-01'))->>'mode' AS mode;
SELECT * FROM bulk_matches(DATE '2025-01-01');
-- A delete forces a full rebuild, through the bulk path too; equal again.
DELETE FROM bulk_orders WHERE customer_id = 9000;
RESET ROLE;
BEGIN;
SET LOCAL track_functions = 'all';
SET LOCAL ROLE ca_analyst;
SELECT coalesce(sum(calls), 0) AS calls_before FROM pg_stat_xact_user_functions WHERE funcname = 'segment_bulk_states'
\gset
SELECT (refresh_segments('bulk_segments', DATE '2025-01-02'))->>'mode' AS mode;
SELECT sum(calls) - :calls_before AS calls FROM pg_stat_xact_user_functions WHERE funcname = 'segment_bulk_states';
COMMIT;
SET ROLE ca_analyst;
SELECT * FROM bulk_matches(DATE '2025-01-02');
-- The build through the view captures nothing: its refreshes rebuild, and
-- equal the table's.
SELECT (refresh_segments('bulk_grouped', DATE '2025-01-02'))->>'mode' AS mode;
SELECT (SELECT count(*) FROM (SELECT * FROM bulk_segments EXCEPT SELECT * FROM bulk_grouped) d) AS only_bulk,
       (SELECT count(*) FROM (SELECT * FROM bulk_grouped EXCEPT SELECT * FROM bulk_segments) d) AS only_grouped;
-- A derived build keeps the segment distribution it computes its
-- statistics from; its owner can overwrite it, and the next refresh then
-- reads it again from the customers (and still equals a fresh build).
INSERT INTO bulk_orders (customer_id, ordered_on, amount)
SELECT abs(hashint4(i + 11)) % 1500, DATE '2025-01-02', i * 2.5 FROM generate_series(1, 50) AS i;
UPDATE bulk_segments_statistics SET distribution = '\x13'::bytea WHERE distribution IS NOT NULL;
SELECT (refresh_segments('bulk_segments', DATE '2025-01-03'))->>'mode' AS mode;
SELECT * FROM bulk_matches(DATE '2025-01-03');
-- An as_of move writes one statistics row and nothing else.
SELECT pg_relation_size('bulk_segments_state') AS state_size_before \gset
SELECT (refresh_segments('bulk_segments', DATE '2025-02-01')) - 'seconds' - 'customers' - 'target' AS refreshed;
SELECT pg_relation_size('bulk_segments_state') = :state_size_before AS state_unchanged,
       (SELECT count(*) FROM bulk_segments_statistics) AS statistics_rows,
       (SELECT count(*) FROM bulk_segments_statistics WHERE distribution IS NOT NULL) AS distributions;
SELECT * FROM bulk_matches(DATE '2025-02-01');
-- The owner can also take the distribution away: with it gone (NULL) the
-- next refresh reads it again from the customers, whether orders came in
-- (a delta that only adds customers would otherwise make it a
-- distribution of those alone) or only as_of moved; so it does when the
-- statistics table was emptied (the view shows no rows until then; the
-- migration, which needs the statistics of the refresh before, is lost).
INSERT INTO bulk_orders (customer_id, ordered_on, amount)
SELECT 3000 + i, DATE '2025-02-01', i * 4.5 FROM generate_series(1, 20) AS i;
UPDATE bulk_segments_statistics SET distribution = NULL;
SELECT (refresh_segments('bulk_segments', DATE '2025-02-01'))->>'mode' AS mode;
SELECT * FROM bulk_matches(DATE '2025-02-01');
UPDATE bulk_segments_statistics SET distribution = NULL;
SELECT (refresh_segments('bulk_segments', DATE '2025-02-02'))->>'mode' AS mode;
SELECT * FROM bulk_matches(DATE '2025-02-02');
DELETE FROM bulk_segments_statistics;
SELECT count(*) AS rows_without_statistics FROM bulk_segments;
SELECT (refresh_segments('bulk_segments', DATE '2025-02-02'))->>'mode' AS mode;
SELECT only_refreshed, only_fresh, only_view, only_table FROM bulk_matches(DATE '2025-02-02');
-- Spends with more significant digits than a double keeps (tier thresholds
-- then come from the state table, exactly): both layouts still agree.
CREATE TABLE long_spend (customer_id bigint, ordered_on date, amount numeric);
INSERT INTO long_spend
SELECT i % 40, DATE '2024-06-01' + i % 150, 1000000000.0000000001 * (i % 7 + 1) + i FROM generate_series(1, 400) AS i;
SELECT build_segments('long_spend', 'customer_id', 'ordered_on', 'amount', 'long_view', DATE '2024-12-31');
SELECT build_segments('long_spend', 'customer_id', 'ordered_on', 'amount', 'long_table', DATE '2024-12-31',
                      '{"layout": "table"}');
INSERT INTO long_spend SELECT i, DATE '2024-12-30', 5000000000.00000000015 + i FROM generate_series(35, 45) AS i;
SELECT (refresh_segments('long_view', DATE '2024-12-31'))->>'mode' AS mode,
       (refresh_segments('long_table', DATE '2024-12-31'))->>'mode' AS mode;
SELECT (SELECT count(*) FROM (SELECT * FROM long_view EXCEPT SELECT * FROM long_table) d) AS only_view,
       (SELECT count(*) FROM (SELECT * FROM long_table EXCEPT SELECT * FROM long_view) d) AS only_table,
       (SELECT count(DISTINCT tier) FROM long_view) AS tiers;
SELECT drop_segments('long_view'), drop_segments('long_table');
-- Half of each page of a stored target stays free for the new versions of
-- its rows.
SELECT reloptions FROM pg_class WHERE oid = 'bulk_stored'::regclass;

-- Text keys, order lines and a minimum; timestamptz dates and real amounts:
-- the bulk path's builds equal the GROUP BY path's.
CREATE TABLE bulk_lines (invoice text, customer text, sold_at timestamptz, price real);
INSERT INTO bulk_lines
SELECT 'inv' || (i / 3), 'c' || abs(hashint4(i / 3)) % 400,
       TIMESTAMPTZ '2023-06-01 00:00+00' + (abs(hashint4(i / 3 * 11)) % 500) * interval '1 day 1 hour',
       ((abs(hashint4(i * 17)) % 9000) - 500) / 100.0
FROM generate_series(1, 6000) AS i;
CREATE VIEW bulk_lines_view AS SELECT * FROM bulk_lines;
SELECT build_segments('bulk_lines', 'customer', 'sold_at', 'price', 'lines_bulk', DATE '2024-12-31',
                      '{"order_column": "invoice", "min_purchase": 1}');
SELECT build_segments('bulk_lines_view', 'customer', 'sold_at', 'price', 'lines_grouped', DATE '2024-12-31',
                      '{"order_column": "invoice", "min_purchase": 1}');
SELECT count(*) AS customers,
       (SELECT count(*) FROM (SELECT * FROM lines_bulk EXCEPT SELECT * FROM lines_grouped) d) AS only_bulk,
       (SELECT count(*) FROM (SELECT * FROM lines_grouped EXCEPT SELECT * FROM lines_bulk) d) AS only_grouped,
       (SELECT count(*) FROM (SELECT customer, state FROM lines_bulk_state
                              EXCEPT SELECT customer, rfm_agg_state(sold_at, price::float8, invoice, 1::float8)
                                     FROM bulk_lines GROUP BY customer) d) AS states_differ,
       (SELECT count(state) FROM lines_grouped_state) AS states_kept_without_capture
FROM lines_bulk;

SELECT drop_segments(t)
FROM unnest('{bulk_segments,bulk_stored,bulk_grouped,lines_bulk,lines_grouped}'::regclass[]) t;
DROP FUNCTION bulk_matches(date);
DROP VIEW bulk_orders_view, bulk_lines_view;
DROP TABLE bulk_orders, bulk_lines, long_spend;
