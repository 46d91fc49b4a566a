
-- ------------------------------------------------------------ rfm_summaries

-- The bulk path: SELECT customer, rfm_agg(date, amount [, order_key,
-- min_purchase]) FROM source GROUP BY customer, computed by reading the
-- table directly (src/pg/rfm_summaries.cpp; README, rfm_summaries).
-- Customers come out as bigint (integer keys), or as customer_type, which
-- the second form takes for its type only (pass NULL::text). Not STRICT
-- (order_column and min_purchase may be NULL). STABLE: it reads tables, and
-- timestamptz dates depend on the TimeZone. PARALLEL RESTRICTED: it starts
-- parallel workers of its own and may read the caller's temporary tables.
CREATE FUNCTION rfm_summaries(source regclass, customer_column name, date_column name, amount_column name,
                              order_column name DEFAULT NULL, min_purchase numeric DEFAULT NULL)
    RETURNS TABLE (customer bigint, summary rfm_summary)
    AS 'MODULE_PATHNAME', 'ca_rfm_summaries' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;
CREATE FUNCTION rfm_summaries(source regclass, customer_column name, date_column name, amount_column name,
                              customer_type anyelement, order_column name DEFAULT NULL,
                              min_purchase numeric DEFAULT NULL)
    RETURNS TABLE (customer anyelement, summary rfm_summary)
    AS 'MODULE_PATHNAME', 'ca_rfm_summaries' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

-- rfm_segments: the same summaries, scored in the same pass: what
--   WITH s AS (SELECT * FROM rfm_summaries(...)), b AS (SELECT rfm_bins(summary, as_of) AS b FROM s)
--   SELECT customer, summary, rfm_score(summary, b), rfm_segment(rfm_score(summary, b)),
--          lifecycle_stage((summary).last_order, as_of) FROM s, b
-- returns (quintile scores, the 11 standard segments, the default stages).
CREATE FUNCTION rfm_segments(source regclass, customer_column name, date_column name, amount_column name,
                             as_of date, order_column name DEFAULT NULL, min_purchase numeric DEFAULT NULL)
    RETURNS TABLE (customer bigint, summary rfm_summary, score rfm_score, segment text, stage text)
    AS 'MODULE_PATHNAME', 'ca_rfm_segments' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;
CREATE FUNCTION rfm_segments(source regclass, customer_column name, date_column name, amount_column name,
                             as_of date, customer_type anyelement, order_column name DEFAULT NULL,
                             min_purchase numeric DEFAULT NULL)
    RETURNS TABLE (customer anyelement, summary rfm_summary, score rfm_score, segment text, stage text)
    AS 'MODULE_PATHNAME', 'ca_rfm_segments' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;
