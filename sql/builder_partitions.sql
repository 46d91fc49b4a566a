-- The builder on partitioned sources. Orders inserted through the parent
-- and straight into a partition are both captured, each once; attaching or
-- detaching a partition moves orders without an insert or a delete, so the
-- next refresh rebuilds; a partition that is a foreign table (postgres_fdw)
-- cannot hand inserted rows to a trigger, so such a source is rebuilt at
-- every refresh and stays writable.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never
CREATE TABLE part_orders (customer_id int, ordered_on date, amount numeric(12, 2)) PARTITION BY RANGE (ordered_on);
CREATE TABLE part_orders_2023 PARTITION OF part_orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE part_orders_2024 PARTITION OF part_orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
    PARTITION BY RANGE (ordered_on);
CREATE TABLE part_orders_2024h1 PARTITION OF part_orders_2024 FOR VALUES FROM ('2024-01-01') TO ('2024-07-01');
CREATE TABLE part_orders_2024h2 PARTITION OF part_orders_2024 FOR VALUES FROM ('2024-07-01') TO ('2025-01-01');
INSERT INTO part_orders SELECT g % 60, DATE '2023-01-01' + (g * 13) % 700, (g % 90) + 0.5 FROM generate_series(1, 3000) g;
SELECT build_segments('part_orders', 'customer_id', 'ordered_on', 'amount', 'part_segments', DATE '2024-12-31');
SELECT incremental, array_length(capture_relations, 1) AS capturing_tables
FROM segment_builds WHERE target = 'part_segments'::regclass;

-- Through the root, into a mid-level partition, into a leaf: each captured once.
INSERT INTO part_orders VALUES (1, DATE '2024-12-01', 10), (61, DATE '2023-05-05', 20);
INSERT INTO part_orders_2024 VALUES (2, DATE '2024-03-01', 30);
INSERT INTO part_orders_2024h2 VALUES (62, DATE '2024-08-08', 40);
SELECT count(*) AS captured FROM part_segments_pending WHERE kind = 'i';
SELECT refresh_segments('part_segments', DATE '2024-12-31') ->> 'mode' AS mode;
CREATE FUNCTION part_matches_fresh() RETURNS TABLE (customers bigint, only_refreshed bigint, only_fresh bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM build_segments('part_orders', 'customer_id', 'ordered_on', 'amount', 'part_fresh', DATE '2024-12-31');
    RETURN QUERY SELECT (SELECT count(*) FROM part_segments),
                        (SELECT count(*) FROM (SELECT * FROM part_segments EXCEPT SELECT * FROM part_fresh) d),
                        (SELECT count(*) FROM (SELECT * FROM part_fresh EXCEPT SELECT * FROM part_segments) d);
    PERFORM drop_segments('part_fresh');
END $$;
SELECT * FROM part_matches_fresh();

-- A partition attached with its orders: the next refresh rebuilds and
-- captures on it from then on.
CREATE TABLE part_orders_2022 (customer_id int, ordered_on date, amount numeric(12, 2));
INSERT INTO part_orders_2022 SELECT g % 70, DATE '2022-01-01' + g % 300, 5 FROM generate_series(1, 200) g;
ALTER TABLE part_orders ATTACH PARTITION part_orders_2022 FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
SELECT refresh_segments('part_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT * FROM part_matches_fresh();
INSERT INTO part_orders_2022 VALUES (3, DATE '2022-06-01', 7);
SELECT refresh_segments('part_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT * FROM part_matches_fresh();

-- A partition detached takes its orders away: rebuilt again. Its triggers
-- are dropped; left on it they would capture nothing.
ALTER TABLE part_orders DETACH PARTITION part_orders_2023;
SELECT refresh_segments('part_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT * FROM part_matches_fresh();
SELECT count(*) AS triggers_on_detached FROM pg_trigger WHERE tgrelid = 'part_orders_2023'::regclass AND NOT tgisinternal;
INSERT INTO part_orders_2023 VALUES (4, DATE '2023-02-02', 9);
SELECT count(*) AS captured FROM part_segments_pending;
RESET ROLE;

-- A foreign partition (postgres_fdw, to this same database) attached to a
-- source whose orders are captured: PostgreSQL cannot collect rows routed
-- to a foreign partition for a trigger, so inserts fail until the next
-- refresh, which stops capturing (README: attach foreign partitions, then
-- refresh). A build made when the foreign partition exists never captures.
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
DO $$
BEGIN
    EXECUTE format('CREATE SERVER ca_loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname %L, port %L, host %L)',
                   current_database(), current_setting('port'),
                   split_part(current_setting('unix_socket_directories'), ',', 1));
END $$;
CREATE USER MAPPING FOR ca_analyst SERVER ca_loopback OPTIONS (user 'ca_analyst', password_required 'false');
GRANT USAGE ON FOREIGN SERVER ca_loopback TO ca_analyst;
ALTER ROLE ca_analyst LOGIN;
SET ROLE ca_analyst;
CREATE TABLE remote_orders_2025 (customer_id int, ordered_on date, amount numeric(12, 2));
CREATE FOREIGN TABLE part_orders_2025 PARTITION OF part_orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
    SERVER ca_loopback OPTIONS (table_name 'remote_orders_2025');
INSERT INTO part_orders VALUES (5, DATE '2025-01-15', 11), (5, DATE '2024-12-15', 12);
SELECT count(*) AS remote_rows FROM remote_orders_2025;
SELECT refresh_segments('part_segments', DATE '2025-01-31') ->> 'mode' AS mode;
SELECT incremental, capture_relations FROM segment_builds WHERE target = 'part_segments'::regclass;
SELECT count(*) AS capture_triggers_left FROM pg_trigger t
WHERE t.tgfoid = 'segment_capture()'::regprocedure AND t.tgrelid IN (SELECT relid FROM pg_partition_tree('part_orders'));
-- The source stays writable, every refresh reads it in full, and the
-- result equals a fresh build.
INSERT INTO part_orders VALUES (6, DATE '2025-02-01', 13), (6, DATE '2024-02-01', 14);
SELECT refresh_segments('part_segments', DATE '2025-03-31') ->> 'mode' AS mode;
SELECT build_segments('part_orders', 'customer_id', 'ordered_on', 'amount', 'part_fresh', DATE '2025-03-31');
SELECT (SELECT count(*) FROM (SELECT * FROM part_segments EXCEPT SELECT * FROM part_fresh) d) AS only_refreshed,
       (SELECT count(*) FROM (SELECT * FROM part_fresh EXCEPT SELECT * FROM part_segments) d) AS only_fresh;
SELECT drop_segments('part_fresh');
SELECT drop_segments('part_segments');
DROP FUNCTION part_matches_fresh();
DROP TABLE part_orders, part_orders_2023, remote_orders_2025;
RESET ROLE;
ALTER ROLE ca_analyst NOLOGIN;
DROP USER MAPPING FOR ca_analyst SERVER ca_loopback;
DROP SERVER ca_loopback;
