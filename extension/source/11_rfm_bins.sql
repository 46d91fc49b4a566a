
-- --------------------------------------------------------------- rfm_bins
--
-- Quantile cut points and means of recency, frequency and monetary.

CREATE TYPE rfm_bins AS (
    buckets integer,
    as_of date,
    customers bigint,            -- customers with at least one purchase
    recency_cuts float8[],       -- buckets - 1 cut points, ascending (days)
    frequency_cuts float8[],
    monetary_cuts float8[],
    recency_mean float8,
    frequency_mean float8,
    monetary_mean float8
);

CREATE FUNCTION rfm_bins_transfn(analytics_state, rfm_summary, date, integer) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_bins_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_bins_transfn(analytics_state, rfm_summary, date) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Sorts the collected values in place, hence FINALFUNC_MODIFY = READ_WRITE.
CREATE FUNCTION rfm_bins_finalfn(analytics_state) RETURNS rfm_bins
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_bins(summary rfm_summary, as_of date, buckets integer) (
    SFUNC = rfm_bins_transfn, STYPE = analytics_state, SSPACE = 88,
    FINALFUNC = rfm_bins_finalfn, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = rfm_bins_combinefn,
    PARALLEL = SAFE);
-- Aggregates take no parameter defaults: this one is rfm_bins(summary, as_of, 5).
CREATE AGGREGATE rfm_bins(summary rfm_summary, as_of date) (
    SFUNC = rfm_bins_transfn, STYPE = analytics_state, SSPACE = 88,
    FINALFUNC = rfm_bins_finalfn, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = rfm_bins_combinefn,
    PARALLEL = SAFE);
