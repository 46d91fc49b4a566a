-- Holdouts and campaign reports.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

-- --------------------------------------------------------------- holdout
-- Values of the documented hash (its Python reference in campaign.hpp).
SELECT holdout_unit(42, 'camp') = 0.2140692729338708 AS int_key, holdout_unit(42) = 0.6400044850449658 AS no_salt,
       holdout_unit(-1, 'spring-2025') = 0.5174420888041488 AS negative_key,
       holdout_unit('abc') = 0.39192816333041447 AS text_key,
       holdout_unit('customer-00017', 'spring-2025') = 0.9924112218887241 AS long_text_key,
       holdout_unit('42', 'camp') = 0.08124022698100941 AS text_42_differs;
-- Deterministic, about the right share, nested in the fraction, independent across salts.
SELECT count(*) FILTER (WHERE holdout(i, 0.2, 'spring-2025')) AS held_out_of_100000,
       count(*) FILTER (WHERE holdout(i, 0.2, 'spring-2025') <> holdout(i, 0.2, 'spring-2025')) AS unstable,
       count(*) FILTER (WHERE holdout(i, 0.1, 'spring-2025') AND NOT holdout(i, 0.2, 'spring-2025')) AS not_nested,
       count(*) FILTER (WHERE holdout(i, 0.2, 'spring-2025') AND holdout(i, 0.2, 'autumn-2025')) BETWEEN 3600 AND 4400
           AS independent_salts,
       count(*) FILTER (WHERE holdout(i, 0.2, 'spring-2025') = (holdout_unit(i, 'spring-2025') < 0.2)) AS unit_agrees
FROM generate_series(1, 100000) i;
SELECT holdout(7, 0) AS nobody, holdout(7, 1) AS everybody, holdout(7::int, 0.5, 's') = holdout(7::bigint, 0.5, 's') AS int4_key;
SELECT holdout(NULL::bigint, 0.2) IS NULL AS null_key, holdout(1, NULL) IS NULL AS null_fraction,
       holdout(1, 0.2, NULL) IS NULL AS null_salt;
SELECT holdout(1, 1.5);
SELECT holdout('a', -0.1);
SELECT holdout(1, 'NaN');

-- -------------------------------------------------------- campaign report
-- 1000 contacted with 120 responders, 250 held out with 20: rates 0.12 and
-- 0.08, lift 0.04 (relative 0.5).
CREATE TEMP TABLE campaign AS
SELECT i, i > 1000 AS in_holdout,
       CASE WHEN i <= 1000 THEN i <= 120 ELSE i <= 1020 END AS responded,
       CASE WHEN i <= 120 THEN 50.0 WHEN i BETWEEN 1001 AND 1020 THEN 40.0 ELSE 0 END AS revenue
FROM generate_series(1, 1250) i;
SELECT r.treated, r.treated_responders, r.treated_revenue, r.holdout, r.holdout_responders, r.holdout_revenue,
       r.treated_rate, r.holdout_rate, r.revenue_per_treated, r.revenue_per_holdout,
       round(r.absolute_lift::numeric, 10) AS absolute_lift, round(r.relative_lift::numeric, 10) AS relative_lift,
       round(r.lift_ci_low::numeric, 4) AS ci_low, round(r.lift_ci_high::numeric, 4) AS ci_high,
       round(r.z::numeric, 4) AS z, round(r.p_value::numeric, 4) AS p_value,
       round(r.incremental_responders::numeric, 6) AS incremental_responders, r.revenue_lift,
       r.incremental_revenue, r.roi
FROM (SELECT (campaign_report(in_holdout, responded, revenue)).* FROM campaign) r;
-- Cost 1000: ROI (2800 - 1000) / 1000; a 99% interval is wider.
SELECT round(r.roi::numeric, 10) AS roi, round(r.lift_ci_low::numeric, 4) AS ci99_low, round(r.lift_ci_high::numeric, 4) AS ci99_high
FROM (SELECT (campaign_report(in_holdout, responded, revenue, 0.99, 1000)).* FROM campaign) r;
-- No holdout: the comparisons are NULL; NULL responded = no response,
-- NULL revenue = 0, NULL in_holdout skips the row.
SELECT (r).treated, (r).treated_rate, (r).holdout_rate IS NULL AS no_holdout_rate, (r).absolute_lift IS NULL AS no_lift
FROM (SELECT campaign_report(false, responded) AS r FROM (VALUES (true), (NULL), (false), (true)) v(responded)) t;
SELECT (r).treated, (r).holdout, (r).treated_revenue
FROM (SELECT campaign_report(h, true, rev) AS r FROM (VALUES (false, 10.0::float8), (NULL, 5), (false, NULL)) v(h, rev)) t;
SELECT campaign_report(in_holdout, responded) IS NULL AS no_rows FROM campaign WHERE false;
SELECT campaign_report(in_holdout, responded, revenue, 1, 0) FROM campaign;
SELECT campaign_report(in_holdout, responded, revenue, 0.95, -1) FROM campaign;
SELECT campaign_report(in_holdout, responded, revenue, NULL, 0) FROM campaign;
SELECT campaign_report(false, true, 'Infinity');

RESET ROLE;
