# shellcheck shell=bash
#
# Output and small helpers every other part uses. Sourced by common.sh; do not execute it.
#
#   say / warn / die   "==> "-prefixed messages (warn and die on stderr; die exits 1)
#   is_root            exit status 0 when running as root
#   fmt_duration       "1h02m03s"-style duration of a number of seconds
#   mask_url           a URL with any password replaced, for printing
#
# Needs: nothing.

say() { printf '==> %s\n' "$*"; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() {
    printf '==> ERROR: %s\n' "$*" >&2
    exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# "1h02m03s"-style duration of a number of seconds.
fmt_duration() {
    local s=$1
    if ((s >= 3600)); then
        printf '%dh%02dm%02ds' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
    elif ((s >= 60)); then
        printf '%dm%02ds' $((s / 60)) $((s % 60))
    else
        printf '%ds' "$s"
    fi
}

# The URL with any password replaced, for printing.
mask_url() {
    # shellcheck disable=SC2001
    sed -E 's#(://[^:/@]+):[^@/]*@#\1:***@#' <<<"$1"
}
