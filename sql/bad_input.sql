SET ROLE ca_analyst;
\set VERBOSITY default
\set SHOW_CONTEXT never
-- Every bad input gets an error with a proper SQLSTATE or a documented result.

-- rfm_agg: NaN and infinities are errors (22023); NULL rows are skipped.
SELECT rfm_agg(DATE '2024-01-01', 'NaN'::numeric);
SELECT rfm_agg(DATE '2024-01-01', 'Infinity'::numeric);
SELECT rfm_agg(DATE '2024-01-01', '-Infinity'::float8);
SELECT rfm_agg(DATE '2024-01-01', 'NaN'::float8);
SELECT rfm_agg('infinity'::date, 1.0);
SELECT rfm_agg('-infinity'::timestamptz, 1.0);
SELECT rfm_agg(d, a) FROM (VALUES (NULL::date, 1.0), (DATE '2024-01-01', NULL)) v(d, a);
-- A float total that overflows double precision is an error, not Infinity.
SELECT rfm_agg(DATE '2024-01-01', 1.7e308::float8) FROM generate_series(1, 2);
-- Far dates are fine.
SELECT (rfm_agg(d, 1.0)).* FROM (VALUES (DATE '4713-01-01 BC'), (DATE '5874897-12-31')) v(d);

-- rfm_bins: bucket counts outside 2..99, NULL as_of, changing as_of.
SELECT rfm_bins(ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 1.0, 0)::rfm_summary, DATE '2024-12-31', 1);
SELECT rfm_bins(ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 1.0, 0)::rfm_summary, DATE '2024-12-31', 100);
SELECT rfm_bins(ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 1.0, 0)::rfm_summary, NULL);
SELECT rfm_bins(ROW(DATE '2024-01-01', DATE '2024-01-01', 1, 1, 1.0, 0)::rfm_summary, d)
FROM (VALUES (DATE '2024-12-31'), (DATE '2025-01-31')) v(d);
-- Empty input, and customers without a purchase, give NULL bins.
SELECT rfm_bins(NULL::rfm_summary, DATE '2024-12-31') IS NULL AS no_customers;
SELECT rfm_bins(ROW(NULL, NULL, 0, 0, -5.0, 1)::rfm_summary, DATE '2024-12-31') IS NULL AS only_refunds;
-- as_of before every order: recency is 0 days for everyone (documented).
SELECT (rfm_bins(ROW(DATE '2024-01-01', DATE '2024-06-01', 1, 1, 1.0, 0)::rfm_summary, DATE '2020-01-01')).recency_cuts;

-- rfm_score: hand-made bins are validated.
SELECT rfm_score(ROW(DATE '2024-01-01', DATE '2024-06-01', 1, 1, 1.0, 0)::rfm_summary,
                 ROW(5, DATE '2024-12-31', 1, '{1,2,3}', '{1,2,3,4}', '{1,2,3,4}', 0, 0, 0)::rfm_bins);
SELECT rfm_score(ROW(DATE '2024-01-01', DATE '2024-06-01', 1, 1, 1.0, 0)::rfm_summary,
                 ROW(5, DATE '2024-12-31', 1, '{4,3,2,1}', '{1,2,3,4}', '{1,2,3,4}', 0, 0, 0)::rfm_bins);
SELECT rfm_score(ROW(DATE '2024-01-01', DATE '2024-06-01', 1, 1, 1.0, 0)::rfm_summary,
                 ROW(5, DATE '2024-12-31', 1, '{1,2,3,NaN}', '{1,2,3,4}', '{1,2,3,4}', 0, 0, 0)::rfm_bins);
SELECT rfm_score(ROW(DATE '2024-01-01', DATE '2024-06-01', 1, 1, 1.0, 0)::rfm_summary,
                 ROW(5, DATE '2024-12-31', 1, '{1,2,3,NULL}', '{1,2,3,4}', '{1,2,3,4}', 0, 0, 0)::rfm_bins);
SELECT rfm_score(ROW(DATE '2024-01-01', DATE '2024-06-01', 1, 1, 1.0, 0)::rfm_summary,
                 ROW(5, DATE '2024-12-31', 1, NULL, '{1,2,3,4}', '{1,2,3,4}', 0, 0, 0)::rfm_bins);
SELECT rfm_score(ROW(DATE '2024-01-01', DATE '2024-06-01', NULL, 1, 1.0, 0)::rfm_summary,
                 ROW(5, DATE '2024-12-31', 1, '{1,2,3,4}', '{1,2,3,4}', '{1,2,3,4}', 0, 0, 0)::rfm_bins);
-- A customer without a purchase has no score.
SELECT rfm_score(ROW(NULL, NULL, 0, 0, -5.0, 1)::rfm_summary,
                 ROW(5, DATE '2024-12-31', 1, '{1,2,3,4}', '{1,2,3,4}', '{1,2,3,4}', 0, 0, 0)::rfm_bins) IS NULL AS no_score;

-- rfm_score values.
SELECT '12'::rfm_score;
SELECT '0-1-1'::rfm_score;
SELECT '100-1-1'::rfm_score;
SELECT '5a5'::rfm_score;
SELECT rfm_score(0, 1, 1);
SELECT rfm_score(1, 100, 1);
-- The standard segments need 1..5.
SELECT rfm_segment('6-1-1');
-- Segment rules.
SELECT rfm_segment('111', ARRAY[ROW('bad', 3, 2, 1, 5, 1, 5)::rfm_segment_rule]);
SELECT rfm_segment('111', ARRAY[ROW('', 1, 5, 1, 5, 1, 5)::rfm_segment_rule]);
SELECT rfm_segment('111', ARRAY[ROW(NULL, 1, 5, 1, 5, 1, 5)::rfm_segment_rule]);
SELECT rfm_segment('111', ARRAY[ROW('x', NULL, 5, 1, 5, 1, 5)::rfm_segment_rule]);
SELECT rfm_segment('111', ARRAY[NULL::rfm_segment_rule]);
-- 8 classes.
SELECT rfm_class(1, 1, 1, 1, 1, 1, 'fr');
SELECT rfm_class('NaN', 1, 1, 1, 1, 1);

-- Lifecycle thresholds: unsorted, duplicate, negative, empty, NULL, 2-D, and
-- names that do not match.
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{126,63,365}');
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{63,63,365}');
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{-1,63,365}');
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{}');
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{63,NULL,365}');
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{{63,126},{200,365}}');
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{63,126}');
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{63,126}', '{a,b}');
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{63,126}', '{a,NULL,c}');
SELECT lifecycle_stage('infinity'::date, DATE '2024-12-31');
-- A NULL parameter is an error; a NULL last_order (no purchase) gives NULL.
SELECT lifecycle_stage(DATE '2024-01-01', NULL);
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', NULL);
SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', '{30}', NULL);
SELECT lifecycle_stage(NULL::date, DATE '2024-12-31') IS NULL AS no_purchase;

-- Tiers.
SELECT tier_for(100, '{1000}');
SELECT tier_for(100, '{5000,1000}');
SELECT tier_for(100, '{1000,1000}');
SELECT tier_for('NaN', '{1000,5000}');
SELECT tier_for(100, '{1000,NaN}');
SELECT tier_for(100, '{1000,NULL}');
SELECT tier_for('Infinity'::float8, '{1000,5000}');
SELECT tier_for(100, '{1000,5000}', '{}');
SELECT tier_for(100, '{1000,5000}', '{normal,silver,gold}', 'platinum', false);

-- Quadrants.
SELECT quadrant('NaN', 1, 1, 1);
SELECT quadrant(1, 1, 1, 'NaN'::float8);
SELECT quadrant('Infinity', 1, 1, 1) AS infinite_frequency_is_high;

RESET ROLE;
