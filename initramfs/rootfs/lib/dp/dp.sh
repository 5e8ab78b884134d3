# dp.sh: a small POSIX-sh library for daemonproxy controllers.
#
# A controller is a service whose descriptors are
#     service.fds  NAME  control.event  control.cmd  stderr
# so it reads events on stdin and writes commands on stdout. Source this
# file, then talk to daemonproxy:
#
#     . /lib/dp/dp.sh
#     dp_send service.args web /bin/httpd -f -i    # fields joined with TABs
#     dp_send service.start web
#     dp_wait "service.state${DP_TAB}web${DP_TAB}up${DP_TAB}*" 10 || dp_log "web did not start"
#
# Reading:
#     dp_recv [SECS]     next event line: DP_LINE (exact text), DP_EVENT and
#                        DP_1..DP_8 (its TAB-separated fields; TAB is IFS
#                        whitespace, so empty fields collapse: use DP_LINE when
#                        they matter). Non-zero on timeout or end of input.
#                        Lines of a dump still being read (dp_statedump
#                        timed out) go to $DP_STATE_FILE, not to the caller.
#     dp_wait GLOB [SECS]  read events until one matches GLOB (a `case`
#                        pattern on DP_LINE). Every event read is also passed
#                        to dp_on_event, so nothing is lost while waiting.
#     dp_sync [SECS]     round trip: sends a unique `echo` and reads up to its
#                        reply. Everything the earlier commands caused (replies,
#                        errors, broadcasts) has been read when it returns.
#     dp_statedump [SECS]  resync after a restart: runs `statedump`, keeps
#                        its lines in $DP_STATE_FILE, and returns after the dump.
#                        The dump is state, not news: its lines are not passed
#                        to dp_on_event (look at them with dp_service, dp_fd),
#                        and neither are the events read while waiting for it:
#                        the dump shows what they changed. So a service that
#                        ended before the dump is seen in the dump (down, with
#                        a reason) and not as an event: a controller's startup
#                        looks there for what ended while nobody listened.
#     dp_service NAME    looks NAME up in the last dump: DP_STATE (start, up,
#                        down), DP_PID, DP_TS, and NAME's service.state line
#                        in DP_LINE, DP_EVENT, DP_1..DP_8 as dp_recv sets them
#                        (so `dp_service NAME && dp_on_event` treats the state
#                        as news). Non-zero if unknown.
#     dp_services        DP_SERVICES = the names of the services in the last
#                        dump, space-separated. A controller that reacts to
#                        what ends catches up at startup with
#                        for s in $DP_SERVICES; do dp_service "$s" && dp_on_event; done
#     dp_fd NAME         looks NAME up in the last dump: DP_FDLINE (the fd.state
#                        line). Non-zero if unknown.
#
# Tags and the stop convention (docs/controllers.md): every line dp_recv
# reads is also used to keep each service's tags, as last heard, in
# $DP_TAGS_DIR/NAME.tags (when that directory exists; sourcing this file
# creates it), so a controller can honour `down` without asking.
#     dp_tags NAME       DP_TAGS = NAME's tags, TAB-separated.
#     dp_has_tag NAME TAG  zero if NAME has the tag TAG.
#     dp_is_down NAME    zero if NAME is held down (tag `down`, set by
#                        `dpctl stop`): a controller never starts it.
#     dp_tag_value NAME KEY  DP_VALUE = VALUE of NAME's first tag KEY=VALUE;
#                        non-zero if there is none.
#     dp_tag NAME [+TAG | -PATTERN]...  edits NAME's tags and sends them:
#                        +TAG adds TAG (once), -PATTERN removes the tags
#                        that match the `case` pattern (-'restarts=*').
#     dp_start NAME [TS] service.start, unless NAME is held down (then
#                        non-zero, nothing sent).
#
# Hook: define dp_on_event to react to events read by dp_wait and dp_sync
# (restart crashed services, count signals, ...). It sees the
# same DP_LINE / DP_EVENT / DP_n variables. `overflow` means events were
# dropped because the controller read too slowly: run dp_statedump.
#
# Timeouts need `read -t`: busybox ash, bash, zsh and mksh have it. In a
# shell without it (dash) SECS are ignored: the reads wait for a line.
# The library forks nothing on the event path.

DP_TAB=$(printf '\t')
DP_SYNC_N=0
DP_STATE_FILE=${DP_STATE_FILE:-/run/dp/statedump}
DP_TAGS_DIR=${DP_TAGS_DIR:-/run/dp/tags}
mkdir -p "$DP_TAGS_DIR" 2>/dev/null
# DP_READ_T=-t if this shell's read has -t (dash's has not: it fails
# without reading anything).
DP_READ_T=
if { IFS= read -r -t 1 _dp_x; } 2>/dev/null <<EOF
x
EOF
then
    DP_READ_T=-t
fi
# The echo that ends a dump not read to its end yet (see dp_recv).
_dp_dumping=

# dp_send FIELD...: one command line, fields separated by TABs.
dp_send() {
    _dp_ifs=$IFS
    IFS=$DP_TAB
    printf '%s\n' "$*"
    IFS=$_dp_ifs
}

# dp_log TEXT...: a line on stderr (the console, for a controller).
dp_log() {
    printf '%s\n' "$*" >&2
}

# dp_now: DP_NOW = whole seconds since boot (no fork).
dp_now() {
    read -r DP_NOW _dp_rest </proc/uptime
    DP_NOW=${DP_NOW%.*}
}

dp_split() {
    _dp_ifs=$IFS
    IFS=$DP_TAB
    set -f
    # shellcheck disable=SC2086 # splitting at TABs is the point
    set -- $DP_LINE
    set +f
    IFS=$_dp_ifs
    DP_EVENT=$1 DP_1=$2 DP_2=$3 DP_3=$4 DP_4=$5 DP_5=$6 DP_6=$7 DP_7=$8 DP_8=$9
}

# Keeps the tags of the service a line is about (no fork: builtins only).
dp_track() {
    [ -d "$DP_TAGS_DIR" ] || return 0
    case $DP_EVENT in
    service.tags)
        printf '%s\n' "${DP_LINE#"service.tags$DP_TAB$DP_1$DP_TAB"}" >"$DP_TAGS_DIR/$DP_1.tags"
        ;;
    service.state)
        if [ "$DP_2" = deleted ]; then
            : >"$DP_TAGS_DIR/$DP_1.tags"
        fi
        ;;
    esac
    return 0
}

# One line, split and tracked, dump or not.
dp_read() {
    if [ -n "$1" ] && [ -n "$DP_READ_T" ]; then
        IFS= read -r -t "$1" DP_LINE || return 1
    else
        IFS= read -r DP_LINE || return 1
    fi
    dp_split
    dp_track
}

dp_recv() {
    while dp_read "$1"; do
        [ -n "$_dp_dumping" ] || return 0
        # The rest of a dump dp_statedump gave up on: state, not news.
        if [ "$DP_LINE" = "$_dp_dumping" ]; then
            _dp_dumping=
        else
            printf '%s\n' "$DP_LINE" >>"$DP_STATE_FILE"
        fi
    done
    return 1
}

# Calls dp_on_event if the script defined it.
dp_dispatch() {
    if command -v dp_on_event >/dev/null 2>&1; then
        dp_on_event
    fi
    return 0
}

dp_wait() {
    _dp_glob=$1
    dp_now
    _dp_deadline=$((DP_NOW + ${2:-30}))
    while :; do
        dp_now
        _dp_left=$((_dp_deadline - DP_NOW))
        [ "$_dp_left" -gt 0 ] || return 1
        dp_recv "$_dp_left" || return 1
        dp_dispatch
        # shellcheck disable=SC2254 # the pattern is the caller's glob
        case $DP_LINE in
        $_dp_glob) return 0 ;;
        esac
    done
}

dp_sync() {
    DP_SYNC_N=$((DP_SYNC_N + 1))
    _dp_token="dp-sync-$$-$DP_SYNC_N"
    dp_send echo "$_dp_token"
    dp_wait "$_dp_token" "${1:-30}"
}

dp_statedump() {
    mkdir -p "${DP_STATE_FILE%/*}"
    : >"$DP_STATE_FILE"
    # The dump lists the tags of every service: forget those of services
    # deleted while nobody listened.
    for _dp_f in "$DP_TAGS_DIR"/*.tags; do
        [ -f "$_dp_f" ] && : >"$_dp_f"
    done
    DP_SYNC_N=$((DP_SYNC_N + 1))
    _dp_dumping="dp-dump-$$-$DP_SYNC_N"
    dp_send statedump
    dp_send echo "$_dp_dumping"
    dp_now
    _dp_deadline=$((DP_NOW + ${1:-30}))
    while :; do
        dp_now
        _dp_left=$((_dp_deadline - DP_NOW))
        [ "$_dp_left" -gt 0 ] || return 1
        dp_read "$_dp_left" || return 1
        if [ "$DP_LINE" = "$_dp_dumping" ]; then
            _dp_dumping=
            return 0
        fi
        printf '%s\n' "$DP_LINE" >>"$DP_STATE_FILE"
    done
}

# Besides the dump, $DP_STATE_FILE holds the events read while waiting for
# it, in the order they came (some before the dump, some amid it): the last
# line about a thing is the one that counts.
dp_service() {
    DP_STATE= DP_PID= DP_TS= _dp_found=
    while IFS= read -r DP_LINE; do
        case $DP_LINE in
        "service.state$DP_TAB$1$DP_TAB"*) _dp_found=$DP_LINE ;;
        esac
    done <"$DP_STATE_FILE"
    DP_LINE=$_dp_found
    [ -n "$DP_LINE" ] || return 1
    dp_split
    DP_STATE=$DP_2 DP_TS=$DP_3 DP_PID=$DP_4
}

dp_services() {
    DP_SERVICES=
    while IFS= read -r _dp_l; do
        case $_dp_l in
        "service.state$DP_TAB"*)
            _dp_l=${_dp_l#*"$DP_TAB"}
            _dp_l=${_dp_l%%"$DP_TAB"*}
            case " $DP_SERVICES " in
            *" $_dp_l "*) ;;
            *) DP_SERVICES="$DP_SERVICES $_dp_l" ;;
            esac
            ;;
        esac
    done <"$DP_STATE_FILE"
    DP_SERVICES=${DP_SERVICES# }
}

dp_fd() {
    DP_FDLINE=
    while IFS= read -r DP_LINE; do
        case $DP_LINE in
        "fd.state$DP_TAB$1$DP_TAB"*) DP_FDLINE=$DP_LINE ;;
        esac
    done <"$DP_STATE_FILE"
    [ -n "$DP_FDLINE" ]
}

dp_tags() {
    DP_TAGS=
    if [ -r "$DP_TAGS_DIR/$1.tags" ]; then
        IFS= read -r DP_TAGS <"$DP_TAGS_DIR/$1.tags"
    fi
    return 0
}

dp_has_tag() {
    dp_tags "$1"
    case "$DP_TAB$DP_TAGS$DP_TAB" in
    *"$DP_TAB$2$DP_TAB"*) return 0 ;;
    esac
    return 1
}

dp_is_down() {
    dp_has_tag "$1" down
}

dp_tag_value() {
    dp_tags "$1"
    DP_VALUE=
    _dp_t="$DP_TAB$DP_TAGS$DP_TAB"
    case $_dp_t in
    *"$DP_TAB$2="*)
        _dp_t=${_dp_t#*"$DP_TAB$2="}
        DP_VALUE=${_dp_t%%"$DP_TAB"*}
        return 0
        ;;
    esac
    return 1
}

dp_tag() {
    _dp_name=$1
    shift
    dp_tags "$_dp_name"
    _dp_new=
    _dp_rest=$DP_TAGS$DP_TAB
    while [ -n "$_dp_rest" ]; do
        _dp_t=${_dp_rest%%"$DP_TAB"*}
        _dp_rest=${_dp_rest#*"$DP_TAB"}
        [ -n "$_dp_t" ] || continue
        for _dp_op; do
            case $_dp_op in
            # shellcheck disable=SC2254 # the pattern is the caller's
            -*) case $_dp_t in ${_dp_op#-}) continue 2 ;; esac ;;
            +*) [ "$_dp_t" = "${_dp_op#+}" ] && continue 2 ;;
            esac
        done
        _dp_new=$_dp_new$DP_TAB$_dp_t
    done
    for _dp_op; do
        case $_dp_op in +?*) _dp_new=$_dp_new$DP_TAB${_dp_op#+} ;; esac
    done
    _dp_new=${_dp_new#"$DP_TAB"}
    [ "$_dp_new" = "$DP_TAGS" ] && return 0
    if [ -d "$DP_TAGS_DIR" ]; then
        printf '%s\n' "$_dp_new" >"$DP_TAGS_DIR/$_dp_name.tags"
    fi
    dp_send service.tags "$_dp_name" "$_dp_new"
}

dp_start() {
    dp_is_down "$1" && return 1
    dp_send service.start "$@"
}
