
-- ------------------------------------------------------ mergeable state

-- rfm_agg's state as bytes, kept per customer so that new orders can be
-- merged in later without rereading old ones (the builder's refresh does
-- this). rfm_state_merge(state) folds states; rfm_state_summary(state) is
-- the rfm_summary they stand for. The bytes are versioned and checked when
-- read back; states with and without an order key never merge.
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
-- The same with an order key (and a minimum): the state keeps every order's
-- net amount and date, so lines of one order merge exactly across batches.
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    SERIALFUNC = rfm_agg_serialfn, DESERIALFUNC = rfm_agg_deserialfn,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = internal, SSPACE = 400,
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
