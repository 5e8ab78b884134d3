# cad.sh (dp.test=cad): Ctrl-Alt-Del from the QEMU monitor arrives as a
# `signal SIGINT` event and starts a SIGINT-triggered shutdown service,
# which powers the VM off through exec-on-exit and the final stage.
. /lib/dp/tests/tap.sh
dp_send service.args shutdown /bin/sh /lib/dp/tests/cad-shutdown.sh
boot_time
dp_send service.fds shutdown null control.cmd stderr
dp_send service.auto_up shutdown 1 SIGINT
expect "shutdown service armed on SIGINT" "service.auto_up${T}shutdown${T}1${T}SIGINT"
dp_sync
expect_exit 0 "terminated normally"
# The trigger may start the service before the controller is told of the
# signal, so remember the up event whichever comes first.
started=
dp_on_event() {
    case $DP_LINE in "service.state${T}shutdown${T}up${T}"*) started=1 ;; esac
}
host sendkey ctrl-alt-delete
expect "Ctrl-Alt-Del arrived as signal SIGINT" "signal${T}SIGINT${T}*${T}1" 120 || finish
[ -n "$started" ] || dp_wait "service.state${T}shutdown${T}up${T}*" 60
check "the SIGINT trigger started the shutdown service" [ -n "$started" ]
: >"$TAP_DIR/cad-seen"
while dp_recv; do :; done
