-- Campaign reports under a forced parallel plan (partial states built in workers,
-- serialized, deserialized and combined) give the same results as a
-- serial plan.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

CREATE TABLE campaign_par_rows AS
SELECT i, abs(hashint4(i)) % 5000 AS customer, abs(hashint4(i * 11 + 4)) % 3 = 0 AS flag_a,
       abs(hashint4(i * 13 + 5)) % 4 = 0 AS flag_b, (abs(hashint4(i * 19 + 7)) % 100000) / 100.0 AS amount
FROM generate_series(1, 60000) AS i;
ANALYZE campaign_par_rows;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_results AS
SELECT customer % 7 AS k, campaign_report(flag_a, flag_b, amount) AS campaign
FROM campaign_par_rows GROUP BY 1;

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
SELECT customer % 7, campaign_report(flag_a, flag_b, amount) FROM campaign_par_rows GROUP BY 1;
CREATE TEMP TABLE parallel_results AS
SELECT customer % 7 AS k, campaign_report(flag_a, flag_b, amount) AS campaign
FROM campaign_par_rows GROUP BY 1;
-- Equal in every group (revenue sums are compensated and may differ only in
-- the last bits).
SELECT count(*) AS groups,
       count(*) FILTER (WHERE (s.campaign).treated = (p.campaign).treated
                          AND (s.campaign).holdout_responders = (p.campaign).holdout_responders
                          AND abs((s.campaign).revenue_lift - (p.campaign).revenue_lift) < 1e-9
                          AND (s.campaign).lift_ci_low = (p.campaign).lift_ci_low) AS campaign
FROM serial_results s JOIN parallel_results p USING (k);

RESET ROLE;
DROP TABLE campaign_par_rows;
