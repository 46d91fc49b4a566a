
-- ---------------------------------------------------------------- builder
--
-- build_segments() creates one table with one row per customer and every
-- derived column, the tables that keep it refreshable, and summary views;
-- refresh_segments() brings it up to date.
--
-- Rights (README, Security): a build runs with its caller's rights and the
-- caller owns what it creates. A refresh, like REFRESH MATERIALIZED VIEW,
-- needs the privileges of the target's owner and runs as that owner inside
-- a security-restricted operation. The catalog tables below grant no write
-- privilege to anyone: the C functions segment_catalog_*(),
-- add_segment_rule() and drop_segment_rule() write them after checking that
-- the caller owns the target. Rule conditions are parsed and checked (one
-- expression over the target's columns, only immutable built-in functions
-- and operators) every time they are used. The capture trigger on the
-- source is the C function segment_capture(build_id), which writes the
-- owner's pending table as the owner and never evaluates code of the
-- source's column types. Every function here pins search_path, and the
-- extension's schema reaches dynamic SQL only as a format() argument.
--
-- Objects created for a target T (in T's schema, owned by T's owner):
--   T            the customer table (dashboards read it)
--   T_state      per-customer mergeable rfm_agg state (bytea); with the
--                order_column or min_purchase option, the state of
--                rfm_agg(date, amount, order_key, min_purchase), which keeps
--                each order's net amount, so lines of one order merge exactly
--                whatever refresh they arrive in
--   T_pending    order lines captured by the trigger on the source since the
--                last refresh (kind 'i'; with order_column also their order
--                key, as order_key), and markers (kind 'r') left by UPDATE,
--                DELETE or TRUNCATE on the source (or a change of its column
--                types), which force a full rebuild
--   T_history    (refresh_number, customer, segment) whenever a customer's
--                segment changes: the segment of any customer at any refresh
--   triggers T_capture_inserts, T_capture_changes, T_capture_truncate on the
--                source (tables only, and only when the caller may create
--                triggers on it; otherwise every refresh rebuilds)
--   views T_segment_sizes, T_stage_counts, T_tier_funnel,
--         T_quadrant_counts, T_migration

CREATE TABLE segment_builds (
    target regclass PRIMARY KEY,
    owner regrole NOT NULL,
    source regclass NOT NULL,
    customer_column name NOT NULL,
    date_column name NOT NULL,
    amount_column name NOT NULL,
    options jsonb NOT NULL,
    state_table regclass NOT NULL,
    pending_table regclass NOT NULL,
    history_table regclass NOT NULL,
    incremental boolean NOT NULL,   -- false when no trigger captures new orders: every refresh rebuilds
    as_of date NOT NULL,
    refresh_number integer NOT NULL,
    last_mode text NOT NULL,
    built_at timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL,
    customers bigint NOT NULL,
    orders_merged bigint NOT NULL,
    build_id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT segment_builds_build_id_key UNIQUE,
    customer_type regtype NOT NULL,  -- the source's column types when the build was made
    date_type regtype NOT NULL,
    amount_type regtype NOT NULL,
    layout integer NOT NULL,          -- the objects the builder made: 1 by 0.1.0; since 0.2.0 2 (stored
                                      -- columns, "layout": "table") or 3 (a view, "layout": "view")
    order_column name,                -- the order_column option (NULL: every row is an order) and its type
    order_type regtype,
    -- The relations whose capture triggers feed this build: the source and,
    -- for a partitioned source, every table of its partition tree (a change
    -- of that set makes the next refresh a full rebuild). NULL: no capture.
    capture_relations regclass[],
    -- Layout 3: the table of per-refresh statistics the target (a view)
    -- derives its columns from. NULL for the stored layouts 1 and 2.
    statistics_table regclass,
    CONSTRAINT segment_builds_order_check CHECK ((order_column IS NULL) = (order_type IS NULL))
);
COMMENT ON TABLE segment_builds IS 'One row per table built by build_segments: its definition and last refresh';

CREATE TABLE segment_tag_rules (
    target regclass NOT NULL,
    tag text NOT NULL,
    condition text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    owner regrole NOT NULL,
    PRIMARY KEY (target, tag)
);
COMMENT ON TABLE segment_tag_rules IS 'Rule-based tags: a SQL boolean condition over a segment table''s columns';

-- Each role sees the builds and rules of the tables it owns (has the owner's
-- privileges of) or may read; nobody writes these tables but the functions
-- below.
ALTER TABLE segment_builds ENABLE ROW LEVEL SECURITY;
ALTER TABLE segment_tag_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_builds_owner ON segment_builds FOR SELECT
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                   WHERE c.oid OPERATOR(pg_catalog.=) target::pg_catalog.oid), 'USAGE')
           OR pg_catalog.has_table_privilege(target, 'SELECT'));
CREATE POLICY segment_tag_rules_owner ON segment_tag_rules FOR SELECT
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                   WHERE c.oid OPERATOR(pg_catalog.=) target::pg_catalog.oid), 'USAGE')
           OR pg_catalog.has_table_privilege(target, 'SELECT'));
GRANT SELECT ON segment_builds, segment_tag_rules TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('segment_builds', '');
SELECT pg_catalog.pg_extension_config_dump('segment_builds_build_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('segment_tag_rules', '');

-- The catalog gates (src/pg/builder.cpp).
CREATE FUNCTION segment_catalog_register(target regclass, source regclass, customer_column name, date_column name,
                                         amount_column name, options jsonb, as_of date, incremental boolean,
                                         customers bigint, orders_merged bigint, state_table regclass,
                                         pending_table regclass, history_table regclass,
                                         order_column name DEFAULT NULL, statistics_table regclass DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'ca_segment_catalog_register' LANGUAGE C VOLATILE;
CREATE FUNCTION segment_catalog_refreshed(target regclass, as_of date, refresh_number integer, mode text,
                                          customers bigint, orders_merged bigint, layout integer)
RETURNS void AS 'MODULE_PATHNAME', 'ca_segment_catalog_refreshed' LANGUAGE C VOLATILE;
-- Records the relations whose capture triggers feed a build (NULL: none,
-- every refresh rebuilds).
CREATE FUNCTION segment_catalog_capture(target regclass, relations regclass[])
RETURNS void AS 'MODULE_PATHNAME', 'ca_segment_catalog_capture' LANGUAGE C;
CREATE FUNCTION segment_catalog_forget(target regclass)
RETURNS void AS 'MODULE_PATHNAME', 'ca_segment_catalog_forget' LANGUAGE C VOLATILE;

-- The checked SQL of a rule condition over target's columns (what a refresh
-- evaluates; the stored text itself never runs).
CREATE FUNCTION segment_rule_sql(target regclass, tag text, condition text)
RETURNS text AS 'MODULE_PATHNAME', 'ca_segment_rule_sql' LANGUAGE C STABLE PARALLEL SAFE;

-- The extension's schema, quoted, for dynamic SQL (passed to format() as
-- an argument: a schema name may contain %).
CREATE FUNCTION segment_schema()
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'customer_analytics'
$fn$;

-- A column of the source, with its type; a clear error when it is missing.
CREATE FUNCTION segment_source_column(source regclass, column_name name, role text)
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
CREATE FUNCTION segment_capture_refusal(source regclass)
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
CREATE FUNCTION segment_order_expression(source regclass, column_name name, column_type regtype, role text)
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
CREATE FUNCTION segment_state_call(options jsonb, date_expression text, amount_expression text,
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
CREATE FUNCTION segment_rows_sql(target regclass, src text, statistics text, once_per_row boolean)
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
CREATE FUNCTION segment_tags_sql(target regclass)
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
CREATE FUNCTION segment_fixed_parameters(options jsonb, OUT lifecycle_thresholds integer[],
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
CREATE FUNCTION segment_statistics(build @extschema@.segment_builds, src text, as_of date,
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
CREATE FUNCTION segment_distribution_cuts(build @extschema@.segment_builds, distribution bytea, as_of date,
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
CREATE FUNCTION segment_cuts(options jsonb, population_bins @extschema@.rfm_bins, top numeric[],
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
CREATE FUNCTION segment_derive(build @extschema@.segment_builds, src text, as_of date, destination text,
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
CREATE FUNCTION segment_fillfactor()
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT 50
$fn$;

-- The columns a refresh compares and rewrites (everything but the key).
CREATE FUNCTION segment_value_columns()
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT 'first_order, last_order, recency_days, frequency, purchase_days, monetary, avg_order_value, refunds, '
           'r_score, f_score, m_score, rfm_code, segment, rfm_class, rfm_class_zh, lifecycle_stage, tier, quadrant, tags'
$fn$;

-- A list of columns ("a, b") with each qualified by a table alias ("t.a, t.b").
CREATE FUNCTION segment_qualified_columns(columns text, alias text)
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
CREATE FUNCTION segment_bulk_states(source regclass, customer_column name, date_column name, amount_column name,
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
CREATE FUNCTION segment_load_states(build @extschema@.segment_builds, state_table text, keep_states boolean,
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
CREATE FUNCTION segment_load_summaries(build @extschema@.segment_builds, destination text, keep_states boolean,
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
CREATE FUNCTION segment_full_distribution(state_table regclass)
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
CREATE FUNCTION segment_record_statistics(build @extschema@.segment_builds, refresh_number integer, as_of date,
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
CREATE FUNCTION segment_create_target_view(build @extschema@.segment_builds, target text)
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
CREATE FUNCTION build_segments(source regclass, customer_column name, date_column name, amount_column name,
                               target text, as_of date DEFAULT current_date, options jsonb DEFAULT '{}')
RETURNS regclass AS 'MODULE_PATHNAME', 'ca_build_segments' LANGUAGE C VOLATILE;

CREATE FUNCTION segment_build(source regclass, customer_column name, date_column name, amount_column name,
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
CREATE FUNCTION segment_create_views(build @extschema@.segment_builds)
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
CREATE FUNCTION grant_segments_read(target regclass, reader regrole)
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

CREATE FUNCTION revoke_segments_read(target regclass, reader regrole)
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
CREATE FUNCTION segment_capture() RETURNS trigger AS 'MODULE_PATHNAME', 'ca_segment_capture' LANGUAGE C;

CREATE FUNCTION segment_create_capture(build @extschema@.segment_builds)
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
CREATE FUNCTION segment_capture_tree(source regclass)
RETURNS regclass[] LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT array_agg(r ORDER BY r::oid) FROM (
        SELECT source AS r UNION SELECT t.relid FROM pg_partition_tree(source) t
    ) tree
$fn$;

-- Removes this build's capture triggers from relations, where the caller
-- may drop triggers; elsewhere they stay, and capture nothing for a build
-- that is gone or a table outside its source.
CREATE FUNCTION segment_drop_capture(build @extschema@.segment_builds, relations regclass[])
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
CREATE FUNCTION segment_refresh_state_call(build @extschema@.segment_builds, from_pending boolean)
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
CREATE FUNCTION refresh_segments(target regclass, as_of date DEFAULT current_date, full_rebuild boolean DEFAULT false)
RETURNS jsonb AS 'MODULE_PATHNAME', 'ca_refresh_segments' LANGUAGE C VOLATILE;

-- The temporary tables a refresh fills, created before the refresh enters
-- its security-restricted part (which cannot create temporary objects):
-- for a stored build the derived rows and the touched customers' summaries,
-- for a derived build the changed customers (with their summaries before
-- and after) and, for a full refresh, the customers read again.
CREATE FUNCTION segment_refresh_workspace(target regclass)
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

CREATE FUNCTION segment_refresh(target regclass, as_of date, full_rebuild boolean)
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
CREATE FUNCTION segment_refresh_derived(target regclass, as_of date, mode text, started timestamptz)
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
CREATE FUNCTION add_segment_rule(target regclass, tag text, condition text, enabled boolean DEFAULT true)
RETURNS void AS 'MODULE_PATHNAME', 'ca_add_segment_rule' LANGUAGE C VOLATILE;

CREATE FUNCTION drop_segment_rule(target regclass, tag text)
RETURNS boolean AS 'MODULE_PATHNAME', 'ca_drop_segment_rule' LANGUAGE C VOLATILE;

-- Removes a segment table and everything the builder created for it. The
-- capture triggers can only be dropped by the source's owner; for anyone
-- else they stay, and capture nothing once the build is gone.
CREATE FUNCTION drop_segments(target regclass)
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
