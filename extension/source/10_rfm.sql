-- RFM summaries, bins, scores and segments, lifecycle stages, membership
-- tiers and quadrants.

-- ------------------------------------------------------------ rfm_summary

CREATE TYPE rfm_summary AS (
    first_order date,       -- first purchase (NULL when the customer only has refunds)
    last_order date,        -- last purchase
    frequency bigint,       -- purchases: order rows with amount >= 0 (with an order key: orders, see rfm_agg)
    purchase_days bigint,   -- distinct days with a purchase
    monetary numeric,       -- sum of every amount, refunds included (= sum(amount))
    refunds bigint          -- order rows with amount < 0 (with an order key: orders whose net is < 0)
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

-- With an order key: lines with one key are one order, and the purchase
-- rule applies to orders and days, never to lines (src/core/rfm_orders.hpp;
-- README, rfm_agg). Keys are bigint or text; a NULL key makes its line an
-- order of its own; min_purchase (NULL: none) is the smallest net amount of
-- a day that has purchases. Not STRICT, for those NULLs.
CREATE FUNCTION rfm_agg_transfn(internal, date, numeric, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_date_numeric_bigint' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, numeric, bigint, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_date_numeric_bigint_minimum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, numeric, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_date_numeric_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, numeric, text, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_date_numeric_text_minimum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_date_float8_bigint' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8, bigint, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_date_float8_bigint_minimum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_date_float8_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8, text, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_date_float8_text_minimum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_timestamptz_numeric_bigint' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, bigint, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_timestamptz_numeric_bigint_minimum' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_timestamptz_numeric_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, text, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_timestamptz_numeric_text_minimum' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_timestamptz_float8_bigint' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8, bigint, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_timestamptz_float8_bigint_minimum' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_timestamptz_float8_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8, text, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_orders_timestamptz_float8_text_minimum' LANGUAGE C STABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_agg(order_date date, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_date date, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
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

-- Scores a customer against bins; NULL when the customer has no purchase
-- (or summary or bins is NULL). A NULL as_of is an error, so not STRICT.
CREATE FUNCTION rfm_score(summary rfm_summary, bins rfm_bins, as_of date) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score' LANGUAGE C IMMUTABLE PARALLEL SAFE;
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
-- NULL summary or bins gives NULL, NULL as_of or language is an error.
CREATE FUNCTION rfm_class(summary rfm_summary, bins rfm_bins, as_of date, language text DEFAULT 'en')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_rfm_class' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_class(recency_days float8, frequency float8, monetary float8,
                          recency_cut float8, frequency_cut float8, monetary_cut float8,
                          language text DEFAULT 'en')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_rfm_class_values' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------- stages

-- A NULL last_order (no purchase) gives NULL; a NULL as_of, thresholds or
-- stages is an error, so not STRICT.
CREATE FUNCTION lifecycle_stage(last_order date, as_of date, thresholds integer[] DEFAULT '{63,126,365}')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lifecycle_stage(last_order date, as_of date, thresholds integer[], stages text[])
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_date_named' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- timestamptz arguments count calendar days in the session's TimeZone: STABLE.
CREATE FUNCTION lifecycle_stage(last_order timestamptz, as_of timestamptz,
                                thresholds integer[] DEFAULT '{63,126,365}')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_timestamptz' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION lifecycle_stage(last_order timestamptz, as_of timestamptz, thresholds integer[], stages text[])
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_timestamptz_named' LANGUAGE C STABLE PARALLEL SAFE;

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
