#!/bin/sh
# Renders every man page in man/ and fails on any warning: groff with all
# warnings on, then man -l as a reader would see it. Run by `make test`.
set -eu
cd "$(dirname "$0")/.."
for tool in groff man; do
    command -v "$tool" >/dev/null || {
        echo "check-man: $tool missing (apt-get install groff-base man-db)" >&2
        exit 1
    }
done
status=0
for page in man/*.[1-8]; do
    [ -e "$page" ] || continue
    out=$(groff -man -ww -z "$page" 2>&1) || true
    out2=$(MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null) || {
        out2="man -l failed${out2:+: $out2}"
    }
    if [ -n "$out$out2" ]; then
        printf '%s:\n%s\n%s\n' "$page" "$out" "$out2" >&2
        status=1
    else
        echo "ok $page"
    fi
done
exit $status
