-- The builder on a Citus distributed source, beside the same orders in a
-- plain table: the distributed source gets no capture triggers (Citus
-- would run them on its shards, away from the pending table), so inserts
-- and COPY keep working and every refresh rebuilds; both builds agree.
CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'citus check failed: %', what;
    END IF;
    RAISE NOTICE 'ok: %', what;
END $$;
CREATE EXTENSION customer_analytics;
CREATE TABLE orders (customer_id bigint, order_date date, amount numeric(12, 2));
SELECT create_distributed_table('orders', 'customer_id');
CREATE TABLE local_orders (customer_id bigint, order_date date, amount numeric(12, 2));
INSERT INTO orders SELECT abs(hashint4(g)) % 3000, DATE '2023-01-01' + abs(hashint4(g * 7)) % 700,
                          ((abs(hashint4(g * 13)) % 30000) - 600) / 100.0
FROM generate_series(1, 40000) g;
INSERT INTO local_orders SELECT * FROM orders;
SET client_min_messages = warning;  -- Citus warns that the builder's views stay on the coordinator
SELECT build_segments('orders', 'customer_id', 'order_date', 'amount', 'segments', DATE '2024-12-31');
SELECT build_segments('local_orders', 'customer_id', 'order_date', 'amount', 'local_segments', DATE '2024-12-31');
RESET client_min_messages;
SELECT pg_temp.check(NOT incremental AND capture_relations IS NULL, 'the distributed source has no capture triggers')
FROM segment_builds WHERE target = 'segments'::regclass;
SELECT pg_temp.check(incremental, 'the plain source captures new orders')
FROM segment_builds WHERE target = 'local_segments'::regclass;
-- The distributed source stays writable, by INSERT and by COPY.
INSERT INTO orders SELECT g % 3100 + g % 7, DATE '2024-12-01' + g % 30, (g % 400) + 0.25 FROM generate_series(1, 500) g;
COPY orders FROM PROGRAM 'printf "17\t2024-12-30\t99.99\n3050\t2024-12-31\t5.00\n"';
INSERT INTO local_orders SELECT g % 3100 + g % 7, DATE '2024-12-01' + g % 30, (g % 400) + 0.25 FROM generate_series(1, 500) g;
INSERT INTO local_orders VALUES (17, DATE '2024-12-30', 99.99), (3050, DATE '2024-12-31', 5.00);
SELECT pg_temp.check(refresh_segments('segments', DATE '2024-12-31') ->> 'mode' = 'full', 'the distributed build rebuilds');
SELECT pg_temp.check(refresh_segments('local_segments', DATE '2024-12-31') ->> 'mode' = 'incremental',
                     'the plain build merges');
SELECT pg_temp.check((SELECT count(*) FROM (SELECT * FROM segments EXCEPT SELECT * FROM local_segments) d) = 0
                     AND (SELECT count(*) FROM (SELECT * FROM local_segments EXCEPT SELECT * FROM segments) d) = 0
                     AND (SELECT count(*) FROM segments) = 3001,
                     'the build on the distributed source equals the build on the plain one');
SELECT drop_segments('segments');
SELECT drop_segments('local_segments');
