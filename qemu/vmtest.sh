#!/bin/bash
# vmtest.sh ARCH INITRD: the VM test suites for one architecture. Each boot
# runs daemonproxy as PID 1 (terminate guard on, exec-on-exit configured)
# with one of the shell test controllers of tests/vm, and is graded from its
# console transcript. Prints one TAP line per boot; exits non-zero if any
# boot fails. Transcripts are kept in build/qemu/ARCH/*.log.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
arch=$1 initrd=$2
logs=$repo/build/qemu/$arch
mkdir -p "$logs"
# name | extra kernel command line (after `--`: daemonproxy's own options)
# | the kernel's last message
boots=(
    "suite|dp.test=suite -- --service-pool 64 --fd-pool 64|reboot: Power down"
    "cad|dp.test=cad|reboot: Power down"
    "segv|dp.test=segv|reboot: Power down"
    "abrt|dp.test=abrt|reboot: Power down"
    "fault|rdinit=/sbin/init-fault dp.test=fault|reboot: Power down"
    "reboot|dp.test=reboot|reboot: Restarting system"
    "dpctl|dp.drive=dpctl|reboot: Power down"
)
echo "1..${#boots[@]}"
failed=0 i=0 total_start=$SECONDS
for b in "${boots[@]}"; do
    i=$((i + 1))
    name=${b%%|*} rest=${b#*|}
    append=${rest%%|*} last=${rest#*|}
    log=$logs/$name.log
    start=$SECONDS
    "$repo/qemu/boot.sh" -t "${VMTEST_TIMEOUT:-300}" -l "$log" -a "$append" "$arch" "$initrd"
    status=$?
    verdict=$("$repo/qemu/grade.sh" "$log" "$status" "$last")
    graded=$?
    first=$(tr -d '\r' <"$log" | sed -n 's/.*# controller sent its first command at \(.*\) after boot$/\1/p' | head -n 1)
    host_ms=$(cat "$log.first-command-ms" 2>/dev/null || echo "?")
    detail="$verdict, $((SECONDS - start)) s wall, controller's first command at ${first:-?} guest uptime (${host_ms} ms after QEMU started)"
    if [ $graded -eq 0 ]; then
        echo "ok $i - $arch $name: $detail"
    else
        echo "not ok $i - $arch $name: $detail (transcript: $log)"
        failed=1
    fi
done
echo "# $arch: all boots took $((SECONDS - total_start)) s"
exit $failed
