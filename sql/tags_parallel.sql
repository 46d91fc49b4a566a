-- Customer tags under a forced parallel plan (partial states built in workers,
-- serialized, deserialized and combined) give the same results as a
-- serial plan.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

CREATE TABLE tags_par_rows AS
SELECT i, abs(hashint4(i)) % 5000 AS customer, DATE '2024-01-01' + abs(hashint4(i * 3 + 1)) % 400 AS d,
       (ARRAY['purchase', 'checkin', 'visit', 'click'])[1 + abs(hashint4(i * 5 + 2)) % 4] AS kind,
       (abs(hashint4(i * 7 + 3)) % 25)::float8 AS coupon, abs(hashint4(i * 11 + 4)) % 3 = 0 AS flag_a,
       abs(hashint4(i * 13 + 5)) % 4 = 0 AS flag_b,
       (ARRAY['sms', 'email', 'app', 'wechat', 'phone'])[1 + abs(hashint4(i * 17 + 6)) % 5] AS channel
FROM generate_series(1, 60000) AS i;
ANALYZE tags_par_rows;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_results AS
SELECT customer % 7 AS k,
       activity_status(d, kind, DATE '2024-12-31')::text AS activity,
       coupon_sensitivity(coupon, flag_a)::text AS coupon,
       coupon_sensitivity(coupon, flag_a, '{2,4,8,16}')::text AS coupon_ladder,
       purchase_mix(flag_a, flag_b, 0.33, 0.25, 1)::text AS mix,
       channel_preference(channel, flag_b)::text AS channel
FROM tags_par_rows GROUP BY 1;
-- Per customer, for the per-customer tags.
CREATE TEMP TABLE serial_customers AS
SELECT customer, activity_status(d, kind, DATE '2024-12-31') AS activity, coupon_sensitivity(coupon, flag_a) AS coupon,
       purchase_mix(flag_a, flag_b) AS mix, channel_preference(channel, flag_b)::text AS channel
FROM tags_par_rows GROUP BY customer;

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
SELECT customer % 7, activity_status(d, kind, DATE '2024-12-31'), channel_preference(channel, flag_b)
FROM tags_par_rows GROUP BY 1;
CREATE TEMP TABLE parallel_results AS
SELECT customer % 7 AS k,
       activity_status(d, kind, DATE '2024-12-31')::text AS activity,
       coupon_sensitivity(coupon, flag_a)::text AS coupon,
       coupon_sensitivity(coupon, flag_a, '{2,4,8,16}')::text AS coupon_ladder,
       purchase_mix(flag_a, flag_b, 0.33, 0.25, 1)::text AS mix,
       channel_preference(channel, flag_b)::text AS channel
FROM tags_par_rows GROUP BY 1;
-- Each column equal in every group.
SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.activity = p.activity) AS activity,
       count(*) FILTER (WHERE s.coupon = p.coupon AND s.coupon_ladder = p.coupon_ladder) AS coupon,
       count(*) FILTER (WHERE s.mix = p.mix) AS mix,
       count(*) FILTER (WHERE s.channel = p.channel) AS channel
FROM serial_results s JOIN parallel_results p USING (k);
-- Per customer (many small groups; states partly built in each worker).
SELECT count(*) AS customers,
       count(*) FILTER (WHERE s.activity = p.activity AND s.coupon IS NOT DISTINCT FROM p.coupon AND s.mix = p.mix
                          AND s.channel = p.channel) AS equal
FROM (SELECT customer, activity_status(d, kind, DATE '2024-12-31') AS activity, coupon_sensitivity(coupon, flag_a) AS coupon,
             purchase_mix(flag_a, flag_b) AS mix, channel_preference(channel, flag_b)::text AS channel
      FROM tags_par_rows GROUP BY customer) p
JOIN serial_customers s USING (customer);

RESET ROLE;
DROP TABLE tags_par_rows;
