# fatal.sh (dp.test=segv or dp.test=abrt): a fatal signal to PID 1 makes it
# exec its exec-on-exit program, which reports and powers off; the kernel
# must not panic.
. /lib/dp/tests/tap.sh
read -r cmdline </proc/cmdline
case " $cmdline " in
*" dp.test=segv "*) sig=SEGV num=11 ;;
*) sig=ABRT num=6 ;;
esac
dp_send echo ready
boot_time
expect "PID 1 answers before SIG$sig" ready
expect_exit 4 "Received signal SIG$sig ($num)"
diag "sending SIG$sig to PID 1"
kill -$sig 1
while dp_recv; do :; done
