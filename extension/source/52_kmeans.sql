
-- ----------------------------------------------------------------- kmeans
--
-- k-means clustering: kmeans_fit and kmeans_assign.

CREATE TYPE kmeans_model AS (
    k integer,
    d integer,                        -- features per point
    n bigint,                         -- points fitted
    feature_means float8[],           -- d: standardization
    feature_scales float8[],          -- d (1 when not standardized)
    centroids float8[],               -- k x d, original units; row i = cluster i
    centroids_standardized float8[],  -- k x d, standardized units
    sizes bigint[],                   -- k, points per cluster (cluster 1 is the largest)
    wcss float8,                      -- within-cluster sum of squares, standardized units
    silhouette float8,                -- mean silhouette width (sample of up to 4000 points); NULL for k = 1
    iterations integer,
    converged boolean
);

CREATE FUNCTION kmeans_fit_transfn(analytics_state, float8[], integer) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_transfn(analytics_state, float8[], integer, integer, integer, bigint, boolean, float8)
    RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_finalfn(analytics_state) RETURNS kmeans_model
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- k-means++ seeding from a fixed seed, standardized features, Lloyd
-- iterations; the same data and parameters give the same model under any
-- plan. Full form: max_iterations (100), n_init (3), seed (42),
-- standardize (true), tolerance (0).
CREATE AGGREGATE kmeans_fit(features float8[], k integer) (
    SFUNC = kmeans_fit_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = kmeans_fit_finalfn, COMBINEFUNC = kmeans_fit_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE kmeans_fit(features float8[], k integer, max_iterations integer, n_init integer, seed bigint,
                            standardize boolean, tolerance float8) (
    SFUNC = kmeans_fit_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = kmeans_fit_finalfn, COMBINEFUNC = kmeans_fit_combinefn,
    PARALLEL = SAFE);

-- The nearest centroid: cluster 1..k (ties to the lower number).
CREATE FUNCTION kmeans_assign(features float8[], model kmeans_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_kmeans_assign' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
