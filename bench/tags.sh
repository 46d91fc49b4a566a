#!/usr/bin/env bash
# bench/tags.sh -- k-means on CUSTOMERS x 5 features and affinity on LINES
# order lines, in SQL, on seeded generated data (hash-based, so identical on
# every run):
#
#   bench/tags.sh [CUSTOMERS] [LINES]      defaults 1,000,000 and 10,000,000
#
# Prints the best of 3 wall times for kmeans_fit (k = 8), kmeans_assign over
# every customer, and affinity over one basket per customer (top 100 pairs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CUSTOMERS="${1:-1000000}"
LINES="${2:-10000000}"
source "$here/../scripts/temp_postgres.sh"
trap temp_postgres_stop EXIT
TEMP_PG_PORT="${BENCH_PORT:-5496}" TEMP_PG_OPTIONS="-c shared_buffers=2GB -c max_wal_size=16GB -c autovacuum=off" temp_postgres_start
psql -X -q -v ON_ERROR_STOP=1 -v customers="$CUSTOMERS" -v lines="$LINES" <<'SQL'
CREATE EXTENSION customer_analytics;
SET work_mem = '1GB';
SET max_parallel_workers_per_gather = 2;
SET jit = off;
-- 8 clusters in 5 features: a cluster centre per customer plus hashed noise.
CREATE UNLOGGED TABLE features AS
SELECT i AS customer,
       ARRAY[(i % 8) * 10 + (hashint8extended(i, 1) % 1000) / 250.0,
             (i % 8 / 2) * 10 + (hashint8extended(i, 2) % 1000) / 250.0,
             (i % 8 / 4) * 10 + (hashint8extended(i, 3) % 1000) / 250.0,
             (hashint8extended(i, 4) % 1000) / 100.0,
             (hashint8extended(i, 5) % 1000) / 100.0]::float8[] AS f
FROM generate_series(1, :customers) AS i;
-- Order lines: categories skewed towards the first ones, one basket per customer.
CREATE UNLOGGED TABLE order_lines AS
SELECT 1 + abs(hashint8extended(i, 11)) % (:lines / 10) AS customer,
       'category_' || (floor(50 * power((abs(hashint8extended(i, 12)) % 1000000) / 1000000.0, 2)))::int AS category
FROM generate_series(1, :lines) AS i;
ANALYZE features;
ANALYZE order_lines;
SQL
{
echo "CREATE TEMP TABLE timings (section text, seconds float8);"
for run in 1 2 3; do cat <<'SQL'
SET work_mem = '1GB'; SET max_parallel_workers_per_gather = 2; SET jit = off;
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE model AS SELECT kmeans_fit(f, 8) AS m FROM features;
INSERT INTO timings SELECT 'kmeans_fit 8 clusters', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SELECT clock_timestamp() AS t0 \gset
SELECT count(DISTINCT kmeans_assign(f, m)) FROM features, model \g /dev/null
INSERT INTO timings SELECT 'kmeans_assign every customer', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
DROP TABLE model;
SELECT clock_timestamp() AS t0 \gset
SELECT cardinality(affinity(items)) FROM (SELECT customer, array_agg(category) AS items FROM order_lines GROUP BY customer) b \g /dev/null
INSERT INTO timings SELECT 'affinity over customer baskets', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SQL
done
cat <<'SQL'
SELECT (SELECT count(*) FROM features) AS customers, (SELECT count(*) FROM order_lines) AS order_lines;
SELECT section, min(seconds)::numeric(10,2) AS best_seconds, max(seconds)::numeric(10,2) AS worst FROM timings GROUP BY 1 ORDER BY 1;
SELECT (m).k, (m).iterations, (m).converged, (m).sizes, round((m).silhouette::numeric, 3) AS silhouette
FROM (SELECT kmeans_fit(f, 8) AS m FROM features) t;
SELECT (p).item_a, (p).item_b, round((p).support_ab::numeric, 4) AS support, round((p).lift::numeric, 3) AS lift
FROM (SELECT unnest(affinity(items)) AS p FROM (SELECT customer, array_agg(category) AS items FROM order_lines GROUP BY customer) b) x
LIMIT 3;
SQL
} | psql -X -q -v ON_ERROR_STOP=1
