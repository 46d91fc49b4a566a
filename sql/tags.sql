-- Customer tags: consumption stage, value band, activity, coupon and
-- purchase-mix sensitivity, channel preference.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

-- ------------------------------------------------------ consumption stage
-- Defaults: loyal = >= 3 purchases spanning >= 180 days, last one within
-- 365 days of as_of.
SELECT label, consumption_stage(p, f, l, DATE '2024-12-31', i) AS stage
FROM (VALUES ('interacted only', 0, NULL::date, NULL::date, 4),
             ('nothing at all', 0, NULL, NULL, 0),
             ('one purchase', 1, DATE '2024-06-01', DATE '2024-06-01', 0),
             ('two purchases, long span', 2, DATE '2023-01-01', DATE '2024-12-01', 0),
             ('three, span 180', 3, DATE '2024-01-01', DATE '2024-06-29', 0),
             ('three, span 179', 3, DATE '2024-01-01', DATE '2024-06-28', 0),
             ('three, last 365 days ago', 3, DATE '2023-01-01', DATE '2024-01-01', 0),
             ('three, last 366 days ago', 3, DATE '2022-12-31', DATE '2023-12-31', 0),
             ('last purchase after as_of', 5, DATE '2024-01-01', DATE '2025-03-01', 0))
     AS v(label, p, f, l, i);
-- Overridden rule: 2 purchases over 30 days, within 90 days.
SELECT consumption_stage(2, DATE '2024-11-01', DATE '2024-12-01', DATE '2024-12-31', 0, 2, 30, 90) AS loyal,
       consumption_stage(2, DATE '2024-11-01', DATE '2024-12-01', DATE '2024-12-31', 0, 2, 31, 90) AS returning;
-- From rfm_agg: purchases are distinct purchase days (two orders on one day
-- are one purchase); a customer with only refunds is a prospect when they
-- interacted, else NULL.
WITH orders(customer, d, amount) AS (
    VALUES (1, DATE '2024-03-01', 10.0), (1, DATE '2024-03-01', 20.0),
           (2, DATE '2024-01-01', 5.0), (2, DATE '2024-05-01', 5.0), (2, DATE '2024-09-01', 5.0),
           (3, DATE '2024-02-01', -5.0))
SELECT customer, consumption_stage(s, DATE '2024-12-31') AS stage,
       consumption_stage(s, DATE '2024-12-31', 3) AS with_interactions
FROM (SELECT customer, rfm_agg(d, amount) AS s FROM orders GROUP BY customer) t ORDER BY customer;
-- NULLs: any NULL other than the purchase dates of a non-buyer gives NULL.
SELECT consumption_stage(NULL, NULL, NULL, DATE '2024-12-31') IS NULL AS null_purchases,
       consumption_stage(2, NULL, DATE '2024-12-01', DATE '2024-12-31') IS NULL AS null_first,
       consumption_stage(0, NULL, NULL, NULL, 3) IS NULL AS null_as_of,
       consumption_stage(0, NULL, NULL, DATE '2024-12-31', NULL) IS NULL AS null_interactions,
       consumption_stage(NULL::rfm_summary, DATE '2024-12-31') IS NULL AS null_summary;
-- Bad input.
SELECT consumption_stage(-1, NULL, NULL, DATE '2024-12-31');
SELECT consumption_stage(0, NULL, NULL, DATE '2024-12-31', -2);
SELECT consumption_stage(2, DATE '2024-12-01', DATE '2024-11-01', DATE '2024-12-31');
SELECT consumption_stage(1, DATE '2024-11-01', DATE '2024-12-01', DATE '2024-12-31');
SELECT consumption_stage(2, DATE '2024-11-01', DATE '2024-12-01', DATE '2024-12-31', 0, 1, 30, 90);
SELECT consumption_stage(2, DATE '2024-11-01', DATE '2024-12-01', DATE '2024-12-31', 0, 3, -1, 90);
SELECT consumption_stage(2, DATE '2024-11-01', DATE '2024-12-01', 'infinity');
SELECT consumption_stage(2, '-infinity', DATE '2024-12-01', DATE '2024-12-31');

-- ------------------------------------------------------------- value band
-- A value equal to a cut goes to the higher band.
SELECT s, value_band(s, 100, 500) AS band, value_band(s, '{100,500}') AS band_from_array
FROM unnest(ARRAY[-5, 0, 99.99, 100, 499, 500, 1e6]::float8[]) s;
SELECT value_band(100, 100, 100) AS equal_cuts, value_band(99, 100, 100) AS below;
SELECT value_band(NULL, 1, 2) IS NULL AS null_spend, value_band(1, NULL::float8[]) IS NULL AS null_cuts;
SELECT value_band('NaN', 1, 2);
SELECT value_band(1, 'infinity', 2);
SELECT value_band(1, 5, 2);
SELECT value_band(1, '{1,2,3}');
SELECT value_band(1, '{1,NULL}');

-- --------------------------------------------------------------- activity
CREATE TEMP TABLE events(customer int, d date, kind text);
INSERT INTO events VALUES
    -- 1: three events in the 30 days up to 2024-12-31 (12-02 .. 12-31), one a check-in: active
    (1, '2024-12-02', 'checkin'), (1, '2024-12-20', 'visit'), (1, '2024-12-31', 'click'),
    -- 2: three recent events, none qualifying: neither
    (2, '2024-12-10', 'visit'), (2, '2024-12-11', 'visit'), (2, '2024-12-12', 'email_open'),
    -- 3: the oldest event falls just outside the window (12-01): neither
    (3, '2024-12-01', 'purchase'), (3, '2024-12-20', 'visit'), (3, '2024-12-30', 'visit'),
    -- 4: last event 180 days before as_of (2024-07-04): inactive; 5: 179 days: neither
    (4, '2024-07-04', 'purchase'), (5, '2024-07-05', 'purchase'),
    -- 6: only events after as_of, which are ignored: inactive
    (6, '2025-01-05', 'purchase'), (6, '2025-01-06', 'purchase'), (6, '2025-01-07', 'purchase'),
    -- 7: NULL kinds and dates are skipped; two events on one day count twice
    (7, '2024-12-30', 'purchase'), (7, '2024-12-30', 'purchase'), (7, NULL, 'visit'), (7, '2024-12-29', NULL),
    (7, '2024-12-28', 'offline_checkin');
SELECT customer, activity_status(d, kind, DATE '2024-12-31') AS status FROM events GROUP BY customer ORDER BY customer;
-- Overridden: 2 events in 14 days with 0 qualifying is active; inactive after 30 days.
SELECT customer, activity_status(d, kind, DATE '2024-12-31', 14, 2, 0, 30) AS status
FROM events GROUP BY customer ORDER BY customer;
-- No rows: NULL; only NULL events: inactive.
SELECT activity_status(d, kind, DATE '2024-12-31') IS NULL AS no_rows FROM events WHERE false;
SELECT activity_status(NULL::date, NULL::text, DATE '2024-12-31') AS only_nulls;
-- Bad input.
SELECT activity_status(d, kind, NULL) FROM events;
SELECT activity_status(d, kind, 'infinity') FROM events;
SELECT activity_status(d, kind, DATE '2024-12-31', 0, 3, 1, 180) FROM events;
SELECT activity_status(d, kind, DATE '2024-12-31', 30, 2, 3, 180) FROM events;
SELECT activity_status(d, kind, DATE '2024-12-31', 30, 3, 1, NULL) FROM events;
SELECT activity_status(d, kind, d) FROM events;
SELECT activity_status(DATE 'infinity', 'visit', DATE '2024-12-31');

-- ----------------------------------------------------- coupon sensitivity
-- The smallest redeemed value, rounded up to the ladder (default 5/10/15/20).
CREATE TEMP TABLE offers(customer int, value float8, redeemed boolean);
INSERT INTO offers VALUES
    (1, 5, false), (1, 10, true), (1, 20, true),      -- 10
    (2, 12, true), (2, 20, true),                     -- 12 answers a 15
    (3, 5, false), (3, 10, false),                    -- nothing redeemed: NULL
    (4, 25, true),                                    -- above the ladder: NULL
    (5, 0, true),                                     -- 0: the lowest rung
    (6, NULL, true), (6, 5, NULL), (6, 20, true);     -- NULLs skipped: 20
SELECT customer, coupon_sensitivity(value, redeemed) AS default_ladder,
       coupon_sensitivity(value, redeemed, '{3,8,13,30}') AS own_ladder
FROM offers GROUP BY customer ORDER BY customer;
SELECT coupon_sensitivity(value, redeemed) IS NULL AS no_rows FROM offers WHERE false;
SELECT coupon_sensitivity(value, redeemed, '{}') FROM offers;
SELECT coupon_sensitivity(value, redeemed, '{10,5}') FROM offers;
SELECT coupon_sensitivity(value, redeemed, '{5,5}') FROM offers;
SELECT coupon_sensitivity(value, redeemed, '{-5,5}') FROM offers;
SELECT coupon_sensitivity(value, redeemed, '{5,NULL}') FROM offers;
SELECT coupon_sensitivity(value, redeemed, NULL) FROM offers;
SELECT coupon_sensitivity(value, redeemed, CASE WHEN customer = 1 THEN '{5,10}'::float8[] ELSE '{5,20}' END) FROM offers;
SELECT coupon_sensitivity(-1, true);
SELECT coupon_sensitivity('NaN', false);

-- -------------------------------------------------- discount / new product
-- discount-sensitive: >= 50% of lines discounted; new-product-sensitive: >=
-- 30% of lines new items; a share equal to its cutoff counts.
CREATE TEMP TABLE lines(customer int, discounted boolean, new_item boolean);
INSERT INTO lines
SELECT c, i <= dc, i <= nc FROM (VALUES (1, 5, 0), (2, 4, 3), (3, 2, 2), (4, 10, 10), (5, 4, 2)) AS v(c, dc, nc),
       generate_series(1, 10) AS i;
INSERT INTO lines VALUES (6, true, NULL), (6, NULL, true);  -- only NULL lines: no label
SELECT customer, purchase_mix(discounted, new_item) AS label,
       purchase_mix(discounted, new_item, 0.4, 0.2, 1) AS lower_cutoffs,
       purchase_mix(discounted, new_item, 0.5, 0.3, 11) AS min_11_lines
FROM lines GROUP BY customer ORDER BY customer;
SELECT purchase_mix(discounted, new_item, 1.5, 0.3, 1) FROM lines;
SELECT purchase_mix(discounted, new_item, 0.5, -0.1, 1) FROM lines;
SELECT purchase_mix(discounted, new_item, 0.5, 0.3, 0) FROM lines;
SELECT purchase_mix(discounted, new_item, NULL, 0.3, 1) FROM lines;

-- ----------------------------------------------------- channel preference
-- Smoothed rate (responses + 10 * prior) / (contacts + 10), the prior being
-- the customer's pooled rate unless given.
CREATE TEMP TABLE contacts(customer int, channel text, responded boolean);
INSERT INTO contacts
SELECT c, ch, i <= r FROM (VALUES
    -- 1: sms 1/1 vs email 6/20: pooled 7/21 = 1/3; sms (1 + 10/3) / 11 = 0.3939,
    --    email (6 + 10/3) / 30 = 0.3111: sms
    (1, 'sms', 1, 1), (1, 'email', 20, 6),
    -- 2: wechat 5/10 and app 5/10 tie on rate and contacts: app (smaller name)
    (2, 'wechat', 10, 5), (2, 'app', 10, 5),
    -- 3: phone 2/4 and store 4/8: same raw rate, pooled 1/2, both 0.5: store (more contacts)
    (3, 'phone', 4, 2), (3, 'store', 8, 4),
    -- 4: no response at all: the most contacted channel
    (4, 'sms', 3, 0), (4, 'email', 5, 0)) AS v(c, ch, n, r),
    generate_series(1, n) AS i;
INSERT INTO contacts VALUES (5, NULL, true), (5, 'sms', NULL);  -- only NULL rows
SELECT customer, (channel_preference(channel, responded)).* FROM contacts GROUP BY customer ORDER BY customer;
-- A given prior 0.1 with weight 2, and at least 5 contacts per channel.
SELECT customer, (channel_preference(channel, responded, 0.1, 2, 5)).*
FROM contacts GROUP BY customer ORDER BY customer;
-- Weight 0: raw rates; a NULL prior_rate is the pooled rate.
SELECT customer, (channel_preference(channel, responded, NULL, 0, 1)).channel
FROM contacts WHERE customer = 1 GROUP BY customer;
SELECT channel_preference(channel, responded) IS NULL AS no_rows FROM contacts WHERE false;
SELECT channel_preference(channel, responded, 1.5, 10, 1) FROM contacts;
SELECT channel_preference(channel, responded, NULL, -1, 1) FROM contacts;
SELECT channel_preference(channel, responded, NULL, 10, 0) FROM contacts;
SELECT channel_preference(channel, responded, NULL, NULL, 1) FROM contacts;
SELECT channel_preference('', true);
SELECT channel_preference(repeat('x', 65), true);
SELECT channel_preference('c' || i, true) FROM generate_series(1, 65) i;
SELECT (channel_preference('c' || i, i = 64)).channel FROM generate_series(1, 64) i;

RESET ROLE;
