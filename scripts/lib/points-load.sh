# shellcheck shell=bash
#
# Helpers shared by scripts/bench and scripts/faults. Source after scripts/lib/common.sh.
#
#   start_load_pg DB [keep]  a private cluster of its own under .data/pg-load
#                        (PATRON_LOAD_PG_DIR) with durable commits (fsync, synchronous_commit,
#                        full_page_writes on) and pg_stat_statements loaded; DB is dropped and
#                        created afresh (with `keep`: created only if missing). Extra server
#                        settings from PATRON_LOAD_PG_OPTS (e.g. "-c shared_buffers=1GB").
#                        Exports PATRON_DATABASE_URL, over TCP on 127.0.0.1, or over the
#                        cluster's Unix socket with PATRON_LOAD_PG_SOCKET=1; LOAD_PG_HOST is
#                        the host for pgbench to match (load_psql stays on TCP). Stopped by
#                        the cleanup trap.
#   find_pgbench         sets PGBENCH (installs postgresql-contrib when pgbench is missing)
#   build_load_bins      release builds of patron, patron-sandbox and the load generator
#                        (PATRON_LOAD_SKIP_BUILD=1 reuses binaries already built;
#                        PATRON_LOAD_PROFILE=debug uses or makes the debug build instead, as
#                        scripts/test leaves it in target/debug)
#   prepare_load_db      migrates and creates the load operator (before any server starts)
#   start_load_server    prepare_load_db, then serves on a free port; sets LOAD_BASE and
#                        SERVE_PID. Stopped by the cleanup trap.
#   wait_load_server BASE PID LOG  waits for a server to answer /readyz (dies if it ends)
#   load_gen ARGS...     runs the load generator (tests/examples/points_load.rs)
#   load_warm STATE DB   10 s of purchases, then ANALYZE (a steady state to measure)
#
# The cluster is separate from .data/pg, which runs without fsync for tests and is shared
# with everyone's test runs: durability settings and shared_preload_libraries need a
# restart, and the fault injection must never touch anyone else's connections.

LOAD_OPS_EMAIL="load-ops@patron.local"
LOAD_OPS_PASSWORD="patron-load-ops-2026"
LOAD_PROFILE="${PATRON_LOAD_PROFILE:-release}"
[[ $LOAD_PROFILE == release || $LOAD_PROFILE == debug ]] ||
    die "PATRON_LOAD_PROFILE is release or debug, not '$LOAD_PROFILE'"
# Where the binaries are: the release build unless PATRON_LOAD_PROFILE=debug.
RELEASE_DIR="$TARGET_DIR/$LOAD_PROFILE"
LOAD_GEN="$RELEASE_DIR/examples/points_load"
SERVE_PID=""
LOAD_BASE=""
LOAD_LOG_DIR="$ROOT/.data/logs"

# Sets PGBENCH to pgbench, installing postgresql-contrib when it is missing.
find_pgbench() {
    if [[ -x $PG_BIN/pgbench ]]; then
        PGBENCH=$PG_BIN/pgbench
    elif command -v pgbench >/dev/null 2>&1; then
        PGBENCH=$(command -v pgbench)
    else
        apt_install postgresql-contrib
        PGBENCH=$PG_BIN/pgbench
        [[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench) || die "pgbench still missing"
    fi
}

build_load_bins() {
    _ensure_cargo
    local -a profile=()
    [[ $LOAD_PROFILE == release ]] && profile=(--release)
    if [[ ${PATRON_LOAD_SKIP_BUILD:-} == 1 && -x $RELEASE_DIR/patron && -x $RELEASE_DIR/patron-sandbox && -x $LOAD_GEN ]]; then
        say "PATRON_LOAD_SKIP_BUILD=1: using the $LOAD_PROFILE binaries already built in $RELEASE_DIR"
        return 0
    fi
    # One invocation for both, so that features are unified once and nothing is built twice.
    say "cargo build ${profile[*]}: patron and the load generator (tests/examples/points_load.rs)"
    cargo build "${profile[@]}" -p patron-server -p patron-tests --bin patron --example points_load
    say "cargo build ${profile[*]} (platform/sandbox workspace)"
    cargo build "${profile[@]}" --manifest-path "$ROOT/platform/sandbox/Cargo.toml" --target-dir "$TARGET_DIR"
}

# psql against the load cluster as the superuser; $1 is the database.
load_psql() {
    local db=$1
    shift
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PATRON_PG_PORT" -U postgres -d "$db" "$@"
}

start_load_pg() {
    local db=$1 keep=${2:-} port stored="" opts
    [[ -n ${PG_BIN:-} ]] || _find_pg_bin || die "PostgreSQL server binaries not found"
    mkdir -p -- "$PG_DIR" "$PG_SOCK" || die "cannot create $PG_DIR"
    chmod 0700 -- "$PG_SOCK"
    if is_root; then
        _ensure_pg_os_user
        chmod go+x -- "$ROOT/.data" 2>/dev/null || true
        chown -R "$PG_OS_USER:" -- "$PG_DIR" || die "cannot chown $PG_DIR"
    fi
    if _pg_running; then
        # Left over from an interrupted run: restart it with the settings below.
        say "stopping the load cluster left running in $PG_DATA"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null || die "pg_ctl stop failed"
    fi
    [[ -s $PG_DATA/PG_VERSION ]] || _pg_initdb
    [[ -f $PG_PORT_FILE ]] && stored=$(tr -dc '0-9' <"$PG_PORT_FILE")
    port=$(pick_free_port "$stored") || die "no free port for PostgreSQL"
    # Durable commits, as in production; otherwise PostgreSQL's defaults.
    opts="-p $port -k $(printf '%q' "$PG_SOCK") -c listen_addresses=127.0.0.1 -c max_connections=200"
    opts+=" -c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    # Planning counted too: a statement planned on every call (`plans` near `calls`) instead
    # of reusing its generic plan shows in scripts/bench's statement table.
    opts+=" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"
    opts+=" -c pg_stat_statements.track_planning=on"
    opts+=" ${PATRON_LOAD_PG_OPTS:-}"
    say "starting PostgreSQL (durable commits, pg_stat_statements) on 127.0.0.1:$port, data $PG_DATA"
    # Started with the soft limit on open files raised to the hard one (runuser and su start
    # at 1024): PostgreSQL keeps no more files open per backend than that allows, whatever
    # max_files_per_process says (scripts/bench-spread sets it for its 1,000 businesses).
    # shellcheck disable=SC2016 # expanded by the inner shell
    if ! as_pg bash -c 'ulimit -Sn "$(ulimit -Hn)" 2>/dev/null; exec "$@"' pg_ctl \
        "$PG_BIN/pg_ctl" -w -t 120 -D "$PG_DATA" -l "$PG_LOG" -o "$opts" start >/dev/null; then
        _pg_log_tail 40
        die "PostgreSQL did not start (see $PG_LOG)"
    fi
    _PATRON_PG_STARTED=1
    PATRON_PG_PORT=$port
    echo "$port" >"$PG_PORT_FILE"
    export PATRON_PG_PORT
    say "fsync=$(load_psql postgres -tAc 'show fsync') synchronous_commit=$(load_psql postgres -tAc 'show synchronous_commit') full_page_writes=$(load_psql postgres -tAc 'show full_page_writes') shared_buffers=$(load_psql postgres -tAc 'show shared_buffers')"
    if [[ $keep == keep ]]; then
        [[ $(load_psql postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") == 1 ]] ||
            load_psql postgres -c "CREATE DATABASE $db" || die "could not create database $db"
    else
        load_psql postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" ||
            die "could not create database $db"
    fi
    load_psql "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" ||
        die "could not create the pg_stat_statements extension"
    if [[ ${PATRON_LOAD_PG_SOCKET:-0} == 1 ]]; then
        # The server and pgbench reach the cluster through its Unix socket (as on a machine
        # that runs both): no TCP/IP work on either side of each exchange.
        LOAD_PG_HOST=$PG_SOCK
        export PATRON_DATABASE_URL="postgres://postgres@localhost:$port/$db?host=$PG_SOCK"
    else
        LOAD_PG_HOST=127.0.0.1
        export PATRON_DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db"
    fi
    say "the server and pgbench reach PostgreSQL on $LOAD_PG_HOST"
    _PATRON_PG_URL_OURS=1
}

# shellcheck disable=SC2317  # called from the cleanup hooks
stop_load_server() {
    if [[ -n $SERVE_PID ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
        say "stopping patron serve (pid $SERVE_PID)"
        kill -s TERM "$SERVE_PID" 2>/dev/null || true
        local i
        for ((i = 0; i < 150; i++)); do
            kill -0 "$SERVE_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -s KILL "$SERVE_PID" 2>/dev/null || true
    fi
    SERVE_PID=""
}

prepare_load_db() {
    local patron="$RELEASE_DIR/patron"
    [[ -x $patron ]] || die "$patron is missing (build_load_bins)"
    ensure_dev_pii_key
    say "patron migrate"
    "$patron" migrate >/dev/null || die "patron migrate failed"
    "$patron" operator create --email "$LOAD_OPS_EMAIL" --name "Load Operator" \
        --password "$LOAD_OPS_PASSWORD" --if-missing >/dev/null || die "operator create failed"
}

start_load_server() {
    local patron="$RELEASE_DIR/patron" port
    prepare_load_db
    for ((port = 18080; port < 18180; port++)); do
        port_is_free "$port" && break
    done
    mkdir -p -- "$LOAD_LOG_DIR"
    LOAD_BASE="http://127.0.0.1:$port"
    say "patron serve ($LOAD_PROFILE) on $LOAD_BASE, log $LOAD_LOG_DIR/$1-server.log"
    PATRON_LISTEN="127.0.0.1:$port" PATRON_SANDBOX_BIN="$RELEASE_DIR/patron-sandbox" \
        "$patron" serve >"$LOAD_LOG_DIR/$1-server.log" 2>&1 &
    SERVE_PID=$!
    add_cleanup stop_load_server
    wait_load_server "$LOAD_BASE" "$SERVE_PID" "$LOAD_LOG_DIR/$1-server.log"
}

# Waits up to 30 s for the server at BASE (process PID, writing LOG) to answer /readyz; dies
# with the log's last lines when it ends first or does not become ready.
wait_load_server() {
    local base=$1 pid=$2 log=$3 i
    for ((i = 0; i < 300; i++)); do
        curl -fsS "$base/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$log" >&2
    die "patron serve did not become ready (see $log)"
}

load_gen() {
    "$LOAD_GEN" "$@"
}

load_setup() {
    local state=$1 members=$2
    load_gen setup --base "$LOAD_BASE" --state "$state" --members "$members" \
        --ops-email "$LOAD_OPS_EMAIL" --ops-password "$LOAD_OPS_PASSWORD"
}

# Brings the benchmark business to a steady state before anything is measured: purchases
# from 8 clients for 10 s, then ANALYZE, as autovacuum would within a minute or two. Without
# it, plans cached by the server's connections while the tables were nearly empty (a scan
# of the whole table is cheapest then) stay in use until the first automatic ANALYZE.
load_warm() {
    local state=$1 db=$2
    say "warm-up: 10 s of purchases, then ANALYZE"
    load_gen accrual --state "$state" --clients 8 --seconds 10 | tail -n 1
    load_psql "$db" -c "ANALYZE"
}

machine_load() {
    printf 'load average %s (%s cores)' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
}
