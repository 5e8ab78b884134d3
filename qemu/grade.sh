#!/bin/sh
# grade.sh LOG STATUS [LAST]: grades a headless boot's console transcript
# (TAP from the guest) and QEMU's exit STATUS. Passes when the transcript has
# a plan, exactly that many `ok` lines, no `not ok`, no kernel panic, shows
# the kernel's LAST message (default "reboot: Power down"), and QEMU exited
# 0. Prints the reason otherwise.
log=$1 status=$2 last=${3:-reboot: Power down}
t=$(tr -d '\r' <"$log")
fail() {
    echo "$1"
    exit 1
}
plan=$(printf '%s\n' "$t" | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | tail -n 1)
oks=$(printf '%s\n' "$t" | grep -cE '^ok [0-9]+( |$)')
notoks=$(printf '%s\n' "$t" | grep -cE '^not ok [0-9]+')
printf '%s\n' "$t" | grep -q 'Kernel panic' && fail "kernel panic"
[ "$status" = 124 ] && fail "timeout ($oks ok so far)"
[ "$notoks" -eq 0 ] || fail "$notoks test(s) failed"
[ -n "$plan" ] || fail "no TAP plan ($oks ok, the boot ended early)"
[ "$oks" -eq "$plan" ] || fail "plan 1..$plan but $oks ok"
printf '%s\n' "$t" | grep -qF "$last" || fail "no '$last'"
[ "$status" = 0 ] || fail "QEMU exited $status"
echo "$plan tests"
