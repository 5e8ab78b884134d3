# reboot.sh (dp.test=reboot): the final stage's reboot path. The controller
# asks for a reboot (as the demo controller does on SIGTERM, which busybox
# `reboot` sends to PID 1); exec-on-exit runs `daemonproxy --reboot`, which
# stops everything and restarts the machine (QEMU, with -no-reboot, exits).
. /lib/dp/tests/tap.sh
dp_send echo ready
boot_time
expect "PID 1 answers" ready
kill -TERM 1
expect "busybox-style reboot request (SIGTERM) arrives as an event" "signal${T}SIGTERM${T}*${T}1"
echo reboot >/run/dp/final-action
expect_exit 0 "terminated normally"
dp_send terminate 0 1
while dp_recv; do :; done
