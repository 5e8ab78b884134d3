#!/bin/sh
# sysroot.sh TRIPLE: the C side of a static musl link for a target rustup
# ships no std for (armv7, riscv64, mipsel). Fetches Debian's musl-dev for
# the matching Debian architecture (qemu/debfetch.sh: apt-get download, no
# root) and copies musl's libc.a and its crt objects into
# build/sysroot/TRIPLE, where build.rs finds them. Rust's own side (core) is
# built from the rust-src component with -Zbuild-std (see the Makefile).
# Quiet and quick when the sysroot is already there.
set -eu
triple=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
case $triple in
armv7-unknown-linux-musleabihf) debarch=armhf gnu=arm-linux-musleabihf ;;
riscv64gc-unknown-linux-musl) debarch=riscv64 gnu=riscv64-linux-musl ;;
mipsel-unknown-linux-musl) debarch=mipsel gnu=mipsel-linux-musl ;;
*) exit 0 ;; # rustup's rust-std carries musl for the others
esac
out=$repo/build/sysroot/$triple
[ -e "$out/.done" ] && exit 0
sh "$repo/qemu/debfetch.sh" "$debarch" "$repo/build/deb/$debarch" musl-dev
lib=$repo/build/deb/$debarch/musl-dev/usr/lib/$gnu
rm -rf "$out"
mkdir -p "$out"
# crt1.o: _start, which calls __libc_start_main with our `main`. musl has no
# use for crti/crtn (_init/_fini are weak no-ops without them) nor for GCC's
# crtbegin/crtend (Rust registers no .ctors and no frame tables).
cp "$lib/libc.a" "$lib/crt1.o" "$out/"
: >"$out/.done"
echo "sysroot: $out (musl $(dpkg-deb -f "$repo"/build/deb/$debarch/debs/musl-dev/*.deb Version) for $debarch)" >&2
