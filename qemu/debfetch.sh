#!/bin/sh
# debfetch.sh DEBARCH DEST PACKAGE...
#
# Downloads Debian packages for DEBARCH (amd64, arm64, armhf, mipsel,
# riscv64) with `apt-get download` and unpacks each into DEST/PACKAGE
# (dpkg-deb -x). The host's apt sources are used with a private package index
# under DEST/apt, so fetching another architecture's packages needs neither
# root nor a change to the host's dpkg configuration. riscv64 is a release
# architecture from trixie on: its packages come from a private sources list
# for trixie (DEBFETCH_SUITE overrides the suite, DEBFETCH_MIRROR the
# mirror), verified with the host's archive keyring, which holds the trixie
# keys from bookworm on. A PACKAGE that is a metapackage (such as
# linux-image-cloud-amd64) is followed to the package it depends on.
# Packages already unpacked are not fetched again.
set -eu
arch=$1 dest=$2
shift 2
mkdir -p "$dest/apt/lists/partial" "$dest/apt/cache/archives/partial" "$dest/debs"
dest=$(cd "$dest" && pwd)
apt_opts="-q -o APT::Architecture=$arch -o APT::Architectures::=$arch
 -o Dir::State::Lists=$dest/apt/lists -o Dir::Cache=$dest/apt/cache
 -o Dir::State::status=/dev/null -o Debug::NoLocking=1
 -o APT::Sandbox::User=root"
suite=${DEBFETCH_SUITE:-}
[ -z "$suite" ] && [ "$arch" = riscv64 ] && suite=trixie
if [ -n "$suite" ]; then
    mkdir -p "$dest/apt/sources.list.d"
    printf 'deb [signed-by=%s] %s %s main\n' /usr/share/keyrings/debian-archive-keyring.gpg \
        "${DEBFETCH_MIRROR:-http://deb.debian.org/debian}" "$suite" >"$dest/apt/sources.list"
    apt_opts="$apt_opts -o Dir::Etc::SourceList=$dest/apt/sources.list
 -o Dir::Etc::SourceParts=$dest/apt/sources.list.d"
fi
need=
for p in "$@"; do
    [ -e "$dest/$p/.unpacked" ] || need="$need $p"
done
[ -n "$need" ] || exit 0
if [ ! -e "$dest/apt/updated" ]; then
    # shellcheck disable=SC2086
    apt-get $apt_opts update >"$dest/apt/update.log" 2>&1 ||
        { cat "$dest/apt/update.log" >&2; exit 1; }
    : >"$dest/apt/updated"
fi
for p in $need; do
    real=$p
    # Follow a metapackage (no files of its own) to its single dependency.
    # shellcheck disable=SC2086
    dep=$(apt-cache $apt_opts depends "$p" 2>/dev/null |
        awk '/^  Depends: linux-image-/ { print $2; exit }')
    [ -n "$dep" ] && real=$dep
    rm -rf "$dest/debs/$real" "$dest/$p"
    mkdir -p "$dest/debs/$real"
    # shellcheck disable=SC2086
    (cd "$dest/debs/$real" && apt-get $apt_opts download "$real" >/dev/null) ||
        { echo "debfetch: cannot download $real ($arch)" >&2; exit 1; }
    mkdir -p "$dest/$p"
    dpkg-deb -x "$dest/debs/$real"/*.deb "$dest/$p"
    echo "$real" >"$dest/$p/.unpacked"
    echo "debfetch: $real ($arch) -> $dest/$p" >&2
done
