-- customer_analytics: the install script of the current version, built by
-- the Makefile from extension/source/*.sql in name order. Released versions
-- are frozen in extension/customer_analytics--VERSION.sql; changes reach
-- existing databases through extension/customer_analytics--A--B.sql.
\echo Use "CREATE EXTENSION customer_analytics" to load this file. \quit
