#!/bin/sh
# Installs what building and testing need on a fresh Debian machine: the
# musl targets for rustup, strace, and GNU cpio (the image builder's tests read
# its archives back with it). Quiet when everything is present.
set -e
need_apt=""
command -v strace >/dev/null 2>&1 || need_apt="$need_apt strace"
command -v cpio >/dev/null 2>&1 || need_apt="$need_apt cpio"
# ci/check-man.sh renders the man pages with groff and man -l.
command -v man >/dev/null 2>&1 || need_apt="$need_apt man-db"
command -v groff >/dev/null 2>&1 || need_apt="$need_apt groff-base"
# The VM tests: QEMU for both architectures (the kernels and busybox are
# fetched by qemu/debfetch.sh with apt-get download, no root needed).
command -v qemu-system-x86_64 >/dev/null 2>&1 || need_apt="$need_apt qemu-system-x86"
command -v qemu-system-aarch64 >/dev/null 2>&1 || need_apt="$need_apt qemu-system-arm"
command -v objcopy >/dev/null 2>&1 || need_apt="$need_apt binutils"
command -v aarch64-linux-gnu-objcopy >/dev/null 2>&1 || need_apt="$need_apt binutils-aarch64-linux-gnu"
if [ -n "$need_apt" ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    rustup target list --installed 2>/dev/null | grep -qx "$t" || rustup target add "$t"
done
