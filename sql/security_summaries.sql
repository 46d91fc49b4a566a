-- rfm_summaries reads tables through the table access method, not through
-- a query, so it must grant exactly what a SELECT of the same columns
-- grants: the table privilege or the privilege on every column it reads,
-- never rows that row-level security hides (a table whose policies apply
-- to the caller is refused), and nothing but tables.
SET client_min_messages = warning;
DROP ROLE IF EXISTS ca_bulk_attacker;
DROP ROLE IF EXISTS ca_bulk_owner;
RESET client_min_messages;
CREATE ROLE ca_bulk_attacker;
CREATE ROLE ca_bulk_owner;
GRANT CREATE ON SCHEMA public TO ca_bulk_owner;

SET ROLE ca_bulk_owner;
CREATE TABLE sec_orders (customer_id int, order_date date, amount numeric, card_number text);
INSERT INTO sec_orders
SELECT i % 40, DATE '2024-01-01' + i % 90, (i % 17) * 3.25 - 5, 'card-' || i FROM generate_series(1, 2000) i;
RESET ROLE;

-- No privilege: the SELECT's error, 42501.
SET ROLE ca_bulk_attacker;
SELECT count(*) FROM sec_orders;
SELECT count(*) FROM rfm_summaries('sec_orders', 'customer_id', 'order_date', 'amount');
RESET ROLE;

-- Column privileges on some of the columns read: refused; on all of them:
-- allowed, and the result is the SELECT's.
SET ROLE ca_bulk_owner;
GRANT SELECT (customer_id, order_date) ON sec_orders TO ca_bulk_attacker;
RESET ROLE;
SET ROLE ca_bulk_attacker;
SELECT count(*) FROM (SELECT customer_id, rfm_agg(order_date, amount) FROM sec_orders GROUP BY 1) q;
SELECT count(*) FROM rfm_summaries('sec_orders', 'customer_id', 'order_date', 'amount');
RESET ROLE;
SET ROLE ca_bulk_owner;
GRANT SELECT (amount) ON sec_orders TO ca_bulk_attacker;
RESET ROLE;
SET ROLE ca_bulk_attacker;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE b.summary::text = r.s::text) AS equal
FROM rfm_summaries('sec_orders', 'customer_id', 'order_date', 'amount') b
JOIN (SELECT customer_id, rfm_agg(order_date, amount) AS s FROM sec_orders GROUP BY 1) r ON r.customer_id = b.customer;
-- An order column counts as a column read.
SELECT count(*) FROM rfm_summaries('sec_orders', 'customer_id', 'order_date', 'amount', order_column => 'card_number');
RESET ROLE;

-- Row-level security: the attacker's SELECT sees its policy's rows only;
-- rfm_summaries would see them all, so it refuses.
SET ROLE ca_bulk_owner;
CREATE TABLE sec_rls AS SELECT * FROM sec_orders;
ALTER TABLE sec_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY sec_rls_small ON sec_rls FOR SELECT USING (customer_id < 5);
GRANT SELECT ON sec_rls TO ca_bulk_attacker;
RESET ROLE;
SET ROLE ca_bulk_attacker;
SELECT count(DISTINCT customer_id) AS customers_visible FROM sec_rls;
SELECT count(*) FROM rfm_summaries('sec_rls', 'customer_id', 'order_date', 'amount');
-- With row_security off, a SELECT that policies would filter is an error,
-- and so is rfm_summaries.
SET row_security = off;
SELECT count(*) FROM sec_rls;
SELECT count(*) FROM rfm_summaries('sec_rls', 'customer_id', 'order_date', 'amount');
RESET row_security;
RESET ROLE;
-- The owner is not subject to its table's policies (as in a SELECT)...
SET ROLE ca_bulk_owner;
SELECT count(*) FROM rfm_summaries('sec_rls', 'customer_id', 'order_date', 'amount');
-- ...unless they are forced on it.
ALTER TABLE sec_rls FORCE ROW LEVEL SECURITY;
SELECT count(*) FROM rfm_summaries('sec_rls', 'customer_id', 'order_date', 'amount');
RESET ROLE;
-- PostgreSQL applies the policies of the table a query names, not those of
-- its partitions: a query of the parent reads a partition's every row, and
-- so does rfm_summaries.
SET ROLE ca_bulk_owner;
CREATE TABLE sec_parts (customer_id int, order_date date, amount numeric) PARTITION BY LIST (customer_id);
CREATE TABLE sec_parts_low PARTITION OF sec_parts FOR VALUES IN (1, 2, 3);
CREATE TABLE sec_parts_rest PARTITION OF sec_parts DEFAULT;
INSERT INTO sec_parts SELECT customer_id, order_date, amount FROM sec_orders;
ALTER TABLE sec_parts_low ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON sec_parts TO ca_bulk_attacker;
RESET ROLE;
SET ROLE ca_bulk_attacker;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE b.summary::text = r.s::text) AS equal
FROM rfm_summaries('sec_parts', 'customer_id', 'order_date', 'amount') b
JOIN (SELECT customer_id, rfm_agg(order_date, amount) AS s FROM sec_parts GROUP BY 1) r ON r.customer_id = b.customer;
-- The partition itself, named directly, is under its policies (none: no
-- rows for anyone but its owner) and not readable without a grant.
SELECT count(*) FROM rfm_summaries('sec_parts_low', 'customer_id', 'order_date', 'amount');
RESET ROLE;

-- Views are refused, even ones the caller may read: a view's rows are a
-- query's (with its owner's rights, security barriers, functions), which
-- only the executor computes.
SET ROLE ca_bulk_owner;
CREATE VIEW sec_view AS SELECT * FROM sec_orders WHERE customer_id < 5;
CREATE VIEW sec_barrier WITH (security_barrier) AS SELECT * FROM sec_orders WHERE customer_id < 5;
GRANT SELECT ON sec_view, sec_barrier TO ca_bulk_attacker;
RESET ROLE;
SET ROLE ca_bulk_attacker;
SELECT count(*) FROM sec_view;
SELECT count(*) FROM rfm_summaries('sec_view', 'customer_id', 'order_date', 'amount');
SELECT count(*) FROM rfm_summaries('sec_barrier', 'customer_id', 'order_date', 'amount');
-- Catalogs the role may not read stay closed, and system columns are not
-- columns it reads.
SELECT count(*) FROM rfm_summaries('pg_authid', 'oid', 'rolvaliduntil', 'rolconnlimit');
SELECT count(*) FROM rfm_summaries('sec_orders', 'xmin', 'order_date', 'amount');
RESET ROLE;

-- A schema without USAGE hides its tables before rfm_summaries is called.
CREATE SCHEMA sec_hidden;
CREATE TABLE sec_hidden.orders AS SELECT * FROM sec_orders;
GRANT SELECT ON sec_hidden.orders TO ca_bulk_attacker;
SET ROLE ca_bulk_attacker;
SELECT count(*) FROM rfm_summaries('sec_hidden.orders', 'customer_id', 'order_date', 'amount');
RESET ROLE;

DROP SCHEMA sec_hidden CASCADE;
DROP OWNED BY ca_bulk_owner;
DROP OWNED BY ca_bulk_attacker;
DROP ROLE ca_bulk_attacker;
DROP ROLE ca_bulk_owner;
