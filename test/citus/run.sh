#!/usr/bin/env bash
# Tests on Citus: a coordinator and two workers on this machine
# (scripts/citus.sh builds Citus once into a cache folder). Expects the
# extension to be installed (scripts/pg_tests.sh does that).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
# shellcheck source=../../scripts/citus.sh
source "$root/scripts/citus.sh"
citus_install
trap citus_cluster_stop EXIT
citus_cluster_start
checks() {  # the checks' notices and any error
    sed -n -e 's/^psql:[^ ]* NOTICE:  /  /p' -e '/ERROR\|DETAIL\|HINT\|CONTEXT/p'
}
for test in test/citus/*.sql; do
    echo "${test##*/}:"
    "$CITUS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f "$test" 2>&1 | checks
done
echo "Citus checks passed"
