-- rfm_score: the scores of customers against bins, and the rfm_score type.
SET ROLE ca_analyst;
SET extra_float_digits = 0;

-- Ten customers whose values are easy to check by hand: customer i bought
-- i times, spent 10 * i, and last bought i * 10 days before 2024-12-31.
CREATE TEMP TABLE ten_orders AS
SELECT c AS customer, DATE '2024-12-31' - c * 10 - (k - 1) * 365 AS order_date, 10.0 AS amount
FROM generate_series(1, 10) AS c, generate_series(1, c) AS k;
CREATE TEMP TABLE ten AS SELECT customer, rfm_agg(order_date, amount) AS s FROM ten_orders GROUP BY 1;
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
RESET ROLE;
