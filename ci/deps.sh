#!/bin/sh
# Installs what building and testing need on a fresh Debian machine, and is
# quiet when everything is present:
#  - the pinned toolchain with its components and musl targets
#    (rust-toolchain.toml: rust-src for -Zbuild-std, llvm-tools for objcopy);
#  - strace, GNU cpio (the image builder's tests read archives back with it),
#    xz (trixie's kernel modules), man-db and groff (ci/check-man.sh), g++
#    (libFuzzer, for make lint's check of the fuzz target);
#  - QEMU for the VM suites on every architecture (kernels, busybox and musl
#    itself are fetched by qemu/debfetch.sh with apt-get download, no root
#    needed) and qemu-user for `make test-arch`.
set -e
cd "$(dirname "$0")/.."
need_apt=""
need() { command -v "$1" >/dev/null 2>&1 || need_apt="$need_apt $2"; }
need strace strace
need cpio cpio
need xz xz-utils
# ci/check-man.sh renders the man pages with groff and man -l.
need man man-db
need groff groff-base
# make lint checks the fuzz target, whose libFuzzer is C++.
need g++ g++
need qemu-system-x86_64 qemu-system-x86
need qemu-system-aarch64 qemu-system-arm # and qemu-system-arm
need qemu-system-riscv64 qemu-system-misc
need qemu-system-mipsel qemu-system-mips
need qemu-arm qemu-user
if [ -n "$need_apt" ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi
# Installs the toolchain named in rust-toolchain.toml with its components
# and targets (a no-op when they are there).
rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
