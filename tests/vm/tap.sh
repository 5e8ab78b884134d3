# tap.sh: TAP on the console for the VM tests, sourced by test controllers.
# The test number lives in /run so it survives controller restarts and
# continues in the exec-on-exit hook; the plan is printed last, by that
# hook (tap_done), so a boot that dies early has no plan and fails.
. /lib/dp/dp.sh
T=$DP_TAB
TAP_DIR=/run/dp-test
mkdir -p "$TAP_DIR"

tap_n() {
    n=0
    [ -r "$TAP_DIR/n" ] && read -r n <"$TAP_DIR/n"
}
ok() {
    tap_n
    n=$((n + 1))
    echo "$n" >"$TAP_DIR/n"
    echo "ok $n - $*" >/dev/console
}
not_ok() {
    tap_n
    n=$((n + 1))
    echo "$n" >"$TAP_DIR/n"
    echo "not ok $n - $*" >/dev/console
}
# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() {
    _desc=$1
    shift
    if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}
diag() {
    echo "# $*" >/dev/console
}
# Asks the host harness for a QEMU monitor command (qemu/boot.sh acts on it).
host() {
    echo "dp-host: $*" >/dev/console
}
# expect_exit CODE ERROR: the exec-on-exit hook checks the two variables,
# then prints the plan.
expect_exit() {
    cat >/run/dp/on-exit.hook <<HOOK
. /lib/dp/tests/tap.sh
if [ "\$DAEMONPROXY_EXITCODE" = "$1" ] && [ "\$DAEMONPROXY_ERROR" = "$2" ]; then
    ok "exec-on-exit ran with DAEMONPROXY_EXITCODE=$1 DAEMONPROXY_ERROR='$2'"
else
    not_ok "exec-on-exit ran with DAEMONPROXY_EXITCODE=\$DAEMONPROXY_EXITCODE DAEMONPROXY_ERROR='\$DAEMONPROXY_ERROR', expected $1 '$2'"
fi
tap_n
echo "1..\$n" >/dev/console
HOOK
}
# Waits for GLOB, reporting the outcome as one test.
expect() {
    _desc=$1
    if dp_wait "$2" "${3:-60}"; then
        ok "$_desc"
    else
        not_ok "$_desc (no event matching '$2'; last: '$DP_LINE')"
        return 1
    fi
}
# Logs the controller's first command time once per boot.
boot_time() {
    if [ ! -e "$TAP_DIR/boot-time" ]; then
        read -r up _ </proc/uptime
        echo "$up" >"$TAP_DIR/boot-time"
        diag "controller sent its first command at ${up}s after boot"
    fi
}
# Ends the boot early after a failure: daemonproxy execs its exec-on-exit
# program (which prints the plan) and the VM powers off.
finish() {
    [ -e /run/dp/on-exit.hook ] || expect_exit 0 "terminated normally"
    dp_send terminate 0 1
    while dp_recv; do :; done
    exit 0
}
