#!/usr/bin/env bash
# The release test: install 0.1.0, use it (builds, rules, captured orders,
# kept states, what another role could plant), ALTER EXTENSION ... UPDATE,
# then check that
#   (a) the extension's objects equal a fresh install of the new version
#       (test/upgrade/extension_catalog.sql on both, compared with diff),
#   (b) the old builds refresh and equal fresh builds,
#   (c) states stored by 0.1.0 still read,
# and that pg_dump | pg_restore of the upgraded database restores builds
# that refresh, capture and equal fresh builds. Expects the extension to be
# installed (scripts/pg_tests.sh does that).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
bindir="$("$PG_CONFIG" --bindir)"
# Every symbol 0.1.0 names is still exported: named by the current scripts,
# or aliased to the function that now serves it (before_upgrade.sql then
# installs 0.1.0, which resolves each of them).
python3 scripts/c_symbols.py check extension/customer_analytics--0.1.0.sql src/pg/symbols_0_1_0.cpp \
    extension/source/*.sql
# shellcheck source=../../scripts/temp_postgres.sh
source "$root/scripts/temp_postgres.sh"
trap temp_postgres_stop EXIT
TEMP_PG_PORT="${TEMP_PG_PORT:-5487}" TEMP_PG_BINDIR="$bindir" temp_postgres_start
work="$TEMP_PG_DIR/upgrade"
mkdir -p "$work"
chmod 777 "$work"
run_sql() {  # run_sql DATABASE FILE
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$2"
}
checks() {  # the checks' notices and any error, from run_sql's output
    sed -n -e 's/^psql:[^ ]* NOTICE:  /  /p' -e '/ERROR\|DETAIL\|HINT\|CONTEXT/p'
}

"$bindir/createdb" fresh
"$bindir/psql" -X -q -d fresh -c 'CREATE EXTENSION customer_analytics'
"$bindir/psql" -X -At -d fresh -f test/upgrade/extension_catalog.sql >"$work/fresh.txt"

"$bindir/createdb" upgraded
run_sql upgraded test/upgrade/before_upgrade.sql >/dev/null
"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d upgraded -c 'ALTER EXTENSION customer_analytics UPDATE'
"$bindir/psql" -X -At -d upgraded -f test/upgrade/extension_catalog.sql >"$work/upgraded.txt"
if ! diff -u "$work/fresh.txt" "$work/upgraded.txt"; then
    echo "!! the upgraded extension differs from a fresh install (- fresh, + upgraded)"
    exit 1
fi
echo "ok: the upgraded extension equals a fresh install ($(wc -l <"$work/fresh.txt") catalog lines)"
run_sql upgraded test/upgrade/after_upgrade.sql 2>&1 | checks

"$bindir/pg_dump" -Fc -d upgraded -f "$work/upgraded.dump"
"$bindir/createdb" restored
"$bindir/pg_restore" --exit-on-error -d restored "$work/upgraded.dump"
run_sql restored test/upgrade/after_restore.sql 2>&1 | checks
echo "upgrade and restore checks passed"
