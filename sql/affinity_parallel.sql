-- Affinity and segment overlap under a forced parallel plan (partial states built in workers,
-- serialized, deserialized and combined) give the same results as a
-- serial plan.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

CREATE TABLE affinity_par_rows AS
SELECT i, abs(hashint4(i)) % 5000 AS customer, abs(hashint4(i * 11 + 4)) % 3 = 0 AS flag_a,
       abs(hashint4(i * 13 + 5)) % 4 = 0 AS flag_b,
       ARRAY(SELECT 'cat' || (abs(hashint4(i * 31 + j)) % 12) FROM generate_series(1, 1 + i % 4) j) AS items
FROM generate_series(1, 60000) AS i;
ANALYZE affinity_par_rows;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_results AS
SELECT customer % 7 AS k,
       affinity(items, 0.01, 20)::text AS affinity,
       segment_overlap(flag_a, flag_b)::text AS overlap
FROM affinity_par_rows GROUP BY 1;

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

EXPLAIN (COSTS OFF)
SELECT customer % 7, affinity(items), segment_overlap(flag_a, flag_b) FROM affinity_par_rows GROUP BY 1;
CREATE TEMP TABLE parallel_results AS
SELECT customer % 7 AS k,
       affinity(items, 0.01, 20)::text AS affinity,
       segment_overlap(flag_a, flag_b)::text AS overlap
FROM affinity_par_rows GROUP BY 1;
-- Each column equal in every group.
SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.affinity = p.affinity) AS affinity,
       count(*) FILTER (WHERE s.overlap = p.overlap) AS overlap
FROM serial_results s JOIN parallel_results p USING (k);
-- Over the whole table (one group, states from both workers combined).
EXPLAIN (COSTS OFF) SELECT affinity(items, 0.01, 5) FROM affinity_par_rows;
SELECT (SELECT affinity(items, 0.01, 5)::text FROM affinity_par_rows) = (SELECT affinity(items, 0.01, 5)::text FROM (SELECT items FROM affinity_par_rows ORDER BY i DESC) t)
           AS affinity_equal;

RESET ROLE;
DROP TABLE affinity_par_rows;
