# Sourced by tests and benchmarks that need Citus: a coordinator and two
# workers on one machine, each a throw-away PostgreSQL run by an unprivileged
# user (PostgreSQL refuses to run as root).
#
#   citus_install          builds Citus once into a cache folder (about 4
#                          minutes on 2 cores, without LLVM bitcode) and
#                          installs it into PostgreSQL's directories
#   citus_cluster_start    -> CITUS_COORDINATOR_PORT, CITUS_WORKER_PORTS,
#                          CITUS_DIR; PGHOST/PGPORT/PGUSER point at the
#                          coordinator
#   citus_cluster_stop
#
# Citus is a test dependency only (AGPL-3.0): its source stays in
# ../shared/vendor/citus and the build in the cache folder, never in the
# project. Settings: CITUS_CACHE (default ~/.cache/customer_analytics),
# CITUS_PORT (default 5470; workers on the next two ports), PG_CONFIG.

citus_version=13.2.2

citus_install() {
    local pg_config="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
    local root vendor cache tree sudo_cmd=()
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    vendor="$root/../shared/vendor/citus"
    cache="${CITUS_CACHE:-$HOME/.cache/customer_analytics}"
    tree="$cache/citus-$citus_version-pg$("$pg_config" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')"
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    local packages=(liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev libpam0g-dev libxslt1-dev libssl-dev
                    libreadline-dev) missing=() package
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ! -f "$tree/.built" ]; then
        rm -rf "$tree"
        mkdir -p "$cache"
        tar xzf "$vendor/citus-$citus_version.tar.gz" -C "$cache"
        mv "$cache/citus-$citus_version" "$tree"
        (cd "$tree" && patch -s -p1 <"$vendor/pg15-have_createdb_privilege.patch" &&
            ./configure -q --without-libcurl PG_CONFIG="$pg_config" >/dev/null &&
            make -s -j"$(nproc)" with_llvm=no >"$tree/build.log" 2>&1) || { tail -30 "$tree/build.log"; return 1; }
        touch "$tree/.built"
    fi
    (cd "$tree" && "${sudo_cmd[@]}" make -s install with_llvm=no PG_CONFIG="$pg_config" >/dev/null)
}

citus_cluster_start() {
    local pg_config="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
    local bindir port node run_as=()
    bindir="$("$pg_config" --bindir)"
    CITUS_OWNER="$(id -un)"
    if [ "$(id -u)" = 0 ]; then
        CITUS_OWNER="postgres"
        id -u "$CITUS_OWNER" >/dev/null 2>&1 || useradd --system --create-home "$CITUS_OWNER"
        run_as=(runuser -u "$CITUS_OWNER" --)
    fi
    CITUS_RUN=("${run_as[@]}")
    CITUS_BIN="$bindir"
    CITUS_DIR="$(mktemp -d /tmp/customer_analytics_citus.XXXXXX)"
    chown "$CITUS_OWNER" "$CITUS_DIR"
    chmod 755 "$CITUS_DIR"
    # Globals, not the caller's CITUS_PORT: a prefix assignment to a shell
    # function call does not outlive the call, and citus_cluster_stop needs
    # the ports.
    CITUS_COORDINATOR_PORT="${CITUS_PORT:-5470}"
    CITUS_WORKER_PORTS=("$((CITUS_COORDINATOR_PORT + 1))" "$((CITUS_COORDINATOR_PORT + 2))")
    CITUS_NODE_PORTS=("$CITUS_COORDINATOR_PORT" "${CITUS_WORKER_PORTS[@]}")
    for port in "${CITUS_NODE_PORTS[@]}"; do
        node="$CITUS_DIR/node$port"
        "${run_as[@]}" "$bindir/initdb" -D "$node" -A trust -U postgres --no-sync -E UTF8 --locale=C \
            >"$CITUS_DIR/initdb$port.log" 2>&1 || { cat "$CITUS_DIR/initdb$port.log"; return 1; }
        "${run_as[@]}" "$bindir/pg_ctl" -D "$node" -l "$CITUS_DIR/server$port.log" -w \
            -o "-k $CITUS_DIR -p $port -c listen_addresses=localhost -c fsync=off -c shared_preload_libraries=citus -c max_worker_processes=16 ${CITUS_PG_OPTIONS:-}" \
            start >/dev/null || { cat "$CITUS_DIR/server$port.log"; return 1; }
        "$bindir/psql" -X -q -h "$CITUS_DIR" -p "$port" -U postgres -d postgres -c 'CREATE EXTENSION citus' >/dev/null
    done
    "$bindir/psql" -X -q -h "$CITUS_DIR" -p "$CITUS_COORDINATOR_PORT" -U postgres -d postgres \
        -c "SELECT citus_set_coordinator_host('localhost', $CITUS_COORDINATOR_PORT)" >/dev/null
    for port in "${CITUS_WORKER_PORTS[@]}"; do
        "$bindir/psql" -X -q -h "$CITUS_DIR" -p "$CITUS_COORDINATOR_PORT" -U postgres -d postgres \
            -c "SELECT citus_add_node('localhost', $port)" >/dev/null
    done
    export PGHOST="$CITUS_DIR" PGPORT="$CITUS_COORDINATOR_PORT" PGUSER=postgres PGDATABASE=postgres
}

citus_cluster_stop() {
    [ -n "${CITUS_DIR:-}" ] || return 0
    local port
    for port in "${CITUS_NODE_PORTS[@]}"; do
        [ -d "$CITUS_DIR/node$port" ] &&
            "${CITUS_RUN[@]}" "$CITUS_BIN/pg_ctl" -D "$CITUS_DIR/node$port" -m fast -w stop >/dev/null 2>&1
    done
    rm -rf "$CITUS_DIR"
    CITUS_DIR=
}
