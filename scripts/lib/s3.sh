# shellcheck shell=bash
#
# A local S3-compatible server for uploads (s3s-fs, a real S3 protocol server storing
# objects as files). Sourced by common.sh; do not execute it.
#
#   ensure_s3_server   installs s3s-fs under .tools/s3s-fs (cargo install, its own target
#                      directory; about 3 minutes the first time); sets S3S_FS_BIN
#   start_s3           starts it on a free port with a private directory under .data/s3 and
#                      the bucket made, behind a CORS front (s3_cors.py: browsers upload
#                      straight to the store from the console's origin), exports PATRON_S3_ENDPOINT, PATRON_S3_BUCKET,
#                      PATRON_S3_ACCESS_KEY, PATRON_S3_SECRET_KEY and PATRON_S3_REGION, and
#                      registers its stop with the cleanup hooks
#
# Environment:
#   PATRON_S3_DIR   where the objects live (default: <repo>/.data/s3)
#
# Needs: log.sh (say, die); cleanup.sh (add_cleanup); cargo.sh (_ensure_cargo) at call time.

S3S_FS_VERSION=0.14.1
_PATRON_S3_PID=""
_PATRON_S3_FRONT_PID=""

ensure_s3_server() {
    local root="$ROOT/.tools/s3s-fs"
    S3S_FS_BIN="$root/bin/s3s-fs"
    if [[ -x $S3S_FS_BIN ]]; then
        return 0
    fi
    _ensure_cargo
    say "cargo install s3s-fs@$S3S_FS_VERSION (into $root; a few minutes, once)"
    cargo install "s3s-fs@$S3S_FS_VERSION" --locked --features binary \
        --root "$root" --target-dir "$root/target" ||
        die "cargo install s3s-fs failed"
    [[ -x $S3S_FS_BIN ]] || die "s3s-fs is still missing at $S3S_FS_BIN"
}

# shellcheck disable=SC2317  # called from the cleanup hooks
stop_s3() {
    if [[ -n $_PATRON_S3_PID ]] && kill -0 "$_PATRON_S3_PID" 2>/dev/null; then
        kill -s TERM "$_PATRON_S3_PID" 2>/dev/null || true
        wait "$_PATRON_S3_PID" 2>/dev/null || true
    fi
    _PATRON_S3_PID=""
    if [[ -n $_PATRON_S3_FRONT_PID ]] && kill -0 "$_PATRON_S3_FRONT_PID" 2>/dev/null; then
        kill -s TERM "$_PATRON_S3_FRONT_PID" 2>/dev/null || true
        wait "$_PATRON_S3_FRONT_PID" 2>/dev/null || true
    fi
    _PATRON_S3_FRONT_PID=""
}

_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_wait_port() {
    local port=$1 pid=$2 log=$3 i
    for ((i = 0; i < 100; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || die "the S3 server did not start: $(tail -5 "$log")"
        sleep 0.1
    done
    die "nothing listens on 127.0.0.1:$port"
}

start_s3() {
    ensure_s3_server
    local dir="${PATRON_S3_DIR:-$ROOT/.data/s3}" port bucket=patron
    mkdir -p "$dir/objects/$bucket"
    port=$(_free_port) || die "cannot find a free port for s3s-fs"
    # The keys of a private development server on 127.0.0.1 only.
    local access=patron-dev secret front
    if [[ ! -s $dir/secret ]]; then
        (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$dir/secret")
    fi
    secret=$(cat "$dir/secret")
    "$S3S_FS_BIN" --host 127.0.0.1 --port "$port" --access-key "$access" \
        --secret-key "$secret" "$dir/objects" >"$dir/s3s-fs.log" 2>&1 &
    _PATRON_S3_PID=$!
    add_cleanup stop_s3
    _wait_port "$port" "$_PATRON_S3_PID" "$dir/s3s-fs.log"
    front=$(_free_port) || die "cannot find a free port for the S3 front"
    python3 "$_PATRON_LIB_DIR/s3_cors.py" "$front" "$port" >"$dir/front.log" 2>&1 &
    _PATRON_S3_FRONT_PID=$!
    _wait_port "$front" "$_PATRON_S3_FRONT_PID" "$dir/front.log"
    port=$front
    export PATRON_S3_ENDPOINT="http://127.0.0.1:$port"
    export PATRON_S3_BUCKET=$bucket
    export PATRON_S3_ACCESS_KEY=$access
    export PATRON_S3_SECRET_KEY=$secret
    export PATRON_S3_REGION=us-east-1
    say "S3 (s3s-fs): $PATRON_S3_ENDPOINT, bucket $bucket, objects in $dir/objects"
}
