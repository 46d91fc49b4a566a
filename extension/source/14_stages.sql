
-- ---------------------------------------------------------------- stages
--
-- lifecycle_stage: a customer's stage by the days since the last order.

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
