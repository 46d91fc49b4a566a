-- customer_analytics 0.1.0, built by the Makefile from extension/0.1.0/*.sql
-- in name order.
\echo Use "CREATE EXTENSION customer_analytics" to load this file. \quit
