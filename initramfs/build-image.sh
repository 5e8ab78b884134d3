#!/bin/sh
# build-image.sh ARCH OUT: writes the default initramfs for ARCH (x86_64,
# aarch64, armv7, riscv64, mipsel) to OUT, from initramfs/image.list plus
# busybox applet links and, where the kernel has them as modules, the virtio
# input drivers (so a keyboard can send Ctrl-Alt-Del). Expects the daemon and
# the `serve` example already built for ARCH (the Makefile does that);
# fetches busybox-static (and the kernel's modules) with apt-get download
# into build/deb/DEBARCH.
#
# The image is reproducible: every entry gets the same timestamp
# (SOURCE_DATE_EPOCH, default 0) and the list fixes owners and modes.
set -eu
arch=$1 out=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
# Debian architecture, Rust target, kernel package, and the modules (in
# load order) that the virtio keyboard needs where they are not built in.
case $arch in
x86_64) debarch=amd64 target=x86_64-unknown-linux-musl kpkg= modules= ;;
aarch64)
    debarch=arm64 target=aarch64-unknown-linux-musl kpkg=linux-image-cloud-arm64
    modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_input" ;;
armv7)
    debarch=armhf target=armv7-unknown-linux-musleabihf kpkg=linux-image-armmp
    modules="virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_input" ;;
riscv64)
    debarch=riscv64 target=riscv64gc-unknown-linux-musl kpkg=linux-image-riscv64
    modules="virtio_input" ;;
mipsel) debarch=mipsel target=mipsel-unknown-linux-musl kpkg= modules= ;;
*) echo "build-image: unknown architecture $arch" >&2; exit 2 ;;
esac
work=$repo/build/qemu/$arch
deb=$repo/build/deb/$debarch
mkdir -p "$work"
sh "$repo/qemu/debfetch.sh" "$debarch" "$deb" busybox-static

DP_BIN=$repo/build/$target/daemonproxy
DPCTL=${DPCTL:-$repo/build/$target/dpctl}
# The test build (fault-injection feature) that the VM's fault boot runs as
# PID 1 (rdinit=/sbin/init-fault): its test.fault command raises a real
# CPU fault. The release binary has no such command.
DP_FAULT_BIN=${DP_FAULT_BIN:-$repo/target/fault/$target/release/daemonproxy}
SERVE=$repo/target/$target/release/examples/serve
# /bin in bookworm, /usr/bin in trixie (riscv64).
BUSYBOX=$deb/busybox-static/bin/busybox
[ -f "$BUSYBOX" ] || BUSYBOX=$deb/busybox-static/usr/bin/busybox
ROOTFS=$repo/initramfs/rootfs
VMTESTS=$repo/tests/vm
export DP_BIN DP_FAULT_BIN DPCTL SERVE BUSYBOX ROOTFS VMTESTS
for f in "$DP_BIN" "$DP_FAULT_BIN" "$DPCTL" "$SERVE" "$BUSYBOX"; do
    [ -f "$f" ] || { echo "build-image: missing $f (run make first)" >&2; exit 1; }
done

list=$work/image.list
cp "$repo/initramfs/image.list" "$list.tmp"
{
    echo "# busybox applets"
    for a in sh ash cat echo printf test [ true false ls ps kill sleep \
        mount umount mkdir rmdir rm mv cp ln chmod touch cmp grep awk sed \
        cut tr wc head tail sort uniq seq xargs find env id date uptime \
        dmesg free top df du sync stty hostname ip ifconfig insmod lsmod \
        wget nc httpd setsid cttyhack vi less more clear reset tty; do
        echo "slink /bin/$a busybox 0777 0 0"
    done
    if [ -n "$modules" ]; then
        sh "$repo/qemu/debfetch.sh" "$debarch" "$deb" "$kpkg"
        echo "dir /lib/modules 0755 0 0"
        rm -rf "$work/modules"
        mkdir -p "$work/modules"
        : >"$work/load.list"
        for m in $modules; do
            # Under lib/ or usr/lib/, plain or xz-compressed (trixie):
            # busybox's insmod wants them plain.
            ko=$(find "$deb/$kpkg" -path '*/kernel/drivers/*' \( -name "$m.ko" -o -name "$m.ko.xz" \) | head -n 1)
            [ -n "$ko" ] || { echo "build-image: no module $m in $kpkg" >&2; exit 1; }
            case $ko in
            *.xz) xz -dc "$ko" >"$work/modules/$m.ko" ;;
            *) cp "$ko" "$work/modules/$m.ko" ;;
            esac
            echo "file /lib/modules/$m.ko $work/modules/$m.ko 0644 0 0"
            echo "$m.ko" >>"$work/load.list"
        done
        echo "file /lib/modules/load.list $work/load.list 0644 0 0"
    fi
} >>"$list.tmp"
mv "$list.tmp" "$list"
"${MKINITRAMFS:-$repo/target/x86_64-unknown-linux-musl/release/mkinitramfs}" \
    -t "${SOURCE_DATE_EPOCH:-0}" -o "$out" "$list"
echo "build-image: $out ($(wc -c <"$out") bytes)" >&2
