SET ROLE ca_analyst;
SET extra_float_digits = 0;

-- Ten customers whose values are easy to check by hand: customer i bought
-- i times, spent 10 * i, and last bought i * 10 days before 2024-12-31.
CREATE TABLE ten_orders AS
SELECT c AS customer, DATE '2024-12-31' - c * 10 - (k - 1) * 365 AS order_date, 10.0 AS amount
FROM generate_series(1, 10) AS c, generate_series(1, c) AS k;
CREATE TABLE ten AS SELECT customer, rfm_agg(order_date, amount) AS s FROM ten_orders GROUP BY 1;
-- Quintile cuts: percentile_cont at 0.2, 0.4, 0.6, 0.8 of 10..100 days,
-- 1..10 orders and 10..100 spent.
SELECT (b).buckets, (b).as_of, (b).customers, (b).recency_cuts, (b).frequency_cuts, (b).monetary_cuts,
       (b).recency_mean, (b).frequency_mean, (b).monetary_mean
FROM (SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM ten) t;
-- ... the same numbers PostgreSQL's percentile_cont gives.
SELECT percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY DATE '2024-12-31' - (s).last_order) AS recency,
       percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY (s).frequency) AS frequency
FROM ten;
-- Customer 1 (10 days, 1 order, 10 spent) is 511; customer 10 is 155.
SELECT customer, rfm_score(s, b, DATE '2024-12-31') AS score,
       recency_score(rfm_score(s, b)) AS r, frequency_score(rfm_score(s, b)) AS f,
       monetary_score(rfm_score(s, b)) AS m, rfm_segment(rfm_score(s, b)) AS segment
FROM ten, (SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM ten) t ORDER BY customer;
-- Deciles and terciles.
SELECT customer, rfm_score(s, b) FROM ten, (SELECT rfm_bins(s, DATE '2024-12-31', 10) AS b FROM ten) t ORDER BY 1;
SELECT customer, rfm_score(s, b) FROM ten, (SELECT rfm_bins(s, DATE '2024-12-31', 3) AS b FROM ten) t ORDER BY 1;
-- Scoring as of a later date with the same bins: recency grows, r falls.
SELECT customer, rfm_score(s, b, DATE '2025-03-31') FROM ten,
       (SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM ten) t WHERE customer <= 3 ORDER BY 1;

-- Ties: equal values always get equal scores (ntile would split them).
CREATE TABLE tied AS
SELECT c AS customer, ROW(DATE '2024-01-01', DATE '2024-12-01' - (c % 3) * 30, 1 + c % 2, 1 + c % 2,
                          (100 * (1 + c % 4))::numeric, 0)::rfm_summary AS s
FROM generate_series(1, 40) AS c;
SELECT count(DISTINCT (s, score)) = count(DISTINCT s) AS equal_values_equal_scores
FROM (SELECT s, rfm_score(s, b) AS score FROM tied, (SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM tied) t) x;
-- All customers equal: every cut is that value, everyone scores the lowest
-- bucket for F and M (value = cut goes below it) and the highest for R.
SELECT DISTINCT rfm_score(s, b) FROM (SELECT ROW(DATE '2024-01-01', DATE '2024-06-01', 2, 2, 50.0, 0)::rfm_summary AS s
                                      FROM generate_series(1, 5)) c,
       (SELECT rfm_bins(ROW(DATE '2024-01-01', DATE '2024-06-01', 2, 2, 50.0, 0)::rfm_summary, DATE '2024-12-31') AS b
        FROM generate_series(1, 5)) t;
-- One customer.
SELECT (b).recency_cuts, (b).frequency_cuts, rfm_score(s, b) FROM ten,
       (SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM ten WHERE customer = 4) t WHERE customer = 4;

-- The rfm_score type: text forms, order, equality, hashing, btree.
SELECT '545'::rfm_score, '10-4-5'::rfm_score, rfm_score(5, 4, 5) = '545' AS eq, '455'::rfm_score < '545' AS lt,
       '545'::rfm_score < '554' AS lt2, rfm_score(1, 1, 12)::text AS text_form;
SELECT score, count(*) FROM (VALUES ('111'::rfm_score), ('555'), ('111'), ('345')) v(score) GROUP BY score ORDER BY score;
SET enable_hashagg = off;
SELECT score, count(*) FROM (VALUES ('111'::rfm_score), ('555'), ('111'), ('345')) v(score) GROUP BY score ORDER BY score DESC;
RESET enable_hashagg;
CREATE TABLE scored (score rfm_score PRIMARY KEY);
INSERT INTO scored VALUES ('123'), ('321');
INSERT INTO scored VALUES ('123');

-- The 11 standard segments over all 125 cells equal the rule table applied
-- first-match-first in plain SQL.
WITH cells AS (
    SELECT rfm_score(r, f, m) AS score, r, f, m
    FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(1, 5) m
), rules AS (
    SELECT ordinality AS priority, rule.* FROM unnest(rfm_standard_segments()) WITH ORDINALITY AS rule
), plain AS (
    SELECT c.score, coalesce((SELECT name FROM rules
                              WHERE c.r BETWEEN r_min AND r_max AND c.f BETWEEN f_min AND f_max
                                AND c.m BETWEEN m_min AND m_max ORDER BY priority LIMIT 1), 'Others') AS segment
    FROM cells c
)
SELECT count(*) AS cells, count(*) FILTER (WHERE rfm_segment(score) = segment) AS agreeing FROM plain;
SELECT rfm_segment(rfm_score(r, f, m)) AS segment, count(*) AS cells
FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(1, 5) m GROUP BY 1 ORDER BY 1;
SELECT (unnest(rfm_standard_segments())).*;

-- A user segment map, as an array or from a table; first match wins.
CREATE TABLE my_segments (priority int, rule rfm_segment_rule);
INSERT INTO my_segments VALUES (2, ROW('Fans', 1, 5, 4, 5, 1, 5)), (1, ROW('Whales', 1, 5, 1, 5, 5, 5));
SELECT rfm_segment('255', ARRAY(SELECT rule FROM my_segments ORDER BY priority)) AS whale,
       rfm_segment('544', ARRAY(SELECT rule FROM my_segments ORDER BY priority)) AS fan,
       rfm_segment('111', ARRAY(SELECT rule FROM my_segments ORDER BY priority)) AS other,
       rfm_segment('111', ARRAY[]::rfm_segment_rule[]) AS no_rules;
-- Segment maps for other bucket counts.
SELECT rfm_segment('10-10-10', ARRAY[ROW('Top decile', 10, 10, 10, 10, 10, 10)::rfm_segment_rule]);

-- The 8 classes against the population means (recency mean 55 days,
-- frequency mean 5.5, monetary mean 55).
SELECT customer, rfm_class(s, b, DATE '2024-12-31') AS class, rfm_class(s, b, DATE '2024-12-31', 'zh') AS class_zh
FROM ten, (SELECT rfm_bins(s, DATE '2024-12-31') AS b FROM ten) t ORDER BY customer;
-- Given cuts; a value equal to its cut is high (recency: at most the cut).
SELECT rfm_class(30, 5, 100, 30, 5, 100), rfm_class(31, 4, 99, 30, 5, 100, 'zh'),
       rfm_class(10, 1, 500, 30, 5, 100), rfm_class(90, 9, 50, 30, 5, 100);
RESET ROLE;
