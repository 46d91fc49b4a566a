# Sourced by .ci/run, demo.sh and bench scripts: a throw-away PostgreSQL
# server in a temporary folder, run by an unprivileged user (PostgreSQL
# refuses to run as root), reachable only through a Unix socket there.
#
#   temp_postgres_start   -> exports PGHOST, PGPORT, PGUSER, PGDATABASE
#   temp_postgres_stop    -> stops the server and removes the folder
#
# Settings: TEMP_PG_PORT (default 5488), TEMP_PG_USER (default postgres when
# running as root, else the current user), TEMP_PG_BINDIR (default from
# pg_config --bindir).

temp_postgres_start() {
    local bindir="${TEMP_PG_BINDIR:-$(pg_config --bindir)}"
    local run_as=()
    TEMP_PG_OWNER="$(id -un)"
    if [ "$(id -u)" = 0 ]; then
        TEMP_PG_OWNER="${TEMP_PG_USER:-postgres}"
        id -u "$TEMP_PG_OWNER" >/dev/null 2>&1 || useradd --system --create-home "$TEMP_PG_OWNER"
        run_as=(runuser -u "$TEMP_PG_OWNER" --)
    fi
    TEMP_PG_DIR="$(mktemp -d /tmp/customer_analytics_pg.XXXXXX)"
    chown "$TEMP_PG_OWNER" "$TEMP_PG_DIR"
    chmod 755 "$TEMP_PG_DIR"
    TEMP_PG_RUN=("${run_as[@]}")
    "${run_as[@]}" "$bindir/initdb" -D "$TEMP_PG_DIR/data" -A trust -U postgres --no-sync \
        -E UTF8 --locale=C >"$TEMP_PG_DIR/initdb.log" 2>&1 || { cat "$TEMP_PG_DIR/initdb.log"; return 1; }
    "${run_as[@]}" "$bindir/pg_ctl" -D "$TEMP_PG_DIR/data" -l "$TEMP_PG_DIR/server.log" -w \
        -o "-k $TEMP_PG_DIR -p ${TEMP_PG_PORT:-5488} -c listen_addresses='' -c fsync=off -c max_worker_processes=8 ${TEMP_PG_OPTIONS:-}" \
        start >/dev/null || { cat "$TEMP_PG_DIR/server.log"; return 1; }
    TEMP_PG_BIN="$bindir"
    export PGHOST="$TEMP_PG_DIR" PGPORT="${TEMP_PG_PORT:-5488}" PGUSER=postgres PGDATABASE=postgres
}

temp_postgres_stop() {
    [ -n "${TEMP_PG_DIR:-}" ] || return 0
    if [ -d "$TEMP_PG_DIR/data" ]; then
        "${TEMP_PG_RUN[@]}" "$TEMP_PG_BIN/pg_ctl" -D "$TEMP_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TEMP_PG_DIR"
    TEMP_PG_DIR=
}
