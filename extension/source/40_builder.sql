
-- ---------------------------------------------------------------- builder
--
-- build_segments() creates one table with one row per customer and every
-- derived column, the tables that keep it refreshable, and summary views;
-- refresh_segments() brings it up to date. Everything runs with the caller's
-- rights (SECURITY INVOKER); identifiers are quoted with format('%I') and
-- validated against the catalogs; extension objects are schema-qualified and
-- the functions run with search_path = pg_catalog, pg_temp.
--
-- Objects created for a target T (in T's schema):
--   T            the customer table (dashboards read it)
--   T_state      per-customer mergeable rfm_agg state (bytea)
--   T_pending    orders captured by triggers on the source since the last
--                refresh (kind 'i'), and markers (kind 'r') left by UPDATE,
--                DELETE or TRUNCATE on the source, which force a full rebuild
--   T_history    (refresh_number, customer, segment) whenever a customer's
--                segment changes: the segment of any customer at any refresh
--   T_capture()  the trigger function (SECURITY DEFINER, owned by the caller,
--                so that roles writing orders need no rights on T_pending)
--   views T_segment_sizes, T_stage_counts, T_tier_funnel,
--         T_quadrant_counts, T_migration

CREATE TABLE segment_builds (
    target regclass PRIMARY KEY,
    owner regrole NOT NULL DEFAULT current_user::regrole,
    source regclass NOT NULL,
    customer_column name NOT NULL,
    date_column name NOT NULL,
    amount_column name NOT NULL,
    options jsonb NOT NULL,
    state_table regclass NOT NULL,
    pending_table regclass NOT NULL,
    history_table regclass NOT NULL,
    incremental boolean NOT NULL,   -- false for views and foreign tables: every refresh rebuilds
    as_of date NOT NULL,
    refresh_number integer NOT NULL,
    last_mode text NOT NULL,
    built_at timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL,
    customers bigint NOT NULL,
    orders_merged bigint NOT NULL
);
COMMENT ON TABLE segment_builds IS 'One row per table built by build_segments: its definition and last refresh';

CREATE TABLE segment_tag_rules (
    target regclass NOT NULL,
    tag text NOT NULL,
    condition text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    owner regrole NOT NULL DEFAULT current_user::regrole,
    PRIMARY KEY (target, tag)
);
COMMENT ON TABLE segment_tag_rules IS 'Rule-based tags: a SQL boolean condition over a segment table''s columns';

-- Each role sees and changes only the builds and rules of roles it belongs to.
ALTER TABLE segment_builds ENABLE ROW LEVEL SECURITY;
ALTER TABLE segment_tag_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_builds_owner ON segment_builds
    USING (pg_catalog.pg_has_role(owner, 'MEMBER')) WITH CHECK (pg_catalog.pg_has_role(owner, 'MEMBER'));
CREATE POLICY segment_tag_rules_owner ON segment_tag_rules
    USING (pg_catalog.pg_has_role(owner, 'MEMBER')) WITH CHECK (pg_catalog.pg_has_role(owner, 'MEMBER'));
GRANT SELECT, INSERT, UPDATE, DELETE ON segment_builds, segment_tag_rules TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('segment_builds', '');
SELECT pg_catalog.pg_extension_config_dump('segment_tag_rules', '');

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

-- Builds the SELECT that derives every column of a segment table from a
-- relation src(customer, s rfm_summary). The OFFSET 0 fences keep the
-- planner from inlining subqueries, which would evaluate rfm_state_summary()
-- and rfm_score() once per field reference instead of once per row.
-- Parameters: $1 bins, $2 as_of,
-- $3 lifecycle thresholds, $4 stage names, $5 tier thresholds, $6 tier
-- names, $7 frequency cut, $8 value cut. Full builds and refreshes both use
-- it, which is what makes an incremental refresh equal a full rebuild.
CREATE FUNCTION segment_rows_sql(target regclass, src text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    tags text;
BEGIN
    SELECT coalesce('pg_catalog.array_remove(ARRAY[' ||
                    string_agg(format('CASE WHEN (%s) THEN %L END', r.condition, r.tag), ', ' ORDER BY r.tag) ||
                    ']::text[], NULL)', '''{}''::text[]')
    INTO tags FROM @extschema@.segment_tag_rules r WHERE r.target = segment_rows_sql.target AND r.enabled;
    RETURN format($sql$
SELECT d.*, %s AS tags FROM (
    SELECT src.customer,
           (src.s).first_order, (src.s).last_order,
           CASE WHEN (src.s).last_order IS NOT NULL THEN greatest(0, $2 - (src.s).last_order) END AS recency_days,
           (src.s).frequency, (src.s).purchase_days, (src.s).monetary,
           round((src.s).monetary / nullif((src.s).frequency, 0), greatest(scale((src.s).monetary), 2)) AS avg_order_value,
           (src.s).refunds,
           @extschema@.recency_score(sc.score) AS r_score,
           @extschema@.frequency_score(sc.score) AS f_score,
           @extschema@.monetary_score(sc.score) AS m_score,
           sc.score::text AS rfm_code,
           coalesce(@extschema@.rfm_segment(sc.score), 'No purchase') AS segment,
           @extschema@.rfm_class(src.s, $1, $2) AS rfm_class,
           @extschema@.rfm_class(src.s, $1, $2, 'zh') AS rfm_class_zh,
           @extschema@.lifecycle_stage((src.s).last_order, $2, $3, $4) AS lifecycle_stage,
           CASE WHEN (src.s).frequency > 0 THEN @extschema@.tier_for((src.s).monetary, $5, $6) END AS tier,
           CASE WHEN (src.s).frequency > 0
                THEN @extschema@.quadrant((src.s).frequency::numeric, (src.s).monetary / (src.s).frequency, $7, $8) END AS quadrant
    FROM (SELECT * FROM (%s) u OFFSET 0) src,
         LATERAL (SELECT @extschema@.rfm_score(src.s, $1, $2) AS score OFFSET 0) sc
    OFFSET 0
) d
$sql$, tags, src);
END $fn$;

-- The population statistics a refresh recomputes from customer-level rows:
-- bins, tier thresholds (given, or the spend of the top 20 %% and top 5 %%
-- of buying customers) and quadrant cuts (given, or the medians).
CREATE FUNCTION segment_statistics(build @extschema@.segment_builds, src text, as_of date,
                                   OUT bins @extschema@.rfm_bins, OUT tier_thresholds numeric[],
                                   OUT frequency_cut numeric, OUT value_cut numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    buckets integer := coalesce((build.options->>'buckets')::integer, 5);
    top numeric[];
    next_above numeric;
    computed record;
BEGIN
    EXECUTE format($sql$
        SELECT @extschema@.rfm_bins(s, $1, $2) AS bins,
               percentile_disc(ARRAY[0.8, 0.95]) WITHIN GROUP (ORDER BY (s).monetary) FILTER (WHERE (s).frequency > 0) AS top,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s).frequency) FILTER (WHERE (s).frequency > 0) AS frequency_cut,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s).monetary / (s).frequency)
                   FILTER (WHERE (s).frequency > 0) AS value_cut
        FROM (SELECT * FROM (%s) u OFFSET 0) src
    $sql$, src)
    INTO computed USING as_of, buckets;
    bins := computed.bins;
    top := computed.top;
    frequency_cut := computed.frequency_cut;
    value_cut := computed.value_cut;

    IF build.options ? 'tier_thresholds' THEN
        tier_thresholds := ARRAY(SELECT jsonb_array_elements_text(build.options->'tier_thresholds'))::numeric[];
    ELSIF top IS NOT NULL THEN
        tier_thresholds := top;
        IF top[2] <= top[1] THEN
            -- Many customers spend exactly the top-20 %% level: gold starts at
            -- the next spend level above it (or one unit above when none).
            EXECUTE format('SELECT min((s).monetary) FROM (%s) src WHERE (s).monetary > $1', src)
                INTO next_above USING top[1];
            tier_thresholds := ARRAY[top[1], coalesce(next_above, top[1] + 1)];
        END IF;
    END IF;
    IF build.options ? 'frequency_cut' THEN
        frequency_cut := (build.options->>'frequency_cut')::numeric;
    END IF;
    IF build.options ? 'value_cut' THEN
        value_cut := (build.options->>'value_cut')::numeric;
    END IF;
END $fn$;

-- Derives every customer row from src into a new table: the target itself
-- on a first build, else the temporary table segment_rows that a refresh
-- compares with the target. Returns the number of rows.
CREATE FUNCTION segment_derive(build @extschema@.segment_builds, src text, as_of date,
                               destination text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    stats record;
    row_count bigint;
    thresholds integer[] := '{63,126,365}';
    stages text[] := '{active,silent,sleeping,churned}';
    tiers text[] := '{normal,silver,gold}';
BEGIN
    IF build.options ? 'lifecycle_thresholds' THEN
        thresholds := ARRAY(SELECT jsonb_array_elements_text(build.options->'lifecycle_thresholds'))::integer[];
    END IF;
    IF build.options ? 'lifecycle_stages' THEN
        stages := ARRAY(SELECT jsonb_array_elements_text(build.options->'lifecycle_stages'));
    END IF;
    IF build.options ? 'tiers' THEN
        tiers := ARRAY(SELECT jsonb_array_elements_text(build.options->'tiers'));
    END IF;
    stats := @extschema@.segment_statistics(build, src, as_of);
    IF destination IS NULL THEN
        IF to_regclass('pg_temp.segment_rows') IS NOT NULL THEN
            DROP TABLE pg_temp.segment_rows;
        END IF;
        destination := 'pg_temp.segment_rows';
        EXECUTE format('CREATE TEMPORARY TABLE segment_rows ON COMMIT DROP AS %s',
                       @extschema@.segment_rows_sql(build.target, src))
            USING stats.bins, as_of, thresholds, stages, stats.tier_thresholds, tiers, stats.frequency_cut,
                  stats.value_cut;
    ELSE
        EXECUTE format('CREATE TABLE %s AS %s', destination, @extschema@.segment_rows_sql(build.target, src))
            USING stats.bins, as_of, thresholds, stages, stats.tier_thresholds, tiers, stats.frequency_cut,
                  stats.value_cut;
    END IF;
    GET DIAGNOSTICS row_count = ROW_COUNT;
    EXECUTE format('ANALYZE %s', destination);
    RETURN row_count;
END $fn$;

-- The columns a refresh compares and rewrites (everything but the key).
CREATE FUNCTION segment_value_columns()
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT 'first_order, last_order, recency_days, frequency, purchase_days, monetary, avg_order_value, refunds, '
           'r_score, f_score, m_score, rfm_code, segment, rfm_class, rfm_class_zh, lifecycle_stage, tier, quadrant, tags'
$fn$;

-- The caller's current schema is the default for an unqualified target,
-- so it is read here, before the builder switches search_path.
CREATE FUNCTION build_segments(source regclass, customer_column name, date_column name, amount_column name,
                               target text, as_of date DEFAULT current_date, options jsonb DEFAULT '{}')
RETURNS regclass LANGUAGE sql AS $fn$
    SELECT @extschema@.segment_build(source, customer_column, date_column, amount_column, target, as_of, options,
                                     pg_catalog.current_schema())
$fn$;

CREATE FUNCTION segment_build(source regclass, customer_column name, date_column name, amount_column name,
                              target text, as_of date, options jsonb, default_schema name)
RETURNS regclass LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    parts text[];
    target_schema name;
    target_name name;
    qualified text;
    customer_type regtype;
    date_type regtype;
    amount_type regtype;
    date_expression text;
    amount_expression text;
    build @extschema@.segment_builds;
    customers bigint;
    suffix text;
BEGIN
    IF source IS NULL OR customer_column IS NULL OR date_column IS NULL OR amount_column IS NULL OR target IS NULL
       OR as_of IS NULL THEN
        RAISE EXCEPTION 'build_segments arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF as_of = 'infinity' OR as_of = '-infinity' THEN
        RAISE EXCEPTION 'as_of must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The target is an identifier, optionally schema-qualified; anything
    -- else (quotes, semicolons, spaces outside quotes) is rejected here.
    parts := parse_ident(target);
    IF cardinality(parts) = 1 THEN
        target_schema := default_schema;
        target_name := parts[1];
    ELSIF cardinality(parts) = 2 THEN
        target_schema := parts[1];
        target_name := parts[2];
    ELSE
        RAISE EXCEPTION 'invalid target name "%"', target USING ERRCODE = 'invalid_name',
            HINT = 'Give a table name, optionally qualified with a schema name.';
    END IF;
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no schema has been selected to create in' USING ERRCODE = 'invalid_schema_name';
    END IF;
    IF length(target_name) > 63 - length('_quadrant_counts') THEN
        RAISE EXCEPTION 'target name "%" is too long', target_name USING ERRCODE = 'name_too_long',
            DETAIL = format('The builder adds suffixes of up to %s characters to it.', length('_quadrant_counts'));
    END IF;
    FOREACH suffix IN ARRAY ARRAY['', '_state', '_pending', '_history', '_segment_sizes', '_stage_counts',
                                  '_tier_funnel', '_quadrant_counts', '_migration'] LOOP
        IF to_regclass(format('%I.%I', target_schema, target_name || suffix)) IS NOT NULL THEN
            RAISE EXCEPTION 'relation "%.%" already exists', target_schema, target_name || suffix
                USING ERRCODE = 'duplicate_table',
                      HINT = 'Refresh it with refresh_segments(), or remove it with drop_segments().';
        END IF;
    END LOOP;
    qualified := format('%I.%I', target_schema, target_name);

    customer_type := @extschema@.segment_source_column(source, customer_column, 'customer');
    date_type := @extschema@.segment_source_column(source, date_column, 'order date');
    amount_type := @extschema@.segment_source_column(source, amount_column, 'amount');
    date_expression := CASE
        WHEN date_type IN ('date'::regtype, 'timestamptz'::regtype) THEN format('%I', date_column)
        WHEN date_type = 'timestamp'::regtype THEN format('%I::date', date_column)
        ELSE NULL END;
    IF date_expression IS NULL THEN
        RAISE EXCEPTION 'column "%" of % has type %, not a date', date_column, source, date_type
            USING ERRCODE = 'datatype_mismatch', HINT = 'The order date must be of type date, timestamp or timestamptz.';
    END IF;
    amount_expression := CASE
        WHEN amount_type IN ('numeric'::regtype, 'double precision'::regtype) THEN format('%I', amount_column)
        WHEN amount_type IN ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype, 'money'::regtype)
            THEN format('%I::numeric', amount_column)
        WHEN amount_type = 'real'::regtype THEN format('%I::float8', amount_column)
        ELSE NULL END;
    IF amount_expression IS NULL THEN
        RAISE EXCEPTION 'column "%" of % has type %, not an amount', amount_column, source, amount_type
            USING ERRCODE = 'datatype_mismatch', HINT = 'The amount must be numeric, an integer or a floating-point type.';
    END IF;

    -- Per-customer state straight from the orders, in one pass.
    EXECUTE format('CREATE TABLE %I.%I AS SELECT %I AS customer, @extschema@.rfm_agg_state(%s, %s) AS state '
                   'FROM %s WHERE %I IS NOT NULL GROUP BY 1',
                   target_schema, target_name || '_state', customer_column, date_expression, amount_expression,
                   source, customer_column);
    EXECUTE format('ALTER TABLE %I.%I ADD PRIMARY KEY (customer)', target_schema, target_name || '_state');
    EXECUTE format('CREATE TABLE %I.%I (customer %s, order_date %s, amount %s, kind "char" NOT NULL)',
                   target_schema, target_name || '_pending', customer_type, date_type, amount_type);
    EXECUTE format('CREATE TABLE %I.%I (refresh_number integer NOT NULL, customer %s NOT NULL, segment text NOT NULL)',
                   target_schema, target_name || '_history', customer_type);

    build := ROW(NULL, current_user::regrole, source, customer_column, date_column, amount_column, options,
                 format('%I.%I', target_schema, target_name || '_state')::regclass,
                 format('%I.%I', target_schema, target_name || '_pending')::regclass,
                 format('%I.%I', target_schema, target_name || '_history')::regclass,
                 (SELECT c.relkind IN ('r', 'p') FROM pg_class c WHERE c.oid = source),
                 as_of, 1, 'build', now(), now(), 0, 0);
    customers := @extschema@.segment_derive(
        build, format('SELECT customer, @extschema@.rfm_state_summary(state) AS s FROM %s', build.state_table),
        as_of, qualified);
    build.target := qualified::regclass;
    EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (customer)', qualified);
    EXECUTE format('CREATE INDEX ON %s (segment)', qualified);
    EXECUTE format('CREATE INDEX ON %s (lifecycle_stage)', qualified);
    EXECUTE format('CREATE INDEX ON %s (tier)', qualified);
    EXECUTE format('CREATE INDEX ON %s USING gin (tags)', qualified);
    EXECUTE format('INSERT INTO %s SELECT 1, customer, segment FROM %s', build.history_table, qualified);
    EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (customer, refresh_number)', build.history_table);
    build.customers := customers;
    EXECUTE format('SELECT coalesce(sum(frequency + refunds), 0) FROM %s', qualified) INTO build.orders_merged;
    INSERT INTO @extschema@.segment_builds SELECT build.*;

    PERFORM @extschema@.segment_create_views(build);
    PERFORM @extschema@.segment_create_capture(build);
    RETURN build.target;
END $fn$;

-- Summary views for dashboards, beside the target.
CREATE FUNCTION segment_create_views(build @extschema@.segment_builds)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target_schema name;
    target_name name;
    tiers text[] := '{normal,silver,gold}';
BEGIN
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = build.target;
    IF build.options ? 'tiers' THEN
        tiers := ARRAY(SELECT jsonb_array_elements_text(build.options->'tiers'));
    END IF;
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        SELECT segment, count(*) AS customers,
               round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS customer_share,
               sum(monetary) AS revenue,
               round(100.0 * sum(monetary) / nullif(sum(sum(monetary)) OVER (), 0), 2) AS revenue_share
        FROM %s GROUP BY segment$sql$, target_schema, target_name || '_segment_sizes', build.target);
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        SELECT coalesce(lifecycle_stage, 'no purchase') AS lifecycle_stage, count(*) AS customers,
               round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS customer_share, sum(monetary) AS revenue
        FROM %s GROUP BY 1$sql$, target_schema, target_name || '_stage_counts', build.target);
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        SELECT t.tier, t.tier_rank, count(c.customer) AS customers,
               round(100.0 * count(c.customer) / nullif(sum(count(c.customer)) OVER (), 0), 2) AS customer_share,
               coalesce(sum(c.monetary), 0) AS revenue, min(c.monetary) AS lowest_spend
        FROM unnest(%L::text[]) WITH ORDINALITY AS t(tier, tier_rank)
        LEFT JOIN %s c ON c.tier = t.tier
        GROUP BY t.tier, t.tier_rank$sql$, target_schema, target_name || '_tier_funnel', tiers, build.target);
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        SELECT quadrant, count(*) AS customers,
               round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS customer_share, sum(monetary) AS revenue
        FROM %s WHERE quadrant IS NOT NULL GROUP BY quadrant$sql$,
        target_schema, target_name || '_quadrant_counts', build.target);
    -- Segment migration between the last two refreshes: each customer's
    -- segment before the last refresh (NULL for new customers) and now.
    EXECUTE format($sql$
        CREATE VIEW %I.%I AS
        WITH latest AS (
            SELECT refresh_number FROM @extschema@.segment_builds WHERE target = %L::regclass
        ), before AS (
            SELECT DISTINCT ON (h.customer) h.customer, h.segment
            FROM %s h, latest WHERE h.refresh_number < latest.refresh_number
            ORDER BY h.customer, h.refresh_number DESC
        )
        SELECT b.segment AS from_segment, c.segment AS to_segment, count(*) AS customers
        FROM %s c LEFT JOIN before b ON b.customer = c.customer
        GROUP BY 1, 2$sql$,
        target_schema, target_name || '_migration', build.target::text, build.history_table, build.target);
END $fn$;

-- Triggers on the source that capture new orders into T_pending, and leave
-- a rebuild marker when orders are updated, deleted or truncated.
CREATE FUNCTION segment_create_capture(build @extschema@.segment_builds)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target_schema name;
    target_name name;
    capture text;
    date_type regtype := @extschema@.segment_source_column(build.source, build.date_column, 'order date');
    amount_type regtype := @extschema@.segment_source_column(build.source, build.amount_column, 'amount');
BEGIN
    IF NOT build.incremental THEN
        RETURN;  -- only tables have the triggers that capture new orders
    END IF;
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = build.target;
    capture := format('%I.%I', target_schema, target_name || '_capture');
    EXECUTE format($sql$
        CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO %s (customer, order_date, amount, kind)
                SELECT %I, %I, %I, 'i' FROM new_orders;
            ELSE
                INSERT INTO %s (kind) VALUES ('r');
            END IF;
            RETURN NULL;
        END $body$
$sql$,
        capture, build.pending_table, build.customer_column, build.date_column, build.amount_column,
        build.pending_table);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_orders '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %s()', target_name || '_capture_inserts', build.source, capture);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I, %I, %I OR DELETE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %s()', target_name || '_capture_changes',
                   build.customer_column, build.date_column, build.amount_column, build.source, capture);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()',
                   target_name || '_capture_truncate', build.source, capture);
END $fn$;

CREATE FUNCTION refresh_segments(target regclass, as_of date DEFAULT current_date, full_rebuild boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    build @extschema@.segment_builds;
    mode text;
    rebuild_requested boolean;
    moved bigint := 0;
    touched bigint := 0;
    changed bigint := 0;
    removed bigint := 0;
    added bigint := 0;
    src text;
    columns text := @extschema@.segment_value_columns();
    date_expression text;
    amount_expression text;
    started timestamptz := clock_timestamp();
BEGIN
    IF target IS NULL OR as_of IS NULL OR full_rebuild IS NULL THEN
        RAISE EXCEPTION 'refresh_segments arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF as_of = 'infinity' OR as_of = '-infinity' THEN
        RAISE EXCEPTION 'as_of must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Refreshes of one target are serialized on its catalog row; readers of
    -- the target never wait (rows are rewritten under MVCC in one transaction).
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = refresh_segments.target FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% was not built by build_segments', target USING ERRCODE = 'undefined_object',
            HINT = 'Build it first with build_segments().';
    END IF;

    -- UPDATE, DELETE or TRUNCATE on the source left a marker: orders may have
    -- changed or gone, which merging cannot undo.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE kind = ''r'')', build.pending_table) INTO rebuild_requested;
    IF full_rebuild OR rebuild_requested OR NOT build.incremental THEN
        mode := 'full';
    ELSE
        mode := 'incremental';
    END IF;
    IF to_regclass('pg_temp.segment_touched') IS NOT NULL THEN
        DROP TABLE pg_temp.segment_touched;  -- a second refresh in one transaction
    END IF;

    IF mode = 'full' THEN
        date_expression := format('%I', build.date_column);
        IF @extschema@.segment_source_column(build.source, build.date_column, 'order date') = 'timestamp'::regtype THEN
            date_expression := date_expression || '::date';
        END IF;
        amount_expression := format('%I', build.amount_column);
        IF @extschema@.segment_source_column(build.source, build.amount_column, 'amount')
           IN ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype, 'money'::regtype) THEN
            amount_expression := amount_expression || '::numeric';
        ELSIF @extschema@.segment_source_column(build.source, build.amount_column, 'amount') = 'real'::regtype THEN
            amount_expression := amount_expression || '::float8';
        END IF;
        EXECUTE format('TRUNCATE %s', build.state_table);
        -- One statement, one snapshot: the pending rows it deletes are
        -- exactly those whose orders the scan of the source sees.
        EXECUTE format('WITH consumed AS (DELETE FROM %s RETURNING 1) '
                       'INSERT INTO %s SELECT %I, @extschema@.rfm_agg_state(%s, %s) FROM %s WHERE %I IS NOT NULL GROUP BY 1',
                       build.pending_table, build.state_table, build.customer_column, date_expression,
                       amount_expression, build.source, build.customer_column);
        src := format('SELECT customer, @extschema@.rfm_state_summary(state) AS s FROM %s', build.state_table);
    ELSE
        EXECUTE format('CREATE TEMPORARY TABLE segment_touched ON COMMIT DROP AS '
                       'SELECT customer, NULL::@extschema@.rfm_summary AS s FROM %s LIMIT 0', build.state_table);
        EXECUTE format($sql$
            WITH moved AS (
                DELETE FROM %1$s WHERE kind = 'i' RETURNING customer, order_date, amount
            ), fresh AS (
                SELECT customer, @extschema@.rfm_agg_state(order_date, amount) AS state
                FROM moved WHERE customer IS NOT NULL AND order_date IS NOT NULL AND amount IS NOT NULL
                GROUP BY customer
            ), merged AS (
                INSERT INTO %2$s AS kept SELECT customer, state FROM fresh
                ON CONFLICT (customer) DO UPDATE
                SET state = (SELECT @extschema@.rfm_state_merge(x) FROM (VALUES (kept.state), (excluded.state)) v(x))
                RETURNING customer, state
            ), noted AS (
                INSERT INTO segment_touched SELECT customer, @extschema@.rfm_state_summary(state) FROM merged
            )
            SELECT count(*) FROM moved$sql$, build.pending_table, build.state_table)
        INTO moved;
        ANALYZE segment_touched;
        -- Untouched customers keep the summary stored in the target; only
        -- touched customers' states are read back.
        src := format('SELECT t.customer, ROW(t.first_order, t.last_order, t.frequency, t.purchase_days, t.monetary, '
                      't.refunds)::@extschema@.rfm_summary AS s FROM %s t '
                      'WHERE NOT EXISTS (SELECT 1 FROM segment_touched x WHERE x.customer = t.customer) '
                      'UNION ALL SELECT customer, s FROM segment_touched', build.target);
    END IF;

    touched := @extschema@.segment_derive(build, src, as_of);
    build.refresh_number := build.refresh_number + 1;
    -- History: only customers whose segment changed (or who are new).
    EXECUTE format('INSERT INTO %s SELECT $1, r.customer, r.segment FROM segment_rows r '
                   'LEFT JOIN %s t ON t.customer = r.customer WHERE t.segment IS DISTINCT FROM r.segment',
                   build.history_table, build.target) USING build.refresh_number;
    -- Rewrite only rows whose values changed, then add new customers (a
    -- join and an anti-join: much cheaper than INSERT ... ON CONFLICT).
    EXECUTE format('UPDATE %1$s AS t SET (%2$s) = ROW(%3$s) FROM segment_rows r '
                   'WHERE r.customer = t.customer AND (%4$s) IS DISTINCT FROM (%3$s)',
                   build.target, columns,
                   (SELECT string_agg('r.' || c, ', ') FROM unnest(string_to_array(columns, ', ')) c),
                   (SELECT string_agg('t.' || c, ', ') FROM unnest(string_to_array(columns, ', ')) c));
    GET DIAGNOSTICS changed = ROW_COUNT;
    EXECUTE format('INSERT INTO %1$s SELECT r.* FROM segment_rows r '
                   'WHERE NOT EXISTS (SELECT 1 FROM %1$s t WHERE t.customer = r.customer)', build.target);
    GET DIAGNOSTICS added = ROW_COUNT;
    changed := changed + added;
    IF mode = 'full' THEN
        EXECUTE format('DELETE FROM %s t WHERE NOT EXISTS (SELECT 1 FROM %s s WHERE s.customer = t.customer)',
                       build.target, build.state_table);
        GET DIAGNOSTICS removed = ROW_COUNT;
        EXECUTE format('SELECT coalesce(sum(frequency + refunds), 0) FROM %s', build.target) INTO moved;
    END IF;
    DROP TABLE pg_temp.segment_rows;
    IF to_regclass('pg_temp.segment_touched') IS NOT NULL THEN
        DROP TABLE pg_temp.segment_touched;
    END IF;

    UPDATE @extschema@.segment_builds b
    SET as_of = refresh_segments.as_of, refresh_number = build.refresh_number, last_mode = mode,
        refreshed_at = now(), customers = touched,
        orders_merged = CASE WHEN mode = 'full' THEN moved ELSE b.orders_merged + moved END
    WHERE b.target = build.target;
    RETURN jsonb_build_object('target', build.target::text, 'mode', mode, 'refresh_number', build.refresh_number,
                              'as_of', refresh_segments.as_of, 'orders_merged', moved, 'customers', touched,
                              'rows_written', changed, 'rows_removed', removed,
                              'seconds', round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));
END $fn$;

-- Rule-based tags. A rule is validated against the target when it is added.
CREATE FUNCTION add_segment_rule(target regclass, tag text, condition text, enabled boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF target IS NULL OR tag IS NULL OR condition IS NULL OR enabled IS NULL THEN
        RAISE EXCEPTION 'add_segment_rule arguments must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.segment_builds b WHERE b.target = add_segment_rule.target) THEN
        RAISE EXCEPTION '% was not built by build_segments', target USING ERRCODE = 'undefined_object';
    END IF;
    IF btrim(tag) = '' THEN
        RAISE EXCEPTION 'tag names must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- A condition is one boolean expression: no statement separators, and it
    -- must parse and type-check against the target's columns.
    IF position(';' IN condition) > 0 THEN
        RAISE EXCEPTION 'a rule condition must be a single expression'
            USING ERRCODE = 'syntax_error', DETAIL = 'The condition contains a semicolon.';
    END IF;
    BEGIN
        EXECUTE format('SELECT CASE WHEN (%s) THEN 1 END FROM (SELECT * FROM %s LIMIT 0) d', condition, target);
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'invalid rule condition for tag "%": %', tag, SQLERRM
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The condition was: %s', condition),
                  HINT = format('Write a boolean SQL expression over the columns of %s, such as frequency >= 5.', target);
    END;
    INSERT INTO @extschema@.segment_tag_rules (target, tag, condition, enabled)
    VALUES (target, tag, condition, enabled)
    ON CONFLICT ON CONSTRAINT segment_tag_rules_pkey DO UPDATE SET condition = excluded.condition, enabled = excluded.enabled;
END $fn$;

CREATE FUNCTION drop_segment_rule(target regclass, tag text)
RETURNS boolean LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    WITH gone AS (DELETE FROM @extschema@.segment_tag_rules r WHERE r.target = $1 AND r.tag = $2 RETURNING 1)
    SELECT count(*) > 0 FROM gone
$fn$;

-- Removes a segment table and everything the builder created for it.
CREATE FUNCTION drop_segments(target regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    build @extschema@.segment_builds;
    target_schema name;
    target_name name;
BEGIN
    SELECT * INTO build FROM @extschema@.segment_builds b WHERE b.target = drop_segments.target FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% was not built by build_segments', target USING ERRCODE = 'undefined_object';
    END IF;
    SELECT n.nspname, c.relname INTO target_schema, target_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = build.target;
    IF build.incremental THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', target_name || '_capture_inserts', build.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', target_name || '_capture_changes', build.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', target_name || '_capture_truncate', build.source);
        EXECUTE format('DROP FUNCTION IF EXISTS %I.%I()', target_schema, target_name || '_capture');
    END IF;
    DELETE FROM @extschema@.segment_tag_rules r WHERE r.target = build.target;
    DELETE FROM @extschema@.segment_builds b WHERE b.target = build.target;
    EXECUTE format('DROP VIEW IF EXISTS %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I, %1$I.%6$I', target_schema,
                   target_name || '_segment_sizes', target_name || '_stage_counts', target_name || '_tier_funnel',
                   target_name || '_quadrant_counts', target_name || '_migration');
    EXECUTE format('DROP TABLE %s, %s, %s, %s', build.target, build.state_table, build.pending_table,
                   build.history_table);
END $fn$;
