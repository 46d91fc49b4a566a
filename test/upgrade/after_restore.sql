-- Checks in a database restored by pg_restore from a dump of the upgraded
-- one: the catalog rows, the triggers and the stored states came along,
-- refreshes work and equal fresh builds, and new builds get new ids.
CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'restore check failed: %', what;
    END IF;
    RAISE NOTICE 'ok: %', what;
END $$;

SELECT pg_temp.check(count(*) = 3, 'the builds were restored') FROM segment_builds;
SELECT pg_temp.check(count(*) = 1, 'the rule was restored') FROM segment_tag_rules;
SELECT pg_temp.check(count(*) = 3 AND count(*) FILTER (WHERE rfm_state_summary(state) IS NOT DISTINCT FROM summary) = 3,
                     'stored states read after the restore') FROM kept_states;
SET ROLE upgrade_owner;
INSERT INTO orders (customer_id, ordered_on, amount)
SELECT g % 2300, DATE '2024-12-20' + g % 10, (g % 200) + 0.75 FROM generate_series(1, 150) g;
SELECT pg_temp.check(count(*) = 150, 'the restored triggers capture new orders') FROM segments_pending WHERE kind = 'i';
SELECT pg_temp.check(refresh_segments('segments', DATE '2024-12-31') ->> 'mode' = 'incremental',
                     'the restored build refreshes incrementally');
SELECT build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'segments_fresh', DATE '2024-12-31');
SELECT add_segment_rule('segments_fresh', 'big_spender', 'monetary > 2000');
SELECT refresh_segments('segments_fresh', DATE '2024-12-31');
SELECT pg_temp.check((SELECT count(*) FROM (SELECT * FROM segments EXCEPT SELECT * FROM segments_fresh) d) = 0
                     AND (SELECT count(*) FROM (SELECT * FROM segments_fresh EXCEPT SELECT * FROM segments) d) = 0,
                     'the restored build equals a fresh build');
SELECT pg_temp.check(count(DISTINCT build_id) = 4, 'a new build gets an id of its own') FROM segment_builds;
-- The derived build: its state, statistics and distribution came along.
SELECT pg_temp.check(refresh_segments('derived_segments', DATE '2025-01-01') ->> 'mode' = 'incremental',
                     'the restored derived build refreshes incrementally');
SELECT build_segments('orders', 'customer_id', 'ordered_on', 'amount', 'derived_fresh', DATE '2025-01-01');
SELECT pg_temp.check((SELECT count(*) FROM (SELECT * FROM derived_segments EXCEPT SELECT * FROM derived_fresh) d) = 0
                     AND (SELECT count(*) FROM (SELECT * FROM derived_fresh EXCEPT SELECT * FROM derived_segments) d) = 0,
                     'the restored derived build equals a fresh build');
SELECT drop_segments('derived_fresh');
SELECT drop_segments('segments_fresh');
SELECT pg_temp.check(count(*) = 6, 'dropping the new build leaves the restored triggers')
FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal;
RESET ROLE;
