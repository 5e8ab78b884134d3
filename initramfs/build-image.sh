#!/bin/sh
# build-image.sh ARCH OUT: writes the default initramfs for ARCH (x86_64 or
# aarch64) to OUT, from initramfs/image.list plus busybox applet links and,
# on aarch64, the virtio input modules (so a keyboard can send
# Ctrl-Alt-Del). Expects the daemon and the `serve` example already built
# for ARCH (the Makefile does that); fetches busybox-static (and the
# kernel's modules) with apt-get download into build/qemu/ARCH.
#
# The image is reproducible: every entry gets the same timestamp
# (SOURCE_DATE_EPOCH, default 0) and the list fixes owners and modes.
set -eu
arch=$1 out=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
case $arch in
x86_64) debarch=amd64 ;;
aarch64) debarch=arm64 ;;
*) echo "build-image: unknown architecture $arch" >&2; exit 2 ;;
esac
target=$arch-unknown-linux-musl
work=$repo/build/qemu/$arch
mkdir -p "$work"
sh "$repo/qemu/debfetch.sh" "$debarch" "$work/deb" busybox-static

DP_BIN=$repo/build/$target/daemonproxy
DPCTL=${DPCTL:-$repo/build/$target/dpctl}
SERVE=$repo/target/$target/release/examples/serve
BUSYBOX=$work/deb/busybox-static/bin/busybox
ROOTFS=$repo/initramfs/rootfs
VMTESTS=$repo/tests/vm
export DP_BIN DPCTL SERVE BUSYBOX ROOTFS VMTESTS
for f in "$DP_BIN" "$DPCTL" "$SERVE" "$BUSYBOX"; do
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
    if [ "$arch" = aarch64 ]; then
        # Virtio PCI and input drivers are modules in the cloud kernel.
        kernel_tree=$work/deb/linux-image-cloud-arm64
        sh "$repo/qemu/debfetch.sh" arm64 "$work/deb" linux-image-cloud-arm64
        moddir=$(echo "$kernel_tree"/lib/modules/*/kernel/drivers/virtio)
        echo "dir /lib/modules 0755 0 0"
        for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
            virtio_pci virtio_input; do
            echo "file /lib/modules/$m.ko $moddir/$m.ko 0644 0 0"
        done
        echo "file /lib/modules/load.list $work/load.list 0644 0 0"
        printf '%s.ko\n' virtio_ring virtio virtio_pci_legacy_dev \
            virtio_pci_modern_dev virtio_pci virtio_input >"$work/load.list"
    fi
} >>"$list.tmp"
mv "$list.tmp" "$list"
"${MKINITRAMFS:-$repo/target/x86_64-unknown-linux-musl/release/mkinitramfs}" \
    -t "${SOURCE_DATE_EPOCH:-0}" -o "$out" "$list"
echo "build-image: $out ($(wc -c <"$out") bytes)" >&2
