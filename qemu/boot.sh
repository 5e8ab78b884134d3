#!/bin/bash
# boot.sh [options] ARCH INITRD: boots the kernel with INITRD under QEMU.
#
#   -i           interactive: serial console and QEMU monitor on this
#                terminal (Ctrl-A X quits, Ctrl-A C toggles the monitor)
#   -a TEXT      extra kernel command line (e.g. "dp.test=suite -- -v")
#   -t SECS      wall-clock limit for a headless boot (default 600)
#   -l LOG       headless: the console transcript goes to LOG (and to
#                stdout as it arrives); exit status is QEMU's, 124 on timeout
#
# Headless boots also write LOG.first-command-ms: milliseconds from QEMU's
# start until the guest's "controller sent its first command" line (polled
# every 0.2 s).
#
# Headless boots give the guest a QEMU monitor: a console line
# `dp-host: CMD` makes this script send CMD to the monitor (for example
# `sendkey ctrl-alt-delete` or `system_powerdown`).
#
# ARCH is x86_64, aarch64, armv7, riscv64 or mipsel. The kernel is Debian's
# for ARCH (cloud, armmp, riscv64 from trixie, 4kc-malta), fetched into
# build/deb/DEBARCH with apt-get download; KERNEL=/path/to/image overrides
# it. Acceleration is TCG unless KVM is usable for ARCH on this host
# (ACCEL=tcg|kvm forces).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
interactive=0 append="" timeout=600 log=""
while getopts "ia:t:l:" o; do
    case $o in
    i) interactive=1 ;;
    a) append=$OPTARG ;;
    t) timeout=$OPTARG ;;
    l) log=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: boot.sh [-i] [-a APPEND] [-t SECS] [-l LOG] ARCH INITRD" >&2; exit 2; }
arch=$1 initrd=$2

# Per architecture: Debian architecture, kernel package, console, machine.
case $arch in
x86_64)
    debarch=amd64 kpkg=linux-image-cloud-amd64 console=ttyS0
    qemu=(qemu-system-x86_64 -M q35 -m 256)
    ;;
aarch64)
    debarch=arm64 kpkg=linux-image-cloud-arm64 console=ttyAMA0
    # A virtio keyboard, so the monitor can send Ctrl-Alt-Del.
    qemu=(qemu-system-aarch64 -M virt -cpu cortex-a57 -m 256 -device virtio-keyboard-pci)
    ;;
armv7)
    # Debian's multiplatform ARMv7 kernel (LPAE-less, so no memory above
    # 4 GiB: highmem=off keeps virt's PCI window below it).
    debarch=armhf kpkg=linux-image-armmp console=ttyAMA0
    qemu=(qemu-system-arm -M virt,highmem=off -cpu cortex-a15 -m 256 -device virtio-keyboard-pci)
    ;;
riscv64)
    # QEMU's bundled OpenSBI (-bios default) starts the kernel in S-mode.
    debarch=riscv64 kpkg=linux-image-riscv64 console=ttyS0
    qemu=(qemu-system-riscv64 -M virt -bios default -m 256 -device virtio-keyboard-pci)
    ;;
mipsel)
    # The Malta board's PS/2 keyboard (i8042) takes Ctrl-Alt-Del.
    debarch=mipsel kpkg=linux-image-4kc-malta console=ttyS0
    qemu=(qemu-system-mipsel -M malta -m 256)
    ;;
*) echo "boot.sh: unknown architecture $arch" >&2; exit 2 ;;
esac

kernel=${KERNEL:-}
if [ -z "$kernel" ]; then
    sh "$repo/qemu/debfetch.sh" "$debarch" "$repo/build/deb/$debarch" "$kpkg"
    kernel=$(ls "$repo/build/deb/$debarch/$kpkg"/boot/vmlinu[xz]-* | head -n 1)
fi

accel=${ACCEL:-}
if [ -z "$accel" ]; then
    accel=tcg
    if [ "$(uname -m)" = "$arch" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
        grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null; then
        accel=kvm
    fi
    [ "$arch" = aarch64 ] && [ "$(uname -m)" = aarch64 ] && [ -w /dev/kvm ] && accel=kvm
fi
qemu+=(-accel "$accel")
[ "$accel" = kvm ] && [ "$arch" = aarch64 ] && qemu=("${qemu[@]/cortex-a57/host}")

qemu+=(-smp 1 -nodefaults -nographic -no-reboot
    -kernel "$kernel" -initrd "$initrd"
    -append "console=$console panic=-1 quiet rdinit=/sbin/init $append")

if [ "$interactive" = 1 ]; then
    exec "${qemu[@]}" -serial mon:stdio
fi

[ -n "$log" ] || { echo "boot.sh: headless boots need -l LOG" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/mon.in" "$tmp/mon.out"
cat "$tmp/mon.out" >"$log.monitor" &
: >"$log"
rm -f "$log.first-command-ms"
"${qemu[@]}" -serial stdio -monitor "pipe:$tmp/mon" </dev/null >"$log" 2>&1 &
qpid=$!
# However this script ends, QEMU ends with it (a leftover VM would write
# into the next boot's transcript).
trap 'kill $qpid 2>/dev/null || true; rm -rf "$tmp"' EXIT
tail -n +1 -f --pid=$qpid "$log" 2>/dev/null | sed -u "s/^/[$arch] /" &
start=$SECONDS handled=0 rc=0 t0=$(date +%s%N) first=""
while kill -0 $qpid 2>/dev/null; do
    # Host wall-clock time from QEMU's start to the controller's first command.
    if [ -z "$first" ] && grep -q '# controller sent its first command' "$log"; then
        first=$((($(date +%s%N) - t0) / 1000000))
        echo "$first" >"$log.first-command-ms"
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
        echo "boot.sh: timeout after ${timeout}s" | tee -a "$log"
        kill $qpid 2>/dev/null || true
        wait $qpid 2>/dev/null || true
        rc=124
        break
    fi
    requests=$(tr -d '\r' <"$log" | grep '^dp-host: ' || true)
    count=$(printf '%s' "$requests" | grep -c . || true)
    while [ "$handled" -lt "$count" ]; do
        handled=$((handled + 1))
        cmd=$(printf '%s\n' "$requests" | sed -n "${handled}p")
        printf '%s\n' "${cmd#dp-host: }" >"$tmp/mon.in"
    done
    sleep 0.2
done
if [ $rc -eq 0 ]; then
    wait $qpid || rc=$?
fi
sleep 0.3 # let tail print the last lines
exit $rc
