-- Pareto diagnosis, k-means, affinity, segment overlap, holdouts and
-- campaign reports.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

-- -------------------------------------------------------- Pareto diagnosis
-- Gini of known distributions: all equal 0; one customer holding everything
-- (n - 1) / n; 1..100 exactly 99 / 300; uniform and exponential quantiles
-- 1/3 and 1/2 in the limit.
SELECT gini(10) AS all_equal FROM generate_series(1, 50);
SELECT gini(CASE WHEN i = 1 THEN 500 ELSE 0 END) AS one_of_ten FROM generate_series(1, 10) i;
SELECT gini(i) AS one_to_hundred, gini(i) = 99.0 / 300 AS exact FROM generate_series(1, 100) i;
SELECT round(gini((i - 0.5) / 10000)::numeric, 4) AS uniform,
       round(gini(-ln(1 - (i - 0.5) / 10000))::numeric, 3) AS exponential
FROM generate_series(1, 10000) i;
SELECT gini(0) AS all_zero, gini(7) AS one_customer FROM generate_series(1, 3);
-- Against the textbook formula sum (2i - n - 1) x_(i) / (n * sum x) in SQL.
WITH spend AS (SELECT (abs(hashint4(i)) % 100000) / 100.0 AS x FROM generate_series(1, 2000) i),
ranked AS (SELECT x, row_number() OVER (ORDER BY x) AS i, count(*) OVER () AS n, sum(x) OVER () AS t FROM spend)
SELECT abs((SELECT gini(x) FROM spend) - sum((2 * i - n - 1) * x) / (max(n) * max(t))) < 1e-12 AS gini_matches
FROM ranked;

-- Share of revenue from the top X%: top ceil(X * n) customers.
SELECT pareto_share(i, 0.2) AS top_20, pareto_share(i, 0.2) = 1810.0 / 5050 AS exact,
       pareto_share(i, 0) AS top_0, pareto_share(i, 1) AS top_100, pareto_share(i, 0.07) = 679.0 / 5050 AS top_7
FROM generate_series(1, 100) i;
-- 80/20: 20 customers spend 80 each, 80 customers spend 5 each.
SELECT pareto_share(CASE WHEN i <= 20 THEN 80 ELSE 5 END, 0.2) AS eighty_twenty FROM generate_series(1, 100) i;
-- All zero counts as perfect equality.
SELECT pareto_share(0, 0.25) AS zero_spends FROM generate_series(1, 8);

-- Lorenz curve: L(p) = share of revenue of the poorest p, linear between knots.
SELECT (p).customer_share, (p).revenue_share,
       (p).revenue_share = (SELECT coalesce(sum(i), 0) FROM generate_series(1, ((p).customer_share * 100)::int) i) / 5050.0 AS exact
FROM unnest((SELECT lorenz_curve(i, 4) FROM generate_series(1, 100) i)) p;
SELECT array_length(lorenz_curve(i), 1) AS default_points FROM generate_series(1, 10) i;
SELECT lorenz_curve(i, 2) AS three_points FROM generate_series(1, 3) i;

-- Tier thresholds: the spend of the top 20% / 5% customers, usable with tier_for.
SELECT pareto_tier_thresholds(i) AS silver_gold, pareto_tier_thresholds(i, '{0.5,0.1,0.01}') AS own
FROM generate_series(1, 100) i;
WITH spend AS (SELECT i::float8 AS x FROM generate_series(1, 100) i),
cuts AS (SELECT pareto_tier_thresholds(x) AS t FROM spend)
SELECT tier_for(x, t) AS tier, count(*), min(x), max(x) FROM spend, cuts GROUP BY 1 ORDER BY 3;
-- Value bands from the default cuts: bottom 50% low, next 30% mid, top 20% high.
WITH spend AS (SELECT i::float8 AS x FROM generate_series(1, 100) i),
cuts AS (SELECT value_band_cuts(x) AS c FROM spend)
SELECT c AS cuts, value_band(x, c) AS band, count(*) FROM spend, cuts GROUP BY 1, 2 ORDER BY 3 DESC;
-- Ties at a cut go to the higher band.
SELECT value_band_cuts(x) FROM unnest('{1,2,2,2,2,2,3,3,3,3}'::float8[]) x;
-- numeric spends are accepted (cast to float8).
SELECT gini(x) FROM unnest('{1.5,2.5}'::numeric[]) x;

-- NULLs are skipped; no spend gives NULL.
SELECT gini(x), pareto_share(x, 0.2), lorenz_curve(x), pareto_tier_thresholds(x), value_band_cuts(x)
FROM (VALUES (NULL::float8)) v(x);
SELECT gini(x) FROM (VALUES (NULL::float8), (4), (NULL)) v(x);
SELECT gini(i) IS NULL AS no_rows FROM generate_series(1, 10) i WHERE false;
-- Bad input.
SELECT gini(x) FROM (VALUES (1.0::float8), (-2)) v(x);
SELECT gini('Infinity'::float8);
SELECT pareto_share(i, 1.5) FROM generate_series(1, 10) i;
SELECT pareto_share(i, NULL) FROM generate_series(1, 10) i;
SELECT pareto_share(i, i / 10.0) FROM generate_series(1, 10) i;
SELECT lorenz_curve(i, 0) FROM generate_series(1, 10) i;
SELECT pareto_tier_thresholds(i, '{0.2,0}') FROM generate_series(1, 10) i;
SELECT pareto_tier_thresholds(i, '{}') FROM generate_series(1, 10) i;
SELECT pareto_tier_thresholds(i, '{{0.2},{0.1}}') FROM generate_series(1, 10) i;
-- Thresholds that tie cannot be tier_for thresholds (strictly ascending).
SELECT tier_for(5.0::float8, (SELECT pareto_tier_thresholds(1) FROM generate_series(1, 10)));

-- ---------------------------------------------------------------- k-means
-- Three well separated clusters of 50, 40 and 30 points (deterministic jitter).
CREATE TEMP TABLE points AS
SELECT i, label, ARRAY[cx + sin(i * 12.9898) * 1.5, cy + cos(i * 78.233) * 1.5] AS f
FROM (SELECT i, CASE WHEN i <= 50 THEN 'a' WHEN i <= 90 THEN 'b' ELSE 'c' END AS label FROM generate_series(1, 120) i) s
JOIN (VALUES ('a', 0, 0), ('b', 20, 20), ('c', 0, 40)) AS c(label, cx, cy) USING (label);
CREATE TEMP TABLE model AS SELECT kmeans_fit(f, 3) AS m FROM points;
-- Clusters are numbered by size: 1 = the 50 points of a, 2 = b, 3 = c.
SELECT (m).k, (m).d, (m).n, (m).sizes, (m).converged, (m).silhouette > 0.9 AS well_separated,
       array_dims((m).centroids) AS centroid_dims FROM model;
SELECT round((m).centroids[1][1]::numeric) AS a_x, round((m).centroids[1][2]::numeric) AS a_y,
       round((m).centroids[2][1]::numeric) AS b_x, round((m).centroids[2][2]::numeric) AS b_y,
       round((m).centroids[3][1]::numeric) AS c_x, round((m).centroids[3][2]::numeric) AS c_y FROM model;
-- Every point is assigned to its generating cluster.
SELECT label, kmeans_assign(f, m) AS cluster, count(*) FROM points, model GROUP BY 1, 2 ORDER BY 1, 2;
-- New points go to the nearest centroid.
SELECT kmeans_assign('{1,1}', m) AS near_a, kmeans_assign('{19,22}', m) AS near_b, kmeans_assign('{-3,37}', m) AS near_c
FROM model;
-- Choosing k: the silhouette is highest at k = 3, WCSS falls with k.
SELECT k, round((kmeans_fit(f, k)).silhouette::numeric, 2) AS silhouette,
       (kmeans_fit(f, k)).wcss < (SELECT (kmeans_fit(f, k - 1)).wcss FROM points) AS wcss_falls
FROM points, generate_series(2, 5) k GROUP BY k ORDER BY k;
-- Deterministic: same seed, same model, in any input order; k = 1 has no silhouette.
SELECT (SELECT kmeans_fit(f, 3) FROM points)::text = (SELECT kmeans_fit(f, 3) FROM (SELECT f FROM points ORDER BY i DESC) p)::text AS order_free,
       (SELECT kmeans_fit(f, 3, 100, 3, 42, true, 0) FROM points)::text = (SELECT m FROM model)::text AS defaults,
       (SELECT (kmeans_fit(f, 1)).silhouette FROM points) IS NULL AS k1_no_silhouette,
       (SELECT (kmeans_fit(f, 1)).sizes FROM points) AS k1_sizes;
-- Without standardization the scales are 1.
SELECT (kmeans_fit(f, 2, 50, 1, 7, false, 0)).feature_scales FROM points;
-- NULL feature rows are skipped; no rows give NULL.
SELECT (kmeans_fit(f, 1)).n FROM (VALUES ('{1,2}'::float8[]), (NULL), ('{3,4}')) v(f);
SELECT kmeans_fit(f, 2) IS NULL AS no_rows FROM points WHERE false;
SELECT kmeans_assign(NULL, m) IS NULL AS null_point FROM model;
-- Bad input.
SELECT kmeans_fit(f, 0) FROM points;
SELECT kmeans_fit(f, 121) FROM points;
SELECT kmeans_fit(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{1,2}'), ('{1,2}')) v(f);
SELECT kmeans_fit(f, 2) FROM (VALUES ('{1,2}'::float8[]), ('{1,2,3}')) v(f);
SELECT kmeans_fit(f, 2) FROM (VALUES ('{1,NaN}'::float8[]), ('{1,2}')) v(f);
SELECT kmeans_fit(f, 2) FROM (VALUES ('{1,NULL}'::float8[]), ('{1,2}')) v(f);
SELECT kmeans_fit(f, 2) FROM (VALUES ('{}'::float8[])) v(f);
SELECT kmeans_fit(f, 2) FROM (VALUES ('{{1,2},{3,4}}'::float8[])) v(f);
SELECT kmeans_fit(f, NULL) FROM points;
SELECT kmeans_fit(f, i::int % 2 + 2) FROM points;
SELECT kmeans_fit(f, 2, 0, 1, 42, true, 0) FROM points;
SELECT kmeans_fit(f, 2, 10, 1, 42, true, -1) FROM points;
SELECT kmeans_assign('{1,2,3}', m) FROM model;
SELECT kmeans_assign('{1,Infinity}', m) FROM model;
SELECT kmeans_assign('{1,2}', ROW(2, 2, 10, '{0,0}', '{1,0}', NULL, '{{0,0},{1,1}}', NULL, 0, NULL, 1, true)::kmeans_model);
SELECT kmeans_assign('{1,2}', ROW(2, 2, 10, '{0,0}', '{1,1}', NULL, '{0,0,1}', NULL, 0, NULL, 1, true)::kmeans_model);
SELECT kmeans_assign('{1,2}', ROW(2, 2, 10, NULL, '{1,1}', NULL, '{0,0,1,1}', NULL, 0, NULL, 1, true)::kmeans_model);
-- A model built by hand: only means, scales and standardized centroids matter.
SELECT kmeans_assign(p, ROW(2, 2, NULL, '{10,10}', '{2,2}', NULL, '{{-1,-1},{1,1}}', NULL, NULL, NULL, NULL, NULL)::kmeans_model)
FROM (VALUES ('{8,8}'::float8[]), ('{12,12}'), ('{10,10}')) v(p);

-- --------------------------------------------------------------- affinity
-- 10 baskets: bread in 6, butter in 5, both in 4, jam in 3 (with bread in
-- 2, butter in 3), milk alone in 2.
CREATE TEMP TABLE baskets(basket int, items text[]);
INSERT INTO baskets VALUES
    (1, '{bread,butter}'), (2, '{bread,butter,jam}'), (3, '{bread,butter,jam}'), (4, '{butter,bread}'),
    (5, '{bread}'), (6, '{bread,bread}'), (7, '{butter,jam}'), (8, '{milk}'), (9, '{milk}'), (10, '{}');
-- bread-butter: support 4/10, confidence 4/6 and 4/5, lift 0.4 / (0.6 * 0.5).
SELECT p.item_a, p.item_b, p.count_a, p.count_b, p.count_ab, p.baskets, p.support_ab,
       round(p.confidence_ab::numeric, 4) AS conf_ab, p.confidence_ba AS conf_ba, round(p.lift::numeric, 4) AS lift,
       round(p.jaccard::numeric, 4) AS jaccard
FROM unnest((SELECT affinity(items) FROM baskets)) p;
-- Minimum support 0.25 and top 1; by lift with at least 3 baskets together.
SELECT (unnest(affinity(items, 0.25, 1))).item_a, (unnest(affinity(items, 0.25, 1))).item_b FROM baskets;
SELECT p.item_a, p.item_b, round(p.lift::numeric, 4) AS lift
FROM unnest((SELECT affinity(items, 0, 10, 3, 'lift') FROM baskets)) p;
-- The same items, as a GROUP BY of order lines builds them.
WITH lines(basket, category) AS (SELECT basket, unnest(items) FROM baskets)
SELECT affinity(c)::text = (SELECT affinity(items) FROM baskets WHERE items <> '{}')::text AS same_pairs
FROM (SELECT array_agg(DISTINCT category) c FROM lines GROUP BY basket) b;
-- NULL baskets are skipped, NULL items ignored; no pair gives an empty array.
SELECT affinity(items) FROM (VALUES ('{a}'::text[]), (NULL), ('{b,NULL}')) v(items);
SELECT affinity(items) IS NULL AS no_rows FROM baskets WHERE false;
-- Bad input and memory bounds.
SELECT affinity(items, 1.5, 10) FROM baskets;
SELECT affinity(items, 0.1, 0) FROM baskets;
SELECT affinity(items, 0.1, 10, 0, 'support') FROM baskets;
SELECT affinity(items, 0.1, 10, 1, 'confidence') FROM baskets;
SELECT affinity(items, NULL, 10) FROM baskets;
SELECT affinity(items, basket / 10.0, 10) FROM baskets;
SELECT affinity(ARRAY(SELECT 'item' || i FROM generate_series(1, 1001) i));
SELECT affinity(ARRAY[repeat('x', 513)]);
SELECT affinity('{{a,b},{c,d}}'::text[]);

-- -------------------------------------------------------- segment overlap
SELECT * FROM segment_overlap(30, 20, 10, 100);
SELECT * FROM segment_overlap(0, 0, 0, 0);
-- As an aggregate over the population: customers 1..100, X = multiples of
-- 2, Y = multiples of 3: x 50, y 33, xy 16.
SELECT (segment_overlap(i % 2 = 0, i % 3 = 0)).* FROM generate_series(1, 100) i;
SELECT (segment_overlap(x, y)).n FROM (VALUES (true, NULL::boolean), (NULL, true), (false, false)) v(x, y);
SELECT segment_overlap(true, true) IS NULL AS no_rows FROM generate_series(1, 3) WHERE false;
SELECT segment_overlap(10, 20, 11, 100);
SELECT segment_overlap(60, 50, 5, 100);
SELECT segment_overlap(-1, 0, 0, 10);

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
