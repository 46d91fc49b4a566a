-- k-means clustering: kmeans_fit and kmeans_assign.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

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

RESET ROLE;
