-- rfm_segment (standard segments and rules of your own) and rfm_class.
SET ROLE ca_analyst;
SET extra_float_digits = 0;

-- Ten customers whose values are easy to check by hand: customer i bought
-- i times, spent 10 * i, and last bought i * 10 days before 2024-12-31.
CREATE TEMP TABLE ten_orders AS
SELECT c AS customer, DATE '2024-12-31' - c * 10 - (k - 1) * 365 AS order_date, 10.0 AS amount
FROM generate_series(1, 10) AS c, generate_series(1, c) AS k;
CREATE TEMP TABLE ten AS SELECT customer, rfm_agg(order_date, amount) AS s FROM ten_orders GROUP BY 1;

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
