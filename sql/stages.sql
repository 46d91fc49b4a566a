SET ROLE ca_analyst;

-- Lifecycle boundaries: 63/64, 126/127, 365/366 days.
SELECT d AS days, lifecycle_stage(DATE '2024-12-31' - d, DATE '2024-12-31') AS stage
FROM unnest(ARRAY[0, 63, 64, 126, 127, 365, 366, 1000]) AS d;
-- An order after as_of counts as 0 days ago.
SELECT lifecycle_stage(DATE '2025-06-01', DATE '2024-12-31');
-- Own thresholds and stage names, any number of them.
SELECT d, lifecycle_stage(DATE '2024-12-31' - d, DATE '2024-12-31', '{30,60,90,120}',
                          '{0-30,31-60,61-90,91-120,lapsed}') AS lapse
FROM unnest(ARRAY[30, 31, 90, 91, 120, 121]) AS d;
SELECT lifecycle_stage(DATE '2024-12-01', DATE '2024-12-31', '{10,20,30}');
-- timestamptz: calendar days in the session time zone.
SET TIME ZONE 'UTC';
SELECT lifecycle_stage(TIMESTAMPTZ '2024-10-28 23:00+00', TIMESTAMPTZ '2024-12-31 01:00+00') AS utc_64_days;
SET TIME ZONE 'Asia/Shanghai';
SELECT lifecycle_stage(TIMESTAMPTZ '2024-10-28 23:00+00', TIMESTAMPTZ '2024-12-31 01:00+00') AS shanghai_63_days;
RESET TIME ZONE;

-- Tiers: reaching a threshold upgrades; numeric comparisons are exact.
SELECT s, tier_for(s, '{1000,5000}') FROM unnest(ARRAY[0, 999.999999999999999999, 1000, 4999.99, 5000, 1e9]::numeric[]) s;
SELECT tier_for(750.0::float8, '{500,1000}'::float8[], '{bronze,silver,gold}'), tier_for(-10, '{0}', '{none,member}');
-- Hysteresis: upgrade at once, downgrade only at re-rating, NULL = no tier yet.
SELECT current_tier, spend, rerating, tier_for(spend, '{1000,5000}', '{normal,silver,gold}', current_tier, rerating)
FROM (VALUES ('silver', 6000, false), ('gold', 10, false), ('gold', 10, true), ('silver', 2000, true),
             (NULL, 2000, false), ('normal', 999, false)) AS v(current_tier, spend, rerating);
SELECT tier_for(10.0::float8, '{1000,5000}', '{normal,silver,gold}', 'gold', false);
SELECT tier_for(NULL::numeric, '{1000,5000}', '{normal,silver,gold}', 'gold', false) IS NULL AS null_spend;

-- Quadrants: a value equal to its cut is high.
SELECT quadrant(3, 60, 3, 60), quadrant(2.99, 60, 3, 60), quadrant(3, 59.99, 3, 60), quadrant(1, 1, 3, 60),
       quadrant(3.0::float8, 60.0::float8, 3.0::float8, 60.0::float8);
-- Composes with window functions: cuts at the population medians.
WITH c AS (SELECT * FROM (VALUES (1, 1, 20.0), (2, 5, 80.0), (3, 2, 90.0), (4, 6, 10.0)) v(customer, frequency, aov))
SELECT customer, quadrant(frequency, aov, fcut, vcut)
FROM c, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY frequency) AS fcut,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY aov) AS vcut FROM c) m ORDER BY 1;
RESET ROLE;
