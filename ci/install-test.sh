#!/bin/sh
# install-test.sh: `make install DESTDIR=D PREFIX=P` (as distribution
# packages call it) installs exactly the expected files, all under D, with
# working binaries; and nothing under P itself.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "install-test: $*" >&2
    exit 1
}
for prefix in /usr /opt/dp-install-test; do
    root=$tmp/root$(echo "$prefix" | tr / _)
    [ -e "$prefix/sbin/dpctl" ] && was=present || was=absent
    make -C "$repo" --no-print-directory install DESTDIR="$root" PREFIX="$prefix" \
        >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "make install failed"; }
    [ -e "$prefix/sbin/dpctl" ] && now=present || now=absent
    [ "$was" = "$now" ] || fail "make install DESTDIR=... wrote to $prefix"
    {
        for d in "" /sbin /share /share/man /share/man/man8 /share/daemonproxy \
            /share/daemonproxy/examples; do
            echo "$prefix$d"
        done
        echo "$prefix/sbin/daemonproxy"
        echo "$prefix/sbin/dpctl"
        for m in daemonproxy.8 dpctl.8; do
            [ -f "$repo/man/$m" ] && echo "$prefix/share/man/man8/$m"
        done
        echo "$prefix/share/daemonproxy/dp.sh"
        for e in daemonproxy.conf controller on-exit boot.sh logger; do
            echo "$prefix/share/daemonproxy/examples/$e"
        done
    } | awk -F/ '{ p = ""; for (i = 2; i <= NF; i++) { p = p "/" $i; print p } }' \
        | sort -u >"$tmp/want"
    (cd "$root" && find . -mindepth 1 | sed 's|^\.||' | sort) >"$tmp/got"
    diff -u "$tmp/want" "$tmp/got" || fail "PREFIX=$prefix: unexpected file list under DESTDIR"
    "$root$prefix/sbin/dpctl" --version >/dev/null || fail "installed dpctl does not run"
    # (--version exits 1, as the original's does.)
    "$root$prefix/sbin/daemonproxy" --version 2>&1 | grep -q '^daemonproxy version' ||
        fail "installed daemonproxy does not run"
    [ -x "$root$prefix/sbin/dpctl" ] && [ ! -x "$root$prefix/share/daemonproxy/dp.sh" ] ||
        fail "wrong modes"
done
echo "install-test: make install DESTDIR=... PREFIX=/usr and =/opt/...: ok"
