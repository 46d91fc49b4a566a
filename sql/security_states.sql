-- Serialized aggregate states are untrusted bytes. rfm_state_summary and
-- rfm_state_merge read whatever any role hands them (stored rfm_agg_state
-- results, or bytes made up by an attacker). Every state is read field by
-- field in one portable format; whatever is wrong is rejected with SQLSTATE
-- 22P03 (invalid binary representation), and nothing in a state is ever
-- followed as a pointer, fetched from TOAST or decompressed. States written
-- by 0.1.0 still read, through a reader that checks them just as strictly.

-- As the superuser: a table the attacker may not read, whose value is
-- stored out of line in TOAST, and the pieces of a TOAST pointer to it.
CREATE TABLE secret_states (id int, secret text);
ALTER TABLE secret_states ALTER COLUMN secret SET STORAGE EXTERNAL;
INSERT INTO secret_states VALUES (1, repeat('top secret ', 1000));
REVOKE ALL ON secret_states FROM PUBLIC;
SELECT reltoastrelid AS toast_relid, reltoastrelid::regclass AS toast_table
  FROM pg_class WHERE relname = 'secret_states' \gset
SELECT chunk_id AS value_id FROM :toast_table LIMIT 1 \gset

-- Little-endian hex of an integer, for building states by hand.
CREATE FUNCTION pg_temp.le(value bigint, width int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg(lpad(to_hex((value >> (8 * i)) & 255), 2, '0'), '' ORDER BY i)
    FROM generate_series(0, width - 1) i $$;

-- The 0.1.0 layout: format 1, money kind, 2 zero bytes, first and last
-- order, purchases, refunds, a 128-bit decimal total and its scale, the
-- float total and its compensation, the day count and the days; then,
-- for totals beyond 128 bits, the bytes of a numeric. With no purchase and
-- zero totals the fixed part is '01010000' and 64 zero bytes; a TOAST
-- pointer after it (tag 0x01 0x12, raw size, external size, value id, TOAST
-- relation) made 0.1.0 fetch the secret without any permission check.
SELECT '01010000' || repeat('00', 64) || '0112' || pg_temp.le(11004, 4) || pg_temp.le(11000, 4)
       || pg_temp.le(:value_id, 4) || pg_temp.le(:toast_relid, 4) AS toast_attack \gset

CREATE SCHEMA state_checks;
-- The SQLSTATE, message, detail and hint of reading a state (or 'accepted').
CREATE FUNCTION state_checks.summary_error(state bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  code text; message text; detail text; hint text;
BEGIN
  PERFORM rfm_state_summary(state);
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                          hint = PG_EXCEPTION_HINT;
  RETURN code || ' ' || message || coalesce(' | ' || nullif(detail, ''), '') || coalesce(' | ' || nullif(hint, ''), '');
END $$;
CREATE FUNCTION state_checks.merge_error(VARIADIC states bytea[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  code text; message text; detail text; hint text;
BEGIN
  PERFORM rfm_state_summary(rfm_state_merge(s)) FROM unnest(states) s;
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                          hint = PG_EXCEPTION_HINT;
  RETURN code || ' ' || message || coalesce(' | ' || nullif(detail, ''), '') || coalesce(' | ' || nullif(hint, ''), '');
END $$;

SET client_min_messages = warning;
DROP ROLE IF EXISTS ca_attacker;
RESET client_min_messages;
CREATE ROLE ca_attacker NOLOGIN;
GRANT USAGE ON SCHEMA state_checks TO ca_attacker;

SET ROLE ca_attacker;
SELECT current_user, has_table_privilege('secret_states', 'SELECT') AS can_read_secret;

-- ------------------------------------------------- states of version 0.1.0

-- The crash of 0.1.0: a pointer tag and an address after the fixed part.
SELECT state_checks.summary_error(decode('01010000' || repeat('00', 64) || '0101' || '4141414141414141', 'hex'));
SELECT state_checks.merge_error(decode('01010000' || repeat('00', 64) || '0101' || '4141414141414141', 'hex'));
-- A TOAST pointer to the secret: rejected, and the error says nothing about
-- the secret (not even its size).
SELECT state_checks.summary_error(decode(:'toast_attack', 'hex'));
SELECT state_checks.merge_error(decode(:'toast_attack', 'hex'));
-- The same as a plain error, as a client sees it.
\set VERBOSITY sqlstate
SELECT rfm_state_summary(decode(:'toast_attack', 'hex'));
\set VERBOSITY default
SELECT rfm_state_summary(decode(:'toast_attack', 'hex'));
-- A compressed tail claiming 300 MB: rejected before anything is inflated.
SELECT state_checks.summary_error(decode('01010000' || repeat('00', 64) || pg_temp.le(100 * 4 + 2, 4)
       || pg_temp.le(300000000, 4) || repeat('ab', 92), 'hex'));
-- NaN, +Infinity and -Infinity numerics, a digit of 10000, a digit beyond
-- the display scale, a numeric ending inside a digit.
SELECT tail, state_checks.summary_error(decode('01010000' || repeat('00', 64) || tail, 'hex'))
  FROM (VALUES ('0700c0'), ('0700d0'), ('0700f0'), ('0b00801027'), ('0b7f810105'), ('0900800a')) t(tail);
-- A 1-byte tail: a short header of length 1, an external tag alone, a
-- 4-byte header's first byte.
SELECT tail, state_checks.summary_error(decode('01010000' || repeat('00', 64) || tail, 'hex'))
  FROM (VALUES ('03'), ('01'), ('00')) t(tail);
-- A 0.1.0 state with purchases = 2^63 - 1 and 2 purchase days is
-- consistent and reads; dates past PostgreSQL's range do not.
SELECT rfm_state_summary(decode('010100004222000043220000' || pg_temp.le(9223372036854775807, 8)
       || repeat('00', 44) || '02000000' || '42220000' || '43220000', 'hex'));
SELECT state_checks.summary_error(decode('01010000422200000d09db7f' || '0200000000000000' || repeat('00', 44)
       || '02000000' || '42220000' || '0d09db7f', 'hex'));

-- Real states written by 0.1.0's rfm_agg_state (hex literals) still read.
SELECT rfm_state_summary(decode('01010000422200007a220000030000000000000001000000000000002107000000000000000000'
       || '0000000000020000000000000000000000000000000000000002000000422200007a220000', 'hex'));
SELECT rfm_state_summary(decode('010200003d220000f322000003000000000000000000000000000000000000000000000000000000'
       || '0000000000000000666602205fa0024200009c999999a93e030000003d2200003e220000f3220000', 'hex'));
SELECT rfm_state_summary(decode('01010000b7220000b922000004000000000000000000000000000000190000000000000000000000'
       || '00000000020000000000000000000000000000000000000003000000b7220000b8220000b9220000780000008a8002007b00d711'
       || 'c5222909851a7b00d711c5222909851a8813', 'hex'));
SELECT rfm_state_summary(decode('01010000000000000000000000000000000000000100000000000000000000000000000000000000'
       || '00000000000000000000000000000000000000000000000000000000378aa109003d22e110db038f193d083d22e110db038f19'
       || '3d080a00', 'hex'));
-- Merged with new states, they give what one pass over all orders gives.
SELECT rfm_state_summary(rfm_state_merge(s)) FROM (VALUES
    (decode('01010000b7220000b92200000400000000000000000000000000000019000000000000000000000000000000020000000000000000'
     || '000000000000000000000003000000b7220000b8220000b9220000780000008a8002007b00d711c5222909851a7b00d711c5222909'
     || '851a8813', 'hex')),
    ((SELECT rfm_agg_state(d, a) FROM (VALUES (date '2024-06-01', 0.5::numeric), (date '2024-04-30', -1e40)) v(d, a)))
  ) t(s);
SELECT rfm_agg(d, a) FROM (VALUES (date '2024-05-01', 1e40::numeric), (date '2024-05-02', 123456789012345678901234567890123456789.5),
    (date '2024-05-03', 0.25), (date '2024-05-03', 1e40), (date '2024-06-01', 0.5), (date '2024-04-30', -1e40)) v(d, a);

-- ------------------------------------------------------- states of today

-- Little-endian fields after 'CA', format 2 and the kind (1 = rfm_agg):
-- money kind, purchases, refunds, day count, days, the 128-bit total, its
-- scale and whether digits beyond 128 bits follow.
SELECT encode(rfm_agg_state(d, a), 'hex') AS state
  FROM (VALUES (date '2024-01-05', 10.50::numeric), (date '2024-03-01', 7), (date '2024-02-01', -1.5)) v(d, a);
-- Beyond 128 bits the total follows as checked base-10000 digits: sign,
-- weight, display scale, count, digits.
SELECT encode(rfm_agg_state(d, a), 'hex') AS state FROM (VALUES (date '2024-01-05', 1e40::numeric)) v(d, a);
SELECT rfm_state_summary(rfm_agg_state(d, a)) FROM (VALUES (date '2024-01-05', -1e40::numeric), (date '2024-01-06', 0.001)) v(d, a);

CREATE TEMP TABLE good AS
SELECT rfm_agg_state(d, a) AS s FROM (VALUES (date '2024-01-05', 1e40::numeric), (date '2024-03-01', 7.25),
    (date '2024-02-01', -1.5)) v(d, a);
CREATE TEMP TABLE good_float AS
SELECT rfm_agg_state(d, a) AS s FROM (VALUES (date '2024-01-05', 2.5::float8), (date '2024-03-01', 7)) v(d, a);

-- Truncation at every length, of a numeric state with digits beyond 128
-- bits and of a float8 state: every prefix is rejected.
SELECT n AS length, state_checks.summary_error(substring(s FROM 1 FOR n)) AS error
  FROM good, generate_series(0, length(s) - 1) n ORDER BY n;
SELECT count(*) AS prefixes, state_checks.summary_error(substring(s FROM 1 FOR n)) ~ '^22P03 ' AS rejected
  FROM good_float, generate_series(0, length(s) - 1) n GROUP BY 2;
-- Trailing bytes.
SELECT state_checks.summary_error(s || '\x00'::bytea) FROM good;
-- purchases = 2^63 - 1 with 2 purchase days reads; merging one more purchase
-- is out of range for bigint, never a wrapped count.
SELECT (rfm_state_summary(overlay(s PLACING decode(pg_temp.le(9223372036854775807, 8), 'hex') FROM 6))).frequency
  FROM good;
SELECT state_checks.merge_error(overlay(s PLACING decode(pg_temp.le(9223372036854775807, 8), 'hex') FROM 6), s)
  FROM good;
-- A purchase count below the number of purchase days, negative counts, a
-- day past PostgreSQL's last date, days out of order.
SELECT state_checks.summary_error(overlay(s PLACING '\x0100000000000000'::bytea FROM 6)) FROM good;
SELECT state_checks.summary_error(overlay(s PLACING '\xffffffffffffffff'::bytea FROM 14)) FROM good;
SELECT state_checks.summary_error(overlay(s PLACING decode(pg_temp.le(2145031949, 4), 'hex') FROM 30)) FROM good;
SELECT state_checks.summary_error(overlay(s PLACING decode(pg_temp.le(-2451546, 4), 'hex') FROM 26)) FROM good;
SELECT state_checks.summary_error(overlay(s PLACING decode(pg_temp.le(8826, 4), 'hex') FROM 26)) FROM good;
-- The 128-bit total's scale past 38; digits beyond 128 bits that are not
-- digits (10000), or with a leading zero.
SELECT state_checks.summary_error(overlay(s PLACING '\x27'::bytea FROM 50)) FROM good;
SELECT state_checks.summary_error(overlay(s PLACING '\x1027'::bytea FROM 63)) FROM good;
SELECT state_checks.summary_error(overlay(s PLACING '\x0000'::bytea FROM 63)) FROM good;
-- NaN and infinite float totals.
SELECT state_checks.summary_error(overlay(s PLACING '\x000000000000f87f'::bytea FROM 34)) FROM good_float;
SELECT state_checks.summary_error(overlay(s PLACING '\x000000000000f0ff'::bytea FROM 42)) FROM good_float;
-- Another format version, another kind of state, bytes that are no state.
SELECT state_checks.summary_error(overlay(s PLACING '\x03'::bytea FROM 3)) FROM good;
SELECT state_checks.summary_error(overlay(s PLACING '\x0a'::bytea FROM 4)) FROM good;
SELECT state_checks.summary_error('\x'::bytea), state_checks.summary_error('hello'::bytea);

-- Numeric and float8 states of one customer cannot be merged: a clear
-- error with a hint, never an internal error.
SELECT state_checks.merge_error(good.s, good_float.s) FROM good, good_float;
SELECT rfm_state_merge(s) FROM (SELECT s FROM good UNION ALL SELECT s FROM good_float) t;

DROP TABLE good, good_float;

-- A window aggregate hands its read-write state to its moving-aggregate
-- functions. Paired with the attacker's own inverse (here a PL/pgSQL
-- function returning its argument, which takes the state's memory context
-- for itself), the extension's transition or combine function would have
-- the backend free that context twice; they refuse to be moving-aggregate
-- functions, while plain window aggregates of them still run.
CREATE TEMPORARY TABLE window_orders AS
SELECT i, date '2024-01-01' + i % 300 AS day, (i % 97)::numeric AS amount FROM generate_series(1, 200) i;
CREATE FUNCTION pg_temp.keep(s analytics_state, d date, a numeric) RETURNS analytics_state
LANGUAGE plpgsql AS $$ BEGIN RETURN s; END $$;
CREATE FUNCTION pg_temp.keep_state(s analytics_state, t analytics_state) RETURNS analytics_state
LANGUAGE plpgsql AS $$ BEGIN RETURN s; END $$;
CREATE AGGREGATE pg_temp.moving_rfm(date, numeric) (
    sfunc = rfm_agg_transfn, stype = analytics_state, finalfunc = rfm_agg_finalfn,
    msfunc = rfm_agg_transfn, minvfunc = pg_temp.keep, mstype = analytics_state, mfinalfunc = rfm_agg_finalfn);
CREATE AGGREGATE pg_temp.rfm_state_of(date, numeric) (sfunc = rfm_agg_transfn, stype = analytics_state);
SELECT pg_temp.rfm_state_of(day, amount)::text AS one_order_state FROM window_orders WHERE i = 1 \gset
CREATE AGGREGATE pg_temp.inverse_rfm(date, numeric) (
    sfunc = rfm_agg_transfn, stype = analytics_state, finalfunc = rfm_agg_finalfn,
    msfunc = pg_temp.keep, minvfunc = rfm_agg_transfn, mstype = analytics_state, mfinalfunc = rfm_agg_finalfn,
    minitcond = :'one_order_state');
CREATE AGGREGATE pg_temp.moving_merge(analytics_state) (
    sfunc = rfm_agg_combinefn, stype = analytics_state, finalfunc = rfm_agg_finalfn,
    msfunc = rfm_agg_combinefn, minvfunc = pg_temp.keep_state, mstype = analytics_state,
    mfinalfunc = rfm_agg_finalfn);
\set VERBOSITY terse
SELECT sum((s).frequency) FROM (
    SELECT pg_temp.moving_rfm(day, amount) OVER (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s
    FROM window_orders) w;
SELECT sum((s).frequency) FROM (
    SELECT pg_temp.inverse_rfm(day, amount) OVER (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s
    FROM window_orders) w;
SELECT sum((s).frequency) FROM (
    SELECT pg_temp.moving_merge(state) OVER (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s
    FROM (SELECT i, pg_temp.rfm_state_of(day, amount) OVER (PARTITION BY i) AS state FROM window_orders) p) w;
\set VERBOSITY default
-- The same support functions in aggregates without moving-aggregate
-- functions: frames of 3 rows hold 3 orders each but the first two.
SELECT sum((s).frequency) AS orders_in_frames FROM (
    SELECT rfm_agg(day, amount) OVER (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s
    FROM window_orders) w;
SELECT sum((rfm_agg_finalfn(s)).frequency) AS orders_in_frames FROM (
    SELECT pg_temp.rfm_state_of(day, amount) OVER (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s
    FROM window_orders) w;
DROP AGGREGATE pg_temp.moving_rfm(date, numeric), pg_temp.inverse_rfm(date, numeric),
    pg_temp.moving_merge(analytics_state), pg_temp.rfm_state_of(date, numeric);
DROP FUNCTION pg_temp.keep(analytics_state, date, numeric), pg_temp.keep_state(analytics_state, analytics_state);
DROP TABLE window_orders;
RESET ROLE;
SET client_min_messages = warning;
DROP SCHEMA state_checks CASCADE;
RESET client_min_messages;
DROP TABLE secret_states;
DROP ROLE ca_attacker;
