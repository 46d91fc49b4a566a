-- segment_distribution_delta under a forced parallel plan (partial states
-- built in workers, serialized sorted, read back and combined) gives the
-- bytes of a serial plan.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

CREATE TABLE dist_par_rows AS
SELECT i, ROW(DATE '2024-01-01', DATE '2024-01-01' + abs(hashint4(i)) % 300, 1 + abs(hashint4(i * 7)) % 9, 1,
              (abs(hashint4(i * 13)) % 100000) / 100.0, 0)::rfm_summary AS before,
       CASE WHEN i % 3 = 0 THEN NULL
            ELSE ROW(DATE '2024-01-01', DATE '2024-02-01' + abs(hashint4(i * 3)) % 300, 1 + abs(hashint4(i * 5)) % 12, 1,
                     (abs(hashint4(i * 17)) % 100000) / 1000.0, 0)::rfm_summary END AS after
FROM generate_series(1, 60000) AS i;
ANALYZE dist_par_rows;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE dist_serial AS
SELECT i % 5 AS k, segment_distribution_delta(before, after) AS x FROM dist_par_rows GROUP BY 1
UNION ALL SELECT -1, segment_distribution_delta(before, after) FROM dist_par_rows;

SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
SELECT current_setting('server_version_num')::int >= 160000 AS pg16 \gset
\if :pg16
SET debug_parallel_query = on;
\else
SET force_parallel_mode = on;
\endif

EXPLAIN (COSTS OFF) SELECT segment_distribution_delta(before, after) FROM dist_par_rows;
CREATE TEMP TABLE dist_parallel AS
SELECT i % 5 AS k, segment_distribution_delta(before, after) AS x FROM dist_par_rows GROUP BY 1
UNION ALL SELECT -1, segment_distribution_delta(before, after) FROM dist_par_rows;
SELECT count(*) AS groups, count(*) FILTER (WHERE s.x = p.x) AS equal, min(length(s.x)) > 0 AS not_empty
FROM dist_serial s JOIN dist_parallel p USING (k);
-- The parallel delta applies as the serial one does.
SELECT segment_distribution_apply(
           segment_distribution_apply(NULL, (SELECT segment_distribution_delta(NULL, before) FROM dist_par_rows)),
           (SELECT x FROM dist_parallel WHERE k = -1))
     = segment_distribution_apply(NULL, (SELECT segment_distribution_delta(NULL, after) FROM dist_par_rows)) AS applied_equal;

RESET ROLE;
DROP TABLE dist_par_rows;
