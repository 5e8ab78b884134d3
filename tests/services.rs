//! Services: configuration commands (§4.3–§4.7), events (§5.1), launching
//! and the child environment (§6), auto_up (§6.5) and the pool (§6.9).

use crate::util::*;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

/// Configures NAME with ARGS (TSV) and the given fds, starts it and returns
/// the PID from its `up` event.
fn start(d: &mut Daemon, name: &str, args: &str) -> i32 {
    d.send(&format!("service.args\t{name}\t{args}"));
    d.send(&format!("service.start\t{name}"));
    let up = d.recv_state(name, "up");
    up[4].parse().expect("pid")
}

/// Waits for the service's `down` event and returns (reason, value).
fn down(d: &mut Daemon, name: &str) -> (String, String) {
    let f = d.recv_state(name, "down");
    (f[5].clone(), f[6].clone())
}

#[test]
fn args_tags_fds_broadcasts() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(
        d.cmd("service.args\ts\t/bin/true\ta\t\tb"),
        ["service.args\ts\t/bin/true\ta\t\tb"]
    );
    assert_eq!(d.cmd("service.args\ts"), ["service.args\ts\t"]);
    assert_eq!(d.cmd("service.args\ts\t"), ["service.args\ts\t"]);
    assert_eq!(
        d.cmd("service.tags\ts\tx\ty=1"),
        ["service.tags\ts\tx\ty=1"]
    );
    assert_eq!(d.cmd("service.tags\ts"), ["service.tags\ts\t"]);
    assert_eq!(d.cmd("service.tags\ts\t"), ["service.tags\ts\t"]);
    assert_eq!(
        d.cmd("service.fds\ts\tnull\tnull\tnull"),
        ["service.fds\ts\tnull\tnull\tnull"]
    );
    assert_eq!(
        d.cmd("service.fds\ts\tnull\tstderr\tcontrol.event"),
        ["service.fds\ts\tnull\tstderr\tcontrol.event"]
    );
    assert_eq!(d.cmd("service.fds\ts"), ["service.fds\ts\t"]);
    // Whether the empty text counts as one empty (undefined) field is not
    // pinned down; only the broadcast is.
    let out = d.cmd("service.fds\ts\t");
    assert_eq!(out.last().map(String::as_str), Some("service.fds\ts\t"));
    assert!(
        out[..out.len() - 1]
            .iter()
            .all(|l| l == "warning: fd \"\" is not yet defined"),
        "{out:?}"
    );
}

#[test]
fn fds_warn_about_undefined_names() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(
        d.cmd("service.fds\ts\tstderr\tlater\tnull"),
        [
            "warning: fd \"later\" is not yet defined",
            "service.fds\ts\tstderr\tlater\tnull"
        ]
    );
    assert_eq!(
        d.cmd("service.fds\ts\t-\t\tnull"),
        [
            "warning: fd \"-\" is not yet defined",
            "warning: fd \"\" is not yet defined",
            "service.fds\ts\t-\t\tnull"
        ]
    );
    d.cmd_err("service.fds\ts\tnull\tbad/name", "invalid fd name");
    d.cmd_err(
        &format!("service.fds\ts\t{}", "f".repeat(32)),
        "invalid fd name",
    );
    // Once defined, no warning.
    d.cmd("fd.open\tlater\tread\t/dev/null");
    assert_eq!(d.cmd("service.fds\ts\tlater"), ["service.fds\ts\tlater"]);
}

/// Names are checked one by one: the names before an invalid one are
/// still warned about, then the command fails, as in the original.
#[test]
fn fds_warn_before_an_invalid_name() {
    let mut d = Daemon::interactive(&[]);
    let line = "service.fds\ts3\tf2\tsk\ta/b";
    assert_eq!(
        d.cmd(line),
        [
            "warning: fd \"f2\" is not yet defined".to_string(),
            "warning: fd \"sk\" is not yet defined".to_string(),
            err_line(line, "invalid fd name"),
        ]
    );
    // Nothing was stored: the service still has the default list.
    let dump = d.statedump();
    assert!(
        dump.contains(&"service.fds\ts3\tnull\tnull\tnull".to_string()),
        "{dump:?}"
    );
}

#[test]
fn service_name_validation() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_err("service.args\tbad name", "Invalid service name");
    d.cmd_err("service.tags\tbad/name", "Invalid service name");
    let long = "s".repeat(32);
    d.cmd_err(
        &format!("service.args\t{long}\t/bin/true"),
        "Invalid service name",
    );
    let ok = "A-z_0.9".repeat(4) + "xyz";
    assert_eq!(ok.len(), 31);
    assert_eq!(
        d.cmd(&format!("service.args\t{ok}\t/bin/true")),
        [format!("service.args\t{ok}\t/bin/true")]
    );
    d.cmd_err("service.start", "Expected service name");
    d.cmd_err("service.start\tnosuch", "No such service");
    d.cmd_err("service.signal\tnosuch\tTERM", "No such service");
    d.cmd_err("service.delete\tnosuch", "No such service");
}

#[test]
fn new_service_in_statedump() {
    let mut d = Daemon::interactive(&[]);
    // Creating a service emits no service.state event.
    assert_eq!(
        d.cmd("service.args\ts\t/bin/true"),
        ["service.args\ts\t/bin/true"]
    );
    let dump = d.statedump();
    let svc: Vec<_> = dump.iter().filter(|l| !l.starts_with("fd.state")).collect();
    assert_eq!(
        svc,
        [
            "service.state\ts\tdown\t-\t-\t-\t-\t-\t-",
            "service.tags\ts\t",
            "service.args\ts\t/bin/true",
            "service.fds\ts\tnull\tnull\tnull",
            "service.auto_up\ts\t-",
        ]
    );
}

#[test]
fn start_up_down_exit_code() {
    let mut d = Daemon::interactive(&[]);
    d.send("service.args\ts\t/bin/sh\t-c\tsleep 0.2; exit 7");
    let before = mono_now();
    d.send("service.start\ts");
    let start = d.recv_state("s", "start");
    let ts: i64 = start[3].parse().unwrap();
    assert!(before <= ts && ts <= mono_now(), "start TS {ts}");
    assert_eq!(&start[4..], ["-", "-", "-", "-", "-"]);
    let up = d.recv_state("s", "up");
    let pid = &up[4];
    assert!(pid.parse::<i32>().unwrap() > 0);
    assert_eq!(&up[5..], ["-", "-", "0", "-"]);
    let dn = d.recv_state("s", "down");
    assert_eq!(&dn[4], pid);
    assert_eq!(&dn[5..7], ["exit", "7"]);
    assert_eq!(dn[8], "0", "downtime is 0 in the live event");
    let uptime: i64 = dn[7].parse().unwrap();
    assert!((0..=2).contains(&uptime));
    // The statedump shows the same down state.
    let dump = d.statedump();
    let st = dump
        .iter()
        .find(|l| l.starts_with("service.state\ts\t"))
        .unwrap();
    assert!(st.starts_with(&format!(
        "service.state\ts\tdown\t{}\t{pid}\texit\t7\t",
        dn[3]
    )));
}

#[test]
fn killed_by_signal() {
    let mut d = Daemon::interactive(&[]);
    let pid = start(&mut d, "s", "sleep\t100");
    assert!(pid_alive(pid));
    d.send_then(
        "service.signal\ts\tSIGTERM",
        Prefix("service.state\ts\tdown"),
    );
    let dump = d.statedump();
    assert!(
        dump.iter()
            .any(|l| l.starts_with("service.state\ts\tdown\t")
                && l.contains(&format!("\t{pid}\tsignal\tSIGTERM\t"))),
        "{dump:?}"
    );
    d.cmd_err("service.signal\ts\tSIGTERM", "service is not running");
}

#[test]
fn signal_names_numbers_and_unknown() {
    let mut d = Daemon::interactive(&[]);
    // SIGSYS is 31 but on MIPS (12, where 31 is SIGXFSZ).
    let sys = target_signo(libc::SIGSYS).to_string();
    for (sig, expect) in [
        ("QUIT", "SIGQUIT"),
        ("9", "SIGKILL"),
        ("SIGUSR2", "SIGUSR2"),
        ("IOT", "SIGABRT"),
        ("POLL", "SIGIO"),
        (&sys, "SIGSYS"),
        ("34", "SIG-?"),
    ] {
        start(&mut d, "s", "sleep\t100");
        let dn = d.send_then(
            &format!("service.signal\ts\t{sig}"),
            Prefix("service.state\ts\tdown\t"),
        );
        assert_eq!(&fields(&dn)[5..7], ["signal", expect], "{sig}");
    }
}

#[test]
fn service_signal_argument_errors() {
    let mut d = Daemon::interactive(&[]);
    let pid = start(&mut d, "s", "sleep\t100");
    d.cmd_err("service.signal\ts", "Expected signal argument");
    d.cmd_err("service.signal\ts\t", "Expected signal argument");
    d.cmd_err("service.signal\ts\t99999", "Invalid signal number");
    d.cmd_err("service.signal\ts\t1x", "Invalid signal number");
    d.cmd_err("service.signal\ts\tTERM\tbogus", "unknown option \"bogus\"");
    d.cmd_err("service.signal\ts\tTERM\tgroup,", "unknown option \"\"");
    d.cmd_err("service.signal\ts\tTERM\t", "unknown option \"\"");
    // An unknown name is signal 0: no error, and the service lives on.
    d.cmd_quiet("service.signal\ts\tSIGBOGUS");
    // The service is not a process group leader.
    d.cmd_err(
        "service.signal\ts\tTERM\tgroup",
        &format!("can't kill s (pgid {pid}): No such process"),
    );
    // Nothing was sent to it: the next signal is the one that ends it.
    let dn = d.send_then(
        "service.signal\ts\tSIGTERM",
        Prefix("service.state\ts\tdown\t"),
    );
    assert_eq!(&fields(&dn)[4..7], [&pid.to_string(), "signal", "SIGTERM"]);
}

#[test]
fn group_signal_reaches_a_group_leader() {
    let mut d = Daemon::interactive(&[]);
    // setsid(1) makes the (non-leader) service a group leader and execs.
    let pid = start(&mut d, "g", "setsid\tsleep\t100");
    wait_for("service becomes a group leader", || {
        proc_stat(pid).get(2) == Some(&pid.to_string())
    });
    let dn = d.send_then(
        "service.signal\tg\tSIGTERM\tgroup",
        Prefix("service.state\tg\tdown\t"),
    );
    assert_eq!(&fields(&dn)[5..7], ["signal", "SIGTERM"]);
}

#[test]
fn exec_failure_exits_3() {
    let mut d = Daemon::interactive(&[]);
    d.send("service.fds\ts\tnull\tnull\tstderr");
    start(&mut d, "s", "/nonexistent/prog\targ");
    assert_eq!(down(&mut d, "s"), ("exit".into(), "3".into()));
    d.stderr_contains("error: exec(/nonexistent/prog, ...) failed: No such file or directory\n");
}

/// A program name without a slash is searched in the daemon's PATH as
/// execvp does it (§6.3): entries that do not have it (ENOENT, ENOTDIR) or
/// may not run it (EACCES) are skipped; an empty entry is the working
/// directory; EACCES is reported when no entry worked but one gave it.
#[test]
fn program_is_searched_in_path() {
    let dir = TempDir::new();
    let script = |path: &str, mode: u32, code: i32| {
        std::fs::write(path, format!("#!/bin/sh\nexit {code}\n")).unwrap();
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    };
    let (a, b) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    script(&format!("{a}/prog"), 0o644, 5);
    script(&format!("{b}/prog"), 0o755, 7);
    script(&format!("{a}/noexec"), 0o644, 5);
    script(&dir.join("here"), 0o755, 9);
    let path = format!("/nonexistent:{a}/prog:{a}:{b}:");
    let mut d = Spawn::new(&["-i"]).dir(dir).env("PATH", &path).start();
    d.sync();
    d.send("service.fds\ts\tnull\tnull\tstderr");
    for (prog, code) in [
        ("prog", "7"),
        ("here", "9"),
        ("noexec", "3"),
        ("nowhere", "3"),
    ] {
        start(&mut d, "s", prog);
        assert_eq!(down(&mut d, "s"), ("exit".into(), code.into()), "{prog}");
    }
    d.stderr_contains("error: exec(noexec, ...) failed: Permission denied\n");
    d.stderr_contains("error: exec(nowhere, ...) failed: No such file or directory\n");
}

/// Out of descriptors, the child cannot lay out its fds list. It does not
/// run the service with a descriptor missing: it fails as a failed exec
/// does, exit 3 with a message.
#[test]
fn fd_layout_failure_exits_3() {
    let mut d = Spawn::new(&["-i"]).nofile(32).start();
    d.sync();
    d.send("service.fds\ts\tnull\tstderr\tstderr");
    for k in 0..40 {
        d.send(&format!("fd.open\tx{k}\tread\t/dev/null"));
    }
    d.sync();
    start(&mut d, "s", "/bin/true");
    assert_eq!(down(&mut d, "s"), ("exit".into(), "3".into()));
    d.stderr_contains("error: can't set up file descriptor 1: Too many open files\n");
}

#[test]
fn missing_fd_aborts_the_child() {
    let mut d = Daemon::interactive(&[]);
    d.send("service.fds\ts\tnull\tnosuchfd\tnull");
    start(&mut d, "s", "/bin/true");
    assert_eq!(down(&mut d, "s"), ("signal".into(), "SIGABRT".into()));
}

#[test]
fn path_lookup_for_argv0() {
    let mut d = Daemon::interactive(&[]);
    start(&mut d, "s", "sh\t-c\texit 9");
    assert_eq!(down(&mut d, "s"), ("exit".into(), "9".into()));
}

/// Script that prints the open fd numbers 0..63 of the shell.
const LIST_FDS: &str =
    "for i in $(seq 0 63); do if [ -e /proc/$$/fd/$i ]; then printf '%s ' $i; fi; done";

#[test]
fn service_sees_exactly_its_fds() {
    let mut d = Daemon::interactive(&[]);
    let fifo = d.path("out.fifo");
    mkfifo(&fifo);
    let mut reader = open_nonblock_read(&fifo);
    // Give the daemon plenty of other descriptors that must not leak.
    d.cmd("fd.pipe\tp.r\tp.w");
    d.cmd("fd.open\textra\tread\t/dev/null");
    d.cmd(&format!(
        "fd.socket\tsock\tunix,listen\t{}",
        d.path("s.sock")
    ));
    let out = d.cmd(&format!("fd.open\tout\twrite\t{fifo}"));
    assert_eq!(out, [format!("fd.state\tout\tfile\twrite\t{fifo}")]);
    d.send("service.fds\ts\tnull\tout\tnull");
    start(&mut d, "s", &format!("/bin/sh\t-c\t{LIST_FDS}; echo END"));
    let got = read_until_contains(&mut reader, "END");
    assert_eq!(got, "0 1 2 END\n");
    assert_eq!(down(&mut d, "s"), ("exit".into(), "0".into()));
}

#[test]
fn fd_sources_are_saved_before_being_overwritten() {
    // Position 2 becomes /dev/null before position 3 is set up from the
    // daemon's fd 2 (stderr): the source must have been saved first.
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.fds\ts\tnull\tnull\tnull\tstderr");
    start(&mut d, "s", "/bin/sh\t-c\techo via-fd-3 >&3");
    assert_eq!(down(&mut d, "s"), ("exit".into(), "0".into()));
    d.stderr_contains("via-fd-3\n");
}

#[test]
fn explicitly_empty_fds_means_no_descriptors() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.fds\ts");
    start(
        &mut d,
        "s",
        "/bin/sh\t-c\tfor i in 0 1 2 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$i ] && exit 1; done; exit 5",
    );
    assert_eq!(down(&mut d, "s"), ("exit".into(), "5".into()));
}

#[test]
fn default_fds_are_dev_null() {
    let mut d = Daemon::interactive(&[]);
    start(
        &mut d,
        "s",
        "/bin/sh\t-c\tfor i in 0 1 2; do [ \"$(readlink /proc/$$/fd/$i)\" = /dev/null ] || exit 1; done; [ -e /proc/$$/fd/3 ] && exit 2; exit 5",
    );
    assert_eq!(down(&mut d, "s"), ("exit".into(), "5".into()));
}

#[test]
fn dash_leaves_an_fd_closed() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.fds\ts\t-\tnull\tnull");
    start(
        &mut d,
        "s",
        "/bin/sh\t-c\t[ -e /proc/$$/fd/0 ] && exit 1; [ -e /proc/$$/fd/2 ] || exit 2; exit 5",
    );
    assert_eq!(down(&mut d, "s"), ("exit".into(), "5".into()));
}

#[test]
fn child_environment() {
    let mut d = Daemon::interactive(&[]);
    let out = d.path("env.out");
    d.cmd(&format!("fd.open\tout\twrite,create,trunc\t{out}"));
    d.send("service.fds\ts\tnull\tout\tnull");
    // umask 077, empty signal mask, same process group and session as the
    // daemon, and the daemon's environment.
    start(
        &mut d,
        "s",
        "/bin/sh\t-c\tumask; grep '^SigBlk' /proc/self/status; ps -o pgid= -o sid= -p $$ 2>/dev/null || cut -d' ' -f5,6 /proc/$$/stat; echo \"path=$PATH\"",
    );
    assert_eq!(down(&mut d, "s"), ("exit".into(), "0".into()));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "0077");
    assert_eq!(lines[1].split_whitespace().nth(1), Some("0000000000000000"));
    let ids: Vec<&str> = lines[2].split_whitespace().collect();
    let st = proc_stat(d.pid());
    assert_eq!(
        ids,
        [st[2].as_str(), st[3].as_str()],
        "pgid and sid of the daemon"
    );
    assert_eq!(
        lines[3],
        format!("path={}", std::env::var("PATH").unwrap_or_default())
    );
}

#[test]
fn statedump_shows_uptime_and_downtime() {
    let mut d = Daemon::interactive(&[]);
    start(&mut d, "s", "sleep\t1.3");
    let dn = d.recv_state("s", "down");
    assert_eq!(&dn[5..7], ["exit", "0"]);
    assert!(
        ["1", "2"].contains(&dn[7].as_str()),
        "uptime {} for a 1.3 s run",
        dn[7]
    );
    // Time itself is measured: the downtime must reach a whole second.
    sleep(Duration::from_millis(1100));
    let dump = d.statedump();
    let st = dump
        .iter()
        .find(|l| l.starts_with("service.state\ts\t"))
        .unwrap();
    let f = fields(st);
    assert_eq!(&f[2..8], &dn[2..8], "{st}");
    assert!(f[8].parse::<i64>().unwrap() >= 1, "downtime: {st}");
}

#[test]
fn delayed_start() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\t/bin/true");
    let ts = mono_now() + 2;
    d.send(&format!("service.start\ts\t{ts}"));
    let st = d.recv_state("s", "start");
    assert_eq!(st[3], ts.to_string());
    assert_eq!(
        d.statedump()
            .iter()
            .filter(|l| l.contains("\tup\t"))
            .count(),
        0
    );
    let up = d.recv_state("s", "up");
    assert!(mono_now() >= ts, "started early");
    let up_ts: i64 = up[3].parse().unwrap();
    assert!(up_ts >= ts, "up TS {up_ts}, scheduled {ts}");
    down(&mut d, "s");
}

#[test]
fn cancel_pending_start() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\t/bin/true");
    let ts = mono_now() + 30;
    assert_eq!(
        d.cmd(&format!("service.start\ts\t{ts}")),
        [format!("service.state\ts\tstart\t{ts}\t-\t-\t-\t-\t-")]
    );
    assert_eq!(
        d.cmd("service.start\ts\t-"),
        ["service.state\ts\tdown\t-\t-\t-\t-\t-\t-"]
    );
    d.cmd_err("service.start\ts\t-", "no service.start pending");
    let dump = d.statedump();
    assert!(dump.contains(&"service.state\ts\tdown\t-\t-\t-\t-\t-\t-".to_string()));
}

#[test]
fn restart_pending_without_ts_is_immediate() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\tsleep\t100");
    let ts = mono_now() + 100;
    d.cmd(&format!("service.start\ts\t{ts}"));
    // Rescheduling a pending service to a nearer future time.
    let ts2 = mono_now() + 50;
    assert_eq!(
        d.cmd(&format!("service.start\ts\t{ts2}")),
        [format!("service.state\ts\tstart\t{ts2}\t-\t-\t-\t-\t-")]
    );
    d.send("service.start\ts");
    let st = d.recv_state("s", "start");
    assert!(st[3].parse::<i64>().unwrap() <= mono_now());
    d.recv_state("s", "up");
    d.cmd_err("service.start\ts", "service is not startable");
}

#[test]
fn invalid_timestamps() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\t/bin/true");
    d.cmd_err("service.start\ts\t5", "invalid timestamp");
    d.cmd_err("service.start\ts\t-5", "invalid timestamp");
    d.cmd_err("service.start\ts\tsoon", "invalid timestamp");
    d.cmd_err(
        &format!("service.start\ts\t{}", mono_now() - 2),
        "invalid timestamp",
    );
}

#[test]
fn start_needs_args() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.tags\ts\tx");
    d.cmd_err("service.start\ts", "no args configured for service");
    d.cmd("service.args\ts\t\t/bin/true");
    d.cmd_err("service.start\ts", "no args configured for service");
    d.cmd("service.args\ts\t/bin/true");
    d.send("service.start\ts");
    d.recv_state("s", "up");
}

#[test]
fn running_service_is_not_startable() {
    let mut d = Daemon::interactive(&[]);
    start(&mut d, "s", "sleep\t100");
    d.cmd_err("service.start\ts", "service is not startable");
    d.cmd_err(
        &format!("service.start\ts\t{}", mono_now() + 10),
        "service is not startable",
    );
}

#[test]
fn auto_up_always_restarts_after_interval() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\t/bin/true");
    d.send("service.auto_up\ts\t1\talways");
    // The start broadcast comes before the auto_up broadcast.
    let st = d.recv_ok(Prefix("service.state\ts\tstart\t"));
    let mark = d.out.mark();
    d.recv_ok("service.auto_up\ts\t1\talways");
    assert!(d.out.since(mark).is_empty(), "{st}");
    let dn = d.recv_state("s", "down");
    assert_eq!(&dn[5..7], ["exit", "0"]);
    // It ran for less than the interval: restart at reap + 1 s.
    let again = d.recv_state("s", "start");
    assert_eq!(
        again[3].parse::<i64>().unwrap(),
        dn[3].parse::<i64>().unwrap() + 1
    );
    let up2 = d.recv_state("s", "up");
    assert!(up2[3].parse::<i64>().unwrap() > dn[3].parse::<i64>().unwrap());
    // Turning it off: an empty trigger list.
    d.send_then("service.auto_up\ts\t1", "service.auto_up\ts\t-");
}

#[test]
fn auto_up_validation_and_display() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(d.cmd("service.auto_up\tn\t-"), ["service.auto_up\tn\t-"]);
    d.cmd_err("service.auto_up\tn\t0\talways", "invalid interval");
    d.cmd_err("service.auto_up\tn\t-1", "invalid interval");
    d.cmd_err("service.auto_up\tn\t2147483648", "invalid interval");
    d.cmd_err("service.auto_up\tn\tx", "Expected integer");
    d.cmd_err("service.auto_up\tn", "Expected integer");
    d.cmd_err(
        "service.auto_up\tn\t5\tbogus",
        "unable to set auto_up triggers",
    );
    d.cmd_err(
        "service.auto_up\tn\t5\tHUP\tSIGNOPE",
        "unable to set auto_up triggers",
    );
    // The interval of the failed command was applied anyway.
    assert_eq!(
        d.cmd("service.auto_up\tn\t-\tSIGUSR2\tHUP"),
        ["service.auto_up\tn\t5\tSIGUSR2\tHUP"]
    );
    assert_eq!(
        d.cmd("service.auto_up\tn\t2147483647\tTERM"),
        ["service.auto_up\tn\t2147483647\tTERM"]
    );
    let dump = d.statedump();
    assert!(dump.contains(&"service.auto_up\tn\t2147483647\tTERM".to_string()));
    assert_eq!(d.cmd("service.auto_up\tn\t5"), ["service.auto_up\tn\t-"]);
    assert_eq!(d.cmd("service.auto_up\tn\t-"), ["service.auto_up\tn\t-"]);
}

#[test]
fn auto_up_on_a_running_service_is_silent() {
    let mut d = Daemon::interactive(&[]);
    start(&mut d, "s", "sleep\t100");
    assert_eq!(
        d.cmd("service.auto_up\ts\t10\talways"),
        ["service.auto_up\ts\t10\talways"]
    );
}

#[test]
fn auto_up_signal_trigger() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\tsleep\t100");
    assert_eq!(
        d.cmd("service.auto_up\ts\t1000\tSIGUSR1"),
        ["service.auto_up\ts\t1000\tSIGUSR1"]
    );
    let mark = d.out.mark();
    d.signal(libc::SIGUSR1);
    d.recv_state("s", "up");
    d.sync();
    let seen = &d.out.seen()[mark..];
    assert!(
        seen.iter().any(|l| l.starts_with("signal\tSIGUSR1\t")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.starts_with("service.state\ts\tstart\t")),
        "{seen:?}"
    );
    // Level-triggered: after an exit, the still-pending signal restarts it,
    // after the interval since the run was short.
    d.send("service.signal\ts\tKILL");
    let dn = d.recv_state("s", "down");
    let st = d.recv_state("s", "start");
    assert_eq!(
        st[3].parse::<i64>().unwrap(),
        dn[3].parse::<i64>().unwrap() + 1000
    );
    // Start it right away, clear the signal: no more restarts.
    d.send("service.start\ts");
    d.recv_state("s", "up");
    d.cmd_quiet("signal.clear\tSIGUSR1\t1");
    d.send("service.signal\ts\tKILL");
    d.recv_state("s", "down");
    let after = d.sync();
    assert!(
        !after
            .iter()
            .any(|l| l.starts_with("service.state\ts\tstart")),
        "{after:?}"
    );
}

#[test]
fn setting_triggers_starts_if_signal_pending() {
    let mut d = Daemon::interactive(&[]);
    d.signal(libc::SIGUSR2);
    d.recv_ok(Prefix("signal\tSIGUSR2\t"));
    d.cmd("service.args\tt\tsleep\t100");
    d.send("service.auto_up\tt\t1000\tUSR2");
    d.recv_state("t", "start");
    let mark = d.out.mark();
    d.recv_ok("service.auto_up\tt\t1000\tUSR2");
    assert!(d.out.since(mark).is_empty(), "start comes before auto_up");
    d.recv_state("t", "up");
}

#[test]
fn delete_never_run_service() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\t/bin/true");
    d.cmd("service.tags\ts\told");
    assert_eq!(
        d.cmd("service.delete\ts"),
        ["service.state\ts\tdeleted\t-\t-\t-\t-\t-\t-"]
    );
    assert!(!d.statedump().iter().any(|l| l.contains("\ts\t")));
    d.cmd_err("service.delete\ts", "No such service");
    // The name can be used again, with fresh state.
    d.cmd("service.args\ts\t/bin/false");
    let dump = d.statedump();
    assert!(dump.contains(&"service.tags\ts\t".to_string()), "{dump:?}");
}

#[test]
fn delete_running_service_is_refused() {
    let mut d = Daemon::interactive(&[]);
    start(&mut d, "s", "sleep\t100");
    d.cmd_err("service.delete\ts", "service is running");
}

#[test]
fn delete_exited_service() {
    // Recommended (§4.7): only a really running service is refused.
    let mut d = Daemon::interactive(&[]);
    start(&mut d, "s", "/bin/true");
    down(&mut d, "s");
    assert_eq!(
        d.cmd("service.delete\ts"),
        ["service.state\ts\tdeleted\t-\t-\t-\t-\t-\t-"]
    );
}

#[test]
fn delete_pending_service_cancels_start() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\t/bin/true");
    let ts = mono_now() + 2;
    d.cmd(&format!("service.start\ts\t{ts}"));
    assert_eq!(
        d.cmd("service.delete\ts"),
        ["service.state\ts\tdeleted\t-\t-\t-\t-\t-\t-"]
    );
    // The start was due at TS; the loop starts due services before it runs
    // commands, so an echo sent once TS has passed comes after any start.
    wait_for("TS to pass", || mono_now() > ts);
    let out = d.sync();
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn service_pool_limit() {
    let mut d = Daemon::interactive(&["--service-pool", "2"]);
    d.cmd("service.args\tservice1\t/bin/true");
    d.cmd("service.args\tservice2\t/bin/true");
    d.cmd_err(
        "service.args\tservice7\t/bin/true",
        "Unable to allocate new service",
    );
    assert_eq!(
        err_line(
            "service.args\tservice7\t/bin/true",
            "Unable to allocate new service"
        ),
        "error\tUnable to allocate new service, for command \"service.args\tservice7\t/bin/tru...\""
    );
    d.cmd_err("service.tags\tservice8", "Unable to allocate new service");
    d.cmd_err(
        "service.auto_up\tservice8\t1",
        "Unable to allocate new service",
    );
    // Existing services still work; deleting one frees its slot.
    d.cmd("service.delete\tservice1");
    assert_eq!(
        d.cmd("service.args\tservice7\t/bin/true"),
        ["service.args\tservice7\t/bin/true"]
    );
}

#[test]
fn service_data_limit_in_pool_mode() {
    let mut d = Daemon::interactive(&["--service-pool", "2x64"]);
    let big = "a".repeat(200);
    d.cmd_err(&format!("service.args\ts\t{big}"), "unable to set argv");
    d.cmd_err(&format!("service.tags\ts\t{big}"), "unable to set tags");
    d.cmd_err(
        &format!("service.fds\ts\t{}", ["null"; 40].join("\t")),
        "unable to set file descriptors",
    );
    d.cmd_err(
        &format!("service.auto_up\ts\t5\t{}", ["always"; 30].join("\t")),
        "unable to set auto_up triggers",
    );
    // Still alive, and small values fit.
    assert_eq!(d.cmd("echo\talive"), ["alive"]);
    assert_eq!(
        d.cmd("service.args\ts\t/bin/true"),
        ["service.args\ts\t/bin/true"]
    );
    d.send("service.start\ts");
    assert_eq!(down(&mut d, "s"), ("exit".into(), "0".into()));
}

#[test]
fn services_sort_by_name_in_statedump() {
    let mut d = Daemon::interactive(&[]);
    let names = [
        "b", "B", "_x", "a-1", "a.1", "a1", "a", "ab", "-z", ".z", "9",
    ];
    for n in names {
        d.cmd(&format!("service.args\t{n}\t/bin/true"));
    }
    let dump = d.statedump();
    let got: Vec<&str> = dump
        .iter()
        .filter(|l| l.starts_with("service.state\t"))
        .map(|l| fields(l)[1])
        .collect();
    let mut want = names.to_vec();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(want[0], "-z");
}

/// Not PID 1, daemonproxy is a child subreaper: a service's orphans are
/// reparented to it and reaped when they exit, so no zombie is left.
#[test]
fn orphans_reparent_to_the_daemon_and_are_reaped() {
    let dir = TempDir::new();
    let mut d = Daemon::interactive(&[]);
    let file = dir.join("orphan.pid");
    start(
        &mut d,
        "forker",
        &format!("/bin/sh\t-c\t(sleep 3 & echo $! >{file}.tmp; mv {file}.tmp {file}); exit 0"),
    );
    assert_eq!(down(&mut d, "forker"), ("exit".into(), "0".into()));
    let text = file_contains(Path::new(&file), "\n");
    let orphan: i32 = text.trim().parse().expect("orphan pid");
    let stat = proc_stat(orphan);
    assert_eq!(stat[1], d.pid().to_string(), "orphan's parent");
    // Gone entirely, not a zombie waiting for a parent that never reaps.
    wait_for("the orphan to be reaped", || {
        std::fs::metadata(format!("/proc/{orphan}")).is_err()
    });
    assert_eq!(d.cmd("echo\tstill here"), ["still here"]);
}

/// The daemon waits for a starting service's process until it execs, so
/// that process must not block on a full log pipe: its message (here, a
/// missing fd) is dropped instead, and the daemon goes on.
#[test]
fn full_log_pipe_does_not_stall_a_start() {
    // The log goes to stderr, a blocking pipe nobody reads: fill it with
    // failed commands' log records (about 200 bytes each).
    let mut d = Spawn::new(&["-i"]).stderr_unread().start();
    let long = "x".repeat(80);
    for _ in 0..600 {
        d.send(&format!("fd.open\tf\tread\t/nonexistent/{long}"));
    }
    d.cmd("echo\tfilled");
    d.send("service.fds\ts\tnull\tnosuchfd\tnull");
    d.send("service.args\ts\t/bin/true");
    d.send("service.start\ts");
    assert_eq!(down(&mut d, "s"), ("signal".into(), "SIGABRT".into()));
    d.cmd("echo\tstill here");
}

/// A failed exec is reported on the child's own fd 2 (its `service.fds`
/// third entry), wherever the daemon's log goes (§6.3).
#[test]
fn exec_failure_goes_to_the_services_fd_2() {
    let mut d = Daemon::interactive(&[]);
    d.log_to_file("log", "log.txt");
    d.send("service.fds\ts\tnull\tnull\tstderr");
    start(&mut d, "s", "/nonexistent/prog");
    assert_eq!(down(&mut d, "s"), ("exit".into(), "3".into()));
    d.stderr_contains("error: exec(/nonexistent/prog, ...) failed: No such file or directory\n");
}

/// A service whose program lies on a filesystem that stops answering (a
/// hung NFS or FUSE mount): its process hangs in exec, and the daemon must
/// not wait for it (PID 1 never waits on a child). It keeps answering,
/// reaps other children, and reports the service down once the mount is
/// aborted.
#[test]
fn hung_exec_does_not_block_the_daemon() {
    let dir = TempDir::new();
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let Some(spawn) = Spawn::new(&["-i"]).on_hung_fuse(&mnt) else {
        eprintln!("SKIPPED: needs /dev/fuse and mount namespaces (unshare -m)");
        return;
    };
    let mut d = spawn.dir(dir).start();
    d.sync();
    let pid = start(&mut d, "hung", &format!("{mnt}/prog"));
    // The child sleeps in execve (it makes no other blocking call); the
    // daemon answers at once.
    wait_for("the child to hang in exec", || {
        matches!(proc_stat(pid)[0].as_str(), "S" | "D")
    });
    d.sync();
    start(&mut d, "other", "/bin/true");
    assert_eq!(down(&mut d, "other"), ("exit".into(), "0".into()));
    // Abort the FUSE connection from inside the namespace: the exec fails.
    start(
        &mut d,
        "abort",
        "/bin/sh\t-c\tmount -t fusectl none /sys/fs/fuse/connections 2>/dev/null; \
         for f in /sys/fs/fuse/connections/*/abort; do echo 1 >$f; done",
    );
    assert_eq!(down(&mut d, "hung"), ("exit".into(), "3".into()));
    d.stderr_contains(&format!(
        "error: service 'hung': exec {mnt}/prog: Transport endpoint is not connected\n"
    ));
}
