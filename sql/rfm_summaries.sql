-- rfm_summaries: the bulk path. Its result must be the result of
--   SELECT customer, rfm_agg(date, amount [, order_key, min_purchase])
--   FROM source GROUP BY customer
-- digit for digit, with the same NULL groups, under serial and parallel
-- scans, for every key, date and amount type it reads.

-- A table worked by hand: customer 1 has two purchases on one day and a
-- refund, customer 2 only a row without a date (its group exists, with a
-- NULL summary), customer 3 only a refund, and one order has no customer
-- (GROUP BY puts it in a group of its own).
CREATE TABLE bulk_tiny (customer_id int, order_date date, amount numeric);
INSERT INTO bulk_tiny VALUES (1, '2024-01-01', 10), (1, '2024-01-01', 5.5), (1, '2024-01-03', -2),
                             (2, NULL, 3), (NULL, '2024-02-01', 7), (3, '2024-01-05', -1);
SELECT * FROM rfm_summaries('bulk_tiny', 'customer_id', 'order_date', 'amount') ORDER BY customer NULLS LAST;
SELECT customer, (summary).* FROM rfm_summaries('bulk_tiny', 'customer_id', 'order_date', 'amount')
 WHERE customer = 1;
-- An empty table has no customers.
CREATE TABLE bulk_empty (customer_id bigint, order_date date, amount numeric);
SELECT count(*) FROM rfm_summaries('bulk_empty', 'customer_id', 'order_date', 'amount');

-- The comparison: every (customer, summary) of one side that the other
-- lacks, as text (so 1.5 and 1.50 differ), both ways; NULL customers and
-- NULL summaries compare equal to themselves.
CREATE SCHEMA bulk_check;
CREATE FUNCTION bulk_check.differences(bulk text, reference text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  customers bigint; reference_customers bigint; missing bigint; extra bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) q', bulk) INTO customers;
  EXECUTE format('SELECT count(*) FROM (%s) q', reference) INTO reference_customers;
  EXECUTE format('SELECT count(*) FROM (SELECT customer::text, summary::text FROM (%s) b EXCEPT ALL '
                 'SELECT customer::text, summary::text FROM (%s) r) d', reference, bulk) INTO missing;
  EXECUTE format('SELECT count(*) FROM (SELECT customer::text, summary::text FROM (%s) b EXCEPT ALL '
                 'SELECT customer::text, summary::text FROM (%s) r) d', bulk, reference) INTO extra;
  RETURN format('%s customers (reference %s), %s missing, %s extra', customers, reference_customers, missing, extra);
END $$;
-- The SQLSTATE, message and hint of an error (no detail: it may hold sizes).
CREATE FUNCTION bulk_check.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  code text; message text; hint text;
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN code || ' ' || message || ' | ' || hint;
END $$;
-- rfm_summaries against GROUP BY with rfm_agg, for a source and its
-- columns; extra arguments (order_column, min_purchase, customer_type) go
-- to both sides, casts only to rfm_agg's.
CREATE FUNCTION bulk_check.against_rfm_agg(source text, customer text, day text, amount text,
                                           order_key text DEFAULT NULL, minimum text DEFAULT NULL,
                                           customer_type text DEFAULT NULL, amount_cast text DEFAULT '',
                                           order_cast text DEFAULT '')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  arguments text := format('%L, %L, %L, %L', source, customer, day, amount);
  aggregate text := format('%I, %I%s', day, amount, amount_cast);
BEGIN
  IF customer_type IS NOT NULL THEN
    arguments := arguments || format(', customer_type => NULL::%s', customer_type);
  END IF;
  IF order_key IS NOT NULL THEN
    arguments := arguments || format(', order_column => %L', order_key);
    aggregate := aggregate || format(', %I%s', order_key, order_cast);
  ELSIF minimum IS NOT NULL THEN
    aggregate := aggregate || ', NULL::bigint';
  END IF;
  IF minimum IS NOT NULL THEN
    arguments := arguments || format(', min_purchase => %s', minimum);
    aggregate := aggregate || format(', %s', minimum);
  END IF;
  RETURN bulk_check.differences(
    format('SELECT customer, summary FROM rfm_summaries(%s)', arguments),
    format('SELECT %I AS customer, rfm_agg(%s) AS summary FROM %s GROUP BY 1', customer, aggregate, source));
END $$;

-- Random orders: NULL customers, dates and amounts (2 % each), refunds,
-- amounts with 0 to 4 decimals, a few beyond 128 bits (which rfm_agg
-- continues in numeric: 10^40, 10^-40, and many near 10^37, whose totals
-- leave 128 bits), and customers whose rows never have a date.
SELECT setseed(0.15);
CREATE TABLE bulk_orders AS
SELECT i AS order_id,
       CASE WHEN random() < 0.02 THEN NULL ELSE (random() * 400)::int END AS customer_id,
       CASE WHEN random() < 0.02 THEN NULL ELSE DATE '2021-01-01' + (random() * 1400)::int END AS order_date,
       CASE WHEN r < 0.02 THEN NULL
            WHEN r < 0.07 THEN -round((random() * 300)::numeric, 2)
            WHEN r < 0.075 THEN 1e40
            WHEN r < 0.08 THEN 1e-40
            WHEN r < 0.10 THEN round((random() * 1e37)::numeric, 0)
            ELSE round((random() * 500)::numeric, (random() * 4)::int) END AS amount,
       'K' || (i % 997) AS order_code
FROM (SELECT i, random() AS r FROM generate_series(1, 40000) i) g;
INSERT INTO bulk_orders SELECT 0, 10000 + i, NULL, 5, 'none' FROM generate_series(1, 3) i;
ANALYZE bulk_orders;
-- How much of it takes the paths beyond 128 bits.
SELECT count(*) FILTER (WHERE abs(amount) >= 1e36 OR amount = 1e-40) AS wide_amounts,
       count(DISTINCT customer_id) FILTER (WHERE abs(amount) >= 1e36) AS customers_beyond_128_bits
FROM bulk_orders;

-- Serial: no workers (hash aggregation for the reference, so that both
-- read every customer's rows in the table's order).
SET max_parallel_workers_per_gather = 0;
SET enable_sort = off;
SELECT bulk_check.against_rfm_agg('bulk_orders', 'customer_id', 'order_date', 'amount');

-- Parallel: workers of rfm_summaries's own (it sizes them as the planner
-- sizes a parallel scan), with and without the leader scanning too; every
-- customer's rows lie in blocks that different processes read, so the
-- workers' partial summaries (and totals beyond 128 bits) are merged.
SET max_parallel_workers_per_gather = 2;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
SELECT bulk_check.against_rfm_agg('bulk_orders', 'customer_id', 'order_date', 'amount');
SET parallel_leader_participation = on;
SELECT bulk_check.against_rfm_agg('bulk_orders', 'customer_id', 'order_date', 'amount');

-- float8 amounts: the same compensated sums as rfm_agg (summed in another
-- order by the workers, so compared to 9 decimals; serially exactly).
CREATE TABLE bulk_float AS
SELECT customer_id, order_date,
       CASE WHEN amount IS NULL OR abs(amount) > 1e30 OR amount = 1e-40 THEN NULL ELSE amount::float8 / 7 END AS amount
FROM bulk_orders;
SET max_parallel_workers_per_gather = 0;
SELECT bulk_check.against_rfm_agg('bulk_float', 'customer_id', 'order_date', 'amount');
SET max_parallel_workers_per_gather = 2;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE ((b.summary).first_order, (b.summary).last_order, (b.summary).frequency,
                               (b.summary).purchase_days, (b.summary).refunds, round((b.summary).monetary, 9))
                               IS NOT DISTINCT FROM
                              ((r.s).first_order, (r.s).last_order, (r.s).frequency,
                               (r.s).purchase_days, (r.s).refunds, round((r.s).monetary, 9))) AS equal
FROM rfm_summaries('bulk_float', 'customer_id', 'order_date', 'amount') b
JOIN (SELECT customer_id, rfm_agg(order_date, amount) AS s FROM bulk_float GROUP BY 1) r
  ON b.customer = r.customer_id;

-- Key, date and amount types: smallint and integer keys come out as bigint;
-- text, varchar and uuid keys as customer_type; integer amounts are summed
-- exactly (rfm_agg of amount::numeric), real amounts as float8; timestamp
-- and timestamptz dates are calendar days in the session's time zone.
CREATE TABLE bulk_types AS
SELECT customer_id::smallint AS small_key, customer_id AS int_key,
       'C-' || customer_id AS text_key, ('C-' || customer_id)::varchar(20) AS varchar_key,
       md5(customer_id::text)::uuid AS uuid_key,
       order_date, order_date + time '23:30' AS order_time,
       (order_date + time '23:30') AT TIME ZONE 'UTC' AS order_instant,
       CASE WHEN abs(amount) < 1e6 THEN round(amount)::int END AS int_amount,
       CASE WHEN abs(amount) < 1e6 THEN amount::real END AS real_amount, amount, order_code,
       md5(order_code)::uuid AS order_uuid
FROM bulk_orders;
SELECT bulk_check.against_rfm_agg('bulk_types', 'small_key', 'order_date', 'amount');
SELECT bulk_check.against_rfm_agg('bulk_types', 'int_key', 'order_date', 'int_amount', amount_cast => '::numeric');
SELECT bulk_check.against_rfm_agg('bulk_types', 'text_key', 'order_date', 'amount', customer_type => 'text');
SELECT bulk_check.against_rfm_agg('bulk_types', 'varchar_key', 'order_date', 'amount', customer_type => 'varchar');
SELECT bulk_check.against_rfm_agg('bulk_types', 'varchar_key', 'order_date', 'amount', customer_type => 'text');
SELECT bulk_check.against_rfm_agg('bulk_types', 'uuid_key', 'order_date', 'amount', customer_type => 'uuid');
SET max_parallel_workers_per_gather = 0;
SELECT bulk_check.against_rfm_agg('bulk_types', 'int_key', 'order_date', 'real_amount', amount_cast => '::float8');
SET max_parallel_workers_per_gather = 2;
-- 23:30 UTC is the next day in Tokyo and the same day in Los Angeles.
SET TimeZone = 'Asia/Tokyo';
SELECT bulk_check.against_rfm_agg('bulk_types', 'int_key', 'order_instant', 'amount');
SELECT bulk_check.against_rfm_agg('bulk_types', 'int_key', 'order_time', 'amount');
SELECT (summary).last_order FROM rfm_summaries('bulk_types', 'int_key', 'order_instant', 'amount')
 WHERE customer = 7;
SET TimeZone = 'America/Los_Angeles';
SELECT bulk_check.against_rfm_agg('bulk_types', 'int_key', 'order_instant', 'amount');
SELECT (summary).last_order FROM rfm_summaries('bulk_types', 'int_key', 'order_instant', 'amount')
 WHERE customer = 7;
SELECT max(order_date) FROM bulk_orders WHERE customer_id = 7 AND amount >= 0;
RESET TimeZone;

-- With an order key (lines of one order are one order; bigint and text
-- keys, with and without a minimum), as rfm_agg with the same arguments.
-- An order's net must fit 38 digits, so amounts beyond them are an error
-- for both.
SELECT bulk_check.error_of($$SELECT count(*) FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount',
                                                                 order_column => 'order_id')$$) AS bulk,
       bulk_check.error_of($$SELECT count(s) FROM (SELECT rfm_agg(order_date, amount, order_id) AS s FROM bulk_orders
                                                   GROUP BY customer_id) q$$) AS rfm_agg;
CREATE TABLE bulk_lines AS
SELECT * FROM bulk_types WHERE amount IS NULL OR (abs(amount) < 1e30 AND amount <> 1e-40);
SELECT bulk_check.against_rfm_agg('bulk_lines', 'int_key', 'order_date', 'amount', order_key => 'int_key');
SELECT bulk_check.against_rfm_agg('bulk_lines', 'int_key', 'order_date', 'amount', order_key => 'order_code');
SELECT bulk_check.against_rfm_agg('bulk_lines', 'int_key', 'order_date', 'amount', order_key => 'order_code',
                                  minimum => '10.00');
SELECT bulk_check.against_rfm_agg('bulk_lines', 'int_key', 'order_date', 'amount', minimum => '0.01');
SET parallel_leader_participation = off;
SELECT bulk_check.against_rfm_agg('bulk_lines', 'text_key', 'order_date', 'amount', order_key => 'order_code',
                                  minimum => '0', customer_type => 'text');
SELECT bulk_check.against_rfm_agg('bulk_lines', 'int_key', 'order_instant', 'int_amount', order_key => 'order_uuid',
                                  amount_cast => '::numeric', order_cast => '::text');
SET parallel_leader_participation = on;
SET max_parallel_workers_per_gather = 0;
SELECT bulk_check.against_rfm_agg('bulk_lines', 'int_key', 'order_date', 'real_amount', order_key => 'order_code',
                                  minimum => '5', amount_cast => '::float8');
SET max_parallel_workers_per_gather = 2;

-- rfm_segments: the same summaries scored in the same pass, equal to the
-- composed query (rfm_bins over every summary, rfm_score, rfm_segment and
-- lifecycle_stage), customers without a purchase (and the NULL customer's
-- group) included; serially, in parallel and with an order key.
CREATE FUNCTION bulk_check.segments_against(source text, customer text, day text, amount text, as_of date,
                                            extra text DEFAULT '') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  bulk text := format('SELECT customer, summary, score, segment, stage FROM rfm_segments(%L, %L, %L, %L, %L%s)',
                      source, customer, day, amount, as_of, extra);
  reference text := format('WITH s AS MATERIALIZED (SELECT customer, summary FROM rfm_summaries(%L, %L, %L, %L%s)), '
                           'b AS (SELECT rfm_bins(summary, %L::date) AS b FROM s) '
                           'SELECT customer, summary, rfm_score(summary, b) AS score, '
                           'rfm_segment(rfm_score(summary, b)) AS segment, '
                           'lifecycle_stage((summary).last_order, %L::date) AS stage FROM s, b',
                           source, customer, day, amount, extra, as_of, as_of);
  rows bigint; missing bigint; extra_rows bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) q', bulk) INTO rows;
  EXECUTE format('SELECT count(*) FROM (SELECT q::text FROM (%s) q EXCEPT ALL SELECT q::text FROM (%s) q) d',
                 reference, bulk) INTO missing;
  EXECUTE format('SELECT count(*) FROM (SELECT q::text FROM (%s) q EXCEPT ALL SELECT q::text FROM (%s) q) d',
                 bulk, reference) INTO extra_rows;
  RETURN format('%s rows, %s missing, %s extra', rows, missing, extra_rows);
END $$;
SELECT bulk_check.segments_against('bulk_orders', 'customer_id', 'order_date', 'amount', '2024-12-31');
SET max_parallel_workers_per_gather = 0;
SELECT bulk_check.segments_against('bulk_orders', 'customer_id', 'order_date', 'amount', '2023-06-30');
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT bulk_check.segments_against('bulk_lines', 'text_key', 'order_date', 'amount', '2024-12-31',
                                   ', customer_type => NULL::text, order_column => ''order_code'', min_purchase => 1');
SET parallel_leader_participation = on;
SELECT bulk_check.segments_against('bulk_float', 'customer_id', 'order_date', 'amount', '2025-03-01');
SELECT segment, stage, count(*) FROM rfm_segments('bulk_orders', 'customer_id', 'order_date', 'amount', '2024-12-31')
 WHERE segment IN ('Champions', 'Lost') OR segment IS NULL GROUP BY 1, 2 ORDER BY 1, 2;
-- A customer with only refunds has a summary but no score, segment or stage.
SELECT * FROM rfm_segments('bulk_tiny', 'customer_id', 'order_date', 'amount', '2024-12-31') WHERE customer = 3;
SELECT * FROM rfm_segments('bulk_orders', 'customer_id', 'order_date', 'amount', NULL);
SELECT * FROM rfm_segments('bulk_orders', 'customer_id', 'order_date', 'amount', 'infinity');

-- A partitioned table whose partitions order their columns differently
-- (one with a dropped column) and an inheritance tree: every partition and
-- child is read, as by a query of the parent.
CREATE TABLE bulk_parts (customer_id int, order_date date, amount numeric) PARTITION BY RANGE (order_date);
CREATE TABLE bulk_parts_old (amount numeric, junk int, customer_id int, order_date date);
ALTER TABLE bulk_parts_old DROP COLUMN junk;
ALTER TABLE bulk_parts ATTACH PARTITION bulk_parts_old FOR VALUES FROM (MINVALUE) TO ('2022-01-01');
CREATE TABLE bulk_parts_new PARTITION OF bulk_parts FOR VALUES FROM ('2022-01-01') TO ('2023-06-01')
  PARTITION BY HASH (customer_id);
CREATE TABLE bulk_parts_new_0 PARTITION OF bulk_parts_new FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE bulk_parts_new_1 PARTITION OF bulk_parts_new FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE bulk_parts_rest PARTITION OF bulk_parts DEFAULT;
INSERT INTO bulk_parts SELECT customer_id, order_date, amount FROM bulk_orders WHERE order_date IS NOT NULL;
SELECT bulk_check.against_rfm_agg('bulk_parts', 'customer_id', 'order_date', 'amount');
SELECT bulk_check.against_rfm_agg('bulk_parts_new', 'customer_id', 'order_date', 'amount');
CREATE TABLE bulk_parent (customer_id int, order_date date, amount numeric);
CREATE TABLE bulk_child (extra text) INHERITS (bulk_parent);
INSERT INTO bulk_parent SELECT customer_id, order_date, amount FROM bulk_orders WHERE order_id % 2 = 0;
INSERT INTO bulk_child SELECT customer_id, order_date, amount, 'x' FROM bulk_orders WHERE order_id % 2 = 1;
SELECT bulk_check.against_rfm_agg('bulk_parent', 'customer_id', 'order_date', 'amount');
-- A materialized view is a table to read; a temporary table too (read by
-- the leader alone: workers cannot see its buffers).
CREATE MATERIALIZED VIEW bulk_matview AS SELECT * FROM bulk_orders;
SELECT bulk_check.against_rfm_agg('bulk_matview', 'customer_id', 'order_date', 'amount');
CREATE TEMP TABLE bulk_temp AS SELECT * FROM bulk_orders;
SELECT bulk_check.against_rfm_agg('bulk_temp', 'customer_id', 'order_date', 'amount');
-- The statement's snapshot: rows inserted by the same transaction are
-- seen, rows of a concurrent uncommitted one would not be (isolation
-- tests cover that for rfm_agg; the scan uses the same snapshot).
BEGIN;
INSERT INTO bulk_tiny VALUES (1, '2024-03-01', 100);
SELECT (summary).frequency, (summary).monetary FROM rfm_summaries('bulk_tiny', 'customer_id', 'order_date', 'amount')
 WHERE customer = 1;
ROLLBACK;
SELECT (summary).frequency, (summary).monetary FROM rfm_summaries('bulk_tiny', 'customer_id', 'order_date', 'amount')
 WHERE customer = 1;

-- In parallel too: the workers see the transaction's own rows, and with
-- no worker to be had (max_parallel_workers = 0) the caller reads alone.
BEGIN;
INSERT INTO bulk_orders VALUES (-2, 100000, '2024-12-31', 12.5, 'new');
SELECT customer, summary FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount')
 WHERE customer = 100000;
ROLLBACK;
SET max_parallel_workers = 0;
SELECT bulk_check.against_rfm_agg('bulk_orders', 'customer_id', 'order_date', 'amount');
RESET max_parallel_workers;

-- What it refuses, and the same bad values as rfm_agg.
CREATE VIEW bulk_view AS SELECT * FROM bulk_orders;
SELECT * FROM rfm_summaries('bulk_view', 'customer_id', 'order_date', 'amount');
CREATE FOREIGN DATA WRAPPER bulk_fdw;
CREATE SERVER bulk_server FOREIGN DATA WRAPPER bulk_fdw;
CREATE FOREIGN TABLE bulk_foreign (customer_id int, order_date date, amount numeric) SERVER bulk_server;
SELECT * FROM rfm_summaries('bulk_foreign', 'customer_id', 'order_date', 'amount');
CREATE TABLE bulk_mixed (customer_id int, order_date date, amount numeric) PARTITION BY LIST (customer_id);
ALTER TABLE bulk_mixed ATTACH PARTITION bulk_foreign FOR VALUES IN (1);
SELECT * FROM rfm_summaries('bulk_mixed', 'customer_id', 'order_date', 'amount');
CREATE INDEX bulk_orders_customer ON bulk_orders (customer_id);
SELECT * FROM rfm_summaries('bulk_orders_customer', 'customer_id', 'order_date', 'amount');
CREATE MATERIALIZED VIEW bulk_unpopulated AS SELECT * FROM bulk_orders WITH NO DATA;
SELECT * FROM rfm_summaries('bulk_unpopulated', 'customer_id', 'order_date', 'amount');
SELECT * FROM rfm_summaries('bulk_orders', 'customer', 'order_date', 'amount');
SELECT * FROM rfm_summaries('bulk_orders', 'ctid', 'order_date', 'amount');
SELECT * FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', NULL);
SELECT * FROM rfm_summaries(NULL, 'customer_id', 'order_date', 'amount');
SELECT * FROM rfm_summaries('bulk_orders', 'amount', 'order_date', 'amount');
SELECT * FROM rfm_summaries('bulk_orders', 'customer_id', 'amount', 'amount');
SELECT * FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'order_code');
SELECT * FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount', order_column => 'amount');
SELECT * FROM rfm_summaries('bulk_types', 'text_key', 'order_date', 'amount');
SELECT * FROM rfm_summaries('bulk_types', 'int_key', 'order_date', 'amount', customer_type => NULL::text);
SELECT * FROM rfm_summaries('bulk_types', 'text_key', 'order_date', 'amount', customer_type => NULL::uuid);
SELECT * FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount', min_purchase => -1);
SELECT * FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount', min_purchase => 'NaN');
CREATE COLLATION bulk_case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE bulk_ci (customer_code text COLLATE bulk_case_insensitive, order_date date, amount numeric);
SELECT * FROM rfm_summaries('bulk_ci', 'customer_code', 'order_date', 'amount', customer_type => NULL::text);
SET max_parallel_workers_per_gather = 0;
CREATE TABLE bulk_bad (customer_id int, order_date date, amount numeric, amount8 float8);
INSERT INTO bulk_bad VALUES (1, '2024-01-01', 1, 1), (1, 'infinity', 2, 2), (2, '2024-01-01', 'NaN', 'Infinity');
SELECT * FROM rfm_summaries('bulk_bad', 'customer_id', 'order_date', 'amount');
SELECT customer_id, rfm_agg(order_date, amount) FROM bulk_bad GROUP BY 1;
DELETE FROM bulk_bad WHERE order_date = 'infinity';
SELECT * FROM rfm_summaries('bulk_bad', 'customer_id', 'order_date', 'amount');
SELECT * FROM rfm_summaries('bulk_bad', 'customer_id', 'order_date', 'amount8');
-- A bad value that a parallel worker reads: its error reaches the caller.
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
INSERT INTO bulk_orders VALUES (-1, 5, '2022-02-02', 'NaN', 'bad');
SELECT count(*) FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount');
DELETE FROM bulk_orders WHERE order_id = -1;
SET parallel_leader_participation = on;
-- A worker that fails while the others still send it rows (or wait for
-- its results): the caller gets the worker's own error, as a serial scan
-- reports it, never the others' view of a process that stopped early. The
-- few bad rows land in whichever process reads their block; run many times,
-- so that the timing that once let "a process ... stopped" through recurs.
CREATE TABLE bulk_race (customer_id int, order_date date, amount numeric);
INSERT INTO bulk_race SELECT i % 5000, date '2024-01-01' + i % 300,
                             CASE WHEN i % 50000 = 7777 THEN 'NaN'::numeric ELSE i % 97 END
FROM generate_series(1, 200000) i;
SET max_parallel_workers_per_gather = 0;
SELECT bulk_check.error_of($$SELECT count(*) FROM rfm_summaries('bulk_race', 'customer_id', 'order_date', 'amount')$$)
  AS serial \gset
SELECT :'serial';
SET max_parallel_workers_per_gather = 3;
SELECT bulk_check.error_of($$SELECT count(*) FROM rfm_summaries('bulk_race', 'customer_id', 'order_date', 'amount')$$)
       = :'serial' AS same, count(*)
FROM generate_series(1, 50) GROUP BY 1;
SET parallel_leader_participation = off;
SELECT bulk_check.error_of($$SELECT count(*) FROM rfm_summaries('bulk_race', 'customer_id', 'order_date', 'amount')$$)
       = :'serial' AS same, count(*)
FROM generate_series(1, 50) GROUP BY 1;
SET parallel_leader_participation = on;
SET max_parallel_workers_per_gather = 2;
DROP TABLE bulk_race;

-- Memory is bounded by work_mem (times hash_mem_multiplier) per process:
-- beyond it, a clear error, never an out-of-memory crash.
SET work_mem = '64kB';
SET hash_mem_multiplier = 1;
SELECT bulk_check.error_of($$SELECT count(*) FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount')$$);
SET max_parallel_workers_per_gather = 0;
SELECT bulk_check.error_of($$SELECT count(*) FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount')$$);
SET max_parallel_workers_per_gather = 2;
RESET work_mem;
RESET hash_mem_multiplier;
SELECT count(*) FROM rfm_summaries('bulk_orders', 'customer_id', 'order_date', 'amount');

RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
RESET enable_sort;
