# fault.sh (dp.test=fault, booted with rdinit=/sbin/init-fault, the test
# build of daemonproxy): a real CPU fault in PID 1 (a store to an unmapped
# address, not a signal sent with kill) makes it exec its exec-on-exit
# program, which reports and powers off. The fault must not loop (returning
# from the handler would run the faulting store again) and the kernel must
# not panic.
. /lib/dp/tests/tap.sh
dp_send echo ready
boot_time
expect "PID 1 answers before the fault" ready
expect_exit 4 "Received signal SIGSEGV (11)"
diag "a real SIGSEGV in PID 1"
dp_send test.fault segv
while dp_recv; do :; done
