//! dpctl, the control client, against the real daemon: every verb, the
//! stop convention (the `down` tag), and the exit statuses (1 refused, 2
//! usage, 3 no such service, 4 no daemon).
//!
//! The daemon runs with `-S` only, so both controller slots are free: the
//! test's own [`Client`] watches in one, each dpctl call takes the other.

use crate::util::*;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `$DPCTL_BIN`, else dpctl beside this test binary's directory (cargo's
/// `target/TARGET/release/dpctl`).
fn dpctl_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("DPCTL_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().unwrap().parent().unwrap().join("dpctl");
    assert!(
        p.exists(),
        "{} is missing: run `make dpctl` (or cargo build --release -p dpctl), or set DPCTL_BIN",
        p.display()
    );
    p
}

/// What a dpctl run gave.
struct Run {
    code: i32,
    out: String,
    err: String,
}

impl Run {
    fn ok(&self) -> &Run {
        assert_eq!(self.code, 0, "dpctl failed: {}{}", self.out, self.err);
        self
    }

    /// Asserts the status and that stderr says why, prefixed `dpctl: `.
    fn fails(&self, code: i32, text: &str) -> &Run {
        assert_eq!(
            self.code, code,
            "stdout {:?}, stderr {:?}",
            self.out, self.err
        );
        assert!(
            self.err.starts_with("dpctl: ") && self.err.contains(text),
            "stderr {:?} lacks {text:?}",
            self.err
        );
        self
    }
}

fn dpctl_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(dpctl_bin())
        .args(args)
        .env_remove("DAEMONPROXY_SOCKET")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("running dpctl");
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A daemon with a control socket, and a client watching it.
struct Ctl {
    sock: String,
    c: Client,
    d: Daemon,
}

impl Ctl {
    fn new() -> Ctl {
        let dir = TempDir::new();
        let sock = dir.join("ctl.sock");
        let d = Spawn::new(&["-S", &sock]).dir(dir).start();
        let c = Client::connect(&sock);
        Ctl { sock, c, d }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["-S", &self.sock];
        all.extend_from_slice(args);
        dpctl_env(&all, &[])
    }

    /// The statedump lines about `name` (the `service.` ones).
    fn lines(&mut self, name: &str) -> Vec<String> {
        // The dump's lines are the last five about it (events not read yet
        // come first).
        let mut lines: Vec<String> = self
            .c
            .statedump()
            .into_iter()
            .filter(|l| l.starts_with("service.") && fields(l).get(1) == Some(&name))
            .collect();
        lines.drain(..lines.len().saturating_sub(5));
        lines
    }

    /// The value part of `name`'s `service.KIND` line.
    fn get(&mut self, name: &str, kind: &str) -> String {
        let prefix = format!("service.{kind}\t{name}\t");
        self.lines(name)
            .into_iter()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
            .unwrap_or_else(|| panic!("no service.{kind} line for {name}"))
    }

    /// STATE and PID of `name`.
    fn state(&mut self, name: &str) -> (String, String) {
        let s = self.get(name, "state");
        let f = fields(&s);
        (f[0].to_string(), f[2].to_string())
    }

    fn add(&mut self, name: &str, args: &str) {
        self.c.cmd(&format!("service.args\t{name}\t{args}"));
    }

    fn start(&mut self, name: &str) -> String {
        self.c.send(&format!("service.start\t{name}"));
        self.c.recv_state(name, "up")[4].clone()
    }
}

/// The status table's row for `name`, split at runs of spaces into
/// NAME STATE PID and the rest (INFO and AUTO_UP).
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in {table}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn dpctl_without_a_daemon_exits_4() {
    let dir = TempDir::new();
    let missing = dir.join("none.sock");
    let r = dpctl_env(&["-S", &missing, "status"], &[]);
    r.fails(4, "cannot connect to");
    assert!(r.err.contains(&missing), "{}", r.err);
    // A socket file nobody listens on: connection refused.
    let stale = dir.join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    dpctl_env(&["-S", &stale, "stop", "web"], &[]).fails(4, "Connection refused");
    // DAEMONPROXY_SOCKET names the socket when -S does not; -S wins.
    dpctl_env(&["dump"], &[("DAEMONPROXY_SOCKET", &missing)]).fails(4, &missing);
    let d = Ctl::new();
    dpctl_env(&["status"], &[("DAEMONPROXY_SOCKET", &d.sock)]).ok();
    dpctl_env(
        &["-S", &d.sock, "status"],
        &[("DAEMONPROXY_SOCKET", &missing)],
    )
    .ok();
}

#[test]
fn dpctl_usage_errors_exit_2() {
    let d = Ctl::new();
    for args in [
        &[][..],
        &["frobnicate"],
        &["-x", "status"],
        &["-S"],
        &["start"],
        &["stop", "bad name"],
        &["signal", "web"],
        &["signal", "web", "NOSUCHSIG"],
        &["signal", "web", "99999"],
        &["events", "extra"],
        &["dump", "extra"],
        &["send"],
        &["send", "echo\na"],
    ] {
        let r = d.run(args);
        assert_eq!(r.code, 2, "dpctl {args:?}: {} {}", r.out, r.err);
        assert!(
            r.err.starts_with("dpctl: ") && r.err.contains("usage: dpctl"),
            "{}",
            r.err
        );
        assert!(r.out.is_empty());
    }
    let long = format!("echo\t{}", "x".repeat(1100));
    d.run(&["send", &long]).fails(2, "longer than 1023 bytes");
    let r = dpctl_env(&["--help"], &[]);
    r.ok();
    for verb in [
        "status", "start", "stop", "restart", "signal", "events", "dump", "send",
    ] {
        assert!(r.out.contains(&format!("  {verb} ")), "--help lacks {verb}");
    }
}

#[test]
fn dpctl_status_table_and_raw() {
    let mut d = Ctl::new();
    d.add("aa-up", "/bin/sleep\t100");
    let pid = d.start("aa-up");
    d.add("bb-exit", "/bin/sh\t-c\texit 3");
    d.start("bb-exit");
    d.c.recv_state("bb-exit", "down");
    d.add("cc-new", "/bin/true");
    d.add("dd-later", "/bin/true");
    let ts = mono_now() + 100;
    d.c.cmd(&format!("service.start\tdd-later\t{ts}"));
    d.c.cmd("service.auto_up\tdd-later\t5\tSIGHUP\tSIGUSR1");
    d.c.cmd("service.tags\tdd-later\tx\trestarts=4\tlast=exit:3");
    d.add("ee-killed", "/bin/sleep\t100");
    d.start("ee-killed");
    d.c.cmd("service.tags\tee-killed\tdown\tauto_up=always");
    d.c.send("service.signal\tee-killed\tSIGTERM");
    d.c.recv_state("ee-killed", "down");

    let table = d.run(&["status"]).ok().out.clone();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6, "{table}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "STATE", "PID", "INFO", "AUTO_UP"]
    );
    // Columns line up: every row's STATE starts where the header's does.
    let col = lines[0].find("STATE").unwrap();
    for l in &lines[1..] {
        assert!(
            l[col..].starts_with(|c: char| c.is_ascii_lowercase()),
            "{table}"
        );
    }
    let r = row(&table, "aa-up");
    assert_eq!(r[..3], ["aa-up", "up", pid.as_str()]);
    assert!(r[3].starts_with("up ") && r[3].ends_with('s'), "{r:?}");
    assert_eq!(r[4], "-");
    assert_eq!(row(&table, "bb-exit")[1..3], ["down", "-"]);
    assert!(row(&table, "bb-exit")[3].ends_with("s, exit 3"), "{table}");
    assert_eq!(
        row(&table, "cc-new")[1..],
        ["down", "-", "not started", "-"]
    );
    let r = row(&table, "dd-later");
    assert_eq!(r[1], "start");
    assert!(
        r[3].starts_with("start in 1m") && r[3].ends_with("s; restarts 4, last exit 3"),
        "{r:?}"
    );
    assert_eq!(r[4], "SIGHUP,SIGUSR1 5s");
    let r = row(&table, "ee-killed");
    assert!(r[3].ends_with(", killed by SIGTERM, held down"), "{r:?}");
    assert_eq!(r[4], "(always)");

    // NAMEs select rows, in the daemon's order; --raw gives its lines.
    let some = d.run(&["status", "ee-killed", "aa-up"]).ok().out.clone();
    assert_eq!(some.lines().count(), 3, "{some}");
    let raw = d.run(&["status", "--raw", "cc-new"]).ok().out.clone();
    assert_eq!(raw.lines().collect::<Vec<_>>(), d.lines("cc-new"));
    assert_eq!(d.run(&["status", "cc-new", "--raw"]).ok().out, raw);
    let all_raw = d.run(&["status", "--raw"]).ok().out.clone();
    assert_eq!(all_raw.lines().count(), 5 * 5);
    assert!(all_raw.lines().all(|l| l.starts_with("service.")));

    let r = d.run(&["status", "aa-up", "nope"]);
    r.fails(3, "nope: no such service");
    assert!(
        r.out.is_empty(),
        "nothing printed for a failed status: {}",
        r.out
    );
}

#[test]
fn dpctl_stop_holds_down_and_start_restores() {
    let mut d = Ctl::new();
    d.add("web", "/bin/sleep\t100");
    d.c.cmd("service.tags\tweb\tkeep\tme");
    d.c.send("service.auto_up\tweb\t1\talways");
    let pid = d.c.recv_state("web", "up")[4].clone();

    let mark = d.c.lines().mark();
    d.run(&["stop", "web"]).ok();
    let (state, _) = d.state("web");
    assert_eq!(state, "down");
    // The daemon's auto_up is off: a restart would have been scheduled at
    // the reap, its `start` broadcast before the dump's end (§6.5).
    let restart = Prefix("service.state\tweb\tstart\t");
    assert!(
        !d.c.lines().seen()[mark..]
            .iter()
            .any(|l| restart.is_match(l)),
        "{:?}",
        &d.c.lines().seen()[mark..]
    );
    assert!(d.get("web", "state").contains("\tsignal\tSIGTERM\t"));
    assert!(!pid_alive(pid.parse().unwrap()));
    assert_eq!(d.get("web", "tags"), "keep\tme\tdown\tauto_up=always");
    assert_eq!(d.get("web", "auto_up"), "-");
    // Stopping again changes nothing.
    d.run(&["stop", "web"]).ok();
    assert_eq!(d.get("web", "tags"), "keep\tme\tdown\tauto_up=always");

    d.run(&["start", "web"]).ok();
    let (state, pid2) = d.state("web");
    assert_eq!(state, "up");
    assert_ne!(pid2, pid);
    assert_eq!(d.get("web", "tags"), "keep\tme");
    assert_eq!(d.get("web", "auto_up"), "1\talways");
    // Starting a running service is not an error.
    d.run(&["start", "web"]).ok();
    assert_eq!(d.state("web"), ("up".to_string(), pid2));
}

#[test]
fn dpctl_stop_cancels_a_pending_start() {
    let mut d = Ctl::new();
    d.add("later", "/bin/sleep\t100");
    let ts = mono_now() + 100;
    d.c.cmd(&format!("service.start\tlater\t{ts}"));
    d.run(&["stop", "later"]).ok();
    assert_eq!(d.get("later", "state"), "down\t-\t-\t-\t-\t-\t-");
    assert_eq!(d.get("later", "tags"), "down");
}

#[test]
fn dpctl_stop_kills_what_ignores_sigterm() {
    let mut d = Ctl::new();
    d.add(
        "stubborn",
        "/bin/sh\t-c\ttrap '' TERM; : >ready; while :; do sleep 1; done",
    );
    d.start("stubborn");
    let ready = d.d.path("ready");
    wait_for("the service to ignore SIGTERM", || {
        std::path::Path::new(&ready).exists()
    });
    let t = Instant::now();
    let r = d.run(&["stop", "stubborn"]);
    r.ok();
    assert!(
        r.err
            .contains("stubborn: still up 10 s after SIGTERM: SIGKILL"),
        "{}",
        r.err
    );
    assert!(t.elapsed() >= Duration::from_secs(9));
    assert!(d.get("stubborn", "state").contains("\tsignal\tSIGKILL\t"));
}

#[test]
fn dpctl_restart_is_stop_then_start() {
    let mut d = Ctl::new();
    d.add("web", "/bin/sleep\t100");
    d.c.cmd("service.tags\tweb\tkeep\trestarts=3\tlast=exit:1");
    let pid = d.start("web");
    let mark = d.c.lines().mark();
    d.run(&["restart", "web"]).ok();
    let (state, pid2) = d.state("web");
    assert_eq!(state, "up");
    assert_ne!(pid2, pid);
    // Down (tagged down) then up, and start clears the crash record.
    let seen = d.c.lines().since(mark);
    let down = seen
        .iter()
        .position(|l| l.starts_with("service.state\tweb\tdown\t"))
        .unwrap();
    let tagged = seen
        .iter()
        .position(|l| l.starts_with("service.tags\tweb\t") && l.contains("\tdown"))
        .unwrap();
    assert!(tagged < down, "{seen:?}");
    assert_eq!(d.get("web", "tags"), "keep");
    // A service that is down is simply started.
    d.add("idle", "/bin/sleep\t100");
    d.run(&["restart", "idle"]).ok();
    assert_eq!(d.state("idle").0, "up");
}

#[test]
fn dpctl_unknown_service_exits_3_and_changes_nothing() {
    let mut d = Ctl::new();
    d.add("web", "/bin/sleep\t100");
    let pid = d.start("web");
    for verb in ["start", "stop", "restart"] {
        d.run(&[verb, "web", "nope"])
            .fails(3, "nope: no such service");
    }
    d.run(&["signal", "nope", "TERM"])
        .fails(3, "nope: no such service");
    d.run(&["status", "nope"]).fails(3, "nope: no such service");
    assert_eq!(d.state("web"), ("up".to_string(), pid));
    assert_eq!(d.get("web", "tags"), "");
}

#[test]
fn dpctl_refusals_exit_1() {
    let mut d = Ctl::new();
    d.add("empty", "");
    d.run(&["start", "empty"])
        .fails(1, "empty: no args configured for service");
    d.add("idle", "/bin/true");
    d.run(&["signal", "idle", "TERM"])
        .fails(1, "idle: service is not running");
}

#[test]
fn dpctl_signal() {
    let mut d = Ctl::new();
    d.add("web", "/bin/sleep\t100");
    d.start("web");
    d.run(&["signal", "web", "hup"]).ok();
    d.c.recv_ok(Prefix("service.state\tweb\tdown\t"));
    assert!(d.get("web", "state").contains("\tsignal\tSIGHUP\t"));
    d.start("web");
    d.run(&["signal", "web", "9"]).ok();
    d.c.recv_ok(Prefix("service.state\tweb\tdown\t"));
    assert!(d.get("web", "state").contains("\tsignal\tSIGKILL\t"));
}

#[test]
fn dpctl_send_prints_replies_to_the_barrier() {
    let mut d = Ctl::new();
    let r = d.run(&[
        "send",
        "service.args\\tx\\t/bin/sleep\\t100",
        "service.tags\tx\ta\\\\tb",
        "echo\\thi",
    ]);
    r.ok();
    assert_eq!(
        r.out,
        "service.args\tx\t/bin/sleep\t100\nservice.tags\tx\ta\\tb\nhi\n"
    );
    assert_eq!(d.get("x", "tags"), "a\\tb");
    // An error reply is printed and also reported.
    let r = d.run(&["send", "bogus", "echo\\tafter"]);
    assert_eq!(r.out, "error\tUnknown command: bogus\nafter\n");
    r.fails(1, "Unknown command: bogus");
    let r = d.run(&["send", "service.start\\tnope"]);
    r.fails(3, "No such service");
    assert!(r.out.starts_with("error\tNo such service, for command"));
    // Comments and blank lines are fine (ignored by the daemon).
    d.run(&["send", "# nothing", ""]).ok();
}

#[test]
fn dpctl_dump_is_the_statedump() {
    let mut d = Ctl::new();
    d.add("x", "/bin/true");
    d.c.cmd("fd.open\tf\tread\t/dev/null");
    let mine = d.c.statedump();
    let r = d.run(&["dump"]);
    r.ok();
    assert_eq!(r.out.lines().collect::<Vec<_>>(), mine);
}

#[test]
fn dpctl_events_follows_the_stream() {
    let mut d = Ctl::new();
    // A signal pending when it connects is its first line (§8.3).
    d.d.signal(libc::SIGHUP);
    d.c.recv_ok(Prefix("signal\tSIGHUP\t"));
    let mut child = Command::new(dpctl_bin())
        .args(["-S", &d.sock, "events"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::new(
        Box::new(child.stdout.take().unwrap()),
        "dpctl events",
        false,
    );
    lines.recv_ok(Prefix("signal\tSIGHUP\t"));
    // The handshake is over once dpctl holds its slot: wait for a broadcast.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        d.c.cmd("service.args\tx\t/bin/true");
        if lines
            .recv_within("service.args\tx\t/bin/true", Duration::from_millis(200))
            .is_some()
        {
            break;
        }
        assert!(Instant::now() < deadline, "dpctl events shows nothing");
    }
    d.c.cmd("service.start\tx");
    lines.recv_ok(Prefix("service.state\tx\tup\t"));
    lines.recv_ok(Prefix("service.state\tx\tdown\t"));
    // It ends (status 1) when the daemon goes away.
    drop(d.c);
    drop(d.d);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn dpctl_without_a_free_slot_exits_4() {
    let d = Ctl::new();
    let mut other = Client::connect(&d.sock);
    other.cmd("echo\tboth slots taken");
    let t = Instant::now();
    d.run(&["status"]).fails(4, "no answer");
    assert!(t.elapsed() >= Duration::from_secs(9));
}

#[test]
fn dpctl_man_page_renders_without_warnings() {
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/man/dpctl.8");
    let out = Command::new("groff")
        .args(["-man", "-ww", "-z", page])
        .output()
        .expect("groff is needed to check the man page (make deps installs groff-base)");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
    let text = std::fs::read_to_string(page).unwrap();
    let help = dpctl_env(&["--help"], &[]).out;
    for verb in [
        "status", "start", "stop", "restart", "signal", "events", "dump", "send",
    ] {
        assert!(help.contains(&format!("  {verb} ")));
        assert!(
            text.contains(&format!(".B {verb}\n")) || text.contains(&format!("{verb} \"")),
            "the man page does not describe {verb}"
        );
    }
}

/// A controller written with dp.sh, as docs/controllers.md shows: it
/// restarts what ends (recording restarts= and last=) unless the service
/// is held down, and cancels a start scheduled for a service held down.
const DP_SH_CONTROLLER: &str = r#"
. "$DPSH"
dp_on_event() {
    case $DP_EVENT in
    service.state)
        if [ "$DP_2" = down ] && [ "$DP_5" != - ] && ! dp_is_down "$DP_1"; then
            n=0
            dp_tag_value "$DP_1" restarts && n=$DP_VALUE
            dp_tag "$DP_1" -'restarts=*' -'last=*' +"restarts=$((n + 1))" +"last=$DP_5:$DP_6"
            dp_start "$DP_1" $((DP_3 + 1))
        fi
        if [ "$DP_2" = start ] && dp_is_down "$DP_1"; then
            dp_send service.start "$DP_1" -
        fi
        ;;
    esac
}
# What ended before the dump, even while it was being taken, shows in the
# dump and not as an event.
dp_statedump
dp_services
for s in $DP_SERVICES; do dp_service "$s" && dp_on_event; done
while dp_recv; do dp_on_event; done
"#;

#[test]
fn dp_sh_controller_honours_the_stop_convention() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let script = dir.join("controller");
    std::fs::write(&script, DP_SH_CONTROLLER).unwrap();
    let dpsh = concat!(env!("CARGO_MANIFEST_DIR"), "/initramfs/rootfs/lib/dp/dp.sh");
    let tags = dir.join("tags");
    let dump = dir.join("statedump");
    let _d = Spawn::new(&["-S", &sock])
        .env("DPSH", dpsh)
        .env("DP_TAGS_DIR", &tags)
        .env("DP_STATE_FILE", &dump)
        .dir(dir)
        .start();
    // dpctl does not wait for the socket to appear.
    drop(Client::connect(&sock));
    let run = |args: &[&str]| {
        let mut all = vec!["-S", sock.as_str()];
        all.extend_from_slice(args);
        dpctl_env(&all, &[])
    };
    let raw = |name: &str, kind: &str| -> String {
        let out = run(&["status", "--raw", name]).out;
        let prefix = format!("service.{kind}\t{name}\t");
        out.lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
            .unwrap_or_default()
    };
    let state = |name: &str| {
        raw(name, "state")
            .split('\t')
            .next()
            .unwrap_or("")
            .to_string()
    };
    // The controller holds one slot; every dpctl call takes the other.
    run(&[
        "send",
        &format!("service.args\\tcontroller\\t/bin/sh\\t{script}"),
        "service.fds\\tcontroller\\tcontrol.event\\tcontrol.cmd\\tstderr",
        "service.args\\tweb\\t/bin/sleep\\t100",
    ])
    .ok();
    run(&["start", "controller"]).ok();
    run(&["start", "web"]).ok();

    let pid_of = |name: &str| -> i32 {
        raw(name, "state")
            .split('\t')
            .nth(2)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    };
    // A crash: restarted, and recorded for dpctl status.
    let pid = pid_of("web");
    assert!(pid > 0);
    kill(pid, libc::SIGKILL);
    wait_for("the controller to restart web", || {
        state("web") == "up" && pid_of("web") != pid
    });
    assert_eq!(raw("web", "tags"), "restarts=1\tlast=signal:SIGKILL");
    let table = run(&["status", "web"]).out;
    assert!(
        table.contains("restarts 1, last killed by SIGKILL"),
        "{table}"
    );
    // The first crash may come while the controller is still starting (it
    // then sees it in its statedump); this one comes once it listens.
    // Either way a crash counts once.
    let pid = pid_of("web");
    kill(pid, libc::SIGKILL);
    wait_for("the controller to restart web again", || {
        state("web") == "up" && pid_of("web") != pid
    });
    assert_eq!(raw("web", "tags"), "restarts=2\tlast=signal:SIGKILL");

    // A start scheduled for a service held down is cancelled. The
    // controller handles events in order: once it has cancelled one, it
    // has handled every event before it.
    let cancels_start = |name: &str| {
        let ts = mono_now() + 100;
        run(&["send", &format!("service.start\\t{name}\\t{ts}")]).ok();
        wait_for("the controller to cancel the start", || {
            raw(name, "state") == "down\t-\t-\t-\t-\t-\t-"
        });
    };
    run(&["send", "service.args\\tprobe\\t/bin/true"]).ok();
    run(&["stop", "probe"]).ok();

    // Stop sticks; start and restart are not crashes.
    run(&["stop", "web"]).ok();
    cancels_start("probe");
    assert_eq!(state("web"), "down");
    run(&["start", "web"]).ok();
    assert_eq!(raw("web", "tags"), "");
    run(&["restart", "web"]).ok();
    cancels_start("probe");
    assert_eq!(state("web"), "up");
    assert_eq!(raw("web", "tags"), "");

    run(&["stop", "web"]).ok();
    cancels_start("web");
}
