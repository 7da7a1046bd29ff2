# shellcheck shell=bash
#
# The personal data key. Sourced by common.sh; do not execute it.
#
#   ensure_dev_pii_key   exports PATRON_PII_KEY, from .data/pii.key (made on first use) when unset
#
# Needs: ROOT (set by common.sh); log.sh (warn).

# Members' phones and e-mails are encrypted, and `patron serve` refuses to start without a
# key. When PATRON_PII_KEY is unset, use (and on first use make) a development key under
# .data/, so data written by one run stays readable by the next. Real deployments set it.
ensure_dev_pii_key() {
    if [[ -n ${PATRON_PII_KEY:-} ]]; then
        return 0
    fi
    mkdir -p "$ROOT/.data"
    if [[ ! -s $ROOT/.data/pii.key ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 >"$ROOT/.data/pii.key")
    fi
    PATRON_PII_KEY="$(cat "$ROOT/.data/pii.key")"
    export PATRON_PII_KEY
    warn "PATRON_PII_KEY is not set: using the development key in .data/pii.key"
}
