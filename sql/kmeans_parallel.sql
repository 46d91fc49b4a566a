-- k-means fits under a forced parallel plan (partial states built in workers,
-- serialized, deserialized and combined) give the same results as a
-- serial plan.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

CREATE TABLE kmeans_par_rows AS
SELECT i, abs(hashint4(i)) % 5000 AS customer,
       ARRAY[(abs(hashint4(i * 23 + 8)) % 1000) / 10.0 + 50 * (i % 3), (abs(hashint4(i * 29 + 9)) % 1000) / 10.0] AS f
FROM generate_series(1, 60000) AS i;
ANALYZE kmeans_par_rows;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_results AS
SELECT customer % 7 AS k, kmeans_fit(f, 3)::text AS kmeans
FROM kmeans_par_rows GROUP BY 1;

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
SELECT customer % 7, kmeans_fit(f, 3) FROM kmeans_par_rows GROUP BY 1;
CREATE TEMP TABLE parallel_results AS
SELECT customer % 7 AS k, kmeans_fit(f, 3)::text AS kmeans
FROM kmeans_par_rows GROUP BY 1;
-- Equal in every group.
SELECT count(*) AS groups, count(*) FILTER (WHERE s.kmeans = p.kmeans) AS kmeans
FROM serial_results s JOIN parallel_results p USING (k);
-- Over the whole table (one group, states from both workers combined).
EXPLAIN (COSTS OFF) SELECT kmeans_fit(f, 3) FROM kmeans_par_rows;
SELECT (SELECT kmeans_fit(f, 3) FROM kmeans_par_rows)::text = (SELECT kmeans_fit(f, 3) FROM (SELECT f FROM kmeans_par_rows ORDER BY i DESC) t)::text
           AS kmeans_equal,
       (SELECT (kmeans_fit(f, 3)).sizes FROM kmeans_par_rows) AS sizes;

RESET ROLE;
DROP TABLE kmeans_par_rows;
