
-- -------------------------------------------------------------- rfm_score
--
-- The rfm_score type, and the score of a customer against bins.

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
    AS 'MODULE_PATHNAME', 'ca_recency_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION frequency_score(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_frequency_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_score(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_monetary_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Scores a customer against bins; NULL when the customer has no purchase
-- (or summary or bins is NULL). A NULL as_of is an error, so not STRICT.
CREATE FUNCTION rfm_score(summary rfm_summary, bins rfm_bins, as_of date) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Same, as of the date the bins were computed for.
CREATE FUNCTION rfm_score(summary rfm_summary, bins rfm_bins) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score_bins_as_of' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
