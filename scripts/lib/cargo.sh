# shellcheck shell=bash
#
# Cargo and the patron binary: the target directory, building the sandbox workspace, and the
# CLI steps scripts/run and scripts/test share. Sourced by common.sh; do not execute it.
#
#   TARGET_DIR, PATRON_BIN      where cargo builds, and the built `patron`
#   DEMO_*                      the demo tenant, owner and operator and their passwords
#   _ensure_cargo               puts cargo on PATH (~/.cargo/env) or dies
#   build_sandbox_if_present    builds platform/sandbox (own workspace) into TARGET_DIR
#   require_patron_bin          dies unless PATRON_BIN was built
#   patron_migrate              `patron migrate`
#   create_demo_tenant          the demo tenant and operator through the CLI (--if-missing)
#
# Environment:
#   CARGO_TARGET_DIR     honoured when looking for the built binaries.
#
# Needs: ROOT (set by common.sh); log.sh (say, die).

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PATRON_BIN="$TARGET_DIR/debug/patron"

# The demo tenant that scripts/run seeds and scripts/test creates through the CLI.
DEMO_TENANT_SLUG="demo"
DEMO_TENANT_NAME="活力健身（演示）"
DEMO_OWNER_NAME="Demo Owner"
DEMO_OWNER_EMAIL="owner@demo.patron.local"
DEMO_OWNER_PASSWORD="patron-demo-2026"
DEMO_OPERATOR_EMAIL="ops@patron.local"
DEMO_OPERATOR_PASSWORD="patron-ops-2026"

_ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -f ${CARGO_HOME:-$HOME/.cargo}/env ]]; then
        # shellcheck disable=SC1091
        . "${CARGO_HOME:-$HOME/.cargo}/env"
    fi
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found. Install Rust with rustup (https://rustup.rs), then re-run."
}

# Builds platform/sandbox (a separate Cargo workspace, see DESIGN.md) when it exists, into the
# same target directory, so `patron-sandbox` ends up next to `patron`.
build_sandbox_if_present() {
    if [[ -f $ROOT/platform/sandbox/Cargo.toml ]]; then
        say "cargo build (platform/sandbox workspace)"
        cargo build --manifest-path "$ROOT/platform/sandbox/Cargo.toml" --target-dir "$TARGET_DIR"
    fi
}

require_patron_bin() {
    [[ -x $PATRON_BIN ]] || die "cargo build did not produce $PATRON_BIN"
}

patron_migrate() {
    say "patron migrate"
    "$PATRON_BIN" migrate || die "patron migrate failed"
}

create_demo_tenant() {
    say "patron tenant create --slug $DEMO_TENANT_SLUG --if-missing"
    "$PATRON_BIN" tenant create \
        --slug "$DEMO_TENANT_SLUG" \
        --name "$DEMO_TENANT_NAME" \
        --owner-name "$DEMO_OWNER_NAME" \
        --owner-email "$DEMO_OWNER_EMAIL" \
        --owner-password "$DEMO_OWNER_PASSWORD" \
        --plan enterprise \
        --if-missing || die "creating the demo tenant failed"
    say "patron operator create --email $DEMO_OPERATOR_EMAIL --if-missing"
    "$PATRON_BIN" operator create \
        --email "$DEMO_OPERATOR_EMAIL" \
        --name "Demo Operator" \
        --password "$DEMO_OPERATOR_PASSWORD" \
        --if-missing || die "creating the demo operator failed"
}
