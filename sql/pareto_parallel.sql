-- The Pareto diagnosis under a forced parallel plan (partial states built in workers,
-- serialized, deserialized and combined) give the same results as a
-- serial plan.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

CREATE TABLE pareto_par_rows AS
SELECT i, abs(hashint4(i)) % 5000 AS customer, (abs(hashint4(i * 19 + 7)) % 100000) / 100.0 AS amount
FROM generate_series(1, 60000) AS i;
ANALYZE pareto_par_rows;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_results AS
SELECT customer % 7 AS k,
       gini(amount)::text AS gini, pareto_share(amount, 0.2)::text AS share, lorenz_curve(amount, 5)::text AS lorenz,
       pareto_tier_thresholds(amount)::text AS tiers, value_band_cuts(amount)::text AS bands
FROM pareto_par_rows GROUP BY 1;

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
SELECT customer % 7, gini(amount) FROM pareto_par_rows GROUP BY 1;
CREATE TEMP TABLE parallel_results AS
SELECT customer % 7 AS k,
       gini(amount)::text AS gini, pareto_share(amount, 0.2)::text AS share, lorenz_curve(amount, 5)::text AS lorenz,
       pareto_tier_thresholds(amount)::text AS tiers, value_band_cuts(amount)::text AS bands
FROM pareto_par_rows GROUP BY 1;
-- Each column equal in every group.
SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.gini = p.gini AND s.share = p.share AND s.lorenz = p.lorenz AND s.tiers = p.tiers
                          AND s.bands = p.bands) AS pareto
FROM serial_results s JOIN parallel_results p USING (k);
-- Over the whole table (one group, states from both workers combined).
EXPLAIN (COSTS OFF) SELECT gini(amount) FROM pareto_par_rows;
SELECT (SELECT gini(amount) FROM pareto_par_rows) = (SELECT gini(amount) FROM (SELECT amount FROM pareto_par_rows ORDER BY i DESC) t)
           AS gini_equal;

RESET ROLE;
DROP TABLE pareto_par_rows;
