#!/usr/bin/env bash
# Runs every ```sql block of README.md, in order, in one database holding
# the tables of test/readme/sample_schema.sql (the extension is created by
# the README's first example). Any error fails the test and names the block.
# Expects the extension to be installed (scripts/pg_tests.sh does that).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
bindir="$("$PG_CONFIG" --bindir)"
# shellcheck source=../../scripts/temp_postgres.sh
source "$root/scripts/temp_postgres.sh"
trap temp_postgres_stop EXIT
TEMP_PG_PORT="${TEMP_PG_PORT:-5484}" TEMP_PG_BINDIR="$bindir" temp_postgres_start

script="$TEMP_PG_DIR/readme_examples.sql"
awk '
    /^```sql[[:space:]]*$/ { inside = 1; block++; printf "\\echo README block %d (line %d)\n", block, NR + 1; next }
    /^```/ { if (inside) print ""; inside = 0; next }
    inside { print }
    END { if (block == 0) exit 1 }
' README.md >"$script"
blocks="$(grep -c '^\\echo README block' "$script")"

"$bindir/createdb" readme
"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d readme -f test/readme/sample_schema.sql
if ! "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -P pager=off -d readme -f "$script" >"$TEMP_PG_DIR/readme.out" 2>&1; then
    grep '^README block' "$TEMP_PG_DIR/readme.out" | tail -n 1
    grep -A5 'ERROR' "$TEMP_PG_DIR/readme.out" | head -20
    exit 1
fi
echo "all $blocks SQL examples of README.md ran"
