# shellcheck shell=bash
#
# Helpers shared by the scripts (run, test, e2e, bench*, faults, lib/points-load.sh). Source
# this file; do not execute it. It only loads the parts below, in this order:
#
#   log.sh       say, warn, die, is_root, fmt_duration, mask_url
#   cleanup.sh   install_cleanup_trap / add_cleanup / run_cleanup: EXIT/INT/TERM/HUP run the
#                registered cleanups, then stop_private_pg, exactly once
#   tools.sh     apt_install, ensure_tools (cargo, PostgreSQL, psql), ensure_lint_tools
#                (rustfmt, clippy), ensure_browser (Chromium, CJK fonts), node/npm helpers
#   pg.sh        the private cluster under .data/pg: start_private_pg, stop_private_pg, as_pg
#   cargo.sh     TARGET_DIR, PATRON_BIN, the demo tenant, build_sandbox_if_present,
#                require_patron_bin, patron_migrate, create_demo_tenant
#   pii.sh       ensure_dev_pii_key
#   s3.sh        ensure_s3_server, start_s3: a local S3-compatible server (s3s-fs) for uploads
#
# Sets ROOT, the repository root, before loading them.
#
# Environment:
#   PATRON_DATABASE_URL  when set, no private cluster is started and that database is used.
#   PATRON_PG_DIR        where the private cluster lives (default: <repo>/.data/pg).
#   CARGO_TARGET_DIR     honoured when looking for the built binaries.

if [[ -n ${_PATRON_COMMON_SH:-} ]]; then
    return 0
fi
_PATRON_COMMON_SH=1

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)"
_PATRON_LIB_DIR="$ROOT/scripts/lib"

# shellcheck source=scripts/lib/log.sh
. "$_PATRON_LIB_DIR/log.sh"
# shellcheck source=scripts/lib/cleanup.sh
. "$_PATRON_LIB_DIR/cleanup.sh"
# shellcheck source=scripts/lib/tools.sh
. "$_PATRON_LIB_DIR/tools.sh"
# shellcheck source=scripts/lib/pg.sh
. "$_PATRON_LIB_DIR/pg.sh"
# shellcheck source=scripts/lib/cargo.sh
. "$_PATRON_LIB_DIR/cargo.sh"
# shellcheck source=scripts/lib/pii.sh
. "$_PATRON_LIB_DIR/pii.sh"
# shellcheck source=scripts/lib/s3.sh
. "$_PATRON_LIB_DIR/s3.sh"
