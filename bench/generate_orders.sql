-- bench/generate_orders.sql -- seeded, realistic order generator.
--
-- Usage (psql script; every variable is optional):
--
--   psql -X -v n=200000 -v seed=42 -f bench/generate_orders.sql
--
--   n         number of orders                         default 10000000
--             (n/10 customers, each with >= 1 order; n >= 10 recommended)
--   seed      generator seed; same (n, seed, end_date, years) => same table,
--             byte for byte, whatever the plan or parallelism  default 42
--   end_date  last day of the history                 default 2024-12-31
--   years     length of the history in years          default 3
--   unlogged  1 = create an UNLOGGED table (benchmarks), 0 = ordinary
--             table (demos)                            default 0
--
-- Result (DROPs and re-creates it; nothing else is created or kept):
--
--   orders(order_id bigint, customer_id bigint, order_date date,
--          amount numeric(12,2))
--
-- order_id is 1..n in order_date order (the table is stored in that order,
-- as an insert-only order table would be); customer_id is 1..n/10 in order
-- of acquisition (like a serial key). About 2% of the rows are refunds
-- (negative amount), always dated on/after the customer's first purchase.
-- The distributions are described in bench/README.md.
--
-- Randomness: no random(); every draw is hashint8extended(key, stream seed)
-- mapped to [0, 1) with 53 bits, the key being the customer number or the
-- global order number, the stream seed being hashint8extended(stream, seed).

\set ON_ERROR_STOP on
\set ga_quiet :QUIET
\set QUIET on
\if :{?n}        \else \set n 10000000       \endif
\if :{?seed}     \else \set seed 42          \endif
\if :{?end_date} \else \set end_date 2024-12-31 \endif
\if :{?years}    \else \set years 3          \endif
\if :{?unlogged} \else \set unlogged 0       \endif
\if :unlogged
  \set ga_persistence UNLOGGED
\else
  \set ga_persistence ''
\endif

-- Derived constants (interpolated as literals below).
SELECT greatest(:n::bigint / 10, 1)                           AS ga_customers,
       :n::bigint - greatest(:n::bigint / 10, 1)              AS ga_extra,
       (DATE :'end_date' + 1 - make_interval(years => :years))::date AS ga_start,
       DATE :'end_date' + 1
         - (DATE :'end_date' + 1 - make_interval(years => :years))::date AS ga_days,
       131072                                                 AS ga_buckets,
       hashint8extended(1,  :seed::bigint) AS ga_s_acq,    -- acquisition jitter
       hashint8extended(2,  :seed::bigint) AS ga_s_life,   -- lifetime
       hashint8extended(3,  :seed::bigint) AS ga_s_once,   -- one-time buyer
       hashint8extended(4,  :seed::bigint) AS ga_s_act,    -- activity (Pareto)
       hashint8extended(5,  :seed::bigint) AS ga_s_lvl1,   -- spend level (normal 1)
       hashint8extended(6,  :seed::bigint) AS ga_s_lvl2,   -- spend level (normal 2)
       hashint8extended(7,  :seed::bigint) AS ga_s_day,    -- order day
       hashint8extended(8,  :seed::bigint) AS ga_s_ref,    -- refund?
       hashint8extended(9,  :seed::bigint) AS ga_s_amt1,   -- amount (normal 1)
       hashint8extended(10, :seed::bigint) AS ga_s_amt2,   -- amount (normal 2)
       hashint8extended(11, :seed::bigint) AS ga_s_part    -- partial refund share
\gset

BEGIN;
SET LOCAL work_mem = '2GB';          -- the final sort of n rows stays in memory
SET LOCAL client_min_messages = warning;
SET LOCAL jit = off;                 -- row estimates are wild; JIT only costs

DROP TABLE IF EXISTS orders;

CREATE :ga_persistence TABLE orders (order_id, customer_id, order_date, amount) AS
WITH
-- One row per calendar day d (0 = ga_start): order intensity w (month x
-- weekday x shopping events) and acquisition intensity aw (w x linear
-- growth from 1 to 2 over the history).
day0 AS (
    SELECT d, w, w * (1.0 + d::float8 / :ga_days) AS aw
    FROM (
        SELECT d,
               (CASE extract(month FROM dt)::int
                    WHEN 1 THEN 0.85 WHEN 2 THEN 0.82 WHEN 3 THEN 0.90
                    WHEN 4 THEN 0.92 WHEN 5 THEN 0.95 WHEN 6 THEN 0.95
                    WHEN 7 THEN 0.97 WHEN 8 THEN 0.97 WHEN 9 THEN 0.95
                    WHEN 10 THEN 1.00 WHEN 11 THEN 1.35 ELSE 1.55 END)
             * (CASE extract(isodow FROM dt)::int
                    WHEN 1 THEN 1.08 WHEN 2 THEN 1.00 WHEN 3 THEN 1.00
                    WHEN 4 THEN 0.97 WHEN 5 THEN 0.92 WHEN 6 THEN 0.93
                    ELSE 1.10 END)
             * (CASE WHEN dt = bf     THEN 2.5     -- Black Friday
                     WHEN dt = bf + 3 THEN 2.0     -- Cyber Monday
                     WHEN dt > bf AND dt < bf + 3 THEN 1.4
                     WHEN extract(month FROM dt) = 12
                          AND extract(day FROM dt) >= 25 THEN 0.6
                     ELSE 1.0 END)::float8 AS w
        FROM (
            SELECT d, dt,
                   -- Black Friday: the day after the 4th Thursday of November
                   make_date(extract(year FROM dt)::int, 11, 1)
                     + ((11 - extract(dow FROM make_date(extract(year FROM dt)::int, 11, 1))::int) % 7)
                     + 22 AS bf
            FROM (SELECT d, DATE :'ga_start' + d AS dt
                  FROM generate_series(0, :ga_days - 1) AS d) g
        ) x
    ) y
),
-- Cumulative distributions over the days: f = share of the weight up to and
-- including day d, fp = before day d. The running sum's last value is used
-- as the total, so the last f is exactly 1.
day1 AS (
    SELECT d,
           sum(w)  OVER (ORDER BY d ROWS UNBOUNDED PRECEDING) AS cw,
           sum(aw) OVER (ORDER BY d ROWS UNBOUNDED PRECEDING) AS caw
    FROM day0
),
days AS (
    SELECT d,
           coalesce(lag(cw) OVER o, 0) / max(cw) OVER ()   AS fp,
           cw / max(cw) OVER ()                            AS f,
           coalesce(lag(caw) OVER o, 0) / max(caw) OVER () AS afp,
           caw / max(caw) OVER ()                          AS af
    FROM day1
    WINDOW o AS (ORDER BY d)
),
-- Lookup arrays (one row): inverse CDFs by bucket -- element 1 + b is the
-- day with fp <= b/K < f -- and fp, f by day (element 1 + d).
arr AS MATERIALIZED (
    SELECT (SELECT array_agg(d::int2 ORDER BY b)
            FROM days, generate_series(ceil(fp * :ga_buckets)::int,
                                       ceil(f * :ga_buckets)::int - 1) AS b)  AS inv,
           (SELECT array_agg(d::int2 ORDER BY b)
            FROM days, generate_series(ceil(afp * :ga_buckets)::int,
                                       ceil(af * :ga_buckets)::int - 1) AS b) AS ainv,
           (SELECT array_agg(fp ORDER BY d) FROM days) AS fp,
           (SELECT array_agg(f ORDER BY d) FROM days)  AS f
),
-- Customers 1..C in order of acquisition: customer c is acquired at the
-- acquisition-CDF quantile (c - 1 + u) / C.
cust0 AS (
    SELECT c,
           (SELECT ainv FROM arr)[1 + floor((c - 1 + ((hashint8extended(c, :ga_s_acq) >> 11) + 4503599627370496)::float8
                                                    / 9007199254740992)
                                           / :ga_customers * :ga_buckets)::int] AS s,
           ((hashint8extended(c, :ga_s_life) >> 11) + 4503599627370496)::float8 / 9007199254740992 AS u_life,
           ((hashint8extended(c, :ga_s_once) >> 11) + 4503599627370496)::float8 / 9007199254740992 AS u_once,
           ((hashint8extended(c, :ga_s_act)  >> 11) + 4503599627370496)::float8 / 9007199254740992 AS u_act,
           ((hashint8extended(c, :ga_s_lvl1) >> 11) + 4503599627370496)::float8 / 9007199254740992 AS u_l1,
           ((hashint8extended(c, :ga_s_lvl2) >> 11) + 4503599627370496)::float8 / 9007199254740992 AS u_l2
    FROM generate_series(1::bigint, :ga_customers::bigint) AS c
),
cust1 AS (
    SELECT c, s, e, lvl,
           -- activity weight: 25% one-time buyers (0), else a Pareto(1.6)
           -- propensity (capped at 250) times the active span (+ 2 weeks)
           CASE WHEN u_once < 0.25 THEN 0.0::float8
                ELSE least(power(1.0 - u_act, -1.0 / 1.6), 250.0)
                     * ((e - s) + 14) / 365.0 END AS w
    FROM (
        SELECT c, s, u_once, u_act,
               -- lifetime ~ Exponential(mean 540 days), cut at the end date
               least(s + floor(-ln(1.0 - u_life) * 540.0)::int, :ga_days - 1) AS e,
               -- spend level: log-normal, median 40, sigma 0.75 (Box-Muller)
               exp(ln(40.0) + 0.75 * sqrt(-2.0 * ln(1.0 - u_l1)) * cos(2.0 * pi() * u_l2)) AS lvl
        FROM cust0
    ) x
),
cust2 AS (
    SELECT c, s, e, lvl,
           sum(w) OVER (ORDER BY c ROWS UNBOUNDED PRECEDING) AS cw
    FROM cust1
),
-- Orders per customer: 1 + its share of the ga_extra other orders, by
-- cumulative rounding of the weights (so the counts add up to n exactly);
-- base = global number of its first order.
cust AS (
    SELECT c, s, e, lvl,
           (SELECT fp FROM arr)[1 + s] AS fs,
           (SELECT f FROM arr)[1 + e]  AS fe,
           CASE WHEN tw > 0 THEN floor(:ga_extra * cw / tw)::bigint ELSE 0 END
         - CASE WHEN tw > 0 THEN floor(:ga_extra * pcw / tw)::bigint ELSE 0 END + 1 AS k,
           c - 1 + CASE WHEN tw > 0 THEN floor(:ga_extra * pcw / tw)::bigint ELSE 0 END AS base
    FROM (
        SELECT c, s, e, lvl, cw,
               coalesce(lag(cw) OVER (ORDER BY c), 0) AS pcw,
               max(cw) OVER () AS tw
        FROM cust2
    ) x
),
-- One row per order: j = 0..k-1 within the customer, g = base + j = global
-- order number 0..n-1 (the key of every per-order draw).
ord AS (
    SELECT c, s, lvl, fs, fe, base + j AS g, j
    FROM (SELECT c, s, lvl, fs, fe, base, generate_series(0::bigint, k - 1) AS j
          FROM cust) x
),
ord1 AS (
    SELECT c, s, g,
           -- day: first order on day s; later ones drawn from the seasonal
           -- CDF restricted to the customer's active span [s, e]
           (SELECT inv FROM arr)[1 + floor(
               CASE WHEN j = 0 THEN (fs + (SELECT f FROM arr)[1 + s]) / 2.0
                    ELSE fs + ((hashint8extended(g, :ga_s_day) >> 11) + 4503599627370496)::float8
                              / 9007199254740992 * (fe - fs) END
               * :ga_buckets)::int] AS d,
           j > 0 AND ((hashint8extended(g, :ga_s_ref) >> 11) + 4503599627370496)::float8
                     / 9007199254740992 < 0.0222 AS refund,
           -- order value in cents: level x log-normal(sigma 0.5, mean 1)
           lvl * 100.0 * exp(0.5 * sqrt(-2.0 * ln(1.0 - ((hashint8extended(g, :ga_s_amt1) >> 11) + 4503599627370496)::float8 / 9007199254740992))
                                 * cos(2.0 * pi() * ((hashint8extended(g, :ga_s_amt2) >> 11) + 4503599627370496)::float8 / 9007199254740992)
                             - 0.125) AS v
    FROM ord
),
ord2 AS (
    SELECT c, g,
           CASE WHEN refund THEN least(greatest(d, s + 1), :ga_days - 1)
                ELSE greatest(d, s) END::int AS d,
           CASE WHEN refund
                -- refunds: 70% full, else 20%..100% of an order's value
                THEN -greatest(round(v * CASE WHEN u_part < 0.7 THEN 1.0
                                              ELSE 0.2 + (u_part - 0.7) / 0.3 * 0.8 END), 100)::bigint
                ELSE greatest(round(v), 100)::bigint
           END AS cents
    FROM (
        SELECT *, ((hashint8extended(g, :ga_s_part) >> 11) + 4503599627370496)::float8
                  / 9007199254740992 AS u_part
        FROM ord1
    ) z
)
-- Stored and numbered in date order; within a day in a pseudo-random order
-- given by a bijection of g (multiplication by an odd number modulo 2^34),
-- so the sort key is unique and the numbering never depends on the plan.
SELECT row_number() OVER (ORDER BY (d::bigint << 34) + ((g * 387420489) & 17179869183)),
       c,
       DATE :'ga_start' + d,
       (cents * 0.01)::numeric(12,2)
FROM ord2;

COMMIT;

ANALYZE orders;

\unset ga_customers
\unset ga_extra
\unset ga_start
\unset ga_days
\unset ga_buckets
\unset ga_persistence
\unset ga_s_acq
\unset ga_s_life
\unset ga_s_once
\unset ga_s_act
\unset ga_s_lvl1
\unset ga_s_lvl2
\unset ga_s_day
\unset ga_s_ref
\unset ga_s_amt1
\unset ga_s_amt2
\unset ga_s_part
\set QUIET :ga_quiet
\unset ga_quiet
