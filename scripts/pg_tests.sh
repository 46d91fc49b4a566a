#!/usr/bin/env bash
# Builds and installs the extension, starts a throw-away PostgreSQL (as an
# unprivileged user when run as root), runs the pg_regress and isolation
# suites (`make installcheck`), prints the diffs of any failure, and stops
# the server. Exits non-zero on any failure.
#
#   scripts/pg_tests.sh                 # every test in sql/ and specs/
#   scripts/pg_tests.sh builder rfm_agg # setup plus the named tests
#
# `make install` writes into the system PostgreSQL directories, so when
# several checkouts share a machine, run it under one lock:
#   flock /tmp/customer_analytics_install.lock scripts/pg_tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

make -s -j "$(nproc)" PG_CONFIG="$PG_CONFIG"
"${sudo_cmd[@]}" make -s install PG_CONFIG="$PG_CONFIG"

# shellcheck source=temp_postgres.sh
source "$root/scripts/temp_postgres.sh"
trap temp_postgres_stop EXIT
TEMP_PG_BINDIR="$("$PG_CONFIG" --bindir)" temp_postgres_start

selection=()
if [ "$#" -gt 0 ]; then
    selection=(REGRESS="setup $*" ISOLATION=)
fi
rm -f regression.diffs
if ! make -s installcheck PG_CONFIG="$PG_CONFIG" "${selection[@]}"; then
    [ -f regression.diffs ] && head -300 regression.diffs
    [ -f output_iso/regression.diffs ] && head -100 output_iso/regression.diffs
    exit 1
fi
