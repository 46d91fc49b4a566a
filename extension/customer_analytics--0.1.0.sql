-- customer_analytics 0.1.0, built by the Makefile from extension/0.1.0/*.sql
-- in name order.
\echo Use "CREATE EXTENSION customer_analytics" to load this file. \quit
-- RFM summaries, bins, scores and segments, lifecycle stages, membership
-- tiers and quadrants.

-- ------------------------------------------------------------ rfm_summary

CREATE TYPE rfm_summary AS (
    first_order date,       -- first purchase (NULL when the customer only has refunds)
    last_order date,        -- last purchase
    frequency bigint,       -- purchases: order rows with amount >= 0
    purchase_days bigint,   -- distinct days with a purchase
    monetary numeric,       -- sum of every amount, refunds included (= sum(amount))
    refunds bigint          -- order rows with amount < 0
);

CREATE FUNCTION rfm_agg_transfn(internal, date, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_date_numeric' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_date_float8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- timestamptz order times become dates in the session's TimeZone: STABLE.
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_timestamptz_numeric' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_timestamptz_float8' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_agg_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_agg_finalfn(internal) RETURNS rfm_summary
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_agg(order_date date, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);

-- --------------------------------------------------------------- rfm_bins

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

CREATE FUNCTION rfm_bins_transfn(internal, rfm_summary, date, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_bins_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_bins_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_bins_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_bins_transfn(internal, rfm_summary, date) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Sorts the collected values in place, hence FINALFUNC_MODIFY = READ_WRITE.
CREATE FUNCTION rfm_bins_finalfn(internal) RETURNS rfm_bins
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_bins(summary rfm_summary, as_of date, buckets integer) (
    SFUNC = rfm_bins_transfn, STYPE = internal, SSPACE = 24,
    FINALFUNC = rfm_bins_finalfn, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = rfm_bins_combinefn,
    SERIALFUNC = rfm_bins_serialfn, DESERIALFUNC = rfm_bins_deserialfn,
    PARALLEL = SAFE);
-- Aggregates take no parameter defaults: this one is rfm_bins(summary, as_of, 5).
CREATE AGGREGATE rfm_bins(summary rfm_summary, as_of date) (
    SFUNC = rfm_bins_transfn, STYPE = internal, SSPACE = 24,
    FINALFUNC = rfm_bins_finalfn, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = rfm_bins_combinefn,
    SERIALFUNC = rfm_bins_serialfn, DESERIALFUNC = rfm_bins_deserialfn,
    PARALLEL = SAFE);

-- -------------------------------------------------------------- rfm_score

-- Three scores packed in four bytes; text form '545' (or '10-4-5' once a
-- score exceeds 9). Ordered by r, then f, then m; hashable for GROUP BY.
CREATE TYPE rfm_score;
CREATE FUNCTION rfm_score_in(cstring) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_score_out(rfm_score) RETURNS cstring
    AS 'MODULE_PATHNAME', 'ca_rfm_score_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_score_recv(internal) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_score_send(rfm_score) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_rfm_score_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE rfm_score (
    INPUT = rfm_score_in, OUTPUT = rfm_score_out,
    RECEIVE = rfm_score_recv, SEND = rfm_score_send,
    INTERNALLENGTH = 4, PASSEDBYVALUE, ALIGNMENT = int4, STORAGE = plain);

CREATE FUNCTION rfm_score_eq(rfm_score, rfm_score) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_rfm_score_eq' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION rfm_score_ne(rfm_score, rfm_score) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_rfm_score_ne' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION rfm_score_lt(rfm_score, rfm_score) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_rfm_score_lt' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION rfm_score_le(rfm_score, rfm_score) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_rfm_score_le' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION rfm_score_gt(rfm_score, rfm_score) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_rfm_score_gt' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION rfm_score_ge(rfm_score, rfm_score) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_rfm_score_ge' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION rfm_score_cmp(rfm_score, rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_rfm_score_cmp' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION rfm_score_hash(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_rfm_score_hash' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE OPERATOR = (LEFTARG = rfm_score, RIGHTARG = rfm_score, PROCEDURE = rfm_score_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = rfm_score, RIGHTARG = rfm_score, PROCEDURE = rfm_score_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (LEFTARG = rfm_score, RIGHTARG = rfm_score, PROCEDURE = rfm_score_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = rfm_score, RIGHTARG = rfm_score, PROCEDURE = rfm_score_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (LEFTARG = rfm_score, RIGHTARG = rfm_score, PROCEDURE = rfm_score_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (LEFTARG = rfm_score, RIGHTARG = rfm_score, PROCEDURE = rfm_score_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS rfm_score_ops DEFAULT FOR TYPE rfm_score USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 rfm_score_cmp(rfm_score, rfm_score);
CREATE OPERATOR CLASS rfm_score_hash_ops DEFAULT FOR TYPE rfm_score USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 rfm_score_hash(rfm_score);

CREATE FUNCTION rfm_score(recency integer, frequency integer, monetary integer) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score_from_parts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION recency_score(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_rfm_score_recency' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION frequency_score(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_rfm_score_frequency' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_score(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_rfm_score_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Scores a customer against bins; NULL when the customer has no purchase.
CREATE FUNCTION rfm_score(summary rfm_summary, bins rfm_bins, as_of date) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Same, as of the date the bins were computed for.
CREATE FUNCTION rfm_score(summary rfm_summary, bins rfm_bins) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score_bins_as_of' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- --------------------------------------------------------------- segments

CREATE TYPE rfm_segment_rule AS (
    name text,
    r_min integer, r_max integer,
    f_min integer, f_max integer,
    m_min integer, m_max integer
);

-- The 11 standard segments, in evaluation order (first match wins).
CREATE FUNCTION rfm_standard_segments() RETURNS rfm_segment_rule[]
    AS 'MODULE_PATHNAME', 'ca_rfm_standard_segments' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_segment(score rfm_score) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_rfm_segment' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- A user segment map: the first rule whose ranges contain the score names
-- it, 'Others' otherwise. A table of rules works as
-- rfm_segment(score, ARRAY(SELECT r FROM my_rules r ORDER BY priority)).
CREATE FUNCTION rfm_segment(score rfm_score, rules rfm_segment_rule[]) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_rfm_segment_rules' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The 8 classes: R, F, M each high or low against the population means of
-- the bins (or given cuts); labels in English ('en') or Chinese ('zh').
CREATE FUNCTION rfm_class(summary rfm_summary, bins rfm_bins, as_of date, language text DEFAULT 'en')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_rfm_class' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_class(recency_days float8, frequency float8, monetary float8,
                          recency_cut float8, frequency_cut float8, monetary_cut float8,
                          language text DEFAULT 'en')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_rfm_class_values' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------- stages

CREATE FUNCTION lifecycle_stage(last_order date, as_of date, thresholds integer[] DEFAULT '{63,126,365}')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lifecycle_stage(last_order date, as_of date, thresholds integer[], stages text[])
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_date_named' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- timestamptz arguments count calendar days in the session's TimeZone: STABLE.
CREATE FUNCTION lifecycle_stage(last_order timestamptz, as_of timestamptz,
                                thresholds integer[] DEFAULT '{63,126,365}')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_timestamptz' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lifecycle_stage(last_order timestamptz, as_of timestamptz, thresholds integer[], stages text[])
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_timestamptz_named' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tier_for(spend numeric, thresholds numeric[], tiers text[] DEFAULT '{normal,silver,gold}')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_tier_for_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION tier_for(spend float8, thresholds float8[], tiers text[] DEFAULT '{normal,silver,gold}')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_tier_for_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Upgrades at once, downgrades only when rerating; current_tier NULL = no
-- tier yet. Not STRICT because of that NULL; other NULLs give NULL.
CREATE FUNCTION tier_for(spend numeric, thresholds numeric[], tiers text[], current_tier text, rerating boolean)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_tier_for_numeric_hysteresis' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION tier_for(spend float8, thresholds float8[], tiers text[], current_tier text, rerating boolean)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_tier_for_float8_hysteresis' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION quadrant(frequency numeric, avg_order_value numeric, frequency_cut numeric, value_cut numeric)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_quadrant_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION quadrant(frequency float8, avg_order_value float8, frequency_cut float8, value_cut float8)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_quadrant_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------------ mergeable state

-- rfm_agg's state as bytes, kept per customer so that new orders can be
-- merged in later without rereading old ones (the builder's refresh does
-- this). rfm_state_merge(state) folds states; rfm_state_summary(state) is
-- the rfm_summary they stand for. The bytes are versioned and checked when
-- read back.
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION rfm_state_merge_transfn(internal, bytea) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_state_merge_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE rfm_state_merge(state bytea) (
    SFUNC = rfm_state_merge_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE FUNCTION rfm_state_summary(state bytea) RETURNS rfm_summary
    AS 'MODULE_PATHNAME', 'ca_rfm_state_summary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------- Buy-Till-You-Die models
--
-- BG/NBD, Pareto/NBD and Gamma-Gamma fitted by maximum likelihood, per-
-- customer predictions and CLV (docs/btyd.md has formulas and units).
-- A customer is (x, t_x, t_cal): repeat purchases (distinct purchase days
-- after the first), time from the first to the last purchase, and time from
-- the first purchase to the end of the calibration period, all within the
-- calibration period and in one time unit (day, week or month); model
-- parameters with a time dimension (alpha, beta) and horizons t are in that
-- unit too.

CREATE TYPE btyd_input AS (
    x float8,       -- repeat purchases
    t_x float8,     -- time of the last purchase since the first
    t_cal float8    -- time from the first purchase to the calibration end
);

-- From a summary of the orders up to cal_end (filter WHERE order_date <=
-- cal_end before rfm_agg): x = purchase_days - 1, t_x = (last_order -
-- first_order) / unit, t_cal = (cal_end - first_order) / unit, unit = 1, 7
-- or 30.4375 days. NULL for a customer without a purchase.
CREATE FUNCTION btyd_inputs(summary rfm_summary, cal_end date, unit text DEFAULT 'week') RETURNS btyd_input
    AS 'MODULE_PATHNAME', 'ca_btyd_inputs_summary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION btyd_inputs(first_order date, last_order date, purchase_days bigint, cal_end date,
                            unit text DEFAULT 'week') RETURNS btyd_input
    AS 'MODULE_PATHNAME', 'ca_btyd_inputs_dates' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Fitted models. Prediction functions read only the parameters, so a model
-- can also be built from stored parameters with the constructors below.
CREATE TYPE bgnbd_model AS (
    r float8, alpha float8, a float8, b float8,
    log_likelihood float8,  -- at the estimate, without the l2 penalty
    customers bigint,       -- customers fitted
    converged boolean,      -- a proper maximum was found (else the best point reached)
    iterations integer      -- optimizer iterations
);
CREATE TYPE pareto_nbd_model AS (
    r float8, alpha float8, s float8, beta float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer
);
CREATE TYPE gamma_gamma_model AS (
    p float8, q float8, gamma float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer
);

CREATE FUNCTION bgnbd_model(r float8, alpha float8, a float8, b float8) RETURNS bgnbd_model
    AS 'SELECT r, alpha, a, b, NULL::float8, NULL::bigint, NULL::boolean, NULL::integer'
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_model(r float8, alpha float8, s float8, beta float8) RETURNS pareto_nbd_model
    AS 'SELECT r, alpha, s, beta, NULL::float8, NULL::bigint, NULL::boolean, NULL::integer'
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model(p float8, q float8, gamma float8) RETURNS gamma_gamma_model
    AS 'SELECT p, q, gamma, NULL::float8, NULL::bigint, NULL::boolean, NULL::integer'
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE;

-- The fit aggregates. State: the distinct observations with their counts.
-- Rows with a NULL argument are skipped; an empty input gives NULL.
CREATE FUNCTION btyd_fit_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_fit_transfn(internal, float8, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_fit_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_fit_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION btyd_fit_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_finalfn(internal) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_finalfn(internal) RETURNS pareto_nbd_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE bgnbd_fit(x float8, t_x float8, t_cal float8) (
    SFUNC = btyd_fit_transfn, STYPE = internal, FINALFUNC = bgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, SERIALFUNC = btyd_fit_serialfn, DESERIALFUNC = btyd_fit_deserialfn,
    PARALLEL = SAFE);
-- l2_penalty >= 0 on the log-parameters, added to the mean negative
-- log-likelihood per customer; the same value on every row.
CREATE AGGREGATE bgnbd_fit(x float8, t_x float8, t_cal float8, l2_penalty float8) (
    SFUNC = btyd_fit_transfn, STYPE = internal, FINALFUNC = bgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, SERIALFUNC = btyd_fit_serialfn, DESERIALFUNC = btyd_fit_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(x float8, t_x float8, t_cal float8) (
    SFUNC = btyd_fit_transfn, STYPE = internal, FINALFUNC = pareto_nbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, SERIALFUNC = btyd_fit_serialfn, DESERIALFUNC = btyd_fit_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(x float8, t_x float8, t_cal float8, l2_penalty float8) (
    SFUNC = btyd_fit_transfn, STYPE = internal, FINALFUNC = pareto_nbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, SERIALFUNC = btyd_fit_serialfn, DESERIALFUNC = btyd_fit_deserialfn,
    PARALLEL = SAFE);

-- Customers with x = 0 carry no spend information and are skipped.
CREATE FUNCTION gamma_gamma_fit_transfn(internal, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_finalfn(internal) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE gamma_gamma_fit(x float8, mean_spend float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = internal, FINALFUNC = gamma_gamma_fit_finalfn,
    COMBINEFUNC = gamma_gamma_fit_combinefn, SERIALFUNC = gamma_gamma_fit_serialfn,
    DESERIALFUNC = gamma_gamma_fit_deserialfn, PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(x float8, mean_spend float8, l2_penalty float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = internal, FINALFUNC = gamma_gamma_fit_finalfn,
    COMBINEFUNC = gamma_gamma_fit_combinefn, SERIALFUNC = gamma_gamma_fit_serialfn,
    DESERIALFUNC = gamma_gamma_fit_deserialfn, PARALLEL = SAFE);

-- Per customer. t is a horizon in the model's time unit: purchases in
-- (t_cal, t_cal + t]. The two-argument *_expected(model, t) is a new
-- customer's expected repeat purchases in (0, t].
CREATE FUNCTION bgnbd_p_alive(model bgnbd_model, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_expected(model bgnbd_model, t float8, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_expected' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_expected(model bgnbd_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_expected_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- 100 * P(at least one purchase in (t_cal, t_cal + t]), 0..100, not rounded.
CREATE FUNCTION bgnbd_repurchase_score(model bgnbd_model, t float8, x float8, t_x float8, t_cal float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_repurchase_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pareto_nbd_p_alive(model pareto_nbd_model, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_expected(model pareto_nbd_model, t float8, x float8, t_x float8, t_cal float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_expected' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_expected(model pareto_nbd_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_expected_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_repurchase_score(model pareto_nbd_model, t float8, x float8, t_x float8, t_cal float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_repurchase_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- E[spend per purchase | x, mean_spend] = p (gamma + x mean_spend) / (p x + q - 1);
-- x = 0 (mean_spend ignored, may be NULL) gives the population mean
-- p gamma / (q - 1). Not STRICT for that reason; other NULLs give NULL.
CREATE FUNCTION gamma_gamma_expected_spend(model gamma_gamma_model, x float8, mean_spend float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_expected_spend' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Expected discounted revenue over `periods` periods of `period_length`
-- model time units, each period's purchases discounted at its end:
--   expected_spend * sum_{k=1..periods} (E[Y(k L)] - E[Y((k-1) L)]) / (1 + discount_rate)^k
CREATE FUNCTION clv(model bgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                    periods integer, discount_rate float8, period_length float8 DEFAULT 1) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgnbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv(model pareto_nbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                    periods integer, discount_rate float8, period_length float8 DEFAULT 1) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------- builder
--
-- build_segments() creates one table with one row per customer and every
-- derived column, the tables that keep it refreshable, and summary views;
-- refresh_segments() brings it up to date. Everything runs with the caller's
-- rights (SECURITY INVOKER); identifiers are quoted with format('%I') and
-- validated against the catalogs; extension objects are schema-qualified and
-- the functions run with search_path = pg_catalog, pg_temp.
--
-- Objects created for a target T (in T's schema):
--   T            the customer table (dashboards read it)
--   T_state      per-customer mergeable rfm_agg state (bytea)
--   T_pending    orders captured by triggers on the source since the last
--                refresh (kind 'i'), and markers (kind 'r') left by UPDATE,
--                DELETE or TRUNCATE on the source, which force a full rebuild
--   T_history    (refresh_number, customer, segment) whenever a customer's
--                segment changes: the segment of any customer at any refresh
--   T_capture()  the trigger function (SECURITY DEFINER, owned by the caller,
--                so that roles writing orders need no rights on T_pending)
--   views T_segment_sizes, T_stage_counts, T_tier_funnel,
--         T_quadrant_counts, T_migration

CREATE TABLE segment_builds (
    target regclass PRIMARY KEY,
    owner regrole NOT NULL DEFAULT current_user::regrole,
    source regclass NOT NULL,
    customer_column name NOT NULL,
    date_column name NOT NULL,
    amount_column name NOT NULL,
    options jsonb NOT NULL,
    state_table regclass NOT NULL,
    pending_table regclass NOT NULL,
    history_table regclass NOT NULL,
    incremental boolean NOT NULL,   -- false for views and foreign tables: every refresh rebuilds
    as_of date NOT NULL,
    refresh_number integer NOT NULL,
    last_mode text NOT NULL,
    built_at timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL,
    customers bigint NOT NULL,
    orders_merged bigint NOT NULL
);
COMMENT ON TABLE segment_builds IS 'One row per table built by build_segments: its definition and last refresh';

CREATE TABLE segment_tag_rules (
    target regclass NOT NULL,
    tag text NOT NULL,
    condition text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    owner regrole NOT NULL DEFAULT current_user::regrole,
    PRIMARY KEY (target, tag)
);
COMMENT ON TABLE segment_tag_rules IS 'Rule-based tags: a SQL boolean condition over a segment table''s columns';

-- Each role sees and changes only the builds and rules of roles it belongs to.
ALTER TABLE segment_builds ENABLE ROW LEVEL SECURITY;
ALTER TABLE segment_tag_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_builds_owner ON segment_builds
    USING (pg_catalog.pg_has_role(owner, 'MEMBER')) WITH CHECK (pg_catalog.pg_has_role(owner, 'MEMBER'));
CREATE POLICY segment_tag_rules_owner ON segment_tag_rules
    USING (pg_catalog.pg_has_role(owner, 'MEMBER')) WITH CHECK (pg_catalog.pg_has_role(owner, 'MEMBER'));
GRANT SELECT, INSERT, UPDATE, DELETE ON segment_builds, segment_tag_rules TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('segment_builds', '');
SELECT pg_catalog.pg_extension_config_dump('segment_tag_rules', '');

-- A column of the source, with its type; a clear error when it is missing.
CREATE FUNCTION segment_source_column(source regclass, column_name name, role text)
RETURNS regtype LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    column_type regtype;
BEGIN
    SELECT a.atttypid::regtype INTO column_type
    FROM pg_attribute a WHERE a.attrelid = source AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF column_type IS NULL THEN
        RAISE EXCEPTION 'column "%" does not exist in %', column_name, source
            USING ERRCODE = 'undefined_column', HINT = format('Pass the name of the %s column of %s.', role, source);
    END IF;
    RETURN column_type;
END $fn$;

-- Builds the SELECT that derives every column of a segment table from a
-- relation src(customer, s rfm_summary). The OFFSET 0 fences keep the
-- planner from inlining subqueries, which would evaluate rfm_state_summary()
-- and rfm_score() once per field reference instead of once per row.
-- Parameters: $1 bins, $2 as_of,
-- $3 lifecycle thresholds, $4 stage names, $5 tier thresholds, $6 tier
-- names, $7 frequency cut, $8 value cut. Full builds and refreshes both use
-- it, which is what makes an incremental refresh equal a full rebuild.
CREATE FUNCTION segment_rows_sql(target regclass, src text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    tags text;
BEGIN
    SELECT coalesce('pg_catalog.array_remove(ARRAY[' ||
                    string_agg(format('CASE WHEN (%s) THEN %L END', r.condition, r.tag), ', ' ORDER BY r.tag) ||
                    ']::text[], NULL)', '''{}''::text[]')
    INTO tags FROM @extschema@.segment_tag_rules r WHERE r.target = segment_rows_sql.target AND r.enabled;
    RETURN format($sql$
SELECT d.*, %s AS tags FROM (
    SELECT src.customer,
           (src.s).first_order, (src.s).last_order,
           CASE WHEN (src.s).last_order IS NOT NULL THEN greatest(0, $2 - (src.s).last_order) END AS recency_days,
           (src.s).frequency, (src.s).purchase_days, (src.s).monetary,
           round((src.s).monetary / nullif((src.s).frequency, 0), greatest(scale((src.s).monetary), 2)) AS avg_order_value,
           (src.s).refunds,
           @extschema@.recency_score(sc.score) AS r_score,
           @extschema@.frequency_score(sc.score) AS f_score,
           @extschema@.monetary_score(sc.score) AS m_score,
           sc.score::text AS rfm_code,
           coalesce(@extschema@.rfm_segment(sc.score), 'No purchase') AS segment,
           @extschema@.rfm_class(src.s, $1, $2) AS rfm_class,
           @extschema@.rfm_class(src.s, $1, $2, 'zh') AS rfm_class_zh,
           @extschema@.lifecycle_stage((src.s).last_order, $2, $3, $4) AS lifecycle_stage,
           CASE WHEN (src.s).frequency > 0 THEN @extschema@.tier_for((src.s).monetary, $5, $6) END AS tier,
           CASE WHEN (src.s).frequency > 0
                THEN @extschema@.quadrant((src.s).frequency::numeric, (src.s).monetary / (src.s).frequency, $7, $8) END AS quadrant
    FROM (SELECT * FROM (%s) u OFFSET 0) src,
         LATERAL (SELECT @extschema@.rfm_score(src.s, $1, $2) AS score OFFSET 0) sc
    OFFSET 0
) d
$sql$, tags, src);
END $fn$;

-- The population statistics a refresh recomputes from customer-level rows:
-- bins, tier thresholds (given, or the spend of the top 20 %% and top 5 %%
-- of buying customers) and quadrant cuts (given, or the medians).
CREATE FUNCTION segment_statistics(build @extschema@.segment_builds, src text, as_of date,
                                   OUT bins @extschema@.rfm_bins, OUT tier_thresholds numeric[],
                                   OUT frequency_cut numeric, OUT value_cut numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    buckets integer := coalesce((build.options->>'buckets')::integer, 5);
    top numeric[];
    next_above numeric;
    computed record;
BEGIN
    EXECUTE format($sql$
        SELECT @extschema@.rfm_bins(s, $1, $2) AS bins,
               percentile_disc(ARRAY[0.8, 0.95]) WITHIN GROUP (ORDER BY (s).monetary) FILTER (WHERE (s).frequency > 0) AS top,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s).frequency) FILTER (WHERE (s).frequency > 0) AS frequency_cut,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s).monetary / (s).frequency)
                   FILTER (WHERE (s).frequency > 0) AS value_cut
        FROM (SELECT * FROM (%s) u OFFSET 0) src
    $sql$, src)
    INTO computed USING as_of, buckets;
    bins := computed.bins;
    top := computed.top;
    frequency_cut := computed.frequency_cut;
    value_cut := computed.value_cut;

    IF build.options ? 'tier_thresholds' THEN
        tier_thresholds := ARRAY(SELECT jsonb_array_elements_text(build.options->'tier_thresholds'))::numeric[];
    ELSIF top IS NOT NULL THEN
        tier_thresholds := top;
        IF top[2] <= top[1] THEN
            -- Many customers spend exactly the top-20 %% level: gold starts at
            -- the next spend level above it (or one unit above when none).
            EXECUTE format('SELECT min((s).monetary) FROM (%s) src WHERE (s).monetary > $1', src)
                INTO next_above USING top[1];
            tier_thresholds := ARRAY[top[1], coalesce(next_above, top[1] + 1)];
        END IF;
    END IF;
    IF build.options ? 'frequency_cut' THEN
        frequency_cut := (build.options->>'frequency_cut')::numeric;
    END IF;
    IF build.options ? 'value_cut' THEN
        value_cut := (build.options->>'value_cut')::numeric;
    END IF;
END $fn$;

-- Derives every customer row from src into a new table: the target itself
-- on a first build, else the temporary table segment_rows that a refresh
-- compares with the target. Returns the number of rows.
CREATE FUNCTION segment_derive(build @extschema@.segment_builds, src text, as_of date,
                               destination text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    stats record;
    row_count bigint;
    thresholds integer[] := '{63,126,365}';
    stages text[] := '{active,silent,sleeping,churned}';
    tiers text[] := '{normal,silver,gold}';
BEGIN
    IF build.options ? 'lifecycle_thresholds' THEN
        thresholds := ARRAY(SELECT jsonb_array_elements_text(build.options->'lifecycle_thresholds'))::integer[];
    END IF;
    IF build.options ? 'lifecycle_stages' THEN
        stages := ARRAY(SELECT jsonb_array_elements_text(build.options->'lifecycle_stages'));
    END IF;
    IF build.options ? 'tiers' THEN
        tiers := ARRAY(SELECT jsonb_array_elements_text(build.options->'tiers'));
    END IF;
    stats := @extschema@.segment_statistics(build, src, as_of);
    IF destination IS NULL THEN
        IF to_regclass('pg_temp.segment_rows') IS NOT NULL THEN
            DROP TABLE pg_temp.segment_rows;
        END IF;
        destination := 'pg_temp.segment_rows';
        EXECUTE format('CREATE TEMPORARY TABLE segment_rows ON COMMIT DROP AS %s',
                       @extschema@.segment_rows_sql(build.target, src))
            USING stats.bins, as_of, thresholds, stages, stats.tier_thresholds, tiers, stats.frequency_cut,
                  stats.value_cut;
    ELSE
        EXECUTE format('CREATE TABLE %s AS %s', destination, @extschema@.segment_rows_sql(build.target, src))
            USING stats.bins, as_of, thresholds, stages, stats.tier_thresholds, tiers, stats.frequency_cut,
                  stats.value_cut;
    END IF;
    GET DIAGNOSTICS row_count = ROW_COUNT;
    EXECUTE format('ANALYZE %s', destination);
    RETURN row_count;
END $fn$;

-- The columns a refresh compares and rewrites (everything but the key).
CREATE FUNCTION segment_value_columns()
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT 'first_order, last_order, recency_days, frequency, purchase_days, monetary, avg_order_value, refunds, '
           'r_score, f_score, m_score, rfm_code, segment, rfm_class, rfm_class_zh, lifecycle_stage, tier, quadrant, tags'
$fn$;

-- The caller's current schema is the default for an unqualified target,
-- so it is read here, before the builder switches search_path.
CREATE FUNCTION build_segments(source regclass, customer_column name, date_column name, amount_column name,
                               target text, as_of date DEFAULT current_date, options jsonb DEFAULT '{}')
RETURNS regclass LANGUAGE sql AS $fn$
    SELECT @extschema@.segment_build(source, customer_column, date_column, amount_column, target, as_of, options,
                                     pg_catalog.current_schema())
$fn$;

CREATE FUNCTION segment_build(source regclass, customer_column name, date_column name, amount_column name,
                              target text, as_of date, options jsonb, default_schema name)
RETURNS regclass LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    parts text[];
    target_schema name;
    target_name name;
    qualified text;
    customer_type regtype;
    date_type regtype;
    amount_type regtype;
    date_expression text;
    amount_expression text;
    build @extschema@.segment_builds;
    customers bigint;
    suffix text;
BEGIN
    IF source IS NULL OR customer_column IS NULL OR date_column IS NULL OR amount_column IS NULL OR target IS NULL
       OR as_of IS NULL THEN
        RAISE EXCEPTION 'build_segments arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF as_of = 'infinity' OR as_of = '-infinity' THEN
        RAISE EXCEPTION 'as_of must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The target is an identifier, optionally schema-qualified; anything
    -- else (quotes, semicolons, spaces outside quotes) is rejected here.
    parts := parse_ident(target);
    IF cardinality(parts) = 1 THEN
        target_schema := default_schema;
        target_name := parts[1];
    ELSIF cardinality(parts) = 2 THEN
        target_schema := parts[1];
        target_name := parts[2];
    ELSE
        RAISE EXCEPTION 'invalid target name "%"', target USING ERRCODE = 'invalid_name',
            HINT = 'Give a table name, optionally qualified with a schema name.';
    END IF;
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no schema has been selected to create in' USING ERRCODE = 'invalid_schema_name';
    END IF;
    IF length(target_name) > 63 - length('_quadrant_counts') THEN
        RAISE EXCEPTION 'target name "%" is too long', target_name USING ERRCODE = 'name_too_long',
            DETAIL = format('The builder adds suffixes of up to %s characters to it.', length('_quadrant_counts'));
    END IF;
    FOREACH suffix IN ARRAY ARRAY['', '_state', '_pending', '_history', '_segment_sizes', '_stage_counts',
                                  '_tier_funnel', '_quadrant_counts', '_migration'] LOOP
        IF to_regclass(format('%I.%I', target_schema, target_name || suffix)) IS NOT NULL THEN
            RAISE EXCEPTION 'relation "%.%" already exists', target_schema, target_name || suffix
                USING ERRCODE = 'duplicate_table',
                      HINT = 'Refresh it with refresh_segments(), or remove it with drop_segments().';
        END IF;
    END LOOP;
    qualified := format('%I.%I', target_schema, target_name);

    customer_type := @extschema@.segment_source_column(source, customer_column, 'customer');
    date_type := @extschema@.segment_source_column(source, date_column, 'order date');
    amount_type := @extschema@.segment_source_column(source, amount_column, 'amount');
    date_expression := CASE
        WHEN date_type IN ('date'::regtype, 'timestamptz'::regtype) THEN format('%I', date_column)
        WHEN date_type = 'timestamp'::regtype THEN format('%I::date', date_column)
        ELSE NULL END;
    IF date_expression IS NULL THEN
        RAISE EXCEPTION 'column "%" of % has type %, not a date', date_column, source, date_type
            USING ERRCODE = 'datatype_mismatch', HINT = 'The order date must be of type date, timestamp or timestamptz.';
    END IF;
    amount_expression := CASE
        WHEN amount_type IN ('numeric'::regtype, 'double precision'::regtype) THEN format('%I', amount_column)
        WHEN amount_type IN ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype, 'money'::regtype)
            THEN format('%I::numeric', amount_column)
        WHEN amount_type = 'real'::regtype THEN format('%I::float8', amount_column)
        ELSE NULL END;
    IF amount_expression IS NULL THEN
        RAISE EXCEPTION 'column "%" of % has type %, not an amount', amount_column, source, amount_type
            USING ERRCODE = 'datatype_mismatch', HINT = 'The amount must be numeric, an integer or a floating-point type.';
    END IF;

    -- Per-customer state straight from the orders, in one pass.
    EXECUTE format('CREATE TABLE %I.%I AS SELECT %I AS customer, @extschema@.rfm_agg_state(%s, %s) AS state '
                   'FROM %s WHERE %I IS NOT NULL GROUP BY 1',
                   target_schema, target_name || '_state', customer_column, date_expression, amount_expression,
                   source, customer_column);
    EXECUTE format('ALTER TABLE %I.%I ADD PRIMARY KEY (customer)', target_schema, target_name || '_state');
    EXECUTE format('CREATE TABLE %I.%I (customer %s, order_date %s, amount %s, kind "char" NOT NULL)',
                   target_schema, target_name || '_pending', customer_type, date_type, amount_type);
    EXECUTE format('CREATE TABLE %I.%I (refresh_number integer NOT NULL, customer %s NOT NULL, segment text NOT NULL)',
                   target_schema, target_name || '_history', customer_type);

    build := ROW(NULL, current_user::regrole, source, customer_column, date_column, amount_column, options,
                 format('%I.%I', target_schema, target_name || '_state')::regclass,
                 format('%I.%I', target_schema, target_name || '_pending')::regclass,
                 format('%I.%I', target_schema, target_name || '_history')::regclass,
                 (SELECT c.relkind IN ('r', 'p') FROM pg_class c WHERE c.oid = source),
                 as_of, 1, 'build', now(), now(), 0, 0);
    customers := @extschema@.segment_derive(
        build, format('SELECT customer, @extschema@.rfm_state_summary(state) AS s FROM %s', build.state_table),
        as_of, qualified);
    build.target := qualified::regclass;
    EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (customer)', qualified);
    EXECUTE format('CREATE INDEX ON %s (segment)', qualified);
    EXECUTE format('CREATE INDEX ON %s (lifecycle_stage)', qualified);
    EXECUTE format('CREATE INDEX ON %s (tier)', qualified);
    EXECUTE format('CREATE INDEX ON %s USING gin (tags)', qualified);
    EXECUTE format('INSERT INTO %s SELECT 1, customer, segment FROM %s', build.history_table, qualified);
    EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (customer, refresh_number)', build.history_table);
    build.customers := customers;
    EXECUTE format('SELECT coalesce(sum(frequency + refunds), 0) FROM %s', qualified) INTO build.orders_merged;
    INSERT INTO @extschema@.segment_builds SELECT build.*;

    PERFORM @extschema@.segment_create_views(build);
    PERFORM @extschema@.segment_create_capture(build);
    RETURN build.target;
END $fn$;

-- Summary views for dashboards, beside the target.
CREATE FUNCTION segment_create_views(build @extschema@.segment_builds)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target_schema name;
    target_name name;
    tiers text[] := '{normal,silver,gold}';
BEGIN
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = build.target;
    IF build.options ? 'tiers' THEN
        tiers := ARRAY(SELECT jsonb_array_elements_text(build.options->'tiers'));
    END IF;
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        SELECT segment, count(*) AS customers,
               round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS customer_share,
               sum(monetary) AS revenue,
               round(100.0 * sum(monetary) / nullif(sum(sum(monetary)) OVER (), 0), 2) AS revenue_share
        FROM %s GROUP BY segment$sql$, target_schema, target_name || '_segment_sizes', build.target);
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        SELECT coalesce(lifecycle_stage, 'no purchase') AS lifecycle_stage, count(*) AS customers,
               round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS customer_share, sum(monetary) AS revenue
        FROM %s GROUP BY 1$sql$, target_schema, target_name || '_stage_counts', build.target);
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        SELECT t.tier, t.tier_rank, count(c.customer) AS customers,
               round(100.0 * count(c.customer) / nullif(sum(count(c.customer)) OVER (), 0), 2) AS customer_share,
               coalesce(sum(c.monetary), 0) AS revenue, min(c.monetary) AS lowest_spend
        FROM unnest(%L::text[]) WITH ORDINALITY AS t(tier, tier_rank)
        LEFT JOIN %s c ON c.tier = t.tier
        GROUP BY t.tier, t.tier_rank$sql$, target_schema, target_name || '_tier_funnel', tiers, build.target);
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        SELECT quadrant, count(*) AS customers,
               round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS customer_share, sum(monetary) AS revenue
        FROM %s WHERE quadrant IS NOT NULL GROUP BY quadrant$sql$,
        target_schema, target_name || '_quadrant_counts', build.target);
    -- Segment migration between the last two refreshes: each customer's
    -- segment before the last refresh (NULL for new customers) and now.
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        WITH latest AS (
            SELECT refresh_number FROM @extschema@.segment_builds WHERE target = %L::regclass
        ), before AS (
            SELECT DISTINCT ON (h.customer) h.customer, h.segment
            FROM %s h, latest WHERE h.refresh_number < latest.refresh_number
            ORDER BY h.customer, h.refresh_number DESC
        )
        SELECT b.segment AS from_segment, c.segment AS to_segment, count(*) AS customers
        FROM %s c LEFT JOIN before b ON b.customer = c.customer
        GROUP BY 1, 2$sql$,
        target_schema, target_name || '_migration', build.target::text, build.history_table, build.target);
END $fn$;

-- Triggers on the source that capture new orders into T_pending, and leave
-- a rebuild marker when orders are updated, deleted or truncated.
CREATE FUNCTION segment_create_capture(build @extschema@.segment_builds)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target_schema name;
    target_name name;
    capture text;
    date_type regtype := @extschema@.segment_source_column(build.source, build.date_column, 'order date');
    amount_type regtype := @extschema@.segment_source_column(build.source, build.amount_column, 'amount');
BEGIN
    IF NOT build.incremental THEN
        RETURN;  -- only tables have the triggers that capture new orders
    END IF;
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = build.target;
    capture := format('%I.%I', target_schema, target_name || '_capture');
    EXECUTE format($sql$
        CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO %s (customer, order_date, amount, kind)
                SELECT %I, %I, %I, 'i' FROM new_orders;
            ELSE
                INSERT INTO %s (kind) VALUES ('r');
            END IF;
            RETURN NULL;
        END $body$
$sql$,
        capture, build.pending_table, build.customer_column, build.date_column, build.amount_column,
        build.pending_table);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_orders '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %s()', target_name || '_capture_inserts', build.source, capture);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I, %I, %I OR DELETE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %s()', target_name || '_capture_changes',
                   build.customer_column, build.date_column, build.amount_column, build.source, capture);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()',
                   target_name || '_capture_truncate', build.source, capture);
END $fn$;

CREATE FUNCTION refresh_segments(target regclass, as_of date DEFAULT current_date, full_rebuild boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    build @extschema@.segment_builds;
    mode text;
    rebuild_requested boolean;
    moved bigint := 0;
    touched bigint := 0;
    changed bigint := 0;
    removed bigint := 0;
    added bigint := 0;
    src text;
    columns text := @extschema@.segment_value_columns();
    date_expression text;
    amount_expression text;
    started timestamptz := clock_timestamp();
BEGIN
    IF target IS NULL OR as_of IS NULL OR full_rebuild IS NULL THEN
        RAISE EXCEPTION 'refresh_segments arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF as_of = 'infinity' OR as_of = '-infinity' THEN
        RAISE EXCEPTION 'as_of must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Refreshes of one target are serialized on its catalog row; readers of
    -- the target never wait (rows are rewritten under MVCC in one transaction).
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = refresh_segments.target FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% was not built by build_segments', target USING ERRCODE = 'undefined_object',
            HINT = 'Build it first with build_segments().';
    END IF;

    -- UPDATE, DELETE or TRUNCATE on the source left a marker: orders may have
    -- changed or gone, which merging cannot undo.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE kind = ''r'')', build.pending_table) INTO rebuild_requested;
    IF full_rebuild OR rebuild_requested OR NOT build.incremental THEN
        mode := 'full';
    ELSE
        mode := 'incremental';
    END IF;
    IF to_regclass('pg_temp.segment_touched') IS NOT NULL THEN
        DROP TABLE pg_temp.segment_touched;  -- a second refresh in one transaction
    END IF;

    IF mode = 'full' THEN
        date_expression := format('%I', build.date_column);
        IF @extschema@.segment_source_column(build.source, build.date_column, 'order date') = 'timestamp'::regtype THEN
            date_expression := date_expression || '::date';
        END IF;
        amount_expression := format('%I', build.amount_column);
        IF @extschema@.segment_source_column(build.source, build.amount_column, 'amount')
           IN ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype, 'money'::regtype) THEN
            amount_expression := amount_expression || '::numeric';
        ELSIF @extschema@.segment_source_column(build.source, build.amount_column, 'amount') = 'real'::regtype THEN
            amount_expression := amount_expression || '::float8';
        END IF;
        EXECUTE format('TRUNCATE %s', build.state_table);
        -- One statement, one snapshot: the pending rows it deletes are
        -- exactly those whose orders the scan of the source sees.
        EXECUTE format('WITH consumed AS (DELETE FROM %s RETURNING 1) '
                       'INSERT INTO %s SELECT %I, @extschema@.rfm_agg_state(%s, %s) FROM %s WHERE %I IS NOT NULL GROUP BY 1',
                       build.pending_table, build.state_table, build.customer_column, date_expression,
                       amount_expression, build.source, build.customer_column);
        src := format('SELECT customer, @extschema@.rfm_state_summary(state) AS s FROM %s', build.state_table);
    ELSE
        EXECUTE format('CREATE TEMPORARY TABLE segment_touched ON COMMIT DROP AS '
                       'SELECT customer, NULL::@extschema@.rfm_summary AS s FROM %s LIMIT 0', build.state_table);
        EXECUTE format($sql$
            WITH moved AS (
                DELETE FROM %1$s WHERE kind = 'i' RETURNING customer, order_date, amount
            ), fresh AS (
                SELECT customer, @extschema@.rfm_agg_state(order_date, amount) AS state
                FROM moved WHERE customer IS NOT NULL AND order_date IS NOT NULL AND amount IS NOT NULL
                GROUP BY customer
            ), merged AS (
                INSERT INTO %2$s AS kept SELECT customer, state FROM fresh
                ON CONFLICT (customer) DO UPDATE
                SET state = (SELECT @extschema@.rfm_state_merge(x) FROM (VALUES (kept.state), (excluded.state)) v(x))
                RETURNING customer, state
            ), noted AS (
                INSERT INTO segment_touched SELECT customer, @extschema@.rfm_state_summary(state) FROM merged
            )
            SELECT count(*) FROM moved$sql$, build.pending_table, build.state_table)
        INTO moved;
        ANALYZE segment_touched;
        -- Untouched customers keep the summary stored in the target; only
        -- touched customers' states are read back.
        src := format('SELECT t.customer, ROW(t.first_order, t.last_order, t.frequency, t.purchase_days, t.monetary, '
                      't.refunds)::@extschema@.rfm_summary AS s FROM %s t '
                      'WHERE NOT EXISTS (SELECT 1 FROM segment_touched x WHERE x.customer = t.customer) '
                      'UNION ALL SELECT customer, s FROM segment_touched', build.target);
    END IF;

    touched := @extschema@.segment_derive(build, src, as_of);
    build.refresh_number := build.refresh_number + 1;
    -- History: only customers whose segment changed (or who are new).
    EXECUTE format('INSERT INTO %s SELECT $1, r.customer, r.segment FROM segment_rows r '
                   'LEFT JOIN %s t ON t.customer = r.customer WHERE t.segment IS DISTINCT FROM r.segment',
                   build.history_table, build.target) USING build.refresh_number;
    -- Rewrite only rows whose values changed, then add new customers (a
    -- join and an anti-join: much cheaper than INSERT ... ON CONFLICT).
    EXECUTE format('UPDATE %1$s AS t SET (%2$s) = ROW(%3$s) FROM segment_rows r '
                   'WHERE r.customer = t.customer AND (%4$s) IS DISTINCT FROM (%3$s)',
                   build.target, columns,
                   (SELECT string_agg('r.' || c, ', ') FROM unnest(string_to_array(columns, ', ')) c),
                   (SELECT string_agg('t.' || c, ', ') FROM unnest(string_to_array(columns, ', ')) c));
    GET DIAGNOSTICS changed = ROW_COUNT;
    EXECUTE format('INSERT INTO %1$s SELECT r.* FROM segment_rows r '
                   'WHERE NOT EXISTS (SELECT 1 FROM %1$s t WHERE t.customer = r.customer)', build.target);
    GET DIAGNOSTICS added = ROW_COUNT;
    changed := changed + added;
    IF mode = 'full' THEN
        EXECUTE format('DELETE FROM %s t WHERE NOT EXISTS (SELECT 1 FROM %s s WHERE s.customer = t.customer)',
                       build.target, build.state_table);
        GET DIAGNOSTICS removed = ROW_COUNT;
        EXECUTE format('SELECT coalesce(sum(frequency + refunds), 0) FROM %s', build.target) INTO moved;
    END IF;
    DROP TABLE pg_temp.segment_rows;
    IF to_regclass('pg_temp.segment_touched') IS NOT NULL THEN
        DROP TABLE pg_temp.segment_touched;
    END IF;

    UPDATE @extschema@.segment_builds b
    SET as_of = refresh_segments.as_of, refresh_number = build.refresh_number, last_mode = mode,
        refreshed_at = now(), customers = touched,
        orders_merged = CASE WHEN mode = 'full' THEN moved ELSE b.orders_merged + moved END
    WHERE b.target = build.target;
    RETURN jsonb_build_object('target', build.target::text, 'mode', mode, 'refresh_number', build.refresh_number,
                              'as_of', refresh_segments.as_of, 'orders_merged', moved, 'customers', touched,
                              'rows_written', changed, 'rows_removed', removed,
                              'seconds', round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));
END $fn$;

-- Rule-based tags. A rule is validated against the target when it is added.
CREATE FUNCTION add_segment_rule(target regclass, tag text, condition text, enabled boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF target IS NULL OR tag IS NULL OR condition IS NULL OR enabled IS NULL THEN
        RAISE EXCEPTION 'add_segment_rule arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.segment_builds b WHERE b.target = add_segment_rule.target) THEN
        RAISE EXCEPTION '% was not built by build_segments', target USING ERRCODE = 'undefined_object';
    END IF;
    IF btrim(tag) = '' THEN
        RAISE EXCEPTION 'tag names must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- A condition is one boolean expression: no statement separators, and it
    -- must parse and type-check against the target's columns.
    IF position(';' IN condition) > 0 THEN
        RAISE EXCEPTION 'a rule condition must be a single expression'
            USING ERRCODE = 'syntax_error', DETAIL = 'The condition contains a semicolon.';
    END IF;
    BEGIN
        EXECUTE format('SELECT CASE WHEN (%s) THEN 1 END FROM (SELECT * FROM %s LIMIT 0) d', condition, target);
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'invalid rule condition for tag "%": %', tag, SQLERRM
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The condition was: %s', condition),
                  HINT = format('Write a boolean SQL expression over the columns of %s, such as frequency >= 5.', target);
    END;
    INSERT INTO @extschema@.segment_tag_rules (target, tag, condition, enabled)
    VALUES (target, tag, condition, enabled)
    ON CONFLICT ON CONSTRAINT segment_tag_rules_pkey DO UPDATE SET condition = excluded.condition, enabled = excluded.enabled;
END $fn$;

CREATE FUNCTION drop_segment_rule(target regclass, tag text)
RETURNS boolean LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    WITH gone AS (DELETE FROM @extschema@.segment_tag_rules r WHERE r.target = $1 AND r.tag = $2 RETURNING 1)
    SELECT count(*) > 0 FROM gone
$fn$;

-- Removes a segment table and everything the builder created for it.
CREATE FUNCTION drop_segments(target regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    build @extschema@.segment_builds;
    target_schema name;
    target_name name;
BEGIN
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = drop_segments.target FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% was not built by build_segments', target USING ERRCODE = 'undefined_object';
    END IF;
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = build.target;
    IF build.incremental THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', target_name || '_capture_inserts', build.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', target_name || '_capture_changes', build.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', target_name || '_capture_truncate', build.source);
        EXECUTE format('DROP FUNCTION IF EXISTS %I.%I()', target_schema, target_name || '_capture');
    END IF;
    DELETE FROM @extschema@.segment_tag_rules r WHERE r.target = build.target;
    DELETE FROM @extschema@.segment_builds b WHERE b.target = build.target;
    EXECUTE format('DROP VIEW IF EXISTS %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I, %1$I.%6$I', target_schema,
                   target_name || '_segment_sizes', target_name || '_stage_counts', target_name || '_tier_funnel',
                   target_name || '_quadrant_counts', target_name || '_migration');
    EXECUTE format('DROP TABLE %s, %s, %s, %s', build.target, build.state_table, build.pending_table,
                   build.history_table);
END $fn$;

-- ---------------------------------------------------------- customer tags
--
-- Consumption stage, value band, activity, coupon sensitivity, discount /
-- new-product sensitivity, channel preference; the Pareto diagnosis; k-means
-- clustering; affinity and segment overlap; campaign holdouts and reports
-- (docs/tags.md). Aggregates take no parameter defaults, so each has a short
-- form and a form with every parameter; parameters of an aggregate must be
-- the same on every row of a group.

-- ------------------------------------------------------ consumption stage

-- prospect (interactions, no purchase), new (one purchase), returning,
-- loyal (>= loyal_min_purchases purchases spanning >= loyal_min_span_days,
-- the last within loyal_max_recency_days of as_of). NULL for a customer
-- with neither purchases nor interactions. Not STRICT: the purchase dates
-- are NULL when purchases = 0; any other NULL gives NULL.
CREATE FUNCTION consumption_stage(purchases bigint, first_purchase date, last_purchase date, as_of date,
                                  interactions bigint DEFAULT 0, loyal_min_purchases integer DEFAULT 3,
                                  loyal_min_span_days integer DEFAULT 180,
                                  loyal_max_recency_days integer DEFAULT 365)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_consumption_stage' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- From an rfm_summary: purchases = purchase_days (orders on one day are
-- one purchase), first / last purchase = first_order / last_order.
CREATE FUNCTION consumption_stage(summary rfm_summary, as_of date,
                                  interactions bigint DEFAULT 0, loyal_min_purchases integer DEFAULT 3,
                                  loyal_min_span_days integer DEFAULT 180,
                                  loyal_max_recency_days integer DEFAULT 365)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_consumption_stage_summary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------------------- value band

-- low below low_cut, mid from low_cut, high from high_cut (a value equal to
-- a cut goes to the higher band). value_band_cuts(spend) gives default cuts.
CREATE FUNCTION value_band(spend float8, low_cut float8, high_cut float8) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_value_band' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION value_band(spend float8, cuts float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- --------------------------------------------------------------- activity

CREATE FUNCTION activity_status_transfn(internal, date, text, date) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_transfn(internal, date, text, date, integer, integer, integer, integer)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_activity_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION activity_status_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION activity_status_finalfn(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_activity_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per event; kind 'purchase' and 'checkin' (or 'offline_checkin')
-- qualify, any other kind is an ordinary interaction. active: >= 3 events
-- in the 30 days up to as_of, >= 1 of them qualifying; inactive: no event
-- in the 180 days up to as_of; neither otherwise.
CREATE AGGREGATE activity_status(event_date date, kind text, as_of date) (
    SFUNC = activity_status_transfn, STYPE = internal, SSPACE = 112,
    FINALFUNC = activity_status_finalfn, COMBINEFUNC = activity_status_combinefn,
    SERIALFUNC = activity_status_serialfn, DESERIALFUNC = activity_status_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE activity_status(event_date date, kind text, as_of date, recent_days integer,
                                 min_recent_events integer, min_recent_qualifying integer,
                                 inactive_days integer) (
    SFUNC = activity_status_transfn, STYPE = internal, SSPACE = 112,
    FINALFUNC = activity_status_finalfn, COMBINEFUNC = activity_status_combinefn,
    SERIALFUNC = activity_status_serialfn, DESERIALFUNC = activity_status_deserialfn,
    PARALLEL = SAFE);

-- ----------------------------------------------------- coupon sensitivity

CREATE FUNCTION coupon_sensitivity_transfn(internal, float8, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_transfn(internal, float8, boolean, float8[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_coupon_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_coupon_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The smallest ladder value (default 5 / 10 / 15 / 20) that activated the
-- customer: the smallest redeemed value, rounded up to the ladder. NULL when
-- nothing was redeemed or only values above the ladder.
CREATE AGGREGATE coupon_sensitivity(value float8, redeemed boolean) (
    SFUNC = coupon_sensitivity_transfn, STYPE = internal, SSPACE = 64,
    FINALFUNC = coupon_sensitivity_finalfn, COMBINEFUNC = coupon_sensitivity_combinefn,
    SERIALFUNC = coupon_sensitivity_serialfn, DESERIALFUNC = coupon_sensitivity_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE coupon_sensitivity(value float8, redeemed boolean, ladder float8[]) (
    SFUNC = coupon_sensitivity_transfn, STYPE = internal, SSPACE = 64,
    FINALFUNC = coupon_sensitivity_finalfn, COMBINEFUNC = coupon_sensitivity_combinefn,
    SERIALFUNC = coupon_sensitivity_serialfn, DESERIALFUNC = coupon_sensitivity_deserialfn,
    PARALLEL = SAFE);

-- ----------------------------------------------------------- purchase mix

CREATE FUNCTION purchase_mix_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_transfn(internal, boolean, boolean, float8, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION purchase_mix_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION purchase_mix_finalfn(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per order line: 'discount-sensitive' when >= 50% of lines were
-- discounted, 'new-product-sensitive' when >= 30% were new items, 'both',
-- or 'neither'; NULL with fewer than min_lines (default 1) lines.
CREATE AGGREGATE purchase_mix(discounted boolean, new_item boolean) (
    SFUNC = purchase_mix_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = purchase_mix_finalfn, COMBINEFUNC = purchase_mix_combinefn,
    SERIALFUNC = purchase_mix_serialfn, DESERIALFUNC = purchase_mix_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE purchase_mix(discounted boolean, new_item boolean, discount_share_cutoff float8,
                              new_item_share_cutoff float8, min_lines bigint) (
    SFUNC = purchase_mix_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = purchase_mix_finalfn, COMBINEFUNC = purchase_mix_combinefn,
    SERIALFUNC = purchase_mix_serialfn, DESERIALFUNC = purchase_mix_deserialfn,
    PARALLEL = SAFE);

-- ----------------------------------------------------- channel preference

CREATE TYPE channel_choice AS (
    channel text,           -- the preferred channel
    smoothed_rate float8,   -- (responses + m * prior) / (contacts + m)
    contacts bigint,        -- contacts on that channel
    responses bigint
);

CREATE FUNCTION channel_preference_transfn(internal, text, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_transfn(internal, text, boolean, float8, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_channel_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION channel_preference_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION channel_preference_finalfn(internal) RETURNS channel_choice
    AS 'MODULE_PATHNAME', 'ca_channel_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per contact: the channel with the best smoothed response rate.
-- prior_rate NULL (the default) = the customer's own pooled rate over all
-- channels; prior_weight default 10; channels with fewer than min_contacts
-- (default 1) contacts are not eligible. Ties: more contacts, then the
-- bytewise smaller name.
CREATE AGGREGATE channel_preference(channel text, responded boolean) (
    SFUNC = channel_preference_transfn, STYPE = internal, SSPACE = 128,
    FINALFUNC = channel_preference_finalfn, COMBINEFUNC = channel_preference_combinefn,
    SERIALFUNC = channel_preference_serialfn, DESERIALFUNC = channel_preference_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE channel_preference(channel text, responded boolean, prior_rate float8, prior_weight float8,
                                    min_contacts bigint) (
    SFUNC = channel_preference_transfn, STYPE = internal, SSPACE = 128,
    FINALFUNC = channel_preference_finalfn, COMBINEFUNC = channel_preference_combinefn,
    SERIALFUNC = channel_preference_serialfn, DESERIALFUNC = channel_preference_deserialfn,
    PARALLEL = SAFE);

-- -------------------------------------------------------- Pareto diagnosis

-- One spend per customer (non-negative; NULLs skipped). The aggregates share
-- one state: every spend, 8 bytes per customer.
CREATE TYPE lorenz_point AS (
    customer_share float8,  -- the poorest p of customers ...
    revenue_share float8    -- ... hold this share of revenue
);

CREATE FUNCTION pareto_spend_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_spend_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_spend_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_spend_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_spend_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_spend_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION gini_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gini_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gini_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_gini_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Gini coefficient, population form: 0 = all equal, (n - 1) / n = one
-- customer holds everything.
CREATE AGGREGATE gini(spend float8) (
    SFUNC = gini_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = gini_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION pareto_share_transfn(internal, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_pareto_share_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_share_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_share_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Share of revenue from the top ceil(top_fraction * n) customers.
CREATE AGGREGATE pareto_share(spend float8, top_fraction float8) (
    SFUNC = pareto_share_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = pareto_share_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION lorenz_curve_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_lorenz_default_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lorenz_curve_transfn(internal, float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_lorenz_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lorenz_curve_finalfn(internal) RETURNS lorenz_point[]
    AS 'MODULE_PATHNAME', 'ca_lorenz_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- segments + 1 evenly spaced points (default 10 segments) from (0, 0) to (1, 1).
CREATE AGGREGATE lorenz_curve(spend float8) (
    SFUNC = lorenz_curve_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = lorenz_curve_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE lorenz_curve(spend float8, segments integer) (
    SFUNC = lorenz_curve_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = lorenz_curve_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION pareto_tier_thresholds_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_tier_thresholds_default_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_tier_thresholds_transfn(internal, float8, float8[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_tier_thresholds_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_tier_thresholds_finalfn(internal) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_tier_thresholds_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- The spend level of the top X% customers (the k-th largest spend, k =
-- ceil(X * n)) for each fraction, default {0.20, 0.05}: the silver and gold
-- thresholds for tier_for(spend, thresholds).
CREATE AGGREGATE pareto_tier_thresholds(spend float8) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = pareto_tier_thresholds_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_tier_thresholds(spend float8, top_fractions float8[]) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = pareto_tier_thresholds_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

CREATE FUNCTION value_band_cuts_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION value_band_cuts_finalfn(internal) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- {low_cut, high_cut} for value_band: bottom 50% low, next 30% mid, top 20% high.
CREATE AGGREGATE value_band_cuts(spend float8) (
    SFUNC = value_band_cuts_transfn, STYPE = internal, SSPACE = 48,
    FINALFUNC = value_band_cuts_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    SERIALFUNC = pareto_spend_serialfn, DESERIALFUNC = pareto_spend_deserialfn,
    PARALLEL = SAFE);

-- ---------------------------------------------------------------- k-means

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

CREATE FUNCTION kmeans_fit_transfn(internal, float8[], integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_transfn(internal, float8[], integer, integer, integer, bigint, boolean, float8)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_kmeans_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_finalfn(internal) RETURNS kmeans_model
    AS 'MODULE_PATHNAME', 'ca_kmeans_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- k-means++ seeding from a fixed seed, standardized features, Lloyd
-- iterations; the same data and parameters give the same model under any
-- plan. Full form: max_iterations (100), n_init (3), seed (42),
-- standardize (true), tolerance (0).
CREATE AGGREGATE kmeans_fit(features float8[], k integer) (
    SFUNC = kmeans_fit_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = kmeans_fit_finalfn, COMBINEFUNC = kmeans_fit_combinefn,
    SERIALFUNC = kmeans_fit_serialfn, DESERIALFUNC = kmeans_fit_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE kmeans_fit(features float8[], k integer, max_iterations integer, n_init integer, seed bigint,
                            standardize boolean, tolerance float8) (
    SFUNC = kmeans_fit_transfn, STYPE = internal, SSPACE = 96,
    FINALFUNC = kmeans_fit_finalfn, COMBINEFUNC = kmeans_fit_combinefn,
    SERIALFUNC = kmeans_fit_serialfn, DESERIALFUNC = kmeans_fit_deserialfn,
    PARALLEL = SAFE);

-- The nearest centroid: cluster 1..k (ties to the lower number).
CREATE FUNCTION kmeans_assign(features float8[], model kmeans_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_kmeans_assign' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- --------------------------------------------------------------- affinity

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

CREATE FUNCTION affinity_transfn(internal, text[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_transfn(internal, text[], float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_transfn(internal, text[], float8, integer, bigint, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_affinity_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION affinity_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION affinity_finalfn(internal) RETURNS affinity_pair[]
    AS 'MODULE_PATHNAME', 'ca_affinity_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per basket (the set of its items): the top pairs of items with
-- support >= min_support (default 0.001) and count >= min_count (default
-- 1), ordered by order_by ('support', the default, or 'lift') descending,
-- at most top_n (default 100).
CREATE AGGREGATE affinity(items text[]) (
    SFUNC = affinity_transfn, STYPE = internal, SSPACE = 1024,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    SERIALFUNC = affinity_serialfn, DESERIALFUNC = affinity_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE affinity(items text[], min_support float8, top_n integer) (
    SFUNC = affinity_transfn, STYPE = internal, SSPACE = 1024,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    SERIALFUNC = affinity_serialfn, DESERIALFUNC = affinity_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE affinity(items text[], min_support float8, top_n integer, min_count bigint, order_by text) (
    SFUNC = affinity_transfn, STYPE = internal, SSPACE = 1024,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    SERIALFUNC = affinity_serialfn, DESERIALFUNC = affinity_deserialfn,
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
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION segment_overlap_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_overlap_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_overlap_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_overlap_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_overlap_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_overlap_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment_overlap_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_overlap_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION segment_overlap_finalfn(internal) RETURNS overlap_stats
    AS 'MODULE_PATHNAME', 'ca_overlap_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- One row per member of the population: is it in X, is it in Y.
CREATE AGGREGATE segment_overlap(in_x boolean, in_y boolean) (
    SFUNC = segment_overlap_transfn, STYPE = internal, SSPACE = 32,
    FINALFUNC = segment_overlap_finalfn, COMBINEFUNC = segment_overlap_combinefn,
    SERIALFUNC = segment_overlap_serialfn, DESERIALFUNC = segment_overlap_deserialfn,
    PARALLEL = SAFE);

-- -------------------------------------------------------------- campaigns

-- Deterministic hash-based holdout: the same (key, salt) always gives the
-- same answer; nested in the fraction; use the campaign name as the salt.
CREATE FUNCTION holdout(customer_key bigint, fraction float8, salt text DEFAULT '') RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_holdout_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION holdout(customer_key text, fraction float8, salt text DEFAULT '') RETURNS boolean
    AS 'MODULE_PATHNAME', 'ca_holdout_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The uniform number in [0, 1) behind holdout: holdout = unit < fraction.
CREATE FUNCTION holdout_unit(customer_key bigint, salt text DEFAULT '') RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_holdout_unit_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION holdout_unit(customer_key text, salt text DEFAULT '') RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_holdout_unit_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE campaign_report AS (
    treated bigint,               -- contacted customers
    treated_responders bigint,
    treated_revenue float8,
    holdout bigint,               -- held-out customers
    holdout_responders bigint,
    holdout_revenue float8,
    treated_rate float8,          -- response rates
    holdout_rate float8,
    revenue_per_treated float8,
    revenue_per_holdout float8,
    absolute_lift float8,         -- treated_rate - holdout_rate
    relative_lift float8,         -- absolute_lift / holdout_rate
    lift_ci_low float8,           -- Newcombe interval for absolute_lift
    lift_ci_high float8,
    z float8,                     -- pooled two-proportion z test
    p_value float8,
    incremental_responders float8,
    revenue_lift float8,          -- revenue_per_treated - revenue_per_holdout
    incremental_revenue float8,
    roi float8                    -- (incremental_revenue - cost) / cost
);

CREATE FUNCTION campaign_report_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_transfn(internal, boolean, boolean, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_transfn(internal, boolean, boolean, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_campaign_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION campaign_report_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION campaign_report_finalfn(internal) RETURNS campaign_report
    AS 'MODULE_PATHNAME', 'ca_campaign_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per customer of the campaign (contacted or held out). A NULL
-- in_holdout skips the row; a NULL responded counts as no response and a
-- NULL revenue as 0. Full form: confidence of the interval (0.95) and the
-- campaign's cost (0 = no ROI).
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean) (
    SFUNC = campaign_report_transfn, STYPE = internal, SSPACE = 80,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    SERIALFUNC = campaign_report_serialfn, DESERIALFUNC = campaign_report_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean, revenue float8) (
    SFUNC = campaign_report_transfn, STYPE = internal, SSPACE = 80,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    SERIALFUNC = campaign_report_serialfn, DESERIALFUNC = campaign_report_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE campaign_report(in_holdout boolean, responded boolean, revenue float8, confidence float8,
                                 cost float8) (
    SFUNC = campaign_report_transfn, STYPE = internal, SSPACE = 80,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    SERIALFUNC = campaign_report_serialfn, DESERIALFUNC = campaign_report_deserialfn,
    PARALLEL = SAFE);
