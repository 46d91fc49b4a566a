
-- -------------------------------------------------------- analytics_state
--
-- The state type of every aggregate (src/pg/analytics_state.hpp). A real
-- type rather than internal, so that Citus runs each aggregate as partial
-- aggregates on the workers and a combine on the coordinator, shipping the
-- states as this type's text: base64 of the serialized state (the versioned
-- format that parallel workers also use), read back by the reader of the
-- aggregate that made it, which checks every field. During an aggregation
-- the state is an in-memory object updated in place.
CREATE TYPE analytics_state;
CREATE FUNCTION analytics_state_in(cstring) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_analytics_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION analytics_state_out(analytics_state) RETURNS cstring
    AS 'MODULE_PATHNAME', 'ca_analytics_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE analytics_state (
    INPUT = analytics_state_in, OUTPUT = analytics_state_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = extended);
