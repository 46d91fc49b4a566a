-- A database on 0.1.0 as a user left it: builds (one incremental on a
-- table, one on a view), a rule, orders captured but not yet merged, states
-- kept in a table of the user's, and what 0.1.0 let any role plant in the
-- builder's catalog. Run as a superuser with ON_ERROR_STOP.
CREATE EXTENSION customer_analytics VERSION '0.1.0';
CREATE ROLE upgrade_owner;
CREATE ROLE upgrade_attacker;
GRANT CREATE ON SCHEMA public TO upgrade_owner, upgrade_attacker;

SET ROLE upgrade_owner;
CREATE TABLE orders (order_id bigserial PRIMARY KEY, customer_id int, ordered_on date, amount numeric(12, 2));
INSERT INTO orders (customer_id, ordered_on, amount)
SELECT abs(hashint4(g)) % 2000, DATE '2023-01-01' + abs(hashint4(g * 7 + 3)) % 700,
       ((abs(hashint4(g * 13 + 1)) % 40000) - 800) / 100.0
FROM generate_series(1, 20000) g;
-- 0.1.0 ignores options it does not know, such as those 0.2.0 adds.
SELECT build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'segments', DATE '2024-12-31',
                      options => '{"order_column": "order_id", "min_purchase": 5}');
SELECT add_segment_rule('segments', 'big_spender', 'monetary > 2000');
CREATE VIEW recent_orders AS SELECT * FROM orders WHERE ordered_on >= DATE '2024-01-01';
SELECT build_segments('recent_orders', 'customer_id', 'ordered_on', 'amount', 'recent_segments', DATE '2024-12-31');
-- Orders since the last refresh: they wait in segments_pending across the upgrade.
INSERT INTO orders (customer_id, ordered_on, amount)
SELECT g % 2100, DATE '2024-12-01' + g % 30, (g % 500) + 0.99 FROM generate_series(1, 300) g;

-- States kept by the user, with the summaries 0.1.0 computed for them:
-- numeric totals small and beyond 128 bits (the overflow tail), refunds
-- only, float8 totals.
CREATE TABLE kept_states AS
SELECT k, rfm_agg_state(d, a) AS state, rfm_agg(d, a) AS summary
FROM (VALUES (1, DATE '2024-01-01', 10.50::numeric), (1, DATE '2024-01-03', 20.25), (1, DATE '2024-01-03', -5),
             (2, DATE '2024-02-01', 1e40), (2, DATE '2024-02-02', 123456789012345678901234567890.123456789),
             (2, DATE '2024-02-02', -1e39), (3, DATE '2024-03-01', -7.5)) v(k, d, a)
GROUP BY k;
CREATE TABLE kept_float_states AS
SELECT k, rfm_agg_state(d, a) AS state, rfm_agg(d, a) AS summary
FROM (VALUES (1, DATE '2024-01-01', 0.1::float8), (1, DATE '2024-01-02', 0.2), (2, DATE '2024-05-05', 1e300),
             (2, DATE '2024-05-06', -2.5)) v(k, d, a)
GROUP BY k;

-- A view over aggregates whose state type 0.2.0 changes, with what 0.1.0
-- computed: the upgrade must keep the view (it replaces the aggregates in
-- place) and its answers.
CREATE VIEW spend_by_month AS
SELECT date_trunc('month', ordered_on)::date AS month, rfm_agg(ordered_on, amount) AS summary,
       gini(greatest(amount, 0)::float8) AS gini, pareto_share(greatest(amount, 0)::float8, 0.2) AS top20
FROM orders GROUP BY 1;
CREATE TABLE spend_by_month_0_1_0 AS SELECT * FROM spend_by_month;

-- What 0.1.0 let another role do: plant a rule on this build (it would have
-- run with the refresher's rights) and a build row for a future table.
SET ROLE upgrade_attacker;
INSERT INTO segment_tag_rules (target, tag, condition) VALUES ('segments', 'planted', 'pg_sleep(0) IS NOT NULL');
INSERT INTO segment_builds VALUES (999999, 'upgrade_attacker', 'orders', 'customer_id', 'ordered_on', 'amount', '{}',
    'orders', 'orders', 'orders', true, DATE '2024-01-01', 1, 'build', now(), now(), 0, 0);
RESET ROLE;
