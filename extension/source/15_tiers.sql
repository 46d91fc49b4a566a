
-- ----------------------------------------------------------------- tiers
--
-- tier_for: membership tiers by spend, with hysteresis.

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
