#!/usr/bin/env bash
# bench/builder.sh -- the builder's ratios (SPEC.md "Performance"), side by side
# in one session on the seeded data of bench/generate_orders.sql:
#
#   bench/builder.sh [N] [RUNS]      N orders (default 10,000,000), RUNS per section (default 3)
#   BENCH_LAYOUT=table bench/builder.sh ...   the stored layout instead of the default view
#
#   (a) the fastest bare  SELECT customer_id, max(order_date), count(*), sum(amount)
#       FROM orders GROUP BY customer_id  (hash and sort plans, parallel allowed)
#   (b) build_segments() from scratch
#   (c) refresh_segments() after inserting 1 % new orders (half for existing
#       customers, half for new ones); the insert itself is not timed
#   (d) CREATE MATERIALIZED VIEW of the equivalent plain SQL (ntile() quintiles,
#       the segment CASE, lifecycle stage, tier, quadrant, an empty tags array)
#       with the indexes the builder gives its target: unique on the customer,
#       on segment, lifecycle_stage and tier, GIN on tags
#   (e) refresh_segments() one day later (as_of + 1) with no new orders
#   (f) reading the whole target: segment sizes and revenue (GROUP BY segment)
#   (g) the same read of the plain materialized view
# and prints b/a, c/b (target <= 0.05), e/b (target <= 0.05), b/d (target
# <= 1.0) and f/g (what a derived target costs its readers), and the
# machine's load average before and after.
# Starts and removes its own throw-away server (port $BENCH_PORT, default 5498).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
N="${1:-10000000}"
RUNS="${2:-3}"
LAYOUT="${BENCH_LAYOUT:-view}"   # the target's layout: view (derived when read) or table (stored)
AS_OF=2024-12-31

source "$here/../scripts/temp_postgres.sh"
trap temp_postgres_stop EXIT
TEMP_PG_PORT="${BENCH_PORT:-5498}" TEMP_PG_OPTIONS="-c shared_buffers=2GB -c max_wal_size=16GB -c autovacuum=off -c synchronous_commit=off -c full_page_writes=off" temp_postgres_start
psql_run() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_run -c "CREATE EXTENSION customer_analytics"
echo "generating $N orders (seed 42) ..." >&2
psql_run -v n="$N" -v seed=42 -f "$here/generate_orders.sql"

script="$(mktemp)"
{
cat <<SQL
SET work_mem = '1GB';
SET max_parallel_workers_per_gather = 2;
SET jit = off;
CREATE TEMP TABLE timings (section text, variant text, seconds float8);
SQL
for run in $(seq "$RUNS"); do
    for variant in hash sort; do
        if [ "$variant" = hash ]; then toggle="SET enable_sort = off;"; else toggle="SET enable_hashagg = off;"; fi
        cat <<SQL
$toggle
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM (SELECT customer_id, max(order_date), count(*), sum(amount) FROM orders GROUP BY customer_id) q
WHERE q IS NOT NULL \g /dev/null
INSERT INTO timings SELECT 'a', '$variant', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
RESET enable_sort; RESET enable_hashagg;
SQL
    done
    cat <<SQL
SELECT clock_timestamp() AS t0 \gset
CREATE MATERIALIZED VIEW plain_segments AS
WITH s AS (
    SELECT customer_id, max(order_date) FILTER (WHERE amount >= 0) AS last_order,
           count(*) FILTER (WHERE amount >= 0) AS frequency, sum(amount) AS monetary
    FROM orders GROUP BY customer_id
), q AS (
    SELECT s.*, DATE '$AS_OF' - last_order AS recency_days,
           ntile(5) OVER (ORDER BY DATE '$AS_OF' - last_order DESC) AS r,
           ntile(5) OVER (ORDER BY frequency) AS f, ntile(5) OVER (ORDER BY monetary) AS m,
           cume_dist() OVER (ORDER BY monetary) AS spend_rank,
           monetary / nullif(frequency, 0) AS aov
    FROM s
)
SELECT customer_id, last_order, recency_days, frequency, monetary, r, f, m,
       CASE
           WHEN r BETWEEN 4 AND 5 AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Champions'
           WHEN r BETWEEN 2 AND 5 AND f BETWEEN 3 AND 5 AND m BETWEEN 3 AND 5 THEN 'Loyal Customers'
           WHEN r = 1 AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Can''t Lose Them'
           WHEN r BETWEEN 4 AND 5 AND f = 1 AND m = 1 THEN 'New Customers'
           WHEN r BETWEEN 3 AND 4 AND f = 1 AND m = 1 THEN 'Promising'
           WHEN r BETWEEN 2 AND 3 AND f BETWEEN 2 AND 3 AND m BETWEEN 2 AND 3 THEN 'Need Attention'
           WHEN r BETWEEN 3 AND 5 AND f BETWEEN 1 AND 3 AND m BETWEEN 1 AND 3 THEN 'Potential Loyalist'
           WHEN r BETWEEN 2 AND 3 AND f BETWEEN 1 AND 2 AND m BETWEEN 1 AND 2 THEN 'About To Sleep'
           WHEN r BETWEEN 1 AND 2 AND f BETWEEN 2 AND 5 AND m BETWEEN 2 AND 5 THEN 'At Risk'
           WHEN r = 1 AND f = 1 AND m = 1 THEN 'Lost'
           WHEN r BETWEEN 1 AND 2 AND f BETWEEN 1 AND 2 AND m BETWEEN 1 AND 2 THEN 'Hibernating'
           ELSE 'Others' END AS segment,
       CASE WHEN recency_days <= 63 THEN 'active' WHEN recency_days <= 126 THEN 'silent'
            WHEN recency_days <= 365 THEN 'sleeping' ELSE 'churned' END AS lifecycle_stage,
       CASE WHEN spend_rank > 0.95 THEN 'gold' WHEN spend_rank > 0.8 THEN 'silver' ELSE 'normal' END AS tier,
       CASE WHEN frequency >= 3 THEN 'high_frequency' ELSE 'low_frequency' END
           || CASE WHEN aov >= 50 THEN '_high_value' ELSE '_low_value' END AS quadrant,
       '{}'::text[] AS tags
FROM q;
CREATE UNIQUE INDEX ON plain_segments (customer_id);
CREATE INDEX ON plain_segments (segment);
CREATE INDEX ON plain_segments (lifecycle_stage);
CREATE INDEX ON plain_segments (tier);
CREATE INDEX ON plain_segments USING gin (tags);
INSERT INTO timings SELECT 'd', 'matview', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SELECT clock_timestamp() AS t0 \gset
SELECT segment, count(*), sum(monetary) FROM plain_segments GROUP BY 1 \g /dev/null
INSERT INTO timings SELECT 'g', 'read matview', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
DROP MATERIALIZED VIEW plain_segments;
SELECT clock_timestamp() AS t0 \gset
SELECT build_segments('orders', 'customer_id', 'order_date', 'amount', 'bench_segments', DATE '$AS_OF',
                      '{"layout": "$LAYOUT"}') \g /dev/null
INSERT INTO timings SELECT 'b', 'build', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SELECT clock_timestamp() AS t0 \gset
SELECT segment, count(*), sum(monetary) FROM bench_segments GROUP BY 1 \g /dev/null
INSERT INTO timings SELECT 'f', 'read target', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
-- 1 % new orders: half for existing customers, half for new ones.
INSERT INTO orders (order_id, customer_id, order_date, amount)
SELECT m.top + i, CASE WHEN i % 2 = 0 THEN 1 + abs(hashint8(i + $run * $N)) % m.customers
                       ELSE m.customers + $run * $N + i END,
       DATE '$AS_OF' - (abs(hashint8(i * 7 + $run)) % 60)::int,
       round((abs(hashint8(i * 13 + $run)) % 20000) / 100.0, 2)
FROM (SELECT max(order_id) AS top, max(customer_id) AS customers FROM orders) m, generate_series(1, $N / 100) AS i;
SELECT clock_timestamp() AS t0 \gset
SELECT refresh_segments('bench_segments', DATE '$AS_OF') \g /dev/null
INSERT INTO timings SELECT 'c', 'refresh', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SELECT clock_timestamp() AS t0 \gset
SELECT refresh_segments('bench_segments', DATE '$AS_OF' + 1) \g /dev/null
INSERT INTO timings SELECT 'e', 'as_of + 1', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SELECT drop_segments('bench_segments') \g /dev/null
SQL
done
cat <<'SQL'
\echo
\echo 'best of each section (seconds)'
SELECT section, min(seconds)::numeric(10,2) AS best, max(seconds)::numeric(10,2) AS worst, count(*) AS runs
FROM timings GROUP BY section ORDER BY section;
WITH best AS (SELECT section, min(seconds) AS s FROM timings GROUP BY section)
SELECT round((b.s / a.s)::numeric, 3) AS "b/a", round((c.s / b.s)::numeric, 3) AS "c/b (<= 0.05)",
       round((e.s / b.s)::numeric, 3) AS "e/b (<= 0.05)", round((b.s / d.s)::numeric, 3) AS "b/d (<= 1.0)",
       round((f.s / g.s)::numeric, 3) AS "f/g (read)"
FROM best a, best b, best c, best d, best e, best f, best g
WHERE a.section = 'a' AND b.section = 'b' AND c.section = 'c' AND d.section = 'd' AND e.section = 'e'
  AND f.section = 'f' AND g.section = 'g';
SQL
} > "$script"
echo "timing (a) bare GROUP BY, (b) build, (c) refresh after 1 % new orders, (d) CREATE MATERIALIZED VIEW," \
     "(e) refresh at as_of + 1 day ..." >&2
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
psql_run -f "$script"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$script"
