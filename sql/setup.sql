-- Install as the test's superuser, then use it as an ordinary role: nothing
-- in the extension needs superuser once installed.
CREATE EXTENSION customer_analytics;
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'customer_analytics';

-- Every function of the extension is PARALLEL SAFE and none is VOLATILE,
-- except the builder's, which write tables, and rfm_summaries, PARALLEL
-- RESTRICTED (it starts workers of its own and may read temporary tables).
SELECT p.oid::regprocedure AS volatile_function, p.proparallel FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'customer_analytics')
   AND (p.provolatile = 'v' OR p.proparallel <> 's') ORDER BY p.oid::regprocedure::text;
-- STABLE: the timestamptz variants (they depend on the session's TimeZone)
-- and the builder's helpers that read catalogs and tables.
SELECT p.oid::regprocedure AS stable_function FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'customer_analytics')
   AND p.provolatile = 's' ORDER BY p.oid::regprocedure::text;

SET client_min_messages = warning;
DROP ROLE IF EXISTS ca_analyst;
RESET client_min_messages;
CREATE ROLE ca_analyst NOLOGIN;
GRANT CREATE, USAGE ON SCHEMA public TO ca_analyst;
