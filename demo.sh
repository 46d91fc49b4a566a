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
# CSV with a header naming a customer column (customer_id or CustomerID,
# text keys welcome), a date column (order_date or InvoiceDate) and an
# amount column (amount, or Quantity and UnitPrice); with an order key
# (order_id or InvoiceNo) the builder's order_column option makes the lines
# of an invoice one order, and min_purchase 0.01 keeps free items and
# purchases cancelled the same day from counting as purchases.
# DEMO_PORT sets the throw-away server's port (default 5489), DEMO_ORDERS the
# number of generated orders.
set -euo pipefail
cd "$(dirname "$0")"
root="$(pwd)"
input="${1:-}"
orders="${DEMO_ORDERS:-200000}"
build_options='{}'
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
    psql_run -c "CREATE VIEW sales AS SELECT customer_id, order_id::text, order_date, amount FROM orders"
elif head -n 1 "$input" | grep -q ','; then
    echo "loading $input (CSV with a header) ..."
    # Header names, lower-cased and stripped of quotes, become text columns;
    # PostgreSQL's CSV parser reads the file in place (quoted fields such as
    # "17850", embedded commas), then the columns are picked by name.
    mapfile -t names < <(head -n 1 "$input" | tr -d '\r' | sed 's/^\xEF\xBB\xBF//' | tr ',' '\n' |
        sed -e 's/^[[:space:]"]*//' -e 's/[[:space:]"]*$//' | tr '[:upper:]' '[:lower:]' | sed 's/[^a-z0-9_]/_/g')
    pick() {  # the first header name among the arguments
        local want name
        for want in "$@"; do
            for name in "${names[@]}"; do
                [ "$name" = "$want" ] && { echo "$name"; return 0; }
            done
        done
        return 0
    }
    customer_column="$(pick customer_id customerid customer)"
    date_column="$(pick order_date invoicedate date order_time)"
    order_column="$(pick order_id invoiceno invoice order)"
    amount_column="$(pick amount)"
    quantity_column="$(pick quantity)"
    price_column="$(pick unitprice unit_price price)"
    if [ -z "$customer_column" ] || [ -z "$date_column" ] ||
        { [ -z "$amount_column" ] && { [ -z "$quantity_column" ] || [ -z "$price_column" ]; }; }; then
        echo "$input needs a customer column (customer_id or CustomerID), a date column (order_date or" >&2
        echo "InvoiceDate) and an amount column (amount, or Quantity and UnitPrice); its header is:" >&2
        head -n 1 "$input" >&2
        exit 1
    fi
    table_columns="$(printf '"%s" text, ' "${names[@]}")"
    psql_run -c "CREATE TABLE raw_orders (${table_columns%, })"
    psql_run -c "\\copy raw_orders FROM '$input' WITH (FORMAT csv, HEADER true)"
    amount_expression="\"$amount_column\"::numeric"
    [ -n "$amount_column" ] || amount_expression="\"$quantity_column\"::numeric * \"$price_column\"::numeric"
    # One row per line; with an order key the builder groups the lines of an
    # order (its order_column option). Rows without a customer are skipped,
    # as the builder would skip them, and counted.
    order_expression="NULL::text"
    if [ -n "$order_column" ]; then
        order_expression="nullif(btrim(\"$order_column\"), '')"
        build_options='{"order_column": "order_id", "min_purchase": 0.01}'
    fi
    psql_run -v customer="$customer_column" -v order_date="$date_column" <<SQL
SET datestyle = 'ISO, MDY';   -- both 2010-12-01 08:26:00 and 12/1/2010 8:26
CREATE TABLE sales AS
SELECT btrim(:"customer") AS customer_id, $order_expression AS order_id,
       (:"order_date"::timestamp)::date AS order_date, $amount_expression AS amount
FROM raw_orders WHERE nullif(btrim(:"customer"), '') IS NOT NULL;
SELECT count(*) AS without_customer FROM raw_orders WHERE nullif(btrim(:"customer"), '') IS NULL \\gset
\\echo 'rows without a customer, skipped:' :without_customer
SQL
else
    echo "loading $input ..."
    psql_run -c "CREATE TABLE raw_lines (line text)"
    # Read in place; the file is not copied anywhere.
    psql_run -c "\\copy raw_lines FROM '$input' WITH (FORMAT text, DELIMITER E'\\x01')"
    psql_run <<'SQL'
CREATE TABLE sales AS
WITH lines AS (
    SELECT regexp_split_to_array(btrim(line), '\s+') AS f
    FROM raw_lines
    WHERE btrim(line) ~ '^[0-9]'     -- skips header lines
)
SELECT f[1] AS customer_id, NULL::text AS order_id,
       CASE cardinality(f) WHEN 4 THEN to_date(f[2], 'YYYYMMDD') ELSE to_date(f[3], 'YYYYMMDD') END AS order_date,
       f[cardinality(f)]::numeric AS amount
FROM lines;
SQL
fi
if [ "$(psql_run -At -c 'SELECT count(*) FROM sales')" = 0 ]; then
    echo "no orders were loaded from ${input:-the generator}: nothing to segment" >&2
    exit 1
fi

psql_run -P footer=off -v build_options="$build_options" <<'SQL'
\pset null '-'
SELECT count(*) AS lines,
       count(DISTINCT (customer_id, order_id)) FILTER (WHERE order_id IS NOT NULL)
           + count(*) FILTER (WHERE order_id IS NULL) AS orders,
       count(DISTINCT customer_id) AS customers, sum(amount) AS revenue,
       min(order_date) AS first_order, max(order_date) AS as_of
FROM sales \gset
\echo
\echo :orders 'orders in' :lines 'rows,' :customers 'customers, revenue' :revenue 'from' :first_order 'to' :as_of
-- One call builds the per-customer view (over each customer's kept summary), and the dashboard views.
SELECT build_segments('sales', 'customer_id', 'order_date', 'amount', 'customer_segments', :'as_of'::date,
                      :'build_options'::jsonb) AS built \gset

\echo
\echo 'RFM segments as of' :as_of '(customer_segments_segment_sizes: quintile scores, the 11 standard segments)'
SELECT segment, customers, round(100 * customer_share, 2) AS "customers %", revenue, round(100 * revenue_share, 2) AS "revenue %"
FROM customer_segments_segment_sizes ORDER BY revenue DESC;

\echo 'Lifecycle stages (days since the last purchase: active <= 63 < silent <= 126 < sleeping <= 365 < churned)'
SELECT lifecycle_stage AS stage, customers, round(100 * customer_share, 2) AS "customers %", revenue
FROM customer_segments_stage_counts
ORDER BY array_position(ARRAY['active', 'silent', 'sleeping', 'churned'], lifecycle_stage);

\echo 'Membership tiers (thresholds: the spend of the top 20 % and top 5 % of customers)'
SELECT tier, customers, round(100 * customer_share, 2) AS "customers %", revenue, lowest_spend FROM customer_segments_tier_funnel
ORDER BY tier_rank;

\echo 'The 8 RFM classes (each of R, F, M high or low against the population mean)'
SELECT coalesce(rfm_class, 'no purchase') AS class, rfm_class_zh AS "类别", count(*) AS customers,
       sum(monetary) AS revenue
FROM customer_segments GROUP BY 1, 2 ORDER BY revenue DESC;
SQL
echo "stopping the throw-away server."
