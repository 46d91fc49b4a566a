-- Bounded resources and honest results, tried as an ordinary role with
-- hostile arguments: argument caches replace rather than accumulate, long
-- loops stop at statement_timeout, documented limits are errors (54000)
-- before anything is allocated, model and statistics functions never return
-- NaN or Infinity and never raise an internal error (XX000), and no function
-- of the extension resolves a name through the caller's search_path.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS ca_trap CASCADE;
DROP ROLE IF EXISTS ca_limits_attacker;
DROP ROLE IF EXISTS ca_limits_victim;
RESET client_min_messages;
CREATE ROLE ca_limits_attacker NOLOGIN;
CREATE ROLE ca_limits_victim NOLOGIN;
CREATE SCHEMA ca_trap AUTHORIZATION ca_limits_attacker;
-- Reading pg_backend_memory_contexts needs this predefined role, nothing more.
GRANT pg_read_all_stats TO ca_limits_attacker;
\set VERBOSITY default
\set SHOW_CONTEXT never

SET ROLE ca_limits_attacker;

-- The SQLSTATE, message, detail and hint of an error ('no error' if none).
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || CASE WHEN detail <> '' THEN E'\n  DETAIL: ' || detail ELSE '' END
           || CASE WHEN hint <> '' THEN E'\n  HINT: ' || hint ELSE '' END;
END $$;

-- ------------------------------------------------------------ argument caches
-- A PL/pgSQL loop keeps the state of its simple expressions (and their
-- per-call caches) across iterations. With an argument that changes on every
-- iteration, memory must stay flat: what the backend holds after 20,000
-- iterations is compared with what it held after 1,000 (each distinct
-- argument used to stay in the call's memory for the rest of the session).
CREATE FUNCTION pg_temp.cache_growth(kind text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    after_1000 bigint;
    bytes bigint;
    v text;
    thresholds integer[];
    names text[];
    numeric_cuts numeric[];
    float_cuts float8[];
    rules rfm_segment_rule[];
    bins rfm_bins;
    model kmeans_model;
    summary rfm_summary := ROW(DATE '2024-01-01', DATE '2024-06-01', 3, 2, 100, 0);
BEGIN
    FOR i IN 1..20000 LOOP
        -- The changing argument is a variable, so that the call itself is a
        -- simple expression whose state lives as long as the function.
        thresholds := ARRAY[i, i + 1, i + 2];
        names := ARRAY['new ' || i, 'old', 'gone', 'lost'];
        numeric_cuts := ARRAY[i, i + 1];
        float_cuts := ARRAY[i, i + 1];
        IF kind = 'lifecycle_stage' THEN
            v := lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', thresholds);
        ELSIF kind = 'lifecycle_stage, named' THEN
            v := lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', thresholds, names);
        ELSIF kind = 'tier_for, numeric' THEN
            v := tier_for(100::numeric, numeric_cuts, names[1:3]);
        ELSIF kind = 'tier_for, float8, hysteresis' THEN
            v := tier_for(100::float8, float_cuts, names[1:3], 'old', false);
        ELSIF kind = 'rfm_segment, rules' THEN
            rules := ARRAY[ROW('segment ' || i, 1, 5, 1, 5, 1, 5)::rfm_segment_rule];
            v := rfm_segment('345'::rfm_score, rules);
        ELSIF kind = 'rfm_score, bins' THEN
            bins := ROW(3, DATE '2024-12-31', 10, float_cuts, '{1,2}', '{10,20}', i, 2, 15);
            v := rfm_score(summary, bins)::text;
        ELSIF kind = 'kmeans_assign, model' THEN
            model := ROW(2, 2, 10, '{0,0}', '{1,1}', '{{0,0},{1,1}}', ARRAY[ARRAY[0, 0], ARRAY[i, 1]], '{5,5}', 1,
                         NULL, 1, true);
            v := kmeans_assign(ARRAY[1, 2]::float8[], model)::text;
        END IF;
        IF i IN (1000, 20000) THEN
            bytes := (SELECT sum(used_bytes) FROM pg_backend_memory_contexts);
            after_1000 := coalesce(after_1000, bytes);
        END IF;
    END LOOP;
    RETURN bytes - after_1000;
END $$;
SELECT kind, pg_temp.cache_growth(kind) < 100000 AS memory_stays_flat
FROM unnest(ARRAY['lifecycle_stage', 'lifecycle_stage, named', 'tier_for, numeric', 'tier_for, float8, hysteresis',
                  'rfm_segment, rules', 'rfm_score, bins', 'kmeans_assign, model']) kind;
-- The caches still answer correctly when the argument changes back and forth.
SELECT t::text AS thresholds, lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31', t) AS stage
FROM (VALUES (1, '{10,20,400}'::integer[]), (2, '{10,20,30}'), (3, '{10,20,400}')) v(n, t) ORDER BY n;

-- ----------------------------------------------------------------- cancel
-- Statements that would run for many seconds stop at statement_timeout,
-- within a second (the loops poll every few milliseconds).
CREATE FUNCTION pg_temp.canceled_in_time(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
BEGIN
    EXECUTE statement;
    RETURN 'completed';
EXCEPTION WHEN query_canceled THEN
    RETURN CASE WHEN clock_timestamp() - started < interval '1 second' THEN 'canceled in time' ELSE 'canceled late' END;
END $$;
-- 30,000 customers (as many distinct triples) whose Pareto/NBD likelihood
-- keeps rising towards s, beta -> infinity (the fit takes about 5 s), and
-- 20,000 points for 1,000 clusters (about 5 s).
CREATE TEMPORARY TABLE boundary_fit AS
SELECT (g % 13)::float8 AS x, CASE WHEN g % 13 = 0 THEN 0 ELSE (g % 9973) / 100.0 END AS t_x,
       100 + (g % 9973) / 100.0 + (g % 7) AS t_cal
FROM generate_series(1, 30000) g;
CREATE TEMPORARY TABLE many_points AS
SELECT ARRAY(SELECT sin(g * j) + (g % 17) FROM generate_series(1, 10) j) AS f FROM generate_series(1, 20000) g;
SET statement_timeout = '200ms';
-- CLV summed over 100,000 periods at a negligible discount rate (about 90 s).
SELECT pg_temp.canceled_in_time(
    $$SELECT clv(bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 39.86, 24.65, 100000, 1e-12, 4.33)$$);
SELECT pg_temp.canceled_in_time($$SELECT pareto_nbd_fit(x, t_x, t_cal) FROM boundary_fit$$);
SELECT pg_temp.canceled_in_time($$SELECT kmeans_fit(f, 1000) FROM many_points$$);
RESET statement_timeout;
-- A discount rate makes the far periods negligible: the sum stops once the
-- rest cannot change it (the published example, 100,000 monthly periods).
SELECT round(clv(bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 39.86, 24.65, 100000, 0.01, 4.33)::numeric, 4)
    AS clv_100000_periods,
       round(clv(bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 39.86, 24.65, 5000, 0.01, 4.33)::numeric, 4)
    AS clv_5000_periods;

-- ------------------------------------------------------------- Pareto/NBD
-- 20 customers whose likelihood rises towards s, beta -> infinity (a
-- homogeneous dropout rate mu = s / beta): the series of the 2F1 near z = 1
-- once took two minutes. The fit stops on the ridge, says so, and its
-- log-likelihood is that of the limit (-81.59221850, from the limiting model's
-- own integral), to 1e-6.
CREATE TEMPORARY TABLE ridge AS
SELECT (g % 4)::float8 AS x,
       CASE WHEN g = 3 THEN 0 WHEN g % 4 = 0 THEN 0 ELSE (g % 7) + 1 END::float8 AS t_x,
       (g % 5 + 10)::float8 AS t_cal
FROM generate_series(1, 20) g;
CREATE FUNCTION pg_temp.ridge_fit() RETURNS TABLE (r numeric, alpha numeric, mu numeric, ll_of_limit boolean,
                                                   converged boolean, fast boolean)
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    m pareto_nbd_model;
BEGIN
    m := (SELECT pareto_nbd_fit(ridge.x, ridge.t_x, ridge.t_cal) FROM ridge);
    RETURN QUERY SELECT round(m.r::numeric, 2), round(m.alpha::numeric, 1), round((m.s / m.beta)::numeric, 4),
                        abs(m.log_likelihood - (-81.5922185011)) < 1e-6, m.converged,
                        clock_timestamp() - started < interval '1 second';
END $$;
SELECT * FROM pg_temp.ridge_fit();
-- The CDNOW estimates (Fader, Hardie & Lee) are unchanged: see btyd and cdnow.

-- ----------------------------------------------------------------- limits
-- Documented limits are 54000 errors, raised before the memory is taken.
-- Parameter arrays: at most 1000 elements.
SELECT pg_temp.error_of($$SELECT lifecycle_stage(DATE '2024-01-01', DATE '2024-12-31',
    ARRAY(SELECT generate_series(1, 1001)), ARRAY(SELECT 's' || g FROM generate_series(1, 1002) g))$$) AS error;
SELECT pg_temp.error_of($$SELECT tier_for(1.0, ARRAY(SELECT g::numeric FROM generate_series(1, 1001) g),
    ARRAY(SELECT 't' || g FROM generate_series(0, 1001) g))$$) AS error;
SELECT pg_temp.error_of($$SELECT rfm_segment('111'::rfm_score,
    ARRAY(SELECT ROW('s', 1, 5, 1, 5, 1, 5)::rfm_segment_rule FROM generate_series(1, 1001)))$$) AS error;
-- One basket: at most 1,000,000 array elements (and 1000 distinct items).
SELECT pg_temp.error_of($$SELECT affinity(array_fill('x'::text, ARRAY[1000001]))$$) AS error;
-- One customer: at most 1,000,000 distinct purchase days (a summary grouped
-- by nothing, over 1,000,001 days).
SELECT pg_temp.error_of($$SELECT rfm_agg(DATE '2000-01-01' + g, 1.0) FROM generate_series(0, 1000000) g$$) AS error;
SELECT (rfm_agg(DATE '2000-01-01' + g, 1.0)).purchase_days FROM generate_series(0, 999999) g;
-- k-means: at most 1000 features (and 10,000,000 points, 50,000,000 values).
SELECT pg_temp.error_of($$SELECT kmeans_fit(array_fill(1.0::float8, ARRAY[1001]), 1)$$) AS error;

-- ---------------------------------------------------- no NaN, no XX000
-- Model constructors validate: NaN, infinite, zero and negative parameters
-- are 22023, naming the parameter.
SELECT pg_temp.error_of($$SELECT bgnbd_model('NaN', 4.414, 0.793, 2.426)$$) AS error;
SELECT pg_temp.error_of($$SELECT bgnbd_model(0.243, 'Infinity', 0.793, 2.426)$$) AS error;
SELECT pg_temp.error_of($$SELECT pareto_nbd_model(0.553, 10.578, -0.606, 11.669)$$) AS error;
SELECT pg_temp.error_of($$SELECT pareto_nbd_model(0.553, 10.578, 0.606, 0)$$) AS error;
SELECT pg_temp.error_of($$SELECT gamma_gamma_model(6.25, 3.74, '-Infinity')$$) AS error;
SELECT (bgnbd_model(0.243, 4.414, 0.793, 2.426)).*;
SELECT (gamma_gamma_model(6.25, 3.74, 15.44)).*;
-- Customers beyond the documented range, and results out of range: 22023 /
-- 22003 with a readable message, never NaN, Infinity or an internal error.
SELECT pg_temp.error_of($$SELECT pareto_nbd_p_alive(pareto_nbd_model(0.553, 10.578, 0.606, 11.669),
    1e308, 30.43, 38.86)$$) AS error;
SELECT pg_temp.error_of($$SELECT bgnbd_expected(bgnbd_model(1e308, 1e-308, 1e308, 1e-308), 39)$$) AS error;
SELECT pg_temp.error_of($$SELECT bgnbd_expected(bgnbd_model(0.243, 4.414, 0.793, 2.426), 1e300, 2, 30.43, 38.86)$$)
    AS error;
-- The largest x accepted still gives probabilities: alive for sure when the
-- last purchase is at t_cal, and almost surely not 0.86 weeks of silence
-- later for a customer who bought every few seconds.
SELECT pareto_nbd_p_alive(pareto_nbd_model(0.553, 10.578, 0.606, 11.669), 1e9, 38.86, 38.86) AS buying_now,
       pareto_nbd_p_alive(pareto_nbd_model(0.553, 10.578, 0.606, 11.669), 1e9, 38, 38.86) < 1e-6 AS silent_since,
       bgnbd_p_alive(bgnbd_model(0.243, 4.414, 0.793, 2.426), 1e9, 38, 38.86) < 1e-6 AS bgnbd_silent_since;
-- Extreme but valid parameters: every prediction is a finite number or an
-- error 22003 / 22023, over a grid of parameters from 1e-300 to 1e300.
CREATE FUNCTION pg_temp.outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v float8;
BEGIN
    EXECUTE statement INTO v;
    RETURN CASE WHEN v IS NULL THEN 'null' WHEN v = 'NaN' OR v IN ('Infinity', '-Infinity') THEN 'not finite'
                ELSE 'finite' END;
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE;
END $$;
SELECT pg_temp.outcome(format('SELECT %s(%s_model(%s, %s, %s, %s), %s)', f, m, p, q, p, q, args)) AS outcome,
       count(*) AS predictions
FROM unnest(ARRAY['1e-300', '1e-9', '0.5', '1e9', '1e300']) p,
     unnest(ARRAY['1e-300', '1', '1e300']) q,
     (VALUES ('bgnbd_p_alive', 'bgnbd', '2, 30.43, 38.86'), ('bgnbd_expected', 'bgnbd', '39, 2, 30.43, 38.86'),
             ('bgnbd_expected', 'bgnbd', '39'), ('bgnbd_repurchase_score', 'bgnbd', '39, 2, 30.43, 38.86'),
             ('pareto_nbd_p_alive', 'pareto_nbd', '2, 30.43, 38.86'),
             ('pareto_nbd_expected', 'pareto_nbd', '39, 2, 30.43, 38.86'),
             ('pareto_nbd_expected', 'pareto_nbd', '39'),
             ('pareto_nbd_repurchase_score', 'pareto_nbd', '39, 2, 30.43, 38.86'),
             ('clv', 'bgnbd', '2, 30.43, 38.86, 10, 12, 0.01'),
             ('clv', 'pareto_nbd', '2, 30.43, 38.86, 10, 12, 0.01')) fm(f, m, args)
GROUP BY 1 ORDER BY 1;
-- rfm_bins over spends near the limits of float8: percentile_cont's
-- interpolation overflows to Infinity here; the cuts stay finite, and
-- rfm_score accepts them.
CREATE TEMPORARY TABLE extreme AS
SELECT c, rfm_agg(d, a) AS s
FROM (VALUES (1, DATE '2024-01-01', -1.7e308::float8), (1, DATE '2024-01-01', 1), (2, DATE '2024-02-01', 1.7e308),
             (3, DATE '2024-01-01', -1.7e308), (3, DATE '2024-01-01', 1), (4, DATE '2024-03-05', 1.7e308)) v(c, d, a)
GROUP BY c;
SELECT percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY (s).monetary::float8) AS percentile_cont
FROM extreme;
WITH b AS (SELECT rfm_bins(s, DATE '2025-01-01') AS b FROM extreme)
SELECT (b).monetary_cuts, (b).monetary_mean,
       (SELECT string_agg(rfm_score(s, b)::text, ' ' ORDER BY c) FROM extreme) AS scores
FROM b;
-- Summary states of numeric and of float8 amounts do not merge: 22023, not
-- an internal error.
SELECT pg_temp.error_of($$SELECT rfm_state_merge(s) FROM (SELECT rfm_agg_state(DATE '2024-01-01', 1.0::numeric) AS s
    UNION ALL SELECT rfm_agg_state(DATE '2024-01-02', 1.0::float8)) t$$) AS error;
-- gamma_gamma_fit names how many customers have a zero or negative mean
-- spend (refunds), instead of stopping at the first.
SELECT pg_temp.error_of($$SELECT gamma_gamma_fit(x, m) FROM (VALUES (2, 10.0), (1, -3.5), (3, 0), (1, 20.0), (0, -1))
    v(x, m)$$) AS error;
-- NULL parameters of the per-customer functions are errors (22004), NULL
-- customers give NULL.
SELECT pg_temp.error_of($$SELECT lifecycle_stage(DATE '2024-01-01', NULL::date)$$) AS error;
SELECT pg_temp.error_of($$SELECT rfm_score(ROW(DATE '2024-01-01', DATE '2024-06-01', 3, 2, 100, 0)::rfm_summary,
    ROW(3, DATE '2024-12-31', 10, '{1,2}', '{1,2}', '{10,20}', 1, 2, 15)::rfm_bins, NULL)$$) AS error;
SELECT lifecycle_stage(NULL::date, DATE '2024-12-31') AS no_purchase,
       rfm_score(NULL::rfm_summary, NULL::rfm_bins, DATE '2024-12-31') AS no_customer;

-- ------------------------------------------------------------ search_path
-- The attacker plants a domain named float8 whose check runs a function of
-- theirs, in a schema another role puts before pg_catalog.
CREATE TABLE ca_trap.sprung (victim name);
CREATE FUNCTION ca_trap.trap() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ca_trap.sprung VALUES (current_user);
    RETURN true;
END $$;
CREATE DOMAIN ca_trap.float8 AS pg_catalog.float8 CHECK (ca_trap.trap());
GRANT USAGE ON SCHEMA ca_trap TO PUBLIC;
GRANT INSERT ON ca_trap.sprung TO PUBLIC;
RESET ROLE;
SET ROLE ca_limits_victim;
SET search_path = ca_trap, pg_catalog, public;
-- The trap works on the victim's own casts ...
SELECT 1::float8 AS own_cast;
-- ... but not through the extension's functions.
SELECT (m).r, (m).b, (m).log_likelihood IS NULL AS no_fit
FROM (SELECT bgnbd_model(0.243, 4.414, 0.793, 2.426) AS m) t;
SELECT (pareto_nbd_model(0.553, 10.578, 0.606, 11.669)).s, (gamma_gamma_model(6.25, 3.74, 15.44)).gamma;
SELECT round(bgnbd_expected(bgnbd_model(0.243, 4.414, 0.793, 2.426), 39, 2, 30.43, 38.86)::numeric, 3) AS expected;
RESET search_path;
RESET ROLE;
SELECT victim, count(*) FROM ca_trap.sprung GROUP BY 1;
-- A role that may create objects in the extension's schema (public here,
-- as in many warehouses) plants an overload closer to a call the
-- extension's own dynamic SQL makes: btyd_calibration's horizon once passed
-- an integer to btyd_inputs(date, date, bigint, date, text), so a
-- btyd_inputs taking an integer would run as whoever calibrates.
TRUNCATE ca_trap.sprung;
GRANT CREATE ON SCHEMA public TO ca_limits_attacker;
SET ROLE ca_limits_attacker;
CREATE FUNCTION public.btyd_inputs(date, date, integer, date, text) RETURNS btyd_input LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ca_trap.sprung VALUES (current_user);
    RETURN NULL;
END $$;
RESET ROLE;
SET ROLE ca_limits_victim;
CREATE TEMPORARY TABLE victim_orders AS
SELECT i % 40 AS customer, date '2024-01-01' + (i * 13 % 300) AS day, 10.0 AS amount
FROM generate_series(1, 2000) i;
SELECT frequency, customers, predicted > 0 AS predicted, actual
FROM btyd_calibration('victim_orders', 'customer', 'day', 'amount', '2024-06-01', '2024-10-01') ORDER BY 1;
SELECT count(*) AS periods FROM btyd_tracking('victim_orders', 'customer', 'day', 'amount', '2024-06-01', '2024-10-01');
RESET ROLE;
SELECT victim, count(*) AS planted_calls FROM ca_trap.sprung WHERE victim = 'ca_limits_victim' GROUP BY 1;
DROP FUNCTION public.btyd_inputs(date, date, integer, date, text);
REVOKE CREATE ON SCHEMA public FROM ca_limits_attacker;

-- Every SQL-language function of the extension has a pinned search_path
-- (the builder's are checked by the builder's tests).
SELECT p.oid::regprocedure AS unpinned
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_analytics'
JOIN pg_language l ON l.oid = p.prolang
WHERE l.lanname IN ('sql', 'plpgsql')
  AND p.proname NOT LIKE 'segment%' AND p.proname NOT LIKE '%segments' AND p.proname NOT LIKE '%segment_rule'
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
ORDER BY 1;

DROP OWNED BY ca_limits_attacker, ca_limits_victim;
DROP ROLE ca_limits_attacker;
DROP ROLE ca_limits_victim;

-- The install script runs as a superuser with search_path set to the
-- extension's schema, which a role that may install the extension (trusted:
-- any role with CREATE on a database) can own and fill first. Operators of
-- that schema taking exactly the mixed types the script compares (an oid
-- with a regclass or a regproc) would be a better match than pg_catalog's,
-- run during CREATE EXTENSION as the superuser, and, bound into a policy,
-- as every role reading the builds catalog. The script names pg_catalog's.
\set regress_db :DBNAME
\set regress_user :USER
SET client_min_messages = warning;
DROP DATABASE IF EXISTS ca_install_trap;
DROP ROLE IF EXISTS ca_installer;
RESET client_min_messages;
CREATE ROLE ca_installer LOGIN;
CREATE DATABASE ca_install_trap OWNER ca_installer;
\c ca_install_trap ca_installer
CREATE SCHEMA trap;
CREATE FUNCTION trap.escalate(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE ca_installer SUPERUSER';
    END IF;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE FUNCTION trap.eq_oid_regclass(oid, regclass) RETURNS boolean LANGUAGE sql AS 'SELECT trap.escalate($1, $2)';
CREATE FUNCTION trap.eq_oid_regproc(oid, regproc) RETURNS boolean LANGUAGE sql AS 'SELECT trap.escalate($1, $2)';
CREATE FUNCTION trap.eq_regproc_oid(regproc, oid) RETURNS boolean LANGUAGE sql AS 'SELECT trap.escalate($1, $2)';
CREATE OPERATOR trap.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = trap.eq_oid_regclass);
CREATE OPERATOR trap.= (LEFTARG = oid, RIGHTARG = regproc, FUNCTION = trap.eq_oid_regproc);
CREATE OPERATOR trap.= (LEFTARG = regproc, RIGHTARG = oid, FUNCTION = trap.eq_regproc_oid);
CREATE EXTENSION customer_analytics SCHEMA trap;
SELECT rolsuper AS installer_became_superuser FROM pg_roles WHERE rolname = 'ca_installer';
-- Nothing the script made uses an operator of the installer's schema.
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS bound_to_planted_operator
FROM pg_depend d JOIN pg_operator o ON d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid
WHERE o.oprnamespace = 'trap'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_depend x
                  WHERE x.classid = 'pg_operator'::regclass AND x.objid = o.oid AND x.deptype = 'e');
-- The aggregates were still recorded with their support functions' volatility.
SELECT count(*) > 0 AS stable_aggregates FROM pg_proc p
WHERE p.prokind = 'a' AND p.pronamespace = 'trap'::regnamespace AND p.provolatile = 's';
\c :regress_db :regress_user
DROP DATABASE ca_install_trap;
DROP ROLE ca_installer;
