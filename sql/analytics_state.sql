-- analytics_state: the state type of the aggregates that Citus splits into
-- worker partials and a coordinator combine. Its text (base64 of the
-- versioned serialized state) is what travels between nodes; whatever
-- arrives is read by the reader of the aggregate that made it, every field
-- checked, and anything wrong is refused with 22P03, never a crash.

-- The SQLSTATE, message and detail of an error, or 'ok'.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE query;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
END $$;

-- A state as Citus's workers ship it: an aggregate without a final function
-- returns its state; its text is what a worker sends.
CREATE AGGREGATE state_test_spend(float8) (
    SFUNC = gini_transfn, STYPE = analytics_state, COMBINEFUNC = pareto_spend_combinefn);
CREATE AGGREGATE state_test_share(float8, float8) (
    SFUNC = pareto_share_transfn, STYPE = analytics_state, COMBINEFUNC = pareto_spend_combinefn);
CREATE AGGREGATE state_test_lorenz(float8, integer) (
    SFUNC = lorenz_curve_transfn, STYPE = analytics_state, COMBINEFUNC = pareto_spend_combinefn);
CREATE AGGREGATE state_test_tiers(float8) (
    SFUNC = pareto_tier_thresholds_transfn, STYPE = analytics_state, COMBINEFUNC = pareto_spend_combinefn);
CREATE AGGREGATE state_test_rfm(date, numeric) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, COMBINEFUNC = rfm_agg_combinefn);
CREATE AGGREGATE state_test_rfm_orders(date, numeric, bigint) (
    SFUNC = rfm_agg_transfn, STYPE = analytics_state, COMBINEFUNC = rfm_agg_combinefn);
CREATE AGGREGATE state_test_bins(rfm_summary, date) (
    SFUNC = rfm_bins_transfn, STYPE = analytics_state, COMBINEFUNC = rfm_bins_combinefn);
-- The other families, each through its own state aggregate.
CREATE AGGREGATE state_test_kmeans(float8[], integer) (
    SFUNC = kmeans_fit_transfn, STYPE = analytics_state, COMBINEFUNC = kmeans_fit_combinefn);
CREATE AGGREGATE state_test_overlap(boolean, boolean) (
    SFUNC = segment_overlap_transfn, STYPE = analytics_state, COMBINEFUNC = segment_overlap_combinefn);
CREATE AGGREGATE state_test_campaign(boolean, boolean, float8) (
    SFUNC = campaign_report_transfn, STYPE = analytics_state, COMBINEFUNC = campaign_report_combinefn);
CREATE AGGREGATE state_test_activity(date, text, date) (
    SFUNC = activity_status_transfn, STYPE = analytics_state, COMBINEFUNC = activity_status_combinefn);
CREATE AGGREGATE state_test_coupon(float8, boolean) (
    SFUNC = coupon_sensitivity_transfn, STYPE = analytics_state, COMBINEFUNC = coupon_sensitivity_combinefn);
CREATE AGGREGATE state_test_mix(boolean, boolean) (
    SFUNC = purchase_mix_transfn, STYPE = analytics_state, COMBINEFUNC = purchase_mix_combinefn);
CREATE AGGREGATE state_test_btyd(float8, float8, float8) (
    SFUNC = btyd_fit_transfn, STYPE = analytics_state, COMBINEFUNC = btyd_fit_combinefn);
CREATE AGGREGATE state_test_gamma_gamma(float8, float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = analytics_state, COMBINEFUNC = gamma_gamma_fit_combinefn);
CREATE AGGREGATE state_test_bgbb(float8, float8, float8) (
    SFUNC = bgbb_fit_transfn, STYPE = analytics_state, COMBINEFUNC = bgbb_fit_combinefn);
CREATE AGGREGATE state_test_sbg(float8, boolean) (
    SFUNC = sbg_fit_transfn, STYPE = analytics_state, COMBINEFUNC = sbg_fit_combinefn);
CREATE AGGREGATE state_test_cov(float8, float8, float8, float8[]) (
    SFUNC = btyd_cov_fit_transfn, STYPE = analytics_state, COMBINEFUNC = btyd_cov_fit_combinefn);
CREATE AGGREGATE state_test_affinity(text[]) (
    SFUNC = affinity_transfn, STYPE = analytics_state, COMBINEFUNC = affinity_combinefn);
CREATE AGGREGATE state_test_channel(text, boolean) (
    SFUNC = channel_preference_transfn, STYPE = analytics_state, COMBINEFUNC = channel_preference_combinefn);
-- What the coordinator does with the states it receives: combine, then finish.
CREATE AGGREGATE state_test_combined_gini(analytics_state) (
    SFUNC = pareto_spend_combinefn, STYPE = analytics_state, FINALFUNC = gini_finalfn);
CREATE AGGREGATE state_test_combined_bins(analytics_state) (
    SFUNC = rfm_bins_combinefn, STYPE = analytics_state, FINALFUNC = rfm_bins_finalfn);
CREATE AGGREGATE state_test_combined_rfm(analytics_state) (
    SFUNC = rfm_agg_combinefn, STYPE = analytics_state, FINALFUNC = rfm_agg_finalfn);

CREATE TABLE state_orders AS
SELECT g % 37 AS customer, g % 5 AS shard, DATE '2024-01-01' + (g * 7) % 300 AS day,
       ((g * 7919) % 10007) / 100.0 AS amount, g / 3 AS order_key
  FROM generate_series(1, 3000) g;

-- The text of a state is canonical base64 of the format's bytes: 'C' 'A',
-- version 2, the kind (9: spend sample), then the fields.
SELECT left(encode(decode(state_test_spend(x)::text, 'base64'), 'hex'), 8) AS header
  FROM (VALUES (1.0::float8), (2.0)) v(x);
-- Text round trip: the final functions give, from the text of a state,
-- the aggregates' own results.
SELECT gini_finalfn(state_test_spend(amount::float8)::text::analytics_state) = gini(amount::float8) AS gini_same,
       pareto_share_finalfn(state_test_share(amount::float8, 0.2)::text::analytics_state)
           = pareto_share(amount::float8, 0.2) AS share_same,
       lorenz_curve_finalfn(state_test_lorenz(amount::float8, 4)::text::analytics_state)
           = lorenz_curve(amount::float8, 4) AS lorenz_same,
       pareto_tier_thresholds_finalfn(state_test_tiers(amount::float8)::text::analytics_state)
           = pareto_tier_thresholds(amount::float8) AS thresholds_same,
       rfm_agg_finalfn(state_test_rfm(day, amount)::text::analytics_state) = rfm_agg(day, amount) AS rfm_same,
       rfm_agg_finalfn(state_test_rfm_orders(day, amount, order_key)::text::analytics_state)
           = rfm_agg(day, amount, order_key) AS rfm_orders_same
  FROM state_orders;
-- The same for rfm_bins over the customers' summaries.
WITH c AS (SELECT customer, shard, rfm_agg(day, amount) AS s FROM state_orders GROUP BY customer, shard)
SELECT rfm_bins_finalfn(state_test_bins(s, DATE '2024-12-31')::text::analytics_state) = rfm_bins(s, DATE '2024-12-31')
           AS bins_same,
       (SELECT state_test_combined_bins(b::analytics_state)
          FROM (SELECT state_test_bins(s, DATE '2024-12-31')::text AS b FROM c GROUP BY shard) p)
           = rfm_bins(s, DATE '2024-12-31') AS bins_combined_same,
       (rfm_bins(s, DATE '2024-12-31')).customers AS customers
  FROM c;
-- The same for the other families, per shard (so that each answer is
-- checked on groups of different sizes).
SELECT shard,
       kmeans_fit_finalfn(state_test_kmeans(ARRAY[amount::float8, customer], 2)::text::analytics_state)::text
           = kmeans_fit(ARRAY[amount::float8, customer], 2)::text AS kmeans,
       segment_overlap_finalfn(state_test_overlap(amount > 50, customer < 20)::text::analytics_state)
           = segment_overlap(amount > 50, customer < 20) AS overlap,
       campaign_report_finalfn(state_test_campaign(customer % 4 = 0, amount > 60, amount::float8)::text::analytics_state)
           = campaign_report(customer % 4 = 0, amount > 60, amount::float8) AS campaign,
       activity_status_finalfn(state_test_activity(day, CASE WHEN amount > 90 THEN 'checkin' ELSE 'visit' END,
                                                   DATE '2024-10-27')::text::analytics_state)
           IS NOT DISTINCT FROM activity_status(day, CASE WHEN amount > 90 THEN 'checkin' ELSE 'visit' END,
                                                DATE '2024-10-27') AS activity,
       activity_status(day, CASE WHEN amount > 90 THEN 'checkin' ELSE 'visit' END, DATE '2024-10-27') AS status,
       coupon_sensitivity_finalfn(state_test_coupon(amount::float8, customer % 3 = 0)::text::analytics_state)
           IS NOT DISTINCT FROM coupon_sensitivity(amount::float8, customer % 3 = 0) AS coupon,
       purchase_mix_finalfn(state_test_mix(customer % 2 = 0, amount > 80)::text::analytics_state)
           IS NOT DISTINCT FROM purchase_mix(customer % 2 = 0, amount > 80) AS mix,
       purchase_mix(customer % 2 = 0, amount > 80) AS mix_tag
  FROM state_orders GROUP BY shard ORDER BY shard;
-- The model fits, over the customers' inputs.
WITH i AS (SELECT customer, btyd_inputs(rfm_agg(day, amount), DATE '2024-12-31') AS i, count(*) - 1 AS x,
                  avg(amount)::float8 AS m
             FROM state_orders GROUP BY customer)
SELECT bgnbd_fit_finalfn(state_test_btyd((i).x, (i).t_x, (i).t_cal)::text::analytics_state)
           = bgnbd_fit((i).x, (i).t_x, (i).t_cal) AS bgnbd,
       pareto_nbd_fit_finalfn(state_test_btyd((i).x, (i).t_x, (i).t_cal)::text::analytics_state)
           = pareto_nbd_fit((i).x, (i).t_x, (i).t_cal) AS pareto_nbd,
       gamma_gamma_fit_finalfn(state_test_gamma_gamma(x, m)::text::analytics_state) = gamma_gamma_fit(x, m)
           AS gamma_gamma,
       (bgnbd_fit((i).x, (i).t_x, (i).t_cal)).customers AS customers
  FROM i;
-- The other fits: MBG/NBD shares BG/NBD's state; BG/BB, sBG and the
-- covariate fits have states of their own.
WITH i AS (SELECT customer, btyd_inputs(rfm_agg(day, amount), DATE '2024-12-31') AS i
             FROM state_orders GROUP BY customer)
SELECT mbgnbd_fit_finalfn(state_test_btyd((i).x, (i).t_x, (i).t_cal)::text::analytics_state)
           = mbgnbd_fit((i).x, (i).t_x, (i).t_cal) AS mbgnbd,
       bgnbd_cov_fit_finalfn(state_test_cov((i).x, (i).t_x, (i).t_cal, ARRAY[(customer % 2)::float8])::text::analytics_state)
           = bgnbd_cov_fit((i).x, (i).t_x, (i).t_cal, ARRAY[(customer % 2)::float8]) AS bgnbd_cov,
       pareto_nbd_cov_fit_finalfn(state_test_cov((i).x, (i).t_x, (i).t_cal, ARRAY[(customer % 2)::float8])::text::analytics_state)
           = pareto_nbd_cov_fit((i).x, (i).t_x, (i).t_cal, ARRAY[(customer % 2)::float8]) AS pareto_nbd_cov
  FROM i;
WITH d AS (SELECT g, g % 5 AS x, CASE WHEN g % 5 = 0 THEN 0 ELSE least(6, g % 5 + g % 2) END AS t_x
             FROM generate_series(1, 400) AS g)
SELECT bgbb_fit_finalfn(state_test_bgbb(x, t_x, 6)::text::analytics_state) = bgbb_fit(x, t_x, 6) AS bgbb,
       sbg_fit_finalfn(state_test_sbg((g % 7 + 1)::float8, g % 3 <> 0)::text::analytics_state)
           = sbg_fit((g % 7 + 1)::float8, g % 3 <> 0) AS sbg,
       (bgbb_fit(x, t_x, 6)).customers AS bgbb_customers, (sbg_fit((g % 7 + 1)::float8, g % 3 <> 0)).customers AS sbg_customers
  FROM d;
-- affinity and channel_preference, whose states hold C++ objects.
WITH b AS (SELECT customer, shard, array_agg(DISTINCT 'item' || (amount::int % 6)) AS items FROM state_orders
            GROUP BY customer, shard)
SELECT affinity_finalfn(state_test_affinity(items)::text::analytics_state)::text = affinity(items)::text AS affinity,
       (SELECT channel_preference_finalfn(state_test_channel('c' || customer % 3, amount > 70)::text::analytics_state)
             = channel_preference('c' || customer % 3, amount > 70) FROM state_orders) AS channel,
       (SELECT channel_preference('c' || customer % 3, amount > 70) FROM state_orders) AS choice,
       cardinality(affinity(items)) AS pairs
  FROM b;
-- A Gamma-Gamma state that skipped customers with a non-positive mean
-- spend cannot leave its process (its format has no count of them): its
-- text raises what the final function would have reported.
SELECT pg_temp.error_of($$SELECT state_test_gamma_gamma(x, m)::text
                            FROM (VALUES (2.0::float8, 10.0::float8), (3, -5), (4, 0)) v(x, m)$$);
-- A state of each family, cut short by one byte: refused. (encode() breaks
-- base64 lines at 76 characters; a state's text has no line breaks.)
SELECT family, pg_temp.error_of(format('SELECT %L::analytics_state',
           replace(encode(substr(decode(t, 'base64'), 1, length(decode(t, 'base64')) - 1), 'base64'), E'\n', '')))
  FROM (SELECT 'kmeans_fit', state_test_kmeans(ARRAY[amount::float8], 2)::text FROM state_orders UNION ALL
        SELECT 'segment_overlap', state_test_overlap(amount > 50, customer < 20)::text FROM state_orders UNION ALL
        SELECT 'campaign_report', state_test_campaign(customer % 4 = 0, amount > 60, amount::float8)::text
          FROM state_orders UNION ALL
        SELECT 'activity_status', state_test_activity(day, 'visit', DATE '2024-10-27')::text FROM state_orders UNION ALL
        SELECT 'coupon_sensitivity', state_test_coupon(amount::float8, customer % 3 = 0)::text FROM state_orders
        UNION ALL
        SELECT 'purchase_mix', state_test_mix(customer % 2 = 0, amount > 80)::text FROM state_orders UNION ALL
        SELECT 'btyd_fit', state_test_btyd(customer % 5, (customer % 5) * 2, 20)::text FROM state_orders UNION ALL
        SELECT 'gamma_gamma_fit', state_test_gamma_gamma(customer % 5 + 1, amount::float8 + 1)::text
          FROM state_orders UNION ALL
        SELECT 'affinity', state_test_affinity(ARRAY['a' || customer % 4, 'b' || shard])::text FROM state_orders
        UNION ALL
        SELECT 'channel_preference', state_test_channel('c' || customer % 3, amount > 70)::text FROM state_orders
       ) s(family, t)
 ORDER BY family;
-- Every executor path gives the same states: hash aggregation (spilling to
-- disk with a small work_mem), sorted groups (the aggregate context is
-- reset between groups) and running window aggregates (the final function
-- is called again on a state that keeps growing).
CREATE TEMP TABLE by_hash AS
SELECT customer, rfm_agg(day, amount) AS s, gini(amount::float8) AS g
  FROM state_orders GROUP BY customer;
SET enable_hashagg = off;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE h.s = o.s AND h.g = o.g) AS same_sorted
  FROM by_hash h JOIN (SELECT customer, rfm_agg(day, amount) AS s, gini(amount::float8) AS g FROM state_orders
                        GROUP BY customer) o USING (customer);
RESET enable_hashagg;
-- With the orders ten times over and the smallest work_mem, the hash
-- aggregation spills (batches written to disk and read back, states
-- flattened and re-read; thousands of groups, for the limit is checked per
-- new group); the result equals the sorted one.
CREATE FUNCTION pg_temp.spills(query text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
        IF line LIKE '%Disk Usage%' THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;
CREATE TEMP TABLE orders_x10 AS SELECT o.* FROM state_orders o, generate_series(1, 10);
SET enable_sort = off;
SET work_mem = '64kB';
SELECT pg_temp.spills('SELECT customer, rfm_agg(day, amount), gini(amount::float8) FROM orders_x10 GROUP BY customer, day')
           AS spills;
CREATE TEMP TABLE spilled AS
SELECT customer, day, rfm_agg(day, amount) AS s, gini(amount::float8) AS g FROM orders_x10 GROUP BY customer, day;
RESET work_mem;
RESET enable_sort;
SET enable_hashagg = off;
SELECT count(*) AS groups, count(*) FILTER (WHERE h.s = o.s AND h.g = o.g) AS same_spilled
  FROM spilled h JOIN (SELECT customer, day, rfm_agg(day, amount) AS s, gini(amount::float8) AS g FROM orders_x10
                        GROUP BY customer, day) o USING (customer, day);
RESET enable_hashagg;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE w.g IS NOT DISTINCT FROM (SELECT gini(amount::float8) FROM state_orders o
                                                         WHERE o.customer = w.customer AND o.day <= w.day)
                          AND w.s = (SELECT rfm_agg(day, amount) FROM state_orders o
                                      WHERE o.customer = w.customer AND o.day <= w.day)) AS same_running
  FROM (SELECT customer, day, gini(amount::float8) OVER (PARTITION BY customer ORDER BY day) AS g,
               rfm_agg(day, amount) OVER (PARTITION BY customer ORDER BY day) AS s
          FROM state_orders WHERE customer < 3) w;
-- A text survives output and input unchanged.
SELECT count(*) FILTER (WHERE s::text::analytics_state::text = s::text) AS same_text, count(*) AS states
  FROM (SELECT state_test_rfm(day, amount) AS s FROM state_orders GROUP BY customer) t;
-- Partial states per shard, shipped as text and combined, give the one-node
-- answer (per customer for rfm_agg, over everything for gini).
WITH partial AS (
    SELECT shard, customer, state_test_rfm(day, amount)::text AS rfm, state_test_spend(amount::float8)::text AS spend
      FROM state_orders GROUP BY shard, customer)
SELECT (SELECT state_test_combined_gini(spend::analytics_state) FROM partial)
           = (SELECT gini(amount::float8) FROM state_orders) AS gini_same,
       (SELECT count(*) FROM (SELECT customer, state_test_combined_rfm(rfm::analytics_state) AS s FROM partial GROUP BY customer) c
          JOIN (SELECT customer, rfm_agg(day, amount) AS s FROM state_orders GROUP BY customer) o USING (customer)
         WHERE c.s = o.s) AS rfm_customers_same;
-- A state with an order key and one without never combine.
SELECT pg_temp.error_of($$SELECT state_test_combined_rfm(s) FROM (
    SELECT state_test_rfm(day, amount) AS s FROM state_orders UNION ALL
    SELECT state_test_rfm_orders(day, amount, order_key) FROM state_orders) t$$);

-- Forged and corrupt texts: refused with 22P02 when the text is not
-- canonical base64, 22P03 when the bytes are not a valid state.
SELECT state_test_spend(x)::text AS spend_text FROM (VALUES (3.0::float8), (5.0)) v(x) \gset
SELECT state_test_rfm(d, a)::text AS rfm_text FROM (VALUES (DATE '2024-01-01', 10.0), (DATE '2024-02-01', -3.5)) v(d, a) \gset
SELECT state_test_bins(s, DATE '2024-12-31')::text AS bins_text
  FROM (SELECT rfm_agg(d, a) AS s FROM (VALUES (DATE '2024-01-01', 10.0), (DATE '2024-02-01', 3.5)) v(d, a)) c \gset
SELECT encode(decode(:'bins_text', 'base64'), 'hex') AS bins_hex;
SELECT what, pg_temp.error_of(format('SELECT %L::analytics_state', t)) FROM (VALUES
    ('not base64', 'hello world'),
    ('no padding', rtrim(:'spend_text', '=')),
    ('a line break', left(:'spend_text', 8) || E'\n' || substr(:'spend_text', 9)),
    ('empty', ''),
    ('too short', encode('\x4341'::bytea, 'base64')),
    ('another format', encode('\x0101000000'::bytea, 'base64')),
    ('unknown kind', encode('\x434102c8'::bytea, 'base64')),
    ('not an aggregate state (k-means model)', encode('\x4341020e'::bytea, 'base64')),
    ('format version 3', encode(set_byte(decode(:'spend_text', 'base64'), 2, 3), 'base64')),
    ('truncated', encode(substr(decode(:'spend_text', 'base64'), 1, length(decode(:'spend_text', 'base64')) - 1),
                         'base64')),
    ('a byte more', encode(decode(:'spend_text', 'base64') || '\x00'::bytea, 'base64')),
    ('truncated rfm', encode(substr(decode(:'rfm_text', 'base64'), 1, 20), 'base64')),
    ('rfm with a byte more', encode(decode(:'rfm_text', 'base64') || '\x00'::bytea, 'base64')),
    ('truncated rfm_bins', encode(substr(decode(:'bins_text', 'base64'), 1, length(decode(:'bins_text', 'base64')) - 3),
                                  'base64')),
    ('rfm_bins with 0 buckets', encode(overlay(decode(:'bins_text', 'base64') PLACING '\x00'::bytea FROM 9),
                                       'base64'))
) f(what, t);
-- A valid spend state with its last spend (little-endian float8) replaced:
-- -1, NaN, +Infinity; then with a spend count one too many.
SELECT v, pg_temp.error_of(format('SELECT %L::analytics_state',
    encode(overlay(decode(:'spend_text', 'base64') PLACING decode(v, 'hex')
                   FROM length(decode(:'spend_text', 'base64')) - 7), 'base64')))
  FROM (VALUES ('000000000000f0bf'), ('000000000000f87f'), ('000000000000f07f')) t(v);
SELECT encode(decode(:'spend_text', 'base64'), 'hex') AS spend_hex;
SELECT pg_temp.error_of(format('SELECT %L::analytics_state',
    encode(overlay(decode(:'spend_text', 'base64') PLACING '\x03000000'::bytea FROM 9), 'base64')));
-- A valid state of one aggregate handed to another's final function.
SELECT pg_temp.error_of(format('SELECT gini_finalfn(%L::analytics_state)', :'rfm_text'));
SELECT pg_temp.error_of(format('SELECT rfm_agg_finalfn(%L::analytics_state)', :'spend_text'));
-- Combined into a running state of the other kind (as a coordinator would).
SELECT pg_temp.error_of(format('SELECT state_test_combined_gini(s) FROM (VALUES (%L::analytics_state), (%L)) v(s)',
                               :'spend_text', :'rfm_text'));
-- The transition functions work only inside an aggregate.
SELECT pg_temp.error_of($$SELECT gini_transfn(NULL, 1.0)$$);
SELECT pg_temp.error_of(format('SELECT pareto_spend_combinefn(%L, %L)', :'spend_text', :'spend_text'));
-- The same as a client sees it.
\set VERBOSITY sqlstate
SELECT 'Q0EC'::analytics_state;
\set VERBOSITY default
SELECT 'Q0EC'::analytics_state;
DROP TABLE state_orders;
DROP AGGREGATE state_test_spend(float8), state_test_share(float8, float8), state_test_lorenz(float8, integer),
    state_test_tiers(float8), state_test_rfm(date, numeric), state_test_rfm_orders(date, numeric, bigint),
    state_test_combined_gini(analytics_state), state_test_combined_rfm(analytics_state), state_test_bins(rfm_summary, date),
    state_test_combined_bins(analytics_state), state_test_kmeans(float8[], integer), state_test_overlap(boolean, boolean),
    state_test_campaign(boolean, boolean, float8), state_test_activity(date, text, date),
    state_test_coupon(float8, boolean), state_test_mix(boolean, boolean), state_test_btyd(float8, float8, float8),
    state_test_gamma_gamma(float8, float8), state_test_bgbb(float8, float8, float8), state_test_sbg(float8, boolean),
    state_test_cov(float8, float8, float8, float8[]), state_test_affinity(text[]), state_test_channel(text, boolean);
