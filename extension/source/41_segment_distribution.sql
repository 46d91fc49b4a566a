
-- --------------------------------------------------- segment distribution
--
-- The population statistics of a segment build (segment_statistics) kept
-- incrementally: a distribution (bytea) of the buying customers' last
-- orders, frequencies, spends and order values, which deltas of the
-- customers that changed update, and from which the statistics come out
-- identical to the SQL definitions over every customer.

CREATE FUNCTION segment_distribution_delta_transfn(analytics_state, rfm_summary, rfm_summary)
    RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_delta_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_distribution_delta_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_delta_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_distribution_delta_finalfn(analytics_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_delta_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per changed customer: its summary before (NULL for a new
-- customer) and after (NULL for a customer gone). Buyers (a last_order) in
-- before are removed, buyers in after added. NULL when no buyer is in
-- either.
CREATE AGGREGATE segment_distribution_delta(before rfm_summary, after rfm_summary) (
    SFUNC = segment_distribution_delta_transfn, STYPE = analytics_state, SSPACE = 1024,
    FINALFUNC = segment_distribution_delta_finalfn, COMBINEFUNC = segment_distribution_delta_combinefn,
    PARALLEL = SAFE);

-- The distribution with a delta applied; a NULL distribution is empty, a
-- NULL delta changes nothing. Removing a customer the distribution does not
-- hold is an error (22000): build it again from every customer.
CREATE FUNCTION segment_distribution_apply(distribution bytea, delta bytea) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_apply' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Over the distribution's buyers: rfm_bins(summary, as_of, buckets); the
-- percentile_cont(0.5) of frequency and of (monetary / frequency)::float8;
-- percentile_disc(ARRAY[0.8, 0.95]) of monetary (as float8) and the least
-- monetary above the first; whether every monetary is exact as a float8
-- (segment_spend_numeric then gives the numeric back); the buyer count.
-- NULL bins, medians and spends when there are no buyers.
CREATE FUNCTION segment_distribution_statistics(distribution bytea, as_of date, buckets integer,
                                                OUT bins rfm_bins, OUT frequency_median float8,
                                                OUT value_median float8, OUT spend_top float8[],
                                                OUT spend_above float8, OUT exact_spend boolean,
                                                OUT buyers bigint)
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_statistics' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The shortest decimal that reads back as the float8: the numeric a spend
-- came from, when it had at most 15 significant digits.
CREATE FUNCTION segment_spend_numeric(spend float8) RETURNS numeric
    AS 'MODULE_PATHNAME', 'ca_segment_spend_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
