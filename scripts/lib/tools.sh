# shellcheck shell=bash
#
# Tools the scripts need, installed when missing. Sourced by common.sh; do not execute it.
#
#   apt_install PKG...  apt-get install (as root, or through sudo); `apt-get update` once per run
#   ensure_tools        cargo, PostgreSQL server binaries (installed with apt when missing), psql;
#                       sets PG_BIN (when a private cluster is wanted) and PSQL
#   ensure_lint_tools   rustfmt and clippy (added through rustup when missing)
#   ensure_browser      headless Chromium and CJK fonts for scripts/e2e (apt when missing);
#                       sets and exports CHROMIUM_PATH
#   ensure_smtp_server  aiosmtpd (PyPI) in a virtualenv under .tools/aiosmtpd, for the tests'
#                       real SMTP server (tests/servers/smtp_sink.py); exports
#                       PATRON_TEST_SMTP_PYTHON
#   have_node           exit status 0 when node and npm are on PATH
#   npm_has_script S    exit status 0 when ./package.json defines scripts.S
#   npm_install_deps    npm ci with a lockfile, npm install without one (in the package directory)
#
# Needs: log.sh (say, die, is_root); cargo.sh (_ensure_cargo) and pg.sh (_find_pg_bin,
# _PATRON_PG_URL_OURS), both at call time.

_PATRON_APT_UPDATED=0

# Runs apt-get (as root, or through sudo) non-interactively; `apt-get update` once per run.
_apt_get() {
    local -a pre=()
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get is not available; install the missing packages by hand (wanted: apt-get $*)"
    if ! is_root; then
        command -v sudo >/dev/null 2>&1 ||
            die "not root and sudo is missing; install by hand: apt-get $*"
        pre=(sudo)
    fi
    "${pre[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"
}

apt_install() {
    if ((!_PATRON_APT_UPDATED)); then
        say "apt-get update"
        _apt_get update -qq || die "apt-get update failed"
        _PATRON_APT_UPDATED=1
    fi
    say "apt-get install $*"
    _apt_get install -y -q --no-install-recommends "$@" || die "apt-get install $* failed"
}

# PSQL is read by pg.sh and by the scripts.
# shellcheck disable=SC2034
ensure_tools() {
    _ensure_cargo
    say "cargo: $(cargo --version)"

    # Server binaries are only needed when we run our own cluster.
    if [[ -z ${PATRON_DATABASE_URL:-} ]] || ((_PATRON_PG_URL_OURS)); then
        if ! _find_pg_bin; then
            say "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; installing"
            apt_install postgresql
            _find_pg_bin || die "PostgreSQL server binaries still not found after installing postgresql"
        fi
        say "PostgreSQL: $("$PG_BIN/postgres" --version) ($PG_BIN)"
    fi

    if command -v psql >/dev/null 2>&1; then
        PSQL=$(command -v psql)
    elif [[ -n ${PG_BIN:-} && -x $PG_BIN/psql ]]; then
        PSQL=$PG_BIN/psql
    else
        say "psql not found; installing"
        apt_install postgresql-client
        PSQL=$(command -v psql) || die "psql still not found after installing postgresql-client"
    fi
}

# rustfmt and clippy, added to the active toolchain through rustup when missing.
ensure_lint_tools() {
    local tool component
    for tool in fmt clippy; do
        if cargo "$tool" --version >/dev/null 2>&1; then
            continue
        fi
        component=$([[ $tool == fmt ]] && echo rustfmt || echo clippy)
        command -v rustup >/dev/null 2>&1 ||
            die "'cargo $tool' is not available and rustup is missing; install the $component component"
        say "rustup component add $component"
        rustup component add "$component" || die "rustup component add $component failed"
        cargo "$tool" --version >/dev/null 2>&1 || die "'cargo $tool' still fails after adding $component"
    done
}

# Chromium for the browser tests (Debian's package; playwright-core drives it, never
# `playwright install`), plus a CJK font so zh-CN screenshots are legible. Sets CHROMIUM_PATH.
ensure_browser() {
    local candidate
    CHROMIUM_PATH=${CHROMIUM_PATH:-}
    if [[ -z $CHROMIUM_PATH ]]; then
        for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
            if [[ -x $candidate ]]; then
                CHROMIUM_PATH=$candidate
                break
            fi
        done
    fi
    if [[ -z $CHROMIUM_PATH ]]; then
        say "chromium not found; installing"
        apt_install chromium
        CHROMIUM_PATH=/usr/bin/chromium
        [[ -x $CHROMIUM_PATH ]] || die "chromium still not found after installing it"
    fi
    if command -v fc-list >/dev/null 2>&1 && ! fc-list :lang=zh 2>/dev/null | grep -q .; then
        say "no CJK font found; installing fonts-wqy-zenhei"
        apt_install fonts-wqy-zenhei
    fi
    export CHROMIUM_PATH
    say "browser: $("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")"
}

ensure_smtp_server() {
    local venv="$ROOT/.tools/aiosmtpd"
    if ! "$venv/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
        command -v python3 >/dev/null 2>&1 || apt_install python3
        python3 -m venv "$venv" >/dev/null 2>&1 || {
            apt_install python3-venv
            python3 -m venv "$venv" || die "cannot make a Python virtualenv in $venv"
        }
        say "pip install aiosmtpd (into $venv)"
        "$venv/bin/pip" install -q aiosmtpd || die "pip install aiosmtpd failed"
    fi
    export PATRON_TEST_SMTP_PYTHON="$venv/bin/python"
}

have_node() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1
}

# Exit status 0 when ./package.json (in the current directory) defines scripts.$1.
npm_has_script() {
    node -e 'const p = require("./package.json"); process.exit(p.scripts && p.scripts[process.argv[1]] ? 0 : 1)' "$1"
}

# npm ci with a lockfile, npm install without one (run inside the package directory).
npm_install_deps() {
    if [[ -f package-lock.json || -f npm-shrinkwrap.json ]]; then
        say "npm ci ($(basename -- "$PWD"))"
        npm ci --no-audit --no-fund
    else
        say "npm install ($(basename -- "$PWD"), no lockfile)"
        npm install --no-audit --no-fund
    fi
}
