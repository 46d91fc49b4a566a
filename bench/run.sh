#!/usr/bin/env bash
# bench/run.sh -- side-by-side timings and the ratios of SPEC.md "Performance".
#
#   bench/run.sh [N] [options]        N = number of orders (default 10000000)
#
# Starts a throw-away PostgreSQL 15 in a temporary directory (as the postgres
# user when run as root; port $BENCH_PORT, default 5499), creates the
# extension, generates N orders with bench/generate_orders.sql, then measures
# every section in ONE psql session with the same settings and prints the
# best time of each section and the ratios against their targets.
#
# Options:
#   --plain-only        only the plain-SQL sections (no extension needed)
#   --sections LIST     comma-separated section ids (default: all that apply)
#   --runs K            timed runs per section and plan variant (default 3)
#   --variants LIST     plan variants tried for each query (default
#                       default,hash,sort): default = planner's choice,
#                       hash = enable_sort off, sort = enable_hashagg off,
#                       serial = no parallel workers, hash_serial, sort_serial
#   --consume MODE      how results are consumed, the same for every query:
#                       count (default): SELECT count(*) FROM (q) q WHERE q IS
#                       NOT NULL -- the whole-row test makes every output
#                       column of every row be computed; ctas: CREATE TEMP
#                       TABLE ... AS q, dropped after each run
#   --work-mem SIZE     work_mem for the session (default 1GB)
#   --workers K         max_parallel_workers_per_gather (default 2)
#   --jit on|off        jit for the session (default off)
#   --seed S            generator seed (default 42)
#   --no-generate       keep the existing orders table (BENCH_USE_EXISTING=1)
#   --show-plans        print the plan of every variant that was timed
#   --check             before timing (untimed), compare rfm_agg's fields with
#                       plain aggregates for every customer, and the segment
#                       and stage counts of sections c and d
#   --csv FILE          also write the raw timings as CSV
#   --keep              keep the throw-away cluster running and print how to
#                       connect (stop it yourself with pg_ctl -D DIR/data stop)
#
# Environment:
#   BENCH_USE_EXISTING=1  use the server given by PGHOST/PGPORT/PGUSER/
#                         PGDATABASE instead of a throw-away one. The
#                         generator DROPs and re-creates the table "orders"
#                         there unless --no-generate is given.
#   BENCH_PORT            port of the throw-away server (default 5499)
#   BENCH_SHARED_BUFFERS  shared_buffers of the throw-away server (default 2GB)
#   PG_BINDIR             PostgreSQL binaries (default: pg_config --bindir,
#                         else /usr/lib/postgresql/15/bin)
#
# Sections (add new ones in the "Sections" part below):
#   a  plain GROUP BY customer_id: max(order_date), count(*), sum(amount)
#   b  GROUP BY customer_id with rfm_agg(order_date, amount)       [extension]
#   c  RFM scores, 11-segment names, lifecycle stages (extension)  [extension]
#   d  the same as c in plain SQL: GROUP BY, ntile(5) windows, CASE
# Ratios: b/a <= 1.05, c/a <= 1.25, d/c >= 3 (and d/a for information).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"

# ------------------------------------------------------------------ options
N=10000000
PLAIN_ONLY=0
SECTIONS_ARG=""
RUNS=3
VARIANTS_ARG="default,hash,sort"
CONSUME=count
WORK_MEM=1GB
WORKERS=2
JIT=off
SEED=42
GENERATE=1
SHOW_PLANS=0
CHECK=0
CSV=""
KEEP=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --plain-only)  PLAIN_ONLY=1 ;;
        --sections)    SECTIONS_ARG="${2:?}"; shift ;;
        --sections=*)  SECTIONS_ARG="${1#*=}" ;;
        --runs)        RUNS="${2:?}"; shift ;;
        --runs=*)      RUNS="${1#*=}" ;;
        --variants)    VARIANTS_ARG="${2:?}"; shift ;;
        --variants=*)  VARIANTS_ARG="${1#*=}" ;;
        --consume)     CONSUME="${2:?}"; shift ;;
        --consume=*)   CONSUME="${1#*=}" ;;
        --work-mem)    WORK_MEM="${2:?}"; shift ;;
        --work-mem=*)  WORK_MEM="${1#*=}" ;;
        --workers)     WORKERS="${2:?}"; shift ;;
        --workers=*)   WORKERS="${1#*=}" ;;
        --jit)         JIT="${2:?}"; shift ;;
        --jit=*)       JIT="${1#*=}" ;;
        --seed)        SEED="${2:?}"; shift ;;
        --seed=*)      SEED="${1#*=}" ;;
        --no-generate) GENERATE=0 ;;
        --show-plans)  SHOW_PLANS=1 ;;
        --check)       CHECK=1 ;;
        --csv)         CSV="${2:?}"; shift ;;
        --csv=*)       CSV="${1#*=}" ;;
        --keep)        KEEP=1 ;;
        -h|--help)     usage; exit 0 ;;
        -*)            die "unknown option $1 (see --help)" ;;
        *)             N="$1" ;;
    esac
    shift
done

N="${N//[,_]/}"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 10 ] || die "N must be an integer >= 10"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
[[ "$WORKERS" =~ ^[0-9]+$ ]] || die "--workers must be an integer"
[[ "$SEED" =~ ^-?[0-9]+$ ]] || die "--seed must be an integer"
[[ "$WORK_MEM" =~ ^[0-9]+[kMGT]?B?$ ]] || die "--work-mem: e.g. 1GB"
case "$CONSUME" in count|ctas) ;; *) die "--consume must be count or ctas" ;; esac
case "$JIT" in on|off) ;; *) die "--jit must be on or off" ;; esac
if [ "$GENERATE" = 0 ] && [ "${BENCH_USE_EXISTING:-0}" != 1 ]; then
    die "--no-generate needs BENCH_USE_EXISTING=1 (a throw-away server starts empty)"
fi

# ------------------------------------------------------------ plan variants
# name -> SET commands (applied before the variant's query; every variant
# starts from the session's settings, see reset_sql)
variant_sql() {
    case "$1" in
        default)     echo "" ;;
        hash)        echo "SET enable_sort = off;" ;;
        sort)        echo "SET enable_hashagg = off;" ;;
        serial)      echo "SET max_parallel_workers_per_gather = 0;" ;;
        hash_serial) echo "SET enable_sort = off; SET max_parallel_workers_per_gather = 0;" ;;
        sort_serial) echo "SET enable_hashagg = off; SET max_parallel_workers_per_gather = 0;" ;;
        *) return 1 ;;
    esac
}
reset_sql="RESET enable_sort; RESET enable_hashagg; SET max_parallel_workers_per_gather = $WORKERS;"
IFS=, read -r -a VARIANTS <<< "$VARIANTS_ARG"
for v in "${VARIANTS[@]}"; do
    variant_sql "$v" >/dev/null || die "unknown variant '$v'"
done

# ----------------------------------------------------------------- Sections
# Each section: an id (letters, digits, _), a description, whether it needs
# the extension, and a function sec_<id> printing the query to time (a
# SELECT, without a trailing semicolon; the @AS_OF@ placeholder is replaced by
# the date of the last order). The query is consumed as set by --consume.
# Sections that must run a statement as is (e.g. a builder call) set
# SEC_MODE[id]=raw: the statement is timed unchanged, no plan variants, with
# optional untimed SEC_SETUP[id] / SEC_TEARDOWN[id] SQL around every run.
# Ratios are "num/den <= target", "num/den >= target" or "num/den info" (no
# target), listed in RATIOS; a ratio is printed when both sections ran.
ALL_SECTIONS=(a b c d)
declare -A SEC_DESC SEC_EXT SEC_MODE SEC_SETUP SEC_TEARDOWN

SEC_DESC[a]="plain GROUP BY: max(order_date), count(*), sum(amount)"
SEC_EXT[a]=0
sec_a() { cat <<'SQL'
SELECT customer_id, max(order_date), count(*), sum(amount)
FROM orders
GROUP BY customer_id
SQL
}

SEC_DESC[b]="GROUP BY with rfm_agg(order_date, amount)"
SEC_EXT[b]=1
sec_b() { cat <<'SQL'
SELECT customer_id, rfm_agg(order_date, amount)
FROM orders
GROUP BY customer_id
SQL
}

SEC_DESC[c]="extension: rfm_agg + rfm_bins + rfm_score/segment + lifecycle"
SEC_EXT[c]=1
sec_c() { cat <<'SQL'
WITH s AS MATERIALIZED (SELECT customer_id, rfm_agg(order_date, amount) AS s
                        FROM orders GROUP BY customer_id),
     b AS (SELECT rfm_bins(s, DATE '@AS_OF@') AS b FROM s)
SELECT s.customer_id, rfm_score(s.s, b.b, DATE '@AS_OF@') AS score,
       rfm_segment(rfm_score(s.s, b.b, DATE '@AS_OF@')) AS segment,
       lifecycle_stage((s.s).last_order, DATE '@AS_OF@') AS stage
FROM s CROSS JOIN b
SQL
}

SEC_DESC[d]="plain SQL RFM: GROUP BY, 3 x ntile(5), segment and stage CASE"
SEC_EXT[d]=0
# Same semantics as the extension: refunds (amount < 0) are not purchases --
# they reduce monetary but are not counted and do not move the last order.
sec_d() { cat <<'SQL'
WITH s AS (
    SELECT customer_id,
           DATE '@AS_OF@' - max(order_date) FILTER (WHERE amount >= 0) AS recency,
           count(*) FILTER (WHERE amount >= 0) AS frequency,
           sum(amount) AS monetary
    FROM orders
    GROUP BY customer_id
), q AS (
    SELECT customer_id, recency,
           ntile(5) OVER (ORDER BY recency DESC) AS r,   -- most recent = 5
           ntile(5) OVER (ORDER BY frequency)    AS f,
           ntile(5) OVER (ORDER BY monetary)     AS m
    FROM s
)
SELECT customer_id, r, f, m,
       CASE
           WHEN r BETWEEN 4 AND 5 AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Champions'
           WHEN r BETWEEN 2 AND 5 AND f BETWEEN 3 AND 5 AND m BETWEEN 3 AND 5 THEN 'Loyal Customers'
           WHEN r = 1             AND f BETWEEN 4 AND 5 AND m BETWEEN 4 AND 5 THEN 'Can''t Lose Them'
           WHEN r BETWEEN 4 AND 5 AND f = 1             AND m = 1             THEN 'New Customers'
           WHEN r BETWEEN 3 AND 4 AND f = 1             AND m = 1             THEN 'Promising'
           WHEN r BETWEEN 2 AND 3 AND f BETWEEN 2 AND 3 AND m BETWEEN 2 AND 3 THEN 'Need Attention'
           WHEN r BETWEEN 3 AND 5 AND f BETWEEN 1 AND 3 AND m BETWEEN 1 AND 3 THEN 'Potential Loyalist'
           WHEN r BETWEEN 2 AND 3 AND f BETWEEN 1 AND 2 AND m BETWEEN 1 AND 2 THEN 'About To Sleep'
           WHEN r BETWEEN 1 AND 2 AND f BETWEEN 2 AND 5 AND m BETWEEN 2 AND 5 THEN 'At Risk'
           WHEN r = 1             AND f = 1             AND m = 1             THEN 'Lost'
           WHEN r BETWEEN 1 AND 2 AND f BETWEEN 1 AND 2 AND m BETWEEN 1 AND 2 THEN 'Hibernating'
           ELSE 'Others'
       END AS segment,
       CASE
           WHEN recency <= 63  THEN 'active'
           WHEN recency <= 126 THEN 'silent'
           WHEN recency <= 365 THEN 'sleeping'
           ELSE 'churned'
       END AS stage
FROM q
SQL
}

RATIOS=(
    "b/a <= 1.05"
    "c/a <= 1.25"
    "d/c >= 3"
    "d/a info"
)

# ------------------------------------------------------------------ helpers
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
    if [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then echo /usr/lib/postgresql/15/bin; return; fi
    if command -v pg_config >/dev/null; then pg_config --bindir; return; fi
    die "PostgreSQL binaries not found; set PG_BINDIR"
}
BINDIR="$(find_bindir)"
PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1)

# ------------------------------------------------------------------- server
workdir=""
script=""
cleanup() {
    local rc=$?
    [ -z "$script" ] || rm -f "$script"
    if [ -n "$workdir" ]; then
        if [ "$KEEP" = 1 ] && [ $rc = 0 ]; then
            log "kept: psql -h $workdir -p $PGPORT -U $PGUSER $PGDATABASE   (stop: $BINDIR/pg_ctl -D $workdir/data stop; rm -rf $workdir)"
        else
            as_pg "$BINDIR/pg_ctl" -D "$workdir/data" -m fast -w stop >/dev/null 2>&1 || true
            rm -rf "$workdir"
        fi
    fi
    exit $rc
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${BENCH_USE_EXISTING:-0}" = 1 ]; then
    log "using the existing server (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-})"
else
    port="${BENCH_PORT:-5499}"
    workdir="$(mktemp -d /tmp/ca_bench.XXXXXX)"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user"
        chown postgres "$workdir"
        chmod 700 "$workdir"
    fi
    log "initdb in $workdir"
    as_pg "$BINDIR/initdb" -D "$workdir/data" -A trust -U postgres -E UTF8 --locale=C >"$workdir/initdb.log" 2>&1 \
        || { cat "$workdir/initdb.log" >&2; die "initdb failed"; }
    as_pg "$BINDIR/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -t 60 \
        -o "-k $workdir -p $port -c listen_addresses='' -c shared_buffers=${BENCH_SHARED_BUFFERS:-2GB} \
            -c max_wal_size=16GB -c checkpoint_timeout=1h -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c autovacuum=off -c max_worker_processes=8 \
            -c max_parallel_workers=8" \
        start >/dev/null || { cat "$workdir/server.log" >&2; die "server did not start"; }
    export PGHOST="$workdir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
fi

q1() { "${PSQL[@]}" -At -c "$1"; }   # one value

server_version="$(q1 'SHOW server_version')"
log "PostgreSQL $server_version"

# ---------------------------------------------------------------- extension
need_ext=0
if [ "$PLAIN_ONLY" = 0 ]; then
    need_ext=1
    if [ -n "$SECTIONS_ARG" ]; then     # only if a chosen section needs it
        need_ext=0
        IFS=, read -r -a chosen <<< "$SECTIONS_ARG"
        for s in "${chosen[@]}"; do
            [ "${SEC_EXT[$s]:-0}" = 0 ] || need_ext=1
        done
    fi
    [ "$CHECK" = 0 ] || need_ext=1
fi
have_ext=0
if [ "$need_ext" = 1 ]; then
    if [ "$(q1 "SELECT count(*) FROM pg_available_extensions WHERE name = 'customer_analytics'")" = 0 ]; then
        die "extension customer_analytics is not installed (make install), or use --plain-only"
    fi
    "${PSQL[@]}" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS customer_analytics"
    have_ext=1
    ext_schema="$(q1 "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'customer_analytics'")"
    ext_version="$(q1 "SELECT extversion FROM pg_extension WHERE extname = 'customer_analytics'")"
    log "customer_analytics $ext_version in schema $ext_schema"
fi

# ----------------------------------------------------------------- sections
SECTIONS=()
if [ -n "$SECTIONS_ARG" ]; then
    IFS=, read -r -a SECTIONS <<< "$SECTIONS_ARG"
    for s in "${SECTIONS[@]}"; do
        [ -n "${SEC_DESC[$s]:-}" ] || die "unknown section '$s'"
        if [ "${SEC_EXT[$s]}" = 1 ] && [ "$have_ext" = 0 ]; then
            die "section $s needs the extension (not with --plain-only)"
        fi
    done
else
    for s in "${ALL_SECTIONS[@]}"; do
        if [ "${SEC_EXT[$s]}" = 0 ] || [ "$have_ext" = 1 ]; then SECTIONS+=("$s"); fi
    done
fi

# --------------------------------------------------------------------- data
gen_seconds=""
if [ "$GENERATE" = 1 ]; then
    log "generating $N orders (seed $SEED) ..."
    t0="$(now)"
    "${PSQL[@]}" -v n="$N" -v seed="$SEED" -v unlogged=1 -f "$here/generate_orders.sql"
    t1="$(now)"
    gen_seconds="$(elapsed "$t0" "$t1")"
    log "generated in ${gen_seconds}s; VACUUM (FREEZE, ANALYZE) ..."
    t0="$(now)"
    "${PSQL[@]}" -c "VACUUM (FREEZE, ANALYZE) orders"
    log "vacuumed in $(elapsed "$t0" "$(now)")s"
fi
read -r n_orders n_customers as_of table_size < <(
    "${PSQL[@]}" -At -F ' ' -c "SELECT sum(n), count(*), max(last), pg_size_pretty(pg_table_size('orders'))
                                FROM (SELECT count(*) AS n, max(order_date) AS last
                                      FROM orders GROUP BY customer_id) c" | tr -d '\n'; echo)
log "orders: $n_orders rows, $n_customers customers, last order $as_of, $table_size"

# -------------------------------------------------------------------- check
sqlstr() { printf "'%s'" "${1//\'/\'\'}"; }

section_query() {   # id -> the query with @AS_OF@ substituted
    local q
    q="$("sec_$1")"
    printf '%s' "${q//@AS_OF@/$as_of}"
}

wrapped_query() {   # id -> the statement that is timed
    local q
    q="$(section_query "$1")"
    if [ "${SEC_MODE[$1]:-query}" = raw ]; then
        printf '%s' "$q"
    elif [ "$CONSUME" = ctas ]; then
        printf 'CREATE TEMP TABLE bench_out AS\n%s' "$q"
    else
        printf 'SELECT count(*) FROM (\n%s\n) q WHERE q IS NOT NULL' "$q"
    fi
}

section_variants() {
    if [ "${SEC_MODE[$1]:-query}" = raw ]; then echo default; else echo "${VARIANTS[@]}"; fi
}

if [ "$CHECK" = 1 ] && [ "$have_ext" = 0 ]; then
    log "--check needs the extension; skipped"
elif [ "$CHECK" = 1 ]; then
    log "checking rfm_agg against plain aggregates (untimed) ..."
    echo
    echo "Check: rfm_agg(order_date, amount) field by field against plain aggregates"
    echo "(purchases = amount >= 0; a count is the number of customers that differ):"
    "${PSQL[@]}" -c "SET search_path = public, \"$ext_schema\"" -c "SET work_mem = '$WORK_MEM'" -f - <<'SQL' || log "check failed (see above); continuing"
\pset footer off
WITH e AS (SELECT customer_id, rfm_agg(order_date, amount) AS s FROM orders GROUP BY customer_id),
     p AS (SELECT customer_id,
                  min(order_date) FILTER (WHERE amount >= 0) AS first_order,
                  max(order_date) FILTER (WHERE amount >= 0) AS last_order,
                  count(*) FILTER (WHERE amount >= 0) AS frequency,
                  count(DISTINCT order_date) FILTER (WHERE amount >= 0) AS purchase_days,
                  sum(amount) AS monetary,
                  count(*) FILTER (WHERE amount < 0) AS refunds
           FROM orders GROUP BY customer_id)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE e.customer_id IS NULL OR p.customer_id IS NULL) AS missing,
       count(*) FILTER (WHERE (e.s).first_order IS DISTINCT FROM p.first_order) AS first_order,
       count(*) FILTER (WHERE (e.s).last_order IS DISTINCT FROM p.last_order) AS last_order,
       count(*) FILTER (WHERE (e.s).frequency IS DISTINCT FROM p.frequency) AS frequency,
       count(*) FILTER (WHERE (e.s).purchase_days IS DISTINCT FROM p.purchase_days) AS purchase_days,
       count(*) FILTER (WHERE (e.s).monetary IS DISTINCT FROM p.monetary) AS monetary,
       count(*) FILTER (WHERE (e.s).refunds IS DISTINCT FROM p.refunds) AS refunds
FROM e FULL JOIN p USING (customer_id);
SQL
    echo "Segment and stage counts, extension (c) and plain SQL (d); segments may differ"
    echo "by the tie rules (quantile bins vs ntile), stages must not:"
    "${PSQL[@]}" -c "SET search_path = public, \"$ext_schema\"" -c "SET work_mem = '$WORK_MEM'" \
        -c "\\pset footer off" -c "
WITH c AS ($(section_query c)),
     d AS ($(section_query d)),
     x AS (SELECT 'segment' AS kind, segment AS value, count(*) AS ext, 0 AS plain FROM c GROUP BY segment
           UNION ALL SELECT 'stage', stage, count(*), 0 FROM c GROUP BY stage
           UNION ALL SELECT 'segment', segment, 0, count(*) FROM d GROUP BY segment
           UNION ALL SELECT 'stage', stage, 0, count(*) FROM d GROUP BY stage)
SELECT kind, value, sum(ext) AS extension, sum(plain) AS plain_sql,
       CASE WHEN sum(ext) = sum(plain) THEN '' ELSE 'differs' END AS note
FROM x GROUP BY kind, value ORDER BY kind, value" || log "check failed (see above); continuing"
    echo
fi

# ------------------------------------------------------ the benchmark script
script="$(mktemp /tmp/ca_bench_script.XXXXXX)"

{
    echo "\\set QUIET on"
    echo "\\pset footer off"
    echo "SET client_min_messages = warning;"
    echo "SET work_mem = '$WORK_MEM';"
    echo "SET max_parallel_workers_per_gather = $WORKERS;"
    echo "SET jit = $JIT;"
    if [ "$have_ext" = 1 ]; then
        echo "SELECT set_config('search_path', current_setting('search_path') || ', ' || quote_ident($(sqlstr "$ext_schema")), false) \\gset"
    fi
    cat <<'SQL'
CREATE TEMP TABLE bench_sections (id text, ord int, descr text);
CREATE TEMP TABLE bench_plans (section text, variant text, ord int, plan text);
CREATE TEMP TABLE bench_results (section text, variant text, run int, ms float8);
CREATE TEMP TABLE bench_ratios (ord int, num text, den text, op text, target float8);
-- warm-up: read the table twice
SELECT count(*) AS warm FROM orders \gset
SELECT count(*) AS warm FROM orders \gset
SQL
    i=0
    for s in "${SECTIONS[@]}"; do
        i=$((i + 1))
        echo "INSERT INTO bench_sections VALUES ($(sqlstr "$s"), $i, $(sqlstr "${SEC_DESC[$s]}"));"
    done
    i=0
    for r in "${RATIOS[@]}"; do
        i=$((i + 1))
        read -r frac op target <<< "$r"
        echo "INSERT INTO bench_ratios VALUES ($i, $(sqlstr "${frac%/*}"), $(sqlstr "${frac#*/}"), $(sqlstr "$op"), ${target:-NULL});"
    done

    # plans of every variant; a variant whose plan equals an earlier
    # variant's plan of the same section is not timed again
    for s in "${SECTIONS[@]}"; do
        j=0
        for v in $(section_variants "$s"); do
            j=$((j + 1))
            echo "$reset_sql $(variant_sql "$v")"
            if [ "${SEC_MODE[$s]:-query}" = raw ]; then
                echo "INSERT INTO bench_plans VALUES ($(sqlstr "$s"), $(sqlstr "$v"), $j, '(statement)');"
            else
                cat <<SQL
DO \$bench_do\$
DECLARE l text; p text := '';
BEGIN
    FOR l IN EXECUTE \$bench_q\$EXPLAIN (COSTS OFF) $(wrapped_query "$s")\$bench_q\$ LOOP
        p := p || l || E'\n';
    END LOOP;
    INSERT INTO bench_plans VALUES ($(sqlstr "$s"), $(sqlstr "$v"), $j, p);
END
\$bench_do\$;
SQL
            fi
            echo "SELECT NOT EXISTS (SELECT 1 FROM bench_plans o WHERE o.section = p.section AND o.ord < p.ord AND o.plan = p.plan) AS run_${s}_${v} FROM bench_plans p WHERE section = $(sqlstr "$s") AND variant = $(sqlstr "$v") \\gset"
        done
    done
    echo "$reset_sql"

    # timed runs, interleaved: run 1 of every section and variant, run 2, ...
    for r in $(seq 1 "$RUNS"); do
        echo "\\echo run $r of $RUNS"
        for s in "${SECTIONS[@]}"; do
            for v in $(section_variants "$s"); do
                echo "\\if :run_${s}_${v}"
                echo "$reset_sql $(variant_sql "$v")"
                [ -z "${SEC_SETUP[$s]:-}" ] || echo "${SEC_SETUP[$s]}"
                echo "SELECT clock_timestamp() AS bench_t0 \\gset"
                if [ "${SEC_MODE[$s]:-query}" = raw ] || [ "$CONSUME" = ctas ]; then
                    echo "$(wrapped_query "$s");"
                else
                    echo "$(wrapped_query "$s") \\gset bench_"
                fi
                echo "INSERT INTO bench_results VALUES ($(sqlstr "$s"), $(sqlstr "$v"), $r, extract(epoch FROM clock_timestamp() - :'bench_t0'::timestamptz) * 1000);"
                if [ "${SEC_MODE[$s]:-query}" != raw ] && [ "$CONSUME" = ctas ]; then
                    echo "DROP TABLE bench_out;"
                fi
                [ -z "${SEC_TEARDOWN[$s]:-}" ] || echo "${SEC_TEARDOWN[$s]}"
                echo "\\endif"
            done
        done
    done
    echo "$reset_sql"

    # report
    cat <<'SQL'
\echo
\echo 'Best time per section and plan variant (ms; runs in order):'
SELECT b.id AS section, r.variant,
       round(min(r.ms)::numeric, 1) AS best_ms,
       string_agg(round(r.ms::numeric)::text, ' / ' ORDER BY r.run) AS runs,
       b.descr
FROM bench_results r JOIN bench_sections b ON b.id = r.section
GROUP BY b.id, b.ord, r.variant, b.descr
ORDER BY b.ord, min(r.ms);
\echo 'Ratios (best time of each section, over variants and runs):'
WITH best AS (SELECT section, min(ms) AS ms FROM bench_results GROUP BY section)
SELECT t.num || '/' || t.den AS ratio,
       round((n.ms / d.ms)::numeric, 3) AS value,
       coalesce(t.op || ' ' || t.target, '-') AS target,
       CASE WHEN t.target IS NULL THEN '-'
            WHEN (t.op = '<=' AND n.ms / d.ms <= t.target)
              OR (t.op = '>=' AND n.ms / d.ms >= t.target) THEN 'yes' ELSE 'NO' END AS met
FROM bench_ratios t
JOIN best n ON n.section = t.num
JOIN best d ON d.section = t.den
ORDER BY t.ord;
SQL
    if [ "$SHOW_PLANS" = 1 ]; then
        cat <<'SQL'
\echo 'Plans of the timed variants:'
\pset format unaligned
\pset tuples_only on
SELECT '--- ' || p.section || ' / ' || p.variant || E'\n' || p.plan
FROM bench_plans p JOIN bench_sections b ON b.id = p.section
WHERE EXISTS (SELECT 1 FROM bench_results r WHERE r.section = p.section AND r.variant = p.variant)
ORDER BY b.ord, p.ord;
\pset tuples_only off
\pset format aligned
SQL
    fi
    if [ -n "$CSV" ]; then
        echo "\\copy (SELECT section, variant, run, round(ms::numeric, 3) AS ms FROM bench_results ORDER BY run, section, variant) TO $(sqlstr "$CSV") WITH (FORMAT csv, HEADER)"
    fi
} > "$script"

# ---------------------------------------------------------------------- run
echo
echo "customer_analytics benchmark"
echo "  PostgreSQL $server_version$([ "$have_ext" = 1 ] && echo ", customer_analytics $ext_version" || echo " (plain SQL only)")"
echo "  orders: $n_orders rows, $n_customers customers, last order $as_of, table $table_size$([ -n "$gen_seconds" ] && echo ", generated in ${gen_seconds}s (seed $SEED)")"
echo "  session: work_mem=$WORK_MEM max_parallel_workers_per_gather=$WORKERS jit=$JIT; consume=$CONSUME; best of $RUNS runs over variants ${VARIANTS_ARG}"
echo "  machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
log "timing sections ${SECTIONS[*]} ..."
"${PSQL[@]}" -f "$script"
echo
echo "  load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
