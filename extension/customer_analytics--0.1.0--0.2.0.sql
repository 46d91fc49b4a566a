-- customer_analytics 0.1.0 -> 0.2.0, applied by
-- ALTER EXTENSION customer_analytics UPDATE TO '0.2.0'. Written by hand; the
-- upgrade test (test/upgrade) checks that it reaches what a fresh install of
-- 0.2.0 creates, with existing builds and stored states intact.
\echo Use "ALTER EXTENSION customer_analytics UPDATE TO '0.2.0'" to load this file. \quit

-- ------------------------------------------------------------------ builder
--
-- The catalog tables are written only through the builder's functions, a
-- refresh runs as the target's owner, the capture trigger is one C function
-- bound to its build, and rule conditions are checked expressions
-- (extension/source/40_builder.sql has the design). 0.1.0 let any role
-- write the catalog, so rows another role could have planted are removed
-- here, and each real build's SECURITY DEFINER capture function is replaced.

DROP FUNCTION segment_build(regclass, name, name, name, text, date, jsonb, name);
DROP FUNCTION segment_derive(segment_builds, text, date, text);
DROP FUNCTION segment_rows_sql(regclass, text);

ALTER TABLE segment_builds ALTER COLUMN owner DROP DEFAULT;
ALTER TABLE segment_tag_rules ALTER COLUMN owner DROP DEFAULT;
ALTER TABLE segment_builds
    ADD COLUMN build_id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT segment_builds_build_id_key UNIQUE,
    ADD COLUMN customer_type regtype,
    ADD COLUMN date_type regtype,
    ADD COLUMN amount_type regtype,
    ADD COLUMN layout integer NOT NULL DEFAULT 1,  -- existing builds have 0.1.0's views
    ADD COLUMN order_column name,
    ADD COLUMN order_type regtype,
    ADD COLUMN capture_relations regclass[],
    ADD COLUMN statistics_table regclass,
    ADD CONSTRAINT segment_builds_order_check CHECK ((order_column IS NULL) = (order_type IS NULL));
ALTER TABLE segment_builds ALTER COLUMN layout DROP DEFAULT;

-- 0.1.0 ignored options it did not know. A build whose options already
-- held these keys keeps meaning what it did (every row an order: its kept
-- states are row states), so the keys are removed; build again to use them.
UPDATE @extschema@.segment_builds
SET options = options OPERATOR(pg_catalog.-) 'order_column' OPERATOR(pg_catalog.-) 'min_purchase'
WHERE options OPERATOR(pg_catalog.?|) ARRAY['order_column', 'min_purchase'];

SELECT pg_catalog.pg_extension_config_dump('segment_builds_build_id_seq', '');

REVOKE INSERT, UPDATE, DELETE ON segment_builds, segment_tag_rules FROM PUBLIC;
DROP POLICY segment_builds_owner ON segment_builds;
DROP POLICY segment_tag_rules_owner ON segment_tag_rules;
CREATE POLICY segment_builds_owner ON segment_builds FOR SELECT
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                   WHERE c.oid OPERATOR(pg_catalog.=) target::pg_catalog.oid), 'USAGE')
           OR pg_catalog.has_table_privilege(target, 'SELECT'));
CREATE POLICY segment_tag_rules_owner ON segment_tag_rules FOR SELECT
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                   WHERE c.oid OPERATOR(pg_catalog.=) target::pg_catalog.oid), 'USAGE')
           OR pg_catalog.has_table_privilege(target, 'SELECT'));
-- The catalog gates (src/pg/builder.cpp).
CREATE OR REPLACE FUNCTION segment_catalog_register(target regclass, source regclass, customer_column name, date_column name,
                                         amount_column name, options jsonb, as_of date, incremental boolean,
                                         customers bigint, orders_merged bigint, state_table regclass,
                                         pending_table regclass, history_table regclass,
                                         order_column name DEFAULT NULL, statistics_table regclass DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'ca_segment_catalog_register' LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION segment_catalog_refreshed(target regclass, as_of date, refresh_number integer, mode text,
                                          customers bigint, orders_merged bigint, layout integer)
RETURNS void AS 'MODULE_PATHNAME', 'ca_segment_catalog_refreshed' LANGUAGE C VOLATILE;
-- Records the relations whose capture triggers feed a build (NULL: none,
-- every refresh rebuilds).
CREATE OR REPLACE FUNCTION segment_catalog_capture(target regclass, relations regclass[])
RETURNS void AS 'MODULE_PATHNAME', 'ca_segment_catalog_capture' LANGUAGE C;
CREATE OR REPLACE FUNCTION segment_catalog_forget(target regclass)
RETURNS void AS 'MODULE_PATHNAME', 'ca_segment_catalog_forget' LANGUAGE C VOLATILE;

-- The checked SQL of a rule condition over target's columns (what a refresh
-- evaluates; the stored text itself never runs).
CREATE OR REPLACE FUNCTION segment_rule_sql(target regclass, tag text, condition text)
RETURNS text AS 'MODULE_PATHNAME', 'ca_segment_rule_sql' LANGUAGE C STABLE PARALLEL SAFE;

-- The extension's schema, quoted, for dynamic SQL (passed to format() as
-- an argument: a schema name may contain %).
CREATE OR REPLACE FUNCTION segment_schema()
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'customer_analytics'
$fn$;

-- A column of the source, with its type; a clear error when it is missing.
CREATE OR REPLACE FUNCTION segment_source_column(source regclass, column_name name, role text)
RETURNS regtype LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    column_type regtype;
BEGIN
    SELECT a.atttypid::regtype INTO column_type
    FROM pg_attribute a WHERE a.attrelid = source AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF column_type IS NULL THEN
        RAISE EXCEPTION 'column "%" does not exist in %', column_name, source
            USING ERRCODE = 'undefined_column', HINT = format('Pass the name of the %s column of %s.', role, source);
    END IF;
    RETURN column_type;
END $fn$;

-- Why new orders of a source cannot be captured by triggers, or NULL when
-- they can: triggers exist only on tables; Citus runs a distributed table's
-- triggers on its shards, away from the pending table; a partitioned table
-- with a foreign partition cannot collect inserted rows for a trigger (and
-- would refuse every insert); and the caller must be allowed to create
-- triggers on every table of the partition tree.
CREATE OR REPLACE FUNCTION segment_capture_refusal(source regclass)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    citus boolean := false;
BEGIN
    IF (SELECT c.relkind FROM pg_class c WHERE c.oid = source) NOT IN ('r', 'p') THEN
        RETURN format('%s is not a table', source);
    END IF;
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1)'
            INTO citus USING source;
        IF citus THEN
            RETURN format('%s is a Citus distributed table, whose triggers would run on its shards', source);
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_partition_tree(source) t JOIN pg_class c ON c.oid = t.relid WHERE c.relkind = 'f') THEN
        RETURN format('%s has foreign partitions, whose inserted rows triggers cannot collect', source);
    END IF;
    IF NOT has_table_privilege(source, 'TRIGGER')
       OR EXISTS (SELECT 1 FROM pg_partition_tree(source) t WHERE NOT has_table_privilege(t.relid, 'TRIGGER')) THEN
        RETURN format('you may not create triggers on %s', source);
    END IF;
    RETURN NULL;
END $fn$;

-- How an order date, amount or order key column of a given type is read:
-- dates as date or timestamptz, amounts as numeric or float8, order keys as
-- bigint or text (built-in casts only).
CREATE OR REPLACE FUNCTION segment_order_expression(source regclass, column_name name, column_type regtype, role text)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF role = 'order key' THEN
        IF column_type IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype) THEN
            RETURN format('%I::bigint', column_name);
        ELSIF column_type IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype, 'uuid'::regtype) THEN
            RETURN format('%I::text', column_name);
        END IF;
        RAISE EXCEPTION 'column "%" of % has type %, not an order key', column_name, source, column_type
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'The order key must be an integer, text, varchar, char or uuid column.';
    END IF;
    IF role = 'order date' THEN
        IF column_type IN ('date'::regtype, 'timestamptz'::regtype) THEN
            RETURN format('%I', column_name);
        ELSIF column_type = 'timestamp'::regtype THEN
            RETURN format('%I::date', column_name);
        END IF;
        RAISE EXCEPTION 'column "%" of % has type %, not a date', column_name, source, column_type
            USING ERRCODE = 'datatype_mismatch', HINT = 'The order date must be of type date, timestamp or timestamptz.';
    END IF;
    IF column_type IN ('numeric'::regtype, 'double precision'::regtype) THEN
        RETURN format('%I', column_name);
    ELSIF column_type IN ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype, 'money'::regtype) THEN
        RETURN format('%I::numeric', column_name);
    ELSIF column_type = 'real'::regtype THEN
        RETURN format('%I::float8', column_name);
    END IF;
    RAISE EXCEPTION 'column "%" of % has type %, not an amount', column_name, source, column_type
        USING ERRCODE = 'datatype_mismatch', HINT = 'The amount must be numeric, an integer or a floating-point type.';
END $fn$;

-- The aggregate that summarizes a build's order lines into a state: without
-- the order_column and min_purchase options rfm_agg_state(date, amount),
-- every row an order; with either, rfm_agg_state(date, amount, order_key,
-- min_purchase), where a missing option is NULL (every row its own order,
-- no minimum). The arguments are expressions from segment_order_expression;
-- the minimum becomes a literal of the amount's type.
CREATE OR REPLACE FUNCTION segment_state_call(options jsonb, date_expression text, amount_expression text,
                                   key_expression text, amount_type regtype)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    float_amount boolean := amount_type IN ('real'::regtype, 'double precision'::regtype);
    minimum numeric := (options->>'min_purchase')::numeric;
BEGIN
    IF key_expression IS NULL AND minimum IS NULL THEN
        RETURN format('%s.rfm_agg_state(%s, %s)', @extschema@.segment_schema(), date_expression, amount_expression);
    END IF;
    RETURN format('%s.rfm_agg_state(%s, %s, %s, %s)', @extschema@.segment_schema(), date_expression,
                  amount_expression, coalesce(key_expression, 'NULL::bigint'),
                  CASE WHEN minimum IS NULL THEN 'NULL' ELSE quote_literal(minimum::text) END ||
                  CASE WHEN float_amount THEN '::float8' ELSE '::numeric' END);
END $fn$;

-- Builds the SELECT that derives every column of a segment table from two
-- FROM items: src, one row per customer with the summary columns (customer,
-- first_order, last_order, frequency, purchase_days, monetary, refunds),
-- and statistics, one row with as_of, bins, lifecycle_thresholds,
-- lifecycle_stages, tier_thresholds, tiers, frequency_cut and value_cut. A
-- stored target (layout 2) is this SELECT written into a table, a derived
-- one (layout 3) is a view of it over the state table and the last row of
-- the statistics table: both derive the same values, which is what makes a
-- refresh equal a full rebuild. A stored target computes every column, so
-- `once_per_row` fences rfm_score() and the mean order value (OFFSET 0)
-- to be evaluated once per row rather than once per column that uses them.
-- A view computes only the columns a query reads, so it has no fence: a
-- dashboard's count per segment scores each customer once, where the
-- fence would cost it half as much again. Nothing stands between the view
-- and src's customer column, so a lookup by customer uses its primary key.
-- Every call passes all arguments with their exact types (no default, no
-- untyped literal): an overload another role created in the extension's
-- schema is then never chosen, nor does it make a call ambiguous.
CREATE OR REPLACE FUNCTION segment_rows_sql(target regclass, src text, statistics text, once_per_row boolean)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    RETURN format($sql$
SELECT d.*, %2$s AS tags FROM (
    SELECT c.customer, c.first_order, c.last_order,
           CASE WHEN c.last_order IS NOT NULL THEN greatest(0, st.as_of - c.last_order) END AS recency_days,
           c.frequency, c.purchase_days, c.monetary,
           round(sc.mean_order, greatest(scale(c.monetary), 2)) AS avg_order_value,
           c.refunds,
           %1$s.recency_score(sc.score) AS r_score,
           %1$s.frequency_score(sc.score) AS f_score,
           %1$s.monetary_score(sc.score) AS m_score,
           sc.score::text AS rfm_code,
           coalesce(%1$s.rfm_segment(sc.score), 'No purchase') AS segment,
           %1$s.rfm_class(sc.s, st.bins, st.as_of, 'en'::text) AS rfm_class,
           %1$s.rfm_class(sc.s, st.bins, st.as_of, 'zh'::text) AS rfm_class_zh,
           %1$s.lifecycle_stage(c.last_order, st.as_of, st.lifecycle_thresholds, st.lifecycle_stages)
               AS lifecycle_stage,
           CASE WHEN c.frequency > 0 THEN %1$s.tier_for(c.monetary, st.tier_thresholds, st.tiers) END AS tier,
           CASE WHEN c.frequency > 0
                THEN %1$s.quadrant(c.frequency::numeric, sc.mean_order, st.frequency_cut, st.value_cut) END AS quadrant
    FROM %3$s c CROSS JOIN %4$s st,
         LATERAL (SELECT x.s, %1$s.rfm_score(x.s, st.bins, st.as_of) AS score,
                         c.monetary / nullif(c.frequency, 0) AS mean_order
                  FROM (SELECT ROW(c.first_order, c.last_order, c.frequency, c.purchase_days, c.monetary,
                                   c.refunds)::%1$s.rfm_summary AS s) x
                  %5$s) sc
) d
$sql$, @extschema@.segment_schema(), @extschema@.segment_tags_sql(target), src, statistics,
       CASE WHEN once_per_row THEN 'OFFSET 0' ELSE '' END);
END $fn$;

-- The tags column of a target: the tags whose rule holds for the row, from
-- the enabled rules written by a role with the target owner's privileges,
-- each as its checked expression over the target's columns.
CREATE OR REPLACE FUNCTION segment_tags_sql(target regclass)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT coalesce('pg_catalog.array_remove(ARRAY[' ||
                    string_agg(format('CASE WHEN (%s) THEN %L END',
                                      @extschema@.segment_rule_sql(r.target, r.tag, r.condition), r.tag),
                               ', ' ORDER BY r.tag) ||
                    ']::text[], NULL)', '''{}''::text[]')
    FROM @extschema@.segment_tag_rules r
    WHERE r.target = segment_tags_sql.target AND r.enabled
      AND pg_has_role(r.owner, (SELECT c.relowner FROM pg_class c WHERE c.oid = r.target), 'USAGE')
$fn$;

-- What a build's options fix: lifecycle thresholds and stage names, and
-- tier names.
CREATE OR REPLACE FUNCTION segment_fixed_parameters(options jsonb, OUT lifecycle_thresholds integer[],
                                         OUT lifecycle_stages text[], OUT tiers text[])
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT CASE WHEN options ? 'lifecycle_thresholds'
                THEN ARRAY(SELECT jsonb_array_elements_text(options->'lifecycle_thresholds'))::integer[]
                ELSE '{63,126,365}'::integer[] END,
           CASE WHEN options ? 'lifecycle_stages'
                THEN ARRAY(SELECT jsonb_array_elements_text(options->'lifecycle_stages'))
                ELSE '{active,silent,sleeping,churned}'::text[] END,
           CASE WHEN options ? 'tiers' THEN ARRAY(SELECT jsonb_array_elements_text(options->'tiers'))
                ELSE '{normal,silver,gold}'::text[] END
$fn$;

-- The population statistics of a stored build (layout 2), recomputed from
-- customer-level rows src(customer, s rfm_summary): bins, the spend of the
-- top 20 %% and top 5 %% of buying customers, and the medians of their
-- purchases and of their mean order value; segment_cuts applies the
-- build's options.
CREATE OR REPLACE FUNCTION segment_statistics(build @extschema@.segment_builds, src text, as_of date,
                                   OUT bins @extschema@.rfm_bins, OUT tier_thresholds numeric[],
                                   OUT frequency_cut numeric, OUT value_cut numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    next_above numeric;
    computed record;
    cut record;
BEGIN
    EXECUTE format($sql$
        SELECT %1$s.rfm_bins(s, $1, $2) AS bins,
               percentile_disc(ARRAY[0.8, 0.95]) WITHIN GROUP (ORDER BY (s).monetary) FILTER (WHERE (s).frequency > 0) AS top,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s).frequency) FILTER (WHERE (s).frequency > 0) AS frequency_median,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s).monetary / (s).frequency)
                   FILTER (WHERE (s).frequency > 0) AS value_median
        FROM (SELECT * FROM (%2$s) u OFFSET 0) src
    $sql$, @extschema@.segment_schema(), src)
    INTO computed USING as_of, coalesce((build.options->>'buckets')::integer, 5);
    IF computed.top[2] <= computed.top[1] AND NOT build.options ? 'tier_thresholds' THEN
        EXECUTE format('SELECT min((s).monetary) FROM (%s) src WHERE (s).frequency > 0 AND (s).monetary > $1', src)
            INTO next_above USING computed.top[1];
    END IF;
    cut := @extschema@.segment_cuts(build.options, computed.bins, computed.top, next_above, computed.frequency_median,
                                    computed.value_median);
    bins := cut.bins;
    tier_thresholds := cut.tier_thresholds;
    frequency_cut := cut.frequency_cut;
    value_cut := cut.value_cut;
END $fn$;

-- The population statistics of a derived build (layout 3), from its segment
-- distribution in time independent of the number of customers; the same
-- values segment_statistics computes from the same customers. A spend
-- with more significant digits than a double keeps exactly (more than 15)
-- makes the tier thresholds come from the state table instead.
CREATE OR REPLACE FUNCTION segment_distribution_cuts(build @extschema@.segment_builds, distribution bytea, as_of date,
                                          OUT bins @extschema@.rfm_bins, OUT tier_thresholds numeric[],
                                          OUT frequency_cut numeric, OUT value_cut numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    computed record;
    cut record;
    top numeric[];
    next_above numeric;
BEGIN
    computed := @extschema@.segment_distribution_statistics(distribution, as_of,
                                                            coalesce((build.options->>'buckets')::integer, 5));
    IF computed.spend_top IS NOT NULL AND NOT build.options ? 'tier_thresholds' THEN
        IF computed.exact_spend THEN
            top := ARRAY[@extschema@.segment_spend_numeric(computed.spend_top[1]),
                         @extschema@.segment_spend_numeric(computed.spend_top[2])];
            next_above := @extschema@.segment_spend_numeric(computed.spend_above);
        ELSE
            EXECUTE format('SELECT percentile_disc(ARRAY[0.8, 0.95]) WITHIN GROUP (ORDER BY monetary) '
                           'FROM %s WHERE frequency > 0', build.state_table) INTO top;
            EXECUTE format('SELECT min(monetary) FROM %s WHERE frequency > 0 AND monetary > $1', build.state_table)
                INTO next_above USING top[1];
        END IF;
    END IF;
    cut := @extschema@.segment_cuts(build.options, computed.bins, top, next_above, computed.frequency_median,
                                    computed.value_median);
    bins := cut.bins;
    tier_thresholds := cut.tier_thresholds;
    frequency_cut := cut.frequency_cut;
    value_cut := cut.value_cut;
END $fn$;

-- Tier thresholds and quadrant cuts from the population's figures and the
-- build's options: given thresholds and cuts win; otherwise silver starts
-- at the top-20 %% spend and gold at the top-5 %% spend, or, when many
-- customers spend exactly the top-20 %% level, at the next spend level
-- above it (one unit above when there is none); the cuts are the medians.
CREATE OR REPLACE FUNCTION segment_cuts(options jsonb, population_bins @extschema@.rfm_bins, top numeric[],
                             next_above numeric, frequency_median float8, value_median float8,
                             OUT bins @extschema@.rfm_bins, OUT tier_thresholds numeric[],
                             OUT frequency_cut numeric, OUT value_cut numeric)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    bins := population_bins;
    frequency_cut := frequency_median;
    value_cut := value_median;
    IF options ? 'tier_thresholds' THEN
        tier_thresholds := ARRAY(SELECT jsonb_array_elements_text(options->'tier_thresholds'))::numeric[];
    ELSIF top IS NOT NULL THEN
        tier_thresholds := top;
        IF top[2] <= top[1] THEN
            tier_thresholds := ARRAY[top[1], coalesce(next_above, top[1] + 1)];
        END IF;
    END IF;
    IF options ? 'frequency_cut' THEN
        frequency_cut := (options->>'frequency_cut')::numeric;
    END IF;
    IF options ? 'value_cut' THEN
        value_cut := (options->>'value_cut')::numeric;
    END IF;
END $fn$;

-- Derives every customer row of a stored build (layout 2) from src into
-- `destination`: a new table (the target, on a first build) or, with
-- append, the existing temporary table segment_rows that a refresh compares
-- with the target. Returns the number of rows.
CREATE OR REPLACE FUNCTION segment_derive(build @extschema@.segment_builds, src text, as_of date, destination text,
                               append boolean)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
    stats record;
    fixed record;
    row_count bigint;
BEGIN
    fixed := @extschema@.segment_fixed_parameters(build.options);
    stats := @extschema@.segment_statistics(build, src, as_of);
    -- Half of every page of a new target stays free: a refresh rewrites rows
    -- (every row when as_of moves), and a new version that fits the page of
    -- the old one, with no indexed column changed, touches no index (HOT).
    EXECUTE format(CASE WHEN append THEN 'INSERT INTO %s %s'
                        ELSE 'CREATE TABLE %s WITH (fillfactor = ' || @extschema@.segment_fillfactor() || ') AS %s' END,
                   destination,
                   @extschema@.segment_rows_sql(
                       build.target,
                       format('(SELECT u.customer, (u.s).first_order, (u.s).last_order, (u.s).frequency, '
                              '(u.s).purchase_days, (u.s).monetary, (u.s).refunds FROM (%s) u OFFSET 0)', src),
                       format('(SELECT $1 AS as_of, $2::%1$s.rfm_bins AS bins, $3 AS lifecycle_thresholds, '
                              '$4 AS lifecycle_stages, $5 AS tier_thresholds, $6 AS tiers, $7 AS frequency_cut, '
                              '$8 AS value_cut)', ext), true))
        USING as_of, stats.bins, fixed.lifecycle_thresholds, fixed.lifecycle_stages, stats.tier_thresholds,
              fixed.tiers, stats.frequency_cut, stats.value_cut;
    GET DIAGNOSTICS row_count = ROW_COUNT;
    -- The refresh joins its work table with the target on the customer at
    -- once and needs that column's statistics now (the others' would cost
    -- six times as much); a new target gets its statistics from autovacuum
    -- (ANALYZE here would cost a sixth of the build).
    IF append THEN
        EXECUTE format('ANALYZE %s (customer)', destination);
    END IF;
    RETURN row_count;
END $fn$;

-- The fillfactor of a target: half of each page stays free for the new
-- versions of its rows, so a refresh that rewrites every row (as_of moved)
-- updates them in place of the old ones without touching the indexes.
CREATE OR REPLACE FUNCTION segment_fillfactor()
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT 50
$fn$;

-- The columns a refresh compares and rewrites (everything but the key).
CREATE OR REPLACE FUNCTION segment_value_columns()
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT 'first_order, last_order, recency_days, frequency, purchase_days, monetary, avg_order_value, refunds, '
           'r_score, f_score, m_score, rfm_code, segment, rfm_class, rfm_class_zh, lifecycle_stage, tier, quadrant, tags'
$fn$;

-- A list of columns ("a, b") with each qualified by a table alias ("t.a, t.b").
CREATE OR REPLACE FUNCTION segment_qualified_columns(columns text, alias text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT string_agg(alias || '.' || c, ', ') FROM unnest(string_to_array(columns, ', ')) c
$fn$;

-- The bulk path for a full build (src/pg/rfm_summaries.cpp): rfm_summaries'
-- summaries of source with each customer's rfm_agg_state bytes, read in one
-- parallel pass with rfm_summaries' rights (SELECT on the columns; sources
-- whose row-level security applies are refused with 0A000, as are views and
-- foreign tables, and so are the tables Citus keeps in shards). Being a
-- maintenance operation, it may use the larger of work_mem and
-- maintenance_work_mem (times hash_mem_multiplier) per process.
-- Its rows are records, (customer <the column's type>, summary rfm_summary,
-- state bytea) as the call lists them, so that every argument has one type:
-- with a polymorphic customer argument, an overload of the exact customer
-- type that another role created in the extension's schema would be chosen
-- by the builder's calls and run with the builder's rights.
CREATE OR REPLACE FUNCTION segment_bulk_states(source regclass, customer_column name, date_column name, amount_column name,
                                    order_column name, min_purchase numeric)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ca_segment_bulk_states' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

-- The per-customer states of a full build into the new table `state_table`
-- (left empty when `keep_states` is false: a build without capture rebuilds
-- them at every refresh anyway), and the query that reads their summaries.
-- The bulk path when it applies: one pass writes the states and keeps the
-- summaries in a temporary table for the derivation. Otherwise (row-level
-- security, relations other than tables, tables Citus keeps in shards, key
-- or amount types it does not read, more customers than the larger of
-- work_mem and maintenance_work_mem holds) rfm_agg_state with GROUP BY,
-- which gives the same states.
CREATE OR REPLACE FUNCTION segment_load_states(build @extschema@.segment_builds, state_table text, keep_states boolean,
                                    customer_type regtype, state_call text)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
    declared text;  -- the customer column's type with its modifier, as GROUP BY would keep it
BEGIN
    SELECT format_type(a.atttypid, a.atttypmod) INTO declared
    FROM pg_attribute a WHERE a.attrelid = build.source AND a.attname = build.customer_column;
    IF to_regclass('pg_temp.segment_bulk') IS NOT NULL THEN
        DROP TABLE pg_temp.segment_bulk;  -- a second build in one transaction
    END IF;
    BEGIN
        EXECUTE format('CREATE TABLE %s (customer %s, state bytea)', state_table, declared);
        EXECUTE format('CREATE TEMPORARY TABLE segment_bulk (customer %s, s %s.rfm_summary) ON COMMIT DROP',
                       declared, ext);
        EXECUTE format('WITH b AS (SELECT customer, summary, state FROM %1$s.segment_bulk_states($1, $2, $3, $4, '
                       '$5, $6) AS s(customer %2$s, summary %1$s.rfm_summary, state bytea) '
                       'WHERE customer IS NOT NULL), '
                       'kept AS (INSERT INTO %3$s SELECT customer, state FROM b WHERE $7) '
                       'INSERT INTO pg_temp.segment_bulk SELECT customer, summary FROM b',
                       ext, customer_type, state_table)
            USING build.source, build.customer_column, build.date_column, build.amount_column,
                  (build.options->>'order_column')::name, (build.options->>'min_purchase')::numeric, keep_states;
        RETURN 'SELECT customer, s FROM pg_temp.segment_bulk';
    EXCEPTION WHEN feature_not_supported OR datatype_mismatch OR out_of_memory THEN
        NULL;  -- the subtransaction took both tables back
    END;
    EXECUTE format('CREATE TABLE %s AS SELECT %I AS customer, %s AS state FROM %s WHERE %I IS NOT NULL GROUP BY 1',
                   state_table, build.customer_column, state_call, build.source, build.customer_column);
    RETURN format('SELECT customer, %s.rfm_state_summary(state) AS s FROM %s', ext, state_table);
END $fn$;

-- The customers of a derived build (layout 3) read from its source into
-- `destination`, a table like its state table: each customer's summary
-- columns, its state (NULL unless keep_states: a build without capture
-- never merges into it) and first_refresh. The bulk path when it applies,
-- rfm_agg_state with GROUP BY where it declines (as segment_load_states);
-- both give the same states and summaries. A refresh names the pending
-- table its captured lines are in: one statement, one snapshot, so the
-- lines it deletes are exactly those whose orders the scan of the source
-- sees. Returns the number of rows.
CREATE OR REPLACE FUNCTION segment_load_summaries(build @extschema@.segment_builds, destination text, keep_states boolean,
                                       first_refresh integer, customer_type regtype, state_call text,
                                       consumed_pending regclass DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
    row_count bigint;
    consume text := CASE WHEN consumed_pending IS NOT NULL
                         THEN format('WITH consumed AS (DELETE FROM %s RETURNING 1) ', consumed_pending) ELSE '' END;
BEGIN
    BEGIN
        EXECUTE format('%4$sINSERT INTO %3$s SELECT customer, CASE WHEN $7 THEN state END, (summary).first_order, '
                       '(summary).last_order, (summary).frequency, (summary).purchase_days, (summary).monetary, '
                       '(summary).refunds, $8 FROM %1$s.segment_bulk_states($1, $2, $3, $4, $5, $6) '
                       'AS s(customer %2$s, summary %1$s.rfm_summary, state bytea) WHERE customer IS NOT NULL',
                       ext, customer_type, destination, consume)
            USING build.source, build.customer_column, build.date_column, build.amount_column,
                  (build.options->>'order_column')::name, (build.options->>'min_purchase')::numeric, keep_states,
                  first_refresh;
        GET DIAGNOSTICS row_count = ROW_COUNT;
        RETURN row_count;
    EXCEPTION WHEN feature_not_supported OR datatype_mismatch OR out_of_memory THEN
        NULL;  -- the subtransaction took the rows back
    END;
    EXECUTE format('%6$sINSERT INTO %1$s SELECT g.customer, CASE WHEN $1 THEN g.state END, (x.s).first_order, '
                   '(x.s).last_order, (x.s).frequency, (x.s).purchase_days, (x.s).monetary, (x.s).refunds, $2 '
                   'FROM (SELECT %2$I AS customer, %3$s AS state FROM %4$s WHERE %2$I IS NOT NULL GROUP BY 1) g, '
                   'LATERAL (SELECT %5$s.rfm_state_summary(g.state) AS s OFFSET 0) x',
                   destination, build.customer_column, state_call, build.source, ext, consume)
        USING keep_states, first_refresh;
    GET DIAGNOSTICS row_count = ROW_COUNT;
    RETURN row_count;
END $fn$;

-- The segment distribution of every customer of a derived build's state
-- table (src/pg/segment_distribution.cpp).
CREATE OR REPLACE FUNCTION segment_full_distribution(state_table regclass)
RETURNS bytea LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    result bytea;
BEGIN
    -- Typed NULLs: an untyped one would prefer an overload taking text that
    -- another role created in the extension's schema.
    EXECUTE format('SELECT %1$s.segment_distribution_apply(NULL::bytea, %1$s.segment_distribution_delta('
                   'NULL::%1$s.rfm_summary, ROW(first_order, last_order, frequency, purchase_days, monetary, '
                   'refunds)::%1$s.rfm_summary)) FROM %2$s', @extschema@.segment_schema(), state_table)
        INTO result;
    RETURN result;
END $fn$;

-- The statistics row a derived build's view reads: its as_of, the
-- population statistics, what the options fix, the tags expression the
-- view was made with, and (on the row of the refresh that last changed it)
-- the segment distribution.
CREATE OR REPLACE FUNCTION segment_record_statistics(build @extschema@.segment_builds, refresh_number integer, as_of date,
                                          distribution bytea, distribution_changed boolean)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    cuts record;
    fixed record;
BEGIN
    cuts := @extschema@.segment_distribution_cuts(build, distribution, as_of);
    fixed := @extschema@.segment_fixed_parameters(build.options);
    IF distribution_changed THEN
        EXECUTE format('UPDATE %s SET distribution = NULL WHERE distribution IS NOT NULL', build.statistics_table);
    END IF;
    EXECUTE format('INSERT INTO %s (refresh_number, as_of, bins, lifecycle_thresholds, lifecycle_stages, '
                   'tier_thresholds, tiers, frequency_cut, value_cut, tags_sql, distribution) '
                   'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', build.statistics_table)
        USING refresh_number, as_of, cuts.bins, fixed.lifecycle_thresholds, fixed.lifecycle_stages,
              cuts.tier_thresholds, fixed.tiers, cuts.frequency_cut, cuts.value_cut,
              @extschema@.segment_tags_sql(build.target),
              CASE WHEN distribution_changed THEN distribution END;
END $fn$;

-- The view a derived build's target is: every column derived from the
-- state table's summaries and the last statistics row. CREATE OR REPLACE
-- keeps its owner, grants and dependent views (a refresh replaces it when
-- the rules changed).
CREATE OR REPLACE FUNCTION segment_create_target_view(build @extschema@.segment_builds, target text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', target,
                   @extschema@.segment_rows_sql(
                       build.target, build.state_table::text,
                       format('(SELECT * FROM %s ORDER BY refresh_number DESC LIMIT 1)', build.statistics_table),
                       false));
END $fn$;

-- The entry point is C (src/pg/builder.cpp): it places an unqualified
-- target by the caller's search_path, then calls segment_build.
CREATE OR REPLACE FUNCTION build_segments(source regclass, customer_column name, date_column name, amount_column name,
                               target text, as_of date DEFAULT current_date, options jsonb DEFAULT '{}')
RETURNS regclass AS 'MODULE_PATHNAME', 'ca_build_segments' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION segment_build(source regclass, customer_column name, date_column name, amount_column name,
                              target_schema name, target_name name, as_of date, options jsonb)
RETURNS regclass LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
    qualified text := format('%I.%I', target_schema, target_name);
    customer_type regtype;
    date_type regtype;
    amount_type regtype;
    order_column name;
    order_type regtype;
    date_expression text;
    amount_expression text;
    key_expression text;
    build @extschema@.segment_builds;
    customers bigint;
    capture boolean;
    refusal text;
    suffix text;
    src text;
    state_call text;
    layout integer;
BEGIN
    IF source IS NULL OR customer_column IS NULL OR date_column IS NULL OR amount_column IS NULL
       OR target_schema IS NULL OR target_name IS NULL OR as_of IS NULL THEN
        RAISE EXCEPTION 'build_segments arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF options ? 'order_column' AND jsonb_typeof(options->'order_column') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION 'option "order_column" must be a column name' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Give the name of the column that identifies an order, such as {"order_column": "invoice_no"}.';
    END IF;
    IF options ? 'min_purchase' AND (jsonb_typeof(options->'min_purchase') IS DISTINCT FROM 'number'
                                     OR (options->>'min_purchase')::numeric < 0) THEN
        RAISE EXCEPTION 'option "min_purchase" must be a number of at least 0' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'It is the smallest net amount of a day that counts as a purchase day, such as {"min_purchase": 0.01}.';
    END IF;
    IF options ? 'layout' AND (jsonb_typeof(options->'layout') IS DISTINCT FROM 'string'
                               OR options->>'layout' NOT IN ('view', 'table')) THEN
        RAISE EXCEPTION 'option "layout" must be "view" or "table"' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A view derives scores, segments and stages when read, so a refresh costs what changed; '
                   'a table stores them, indexed, and a refresh rewrites every row whose values changed.';
    END IF;
    layout := CASE WHEN options->>'layout' = 'table' THEN 2 ELSE 3 END;
    IF as_of = 'infinity' OR as_of = '-infinity' THEN
        RAISE EXCEPTION 'as_of must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF length(target_name) > 63 - length('_quadrant_counts') THEN
        RAISE EXCEPTION 'target name "%" is too long', target_name USING ERRCODE = 'name_too_long',
            DETAIL = format('The builder adds suffixes of up to %s characters to it.', length('_quadrant_counts'));
    END IF;
    FOREACH suffix IN ARRAY ARRAY['', '_state', '_pending', '_history', '_statistics', '_segment_sizes',
                                  '_stage_counts', '_tier_funnel', '_quadrant_counts', '_migration'] LOOP
        IF to_regclass(format('%I.%I', target_schema, target_name || suffix)) IS NOT NULL THEN
            RAISE EXCEPTION 'relation "%.%" already exists', target_schema, target_name || suffix
                USING ERRCODE = 'duplicate_table',
                      HINT = 'Refresh it with refresh_segments(), or remove it with drop_segments().';
        END IF;
    END LOOP;

    customer_type := @extschema@.segment_source_column(source, customer_column, 'customer');
    date_type := @extschema@.segment_source_column(source, date_column, 'order date');
    amount_type := @extschema@.segment_source_column(source, amount_column, 'amount');
    date_expression := @extschema@.segment_order_expression(source, date_column, date_type, 'order date');
    amount_expression := @extschema@.segment_order_expression(source, amount_column, amount_type, 'amount');
    IF options ? 'order_column' THEN
        order_column := options->>'order_column';
        order_type := @extschema@.segment_source_column(source, order_column, 'order key');
        key_expression := @extschema@.segment_order_expression(source, order_column, order_type, 'order key');
    END IF;
    -- New orders are captured by triggers where that works; any other
    -- source is read again in full by every refresh.
    refusal := @extschema@.segment_capture_refusal(source);
    capture := refusal IS NULL;
    IF NOT capture THEN
        RAISE NOTICE 'every refresh of % will read % in full', qualified, source
            USING DETAIL = format('New orders cannot be captured: %s.', refusal);
    END IF;

    -- Per-customer state straight from the orders, in one pass.
    build.source := source;
    build.customer_column := customer_column;
    build.date_column := date_column;
    build.amount_column := amount_column;
    build.options := options;
    state_call := @extschema@.segment_state_call(options, date_expression, amount_expression, key_expression,
                                                 amount_type);
    build.state_table := NULL;
    IF layout = 3 THEN
        -- A tenth of each page stays free: the rows a refresh rewrites (the
        -- customers with new orders, a few in each page) get their new
        -- versions beside the old ones, without a new index entry (HOT).
        EXECUTE format('CREATE TABLE %I.%I (customer %s, state bytea, first_order date, last_order date, '
                       'frequency bigint, purchase_days bigint, monetary numeric, refunds bigint, '
                       'first_refresh integer NOT NULL) WITH (fillfactor = 90)', target_schema, target_name || '_state',
                       (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                        WHERE a.attrelid = source AND a.attname = customer_column));
        build.state_table := format('%I.%I', target_schema, target_name || '_state')::regclass;
        customers := @extschema@.segment_load_summaries(build, build.state_table::text, capture, 1, customer_type,
                                                        state_call, NULL::regclass);
    ELSE
        src := @extschema@.segment_load_states(build, format('%I.%I', target_schema, target_name || '_state'),
                                               capture, customer_type, state_call);
    END IF;
    EXECUTE format('ALTER TABLE %I.%I ADD PRIMARY KEY (customer)', target_schema, target_name || '_state');
    EXECUTE format('CREATE TABLE %I.%I (customer %s, order_date %s, amount %s, kind "char" NOT NULL%s)',
                   target_schema, target_name || '_pending', customer_type, date_type, amount_type,
                   CASE WHEN order_column IS NOT NULL THEN format(', order_key %s', order_type) ELSE '' END);

    build.target := NULL;
    build.state_table := format('%I.%I', target_schema, target_name || '_state')::regclass;
    build.pending_table := format('%I.%I', target_schema, target_name || '_pending')::regclass;
    build.incremental := capture;
    IF layout = 3 THEN
        -- Before-images: the summary a customer had before the refresh
        -- (refresh_number) that changed it; with the statistics rows, the
        -- segment of any customer at any refresh.
        EXECUTE format('CREATE TABLE %I.%I (refresh_number integer NOT NULL, customer %s NOT NULL, first_order date, '
                       'last_order date, frequency bigint, purchase_days bigint, monetary numeric, refunds bigint, '
                       'PRIMARY KEY (refresh_number, customer))',
                       target_schema, target_name || '_history', customer_type);
        EXECUTE format('CREATE TABLE %I.%I (refresh_number integer PRIMARY KEY, as_of date NOT NULL, bins %s.rfm_bins, '
                       'lifecycle_thresholds integer[] NOT NULL, lifecycle_stages text[] NOT NULL, '
                       'tier_thresholds numeric[], tiers text[] NOT NULL, frequency_cut numeric, value_cut numeric, '
                       'tags_sql text NOT NULL, distribution bytea)', target_schema, target_name || '_statistics', ext);
        -- The distribution (sorted spends and order values, which repeat a
        -- lot) shrinks about tenfold compressed; lz4 compresses it faster
        -- than its uncompressed pages would be written.
        BEGIN
            EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN distribution SET COMPRESSION lz4',
                           target_schema, target_name || '_statistics');
        EXCEPTION WHEN feature_not_supported THEN
            NULL;  -- a server built without lz4 keeps its default
        END;
        build.history_table := format('%I.%I', target_schema, target_name || '_history')::regclass;
        build.statistics_table := format('%I.%I', target_schema, target_name || '_statistics')::regclass;
        PERFORM @extschema@.segment_record_statistics(
            build, 1, as_of, @extschema@.segment_full_distribution(build.state_table), true);
        PERFORM @extschema@.segment_create_target_view(build, qualified);
        build.target := qualified::regclass;
        EXECUTE format('SELECT coalesce(sum(frequency + refunds), 0) FROM %s', build.state_table)
            INTO build.orders_merged;
        IF NOT capture THEN
            EXECUTE format('UPDATE %s SET state = NULL WHERE state IS NOT NULL', build.state_table);
        END IF;
    ELSE
        EXECUTE format('CREATE TABLE %I.%I (refresh_number integer NOT NULL, customer %s NOT NULL, '
                       'segment text NOT NULL)', target_schema, target_name || '_history', customer_type);
        build.history_table := format('%I.%I', target_schema, target_name || '_history')::regclass;
        customers := @extschema@.segment_derive(build, src, as_of, qualified, false);
        IF NOT capture THEN
            -- Every refresh of this build rebuilds: no state is merged into.
            EXECUTE format('TRUNCATE %s', build.state_table);
        END IF;
        IF to_regclass('pg_temp.segment_bulk') IS NOT NULL THEN
            DROP TABLE pg_temp.segment_bulk;
        END IF;
        build.target := qualified::regclass;
        EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (customer)', qualified);
        EXECUTE format('CREATE INDEX ON %s (segment)', qualified);
        EXECUTE format('CREATE INDEX ON %s (lifecycle_stage)', qualified);
        EXECUTE format('CREATE INDEX ON %s (tier)', qualified);
        EXECUTE format('CREATE INDEX ON %s USING gin (tags)', qualified);
        EXECUTE format('INSERT INTO %s SELECT 1, customer, segment FROM %s', build.history_table, qualified);
        EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (customer, refresh_number)', build.history_table);
        EXECUTE format('SELECT coalesce(sum(frequency + refunds), 0) FROM %s', qualified) INTO build.orders_merged;
    END IF;
    PERFORM @extschema@.segment_catalog_register(
        build.target, source, customer_column, date_column, amount_column, options, as_of, capture, customers,
        build.orders_merged, build.state_table, build.pending_table, build.history_table, order_column,
        build.statistics_table);
    SELECT * INTO STRICT build FROM @extschema@.segment_builds b WHERE b.target = qualified::regclass;

    PERFORM @extschema@.segment_create_views(build);
    PERFORM @extschema@.segment_create_capture(build);
    RETURN build.target;
END $fn$;
REVOKE ALL ON FUNCTION segment_build(regclass, name, name, name, name, name, date, jsonb) FROM PUBLIC;

-- Summary views for dashboards, beside the target, and the comments a BI
-- tool's data dictionary shows. Shares are fractions in [0, 1] (numeric,
-- not rounded). CREATE OR REPLACE keeps the owner and grants of views that
-- exist (the upgrade from 0.1.0 replaces them this way).
CREATE OR REPLACE FUNCTION segment_create_views(build @extschema@.segment_builds)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target_schema name;
    target_name name;
    tiers text[] := '{normal,silver,gold}';
    view_name name;
    described record;
    -- What frequency counts, by the build's order options.
    purchases text := CASE
        WHEN build.options ? 'min_purchase' THEN
            format('orders%s with a positive net amount on a day whose net amount reached %s (min_purchase)',
                   coalesce(format(' (the lines of one %s)', build.order_column), ''), build.options->>'min_purchase')
        WHEN build.order_column IS NOT NULL THEN
            format('orders (the lines of one %s) with a non-negative net amount', build.order_column)
        ELSE 'order rows with a non-negative amount' END;
BEGIN
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = build.target;
    IF build.options ? 'tiers' THEN
        tiers := ARRAY(SELECT jsonb_array_elements_text(build.options->'tiers'));
    END IF;
    EXECUTE format($sql$
        CREATE OR REPLACE VIEW %I.%I AS
        SELECT segment, count(*) AS customers,
               count(*)::numeric / sum(count(*)) OVER () AS customer_share,
               sum(monetary) AS revenue,
               sum(monetary) / nullif(sum(sum(monetary)) OVER (), 0) AS revenue_share
        FROM %s GROUP BY segment$sql$, target_schema, target_name || '_segment_sizes', build.target);
    EXECUTE format($sql$
        CREATE OR REPLACE VIEW %I.%I AS
        SELECT coalesce(lifecycle_stage, 'no purchase') AS lifecycle_stage, count(*) AS customers,
               count(*)::numeric / sum(count(*)) OVER () AS customer_share, sum(monetary) AS revenue
        FROM %s GROUP BY 1$sql$, target_schema, target_name || '_stage_counts', build.target);
    EXECUTE format($sql$
        CREATE OR REPLACE VIEW %I.%I AS
        SELECT t.tier, t.tier_rank, count(c.customer) AS customers,
               count(c.customer)::numeric / nullif(sum(count(c.customer)) OVER (), 0) AS customer_share,
               coalesce(sum(c.monetary), 0) AS revenue, min(c.monetary) AS lowest_spend
        FROM unnest(%L::text[]) WITH ORDINALITY AS t(tier, tier_rank)
        LEFT JOIN %s c ON c.tier = t.tier
        GROUP BY t.tier, t.tier_rank$sql$, target_schema, target_name || '_tier_funnel', tiers, build.target);
    EXECUTE format($sql$
        CREATE OR REPLACE VIEW %I.%I AS
        SELECT quadrant, count(*) AS customers,
               count(*)::numeric / sum(count(*)) OVER () AS customer_share, sum(monetary) AS revenue
        FROM %s WHERE quadrant IS NOT NULL GROUP BY quadrant$sql$,
        target_schema, target_name || '_quadrant_counts', build.target);
    -- Segment migration between the last two refreshes: each customer's
    -- segment before the last refresh (NULL for new customers) and now.
    IF build.layout = 3 THEN
        -- A derived build keeps what a segment is made of: each refresh's
        -- statistics, and the summary a refresh replaced (the history
        -- table's before-images). The segment before the last refresh is
        -- derived from them, for customers who existed then.
        EXECUTE format($sql$
            CREATE OR REPLACE VIEW %1$I.%2$I AS
            WITH before AS (
                SELECT b.customer, b.segment FROM (%3$s) b
            )
            SELECT b.segment AS from_segment, c.segment AS to_segment, count(*) AS customers
            FROM %4$s c LEFT JOIN before b ON b.customer = c.customer
            GROUP BY 1, 2$sql$,
            target_schema, target_name || '_migration',
            @extschema@.segment_rows_sql(
                build.target,
                format('(SELECT s.customer, CASE WHEN h.customer IS NULL THEN s.first_order ELSE h.first_order END '
                       'AS first_order, CASE WHEN h.customer IS NULL THEN s.last_order ELSE h.last_order END '
                       'AS last_order, CASE WHEN h.customer IS NULL THEN s.frequency ELSE h.frequency END '
                       'AS frequency, CASE WHEN h.customer IS NULL THEN s.purchase_days ELSE h.purchase_days END '
                       'AS purchase_days, CASE WHEN h.customer IS NULL THEN s.monetary ELSE h.monetary END '
                       'AS monetary, CASE WHEN h.customer IS NULL THEN s.refunds ELSE h.refunds END AS refunds '
                       'FROM %1$s s LEFT JOIN %2$s h ON h.refresh_number = (SELECT max(refresh_number) FROM %3$s) '
                       'AND h.customer = s.customer '
                       'WHERE s.first_refresh < (SELECT max(refresh_number) FROM %3$s))',
                       build.state_table, build.history_table, build.statistics_table),
                format('(SELECT * FROM %s ORDER BY refresh_number DESC OFFSET 1 LIMIT 1)', build.statistics_table),
                false),
            build.target);
    ELSE
        EXECUTE format($sql$
            CREATE OR REPLACE VIEW %1$I.%2$I AS
            WITH latest AS (
                SELECT refresh_number FROM %3$s.segment_builds WHERE target = %4$L::regclass
            ), before AS (
                SELECT DISTINCT ON (h.customer) h.customer, h.segment
                FROM %5$s h, latest WHERE h.refresh_number < latest.refresh_number
                ORDER BY h.customer, h.refresh_number DESC
            )
            SELECT b.segment AS from_segment, c.segment AS to_segment, count(*) AS customers
            FROM %6$s c LEFT JOIN before b ON b.customer = c.customer
            GROUP BY 1, 2$sql$,
            target_schema, target_name || '_migration', @extschema@.segment_schema(), build.target::text,
            build.history_table, build.target);
    END IF;

    FOR described IN
        SELECT * FROM (VALUES
            ('', NULL, 'One row per customer, built by customer_analytics.build_segments from ' || build.source::text ||
                       ' and kept up to date by refresh_segments; the as_of date of the last refresh is in segment_builds'),
            ('', 'customer', 'Customer key (' || build.customer_column || ' of the source)'),
            ('', 'first_order', 'Date of the first purchase; NULL for a customer with only refunds'),
            ('', 'last_order', 'Date of the last purchase; NULL for a customer with only refunds'),
            ('', 'recency_days', 'Days from last_order to as_of (0 when later)'),
            ('', 'frequency', 'Purchases: ' || purchases),
            ('', 'purchase_days', 'Distinct days with a purchase'),
            ('', 'monetary', 'Sum of every amount, refunds included (equals sum(amount) exactly)'),
            ('', 'avg_order_value', 'monetary / frequency, rounded to the scale of monetary (at least 2 decimals)'),
            ('', 'refunds', CASE WHEN build.order_column IS NULL AND NOT build.options ? 'min_purchase'
                                 THEN 'Order rows with a negative amount' ELSE 'Orders with a negative net amount' END),
            ('', 'r_score', 'Recency score, 1 (longest ago) to buckets (most recent), quantiles of the buying customers'),
            ('', 'f_score', 'Frequency score, 1 to buckets (most purchases)'),
            ('', 'm_score', 'Monetary score, 1 to buckets (most spend)'),
            ('', 'rfm_code', 'The three scores as text, e.g. 545'),
            ('', 'segment', 'One of the 11 standard RFM segments (Champions ... Lost), or No purchase'),
            ('', 'rfm_class', 'One of the 8 RFM classes (important value ... general recall): R, F, M each high or low against the population mean'),
            ('', 'rfm_class_zh', 'rfm_class in Chinese (重要价值客户 ... 一般挽留客户)'),
            ('', 'lifecycle_stage', 'active / silent / sleeping / churned by days since the last purchase (lifecycle_thresholds)'),
            ('', 'tier', 'Membership tier by monetary against the tier thresholds'),
            ('', 'quadrant', 'Purchase frequency x average order value, each high or low against its cut (median by default)'),
            ('', 'tags', 'Tags of the enabled rules (add_segment_rule) that hold for the customer'),
            ('_segment_sizes', NULL, 'Customers and revenue per RFM segment'),
            ('_segment_sizes', 'segment', 'RFM segment'),
            ('_segment_sizes', 'customers', 'Customers in the segment'),
            ('_segment_sizes', 'customer_share', 'Fraction of all customers (0 to 1)'),
            ('_segment_sizes', 'revenue', 'Sum of monetary of the segment''s customers'),
            ('_segment_sizes', 'revenue_share', 'Fraction of all revenue (0 to 1); NULL when total revenue is 0'),
            ('_stage_counts', NULL, 'Customers and revenue per lifecycle stage'),
            ('_stage_counts', 'lifecycle_stage', 'Lifecycle stage, or no purchase'),
            ('_stage_counts', 'customers', 'Customers in the stage'),
            ('_stage_counts', 'customer_share', 'Fraction of all customers (0 to 1)'),
            ('_stage_counts', 'revenue', 'Sum of monetary of the stage''s customers'),
            ('_tier_funnel', NULL, 'Customers and revenue per membership tier, lowest tier first'),
            ('_tier_funnel', 'tier', 'Membership tier'),
            ('_tier_funnel', 'tier_rank', 'Position of the tier, 1 = lowest'),
            ('_tier_funnel', 'customers', 'Buying customers in the tier'),
            ('_tier_funnel', 'customer_share', 'Fraction of buying customers (0 to 1)'),
            ('_tier_funnel', 'revenue', 'Sum of monetary of the tier''s customers'),
            ('_tier_funnel', 'lowest_spend', 'Lowest monetary in the tier'),
            ('_quadrant_counts', NULL, 'Customers and revenue per frequency x average order value quadrant'),
            ('_quadrant_counts', 'quadrant', 'Quadrant'),
            ('_quadrant_counts', 'customers', 'Buying customers in the quadrant'),
            ('_quadrant_counts', 'customer_share', 'Fraction of buying customers (0 to 1)'),
            ('_quadrant_counts', 'revenue', 'Sum of monetary of the quadrant''s customers'),
            ('_migration', NULL, 'Customers by segment before and after the last refresh'),
            ('_migration', 'from_segment', 'Segment before the last refresh; NULL for customers new in it'),
            ('_migration', 'to_segment', 'Segment now'),
            ('_migration', 'customers', 'Customers who moved from from_segment to to_segment')
        ) AS d(suffix, column_name, description)
    LOOP
        view_name := target_name || described.suffix;
        IF described.column_name IS NULL THEN
            EXECUTE format('COMMENT ON %s %I.%I IS %L',
                           CASE WHEN described.suffix = '' AND build.layout < 3 THEN 'TABLE' ELSE 'VIEW' END,
                           target_schema, view_name, described.description);
        ELSE
            EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', target_schema, view_name, described.column_name,
                           described.description);
        END IF;
    END LOOP;
END $fn$;

-- Lets a read-only role (a BI tool's) read one build: the target and its
-- summary views, and nothing else of the builder's or the source's. The
-- views read the history and the catalog with their owner's rights; the
-- catalog shows a build's row to roles that may read its target.
CREATE OR REPLACE FUNCTION grant_segments_read(target regclass, reader regrole)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target_schema name;
    target_name name;
BEGIN
    IF target IS NULL OR reader IS NULL THEN
        RAISE EXCEPTION 'grant_segments_read arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.segment_builds b WHERE b.target = grant_segments_read.target) THEN
        RAISE EXCEPTION '% was not built by build_segments', target USING ERRCODE = 'undefined_object';
    END IF;
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    -- GRANT itself requires the target's owner (or the grant option).
    EXECUTE format('GRANT SELECT ON %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I, %1$I.%6$I, %1$I.%7$I TO %8$I',
                   target_schema, target_name, target_name || '_segment_sizes', target_name || '_stage_counts',
                   target_name || '_tier_funnel', target_name || '_quadrant_counts', target_name || '_migration',
                   reader::text);
    IF NOT has_schema_privilege(reader, target_schema, 'USAGE') THEN
        RAISE NOTICE 'role % also needs USAGE on schema %', reader, target_schema
            USING HINT = format('GRANT USAGE ON SCHEMA %I TO %I;', target_schema, reader::text);
    END IF;
END $fn$;

CREATE OR REPLACE FUNCTION revoke_segments_read(target regclass, reader regrole)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target_schema name;
    target_name name;
BEGIN
    IF target IS NULL OR reader IS NULL THEN
        RAISE EXCEPTION 'revoke_segments_read arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    EXECUTE format('REVOKE SELECT ON %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I, %1$I.%6$I, %1$I.%7$I FROM %8$I',
                   target_schema, target_name, target_name || '_segment_sizes', target_name || '_stage_counts',
                   target_name || '_tier_funnel', target_name || '_quadrant_counts', target_name || '_migration',
                   reader::text);
END $fn$;

-- The triggers that capture new orders into T_pending, and leave a rebuild
-- marker when orders are updated, deleted or truncated. They call the C
-- function segment_capture with the build's id, which survives renames and
-- pg_dump/restore.
CREATE OR REPLACE FUNCTION segment_capture() RETURNS trigger AS 'MODULE_PATHNAME', 'ca_segment_capture' LANGUAGE C;

CREATE OR REPLACE FUNCTION segment_create_capture(build @extschema@.segment_builds)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target_name name := (SELECT c.relname FROM pg_class c WHERE c.oid = build.target);
    capture text := format('%s.segment_capture(%L)', @extschema@.segment_schema(), build.build_id);
    relations regclass[] := @extschema@.segment_capture_tree(build.source);
    relation regclass;
BEGIN
    IF NOT build.incremental THEN
        RETURN;
    END IF;
    -- A statement fires the statement triggers of the table it names, so a
    -- partitioned source gets the triggers on every table of its tree:
    -- inserts through the root and straight into a partition are both
    -- captured, each once.
    FOREACH relation IN ARRAY relations LOOP
        IF relation = ANY (coalesce(build.capture_relations, '{}')) THEN
            CONTINUE;  -- it has them already
        END IF;
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_orders '
                       'FOR EACH STATEMENT EXECUTE FUNCTION %s', target_name || '_capture_inserts', relation, capture);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I, %I, %I%s OR DELETE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION %s', target_name || '_capture_changes',
                       build.customer_column, build.date_column, build.amount_column,
                       CASE WHEN build.order_column IS NOT NULL THEN format(', %I', build.order_column) ELSE '' END,
                       relation, capture);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s',
                       target_name || '_capture_truncate', relation, capture);
    END LOOP;
    PERFORM @extschema@.segment_catalog_capture(build.target, relations);
END $fn$;

-- The source and every table of its partition tree, in OID order.
CREATE OR REPLACE FUNCTION segment_capture_tree(source regclass)
RETURNS regclass[] LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT array_agg(r ORDER BY r::oid) FROM (
        SELECT source AS r UNION SELECT t.relid FROM pg_partition_tree(source) t
    ) tree
$fn$;

-- Removes this build's capture triggers from relations, where the caller
-- may drop triggers; elsewhere they stay, and capture nothing for a build
-- that is gone or a table outside its source.
CREATE OR REPLACE FUNCTION segment_drop_capture(build @extschema@.segment_builds, relations regclass[])
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    found record;
BEGIN
    FOR found IN
        SELECT t.tgname, t.tgrelid::regclass AS relation,
               pg_has_role((SELECT c.relowner FROM pg_class c WHERE c.oid = t.tgrelid), 'USAGE') AS may_drop
        FROM pg_trigger t
        WHERE t.tgrelid = ANY (relations) AND t.tgfoid = '@extschema@.segment_capture()'::regprocedure
          AND t.tgnargs = 1 AND t.tgargs = convert_to(build.build_id::text, 'UTF8') || '\x00'::bytea
    LOOP
        IF found.may_drop THEN
            EXECUTE format('DROP TRIGGER %I ON %s', found.tgname, found.relation);
        ELSE
            RAISE NOTICE 'the capture triggers of % stay on % until its owner drops them', build.target, found.relation
                USING DETAIL = 'They capture nothing once the build is gone.';
        END IF;
    END LOOP;
END $fn$;

-- How a refresh summarizes orders into states: read from the source as a
-- build reads it (the columns checked again, their types may have changed
-- since), or from the lines captured in the pending table, which have the
-- types recorded at build time.
CREATE OR REPLACE FUNCTION segment_refresh_state_call(build @extschema@.segment_builds, from_pending boolean)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    amount_type regtype;
BEGIN
    IF from_pending THEN
        RETURN @extschema@.segment_state_call(
            build.options,
            @extschema@.segment_order_expression(build.pending_table, 'order_date', build.date_type, 'order date'),
            @extschema@.segment_order_expression(build.pending_table, 'amount', build.amount_type, 'amount'),
            CASE WHEN build.order_column IS NOT NULL THEN
                @extschema@.segment_order_expression(build.pending_table, 'order_key', build.order_type,
                                                     'order key') END,
            build.amount_type);
    END IF;
    amount_type := @extschema@.segment_source_column(build.source, build.amount_column, 'amount');
    RETURN @extschema@.segment_state_call(
        build.options,
        @extschema@.segment_order_expression(
            build.source, build.date_column,
            @extschema@.segment_source_column(build.source, build.date_column, 'order date'), 'order date'),
        @extschema@.segment_order_expression(build.source, build.amount_column, amount_type, 'amount'),
        CASE WHEN build.order_column IS NOT NULL THEN
            @extschema@.segment_order_expression(
                build.source, build.order_column,
                @extschema@.segment_source_column(build.source, build.order_column, 'order key'),
                'order key') END,
        amount_type);
END $fn$;

-- The entry point is C (src/pg/builder.cpp): it checks that the caller has
-- the target owner's privileges, then runs segment_refresh_workspace and
-- segment_refresh as the owner.
CREATE OR REPLACE FUNCTION refresh_segments(target regclass, as_of date DEFAULT current_date, full_rebuild boolean DEFAULT false)
RETURNS jsonb AS 'MODULE_PATHNAME', 'ca_refresh_segments' LANGUAGE C VOLATILE;

-- The temporary tables a refresh fills, created before the refresh enters
-- its security-restricted part (which cannot create temporary objects):
-- for a stored build the derived rows and the touched customers' summaries,
-- for a derived build the changed customers (with their summaries before
-- and after) and, for a full refresh, the customers read again.
CREATE OR REPLACE FUNCTION segment_refresh_workspace(target regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
    build @extschema@.segment_builds;
    name text;
    customer_definition text;
BEGIN
    FOREACH name IN ARRAY ARRAY['segment_rows', 'segment_touched', 'segment_changes', 'segment_fresh'] LOOP
        IF to_regclass('pg_temp.' || name) IS NOT NULL THEN
            EXECUTE format('DROP TABLE pg_temp.%I', name);  -- a second refresh in one transaction
        END IF;
    END LOOP;
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = segment_refresh_workspace.target;
    -- This runs as the owner but outside the security-restricted operation,
    -- so it plans no query over the owner's tables: planning one evaluates
    -- the immutable functions of the owner's policies, which could leave
    -- temporary objects in the refresher's session. The customer column's
    -- type (and collation) comes from the catalog.
    SELECT format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                   THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END
    INTO customer_definition
    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
    WHERE a.attrelid = CASE WHEN build.layout = 3 THEN build.state_table ELSE target END
      AND a.attname = 'customer' AND NOT a.attisdropped;
    IF build.layout = 3 THEN
        EXECUTE format('CREATE TEMPORARY TABLE segment_fresh (LIKE %s) ON COMMIT DROP', build.state_table);
        EXECUTE format('CREATE TEMPORARY TABLE segment_changes (customer %2$s, row_id tid, state bytea, '
                       'before %1$s.rfm_summary, after %1$s.rfm_summary) ON COMMIT DROP', ext, customer_definition);
    ELSE
        EXECUTE format('CREATE TEMPORARY TABLE segment_rows (LIKE %s) ON COMMIT DROP', target);
        EXECUTE format('CREATE TEMPORARY TABLE segment_touched (customer %2$s, s %1$s.rfm_summary) ON COMMIT DROP',
                       ext, customer_definition);
    END IF;
END $fn$;
REVOKE ALL ON FUNCTION segment_refresh_workspace(regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION segment_refresh(target regclass, as_of date, full_rebuild boolean)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
    build @extschema@.segment_builds;
    mode text;
    rebuild_requested boolean;
    moved bigint := 0;
    touched bigint := 0;
    changed bigint := 0;
    removed bigint := 0;
    added bigint := 0;
    src text;
    refusal text;
    state_call text;
    columns text := @extschema@.segment_value_columns();
    started timestamptz := clock_timestamp();
BEGIN
    IF as_of = 'infinity' OR as_of = '-infinity' THEN
        RAISE EXCEPTION 'as_of must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = segment_refresh.target;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% was not built by build_segments', target USING ERRCODE = 'undefined_object',
            HINT = 'Build it first with build_segments().';
    END IF;
    -- Refreshes of one target are serialized on its state table (the lock
    -- conflicts only with itself and writers); readers of the target never
    -- wait: rows are rewritten under MVCC in one transaction.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', build.state_table);
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = segment_refresh.target;

    -- UPDATE, DELETE or TRUNCATE on the source left a marker: orders may have
    -- changed or gone, which merging cannot undo.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE kind = ''r'')', build.pending_table) INTO rebuild_requested;
    IF full_rebuild OR rebuild_requested OR NOT build.incremental THEN
        mode := 'full';
    ELSE
        mode := 'incremental';
    END IF;
    -- A partition attached or detached since the last refresh: its orders
    -- came or went without an insert or a delete. Rebuild, and capture on
    -- the tables of the tree as it is now (or no longer, when the tree now
    -- holds a table whose orders cannot be captured).
    IF build.incremental
       AND build.capture_relations IS DISTINCT FROM @extschema@.segment_capture_tree(build.source) THEN
        mode := 'full';
        refusal := @extschema@.segment_capture_refusal(build.source);
        IF refusal IS NULL THEN
            PERFORM @extschema@.segment_drop_capture(
                build, ARRAY(SELECT unnest(build.capture_relations)
                             EXCEPT SELECT unnest(@extschema@.segment_capture_tree(build.source))));
            PERFORM @extschema@.segment_create_capture(build);
        ELSE
            RAISE NOTICE 'every refresh of % will read % in full from now on', build.target, build.source
                USING DETAIL = format('New orders cannot be captured: %s.', refusal);
            PERFORM @extschema@.segment_drop_capture(
                build, build.capture_relations || @extschema@.segment_capture_tree(build.source));
            PERFORM @extschema@.segment_catalog_capture(build.target, NULL);
        END IF;
    END IF;

    IF build.layout = 3 THEN
        RETURN @extschema@.segment_refresh_derived(build.target, as_of, mode, started);
    END IF;
    IF mode = 'full' THEN
        EXECUTE format('TRUNCATE %s', build.state_table);
        state_call := @extschema@.segment_refresh_state_call(build, false);
        -- One statement, one snapshot: the pending rows it deletes are
        -- exactly those whose orders the scan of the source sees. The bulk
        -- path as in a build (the summaries go to the work table, the
        -- states only where a later refresh merges into them); GROUP BY
        -- where it declines, as for a table Citus keeps in shards (also
        -- when the customer column's type is no longer the recorded one).
        BEGIN
            EXECUTE format('WITH consumed AS (DELETE FROM %1$s RETURNING 1), '
                           'b AS (SELECT customer, summary, state FROM %2$s.segment_bulk_states($1, $2, $3, $4, '
                           '$5, $6) AS s(customer %3$s, summary %2$s.rfm_summary, state bytea) '
                           'WHERE customer IS NOT NULL), '
                           'kept AS (INSERT INTO %4$s SELECT customer, state FROM b WHERE $7) '
                           'INSERT INTO pg_temp.segment_touched SELECT customer, summary FROM b',
                           build.pending_table, ext, build.customer_type, build.state_table)
                USING build.source, build.customer_column, build.date_column, build.amount_column,
                      build.order_column, (build.options->>'min_purchase')::numeric, build.incremental;
            src := 'SELECT customer, s FROM pg_temp.segment_touched';
        EXCEPTION WHEN feature_not_supported OR datatype_mismatch OR out_of_memory THEN
            EXECUTE format('WITH consumed AS (DELETE FROM %s RETURNING 1) '
                           'INSERT INTO %s SELECT %I, %s FROM %s WHERE %I IS NOT NULL GROUP BY 1',
                           build.pending_table, build.state_table, build.customer_column, state_call, build.source,
                           build.customer_column);
            src := format('SELECT customer, %s.rfm_state_summary(state) AS s FROM %s', ext, build.state_table);
        END;
    ELSE
        -- The captured lines have the source's types as recorded at build
        -- time, and are read with the same expressions as a full build.
        EXECUTE format($sql$
            WITH moved AS (
                DELETE FROM %1$s WHERE kind = 'i' RETURNING customer, order_date, amount%4$s
            ), fresh AS (
                SELECT customer, %5$s AS state
                FROM moved WHERE customer IS NOT NULL AND order_date IS NOT NULL AND amount IS NOT NULL
                GROUP BY customer
            ), merged AS (
                INSERT INTO %2$s AS kept SELECT customer, state FROM fresh
                ON CONFLICT (customer) DO UPDATE
                SET state = (SELECT %3$s.rfm_state_merge(x) FROM (VALUES (kept.state), (excluded.state)) v(x))
                RETURNING customer, state
            ), noted AS (
                INSERT INTO pg_temp.segment_touched SELECT customer, %3$s.rfm_state_summary(state) FROM merged
            )
            SELECT count(*) FROM moved$sql$, build.pending_table, build.state_table, ext,
            CASE WHEN build.order_column IS NOT NULL THEN ', order_key' ELSE '' END,
            @extschema@.segment_refresh_state_call(build, true))
        INTO moved;
        ANALYZE pg_temp.segment_touched;
        -- Untouched customers keep the summary stored in the target; only
        -- touched customers' states are read back.
        src := format('SELECT t.customer, ROW(t.first_order, t.last_order, t.frequency, t.purchase_days, t.monetary, '
                      't.refunds)::%s.rfm_summary AS s FROM %s t '
                      'WHERE NOT EXISTS (SELECT 1 FROM pg_temp.segment_touched x WHERE x.customer = t.customer) '
                      'UNION ALL SELECT customer, s FROM pg_temp.segment_touched', ext, build.target);
    END IF;

    touched := @extschema@.segment_derive(build, src, as_of, 'pg_temp.segment_rows', true);
    IF mode = 'full' AND NOT build.incremental THEN
        EXECUTE format('TRUNCATE %s', build.state_table);  -- no later refresh merges into it
    END IF;
    build.refresh_number := build.refresh_number + 1;
    -- History: only customers whose segment changed (or who are new).
    EXECUTE format('INSERT INTO %s SELECT $1, r.customer, r.segment FROM pg_temp.segment_rows r '
                   'LEFT JOIN %s t ON t.customer = r.customer WHERE t.segment IS DISTINCT FROM r.segment',
                   build.history_table, build.target) USING build.refresh_number;
    -- A target built before its pages kept room for new row versions gets
    -- the builder's fillfactor (for the pages written from now on), unless
    -- its owner chose one.
    IF NOT EXISTS (SELECT 1 FROM pg_class c, unnest(coalesce(c.reloptions, '{}')) o
                   WHERE c.oid = build.target AND o LIKE 'fillfactor=%') THEN
        EXECUTE format('ALTER TABLE %s SET (fillfactor = %s)', build.target, @extschema@.segment_fillfactor());
    END IF;
    -- Rewrite only rows whose values changed, then add new customers (a
    -- join and an anti-join: much cheaper than INSERT ... ON CONFLICT).
    EXECUTE format('UPDATE %1$s AS t SET (%2$s) = ROW(%3$s) FROM pg_temp.segment_rows r '
                   'WHERE r.customer = t.customer AND (%4$s) IS DISTINCT FROM (%3$s)',
                   build.target, columns,
                   @extschema@.segment_qualified_columns(columns, 'r'),
                   @extschema@.segment_qualified_columns(columns, 't'));
    GET DIAGNOSTICS changed = ROW_COUNT;
    -- New customers: in an incremental refresh only touched ones can be new.
    EXECUTE format('INSERT INTO %1$s SELECT r.* FROM pg_temp.segment_rows r '
                   'WHERE NOT EXISTS (SELECT 1 FROM %1$s t WHERE t.customer = r.customer)%2$s', build.target,
                   CASE WHEN mode = 'incremental'
                        THEN ' AND r.customer IN (SELECT x.customer FROM pg_temp.segment_touched x)' ELSE '' END);
    GET DIAGNOSTICS added = ROW_COUNT;
    changed := changed + added;
    IF mode = 'full' THEN
        EXECUTE format('DELETE FROM %s t WHERE NOT EXISTS (SELECT 1 FROM pg_temp.segment_rows r '
                       'WHERE r.customer = t.customer)', build.target);
        GET DIAGNOSTICS removed = ROW_COUNT;
        EXECUTE format('SELECT coalesce(sum(frequency + refunds), 0) FROM %s', build.target) INTO moved;
    END IF;
    -- The work tables go with the refresh: they belong to the owner, and the
    -- refresher's next refresh (of another owner's build, say, in the same
    -- transaction) makes its own.
    DROP TABLE pg_temp.segment_rows, pg_temp.segment_touched;

    -- A build made by an older release gets the views and comments of this
    -- one (once: replacing views locks out their readers for a moment).
    IF build.layout < 2 THEN
        PERFORM @extschema@.segment_create_views(build);
    END IF;
    PERFORM @extschema@.segment_catalog_refreshed(
        build.target, as_of, build.refresh_number, mode, touched,
        CASE WHEN mode = 'full' THEN moved ELSE build.orders_merged + moved END, 2);
    RETURN jsonb_build_object('target', build.target::text, 'mode', mode, 'refresh_number', build.refresh_number,
                              'as_of', as_of, 'orders_merged', moved, 'customers', touched,
                              'rows_written', changed, 'rows_removed', removed,
                              'seconds', round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));
END $fn$;
REVOKE ALL ON FUNCTION segment_refresh(regclass, date, boolean) FROM PUBLIC;

-- A refresh of a derived build (layout 3), called by segment_refresh once
-- it holds the refresh lock and chose the mode. Incremental: the captured
-- orders are merged into their customers' states, the summaries of those
-- customers are rewritten (their old summaries kept in the history table),
-- and the segment distribution is updated by the difference; a full
-- refresh reads every customer again and writes only the rows that
-- changed. Either way the new statistics row is computed from the
-- distribution, in time independent of the number of customers, and the
-- view derives every other column from it when read; moving as_of alone
-- writes nothing but that row.
CREATE OR REPLACE FUNCTION segment_refresh_derived(target regclass, as_of date, mode text, started timestamptz)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
    build @extschema@.segment_builds;
    refresh_number integer;
    moved bigint := 0;
    changed bigint := 0;
    added bigint := 0;
    removed bigint := 0;
    customers bigint;
    orders_merged bigint;
    distribution bytea;
    delta bytea;
    distribution_changed boolean := false;
    state_call text;
    summary text := 'first_order, last_order, frequency, purchase_days, monetary, refunds';
    previous_tags text;
BEGIN
    -- refresh_segments calls this as the target's owner; anyone else is
    -- refused (a direct call could only do what the caller's rights allow).
    IF pg_has_role((SELECT c.relowner FROM pg_class c WHERE c.oid = target), 'USAGE') IS NOT TRUE THEN
        RAISE EXCEPTION 'must be owner of %', target USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = segment_refresh_derived.target;
    IF build.statistics_table IS NULL THEN
        RAISE EXCEPTION '% is not a derived build', target USING ERRCODE = 'undefined_object';
    END IF;
    refresh_number := build.refresh_number + 1;
    IF mode = 'full' THEN
        state_call := @extschema@.segment_refresh_state_call(build, false);
        PERFORM @extschema@.segment_load_summaries(build, 'pg_temp.segment_fresh', build.incremental, refresh_number,
                                                   build.customer_type, state_call, build.pending_table);
        ANALYZE pg_temp.segment_fresh (customer);
        EXECUTE format('INSERT INTO %1$s SELECT $1, o.customer, %3$s FROM %2$s o '
                       'LEFT JOIN pg_temp.segment_fresh f ON f.customer = o.customer '
                       'WHERE f.customer IS NULL OR (%3$s) IS DISTINCT FROM (%4$s)',
                       build.history_table, build.state_table,
                       @extschema@.segment_qualified_columns(summary, 'o'),
                       @extschema@.segment_qualified_columns(summary, 'f'))
            USING refresh_number;
        EXECUTE format('UPDATE %1$s o SET (state, %2$s) = ROW(f.state, %3$s) FROM pg_temp.segment_fresh f '
                       'WHERE f.customer = o.customer AND (o.state, %4$s) IS DISTINCT FROM (f.state, %3$s)',
                       build.state_table, summary,
                       @extschema@.segment_qualified_columns(summary, 'f'),
                       @extschema@.segment_qualified_columns(summary, 'o'));
        GET DIAGNOSTICS changed = ROW_COUNT;
        EXECUTE format('INSERT INTO %1$s SELECT f.* FROM pg_temp.segment_fresh f '
                       'WHERE NOT EXISTS (SELECT 1 FROM %1$s o WHERE o.customer = f.customer)', build.state_table);
        GET DIAGNOSTICS added = ROW_COUNT;
        EXECUTE format('DELETE FROM %1$s o WHERE NOT EXISTS (SELECT 1 FROM pg_temp.segment_fresh f '
                       'WHERE f.customer = o.customer)', build.state_table);
        GET DIAGNOSTICS removed = ROW_COUNT;
        distribution := @extschema@.segment_full_distribution(build.state_table);
        distribution_changed := true;
        EXECUTE format('SELECT count(*), coalesce(sum(frequency + refunds), 0) FROM %s', build.state_table)
            INTO customers, orders_merged;
        moved := orders_merged;
    ELSE
        -- The captured lines have the source's types as recorded at build
        -- time, and are read with the same expressions as a full build.
        -- Each touched customer's merged state, its summary before and
        -- after, in one pass over the captured lines.
        EXECUTE format($sql$
            WITH moved AS (
                DELETE FROM %1$s WHERE kind = 'i' RETURNING customer, order_date, amount%4$s
            ), fresh AS (
                SELECT customer, %5$s AS state
                FROM moved WHERE customer IS NOT NULL AND order_date IS NOT NULL AND amount IS NOT NULL
                GROUP BY customer
                ORDER BY customer  -- the state table's key order: its pages are read in turn
            ), noted AS (
                INSERT INTO pg_temp.segment_changes
                SELECT m.customer, m.row_id, m.state, m.before, %3$s.rfm_state_summary(m.state)
                FROM (SELECT f.customer, o.ctid AS row_id,
                             CASE WHEN o.customer IS NULL THEN f.state
                                  ELSE (SELECT %3$s.rfm_state_merge(x) FROM (VALUES (o.state), (f.state)) v(x)) END
                                 AS state,
                             CASE WHEN o.customer IS NOT NULL
                                  THEN ROW(o.first_order, o.last_order, o.frequency, o.purchase_days, o.monetary,
                                           o.refunds)::%3$s.rfm_summary END AS before
                      FROM fresh f LEFT JOIN %2$s o ON o.customer = f.customer
                      OFFSET 0) m
            )
            SELECT count(*) FROM moved$sql$, build.pending_table, build.state_table, ext,
            CASE WHEN build.order_column IS NOT NULL THEN ', order_key' ELSE '' END,
            @extschema@.segment_refresh_state_call(build, true))
        INTO moved;
        -- Existing customers' rows are rewritten where the merge found
        -- them (row_id): no other writer can move them while the refresh
        -- holds its lock. Rows go in in customer order, which keeps the
        -- index insertions in the same few pages.
        EXECUTE format('INSERT INTO %s SELECT $1, c.customer, (c.before).* FROM pg_temp.segment_changes c '
                       'WHERE c.row_id IS NOT NULL AND c.before IS DISTINCT FROM c.after ORDER BY c.customer',
                       build.history_table)
            USING refresh_number;
        -- Without statistics on the work table the planner would hash the
        -- whole state table to find a few of its rows; fetching each by its
        -- row_id is what costs in proportion to the change. (Settings made
        -- here end with the refresh.)
        PERFORM set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true);
        EXECUTE format('UPDATE %1$s o SET (state, %2$s) = ROW(c.state, (c.after).*) FROM pg_temp.segment_changes c '
                       'WHERE o.ctid = c.row_id', build.state_table, summary);
        GET DIAGNOSTICS changed = ROW_COUNT;
        PERFORM set_config('enable_hashjoin', 'on', true), set_config('enable_mergejoin', 'on', true);
        EXECUTE format('INSERT INTO %s SELECT c.customer, c.state, (c.after).*, $1 FROM pg_temp.segment_changes c '
                       'WHERE c.row_id IS NULL ORDER BY c.customer', build.state_table)
            USING refresh_number;
        GET DIAGNOSTICS added = ROW_COUNT;
        EXECUTE format('SELECT distribution FROM %s WHERE distribution IS NOT NULL '
                       'ORDER BY refresh_number DESC LIMIT 1', build.statistics_table)
            INTO distribution;
        EXECUTE format('SELECT %s.segment_distribution_delta(before, after) FROM pg_temp.segment_changes', ext)
            INTO delta;
        IF distribution IS NULL THEN
            -- None kept (its owner removed it, or emptied the statistics
            -- table): a delta would make it a distribution of the changed
            -- customers alone. Read it again from every customer (as cheap
            -- as the delta when the build has no buyers, its only other
            -- cause).
            distribution := @extschema@.segment_full_distribution(build.state_table);
            distribution_changed := true;
        ELSIF delta IS NOT NULL THEN
            BEGIN
                distribution := @extschema@.segment_distribution_apply(distribution, delta);
            EXCEPTION WHEN data_exception OR data_corrupted THEN
                -- The kept distribution does not describe the customers (it
                -- was changed by hand): read it again from them.
                distribution := @extschema@.segment_full_distribution(build.state_table);
            END;
            distribution_changed := true;
        END IF;
        customers := build.customers + added;
        orders_merged := build.orders_merged + moved;
    END IF;
    -- The work tables go with the refresh (as a stored build's do).
    DROP TABLE pg_temp.segment_fresh, pg_temp.segment_changes;

    EXECUTE format('SELECT tags_sql FROM %s ORDER BY refresh_number DESC LIMIT 1', build.statistics_table)
        INTO previous_tags;
    PERFORM @extschema@.segment_record_statistics(build, refresh_number, as_of, distribution, distribution_changed);
    -- Rules added, changed or dropped since the last refresh take effect
    -- now, like every other change of the target.
    IF previous_tags IS DISTINCT FROM @extschema@.segment_tags_sql(build.target) THEN
        PERFORM @extschema@.segment_create_target_view(build, build.target::text);
    END IF;
    PERFORM @extschema@.segment_catalog_refreshed(build.target, as_of, refresh_number, mode, customers,
                                                  orders_merged, 3);
    RETURN jsonb_build_object('target', build.target::text, 'mode', mode, 'refresh_number', refresh_number,
                              'as_of', as_of, 'orders_merged', moved, 'customers', customers,
                              'rows_written', changed + added, 'rows_removed', removed,
                              'seconds', round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));
END $fn$;

-- Rule-based tags (src/pg/builder.cpp): the target's owner adds or replaces
-- a rule; the condition is checked here and again at every refresh.
CREATE OR REPLACE FUNCTION add_segment_rule(target regclass, tag text, condition text, enabled boolean DEFAULT true)
RETURNS void AS 'MODULE_PATHNAME', 'ca_add_segment_rule' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION drop_segment_rule(target regclass, tag text)
RETURNS boolean AS 'MODULE_PATHNAME', 'ca_drop_segment_rule' LANGUAGE C VOLATILE;

-- Removes a segment table and everything the builder created for it. The
-- capture triggers can only be dropped by the source's owner; for anyone
-- else they stay, and capture nothing once the build is gone.
CREATE OR REPLACE FUNCTION drop_segments(target regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    build @extschema@.segment_builds;
    target_schema name;
    target_name name;
BEGIN
    IF target IS NULL THEN
        RAISE EXCEPTION 'drop_segments arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = drop_segments.target;
    PERFORM @extschema@.segment_catalog_forget(target);  -- checks ownership
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = build.target;
    IF build.capture_relations IS NOT NULL THEN
        PERFORM @extschema@.segment_drop_capture(
            build, build.capture_relations || @extschema@.segment_capture_tree(build.source));
    END IF;
    EXECUTE format('DROP VIEW IF EXISTS %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I, %1$I.%6$I', target_schema,
                   target_name || '_segment_sizes', target_name || '_stage_counts', target_name || '_tier_funnel',
                   target_name || '_quadrant_counts', target_name || '_migration');
    IF build.layout = 3 THEN
        EXECUTE format('DROP VIEW %s', build.target);
        EXECUTE format('DROP TABLE %s, %s, %s, %s', build.state_table, build.pending_table, build.history_table,
                       build.statistics_table);
    ELSE
        EXECUTE format('DROP TABLE %s, %s, %s, %s', build.target, build.state_table, build.pending_table,
                       build.history_table);
    END IF;
END $fn$;

-- Existing builds. A row is a real build when its tables exist and share
-- the target's owner, and its pending table has the columns the builder
-- gave it; anything else was planted (or its tables were dropped by hand)
-- and is removed. Each real build gets the column types its capture checks
-- and, when it captures orders, the 0.2.0 triggers in place of its
-- SECURITY DEFINER function.
DO $upgrade$
DECLARE
    build record;
    legacy record;
    rule record;
    owner_of_target oid;
    -- The script's search_path starts with the extension's schema, where
    -- other roles may own functions: this block runs with pg_catalog only.
    saved_path text := pg_catalog.current_setting('search_path');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOR build IN SELECT * FROM @extschema@.segment_builds LOOP
        owner_of_target := (SELECT c.relowner FROM pg_class c WHERE c.oid = build.target);
        IF owner_of_target IS NULL
           OR (SELECT count(*) FROM pg_class c
               WHERE c.oid IN (build.state_table, build.pending_table, build.history_table)
                 AND c.relowner = owner_of_target) <> 3
           OR (SELECT count(*) FROM pg_attribute a
               WHERE a.attrelid = build.pending_table AND a.attnum > 0 AND NOT a.attisdropped
                 AND a.attname IN ('customer', 'order_date', 'amount', 'kind')) <> 4
           OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = build.source) THEN
            RAISE WARNING 'customer_analytics: removing the catalog row of % (its tables are missing or belong to another role)',
                build.target::oid;
            DELETE FROM @extschema@.segment_tag_rules r WHERE r.target = build.target;
            DELETE FROM @extschema@.segment_builds b WHERE b.target = build.target;
            CONTINUE;
        END IF;
        UPDATE @extschema@.segment_builds b
        SET owner = owner_of_target::regrole,
            customer_type = (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = build.pending_table AND a.attname = 'customer'),
            date_type = (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = build.pending_table AND a.attname = 'order_date'),
            amount_type = (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = build.pending_table AND a.attname = 'amount')
        WHERE b.target = build.target;
        IF build.incremental THEN
            -- 0.1.0's capture: triggers on the source calling a SECURITY
            -- DEFINER plpgsql function of the target's owner that writes this
            -- build's pending table.
            FOR legacy IN
                SELECT t.tgname, t.tgfoid FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                WHERE t.tgrelid = build.source AND NOT t.tgisinternal AND p.prosecdef
                  AND p.proowner = owner_of_target AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'plpgsql')
                  AND position(format('INSERT INTO %s (customer, order_date, amount, kind)', build.pending_table)
                               IN p.prosrc) > 0
            LOOP
                EXECUTE format('DROP TRIGGER %I ON %s', legacy.tgname, build.source);
                IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgfoid = legacy.tgfoid) THEN
                    EXECUTE format('DROP FUNCTION %s', legacy.tgfoid::regprocedure);
                END IF;
            END LOOP;
            PERFORM @extschema@.segment_create_capture(b) FROM @extschema@.segment_builds b WHERE b.target = build.target;
        END IF;
    END LOOP;

    -- Rules: only those written by a role with the target owner's
    -- privileges are kept; a kept rule that fails the 0.2.0 checks is
    -- disabled, for its owner to fix.
    FOR rule IN SELECT * FROM @extschema@.segment_tag_rules LOOP
        IF NOT EXISTS (SELECT 1 FROM @extschema@.segment_builds b WHERE b.target = rule.target)
           OR NOT pg_has_role(rule.owner, (SELECT c.relowner FROM pg_class c WHERE c.oid = rule.target), 'USAGE') THEN
            RAISE WARNING 'customer_analytics: removing rule "%" of %, written by % who does not own it',
                rule.tag, rule.target, rule.owner;
            DELETE FROM @extschema@.segment_tag_rules r WHERE r.target = rule.target AND r.tag = rule.tag;
            CONTINUE;
        END IF;
        BEGIN
            PERFORM @extschema@.segment_rule_sql(rule.target, rule.tag, rule.condition);
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'customer_analytics: disabling rule "%" of %: %', rule.tag, rule.target, SQLERRM
                USING HINT = 'Replace it with add_segment_rule(); conditions may now use only immutable built-in functions.';
            UPDATE @extschema@.segment_tag_rules r SET enabled = false WHERE r.target = rule.target AND r.tag = rule.tag;
        END;
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', saved_path, true);
END
$upgrade$;

ALTER TABLE segment_builds
    ALTER COLUMN customer_type SET NOT NULL,
    ALTER COLUMN date_type SET NOT NULL,
    ALTER COLUMN amount_type SET NOT NULL;

-- ------------------------------------------------------ orders and purchases
--
-- rfm_agg and rfm_agg_state with an order key (bigint or text) and an
-- optional min_purchase, which group order lines into orders and apply the
-- purchase rule per order and per day; the builder's order_column and
-- min_purchase options, recorded in segment_builds with the order key's type
-- (extension/source/10_rfm_summary.sql, 40_builder.sql). Existing
-- builds have neither option and keep their row states.

-- With an order key: lines with one key are one order, and the purchase
-- rule applies to orders and days, never to lines
-- (src/core/rfm_summary_orders.hpp; README, rfm_agg). Keys are bigint or
-- text; a NULL key makes its line an order of its own; min_purchase (NULL:
-- none) is the smallest net amount of a day that has purchases. Not
-- STRICT, for those NULLs.
CREATE FUNCTION rfm_agg_transfn(internal, date, numeric, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_bigint' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, numeric, bigint, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_bigint_minimum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, numeric, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, numeric, text, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_text_minimum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_bigint' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8, bigint, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_bigint_minimum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, date, float8, text, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_text_minimum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_bigint' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, bigint, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_bigint_minimum' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, text, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_text_minimum' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_bigint' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8, bigint, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_bigint_minimum' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(internal, timestamptz, float8, text, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_text_minimum' LANGUAGE C STABLE PARALLEL SAFE;

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

-- -------------------------------------------------------------------- names
--
-- The C entry point of SQL function foo is ca_foo (with a suffix for
-- overloads served by different functions). Every function 0.1.0 created
-- under another symbol points at its new one; the library still exports
-- the 0.1.0 names as aliases (src/pg/symbols_0_1_0.cpp), so databases on
-- 0.1.0 keep working until they are updated. scripts/c_symbols.py changes
-- extension/customer_analytics--0.1.0.sql extension/source/*.sql lists
-- these statements.

CREATE OR REPLACE FUNCTION rfm_agg_transfn(internal, date, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_agg_transfn(internal, date, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_agg_transfn(internal, timestamptz, numeric) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_agg_transfn(internal, timestamptz, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_agg_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_agg_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_agg_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_agg_finalfn(internal) RETURNS rfm_summary
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_state_merge_transfn(internal, bytea) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_state_merge_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_bins_transfn(internal, rfm_summary, date, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_bins_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_bins_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_bins_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_bins_transfn(internal, rfm_summary, date) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION rfm_bins_finalfn(internal) RETURNS rfm_bins
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION recency_score(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_recency_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION frequency_score(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_frequency_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION monetary_score(rfm_score) RETURNS integer
    AS 'MODULE_PATHNAME', 'ca_monetary_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION btyd_fit_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION btyd_fit_transfn(internal, float8, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION btyd_fit_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION btyd_fit_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION btyd_fit_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION bgnbd_fit_finalfn(internal) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_fit_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_nbd_fit_finalfn(internal) RETURNS pareto_nbd_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_fit_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gamma_gamma_fit_transfn(internal, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gamma_gamma_fit_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gamma_gamma_fit_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gamma_gamma_fit_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gamma_gamma_fit_finalfn(internal) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION clv(model bgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                    periods integer, discount_rate float8, period_length float8 DEFAULT 1) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_clv_bgnbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION clv(model pareto_nbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                    periods integer, discount_rate float8, period_length float8 DEFAULT 1) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_clv_pareto_nbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION value_band(spend float8, cuts float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_value_band_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION activity_status_transfn(internal, date, text, date) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_status_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION activity_status_transfn(internal, date, text, date, integer, integer, integer, integer)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_status_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION activity_status_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_status_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION activity_status_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_activity_status_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION activity_status_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_activity_status_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION activity_status_finalfn(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_activity_status_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION coupon_sensitivity_transfn(internal, float8, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION coupon_sensitivity_transfn(internal, float8, boolean, float8[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION coupon_sensitivity_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION coupon_sensitivity_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION coupon_sensitivity_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION coupon_sensitivity_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION purchase_mix_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION purchase_mix_transfn(internal, boolean, boolean, float8, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION purchase_mix_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION purchase_mix_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION purchase_mix_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION purchase_mix_finalfn(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION channel_preference_transfn(internal, text, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_preference_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION channel_preference_transfn(internal, text, boolean, float8, float8, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_preference_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION channel_preference_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_preference_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION channel_preference_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_channel_preference_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION channel_preference_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_channel_preference_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION channel_preference_finalfn(internal) RETURNS channel_choice
    AS 'MODULE_PATHNAME', 'ca_channel_preference_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_spend_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_pareto_spend_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_spend_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_pareto_spend_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_spend_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_pareto_spend_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gini_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_gini_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION gini_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_gini_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_share_transfn(internal, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_pareto_share_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_share_finalfn(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_share_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION lorenz_curve_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION lorenz_curve_transfn(internal, float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_transfn_segments' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION lorenz_curve_finalfn(internal) RETURNS lorenz_point[]
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_tier_thresholds_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_tier_thresholds_transfn(internal, float8, float8[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_transfn_fractions' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION pareto_tier_thresholds_finalfn(internal) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION value_band_cuts_transfn(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION value_band_cuts_finalfn(internal) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION kmeans_fit_transfn(internal, float8[], integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION kmeans_fit_transfn(internal, float8[], integer, integer, integer, bigint, boolean, float8)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION kmeans_fit_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION kmeans_fit_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION kmeans_fit_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION kmeans_fit_finalfn(internal) RETURNS kmeans_model
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION affinity_transfn(internal, text[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION affinity_transfn(internal, text[], float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION affinity_transfn(internal, text[], float8, integer, bigint, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION affinity_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION affinity_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_affinity_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION affinity_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_affinity_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION affinity_finalfn(internal) RETURNS affinity_pair[]
    AS 'MODULE_PATHNAME', 'ca_affinity_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segment_overlap(x bigint, y bigint, xy bigint, n bigint) RETURNS overlap_stats
    AS 'MODULE_PATHNAME', 'ca_segment_overlap' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segment_overlap_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segment_overlap_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segment_overlap_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segment_overlap_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION segment_overlap_finalfn(internal) RETURNS overlap_stats
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION campaign_report_transfn(internal, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION campaign_report_transfn(internal, boolean, boolean, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION campaign_report_transfn(internal, boolean, boolean, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION campaign_report_combinefn(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_report_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION campaign_report_serialfn(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_campaign_report_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION campaign_report_deserialfn(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ca_campaign_report_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION campaign_report_finalfn(internal) RETURNS campaign_report
    AS 'MODULE_PATHNAME', 'ca_campaign_report_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- ------------------------------------------------------------ bulk summaries

-- rfm_summaries and rfm_segments: the per-customer summaries (and scores)
-- of a whole table, computed by reading it directly (new in 0.2.0;
-- extension/source/17_rfm_summaries.sql).
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

-- -------------------------------------------------- aggregate state type
--
-- Every aggregate of the extension gets the state type
-- analytics_state instead of internal, so that Citus runs it as partial
-- aggregates on the workers and a combine on the coordinator (it ships the
-- states as this type's text); extension/source/05_analytics_state.sql. The
-- aggregates are replaced in place (CREATE OR REPLACE AGGREGATE keeps their
-- OIDs, so views over them stay), then the functions of the internal states
-- are dropped: a fresh install has neither them nor serialize/deserialize
-- functions for these aggregates.
CREATE TYPE analytics_state;
CREATE FUNCTION analytics_state_in(cstring) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_analytics_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION analytics_state_out(analytics_state) RETURNS cstring
    AS 'MODULE_PATHNAME', 'ca_analytics_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE analytics_state (
    INPUT = analytics_state_in, OUTPUT = analytics_state_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = extended);

-- The Pareto family (extension/source/51_pareto.sql).
CREATE FUNCTION pareto_spend_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_pareto_spend_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gini_transfn(analytics_state, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_gini_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gini_finalfn(analytics_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_gini_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE gini(spend float8) (
    SFUNC = gini_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = gini_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION pareto_share_transfn(analytics_state, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_pareto_share_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_share_finalfn(analytics_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_pareto_share_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE pareto_share(spend float8, top_fraction float8) (
    SFUNC = pareto_share_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = pareto_share_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION lorenz_curve_transfn(analytics_state, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lorenz_curve_transfn(analytics_state, float8, integer) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_transfn_segments_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lorenz_curve_finalfn(analytics_state) RETURNS lorenz_point[]
    AS 'MODULE_PATHNAME', 'ca_lorenz_curve_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE lorenz_curve(spend float8) (
    SFUNC = lorenz_curve_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = lorenz_curve_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE lorenz_curve(spend float8, segments integer) (
    SFUNC = lorenz_curve_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = lorenz_curve_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION pareto_tier_thresholds_transfn(analytics_state, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_tier_thresholds_transfn(analytics_state, float8, float8[]) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_transfn_fractions_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_tier_thresholds_finalfn(analytics_state) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_pareto_tier_thresholds_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE pareto_tier_thresholds(spend float8) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = pareto_tier_thresholds_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE pareto_tier_thresholds(spend float8, top_fractions float8[]) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = pareto_tier_thresholds_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION value_band_cuts_transfn(analytics_state, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION value_band_cuts_finalfn(analytics_state) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ca_value_band_cuts_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE value_band_cuts(spend float8) (
    SFUNC = value_band_cuts_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = value_band_cuts_finalfn, COMBINEFUNC = pareto_spend_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION pareto_spend_combinefn(internal, internal);
DROP FUNCTION gini_transfn(internal, float8);
DROP FUNCTION gini_finalfn(internal);
DROP FUNCTION pareto_share_transfn(internal, float8, float8);
DROP FUNCTION pareto_share_finalfn(internal);
DROP FUNCTION lorenz_curve_transfn(internal, float8);
DROP FUNCTION lorenz_curve_transfn(internal, float8, integer);
DROP FUNCTION lorenz_curve_finalfn(internal);
DROP FUNCTION pareto_tier_thresholds_transfn(internal, float8);
DROP FUNCTION pareto_tier_thresholds_transfn(internal, float8, float8[]);
DROP FUNCTION pareto_tier_thresholds_finalfn(internal);
DROP FUNCTION value_band_cuts_transfn(internal, float8);
DROP FUNCTION value_band_cuts_finalfn(internal);
DROP FUNCTION pareto_spend_serialfn(internal);
DROP FUNCTION pareto_spend_deserialfn(bytea, internal);

-- rfm_agg, rfm_agg_state and rfm_state_merge (extension/source/10_rfm_summary.sql).
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_serialfn(analytics_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_serialfn_state' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_agg_finalfn(analytics_state) RETURNS rfm_summary
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_bigint_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric, bigint, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_bigint_minimum_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_text_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, numeric, text, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_numeric_text_minimum_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_bigint_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8, bigint, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_bigint_minimum_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_text_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, date, float8, text, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_date_float8_text_minimum_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_bigint_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric, bigint, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_bigint_minimum_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_text_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, numeric, text, numeric) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_numeric_text_minimum_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_bigint_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8, bigint, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_bigint_minimum_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_text_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_transfn(analytics_state, timestamptz, float8, text, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_agg_transfn_timestamptz_float8_text_minimum_state' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_date date, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg(order_time timestamptz, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_finalfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_date date, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key bigint, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount numeric, order_key text, min_purchase numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key bigint, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key text) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_agg_state(order_time timestamptz, amount float8, order_key text, min_purchase float8) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, SSPACE = 464,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION rfm_state_merge_transfn(analytics_state, bytea) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_state_merge_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE rfm_state_merge(state bytea) (
    SFUNC = rfm_state_merge_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = rfm_agg_serialfn, COMBINEFUNC = rfm_agg_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION rfm_agg_transfn(internal, date, numeric);
DROP FUNCTION rfm_agg_transfn(internal, date, float8);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, numeric);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, float8);
DROP FUNCTION rfm_agg_combinefn(internal, internal);
DROP FUNCTION rfm_agg_serialfn(internal);
DROP FUNCTION rfm_agg_finalfn(internal);
DROP FUNCTION rfm_agg_transfn(internal, date, numeric, bigint);
DROP FUNCTION rfm_agg_transfn(internal, date, numeric, bigint, numeric);
DROP FUNCTION rfm_agg_transfn(internal, date, numeric, text);
DROP FUNCTION rfm_agg_transfn(internal, date, numeric, text, numeric);
DROP FUNCTION rfm_agg_transfn(internal, date, float8, bigint);
DROP FUNCTION rfm_agg_transfn(internal, date, float8, bigint, float8);
DROP FUNCTION rfm_agg_transfn(internal, date, float8, text);
DROP FUNCTION rfm_agg_transfn(internal, date, float8, text, float8);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, bigint);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, bigint, numeric);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, text);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, numeric, text, numeric);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, float8, bigint);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, float8, bigint, float8);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, float8, text);
DROP FUNCTION rfm_agg_transfn(internal, timestamptz, float8, text, float8);
DROP FUNCTION rfm_state_merge_transfn(internal, bytea);
DROP FUNCTION rfm_agg_deserialfn(bytea, internal);

-- rfm_bins (extension/source/11_rfm_bins.sql).
CREATE FUNCTION rfm_bins_transfn(analytics_state, rfm_summary, date, integer) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_bins_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_bins_transfn(analytics_state, rfm_summary, date) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_bins_finalfn(analytics_state) RETURNS rfm_bins
    AS 'MODULE_PATHNAME', 'ca_rfm_bins_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE rfm_bins(summary rfm_summary, as_of date, buckets integer) (
    SFUNC = rfm_bins_transfn, STYPE = analytics_state, SSPACE = 88,
    FINALFUNC = rfm_bins_finalfn, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = rfm_bins_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE rfm_bins(summary rfm_summary, as_of date) (
    SFUNC = rfm_bins_transfn, STYPE = analytics_state, SSPACE = 88,
    FINALFUNC = rfm_bins_finalfn, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = rfm_bins_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION rfm_bins_transfn(internal, rfm_summary, date, integer);
DROP FUNCTION rfm_bins_combinefn(internal, internal);
DROP FUNCTION rfm_bins_transfn(internal, rfm_summary, date);
DROP FUNCTION rfm_bins_finalfn(internal);
DROP FUNCTION rfm_bins_serialfn(internal);
DROP FUNCTION rfm_bins_deserialfn(bytea, internal);

-- kmeans_fit (extension/source/52_kmeans.sql).
CREATE FUNCTION kmeans_fit_transfn(analytics_state, float8[], integer) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_transfn(analytics_state, float8[], integer, integer, integer, bigint, boolean, float8)
    RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_fit_finalfn(analytics_state) RETURNS kmeans_model
    AS 'MODULE_PATHNAME', 'ca_kmeans_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE kmeans_fit(features float8[], k integer) (
    SFUNC = kmeans_fit_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = kmeans_fit_finalfn, COMBINEFUNC = kmeans_fit_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE kmeans_fit(features float8[], k integer, max_iterations integer, n_init integer, seed bigint,
                            standardize boolean, tolerance float8) (
    SFUNC = kmeans_fit_transfn, STYPE = analytics_state, SSPACE = 160,
    FINALFUNC = kmeans_fit_finalfn, COMBINEFUNC = kmeans_fit_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION kmeans_fit_transfn(internal, float8[], integer);
DROP FUNCTION kmeans_fit_transfn(internal, float8[], integer, integer, integer, bigint, boolean, float8);
DROP FUNCTION kmeans_fit_combinefn(internal, internal);
DROP FUNCTION kmeans_fit_finalfn(internal);
DROP FUNCTION kmeans_fit_serialfn(internal);
DROP FUNCTION kmeans_fit_deserialfn(bytea, internal);

-- segment_overlap (extension/source/53_affinity.sql).
CREATE FUNCTION segment_overlap_transfn(analytics_state, boolean, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_overlap_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_overlap_finalfn(analytics_state) RETURNS overlap_stats
    AS 'MODULE_PATHNAME', 'ca_segment_overlap_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE segment_overlap(in_x boolean, in_y boolean) (
    SFUNC = segment_overlap_transfn, STYPE = analytics_state, SSPACE = 96,
    FINALFUNC = segment_overlap_finalfn, COMBINEFUNC = segment_overlap_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION segment_overlap_transfn(internal, boolean, boolean);
DROP FUNCTION segment_overlap_combinefn(internal, internal);
DROP FUNCTION segment_overlap_finalfn(internal);
DROP FUNCTION segment_overlap_serialfn(internal);
DROP FUNCTION segment_overlap_deserialfn(bytea, internal);

-- campaign_report (extension/source/54_campaign.sql).
CREATE FUNCTION campaign_report_transfn(analytics_state, boolean, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_transfn(analytics_state, boolean, boolean, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_transfn(analytics_state, boolean, boolean, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_campaign_report_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_campaign_report_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION campaign_report_finalfn(analytics_state) RETURNS campaign_report
    AS 'MODULE_PATHNAME', 'ca_campaign_report_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE campaign_report(in_holdout boolean, responded boolean) (
    SFUNC = campaign_report_transfn, STYPE = analytics_state, SSPACE = 144,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE campaign_report(in_holdout boolean, responded boolean, revenue float8) (
    SFUNC = campaign_report_transfn, STYPE = analytics_state, SSPACE = 144,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE campaign_report(in_holdout boolean, responded boolean, revenue float8, confidence float8,
                                 cost float8) (
    SFUNC = campaign_report_transfn, STYPE = analytics_state, SSPACE = 144,
    FINALFUNC = campaign_report_finalfn, COMBINEFUNC = campaign_report_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION campaign_report_transfn(internal, boolean, boolean);
DROP FUNCTION campaign_report_transfn(internal, boolean, boolean, float8);
DROP FUNCTION campaign_report_transfn(internal, boolean, boolean, float8, float8, float8);
DROP FUNCTION campaign_report_combinefn(internal, internal);
DROP FUNCTION campaign_report_finalfn(internal);
DROP FUNCTION campaign_report_serialfn(internal);
DROP FUNCTION campaign_report_deserialfn(bytea, internal);

-- activity_status, coupon_sensitivity and purchase_mix (extension/source/50_tags.sql).
CREATE FUNCTION activity_status_transfn(analytics_state, date, text, date) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_activity_status_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_transfn(analytics_state, date, text, date, integer, integer, integer, integer)
    RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_activity_status_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_activity_status_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION activity_status_finalfn(analytics_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_activity_status_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE activity_status(event_date date, kind text, as_of date) (
    SFUNC = activity_status_transfn, STYPE = analytics_state, SSPACE = 176,
    FINALFUNC = activity_status_finalfn, COMBINEFUNC = activity_status_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE activity_status(event_date date, kind text, as_of date, recent_days integer,
                                 min_recent_events integer, min_recent_qualifying integer,
                                 inactive_days integer) (
    SFUNC = activity_status_transfn, STYPE = analytics_state, SSPACE = 176,
    FINALFUNC = activity_status_finalfn, COMBINEFUNC = activity_status_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION coupon_sensitivity_transfn(analytics_state, float8, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_transfn(analytics_state, float8, boolean, float8[]) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION coupon_sensitivity_finalfn(analytics_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_coupon_sensitivity_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE coupon_sensitivity(value float8, redeemed boolean) (
    SFUNC = coupon_sensitivity_transfn, STYPE = analytics_state, SSPACE = 128,
    FINALFUNC = coupon_sensitivity_finalfn, COMBINEFUNC = coupon_sensitivity_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE coupon_sensitivity(value float8, redeemed boolean, ladder float8[]) (
    SFUNC = coupon_sensitivity_transfn, STYPE = analytics_state, SSPACE = 128,
    FINALFUNC = coupon_sensitivity_finalfn, COMBINEFUNC = coupon_sensitivity_combinefn,
    PARALLEL = SAFE);
CREATE FUNCTION purchase_mix_transfn(analytics_state, boolean, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_transfn(analytics_state, boolean, boolean, float8, float8, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION purchase_mix_finalfn(analytics_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ca_purchase_mix_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE purchase_mix(discounted boolean, new_item boolean) (
    SFUNC = purchase_mix_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = purchase_mix_finalfn, COMBINEFUNC = purchase_mix_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE purchase_mix(discounted boolean, new_item boolean, discount_share_cutoff float8,
                              new_item_share_cutoff float8, min_lines bigint) (
    SFUNC = purchase_mix_transfn, STYPE = analytics_state, SSPACE = 112,
    FINALFUNC = purchase_mix_finalfn, COMBINEFUNC = purchase_mix_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION activity_status_transfn(internal, date, text, date);
DROP FUNCTION activity_status_transfn(internal, date, text, date, integer, integer, integer, integer);
DROP FUNCTION activity_status_combinefn(internal, internal);
DROP FUNCTION activity_status_finalfn(internal);
DROP FUNCTION coupon_sensitivity_transfn(internal, float8, boolean);
DROP FUNCTION coupon_sensitivity_transfn(internal, float8, boolean, float8[]);
DROP FUNCTION coupon_sensitivity_combinefn(internal, internal);
DROP FUNCTION coupon_sensitivity_finalfn(internal);
DROP FUNCTION purchase_mix_transfn(internal, boolean, boolean);
DROP FUNCTION purchase_mix_transfn(internal, boolean, boolean, float8, float8, bigint);
DROP FUNCTION purchase_mix_combinefn(internal, internal);
DROP FUNCTION purchase_mix_finalfn(internal);
DROP FUNCTION activity_status_serialfn(internal);
DROP FUNCTION activity_status_deserialfn(bytea, internal);
DROP FUNCTION coupon_sensitivity_serialfn(internal);
DROP FUNCTION coupon_sensitivity_deserialfn(bytea, internal);
DROP FUNCTION purchase_mix_serialfn(internal);
DROP FUNCTION purchase_mix_deserialfn(bytea, internal);

-- bgnbd_fit, pareto_nbd_fit and gamma_gamma_fit (extension/source/30_btyd.sql).
CREATE FUNCTION btyd_fit_transfn(analytics_state, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_fit_transfn(analytics_state, float8, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_finalfn(analytics_state) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_finalfn(analytics_state) RETURNS pareto_nbd_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE bgnbd_fit(x float8, t_x float8, t_cal float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = bgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE bgnbd_fit(x float8, t_x float8, t_cal float8, l2_penalty float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = bgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE pareto_nbd_fit(x float8, t_x float8, t_cal float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = pareto_nbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE pareto_nbd_fit(x float8, t_x float8, t_cal float8, l2_penalty float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = pareto_nbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE FUNCTION gamma_gamma_fit_transfn(analytics_state, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(analytics_state, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_finalfn(analytics_state) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'ca_gamma_gamma_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE gamma_gamma_fit(x float8, mean_spend float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = analytics_state, FINALFUNC = gamma_gamma_fit_finalfn,
    COMBINEFUNC = gamma_gamma_fit_combinefn, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE gamma_gamma_fit(x float8, mean_spend float8, l2_penalty float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = analytics_state, FINALFUNC = gamma_gamma_fit_finalfn,
    COMBINEFUNC = gamma_gamma_fit_combinefn, PARALLEL = SAFE);
DROP FUNCTION btyd_fit_transfn(internal, float8, float8, float8);
DROP FUNCTION btyd_fit_transfn(internal, float8, float8, float8, float8);
DROP FUNCTION btyd_fit_combinefn(internal, internal);
DROP FUNCTION bgnbd_fit_finalfn(internal);
DROP FUNCTION pareto_nbd_fit_finalfn(internal);
DROP FUNCTION gamma_gamma_fit_transfn(internal, float8, float8);
DROP FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8);
DROP FUNCTION gamma_gamma_fit_combinefn(internal, internal);
DROP FUNCTION gamma_gamma_fit_finalfn(internal);
DROP FUNCTION btyd_fit_serialfn(internal);
DROP FUNCTION btyd_fit_deserialfn(bytea, internal);
DROP FUNCTION gamma_gamma_fit_serialfn(internal);
DROP FUNCTION gamma_gamma_fit_deserialfn(bytea, internal);

-- affinity (extension/source/53_affinity.sql).
CREATE FUNCTION affinity_transfn(analytics_state, text[]) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_transfn(analytics_state, text[], float8, integer) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_transfn(analytics_state, text[], float8, integer, bigint, text) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_affinity_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_affinity_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION affinity_finalfn(analytics_state) RETURNS affinity_pair[]
    AS 'MODULE_PATHNAME', 'ca_affinity_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE affinity(items text[]) (
    SFUNC = affinity_transfn, STYPE = analytics_state, SSPACE = 1088,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE affinity(items text[], min_support float8, top_n integer) (
    SFUNC = affinity_transfn, STYPE = analytics_state, SSPACE = 1088,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE affinity(items text[], min_support float8, top_n integer, min_count bigint, order_by text) (
    SFUNC = affinity_transfn, STYPE = analytics_state, SSPACE = 1088,
    FINALFUNC = affinity_finalfn, COMBINEFUNC = affinity_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION affinity_transfn(internal, text[]);
DROP FUNCTION affinity_transfn(internal, text[], float8, integer);
DROP FUNCTION affinity_transfn(internal, text[], float8, integer, bigint, text);
DROP FUNCTION affinity_combinefn(internal, internal);
DROP FUNCTION affinity_finalfn(internal);
DROP FUNCTION affinity_serialfn(internal);
DROP FUNCTION affinity_deserialfn(bytea, internal);

-- channel_preference (extension/source/50_tags.sql).
CREATE FUNCTION channel_preference_transfn(analytics_state, text, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_channel_preference_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_transfn(analytics_state, text, boolean, float8, float8, bigint) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_channel_preference_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_channel_preference_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION channel_preference_finalfn(analytics_state) RETURNS channel_choice
    AS 'MODULE_PATHNAME', 'ca_channel_preference_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE channel_preference(channel text, responded boolean) (
    SFUNC = channel_preference_transfn, STYPE = analytics_state, SSPACE = 192,
    FINALFUNC = channel_preference_finalfn, COMBINEFUNC = channel_preference_combinefn,
    PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE channel_preference(channel text, responded boolean, prior_rate float8, prior_weight float8,
                                    min_contacts bigint) (
    SFUNC = channel_preference_transfn, STYPE = analytics_state, SSPACE = 192,
    FINALFUNC = channel_preference_finalfn, COMBINEFUNC = channel_preference_combinefn,
    PARALLEL = SAFE);
DROP FUNCTION channel_preference_transfn(internal, text, boolean);
DROP FUNCTION channel_preference_transfn(internal, text, boolean, float8, float8, bigint);
DROP FUNCTION channel_preference_combinefn(internal, internal);
DROP FUNCTION channel_preference_finalfn(internal);
DROP FUNCTION channel_preference_serialfn(internal);
DROP FUNCTION channel_preference_deserialfn(bytea, internal);

-- ------------------------------------------------------------- btyd models
-- pareto_nbd_model names the limit of the parameter space a fit without a
-- proper maximum runs to ('no dropout', 'homogeneous dropout',
-- 'homogeneous purchase'; NULL for an interior estimate).
ALTER TYPE pareto_nbd_model ADD ATTRIBUTE boundary text;

-- Standard errors of the parameters (delta method, from the inverse observed
-- information of the log-likelihood at the estimate) and the covariance of
-- the log-parameters (d x d, row-major), on every model type of a fit; NULL
-- unless the fit converged, and for a model built from stored parameters.
ALTER TYPE bgnbd_model ADD ATTRIBUTE standard_errors float8[], ADD ATTRIBUTE covariance float8[];
ALTER TYPE pareto_nbd_model ADD ATTRIBUTE standard_errors float8[], ADD ATTRIBUTE covariance float8[];
ALTER TYPE gamma_gamma_model ADD ATTRIBUTE standard_errors float8[], ADD ATTRIBUTE covariance float8[];

-- New models: MBG/NBD, BG/BB and sBG (extension/source/30_btyd.sql).

-- MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may
-- also drop out right after the first purchase. Same data as bgnbd_fit (and
-- the same aggregate state).
CREATE TYPE mbgnbd_model AS (
    r float8, alpha float8, a float8, b float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE FUNCTION mbgnbd_model(r float8, alpha float8, a float8, b float8) RETURNS mbgnbd_model
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_fit_finalfn(analytics_state) RETURNS mbgnbd_model
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE mbgnbd_fit(x float8, t_x float8, t_cal float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = mbgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE mbgnbd_fit(x float8, t_x float8, t_cal float8, l2_penalty float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, FINALFUNC = mbgnbd_fit_finalfn,
    COMBINEFUNC = btyd_fit_combinefn, PARALLEL = SAFE);
CREATE FUNCTION mbgnbd_p_alive(model mbgnbd_model, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_expected(model mbgnbd_model, t float8, x float8, t_x float8, t_cal float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_expected' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_expected(model mbgnbd_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_expected_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_repurchase_score(model mbgnbd_model, t float8, x float8, t_x float8, t_cal float8)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_mbgnbd_repurchase_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv(model mbgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                    periods integer, discount_rate float8, period_length float8 DEFAULT 1) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_clv_mbgnbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- BG/BB (Fader, Hardie & Shang 2010): discrete-time non-contractual. A
-- customer is (x, t_x, n): x transactions at n opportunities (years,
-- events), the last at opportunity t_x (0 when x = 0); integers with
-- 0 <= x <= t_x <= n.
CREATE TYPE bgbb_model AS (
    alpha float8, beta float8, gamma float8, delta float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE FUNCTION bgbb_model(alpha float8, beta float8, gamma float8, delta float8) RETURNS bgbb_model
    AS 'MODULE_PATHNAME', 'ca_bgbb_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgbb_fit_transfn(analytics_state, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_bgbb_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgbb_fit_transfn(analytics_state, float8, float8, float8, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_bgbb_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgbb_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_bgbb_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgbb_fit_finalfn(analytics_state) RETURNS bgbb_model
    AS 'MODULE_PATHNAME', 'ca_bgbb_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE bgbb_fit(x float8, t_x float8, n float8) (
    SFUNC = bgbb_fit_transfn, STYPE = analytics_state, FINALFUNC = bgbb_fit_finalfn,
    COMBINEFUNC = bgbb_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE bgbb_fit(x float8, t_x float8, n float8, l2_penalty float8) (
    SFUNC = bgbb_fit_transfn, STYPE = analytics_state, FINALFUNC = bgbb_fit_finalfn,
    COMBINEFUNC = bgbb_fit_combinefn, PARALLEL = SAFE);
-- P(alive at opportunity n + 1); expected transactions at the next n_star
-- opportunities; a new customer's at the first n; P(X(n) = x).
CREATE FUNCTION bgbb_p_alive(model bgbb_model, x float8, t_x float8, n float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgbb_p_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgbb_expected(model bgbb_model, n_star float8, x float8, t_x float8, n float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgbb_expected' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgbb_expected(model bgbb_model, n float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgbb_expected_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgbb_probability(model bgbb_model, x float8, n float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_bgbb_probability' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- sBG (Fader & Hardie 2007): contractual retention. A customer is (t,
-- churned): cancelled in period t >= 1, or still active after t periods.
CREATE TYPE sbg_model AS (
    alpha float8, beta float8,
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE FUNCTION sbg_model(alpha float8, beta float8) RETURNS sbg_model
    AS 'MODULE_PATHNAME', 'ca_sbg_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_fit_transfn(analytics_state, float8, boolean) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_sbg_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION sbg_fit_transfn(analytics_state, float8, boolean, float8) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_sbg_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION sbg_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_sbg_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION sbg_fit_finalfn(analytics_state) RETURNS sbg_model
    AS 'MODULE_PATHNAME', 'ca_sbg_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE sbg_fit(t float8, churned boolean) (
    SFUNC = sbg_fit_transfn, STYPE = analytics_state, FINALFUNC = sbg_fit_finalfn,
    COMBINEFUNC = sbg_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE sbg_fit(t float8, churned boolean, l2_penalty float8) (
    SFUNC = sbg_fit_transfn, STYPE = analytics_state, FINALFUNC = sbg_fit_finalfn,
    COMBINEFUNC = sbg_fit_combinefn, PARALLEL = SAFE);
-- S(t): share active after t periods; r(t): retention rate of period t;
-- DERL: discounted expected residual lifetime (future payments, one per
-- period, the next undiscounted) of a customer who has made `renewals`
-- renewals, at the next renewal decision.
CREATE FUNCTION sbg_survival(model sbg_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_sbg_survival' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_retention(model sbg_model, t float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_sbg_retention' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_derl(model sbg_model, renewals float8, discount_rate float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ca_sbg_derl' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Covariates: bgnbd_cov_fit, pareto_nbd_cov_fit (extension/source/30_btyd.sql).

-- Time-invariant covariates (Fader & Hardie 2007; CLVTools' parametrisation):
-- each customer has the same number k of covariates z (1 to 20); alpha_i =
-- alpha exp(-gamma_purchase' z) in both models, b_i = b exp(-gamma_dropout'
-- z) (BG/NBD) and beta_i = beta exp(-gamma_dropout' z) (Pareto/NBD): a
-- positive coefficient raises the mean purchase (dropout) rate by exp(gamma)
-- per unit. bgnbd_model(model, z) and pareto_nbd_model(model, z) are the
-- customer's own models, for every prediction function.
-- standard_errors: of r, alpha, a|s, b|beta (delta method), then of the
-- coefficients gamma_purchase and gamma_dropout; covariance: of (log r,
-- log alpha, log a|s, log b|beta, gamma_purchase, gamma_dropout), (4 + 2k)^2
-- row-major; both NULL unless converged.
CREATE TYPE bgnbd_cov_model AS (
    r float8, alpha float8, a float8, b float8, gamma_purchase float8[], gamma_dropout float8[],
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE TYPE pareto_nbd_cov_model AS (
    r float8, alpha float8, s float8, beta float8, gamma_purchase float8[], gamma_dropout float8[],
    log_likelihood float8, customers bigint, converged boolean, iterations integer,
    standard_errors float8[], covariance float8[]
);
CREATE FUNCTION btyd_cov_fit_transfn(analytics_state, float8, float8, float8, float8[]) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_cov_fit_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION btyd_cov_fit_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_btyd_cov_fit_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_cov_fit_finalfn(analytics_state) RETURNS bgnbd_cov_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_cov_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_cov_fit_finalfn(analytics_state) RETURNS pareto_nbd_cov_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_cov_fit_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE bgnbd_cov_fit(x float8, t_x float8, t_cal float8, covariates float8[]) (
    SFUNC = btyd_cov_fit_transfn, STYPE = analytics_state, FINALFUNC = bgnbd_cov_fit_finalfn,
    COMBINEFUNC = btyd_cov_fit_combinefn, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_cov_fit(x float8, t_x float8, t_cal float8, covariates float8[]) (
    SFUNC = btyd_cov_fit_transfn, STYPE = analytics_state, FINALFUNC = pareto_nbd_cov_fit_finalfn,
    COMBINEFUNC = btyd_cov_fit_combinefn, PARALLEL = SAFE);
CREATE FUNCTION bgnbd_model(model bgnbd_cov_model, covariates float8[]) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'ca_bgnbd_model_covariates' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_model(model pareto_nbd_cov_model, covariates float8[]) RETURNS pareto_nbd_model
    AS 'MODULE_PATHNAME', 'ca_pareto_nbd_model_covariates' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------- btyd models: uncertainty
-- clv_interval (extension/source/30_btyd.sql).
-- A prediction interval of a customer's CLV (clv above) for the
-- uncertainty of the fitted parameters: a parametric bootstrap drawing
-- `draws` log-parameter vectors from the normal distribution with the fit's
-- estimate and covariance, the (1 - level)/2 and (1 + level)/2 quantiles of
-- the CLV at them, and the CLV at the estimate. Deterministic for a seed;
-- 1 <= draws <= 100000 and 0 < level < 1 (else 22023); the model must come
-- from a fit that converged (its covariance field, else 22023). Cancellable.
CREATE FUNCTION clv_interval(model bgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                             periods integer, discount_rate float8, period_length float8 DEFAULT 1,
                             draws integer DEFAULT 1000, level float8 DEFAULT 0.9, seed bigint DEFAULT 0,
                             OUT estimate float8, OUT lower float8, OUT upper float8) RETURNS record
    AS 'MODULE_PATHNAME', 'ca_clv_interval_bgnbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_interval(model pareto_nbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                             periods integer, discount_rate float8, period_length float8 DEFAULT 1,
                             draws integer DEFAULT 1000, level float8 DEFAULT 0.9, seed bigint DEFAULT 0,
                             OUT estimate float8, OUT lower float8, OUT upper float8) RETURNS record
    AS 'MODULE_PATHNAME', 'ca_clv_interval_pareto_nbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_interval(model mbgnbd_model, x float8, t_x float8, t_cal float8, expected_spend float8,
                             periods integer, discount_rate float8, period_length float8 DEFAULT 1,
                             draws integer DEFAULT 1000, level float8 DEFAULT 0.9, seed bigint DEFAULT 0,
                             OUT estimate float8, OUT lower float8, OUT upper float8) RETURNS record
    AS 'MODULE_PATHNAME', 'ca_clv_interval_mbgnbd' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------ btyd models: calibration
-- btyd_calibration, btyd_tracking (extension/source/30_btyd.sql).
-- Calibration against a holdout period (the checks of Fader, Hardie & Lee
-- 2005): the model is fitted on the customers whose first purchase is on or
-- before cal_end, from their purchases up to cal_end, and compared with what
-- they did in (cal_end, holdout_end]. A purchase day is a day with a row of
-- non-negative amount (as rfm_agg without an order key counts them); rows
-- with a NULL customer, date or amount are skipped. model: 'bgnbd',
-- 'pareto_nbd' or 'mbgnbd'; unit as in btyd_inputs.
--
-- btyd_calibration: per frequency (repeat purchases in calibration; the
-- last bucket, max_frequency, holds every customer with at least that many)
-- the customers, their mean predicted purchase days in the holdout (the
-- conditional expectation *_expected(model, holdout length, x, t_x, t_cal))
-- and their mean actual ones.
CREATE FUNCTION btyd_holdout_query(source regclass, customer_column name, date_column name, amount_column name,
                                   model text, tracking boolean)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ext text := @extschema@.segment_schema();
BEGIN
    IF source IS NULL OR customer_column IS NULL OR date_column IS NULL OR amount_column IS NULL OR model IS NULL THEN
        RAISE EXCEPTION 'source, column names and model must not be null' USING ERRCODE = '22004';
    END IF;
    IF model NOT IN ('bgnbd', 'pareto_nbd', 'mbgnbd') THEN
        RAISE EXCEPTION 'model must be ''bgnbd'', ''pareto_nbd'' or ''mbgnbd'''
            USING ERRCODE = '22023', DETAIL = format('The model given was %s.', left(quote_literal(model), 40));
    END IF;
    -- $1 cal_end, $2 holdout_end, $3 unit, $4 max_frequency; the
    -- identifiers are quoted and the model name is one of three. Every call
    -- of the extension's functions passes exactly their argument types
    -- (1::bigint), so no closer overload another role created in the
    -- extension's schema is chosen and run with the caller's rights.
    RETURN format($q$
        WITH lines AS (
            SELECT %3$I AS customer, %4$I::date AS day FROM %2$s
            WHERE %3$I IS NOT NULL AND %4$I IS NOT NULL AND %5$I >= 0 AND %4$I::date <= $2
        ), days AS (
            SELECT DISTINCT customer, day FROM lines
        ), firsts AS (
            SELECT customer, min(day) AS first FROM days GROUP BY customer HAVING min(day) <= $1
        ), cal AS (
            SELECT customer, %1$s.btyd_inputs(min(f.first), max(d.day), count(*), $1, $3) AS i
            FROM days d JOIN firsts f USING (customer) WHERE d.day <= $1 GROUP BY customer
        ), fitted AS MATERIALIZED (
            SELECT %1$s.%6$s_fit((i).x, (i).t_x, (i).t_cal) AS m,
                   (%1$s.btyd_inputs($1, $1, 1::bigint, $2, $3)).t_cal AS horizon FROM cal
        )$q$, ext, source, customer_column, date_column, amount_column, model)
    || CASE WHEN NOT tracking THEN format($q$
        , holdout AS (
            SELECT customer, count(*) AS purchases FROM days WHERE day > $1 GROUP BY customer
        ), per_customer AS (
            SELECT least((c.i).x, $4)::integer AS frequency,
                   %1$s.%2$s_expected(f.m, f.horizon, (c.i).x, (c.i).t_x, (c.i).t_cal) AS predicted,
                   coalesce(h.purchases, 0)::float8 AS actual
            FROM cal c LEFT JOIN holdout h USING (customer), fitted f WHERE (f.m).r IS NOT NULL
        )
        SELECT frequency, count(*), avg(predicted), avg(actual) FROM per_customer GROUP BY 1 ORDER BY 1$q$,
        ext, model)
    ELSE format($q$
        , unit_days AS (
            SELECT ($2 - $1) / horizon AS d FROM fitted
        ), grid AS (
            SELECT k, least($1 + round(k * u.d)::integer, $2) AS as_of
            FROM unit_days u,
                 generate_series(-floor(($1 - (SELECT min(first) FROM firsts)) / u.d)::integer,
                                 ceil(($2 - $1) / u.d)::integer) k
        ), cohorts AS (
            SELECT first, count(*) AS n FROM firsts GROUP BY first
        ), repeats AS (
            SELECT d.day, count(*) AS n FROM days d JOIN firsts f USING (customer) WHERE d.day > f.first GROUP BY 1
        )
        SELECT g.k::integer, g.as_of,
               coalesce((SELECT sum(c.n * %1$s.%2$s_expected(f.m, (g.as_of - c.first) / u.d))
                         FROM cohorts c WHERE c.first < g.as_of), 0)::float8,
               coalesce((SELECT sum(r.n) FROM repeats r WHERE r.day <= g.as_of), 0)::bigint
        FROM grid g, fitted f, unit_days u WHERE (f.m).r IS NOT NULL ORDER BY g.k$q$,
        ext, model)
    END;
END
$fn$;

CREATE FUNCTION btyd_calibration(source regclass, customer_column name, date_column name, amount_column name,
                                 cal_end date, holdout_end date, model text DEFAULT 'bgnbd',
                                 max_frequency integer DEFAULT 7, unit text DEFAULT 'week')
RETURNS TABLE (frequency integer, customers bigint, predicted float8, actual float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF cal_end IS NULL OR holdout_end IS NULL OR max_frequency IS NULL OR unit IS NULL THEN
        RAISE EXCEPTION 'cal_end, holdout_end, max_frequency and unit must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT holdout_end > cal_end THEN
        RAISE EXCEPTION 'holdout_end must be after cal_end' USING ERRCODE = '22023',
            DETAIL = format('cal_end is %s, holdout_end is %s.', cal_end, holdout_end);
    END IF;
    IF max_frequency < 0 OR max_frequency > 1000 THEN
        RAISE EXCEPTION 'max_frequency must be between 0 and 1000' USING ERRCODE = '22023',
            DETAIL = format('The value given was %s.', max_frequency);
    END IF;
    RETURN QUERY EXECUTE @extschema@.btyd_holdout_query(source, customer_column, date_column, amount_column,
                                                        model, false)
        USING cal_end, holdout_end, unit, max_frequency;
END
$fn$;

-- btyd_tracking: the cumulative repeat purchase days of those customers,
-- expected (a new customer's *_expected(model, age) summed over the
-- customers by first purchase day) and actual, at cal_end + k units for
-- every k from the first purchase to holdout_end (k <= 0: calibration; the
-- last as_of is holdout_end).
CREATE FUNCTION btyd_tracking(source regclass, customer_column name, date_column name, amount_column name,
                              cal_end date, holdout_end date, model text DEFAULT 'bgnbd', unit text DEFAULT 'week')
RETURNS TABLE (period integer, as_of date, expected float8, actual bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF cal_end IS NULL OR holdout_end IS NULL OR unit IS NULL THEN
        RAISE EXCEPTION 'cal_end, holdout_end and unit must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT holdout_end > cal_end THEN
        RAISE EXCEPTION 'holdout_end must be after cal_end' USING ERRCODE = '22023',
            DETAIL = format('cal_end is %s, holdout_end is %s.', cal_end, holdout_end);
    END IF;
    RETURN QUERY EXECUTE @extschema@.btyd_holdout_query(source, customer_column, date_column, amount_column,
                                                        model, true)
        USING cal_end, holdout_end, unit, 0;
END
$fn$;

-- ------------------------------------------------- builder: bulk full builds

-- Full builds and full refreshes read the orders through the bulk path
-- (segment_bulk_states, segment_load_states, segment_load_summaries) unless
-- Citus distributes the source; stored targets keep half of each page free
-- (segment_fillfactor) and get no ANALYZE; a build without capture keeps no
-- states; a derived build's target is a view over its state table and
-- statistics (extension/source/40_builder.sql). Every builder function has
-- its final definition once, in the builder section above.

-- --------------------------------------------------- segment distribution
--
-- The population statistics of a segment build (segment_statistics) kept
-- incrementally: a distribution (bytea) of the buying customers' last
-- orders, frequencies, spends and order values, which deltas of the
-- customers that changed update, and from which the statistics come out
-- identical to the SQL definitions over every customer.

CREATE FUNCTION segment_distribution_delta_transfn(analytics_state, rfm_summary, rfm_summary)
    RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_delta_transfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_distribution_delta_combinefn(analytics_state, analytics_state) RETURNS analytics_state
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_delta_combinefn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment_distribution_delta_finalfn(analytics_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_delta_finalfn_state' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One row per changed customer: its summary before (NULL for a new
-- customer) and after (NULL for a customer gone). Buyers (a last_order) in
-- before are removed, buyers in after added. NULL when no buyer is in
-- either.
CREATE AGGREGATE segment_distribution_delta(before rfm_summary, after rfm_summary) (
    SFUNC = segment_distribution_delta_transfn, STYPE = analytics_state, SSPACE = 1024,
    FINALFUNC = segment_distribution_delta_finalfn, COMBINEFUNC = segment_distribution_delta_combinefn,
    PARALLEL = SAFE);

-- The distribution with a delta applied; a NULL distribution is empty, a
-- NULL delta changes nothing. Removing a customer the distribution does not
-- hold is an error (22000): build it again from every customer.
CREATE FUNCTION segment_distribution_apply(distribution bytea, delta bytea) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_apply' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Over the distribution's buyers: rfm_bins(summary, as_of, buckets); the
-- percentile_cont(0.5) of frequency and of (monetary / frequency)::float8;
-- percentile_disc(ARRAY[0.8, 0.95]) of monetary (as float8) and the least
-- monetary above the first; whether every monetary is exact as a float8
-- (segment_spend_numeric then gives the numeric back); the buyer count.
-- NULL bins, medians and spends when there are no buyers.
CREATE FUNCTION segment_distribution_statistics(distribution bytea, as_of date, buckets integer,
                                                OUT bins rfm_bins, OUT frequency_median float8,
                                                OUT value_median float8, OUT spend_top float8[],
                                                OUT spend_above float8, OUT exact_spend boolean,
                                                OUT buyers bigint)
    AS 'MODULE_PATHNAME', 'ca_segment_distribution_statistics' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The shortest decimal that reads back as the float8: the numeric a spend
-- came from, when it had at most 15 significant digits.
CREATE FUNCTION segment_spend_numeric(spend float8) RETURNS numeric
    AS 'MODULE_PATHNAME', 'ca_segment_spend_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------- aggregate volatility
-- (keep this section last: it must follow every CREATE OR REPLACE AGGREGATE)

-- CREATE AGGREGATE records every aggregate as IMMUTABLE, whatever its
-- support functions are, and offers no clause to say otherwise. The
-- planner believes the record: postgres_fdw ships an "immutable" aggregate
-- to the remote server, whose session runs in UTC, so rfm_agg over
-- timestamptz order times would turn them into dates in UTC instead of the
-- caller's TimeZone. So every aggregate of the extension is recorded with
-- the most volatile of its support functions (the timestamptz variants:
-- STABLE), which keeps such aggregates local; date variants stay IMMUTABLE
-- and are still shipped. This runs last, after every CREATE (OR REPLACE)
-- AGGREGATE, which would record IMMUTABLE again.
--
-- The script runs as a superuser with search_path set to the extension's
-- schema, which the installing role may own and fill beforehand: every
-- operator and function here is written with its schema and compares
-- values of exactly its argument types, so no operator of that schema
-- (say "=" of oid and regclass, a better match than pg_catalog's for
-- mixed types) can be chosen and run with a superuser's rights.
UPDATE pg_catalog.pg_proc AS aggregate_proc
   SET provolatile = support.volatility
  FROM (SELECT a.aggfnoid::pg_catalog.oid AS aggregate_oid,
               CASE WHEN pg_catalog.bool_or(f.provolatile OPERATOR(pg_catalog.=) 'v'::pg_catalog."char") THEN 'v'
                    WHEN pg_catalog.bool_or(f.provolatile OPERATOR(pg_catalog.=) 's'::pg_catalog."char") THEN 's'
                    ELSE 'i' END::pg_catalog."char" AS volatility
          FROM pg_catalog.pg_aggregate AS a
          JOIN pg_catalog.pg_proc AS f
            ON f.oid OPERATOR(pg_catalog.=) ANY (ARRAY[a.aggtransfn::pg_catalog.oid, a.aggfinalfn::pg_catalog.oid,
                                                       a.aggcombinefn::pg_catalog.oid, a.aggserialfn::pg_catalog.oid,
                                                       a.aggdeserialfn::pg_catalog.oid])
          JOIN pg_catalog.pg_depend AS d
            ON d.objid OPERATOR(pg_catalog.=) a.aggfnoid::pg_catalog.oid
           AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid
           AND d.objsubid OPERATOR(pg_catalog.=) 0
         WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass::pg_catalog.oid
           AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension AS e
                                                   WHERE e.extname OPERATOR(pg_catalog.=)
                                                         'customer_analytics'::pg_catalog.name)
           AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog."char"
         GROUP BY a.aggfnoid) AS support
 WHERE aggregate_proc.oid OPERATOR(pg_catalog.=) support.aggregate_oid
   AND aggregate_proc.provolatile OPERATOR(pg_catalog.<>) support.volatility;
