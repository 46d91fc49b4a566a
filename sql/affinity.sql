-- Affinity of items over baskets, and the overlap of two customer sets.
SET ROLE ca_analyst;
\set SHOW_CONTEXT never

-- --------------------------------------------------------------- affinity
-- 10 baskets: bread in 6, butter in 5, both in 4, jam in 3 (with bread in
-- 2, butter in 3), milk alone in 2.
CREATE TEMP TABLE baskets(basket int, items text[]);
INSERT INTO baskets VALUES
    (1, '{bread,butter}'), (2, '{bread,butter,jam}'), (3, '{bread,butter,jam}'), (4, '{butter,bread}'),
    (5, '{bread}'), (6, '{bread,bread}'), (7, '{butter,jam}'), (8, '{milk}'), (9, '{milk}'), (10, '{}');
-- bread-butter: support 4/10, confidence 4/6 and 4/5, lift 0.4 / (0.6 * 0.5).
SELECT p.item_a, p.item_b, p.count_a, p.count_b, p.count_ab, p.baskets, p.support_ab,
       round(p.confidence_ab::numeric, 4) AS conf_ab, p.confidence_ba AS conf_ba, round(p.lift::numeric, 4) AS lift,
       round(p.jaccard::numeric, 4) AS jaccard
FROM unnest((SELECT affinity(items) FROM baskets)) p;
-- Minimum support 0.25 and top 1; by lift with at least 3 baskets together.
SELECT (unnest(affinity(items, 0.25, 1))).item_a, (unnest(affinity(items, 0.25, 1))).item_b FROM baskets;
SELECT p.item_a, p.item_b, round(p.lift::numeric, 4) AS lift
FROM unnest((SELECT affinity(items, 0, 10, 3, 'lift') FROM baskets)) p;
-- The same items, as a GROUP BY of order lines builds them.
WITH lines(basket, category) AS (SELECT basket, unnest(items) FROM baskets)
SELECT affinity(c)::text = (SELECT affinity(items) FROM baskets WHERE items <> '{}')::text AS same_pairs
FROM (SELECT array_agg(DISTINCT category) c FROM lines GROUP BY basket) b;
-- NULL baskets are skipped, NULL items ignored; no pair gives an empty array.
SELECT affinity(items) FROM (VALUES ('{a}'::text[]), (NULL), ('{b,NULL}')) v(items);
SELECT affinity(items) IS NULL AS no_rows FROM baskets WHERE false;
-- Bad input and memory bounds.
SELECT affinity(items, 1.5, 10) FROM baskets;
SELECT affinity(items, 0.1, 0) FROM baskets;
SELECT affinity(items, 0.1, 10, 0, 'support') FROM baskets;
SELECT affinity(items, 0.1, 10, 1, 'confidence') FROM baskets;
SELECT affinity(items, NULL, 10) FROM baskets;
SELECT affinity(items, basket / 10.0, 10) FROM baskets;
SELECT affinity(ARRAY(SELECT 'item' || i FROM generate_series(1, 1001) i));
SELECT affinity(ARRAY[repeat('x', 513)]);
SELECT affinity('{{a,b},{c,d}}'::text[]);

-- -------------------------------------------------------- segment overlap
SELECT * FROM segment_overlap(30, 20, 10, 100);
SELECT * FROM segment_overlap(0, 0, 0, 0);
-- As an aggregate over the population: customers 1..100, X = multiples of
-- 2, Y = multiples of 3: x 50, y 33, xy 16.
SELECT (segment_overlap(i % 2 = 0, i % 3 = 0)).* FROM generate_series(1, 100) i;
SELECT (segment_overlap(x, y)).n FROM (VALUES (true, NULL::boolean), (NULL, true), (false, false)) v(x, y);
SELECT segment_overlap(true, true) IS NULL AS no_rows FROM generate_series(1, 3) WHERE false;
SELECT segment_overlap(10, 20, 11, 100);
SELECT segment_overlap(60, 50, 5, 100);
SELECT segment_overlap(-1, 0, 0, 10);

RESET ROLE;
