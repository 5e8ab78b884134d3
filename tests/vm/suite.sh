# suite.sh: the main VM test boot (dp.test=suite), run as daemonproxy's
# controller. It kills itself halfway (scenario 2): daemonproxy restarts it
# and it carries on from the phase recorded in /run.
. /lib/dp/tests/tap.sh
phase=start
[ -r "$TAP_DIR/phase" ] && read -r phase <"$TAP_DIR/phase"
set_phase() { echo "$1" >"$TAP_DIR/phase"; }

# Field N (1-based, after the event name) of the last event.
svc_pid() { dp_service "$1" && echo "$DP_PID"; }

# Lines `talk-PID-SEQ` of PID in the logger's output: count, and whether
# the sequence numbers have no gap.
talk_count() { grep -c "talk-$1-" "$TAP_DIR/log.out" 2>/dev/null; }
talk_contiguous() {
    awk -v p="talk-$1-" 'index($0, p) { s = substr($0, index($0, p) + length(p)) + 0
        if (seen && s != last + 1) bad = 1; seen = 1; last = s }
        END { exit (bad || !seen) }' "$TAP_DIR/log.out"
}
# Waits (up to $2 s) until PID $1 has more than $3 lines in the log.
wait_talk() {
    i=0
    while [ "$i" -lt "$2" ]; do
        [ "$(talk_count "$1")" -gt "$3" ] && return 0
        sleep 1
        i=$((i + 1))
    done
    return 1
}
zombies() {
    z=0
    for d in /proc/[0-9]*; do
        { read -r st <"$d/stat"; } 2>/dev/null || continue
        st=${st##*) }
        case $st in Z*) z=$((z + 1)) ;; esac
    done
    echo "$z"
}
# The daemon's view of services and fds, minus the parts that change with
# time (uptime/downtime), for before/after comparisons.
snapshot() {
    dp_statedump
    awk -F '\t' '$1 == "service.state" { print $1, $2, $3, $5; next }
        $1 == "signal" { next } { print }' "$DP_STATE_FILE" | grep -v 'fill' >"$1"
}

case $phase in
start)
    # --- 1: services, up/down events, restart with a backoff ------------
    dp_send service.args crashy /bin/sh -c 'sleep 1; exit 3'
    boot_time
    dp_send service.start crashy
    expect "crashy goes up" "service.state${T}crashy${T}up${T}*"
    expect "crashy goes down with exit code 3" "service.state${T}crashy${T}down${T}*${T}exit${T}3${T}*"
    back=2
    for round in 1 2; do
        down_ts=$DP_3
        dp_send service.start crashy $((down_ts + back))
        expect "restart $round scheduled $back s after the exit" \
            "service.state${T}crashy${T}start${T}$((down_ts + back))${T}*"
        expect "restart $round goes up" "service.state${T}crashy${T}up${T}*"
        check "restart $round came no earlier than the backoff ($DP_3 >= $down_ts + $back)" \
            [ "$DP_3" -ge $((down_ts + back)) ]
        dp_wait "service.state${T}crashy${T}down${T}*${T}exit${T}3${T}*" 60
        back=$((back * 2))
    done

    # --- 3 (first half): a logger holding its pipe, a talker writing into it
    dp_send fd.pipe log.r log.w
    dp_send service.args logger /bin/sh /lib/dp/logger "$TAP_DIR/log.out"
    dp_send service.fds logger log.r null stderr
    dp_send service.args talker /bin/sh -c 'i=0; while :; do i=$((i+1)); echo "talk-$$-$i"; sleep 1; done'
    dp_send service.fds talker null log.w stderr
    dp_send service.start logger
    dp_send service.start talker
    expect "talker is up" "service.state${T}talker${T}up${T}*"
    talker1=$DP_4
    check "logger receives the talker's lines" wait_talk "$talker1" 30 1
    dp_send service.signal talker SIGTERM
    expect "talker stopped" "service.state${T}talker${T}down${T}*"
    dp_send service.start talker
    expect "talker restarted" "service.state${T}talker${T}up${T}*"
    talker2=$DP_4
    check "logger receives the restarted talker's lines" wait_talk "$talker2" 30 1
    dp_sync
    dp_statedump
    logger1=$(svc_pid logger)
    dp_send service.signal logger SIGKILL
    expect "logger killed" "service.state${T}logger${T}down${T}*${T}signal${T}SIGKILL${T}*"
    before=$(talk_count "$talker2")
    sleep 3 # the talker keeps writing into the pipe while nobody reads it
    dp_send service.start logger
    expect "logger restarted" "service.state${T}logger${T}up${T}*"
    check "restarted logger keeps receiving (more than $before lines)" \
        wait_talk "$talker2" 30 $((before + 3))
    check "no line was lost across the logger's restart" talk_contiguous "$talker2"

    # --- 2 (first half): a long-running service, then the controller dies
    dp_send service.args sleeper /bin/sleep 100000
    dp_send service.start sleeper
    expect "sleeper is up" "service.state${T}sleeper${T}up${T}*"
    dp_sync
    dp_statedump
    for s in sleeper logger talker; do
        svc_pid "$s" >"$TAP_DIR/$s.pid"
    done
    echo "$$" >"$TAP_DIR/controller.pid"
    set_phase resync
    diag "controller $$ kills itself with SIGKILL"
    kill -KILL $$
    ;;

resync)
    # --- 2 (second half): restarted by daemonproxy, resync ---------------
    set_phase rest
    check "daemonproxy restarted the killed controller" \
        [ "$(cat "$TAP_DIR/controller.pid")" != "$$" ]
    dp_statedump
    check "statedump shows the new controller up as this process" \
        eval 'dp_service controller && [ "$DP_STATE" = up ] && [ "$DP_PID" = $$ ]'
    for s in sleeper logger talker; do
        read -r pid <"$TAP_DIR/$s.pid"
        check "$s is still up with the same pid ($pid)" \
            eval "dp_service $s && [ \"\$DP_STATE\" = up ] && [ \"\$DP_PID\" = $pid ]"
    done
    check "the log pipe is intact (log.r)" \
        eval 'dp_fd log.r && [ "$DP_FDLINE" = "fd.state${T}log.r${T}pipe${T}from${T}log.w" ]'
    check "the log pipe is intact (log.w)" \
        eval 'dp_fd log.w && [ "$DP_FDLINE" = "fd.state${T}log.w${T}pipe${T}to${T}log.r" ]'
    read -r talker <"$TAP_DIR/talker.pid"
    before=$(talk_count "$talker")
    check "lines still flow through the pipe" wait_talk "$talker" 30 $((before + 1))
    check "and none was lost" talk_contiguous "$talker"

    # --- 5: orphans are reaped ------------------------------------------
    rm -f "$TAP_DIR/orphans"
    dp_send service.args forker /bin/sh -c "i=0; while [ \$i -lt 100 ]; do i=\$((i+1)); (sleep 4 & echo \$! >>$TAP_DIR/orphans); done"
    dp_send service.start forker
    expect "forker (double-forks 100 sleeps) exits" \
        "service.state${T}forker${T}down${T}*${T}exit${T}0${T}*"
    check "100 grandchildren were forked" [ "$(wc -l <"$TAP_DIR/orphans")" -eq 100 ]
    last=$(tail -n 1 "$TAP_DIR/orphans")
    ppid=none
    if read -r st <"/proc/$last/stat"; then
        st=${st##*) }
        set -- $st
        ppid=$2
    fi
    check "the orphans were reparented to PID 1 (ppid of $last: $ppid)" [ "$ppid" = 1 ]
    i=0
    while [ "$(zombies)" -ne 0 ] || [ -e "/proc/$last" ]; do
        [ $i -lt 30 ] || break
        sleep 1
        i=$((i + 1))
    done
    check "no zombie remains after the orphans exit ($(zombies))" [ "$(zombies)" -eq 0 ]
    alive=0
    while read -r p; do [ -e "/proc/$p" ] && alive=$((alive + 1)); done <"$TAP_DIR/orphans"
    check "every orphan is gone from the process table ($alive left)" [ "$alive" -eq 0 ]

    # --- 6: terminate without the guard code is refused --------------------
    dp_send terminate 0
    expect "terminate without guard code is refused" \
        "error${T}terminate guard code required, for command \"terminate${T}0\""
    dp_send terminate 0 7
    expect "terminate with a wrong guard code is refused" \
        "error${T}incorrect terminate guard code, for command \"terminate${T}0${T}7\""
    # A guard code beyond 32 bits: kept as the original keeps it (a C long,
    # saturated), so on 32-bit boards the same code still removes it.
    dp_send terminate.guard - 1
    dp_send terminate.guard + 3000000000
    dp_send echo guard-set
    dp_wait "*guard*"
    check "a guard code beyond 32 bits is taken ($DP_LINE)" [ "$DP_LINE" = guard-set ]
    dp_send terminate.guard - 3000000000
    dp_send echo guard-removed
    dp_wait "*guard*"
    check "and removed by the same code ($DP_LINE)" [ "$DP_LINE" = guard-removed ]
    dp_send terminate.guard + 1
    dp_sync
    kill -TERM 1
    expect "SIGTERM to PID 1 is only an event" "signal${T}SIGTERM${T}*${T}1"
    kill -PWR 1
    expect "SIGPWR to PID 1 is recorded" "signal${T}SIGPWR${T}*${T}1"
    kill -WINCH 1
    expect "SIGWINCH to PID 1 is recorded" "signal${T}SIGWINCH${T}*${T}1"
    for s in SIGTERM SIGPWR SIGWINCH; do dp_send signal.clear $s 1; done
    dp_sync
    check "PID 1 is still daemonproxy" [ "$(cat /proc/1/comm)" = init ]
    check "and still answers" dp_sync

    # --- 8: a TCP service behind an fd.socket listener -----------------
    mkdir -p "$TAP_DIR/www"
    echo "hello from the web service" >"$TAP_DIR/www/index.html"
    dp_send fd.socket web tcp,listen 127.0.0.1:8080
    expect "listening socket defined" \
        "fd.state${T}web${T}socket${T}inet,stream,bind,listen=32${T}127.0.0.1:8080"
    dp_send service.args web /bin/serve /bin/httpd -i -h "$TAP_DIR/www"
    dp_send service.fds web web null stderr
    dp_send service.start web
    expect "web service up" "service.state${T}web${T}up${T}*"
    web1=$DP_4
    check "web service answers on 127.0.0.1:8080" \
        [ "$(wget -qO- http://127.0.0.1:8080/)" = "hello from the web service" ]
    dp_send service.signal web SIGKILL
    expect "web service killed" "service.state${T}web${T}down${T}*"
    rm -f "$TAP_DIR/queued.out"
    (wget -qO "$TAP_DIR/queued.out" http://127.0.0.1:8080/ &)
    sleep 2
    check "a client waits in the backlog while the service is down" [ ! -s "$TAP_DIR/queued.out" ]
    dp_send service.start web
    expect "web service restarted" "service.state${T}web${T}up${T}*"
    check "the restart is a new process" [ "$DP_4" != "$web1" ]
    i=0
    while [ ! -s "$TAP_DIR/queued.out" ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
    check "the waiting client was served after the restart" \
        [ "$(cat "$TAP_DIR/queued.out" 2>/dev/null)" = "hello from the web service" ]
    check "new clients are served" \
        [ "$(wget -qO- http://127.0.0.1:8080/)" = "hello from the web service" ]
    dp_statedump
    check "the listening socket is the same object" \
        eval 'dp_fd web && [ "$DP_FDLINE" = "fd.state${T}web${T}socket${T}inet,stream,bind,listen=32${T}127.0.0.1:8080" ]'

    # --- 9: pool exhaustion and invalid commands -------------------------
    # This boot runs with --service-pool 64 --fd-pool 64 (kernel command line).
    snapshot "$TAP_DIR/before"
    errors=0
    i=0
    while [ $i -lt 70 ]; do
        i=$((i + 1))
        dp_send service.args fill$i /bin/true
    done
    dp_send echo fill-done
    while dp_recv 60 && [ "$DP_LINE" != fill-done ]; do
        case $DP_LINE in "error${T}Unable to allocate new service, for command"*) errors=$((errors + 1)) ;; esac
    done
    dp_statedump
    nsvc=$(grep -c "^service.state${T}" "$DP_STATE_FILE")
    check "a full service pool gives 'Unable to allocate new service' errors ($errors)" [ "$errors" -gt 0 ]
    check "the service pool holds exactly 64 services ($nsvc)" [ "$nsvc" -eq 64 ]
    ferrors=0
    i=0
    while [ $i -lt 70 ]; do
        i=$((i + 1))
        dp_send fd.open fillfd$i read /dev/null
    done
    dp_send echo fill-done
    while dp_recv 60 && [ "$DP_LINE" != fill-done ]; do
        case $DP_LINE in "error${T}Unable to allocate new file descriptor object, for command"*) ferrors=$((ferrors + 1)) ;; esac
    done
    check "a full fd pool gives 'Unable to allocate new file descriptor object' errors ($ferrors)" [ "$ferrors" -gt 0 ]
    dp_send no.such.command
    expect "unknown command is an error" "error${T}Unknown command: no.such.command"
    dp_send service.start no-such-service
    expect "unknown service is an error" "error${T}No such service, for command *"
    dp_send service.args 'bad/name' /bin/true
    expect "invalid name is an error" "error${T}Invalid service name, for command *"
    dp_send fd.open x bogus /dev/null
    expect "unknown flag is an error" "error${T}unknown flag \"bogus\""
    long=x
    while [ ${#long} -lt 1100 ]; do long="$long$long"; done
    dp_send "echo" "$long"
    expect "an over-long line is an error" "error${T}line too long"
    i=0
    while [ $i -lt 70 ]; do
        i=$((i + 1))
        dp_send service.delete fill$i
        dp_send fd.delete fillfd$i
    done
    dp_sync 120
    snapshot "$TAP_DIR/after"
    check "nothing else changed (statedump before = after)" cmp -s "$TAP_DIR/before" "$TAP_DIR/after"
    dp_send service.args after-fill /bin/true
    dp_send service.start after-fill
    expect "freed slots are usable again" "service.state${T}after-fill${T}down${T}*${T}exit${T}0${T}*"

    # --- 10: orderly poweroff from the controller ------------------------
    expect_exit 0 "terminated normally"
    diag "powering off through exec-on-exit and the final stage"
    dp_send terminate 0 1
    while dp_recv; do :; done
    ;;
*)
    # After the suite: keep reading until the final stage stops us.
    while dp_recv; do :; done
    ;;
esac
