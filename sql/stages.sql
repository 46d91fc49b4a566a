-- lifecycle_stage: the stage of a customer by the days since the last order.
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
RESET ROLE;
