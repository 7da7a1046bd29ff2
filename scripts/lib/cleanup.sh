# shellcheck shell=bash
#
# Cleanup: one trap for EXIT/INT/TERM/HUP that runs the registered hooks (last registered
# first, each called with the exit status), then stops the private cluster. Runs once.
# Sourced by common.sh; do not execute it.
#
#   install_cleanup_trap   installs the EXIT/INT/TERM/HUP traps
#   add_cleanup FN         registers FN, called as `FN <exit status>`
#   run_cleanup [RC]       runs the hooks and stop_private_pg now (later calls do nothing)
#
# Needs: log.sh (warn); pg.sh (stop_private_pg, called at cleanup time).

_PATRON_CLEANUP_DONE=0
_PATRON_CLEANUP_HOOKS=()

add_cleanup() {
    _PATRON_CLEANUP_HOOKS+=("$1")
}

run_cleanup() {
    local rc=${1:-0} i
    if ((_PATRON_CLEANUP_DONE)); then
        return 0
    fi
    _PATRON_CLEANUP_DONE=1
    # Do not let a second Ctrl-C cut the shutdown short (children inherit the ignore, so
    # pg_ctl stop is not interrupted either). Failures in cleanup must not abort it.
    trap '' INT TERM HUP
    set +e
    for ((i = ${#_PATRON_CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
        "${_PATRON_CLEANUP_HOOKS[i]}" "$rc"
    done
    stop_private_pg
}

_patron_on_exit() {
    local rc=$?
    run_cleanup "$rc"
    exit "$rc"
}

_patron_on_signal() {
    local sig=$1 code
    case $sig in
        INT) code=130 ;;
        TERM) code=143 ;;
        HUP) code=129 ;;
        *) code=1 ;;
    esac
    printf '\n' >&2
    warn "interrupted (SIG$sig), cleaning up"
    run_cleanup "$code"
    trap - EXIT
    exit "$code"
}

install_cleanup_trap() {
    trap _patron_on_exit EXIT
    trap '_patron_on_signal INT' INT
    trap '_patron_on_signal TERM' TERM
    trap '_patron_on_signal HUP' HUP
}
