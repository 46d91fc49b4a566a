
-- --------------------------------------------------------------- affinity
--
-- Who buys A also buys B (affinity), and how two customer sets overlap
-- (segment_overlap).

CREATE TYPE affinity_pair AS (
    item_a text,            -- item_a < item_b (bytewise)
    item_b text,
    count_a bigint,         -- baskets with item_a
    count_b bigint,
    count_ab bigint,        -- baskets with both
    baskets bigint,         -- all baskets
    support_a float8,
    support_b float8,
    support_ab float8,      -- count_ab / baskets
    confidence_ab float8,   -- P(b | a) = count_ab / count_a
    confidence_ba float8,   -- P(a | b)
    lift float8,            -- count_ab * baskets / (count_a * count_b)
    jaccard float8          -- count_ab / (count_a + count_b - count_ab)
);

CREATE FUNCTION affinity_transfn(analytics_state, text[]) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_transfn(analytics_state, text[], float8, integer) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_transfn(analytics_state, text[], float8, integer, bigint, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_affinity_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_finalfn(analytics_state) RETURNS affinity_pair[]
    AS 'MODULE_PATHNAME', 'ca_affinity_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per basket (the set of its items): the top pairs of items with
-- support >= min_support (default 0.001) and count >= min_count (default
-- 1), ordered by order_by ('support', the default, or 'lift') descending,
-- at most top_n (default 100).
CREATE AGGREGATE affinity(items text[]) (
    SFUNC = affinity_transfn, STYPE = analytics_state, SSPACE = 1088,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE affinity(items text[], min_support float8, top_n integer) (
    SFUNC = affinity_transfn, STYPE = analytics_state, SSPACE = 1088,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    PARALLEL = SAFE);
CREATE AGGREGATE affinity(items text[], min_support float8, top_n integer, min_count bigint, order_by text) (
    SFUNC = affinity_transfn, STYPE = analytics_state, SSPACE = 1088,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    PARALLEL = SAFE);

-- -------------------------------------------------------- segment overlap

CREATE TYPE overlap_stats AS (
    x bigint, y bigint, xy bigint, n bigint,  -- |X|, |Y|, |X and Y|, population
    support_x float8, support_y float8, support_xy float8,
    share_x_in_y float8,   -- xy / x: share of X also in Y
    share_y_in_x float8,   -- xy / y
    jaccard float8,        -- xy / (x + y - xy)
    lift float8            -- xy * n / (x * y)
);

CREATE FUNCTION segment_overlap(x bigint, y bigint, xy bigint, n bigint) RETURNS overlap_stats
    AS 'MODULE_PATHNAME', 'ca_segment_overlap' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION segment_overlap_transfn(analytics_state, boolean, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_overlap_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_overlap_finalfn(analytics_state) RETURNS overlap_stats
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- One row per member of the population: is it in X, is it in Y.
CREATE AGGREGATE segment_overlap(in_x boolean, in_y boolean) (
    SFUNC = segment_overlap_transfn, STYPE = analytics_state, SSPACE = 96,
    FINALFUNC = segment_overlap_finalfn, COMBINEFUNC = segment_overlap_combinefn,
    PARALLEL = SAFE);
