# shellcheck shell=bash
#
# The private PostgreSQL cluster under .data/pg (or PATRON_PG_DIR). Sourced by common.sh; do
# not execute it.
#
#   start_private_pg   starts (initdb on first use) a cluster on a free port in
#                      PG_PORT_MIN..PG_PORT_MAX, creates the database and exports
#                      PATRON_DATABASE_URL and PATRON_PG_PORT; does nothing when
#                      PATRON_DATABASE_URL was set by the caller
#   stop_private_pg    stops that cluster, only if this process started it
#   as_pg CMD...       runs CMD as the postgres OS user when we are root, directly otherwise
#   port_is_free / pick_free_port
#   _find_pg_bin       sets PG_BIN to a directory holding initdb, pg_ctl and postgres
#
# Environment:
#   PATRON_DATABASE_URL  when set, no private cluster is started and that database is used.
#   PATRON_PG_DIR        where the private cluster lives (default: <repo>/.data/pg).
#
# Needs: ROOT (set by common.sh); log.sh (say, warn, die, is_root, mask_url); PSQL and PG_BIN
# as set by tools.sh's ensure_tools (start_private_pg finds them itself when unset).

# Private cluster layout.
PG_DIR="${PATRON_PG_DIR:-$ROOT/.data/pg}"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/sock"
PG_LOG="$PG_DIR/log"
PG_PORT_FILE="$PG_DIR/port"
PG_OS_USER="postgres"       # initdb/postgres refuse to run as root; as root we run them as this user
PG_DB_NAME="patron"
PG_PORT_MIN=54320
PG_PORT_MAX=54999

_PATRON_PG_STARTED=0        # 1 while a cluster started by this process is running
_PATRON_PG_URL_OURS=0       # 1 when PATRON_DATABASE_URL was exported by start_private_pg

_pg_bin_complete() {
    [[ -x $1/initdb && -x $1/pg_ctl && -x $1/postgres ]]
}

# Sets PG_BIN to a directory holding initdb, pg_ctl and postgres: from PATH first, then the
# newest /usr/lib/postgresql/<version>/bin.
_find_pg_bin() {
    local initdb dir
    if initdb=$(command -v initdb 2>/dev/null) && command -v pg_ctl >/dev/null 2>&1 &&
        command -v postgres >/dev/null 2>&1; then
        dir=$(dirname -- "$(readlink -f -- "$initdb")")
        if _pg_bin_complete "$dir"; then
            PG_BIN=$dir
            return 0
        fi
        # initdb is a lone symlink or wrapper; use the PATH entries themselves.
        dir=$(dirname -- "$initdb")
        if _pg_bin_complete "$dir"; then
            PG_BIN=$dir
            return 0
        fi
    fi
    while IFS= read -r dir; do
        if _pg_bin_complete "$dir"; then
            PG_BIN=$dir
            return 0
        fi
    done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -rV)
    return 1
}

_pg_major() {
    # "postgres (PostgreSQL) 15.18 (Debian ...)" -> 15
    "$1/postgres" --version 2>/dev/null | sed -nE 's/^[^0-9]*([0-9]+).*/\1/p'
}

# Runs a command as the PostgreSQL OS user when we are root (initdb and postgres refuse root),
# directly otherwise. Runs from $PG_DIR so the user never needs access to our cwd.
as_pg() {
    if ! is_root; then
        "$@"
        return
    fi
    (
        cd -- "$PG_DIR" 2>/dev/null || cd /
        if command -v runuser >/dev/null 2>&1; then
            exec runuser -u "$PG_OS_USER" -- "$@"
        elif command -v setpriv >/dev/null 2>&1; then
            exec setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- "$@"
        else
            exec su -s /bin/bash "$PG_OS_USER" -c "$(printf '%q ' "$@")"
        fi
    )
}

_ensure_pg_os_user() {
    if id -u "$PG_OS_USER" >/dev/null 2>&1; then
        return 0
    fi
    say "creating system user $PG_OS_USER"
    if getent group "$PG_OS_USER" >/dev/null 2>&1; then
        useradd --system --gid "$PG_OS_USER" --no-create-home --home-dir /var/lib/postgresql \
            --shell /bin/sh "$PG_OS_USER"
    else
        useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
            --shell /bin/sh "$PG_OS_USER"
    fi || die "could not create the $PG_OS_USER system user"
}

# Exit status 0 when nothing on this machine listens on 127.0.0.1:$1 (or the wildcard address).
port_is_free() {
    local port=$1
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# Like postgres itself: connections in TIME_WAIT do not block the port, listeners do.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
        local rc=$?
        # 0 = free, 1 = taken; anything else means python itself failed: fall through.
        if ((rc <= 1)); then
            return "$rc"
        fi
    fi
    if command -v ss >/dev/null 2>&1; then
        ! ss -Htln "sport = :$port" 2>/dev/null | grep -q .
        return
    fi
    # Last resort: nobody answers a connection.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# Prints a free port: $1 (the port of a previous run) when still free, else the first free one
# in PG_PORT_MIN..PG_PORT_MAX that is not listed in $2 (space-separated ports to skip).
pick_free_port() {
    local preferred=${1:-} skip=" ${2:-} " port
    if [[ $preferred =~ ^[0-9]+$ && $skip != *" $preferred "* ]] && port_is_free "$preferred"; then
        echo "$preferred"
        return 0
    fi
    for ((port = PG_PORT_MIN; port <= PG_PORT_MAX; port++)); do
        [[ $skip == *" $port "* ]] && continue
        if port_is_free "$port"; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# psql against the private cluster's maintenance database.
_pg_admin_psql() {
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PATRON_PG_PORT" -U postgres -d postgres "$@"
}

_pg_running() {
    local pid state i
    [[ -f $PG_DATA/postmaster.pid ]] || return 1
    pid=$(head -n 1 -- "$PG_DATA/postmaster.pid")
    # A postmaster that was killed hard lingers as a zombie until init reaps it, and both
    # pg_ctl and postgres would take it for alive: give init a moment.
    for ((i = 0; i < 50; i++)); do
        [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/stat ]] || break
        state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || break
        [[ $state == Z ]] || break
        sleep 0.2
    done
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

_pg_log_tail() {
    if [[ -f $PG_LOG ]]; then
        printf '==> last lines of %s:\n' "$PG_LOG" >&2
        tail -n "${1:-30}" -- "$PG_LOG" >&2
    fi
}

_pg_initdb() {
    local locale=C
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale=C.UTF-8
    fi
    if [[ -e $PG_DATA ]]; then
        # A data directory without PG_VERSION is a half-finished initdb; start over.
        warn "$PG_DATA exists but is not an initialised cluster; recreating it"
        rm -rf -- "$PG_DATA"
    fi
    say "initdb (trust auth, UTF8, locale $locale) in $PG_DATA"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --locale="$locale" \
        >"$PG_DIR/initdb.log" 2>&1; then
        cat -- "$PG_DIR/initdb.log" >&2
        rm -rf -- "$PG_DATA"
        die "initdb failed (output above, also in $PG_DIR/initdb.log)"
    fi
}

# Starts the cluster on a free port; retries with another port if one was taken in between.
_pg_start() {
    local port tried="" attempt opts log_size new_lines
    local stored=""
    [[ -f $PG_PORT_FILE ]] && stored=$(tr -dc '0-9' <"$PG_PORT_FILE")

    # Keep the log from growing without bound across runs.
    if [[ -f $PG_LOG ]] && (($(stat -c %s -- "$PG_LOG") > 64 * 1024 * 1024)); then
        mv -f -- "$PG_LOG" "$PG_LOG.1"
    fi

    local sock_opt
    # A Unix socket path is limited to ~107 bytes; we connect over TCP anyway, so if the
    # socket directory is too deep we simply run without a Unix socket.
    if ((${#PG_SOCK} + 20 > 107)); then
        sock_opt="-c unix_socket_directories=''"
    else
        sock_opt="-k $(printf '%q' "$PG_SOCK")"
    fi

    for attempt in 1 2 3 4 5; do
        port=$(pick_free_port "$stored" "$tried") ||
            die "no free TCP port in $PG_PORT_MIN-$PG_PORT_MAX for PostgreSQL"
        # fsync, synchronous_commit and full_page_writes are off: this cluster is a disposable
        # dev/test database, and durability after an OS crash is not worth the slower tests.
        opts="-p $port $sock_opt -c listen_addresses=127.0.0.1 -c max_connections=300"
        opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log_size=0
        [[ -f $PG_LOG ]] && log_size=$(stat -c %s -- "$PG_LOG")
        say "starting PostgreSQL on 127.0.0.1:$port (data $PG_DATA, log $PG_LOG)"
        if as_pg "$PG_BIN/pg_ctl" -w -t 120 -D "$PG_DATA" -l "$PG_LOG" -o "$opts" start >/dev/null; then
            PATRON_PG_PORT=$port
            echo "$port" >"$PG_PORT_FILE"
            is_root && chown "$PG_OS_USER:" "$PG_PORT_FILE" 2>/dev/null
            return 0
        fi
        new_lines=""
        [[ -f $PG_LOG ]] && new_lines=$(tail -c "+$((log_size + 1))" -- "$PG_LOG")
        if grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets' \
            <<<"$new_lines" && ((attempt < 5)); then
            warn "port $port was taken meanwhile; trying another"
            tried+=" $port"
            stored=""
            continue
        fi
        _pg_log_tail 40
        die "PostgreSQL did not start (see $PG_LOG)"
    done
}

start_private_pg() {
    if [[ -n ${PATRON_DATABASE_URL:-} ]] && ((!_PATRON_PG_URL_OURS)); then
        say "using PATRON_DATABASE_URL from the environment: $(mask_url "$PATRON_DATABASE_URL")"
        say "(no private PostgreSQL cluster is started)"
        return 0
    fi
    if ((_PATRON_PG_STARTED)); then
        return 0
    fi
    if [[ -z ${PG_BIN:-} ]] && ! _find_pg_bin; then
        die "PostgreSQL server binaries not found (call ensure_tools first)"
    fi
    [[ -n ${PSQL:-} ]] || PSQL=$(command -v psql) || die "psql not found (call ensure_tools first)"

    mkdir -p -- "$PG_DIR" "$PG_SOCK" || die "cannot create $PG_DIR"
    chmod 0700 -- "$PG_SOCK"
    if is_root; then
        _ensure_pg_os_user
        # .data must be traversable by the postgres user (it is not under a 0077 umask).
        if [[ $PG_DIR == "$ROOT/.data/pg" ]]; then
            chmod go+x -- "$ROOT/.data" 2>/dev/null || true
        fi
        if [[ $(stat -c %U -- "$PG_DIR") != "$PG_OS_USER" ||
            -n $(find "$PG_DIR" -maxdepth 2 ! -user "$PG_OS_USER" -print -quit) ]]; then
            chown -R "$PG_OS_USER:" -- "$PG_DIR" || die "cannot chown $PG_DIR to $PG_OS_USER"
        fi
        as_pg test -w "$PG_DIR" ||
            die "user $PG_OS_USER cannot write $PG_DIR: make its parent directories traversable (chmod o+x) or set PATRON_DATABASE_URL"
    fi

    # A cluster made by another major version cannot be started by these binaries; prefer the
    # matching installed version if there is one.
    if [[ -s $PG_DATA/PG_VERSION ]]; then
        local data_ver bin_ver
        data_ver=$(<"$PG_DATA/PG_VERSION")
        bin_ver=$(_pg_major "$PG_BIN")
        if [[ $data_ver != "$bin_ver" ]]; then
            if _pg_bin_complete "/usr/lib/postgresql/$data_ver/bin"; then
                PG_BIN="/usr/lib/postgresql/$data_ver/bin"
            else
                die "$PG_DATA was created by PostgreSQL $data_ver but the binaries are $bin_ver ($PG_BIN); remove $PG_DIR to start afresh (its data is lost)"
            fi
        fi
    fi

    if _pg_running; then
        PATRON_PG_PORT=$(sed -n 4p -- "$PG_DATA/postmaster.pid")
        [[ $PATRON_PG_PORT =~ ^[0-9]+$ ]] || die "cannot read the port from $PG_DATA/postmaster.pid"
        local i
        for ((i = 0; i < 20; i++)); do # it may still be starting up
            _pg_admin_psql -tAc 'select 1' >/dev/null 2>&1 && break
            sleep 0.5
        done
        if ((i == 20)); then
            die "a server is running on $PG_DATA (postmaster.pid) but does not answer on 127.0.0.1:$PATRON_PG_PORT; stop it with: pg_ctl -D $PG_DATA stop"
        fi
        say "reusing the PostgreSQL server already running on 127.0.0.1:$PATRON_PG_PORT (it is left running)"
    else
        [[ -s $PG_DATA/PG_VERSION ]] || _pg_initdb
        _pg_start
        _PATRON_PG_STARTED=1
    fi

    if [[ $(_pg_admin_psql -tAc "select 1 from pg_database where datname = '$PG_DB_NAME'") != 1 ]]; then
        say "creating database $PG_DB_NAME"
        _pg_admin_psql -c "CREATE DATABASE $PG_DB_NAME" || die "could not create database $PG_DB_NAME"
    fi

    export PATRON_PG_PORT
    export PATRON_DATABASE_URL="postgres://postgres@127.0.0.1:$PATRON_PG_PORT/$PG_DB_NAME"
    _PATRON_PG_URL_OURS=1
    say "PATRON_DATABASE_URL=$PATRON_DATABASE_URL"
}

stop_private_pg() {
    if ((_PATRON_PG_STARTED)); then
        say "stopping PostgreSQL (127.0.0.1:${PATRON_PG_PORT:-?})"
        if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null; then
            warn "pg_ctl stop failed; see $PG_LOG"
        fi
        _PATRON_PG_STARTED=0
    fi
    if ((_PATRON_PG_URL_OURS)); then
        unset PATRON_DATABASE_URL PATRON_PG_PORT
        _PATRON_PG_URL_OURS=0
    fi
}
