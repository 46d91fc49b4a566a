#!/usr/bin/env bash
# bench/bulk.sh -- rfm_summaries (the bulk path) against PostgreSQL's own
# GROUP BY, side by side in one session, on the seeded orders of
# bench/generate_orders.sql:
#
#   bench/bulk.sh [N] [RUNS]     N orders (default 3,000,000), RUNS timed runs (default 3)
#
#   (a) the fastest bare  SELECT customer_id, max(order_date), count(*), sum(amount)
#       FROM orders GROUP BY customer_id  (hash and sort plans, parallel workers)
#   (b) SELECT customer_id, rfm_agg(order_date, amount) FROM orders GROUP BY customer_id
#   (c) SELECT * FROM rfm_summaries('orders', 'customer_id', 'order_date', 'amount')
#   (d) full RFM scoring over (b): rfm_bins, rfm_score, rfm_segment, lifecycle_stage
#   (e) the same scoring over (c)
#   (f) the same scoring in plain SQL (GROUP BY, ntile() windows, CASE)
#   (g) rfm_segments('orders', ..., as_of): (e) in one pass
#
# and prints a/c (target >= 4), b/c, d/e, e/a, f/e and g/a, the machine's load
# before and after, and how long a cancel of rfm_summaries takes to stop it
# (leader and workers). Every query is consumed as SELECT count(*) FROM (q) q
# WHERE q IS NOT NULL, so every column of every row is computed. Runs are
# interleaved (run 1 of every section, then run 2, ...); the best run counts.
#
# With @duckdb/node-api installed (npm install --prefix DIR @duckdb/node-api,
# then DUCKDB_PREFIX=DIR), the same data is copied out and bench/duckdb_peer.cjs
# prints DuckDB's figures beside them; nothing here needs it.
#
# Environment: BENCH_PORT (default 5497) for the throw-away server, or
# BENCH_USE_EXISTING=1 to use the server of PGHOST/PGPORT/PGUSER/PGDATABASE
# and the orders table there (not regenerated); WORKERS (default 2) is
# max_parallel_workers_per_gather, WORK_MEM (default 1GB) work_mem, for
# every section alike.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
N="${1:-3000000}"
RUNS="${2:-3}"
WORKERS="${WORKERS:-2}"
WORK_MEM="${WORK_MEM:-1GB}"

psql_run() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
if [ "${BENCH_USE_EXISTING:-0}" != 1 ]; then
    source "$here/../scripts/temp_postgres.sh"
    trap temp_postgres_stop EXIT
    TEMP_PG_PORT="${BENCH_PORT:-5497}" TEMP_PG_OPTIONS="-c shared_buffers=2GB -c max_wal_size=16GB -c autovacuum=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_parallel_workers=8" temp_postgres_start
    psql_run -c "CREATE EXTENSION customer_analytics"
    echo "generating $N orders (seed 42) ..." >&2
    psql_run -v n="$N" -v seed=42 -v unlogged=1 -f "$here/generate_orders.sql"
    psql_run -c "VACUUM (FREEZE, ANALYZE) orders"
fi
AS_OF="$(psql -X -At -c "SELECT max(order_date) FROM orders")"
ext="$(psql -X -At -c "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                          WHERE e.extname = 'customer_analytics'")"

# The scoring of (d), (e): a summary per customer, the bins over them, then
# score, segment and stage per customer (the README's query).
scoring() {  # scoring "SUMMARY QUERY (customer, s)"
    cat <<SQL
WITH s AS MATERIALIZED ($1),
     b AS (SELECT rfm_bins(s, DATE '$AS_OF') AS b FROM s)
SELECT s.customer, rfm_score(s.s, b.b, DATE '$AS_OF') AS score,
       rfm_segment(rfm_score(s.s, b.b, DATE '$AS_OF')) AS segment,
       lifecycle_stage((s.s).last_order, DATE '$AS_OF') AS stage
FROM s CROSS JOIN b
SQL
}
declare -A QUERY
QUERY[a]="SELECT customer_id, max(order_date), count(*), sum(amount) FROM orders GROUP BY customer_id"
QUERY[b]="SELECT customer_id, rfm_agg(order_date, amount) FROM orders GROUP BY customer_id"
QUERY[c]="SELECT * FROM rfm_summaries('orders', 'customer_id', 'order_date', 'amount')"
QUERY[d]="$(scoring "SELECT customer_id AS customer, rfm_agg(order_date, amount) AS s FROM orders GROUP BY customer_id")"
QUERY[e]="$(scoring "SELECT customer, summary AS s FROM rfm_summaries('orders', 'customer_id', 'order_date', 'amount')")"
QUERY[g]="SELECT * FROM rfm_segments('orders', 'customer_id', 'order_date', 'amount', DATE '$AS_OF')"
QUERY[f]="WITH s AS (
    SELECT customer_id, DATE '$AS_OF' - max(order_date) FILTER (WHERE amount >= 0) AS recency,
           count(*) FILTER (WHERE amount >= 0) AS frequency, sum(amount) AS monetary
    FROM orders GROUP BY customer_id
), q AS (
    SELECT customer_id, recency, ntile(5) OVER (ORDER BY recency DESC) AS r,
           ntile(5) OVER (ORDER BY frequency) AS f, ntile(5) OVER (ORDER BY monetary) AS m
    FROM s
)
SELECT customer_id, r, f, m,
       CASE WHEN r BETWEEN 4 AND 5 AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Champions'
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
       CASE WHEN recency <= 63 THEN 'active' WHEN recency <= 126 THEN 'silent'
            WHEN recency <= 365 THEN 'sleeping' ELSE 'churned' END AS stage
FROM q"

script="$(mktemp)"
{
cat <<SQL
SET work_mem = '$WORK_MEM';
SET max_parallel_workers_per_gather = $WORKERS;
SET jit = off;
SET search_path = public, $ext;
CREATE TEMP TABLE timings (section text, variant text, run int, seconds float8);
SELECT count(*) FROM orders \g /dev/null
SQL
for run in $(seq "$RUNS"); do
    for section in a a_sort b c d e f g; do
        query="${QUERY[${section%_sort}]}"
        toggle=""
        [ "$section" = a ] && toggle="SET enable_sort = off;"
        [ "$section" = a_sort ] && toggle="SET enable_hashagg = off;"
        cat <<SQL
$toggle
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM ($query) q WHERE q IS NOT NULL \g /dev/null
INSERT INTO timings SELECT '${section%_sort}', '$section', $run, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
RESET enable_sort; RESET enable_hashagg;
SQL
    done
done
cat <<'SQL'
\echo
\echo 'best time of each section (seconds; runs in order)'
SELECT section, min(seconds)::numeric(10,3) AS best,
       string_agg(seconds::numeric(10,3)::text, ' / ' ORDER BY run, variant) AS runs
FROM timings GROUP BY section ORDER BY section;
WITH best AS (SELECT section, min(seconds) AS s FROM timings GROUP BY section)
SELECT round((a.s / c.s)::numeric, 2) AS "a/c (>= 4)", round((b.s / c.s)::numeric, 2) AS "b/c",
       round((d.s / e.s)::numeric, 2) AS "d/e", round((e.s / a.s)::numeric, 2) AS "e/a",
       round((f.s / e.s)::numeric, 2) AS "f/e", round((g.s / a.s)::numeric, 2) AS "g/a",
       round((d.s / g.s)::numeric, 2) AS "d/g"
FROM best a, best b, best c, best d, best e, best f, best g
WHERE a.section = 'a' AND b.section = 'b' AND c.section = 'c' AND d.section = 'd' AND e.section = 'e'
  AND f.section = 'f' AND g.section = 'g';
SQL
} > "$script"

echo
echo "rfm_summaries against GROUP BY: $(psql -X -At -c "SELECT count(*) || ' orders, ' || count(DISTINCT customer_id)
      || ' customers' FROM orders"), work_mem $WORK_MEM, $WORKERS workers, $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
psql_run -f "$script"
rm -f "$script"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Cancel: rfm_summaries is canceled while it runs (a statement of ten
# calls, so that one is surely running); how long until neither the backend
# nor any of its workers runs it any more.
echo
calls="$(for i in $(seq 10); do printf '%sSELECT * FROM rfm_summaries(%s)' "$([ "$i" = 1 ] || echo ' UNION ALL ')" \
         "'orders', 'customer_id', 'order_date', 'amount'"; done)"
psql -X -q -c "SET work_mem = '$WORK_MEM'; SET max_parallel_workers_per_gather = $WORKERS; SET application_name = 'bulk_cancel'" \
     -c "SELECT count(*) FROM ($calls) q" >/dev/null 2>&1 &
victim=$!
psql_run -At <<'SQL'
DO $$
DECLARE
  target int;
  started timestamptz;
  busy boolean;
BEGIN
  FOR i IN 1 .. 1000 LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid INTO target FROM pg_stat_activity WHERE application_name = 'bulk_cancel' AND state = 'active';
    EXIT WHEN target IS NOT NULL;
    PERFORM pg_sleep(0.01);
  END LOOP;
  IF target IS NULL THEN
    RAISE NOTICE 'cancel: the statement to cancel did not start';
    RETURN;
  END IF;
  PERFORM pg_sleep(0.1);
  started := clock_timestamp();
  PERFORM pg_stat_clear_snapshot();
  IF NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = target AND state = 'active') THEN
    RAISE NOTICE 'cancel: the statement ended before it could be canceled (a table too small to measure)';
    RETURN;
  END IF;
  PERFORM pg_cancel_backend(target);
  LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT count(*) > 0 INTO busy FROM pg_stat_activity
     WHERE (pid = target AND state = 'active') OR leader_pid = target;
    EXIT WHEN NOT busy OR clock_timestamp() > started + interval '10 s';
    PERFORM pg_sleep(0.001);
  END LOOP;
  RAISE NOTICE 'cancel: rfm_summaries and its workers stopped % ms after pg_cancel_backend',
    round(extract(epoch FROM clock_timestamp() - started)::numeric * 1000, 1);
END $$;
SQL
wait "$victim" || true

if [ -n "${DUCKDB_PREFIX:-}" ] && [ -d "$DUCKDB_PREFIX/node_modules/@duckdb/node-api" ]; then
    echo
    csv="$(mktemp -d)/orders.csv"
    chmod 777 "$(dirname "$csv")"
    started=$(date +%s.%N)
    psql_run -c "\\copy orders (customer_id, order_date, amount) TO '$csv' WITH (FORMAT csv)"
    echo "copy out of PostgreSQL: $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
    NODE_PATH="$DUCKDB_PREFIX/node_modules" node "$here/duckdb_peer.cjs" "$csv" "$AS_OF" "$RUNS"
    rm -rf "$(dirname "$csv")"
fi
