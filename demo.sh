#!/usr/bin/env bash
# The main job on a bundled sample, from a fresh Debian 12 machine:
#
#   ./demo.sh                      # 200,000 generated orders (seeded)
#   ./demo.sh ../shared/data/cdnow/CDNOW_master.txt   # a transactions file
#
# Installs what it needs (apt-get, via sudo unless root), builds and installs
# the extension, starts a throw-away PostgreSQL in a temporary folder as an
# unprivileged user, loads the orders, computes every customer's RFM score,
# segment and lifecycle stage as of the last order date, prints the segment
# table and the stage counts, then stops the server and removes the folder.
#
# Transaction files: whitespace-separated CDNOW layouts (customer date
# YYYYMMDD quantity amount, or master-id sample-id date quantity amount), or
# CSV with a header and the columns customer_id,order_date,amount.
set -euo pipefail
cd "$(dirname "$0")"
root="$(pwd)"
input="${1:-}"
orders="${DEMO_ORDERS:-200000}"
[ -z "$input" ] || input="$(realpath "$input")"

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
packages=(postgresql-15 postgresql-server-dev-15 libboost-math-dev cmake g++ make)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} ..."
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"

echo "building and installing customer_analytics ..."
make -s -j "$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null
"${sudo_cmd[@]}" make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

source "$root/scripts/temp_postgres.sh"
trap temp_postgres_stop EXIT
TEMP_PG_PORT="${DEMO_PORT:-5489}" TEMP_PG_BINDIR="$("$PG_CONFIG" --bindir)" temp_postgres_start
psql_run() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_run -c "CREATE EXTENSION customer_analytics"

if [ -z "$input" ]; then
    echo "generating $orders orders (seed 42) ..."
    psql_run -v n="$orders" -v seed=42 -f "$root/bench/generate_orders.sql"
    psql_run -c "CREATE VIEW sales AS SELECT customer_id, order_date, amount FROM orders"
else
    echo "loading $input ..."
    psql_run -c "CREATE TABLE raw_lines (line text)"
    # Read in place; the file is not copied anywhere.
    psql_run -c "\\copy raw_lines FROM '$input' WITH (FORMAT text, DELIMITER E'\\x01')"
    psql_run <<'SQL'
CREATE TABLE sales AS
WITH lines AS (
    SELECT regexp_split_to_array(btrim(line), CASE WHEN line LIKE '%,%' THEN '\s*,\s*' ELSE '\s+' END) AS f
    FROM raw_lines
    WHERE btrim(line) <> '' AND btrim(line) ~ '^[0-9]'     -- skips header lines
)
SELECT CASE cardinality(f) WHEN 5 THEN f[1] ELSE f[1] END AS customer_id,
       CASE cardinality(f) WHEN 3 THEN f[2]::date
                           WHEN 4 THEN to_date(f[2], 'YYYYMMDD')
                           ELSE to_date(f[3], 'YYYYMMDD') END AS order_date,
       f[cardinality(f)]::numeric AS amount
FROM lines;
SQL
fi

psql_run -P footer=off <<'SQL'
\pset null '-'
SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers, sum(amount) AS revenue,
       min(order_date) AS first_order, max(order_date) AS as_of
FROM sales \gset
\echo
\echo :orders 'orders,' :customers 'customers, revenue' :revenue ', from' :first_order 'to' :as_of
-- One call builds the per-customer table, its indexes and the dashboard views.
SELECT build_segments('sales', 'customer_id', 'order_date', 'amount', 'customer_segments', :'as_of'::date)
    AS built \gset

\echo
\echo 'RFM segments as of' :as_of '(customer_segments_segment_sizes: quintile scores, the 11 standard segments)'
SELECT segment, customers, customer_share AS "customers %", revenue, revenue_share AS "revenue %"
FROM customer_segments_segment_sizes ORDER BY revenue DESC;

\echo 'Lifecycle stages (days since the last purchase: active <= 63 < silent <= 126 < sleeping <= 365 < churned)'
SELECT lifecycle_stage AS stage, customers, customer_share AS "customers %", revenue
FROM customer_segments_stage_counts
ORDER BY array_position(ARRAY['active', 'silent', 'sleeping', 'churned'], lifecycle_stage);

\echo 'Membership tiers (thresholds: the spend of the top 20 % and top 5 % of customers)'
SELECT tier, customers, customer_share AS "customers %", revenue, lowest_spend FROM customer_segments_tier_funnel
ORDER BY tier_rank;

\echo 'The 8 RFM classes (each of R, F, M high or low against the population mean)'
SELECT coalesce(rfm_class, 'no purchase') AS class, rfm_class_zh AS "类别", count(*) AS customers,
       sum(monetary) AS revenue
FROM customer_segments GROUP BY 1, 2 ORDER BY revenue DESC;
SQL
echo "stopping the throw-away server."
