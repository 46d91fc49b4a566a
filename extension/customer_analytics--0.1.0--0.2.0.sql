-- customer_analytics 0.1.0 -> 0.2.0, applied by
-- ALTER EXTENSION customer_analytics UPDATE TO '0.2.0'. Written by hand; the
-- upgrade test (test/upgrade) checks that it reaches what a fresh install of
-- 0.2.0 creates, with existing builds and stored states intact.
\echo Use "ALTER EXTENSION customer_analytics UPDATE TO '0.2.0'" to load this file. \quit
