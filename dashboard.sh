#!/usr/bin/env bash
# The marketers' dashboard on the bundled sample, from a fresh Debian 12 machine:
#
#   ./dashboard.sh            # build everything, serve on http://127.0.0.1:4310/ until Ctrl-C
#   ./dashboard.sh --check    # the same, then the browser test instead of serving (CI)
#
# Installs what it needs (apt-get, via sudo unless root: PostgreSQL 15 and
# its build packages, Node.js and npm if missing, and for --check Debian's
# chromium and a CJK font), builds and installs the extension, runs `npm ci`
# in dashboard/, starts a throw-away PostgreSQL, generates the seeded demo
# orders, builds the segments as of 2024-09-30 and refreshes them with the
# orders of the last quarter (so that migration compares two refreshes),
# builds the dashboard through a read-only role and serves it on 127.0.0.1.
# Everything it started stops when it exits (Ctrl-C included).
#
# Settings: DASHBOARD_PORT (web, default 4310), DASHBOARD_PG_PORT (default
# 5491), DASHBOARD_ORDERS (generated orders, default 200000),
# DASHBOARD_INSTALL=0 to use the extension already installed.
set -euo pipefail
cd "$(dirname "$0")"
root="$(pwd)"
mode=serve
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
orders="${DASHBOARD_ORDERS:-200000}"
web_port="${DASHBOARD_PORT:-4310}"

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
packages=(postgresql-15 postgresql-server-dev-15 libboost-math-dev cmake g++ make)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
[ "$mode" = serve ] || packages+=(chromium fonts-wqy-microhei)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} ..."
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Observable Framework needs Node.js 18, playwright-core (the test) 20.
node_major="$(node -p 'process.versions.node.split(".")[0]')"
node_needed=18
[ "$mode" = serve ] || node_needed=20
if [ "$node_major" -lt "$node_needed" ]; then
    echo "this needs Node.js $node_needed or later; the machine has $(node --version)" >&2
    exit 1
fi
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"

if [ "${DASHBOARD_INSTALL:-1}" != 0 ]; then
    echo "building and installing customer_analytics ..."
    make -s -j "$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null
    "${sudo_cmd[@]}" make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
fi

cd "$root/dashboard"
# npm ci (exactly the locked versions, from the npm registry) unless
# node_modules was installed from the current lockfile already.
if [ ! node_modules/.package-lock.json -nt package-lock.json ]; then
    echo "installing the dashboard's npm packages (npm ci) ..."
    npm ci --no-audit --no-fund --loglevel=error
fi
cd "$root"

server_pid=
stop_all() {
    trap '' INT TERM   # a second Ctrl-C must not cut the clean-up short
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
    fi
    temp_postgres_stop
    if [ -n "$server_pid" ]; then
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
source "$root/scripts/temp_postgres.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM
TEMP_PG_PORT="${DASHBOARD_PG_PORT:-5491}" TEMP_PG_BINDIR="$("$PG_CONFIG" --bindir)" temp_postgres_start
psql_run() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "generating $orders orders (seed 42) and building the segments ..."
psql_run -c "CREATE EXTENSION customer_analytics"
psql_run -v n="$orders" -v seed=42 -v end_date=2024-12-31 -f "$root/bench/generate_orders.sql"
psql_run <<'SQL'
-- The shop's order table: the orders up to the end of September first.
CREATE TABLE sales (customer_id bigint NOT NULL, order_date date NOT NULL, amount numeric(12,2) NOT NULL);
INSERT INTO sales SELECT customer_id, order_date, amount FROM orders WHERE order_date <= DATE '2024-09-30';
SELECT build_segments('sales', 'customer_id', 'order_date', 'amount', 'customer_segments', DATE '2024-09-30') \gset
-- A quarter later: the new orders arrive and a refresh moves customers between segments.
INSERT INTO sales SELECT customer_id, order_date, amount FROM orders WHERE order_date > DATE '2024-09-30';
SELECT refresh_segments('customer_segments', DATE '2024-12-31') \gset
DROP TABLE orders;

-- The dashboard reads through a role that may read this one build and,
-- for the model pages, the orders: nothing else.
CREATE ROLE dashboard_reader LOGIN;
SELECT grant_segments_read('customer_segments', 'dashboard_reader') \gset
GRANT SELECT ON sales TO dashboard_reader;
SQL

echo "building the dashboard (as dashboard_reader) ..."
mkdir -p "$root/dashboard/build"
# The check builds with no network at all (a new network namespace; the
# server is reached through its Unix socket), to prove that nothing is
# downloaded at build time.
offline=()
if [ "$mode" = check ] && [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
    offline=(unshare --net)
fi
(cd "$root/dashboard" && PGUSER=dashboard_reader CA_TARGET=customer_segments \
    "${offline[@]}" npm run --silent build >"$root/dashboard/build/build.log" 2>&1) || {
    cat "$root/dashboard/build/build.log" >&2
    exit 1
}

DASHBOARD_PORT="$web_port" node "$root/dashboard/scripts/serve.mjs" &
server_pid=$!
node -e 'const url = process.argv[1];
(async () => { for (let i = 0; i < 100; i++) { try { await fetch(url); return; } catch { await new Promise((r) => setTimeout(r, 100)); } } process.exit(1); })()' \
    "http://127.0.0.1:$web_port/" || { echo "the web server did not start on 127.0.0.1:$web_port" >&2; exit 1; }
if [ "$mode" = check ]; then
    # The figures the pages must show, read with SQL in this run (as the owner).
    [ "${#offline[@]}" = 0 ] || echo "built with no network (${offline[*]})"
    psql_run -At -f "$root/dashboard/test/expected.sql" >"$root/dashboard/build/expected.json"
    node "$root/dashboard/test/browser.mjs" "http://127.0.0.1:$web_port" "$root/dashboard/build/expected.json"
    exit $?
fi
echo
echo "The dashboard is at http://127.0.0.1:$web_port/ (built in dashboard/build/site)."
echo "Press Ctrl-C to stop the web server and the throw-away PostgreSQL."
wait "$server_pid"
