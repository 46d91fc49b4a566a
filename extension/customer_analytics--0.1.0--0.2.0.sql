-- customer_analytics 0.1.0 -> 0.2.0, applied by
-- ALTER EXTENSION customer_analytics UPDATE TO '0.2.0'. Written by hand; the
-- upgrade test (test/upgrade) checks that it reaches what a fresh install of
-- 0.2.0 creates, with existing builds and stored states intact.
\echo Use "ALTER EXTENSION customer_analytics UPDATE TO '0.2.0'" to load this file. \quit

-- ------------------------------------------------ bounded resources, results
-- The model constructors become validating C functions: they no longer
-- resolve type names through the caller's search_path, and they refuse
-- NaN, infinite, zero and negative parameters (22023).
CREATE OR REPLACE FUNCTION bgnbd_model(r float8, alpha float8, a float8, b float8) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_nbd_model(r float8, alpha float8, s float8, beta float8) RETURNS pareto_nbd_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gamma_gamma_model(p float8, q float8, gamma float8) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- A NULL as_of, thresholds, stages or language is an error (22004), as the
-- README documents; a NULL customer value still gives NULL. Not STRICT.
CREATE OR REPLACE FUNCTION rfm_score(summary rfm_summary, bins rfm_bins, as_of date) RETURNS rfm_score
    AS 'MODULE_PATHNAME', 'ca_rfm_score' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_class(summary rfm_summary, bins rfm_bins, as_of date, language text DEFAULT 'en')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_rfm_class' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION lifecycle_stage(last_order date, as_of date,
                                           thresholds integer[] DEFAULT '{63,126,365}')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION lifecycle_stage(last_order date, as_of date, thresholds integer[], stages text[])
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_date_named' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION lifecycle_stage(last_order timestamptz, as_of timestamptz,
                                           thresholds integer[] DEFAULT '{63,126,365}')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_timestamptz' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION lifecycle_stage(last_order timestamptz, as_of timestamptz, thresholds integer[],
                                           stages text[])
    RETURNS text
    AS 'MODULE_PATHNAME', 'ca_lifecycle_stage_timestamptz_named' LANGUAGE C STABLE PARALLEL SAFE;
