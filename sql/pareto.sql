-- The Pareto diagnosis: gini, pareto_share, lorenz_curve,
-- pareto_tier_thresholds and value_band_cuts.
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

RESET ROLE;
