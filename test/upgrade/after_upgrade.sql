-- Checks after ALTER EXTENSION customer_analytics UPDATE on the database
-- before_upgrade.sql made. Run as a superuser with ON_ERROR_STOP; every
-- check raises when it fails.
CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'upgrade check failed: %', what;
    END IF;
    RAISE NOTICE 'ok: %', what;
END $$;

SELECT pg_temp.check(extversion = '0.2.0', 'the extension is at 0.2.0')
FROM pg_extension WHERE extname = 'customer_analytics';
-- What another role planted is gone; the owner's build and rule are kept.
SELECT pg_temp.check(count(*) = 2, 'the two real builds are kept, the planted one is gone') FROM segment_builds;
SELECT pg_temp.check(array_agg(tag ORDER BY tag) = '{big_spender}', 'the planted rule is gone')
FROM segment_tag_rules;
SELECT pg_temp.check(count(*) = 0, 'no SECURITY DEFINER capture function is left')
FROM pg_proc WHERE prosecdef AND proname LIKE '%\_capture';
SELECT pg_temp.check(count(*) = 3 AND bool_and(tgfoid = 'segment_capture()'::regprocedure),
                     'the source has the three capture triggers of 0.2.0')
FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal;
-- States stored by 0.1.0 still read, as the summaries 0.1.0 gave.
SELECT pg_temp.check(count(*) = 3 AND count(*) FILTER (WHERE rfm_state_summary(state) IS NOT DISTINCT FROM summary) = 3,
                     'numeric states kept by 0.1.0 read back unchanged') FROM kept_states;
SELECT pg_temp.check(count(*) = 2 AND count(*) FILTER (WHERE rfm_state_summary(state) IS NOT DISTINCT FROM summary) = 2,
                     'float8 states kept by 0.1.0 read back unchanged') FROM kept_float_states;
SELECT pg_temp.check((SELECT rfm_state_summary(rfm_state_merge(state)) FROM kept_states WHERE k IN (1, 2)) =
                     (SELECT rfm_agg(d, a) FROM (VALUES (DATE '2024-01-01', 10.50::numeric), (DATE '2024-01-03', 20.25),
                          (DATE '2024-01-03', -5), (DATE '2024-02-01', 1e40),
                          (DATE '2024-02-02', 123456789012345678901234567890.123456789),
                          (DATE '2024-02-02', -1e39)) v(d, a)),
                     'states kept by 0.1.0 merge with each other');

-- The view over aggregates whose state type changed is kept and answers as
-- under 0.1.0.
SELECT pg_temp.check(count(*) = 24 AND count(*) FILTER (WHERE v.summary = o.summary AND v.gini = o.gini
                                                              AND v.top20 = o.top20) = 24
                     AND count(*) = (SELECT count(*) FROM spend_by_month_0_1_0),
                     'a view over aggregates whose state type changed is kept and answers as before')
FROM spend_by_month v JOIN spend_by_month_0_1_0 o USING (month);

-- Options 0.1.0 ignored keep meaning nothing: the build's row states stay.
SELECT pg_temp.check(options = '{}' AND order_column IS NULL, 'options 0.1.0 ignored are removed')
FROM segment_builds WHERE target = 'segments'::regclass;

-- The old builds refresh, first merging the orders captured before the
-- upgrade, and equal fresh builds of the same orders.
SET ROLE upgrade_owner;
SELECT pg_temp.check(layout = 1, 'builds of 0.1.0 keep their views until their next refresh')
FROM segment_builds WHERE target = 'segments'::regclass;
SELECT pg_temp.check(refresh_segments('segments', DATE '2024-12-31') ->> 'mode' = 'incremental',
                     'the incremental build refreshes incrementally');
SELECT pg_temp.check(round(sum(customer_share), 6) = 1 AND round(sum(revenue_share), 6) = 1,
                     'after the refresh, shares in the views are fractions') FROM segments_segment_sizes;
SELECT pg_temp.check(obj_description('segments_segment_sizes'::regclass, 'pg_class') IS NOT NULL
                     AND col_description('segments'::regclass, 1) IS NOT NULL,
                     'after the refresh, the views and columns have comments');
SELECT pg_temp.check(bool_and(c.relowner = 'upgrade_owner'::regrole), 'the replaced views still belong to the owner')
FROM pg_class c WHERE c.relname LIKE 'segments\_%' AND c.relkind = 'v';
SELECT pg_temp.check(layout = 2, 'the refreshed build has the layout of 0.2.0')
FROM segment_builds WHERE target = 'segments'::regclass;
INSERT INTO orders (customer_id, ordered_on, amount)
SELECT g % 2200, DATE '2024-12-15' + g % 15, (g % 300) + 0.5 FROM generate_series(1, 200) g;
SELECT pg_temp.check(count(*) = 200, 'orders inserted after the upgrade are captured')
FROM segments_pending WHERE kind = 'i';
SELECT pg_temp.check(refresh_segments('segments', DATE '2024-12-31') ->> 'orders_merged' = '200',
                     'the captured orders are merged');
SELECT pg_temp.check(refresh_segments('recent_segments', DATE '2024-12-31') ->> 'mode' = 'full',
                     'the view-based build rebuilds');
SELECT build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'segments_fresh', DATE '2024-12-31');
SELECT add_segment_rule('segments_fresh', 'big_spender', 'monetary > 2000');
SELECT refresh_segments('segments_fresh', DATE '2024-12-31');
SELECT pg_temp.check((SELECT count(*) FROM (SELECT * FROM segments EXCEPT SELECT * FROM segments_fresh) d) = 0
                     AND (SELECT count(*) FROM (SELECT * FROM segments_fresh EXCEPT SELECT * FROM segments) d) = 0,
                     'the upgraded build equals a fresh build');
SELECT build_segments('recent_orders', 'customer_id', 'ordered_on', 'amount', 'recent_fresh', DATE '2024-12-31');
SELECT pg_temp.check((SELECT count(*) FROM (SELECT * FROM recent_segments EXCEPT SELECT * FROM recent_fresh) d) = 0
                     AND (SELECT count(*) FROM (SELECT * FROM recent_fresh EXCEPT SELECT * FROM recent_segments) d) = 0,
                     'the upgraded view-based build equals a fresh build');
SELECT drop_segments('segments_fresh');
SELECT drop_segments('recent_fresh');

-- A build with an order key and a minimum on the upgraded database: the
-- capture copies the key, and an incremental refresh equals a fresh build.
SELECT build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'order_segments', DATE '2024-12-31',
                      options => '{"order_column": "order_id", "min_purchase": 0.01}');
INSERT INTO orders (customer_id, ordered_on, amount)
SELECT g % 60, DATE '2024-12-20', CASE WHEN g % 3 = 0 THEN -10 ELSE 0 END FROM generate_series(1, 60) g;
SELECT pg_temp.check(count(*) = 60 AND count(order_key) = 60, 'the capture copies the order key')
FROM order_segments_pending WHERE kind = 'i';
SELECT pg_temp.check(refresh_segments('order_segments', DATE '2024-12-31') ->> 'mode' = 'incremental',
                     'a build with an order key refreshes incrementally');
SELECT build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'order_fresh', DATE '2024-12-31',
                      options => '{"order_column": "order_id", "min_purchase": 0.01}');
SELECT pg_temp.check((SELECT count(*) FROM (SELECT * FROM order_segments EXCEPT SELECT * FROM order_fresh) d) = 0
                     AND (SELECT count(*) FROM (SELECT * FROM order_fresh EXCEPT SELECT * FROM order_segments) d) = 0
                     AND (SELECT sum(frequency) FROM order_fresh) < (SELECT count(*) FROM orders WHERE amount >= 0),
                     'a build with an order key equals a fresh build');
SELECT drop_segments('order_segments');
SELECT drop_segments('order_fresh');
-- A derived build (the default layout: a view) on the upgraded database,
-- kept for the restore test: refreshed after new orders it equals a fresh
-- build, and its migration view equals the stored build's.
SELECT build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'derived_segments', DATE '2024-12-31');
SELECT pg_temp.check(layout = 3 AND (SELECT relkind FROM pg_class WHERE oid = target) = 'v',
                     'a new build is a view over its state and statistics')
FROM segment_builds WHERE target = 'derived_segments'::regclass;
INSERT INTO orders (customer_id, ordered_on, amount)
SELECT g % 2400, DATE '2024-12-10' + g % 20, (g % 250) + 0.25 FROM generate_series(1, 120) g;
SELECT pg_temp.check(refresh_segments('derived_segments', DATE '2024-12-31') ->> 'mode' = 'incremental',
                     'the derived build refreshes incrementally');
SELECT build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'derived_fresh', DATE '2024-12-31',
                      '{"layout": "table"}');
SELECT pg_temp.check((SELECT count(*) FROM (SELECT * FROM derived_segments EXCEPT SELECT * FROM derived_fresh) d) = 0
                     AND (SELECT count(*) FROM (SELECT * FROM derived_fresh EXCEPT SELECT * FROM derived_segments) d) = 0,
                     'the derived build equals a fresh stored build');
SELECT drop_segments('derived_fresh');
SELECT refresh_segments('segments', DATE '2024-12-31');  -- the restore test expects nothing pending
RESET ROLE;
