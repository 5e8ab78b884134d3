# dpctl.sh (dp.drive=dpctl): the demo image driven with dpctl alone, as a
# user at the console would. The demo controller runs as usual; this
# script runs beside it as the service `drive` (see /etc/dp/controller).
# It holds no controller slot: each dpctl call takes the second slot for
# the time of its command.
. /lib/dp/tests/tap.sh
if [ -e "$TAP_DIR/drive" ]; then
    not_ok "the dpctl test ended early and was started again"
    kill -USR2 1
    exec sleep 100000
fi
: >"$TAP_DIR/drive"
boot_time

# From `dpctl status --raw NAME`: the state, the pid, the tags.
raw() { dpctl status --raw "$1"; }
state() { raw "$1" | awk -F '\t' '$1 == "service.state" { print $3 }'; }
pid() { raw "$1" | awk -F '\t' '$1 == "service.state" { print $5 }'; }
tags() { raw "$1" | sed -n "s/^service\.tags${T}[^${T}]*${T}//p"; }
# NAME's row of the status table.
row() { dpctl status "$1" | sed -n 2p; }
# has TEXT PATTERN: TEXT matches the case pattern *PATTERN*.
has() { case $1 in *$2*) return 0 ;; esac; return 1; }
# wait_for SECS COMMAND...: until COMMAND succeeds (polled each second).
wait_for() {
    _n=$1
    shift
    while ! "$@"; do
        _n=$((_n - 1))
        [ "$_n" -gt 0 ] || return 1
        sleep 1
    done
}
is() { [ "$(state "$1")" = "$2" ]; }
# stays SECS NAME STATE: NAME is in STATE now and for SECS seconds.
stays() {
    _n=$1
    while [ "$_n" -ge 0 ]; do
        is "$2" "$3" || return 1
        _n=$((_n - 1))
        [ "$_n" -ge 0 ] && sleep 1
    done
    return 0
}
# run COMMAND...: its output (both streams) in OUT, its status in RC.
run() {
    OUT=$("$@" 2>&1)
    RC=$?
    [ "$RC" = 0 ] || show "$* -> $RC: $OUT"
}
show() {
    printf '%s\n' "$1" | while IFS= read -r l; do diag "  $l"; done
}

# --- the socket and the status table -----------------------------------
all_up() {
    for s in controller logger web console; do is "$s" up || return 1; done
}
wait_for 60 all_up
up=$?
# The console shell shares the serial line with the TAP lines: stop it
# (and end the line its prompt may have left open).
run dpctl stop console
echo >/dev/console
check "dpctl status: controller, logger, web and console up" [ "$up" = 0 ]
check "dpctl stop console exits 0, console held down" \
    eval '[ "$RC" = 0 ] && is console down && has "$(row console)" "held down"'
check "the control socket /run/daemonproxy.sock is owner-only (srw-------)" \
    has "$(ls -l /run/daemonproxy.sock)" "srw------- "
run dpctl status
show "$OUT"
check "dpctl status exits 0 with a header and a row per service" \
    eval '[ "$RC" = 0 ] && has "$OUT" "NAME  " && has "$OUT" "web  "'

# --- stop sticks ---------------------------------------------------------
run dpctl stop web
check "dpctl stop web exits 0" [ "$RC" = 0 ]
check "web stays down for 8 s: the controller does not restart it" stays 8 web down
check "dpctl status shows web held down" has "$(row web)" "held down"
run dpctl restart controller
check "dpctl restart controller exits 0" [ "$RC" = 0 ]
check "the restarted controller leaves web down too" stays 4 web down

# --- start, restart -----------------------------------------------------
run dpctl start web
check "dpctl start web exits 0 with web up" eval '[ "$RC" = 0 ] && is web up'
check "start removed the down tag" eval '! has "$(tags web)" down'
web1=$(pid web)
run dpctl restart web
check "dpctl restart web exits 0 with web up as a new process" \
    eval '[ "$RC" = 0 ] && is web up && [ "$(pid web)" != "$web1" ]'
check "the restart was not counted as a crash (no restarts= tag)" \
    eval '! has "$(tags web)" restarts='
check "web stays up after the restart" stays 3 web up

# --- a crash is counted and shown ---------------------------------------
web2=$(pid web)
run dpctl signal web KILL
check "dpctl signal web KILL exits 0" [ "$RC" = 0 ]
check "dpctl status shows the crash: 'restarts 1, last killed by SIGKILL'" \
    wait_for 30 eval 'has "$(row web)" "restarts 1, last killed by SIGKILL"'
show "$(dpctl status web)"
check "the controller restarts the crashed web" \
    wait_for 30 eval 'is web up && [ "$(pid web)" != "$web2" ]'

# --- add a service at runtime, watch it die, stop and remove it ----------
run dpctl send 'service.args\tcrashy\t/bin/sh\t-c\tsleep 1; exit 3'
check "dpctl send adds the service crashy" eval '[ "$RC" = 0 ] && has "$OUT" "service.args"'
run dpctl start crashy
check "dpctl start crashy exits 0" [ "$RC" = 0 ]
check "a service that keeps dying shows it: 'restarts 2, last exit 3'" \
    wait_for 60 eval 'has "$(row crashy)" "restarts 2, last exit 3"'
show "$(dpctl status crashy)"
run dpctl stop crashy
check "dpctl stop crashy exits 0" [ "$RC" = 0 ]
check "crashy stays down for 10 s (longer than its backoff)" stays 10 crashy down
run dpctl send 'service.delete\tcrashy'
check "dpctl send service.delete removes crashy" [ "$RC" = 0 ]
run dpctl status crashy
check "dpctl status of the removed service exits 3" [ "$RC" = 3 ]

run dpctl send 'service.args	sleeper	/bin/sleep	600' 'service.start	sleeper'
check "dpctl send with real TABs adds and starts sleeper" \
    eval '[ "$RC" = 0 ] && wait_for 30 is sleeper up'
run dpctl stop sleeper
run dpctl send 'service.delete\tsleeper'
check "sleeper stopped and removed" eval '[ "$RC" = 0 ] && ! raw sleeper 2>/dev/null'

# --- exit statuses ------------------------------------------------------
run dpctl status no-such
check "unknown service: exit 3" [ "$RC" = 3 ]
run dpctl frobnicate
check "usage error: exit 2" [ "$RC" = 2 ]
run dpctl -S /run/no.sock status
check "no daemon at the socket: exit 4" [ "$RC" = 4 ]
dpctl send 'service.args\tempty' >/dev/null
run dpctl start empty
check "refused (no args configured for service): exit 1" \
    eval '[ "$RC" = 1 ] && has "$OUT" "no args configured"'
dpctl send 'service.delete\tempty' >/dev/null

# --- done: power off as a user would ------------------------------------
expect_exit 0 "terminated normally"
diag "powering off (SIGUSR2 to PID 1, as busybox poweroff does)"
kill -USR2 1
exec sleep 100000
