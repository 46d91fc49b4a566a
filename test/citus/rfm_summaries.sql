-- rfm_summaries and rfm_segments read a table's blocks on this node: on a
-- table Citus keeps in shards (distributed, reference, or a partitioned
-- table distributed with its partitions) that table holds no rows, so they
-- must refuse it (0A000, pointing to rfm_agg with GROUP BY) rather than
-- answer with no customers; a plain table beside them still reads.
CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'citus check failed: %', what;
    END IF;
    RAISE NOTICE 'ok: %', what;
END $$;
-- The SQLSTATE, message and hint of a query's error.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    code text; message text; hint text;
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN code || ' ' || message || ' | ' || hint;
END $$;
CREATE EXTENSION IF NOT EXISTS customer_analytics;
CREATE TABLE bulk_distributed (customer_id bigint, order_date date, amount numeric(12, 2));
SELECT create_distributed_table('bulk_distributed', 'customer_id');
CREATE TABLE bulk_reference (customer_id bigint, order_date date, amount numeric(12, 2));
SELECT create_reference_table('bulk_reference');
CREATE TABLE bulk_partitioned (customer_id bigint, order_date date, amount numeric(12, 2)) PARTITION BY RANGE (order_date);
CREATE TABLE bulk_partitioned_2023 PARTITION OF bulk_partitioned FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE bulk_partitioned_2024 PARTITION OF bulk_partitioned FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SELECT create_distributed_table('bulk_partitioned', 'customer_id');
CREATE TABLE bulk_plain (customer_id bigint, order_date date, amount numeric(12, 2));
INSERT INTO bulk_plain SELECT g % 500, DATE '2023-01-01' + g % 700, g % 90 + 0.5 FROM generate_series(1, 5000) g;
INSERT INTO bulk_distributed SELECT * FROM bulk_plain;
INSERT INTO bulk_reference SELECT * FROM bulk_plain;
INSERT INTO bulk_partitioned SELECT * FROM bulk_plain;
SELECT pg_temp.check((SELECT count(DISTINCT customer_id) FROM bulk_distributed) = 500,
                     'the distributed table holds 500 customers (in its shards)');
SELECT pg_temp.check(pg_temp.error_of(format($q$SELECT count(*) FROM rfm_summaries(%L, 'customer_id', 'order_date', 'amount')$q$, t))
                     = format('0A000 rfm_summaries cannot read "%s" | Summarize it with rfm_agg and GROUP BY, which Citus distributes.', t),
                     'rfm_summaries refuses ' || t)
FROM unnest(ARRAY['bulk_distributed', 'bulk_reference', 'bulk_partitioned', 'bulk_partitioned_2024']) t;
SELECT pg_temp.check(pg_temp.error_of($q$SELECT count(*) FROM rfm_segments('bulk_distributed', 'customer_id', 'order_date', 'amount', DATE '2024-12-31')$q$)
                     LIKE '0A000 rfm_summaries cannot read "bulk_distributed" |%',
                     'rfm_segments refuses a distributed table');
-- The detail says why.
DO $$
DECLARE
    detail text;
BEGIN
    PERFORM count(*) FROM rfm_summaries('bulk_partitioned', 'customer_id', 'order_date', 'amount');
    RAISE EXCEPTION 'citus check failed: no error';
EXCEPTION WHEN feature_not_supported THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    PERFORM pg_temp.check(detail = '"bulk_partitioned" is a Citus table: its rows are in its shards, and rfm_summaries '
                                   'reads only the table of that name on this node, which holds none of them.',
                          'the refusal says why');
END $$;
SELECT pg_temp.check((SELECT count(*) FROM rfm_summaries('bulk_plain', 'customer_id', 'order_date', 'amount')) = 500,
                     'a plain table beside them is read');
SELECT pg_temp.check((SELECT count(*) FROM (SELECT customer_id, rfm_agg(order_date, amount) FROM bulk_distributed GROUP BY 1
                                            EXCEPT SELECT customer, summary FROM rfm_summaries('bulk_plain', 'customer_id', 'order_date', 'amount')) d) = 0,
                     'rfm_agg with GROUP BY, the hint''s way, gives the plain table''s summaries');
DROP TABLE bulk_distributed, bulk_reference, bulk_partitioned, bulk_plain;
