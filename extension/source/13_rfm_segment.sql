
-- ------------------------------------------------------------ rfm_segment
--
-- Named segments of a score (rfm_segment) and the 8 classes (rfm_class).

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
