-- The builder on a shared warehouse: three roles. The superuser refreshes
-- everyone's builds; ca_owner builds segments on its orders; ca_attacker
-- tries to run code with another role's rights, read what it cannot read,
-- or change another role's builds and rules.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS ca_owner;
DROP ROLE IF EXISTS ca_attacker;
RESET client_min_messages;
CREATE ROLE ca_owner NOLOGIN;
CREATE ROLE ca_attacker NOLOGIN;
GRANT CREATE, USAGE ON SCHEMA public TO ca_owner, ca_attacker;

-- A table only the superuser may read, and a log of who ran what.
CREATE TABLE secret_table (secret text);
INSERT INTO secret_table VALUES ('the crown jewels');
CREATE TABLE probe_log (what text, role name, superuser boolean);
GRANT INSERT, SELECT ON probe_log TO PUBLIC;
-- Records who runs it, and tries to escalate if it runs as a superuser.
CREATE FUNCTION public.probe(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.probe_log VALUES (what, current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user));
    BEGIN
        EXECUTE 'ALTER ROLE ca_attacker SUPERUSER';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    RETURN true;
END $$;
ALTER FUNCTION public.probe(text) OWNER TO ca_attacker;

SET ROLE ca_owner;
CREATE TABLE owner_orders (customer_id int, ordered_on date, amount numeric(12, 2));
INSERT INTO owner_orders SELECT g % 40, DATE '2024-01-01' + (g * 7) % 300, (g % 97) + 0.5
FROM generate_series(1, 800) g;
SELECT build_segments('owner_orders', 'customer_id', 'ordered_on', 'amount', 'owner_segments', DATE '2024-12-31');
SELECT add_segment_rule('owner_segments', 'big', 'monetary > 1000');
RESET ROLE;

-- 1. The catalog tables are written only through the builder's functions:
-- no role can plant a rule (which would run with the refresher's rights),
-- pre-plant a build for a future table, or rewrite a build.
SET ROLE ca_attacker;
INSERT INTO segment_tag_rules (target, tag, condition, owner) VALUES ('owner_segments', 'pwn', 'public.probe(''planted'')', 'ca_owner');
INSERT INTO segment_builds (target, owner, source, customer_column, date_column, amount_column, options, state_table,
                            pending_table, history_table, incremental, as_of, refresh_number, last_mode, built_at,
                            refreshed_at, customers, orders_merged, customer_type, date_type, amount_type)
VALUES (999999, 'ca_attacker', 'owner_orders', 'a', 'b', 'c', '{}', 'owner_orders', 'owner_orders', 'owner_orders',
        true, '2024-01-01', 1, 'build', now(), now(), 0, 0, 'int', 'date', 'numeric');
UPDATE segment_builds SET source = 'secret_table';
DELETE FROM segment_tag_rules;
-- ... cannot see another role's builds and rules ...
SELECT count(*) AS visible_builds FROM segment_builds;
SELECT count(*) AS visible_rules FROM segment_tag_rules;
-- ... and cannot change, refresh or drop them through the functions either.
SELECT add_segment_rule('owner_segments', 'pwn', 'true');
SELECT drop_segment_rule('owner_segments', 'big');
SELECT refresh_segments('owner_segments', DATE '2024-12-31');
SELECT drop_segments('owner_segments');
SELECT segment_catalog_forget('owner_segments');
SELECT segment_catalog_refreshed('owner_segments', DATE '2030-01-01', 99, 'full', 0, 0, 2);
-- Registering someone else's table as one's own build fails the same way.
SELECT segment_catalog_register('owner_segments', 'owner_orders', 'customer_id', 'ordered_on', 'amount', '{}',
                                DATE '2024-12-31', false, 0, 0, 'owner_segments', 'owner_segments', 'owner_segments');
RESET ROLE;

-- 2. Rule conditions are one expression over the target's columns, built
-- from constants and immutable functions and operators of PostgreSQL or the
-- extension: never a function another role wrote, a volatile function that
-- changes the session, a subquery that reads other tables, or text that
-- escapes the expression.
SET ROLE ca_owner;
SELECT add_segment_rule('owner_segments', 'pwn', 'public.probe(''rule'')');
SELECT add_segment_rule('owner_segments', 'session', 'set_config(''search_path'', ''ca_attacker, pg_catalog'', false) IS NOT NULL');
SELECT add_segment_rule('owner_segments', 'copy', 'EXISTS (SELECT 1 FROM secret_table)');
SELECT add_segment_rule('owner_segments', 'escape', 'true) THEN ''x'' END, (SELECT secret FROM secret_table)::text, CASE WHEN (true');
SELECT add_segment_rule('owner_segments', 'from', 'true FROM secret_table');
SELECT add_segment_rule('owner_segments', 'alias', 'true AS x');
SELECT add_segment_rule('owner_segments', 'stable', 'now() > last_order');
SELECT add_segment_rule('owner_segments', 'session value', 'last_order > CURRENT_DATE - 30');
SELECT add_segment_rule('owner_segments', 'aggregate', 'max(frequency) > 1');
SELECT add_segment_rule('owner_segments', 'set', 'generate_series(1, 2) > 1');
SELECT add_segment_rule('owner_segments', 'tags', '''x'' = ANY (tags)');
SELECT add_segment_rule('owner_segments', 'system column', 'ctid IS NOT NULL');
SELECT add_segment_rule('owner_segments', 'cast through text', 'last_order::text > ''2024''');
SELECT add_segment_rule('owner_segments', '   ', 'true');
-- A comment is no way out: what runs is the checked expression, deparsed.
SELECT segment_rule_sql('owner_segments', 'comment', 'frequency > 2 -- ) THEN ''x'' END, (SELECT 1');
SELECT segment_rule_sql('owner_segments', 'ops', 'segment IN (''Champions'', ''Loyal Customers'') AND monetary BETWEEN 10 AND 500 AND upper(tier) <> ''GOLD'' AND rfm_segment(rfm_score(r_score, f_score, m_score)) IS NOT NULL');
RESET ROLE;

-- 3. Rules written before this release could be planted by anyone. A rule
-- whose writer lacks the owner's privileges never runs; a rule that fails
-- the checks stops the refresh before anything runs.
INSERT INTO segment_tag_rules (target, tag, condition, owner) VALUES ('owner_segments', 'planted', 'public.probe(''planted'')', 'ca_attacker');
SELECT refresh_segments('owner_segments', DATE '2024-12-31') ->> 'mode' AS mode;
DELETE FROM segment_tag_rules WHERE tag = 'planted';
INSERT INTO segment_tag_rules (target, tag, condition, owner) VALUES ('owner_segments', 'planted', 'public.probe(''planted'')', 'ca_owner');
SELECT refresh_segments('owner_segments', DATE '2024-12-31') ->> 'mode' AS mode;
DELETE FROM segment_tag_rules WHERE tag = 'planted';
SELECT * FROM probe_log;

-- 4. A refresh runs as the target's owner, like REFRESH MATERIALIZED VIEW:
-- code in the owner's source (here a view calling a function another role
-- wrote) never runs with the rights of the superuser who refreshes, and the
-- restricted operation keeps it from leaving objects in the session.
SET ROLE ca_owner;
CREATE VIEW owner_orders_probed AS SELECT * FROM owner_orders WHERE public.probe('view');
SELECT build_segments('owner_orders_probed', 'customer_id', 'ordered_on', 'amount', 'probed_segments', DATE '2024-12-31');
RESET ROLE;
DELETE FROM probe_log;
SELECT refresh_segments('probed_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT DISTINCT what, role, superuser FROM probe_log;
SELECT rolsuper AS attacker_is_superuser FROM pg_roles WHERE rolname = 'ca_attacker';
SELECT current_user = session_user AS identity_restored, current_setting('search_path') AS search_path;
DELETE FROM probe_log;
SET ROLE ca_owner;
CREATE FUNCTION owner_temp_probe() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        CREATE TEMPORARY TABLE shadow (x int);
        DROP TABLE pg_temp.shadow;
        INSERT INTO public.probe_log VALUES ('temporary table created', current_user, NULL);
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO public.probe_log VALUES (SQLERRM, current_user, NULL);
    END;
    RETURN true;
END $$;
CREATE VIEW owner_orders_shadowed AS SELECT * FROM owner_orders WHERE owner_temp_probe();
SELECT build_segments('owner_orders_shadowed', 'customer_id', 'ordered_on', 'amount', 'shadowed_segments', DATE '2024-12-31');
RESET ROLE;
SELECT DISTINCT what, role FROM probe_log;
DELETE FROM probe_log;
SELECT refresh_segments('shadowed_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT DISTINCT what, role FROM probe_log;
DELETE FROM probe_log;
SELECT drop_segments('shadowed_segments');
SET ROLE ca_owner;
DROP VIEW owner_orders_shadowed;
DROP FUNCTION owner_temp_probe();
SELECT drop_segments('probed_segments');
DROP VIEW owner_orders_probed;
RESET ROLE;

-- 5. The capture trigger belongs to its build. Attached to another table
-- with the owner's build id it captures nothing (it writes the owner's
-- pending table only for the build's source and its partitions); called
-- outside a trigger it refuses.
SELECT build_id AS owner_build_id FROM segment_builds WHERE target = 'owner_segments'::regclass \gset
SET ROLE ca_attacker;
CREATE TABLE attacker_orders (customer_id int, ordered_on date, amount numeric(12, 2));
CREATE TRIGGER forge AFTER INSERT ON attacker_orders REFERENCING NEW TABLE AS new_orders
FOR EACH STATEMENT EXECUTE FUNCTION segment_capture(:'owner_build_id');
INSERT INTO attacker_orders VALUES (1, DATE '2024-12-01', 1000000);
SELECT segment_capture();
DROP TABLE attacker_orders;
RESET ROLE;
SELECT count(*) AS forged_pending_rows FROM owner_segments_pending;

-- 6. A source owned by another role: changing a column's type never makes
-- the capture evaluate that type's casts with the builder's rights. The
-- source's owner swaps the amount column for its own type with an
-- assignment cast to numeric; the next insert leaves a rebuild marker, and
-- the rebuild refuses the type before reading any value.
SET ROLE ca_attacker;
CREATE TABLE shared_orders (customer_id int, ordered_on date, amount numeric(12, 2));
INSERT INTO shared_orders SELECT g % 10, DATE '2024-06-01' + g, g FROM generate_series(1, 50) g;
GRANT SELECT, TRIGGER ON shared_orders TO ca_owner;
SET ROLE ca_owner;
SELECT build_segments('shared_orders', 'customer_id', 'ordered_on', 'amount', 'shared_segments', DATE '2024-12-31');
SELECT incremental FROM segment_builds WHERE target = 'shared_segments'::regclass;
SET ROLE ca_attacker;
CREATE TYPE evil_amount AS (value numeric);
CREATE FUNCTION evil_to_numeric(evil_amount) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.probe('cast');
    RETURN ($1).value;
END $$;
CREATE CAST (evil_amount AS numeric) WITH FUNCTION evil_to_numeric(evil_amount) AS ASSIGNMENT;
ALTER TABLE shared_orders DROP COLUMN amount CASCADE;
ALTER TABLE shared_orders ADD COLUMN amount evil_amount;
INSERT INTO shared_orders VALUES (1, DATE '2024-12-01', ROW(5));
RESET ROLE;
SELECT kind, count(*) FROM shared_segments_pending GROUP BY kind;
SELECT count(*) AS casts_run FROM probe_log;
SELECT refresh_segments('shared_segments', DATE '2024-12-31');
SELECT count(*) AS casts_run FROM probe_log;
-- The owner of the build drops it; the triggers stay on the attacker's
-- table (only its owner may drop them) and capture nothing.
SET ROLE ca_owner;
SELECT drop_segments('shared_segments');
SET ROLE ca_attacker;
INSERT INTO shared_orders VALUES (2, DATE '2024-12-02', ROW(6));
SELECT count(*) AS orders FROM shared_orders;
RESET ROLE;
SELECT count(*) AS casts_run FROM probe_log;

-- 7. Nothing of the extension is SECURITY DEFINER, and every SQL-language
-- function pins its search_path, so no role's objects are found through the
-- caller's path (for example a public.float8 domain planted by another role).
SELECT p.oid::regprocedure AS security_definer FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'customer_analytics') AND p.prosecdef;
SELECT p.oid::regprocedure AS unpinned FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
JOIN pg_language l ON l.oid = p.prolang
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'customer_analytics')
  AND l.lanname IN ('sql', 'plpgsql')
  AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);
SELECT has_table_privilege('ca_attacker', 'segment_builds', 'INSERT') AS can_insert_builds,
       has_table_privilege('ca_attacker', 'segment_tag_rules', 'INSERT') AS can_insert_rules,
       has_table_privilege('ca_attacker', 'segment_tag_rules', 'UPDATE') AS can_update_rules;

-- 8. A read-only BI role gets one build and nothing else: the target and
-- its views (migration included, which reads the history and the catalog
-- with the owner's rights), not the builder's other tables, the source, or
-- another build.
SET client_min_messages = warning;
DROP ROLE IF EXISTS ca_dashboard;
RESET client_min_messages;
CREATE ROLE ca_dashboard NOLOGIN;
SET ROLE ca_owner;
SELECT build_segments('owner_orders', 'customer_id', 'ordered_on', 'amount', 'other_segments', DATE '2024-12-31');
SELECT grant_segments_read('owner_segments', 'ca_dashboard');
INSERT INTO owner_orders VALUES (1, DATE '2024-12-30', 5000);
SELECT refresh_segments('owner_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SET ROLE ca_dashboard;
SELECT count(*) AS customers, sum(monetary) > 0 AS revenue FROM owner_segments;
SELECT sum(customers) AS customers, round(sum(customer_share), 10) AS customer_share,
       round(sum(revenue_share), 10) AS revenue_share FROM owner_segments_segment_sizes;
SELECT sum(customers) AS customers, count(*) FILTER (WHERE from_segment IS DISTINCT FROM to_segment) > 0 AS moved
FROM owner_segments_migration;
SELECT count(*) AS stages FROM owner_segments_stage_counts;
SELECT count(*) AS tiers FROM owner_segments_tier_funnel;
SELECT count(*) AS quadrants FROM owner_segments_quadrant_counts;
SELECT target, refresh_number FROM segment_builds;
SELECT count(*) FROM owner_segments_state;
SELECT count(*) FROM owner_segments_history;
SELECT count(*) FROM owner_orders;
SELECT count(*) FROM other_segments;
SELECT refresh_segments('owner_segments', DATE '2024-12-31');
SET ROLE ca_owner;
SELECT revoke_segments_read('owner_segments', 'ca_dashboard');
SET ROLE ca_dashboard;
SELECT count(*) FROM owner_segments;
SET ROLE ca_owner;
SELECT drop_segments('other_segments');
-- What a BI tool's data dictionary shows.
SELECT col_description('owner_segments'::regclass, a.attnum) AS comment
FROM pg_attribute a WHERE a.attrelid = 'owner_segments'::regclass AND a.attname IN ('segment', 'rfm_class_zh', 'tags');
SELECT obj_description('owner_segments_segment_sizes'::regclass, 'pg_class') AS view_comment,
       col_description('owner_segments_segment_sizes'::regclass, 3) AS share_comment;
RESET ROLE;
DROP ROLE ca_dashboard;

-- 9. A full build reads the orders with its caller's rights on either path
-- (the bulk path, or GROUP BY where the bulk path declines): row-level
-- security shows the caller only its rows, and SELECT on the three columns
-- is needed and enough.
SET ROLE ca_owner;
CREATE TABLE guarded_orders (customer_id int, ordered_on date, amount numeric(12, 2), region text);
INSERT INTO guarded_orders SELECT g % 20, DATE '2024-01-01' + g % 300, g, CASE WHEN g % 20 < 5 THEN 'north' ELSE 'south' END
FROM generate_series(1, 400) g;
ALTER TABLE guarded_orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY guarded_north ON guarded_orders FOR SELECT TO ca_attacker USING (region = 'north');
GRANT SELECT ON guarded_orders TO ca_attacker;
CREATE TABLE narrow_orders (customer_id int, ordered_on date, amount numeric(12, 2), note text);
INSERT INTO narrow_orders SELECT g % 20, DATE '2024-01-01' + g % 300, g, 'private' FROM generate_series(1, 400) g;
GRANT SELECT (customer_id, ordered_on) ON narrow_orders TO ca_attacker;
RESET ROLE;
SET ROLE ca_attacker;
SELECT build_segments('guarded_orders', 'customer_id', 'ordered_on', 'amount', 'guarded_segments', DATE '2024-12-31');
SELECT count(*) AS customers, sum(frequency) AS orders, sum(monetary) AS revenue,
       (SELECT sum(amount) FROM guarded_orders) AS visible_revenue
FROM guarded_segments;
SELECT build_segments('narrow_orders', 'customer_id', 'ordered_on', 'amount', 'narrow_segments', DATE '2024-12-31');
RESET ROLE;
GRANT SELECT (amount) ON narrow_orders TO ca_attacker;
SET ROLE ca_attacker;
SELECT build_segments('narrow_orders', 'customer_id', 'ordered_on', 'amount', 'narrow_segments', DATE '2024-12-31');
SELECT count(*) AS customers, sum(frequency) AS orders FROM narrow_segments;
-- Neither captures new orders, so neither keeps states; every refresh
-- rebuilds with the same rights: still only the visible rows.
SELECT (SELECT count(state) FROM guarded_segments_state) AS guarded_states,
       (SELECT count(state) FROM narrow_segments_state) AS narrow_states;
RESET ROLE;
INSERT INTO guarded_orders VALUES (1, '2024-06-01', 1000, 'north'), (2, '2024-06-01', 1000, 'south');
SET ROLE ca_attacker;
SELECT refresh_segments('guarded_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT count(*) AS customers, sum(frequency) AS orders, sum(monetary) AS revenue FROM guarded_segments;
SELECT refresh_segments('narrow_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT count(*) AS customers, sum(frequency) AS orders FROM narrow_segments;
SELECT drop_segments('guarded_segments');
SELECT drop_segments('narrow_segments');
RESET ROLE;
DROP TABLE guarded_orders, narrow_orders;

-- 10. The attacker may create functions in the extension's schema (public
-- here) and plants overloads of segment_bulk_states, which a build and a
-- full refresh call by name with the owner's rights: one of the owner's
-- exact customer type (which would outbid a polymorphic customer
-- argument) and one taking the order column as text. The calls pass
-- exactly the types of the one function, so neither runs; a call listing
-- other columns than (customer, summary rfm_summary, state bytea) is
-- refused.
SET ROLE ca_attacker;
CREATE FUNCTION public.segment_bulk_states(regclass, name, name, name, integer, name, numeric)
RETURNS TABLE (customer integer, summary rfm_summary, state bytea) LANGUAGE sql
AS $$ SELECT NULL::integer, NULL::rfm_summary, NULL::bytea FROM (SELECT public.probe('bulk states, integer')) p $$;
CREATE FUNCTION public.segment_bulk_states(regclass, name, name, name, anyelement, text, numeric)
RETURNS TABLE (customer anyelement, summary rfm_summary, state bytea) LANGUAGE sql
AS $$ SELECT $5, NULL::rfm_summary, NULL::bytea FROM (SELECT public.probe('bulk states, text')) p $$;
CREATE FUNCTION public.segment_bulk_states(regclass, name, name, name, text, numeric)
RETURNS SETOF record LANGUAGE sql
AS $$ SELECT 1, NULL::rfm_summary, NULL::bytea FROM (SELECT public.probe('bulk states, text order')) p $$;
RESET ROLE;
SET ROLE ca_owner;
SELECT build_segments('owner_orders', 'customer_id', 'ordered_on', 'amount', 'planted_segments', DATE '2024-12-31')
    IS NOT NULL AS built;
SELECT refresh_segments('planted_segments', DATE '2024-12-31', true) ->> 'mode' AS mode;
SELECT count(*) AS customers, sum(frequency) AS orders FROM planted_segments;
SELECT drop_segments('planted_segments');
RESET ROLE;
SELECT what, role FROM probe_log WHERE what LIKE 'bulk states%';
DROP FUNCTION public.segment_bulk_states(regclass, name, name, name, integer, name, numeric);
DROP FUNCTION public.segment_bulk_states(regclass, name, name, name, anyelement, text, numeric);
DROP FUNCTION public.segment_bulk_states(regclass, name, name, name, text, numeric);
SET ROLE ca_attacker;
SELECT customer, summary, length(state)
FROM segment_bulk_states('owner_orders', 'customer_id', 'ordered_on', 'amount', NULL::name, NULL::numeric)
    AS s(customer integer, summary integer, state bytea);
SELECT count(*)
FROM segment_bulk_states('owner_orders', 'customer_id', 'ordered_on', 'amount', NULL::name, NULL::numeric)
    AS s(customer integer, summary rfm_summary);
SELECT count(*)
FROM segment_bulk_states('owner_orders', 'customer_id', 'ordered_on', 'amount', NULL::name, NULL::numeric)
    AS s(customer integer, summary rfm_summary, state bytea);
RESET ROLE;

-- 11. The attacker plants overloads that an untyped argument or an
-- omitted default would let a derived build's SQL pick, with the rights of
-- whoever builds or refreshes: the segment distribution's delta and apply
-- taking text (which an untyped NULL prefers to the real bytea and
-- rfm_summary), rfm_class without its language argument and the loader
-- without its last one (which would make the calls ambiguous and every
-- build fail). None runs, and the build and its refreshes work.
SET ROLE ca_attacker;
CREATE FUNCTION public.segment_distribution_delta(text, rfm_summary) RETURNS bytea LANGUAGE sql
AS $$ SELECT NULL::bytea FROM (SELECT public.probe('distribution delta')) p $$;
CREATE FUNCTION public.segment_distribution_apply(text, bytea) RETURNS bytea LANGUAGE sql
AS $$ SELECT NULL::bytea FROM (SELECT public.probe('distribution apply')) p $$;
CREATE FUNCTION public.rfm_class(rfm_summary, rfm_bins, date) RETURNS text LANGUAGE sql
AS $$ SELECT 'planted' FROM (SELECT public.probe('rfm_class')) p $$;
CREATE FUNCTION public.segment_load_summaries(segment_builds, text, boolean, integer, regtype, text)
RETURNS bigint LANGUAGE sql AS $$ SELECT 0::bigint FROM (SELECT public.probe('load summaries')) p $$;
RESET ROLE;
DELETE FROM probe_log;
SET ROLE ca_owner;
CREATE TABLE overloaded_orders AS SELECT * FROM owner_orders;
SELECT build_segments('overloaded_orders', 'customer_id', 'ordered_on', 'amount', 'overloaded_segments',
                      DATE '2024-12-31') IS NOT NULL AS built;
INSERT INTO overloaded_orders VALUES (3, DATE '2024-12-30', 700), (41, DATE '2024-12-29', 5);
SELECT refresh_segments('overloaded_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT refresh_segments('overloaded_segments', DATE '2024-12-31', true) ->> 'mode' AS mode;
-- Every customer's class is one of the eight, as rfm_class gives it.
SELECT count(*) AS customers, count(*) FILTER (WHERE rfm_class = 'planted') AS planted,
       count(*) FILTER (WHERE o.rfm_class IS NOT DISTINCT FROM rfm_class(ROW(o.first_order, o.last_order, o.frequency,
                            o.purchase_days, o.monetary, o.refunds)::rfm_summary, s.bins, s.as_of, 'en'))
           AS classes_match
FROM overloaded_segments o,
     (SELECT bins, as_of FROM overloaded_segments_statistics ORDER BY refresh_number DESC LIMIT 1) s;
SELECT drop_segments('overloaded_segments');
DROP TABLE overloaded_orders;
RESET ROLE;
SELECT what, role FROM probe_log;
DROP FUNCTION public.segment_distribution_delta(text, rfm_summary);
DROP FUNCTION public.segment_distribution_apply(text, bytea);
DROP FUNCTION public.rfm_class(rfm_summary, rfm_bins, date);
DROP FUNCTION public.segment_load_summaries(segment_builds, text, boolean, integer, regtype, text);

-- 12. The refresh's work tables are made as the owner before the
-- security-restricted part; making them plans no query over the owner's
-- tables. Here the owner forces a policy on its state table (and on a
-- stored target) whose immutable function the planner would evaluate
-- there, and which tries to leave a temporary table in the superuser's
-- session: it runs only inside the restricted part, where it cannot.
SET ROLE ca_owner;
CREATE FUNCTION owner_temp_probe() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        CREATE TEMPORARY TABLE shadow (x int);
        INSERT INTO public.probe_log VALUES ('temporary table created', current_user, NULL);
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO public.probe_log VALUES (SQLERRM, current_user, NULL);
    END;
    RETURN true;
END $$;
CREATE FUNCTION owner_planned() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM public.owner_temp_probe();
    RETURN true;
END $$;
SELECT build_segments('owner_orders', 'customer_id', 'ordered_on', 'amount', 'policed_segments', DATE '2024-12-31')
    IS NOT NULL AS built;
SELECT build_segments('owner_orders', 'customer_id', 'ordered_on', 'amount', 'policed_stored', DATE '2024-12-31',
                      '{"layout": "table"}') IS NOT NULL AS built;
ALTER TABLE policed_segments_state ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY planted ON policed_segments_state USING (public.owner_planned());
ALTER TABLE policed_stored ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY planted ON policed_stored USING (public.owner_planned());
RESET ROLE;
DELETE FROM probe_log;
SELECT refresh_segments('policed_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT refresh_segments('policed_stored', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT DISTINCT what, role FROM probe_log;
SELECT count(*) AS temporary_tables_left FROM pg_class WHERE relname = 'shadow';
DELETE FROM probe_log;
SET ROLE ca_owner;
SELECT drop_segments('policed_segments');
SELECT drop_segments('policed_stored');
DROP FUNCTION owner_planned();
DROP FUNCTION owner_temp_probe();
RESET ROLE;

-- 13. A scheduler refreshes the builds of every owner in one statement
-- (one transaction). The work tables of one owner's refresh are its own:
-- they are gone when its refresh ends, so the next owner's refresh makes
-- its own, and no table of the owner's (which the owner's code could have
-- hung a trigger on) stays in the scheduler's session.
SET ROLE ca_owner;
SELECT build_segments('owner_orders', 'customer_id', 'ordered_on', 'amount', 'scheduled_view', DATE '2024-12-31')
    IS NOT NULL AS built;
SELECT build_segments('owner_orders', 'customer_id', 'ordered_on', 'amount', 'scheduled_table', DATE '2024-12-31',
                      '{"layout": "table"}') IS NOT NULL AS built;
RESET ROLE;
SET ROLE ca_attacker;
CREATE TABLE attacker_orders AS
SELECT g % 30 AS customer_id, DATE '2024-01-01' + (g * 11) % 300 AS ordered_on, (g % 53) + 0.25 AS amount
FROM generate_series(1, 600) g;
SELECT build_segments('attacker_orders', 'customer_id', 'ordered_on', 'amount', 'attacker_view', DATE '2024-12-31')
    IS NOT NULL AS built;
SELECT build_segments('attacker_orders', 'customer_id', 'ordered_on', 'amount', 'attacker_table', DATE '2024-12-31',
                      '{"layout": "table"}') IS NOT NULL AS built;
RESET ROLE;
BEGIN;
SELECT b.target, b.owner, refresh_segments(b.target, DATE '2025-01-01') ->> 'mode' AS mode
FROM segment_builds b
WHERE b.target::text IN ('scheduled_view', 'scheduled_table', 'attacker_view', 'attacker_table')
ORDER BY b.target::text;
SELECT count(*) AS work_tables_left FROM pg_class WHERE relpersistence = 't';
COMMIT;
SET ROLE ca_attacker;
SELECT drop_segments('attacker_view');
SELECT drop_segments('attacker_table');
DROP TABLE attacker_orders;
SET ROLE ca_owner;
SELECT drop_segments('scheduled_view');
SELECT drop_segments('scheduled_table');
RESET ROLE;

-- 14. The layout a build's row records says which objects a refresh and
-- drop_segments work on; its owner cannot record another one through the
-- catalog gate. The derived refresh, callable by anyone, refuses a caller
-- without the owner's privileges, also for a table that no longer exists.
SET ROLE ca_owner;
SELECT segment_catalog_refreshed('owner_segments', DATE '2024-12-31', 9, 'full', 1, 1, 2);
SELECT segment_catalog_refreshed('owner_segments', DATE '2024-12-31', 9, 'full', 1, 1, 99);
SELECT layout, refresh_number FROM segment_builds WHERE target = 'owner_segments'::regclass;
RESET ROLE;
SET ROLE ca_attacker;
SELECT segment_refresh_derived('owner_segments', DATE '2024-12-31', 'full', now());
SELECT segment_refresh_derived(4000000000::oid::regclass, DATE '2024-12-31', 'full', now());
RESET ROLE;

-- The owner's own build still works end to end.
SET ROLE ca_owner;
SELECT refresh_segments('owner_segments', DATE '2024-12-31') ->> 'mode' AS mode;
SELECT count(*) FILTER (WHERE 'big' = ANY (tags)) = count(*) FILTER (WHERE monetary > 1000) AS tags_match
FROM owner_segments;
SELECT drop_segments('owner_segments');
DROP TABLE owner_orders;
RESET ROLE;

DROP TABLE shared_orders;
DROP FUNCTION public.probe(text);
DROP TABLE probe_log, secret_table;
DROP CAST (evil_amount AS numeric);
DROP OWNED BY ca_attacker;
DROP OWNED BY ca_owner;
DROP ROLE ca_attacker;
DROP ROLE ca_owner;
