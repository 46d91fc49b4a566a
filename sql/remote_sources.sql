-- Orders on another server (postgres_fdw): what is shipped to the remote
-- session must give the answer of the caller's session. postgres_fdw runs
-- its remote sessions in UTC; an order at 22:30 UTC is on the next day in
-- Tokyo. The timestamptz variants of rfm_agg are recorded STABLE (setup
-- checks every aggregate's record), so they run here, in the caller's
-- TimeZone; the date variants are IMMUTABLE and are shipped.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
RESET client_min_messages;
DO $$
BEGIN
    EXECUTE format('CREATE SERVER ca_remote FOREIGN DATA WRAPPER postgres_fdw '
                   'OPTIONS (dbname %L, port %L, host %L, extensions %L)',
                   current_database(), current_setting('port'),
                   split_part(current_setting('unix_socket_directories'), ',', 1), 'customer_analytics');
END $$;
CREATE USER MAPPING FOR ca_analyst SERVER ca_remote OPTIONS (user 'ca_analyst', password_required 'false');
GRANT USAGE ON FOREIGN SERVER ca_remote TO ca_analyst;
ALTER ROLE ca_analyst LOGIN;
SET ROLE ca_analyst;

CREATE TABLE remote_orders_2024 (customer_id int, ordered_at timestamptz, amount numeric(12, 2), ordered_on date);
INSERT INTO remote_orders_2024 VALUES
    (1, '2024-03-01 22:30+00', 10, '2024-03-02'), (1, '2024-03-05 12:00+00', 5, '2024-03-05'),
    (2, '2024-12-31 23:30+00', 7, '2025-01-01');
CREATE TABLE remote_orders (customer_id int, ordered_at timestamptz, amount numeric(12, 2), ordered_on date)
    PARTITION BY RANGE (ordered_at);
CREATE TABLE remote_orders_2023 PARTITION OF remote_orders
    FOR VALUES FROM ('2023-01-01 00:00+00') TO ('2024-01-01 00:00+00');
CREATE FOREIGN TABLE remote_orders_2024_shard PARTITION OF remote_orders
    FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2025-01-01 00:00+00')
    SERVER ca_remote OPTIONS (table_name 'remote_orders_2024');
INSERT INTO remote_orders_2023 VALUES (2, '2023-06-30 20:00+00', 3, '2023-07-01');
CREATE TABLE local_orders AS SELECT * FROM remote_orders;

SET TimeZone = 'Asia/Tokyo';
-- Not shipped: the remote side only scans.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT customer_id, rfm_agg(ordered_at, amount) FROM remote_orders_2024_shard GROUP BY 1;
-- Tokyo dates: 2024-03-02 (not 03-01), 2025-01-01 and 2023-07-01.
SELECT customer_id, rfm_agg(ordered_at, amount) FROM remote_orders GROUP BY 1 ORDER BY 1;
SELECT (SELECT array_agg(r ORDER BY customer_id)
          FROM (SELECT customer_id, rfm_agg(ordered_at, amount) r FROM remote_orders GROUP BY 1) s)
     = (SELECT array_agg(r ORDER BY customer_id)
          FROM (SELECT customer_id, rfm_agg(ordered_at, amount) r FROM local_orders GROUP BY 1) s) AS same_as_local;
SET TimeZone = 'America/Los_Angeles';
SELECT customer_id, (rfm_agg(ordered_at, amount)).first_order, (rfm_agg(ordered_at, amount)).last_order
  FROM remote_orders GROUP BY 1 ORDER BY 1;
-- A date computed in the query's own time zone gives the same answer
-- anywhere (it runs here too: postgres_fdw does not ship AT TIME ZONE).
SELECT customer_id, rfm_agg((ordered_at AT TIME ZONE 'Asia/Tokyo')::date, amount)
  FROM remote_orders GROUP BY 1 ORDER BY 1;
-- The date variant is immutable: the whole aggregate runs remotely, and
-- gives what it gives here.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT customer_id, rfm_agg(ordered_on, amount) FROM remote_orders_2024_shard GROUP BY 1;
SELECT customer_id, rfm_agg(ordered_on, amount) FROM remote_orders GROUP BY 1 ORDER BY 1;
SELECT customer_id, rfm_agg(ordered_on, amount) FROM local_orders GROUP BY 1 ORDER BY 1;
RESET TimeZone;

DROP TABLE remote_orders, remote_orders_2024, local_orders;
RESET ROLE;
ALTER ROLE ca_analyst NOLOGIN;
DROP USER MAPPING FOR ca_analyst SERVER ca_remote;
DROP SERVER ca_remote;
