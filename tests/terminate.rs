//! Termination: terminate (§11.1), the guard (§11.2, §4.22), exec-on-exit
//! (§11.3, §4.21) and the exit paths (§11.4, §3.6).

use crate::util::*;
use std::path::Path;

#[test]
fn terminate_with_codes() {
    for (code, status) in [("0", 0), ("3", 3), ("300", 44), ("-1", 255)] {
        let mut d = Daemon::interactive(&[]);
        d.send(&format!("terminate\t{code}"));
        d.exit_is(status);
        d.stderr_contains("info: daemonproxy exiting\n");
    }
}

/// `terminate` ends the loop after the current pass (§11.1), and the
/// original's pass runs about 3 lines of a controller (§8.7): the rest of
/// that short batch still runs, its replies and events sent before the
/// exit, and nothing after it.
#[test]
fn terminate_finishes_the_pass() {
    let mut d = Daemon::interactive(&[]);
    d.write_raw(b"terminate\t0\necho\tafter\nservice.args\tq\t/bin/true\necho\tnot-run\n")
        .unwrap();
    d.exit_is(0);
    assert_eq!(
        d.out.drain_to_eof(),
        ["after", "service.args\tq\t/bin/true"]
    );
    // Second in its pass, one line after it still runs.
    let mut d = Daemon::interactive(&[]);
    d.write_raw(b"echo\ta\nterminate\t0\necho\tb\necho\tc\n")
        .unwrap();
    d.exit_is(0);
    assert_eq!(d.out.drain_to_eof(), ["a", "b"]);
    // Fourth line: the first of the next pass, two lines after it run.
    let mut d = Daemon::interactive(&[]);
    d.write_raw(b"echo\ta\necho\tb\necho\tc\nterminate\t0\necho\td\necho\te\necho\tf\n")
        .unwrap();
    d.exit_is(0);
    assert_eq!(d.out.drain_to_eof(), ["a", "b", "c", "d", "e"]);
    // A statedump takes two lines' worth of a pass.
    let mut d = Daemon::interactive(&[]);
    d.write_raw(b"statedump\nterminate\t0\necho\tnot-run\n")
        .unwrap();
    d.exit_is(0);
    let out = d.out.drain_to_eof();
    assert!(!out.is_empty());
    assert!(out.iter().all(|l| l.starts_with("fd.state\t")), "{out:?}");
    // One right after terminate is sent whole, and ends the pass.
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\ts\t/bin/true");
    d.write_raw(b"terminate\t0\nstatedump\necho\tnot-run\n")
        .unwrap();
    d.exit_is(0);
    let out = d.out.drain_to_eof();
    assert!(
        out.contains(&"service.auto_up\ts\t-".to_string()),
        "{out:?}"
    );
    assert!(!out.contains(&"not-run".to_string()), "{out:?}");
}

/// An `exit` in the same pass as `terminate` ends the session, and the
/// daemon still exits with terminate's code.
#[test]
fn exit_after_terminate_keeps_its_code() {
    let mut d = Daemon::interactive(&[]);
    d.write_raw(b"terminate\t4\nexit\n").unwrap();
    d.exit_is(4);
    assert_eq!(
        d.stderr_text(),
        "info: interactive session ended\ninfo: daemonproxy exiting\n"
    );
}

#[test]
fn terminate_needs_an_integer() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_err("terminate", "Expected integer");
    d.cmd_err("terminate\tx", "Expected integer");
    d.cmd_err("terminate\t+1", "Expected integer");
    d.cmd_err("terminate\t", "Expected integer");
    assert!(d.running());
    // Without a guard, extra fields are ignored.
    d.send("terminate\t5\tignored\tfields");
    d.exit_is(5);
}

#[test]
fn terminate_flushes_queued_output() {
    let mut d = Daemon::interactive(&[]);
    d.write_raw(b"echo\tbye\nterminate\t0\n").unwrap();
    d.recv_ok("bye");
    d.exit_is(0);
}

#[test]
fn guard_blocks_terminate() {
    let mut d = Daemon::interactive(&["--exit-guard", "54321"]);
    assert_eq!(
        d.cmd("terminate\t0"),
        ["error\tterminate guard code required, for command \"terminate\t0\""]
    );
    d.cmd_err("terminate\t0\t1", "incorrect terminate guard code");
    d.cmd_err(
        "terminate\t0\t54321",
        "cannot exit, and exec-on-exit is not configured",
    );
    d.cmd_quiet("terminate.guard\t-\t54321");
    d.send("terminate\t0");
    d.exit_is(0);
}

#[test]
fn terminate_guard_command() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_err("terminate.guard", "expected + or -");
    d.cmd_err("terminate.guard\tx\t1", "expected + or -");
    d.cmd_err("terminate.guard\t++\t1", "expected + or -");
    d.cmd_err("terminate.guard\t+", "Expected integer");
    d.cmd_err("terminate.guard\t+\tx", "Expected integer");
    d.cmd_err("terminate.guard\t+\t0", "code cannot be 0");
    d.cmd_err("terminate.guard\t-\t5", "terminate guard was not set");
    d.cmd_quiet("terminate.guard\t+\t5");
    d.cmd_err(
        "terminate.guard\t+\t6",
        "terminate guard code is already set",
    );
    d.cmd_err("terminate\t0", "terminate guard code required");
    d.cmd_err("terminate.guard\t-\t6", "incorrect guard code");
    d.cmd_quiet("terminate.guard\t-\t5");
    d.cmd_err("terminate.guard\t-\t5", "terminate guard was not set");
    // A negative code is fine.
    d.cmd_quiet("terminate.guard\t+\t-2");
    d.cmd_quiet("terminate.guard\t-\t-2");
    d.send("terminate\t7");
    d.exit_is(7);
}

/// `terminate.exec_args` that records the environment as `CODE:ERROR|`.
fn exec_args_cmd(out: &str) -> String {
    format!("terminate.exec_args\t{}", exit_exec_recorder(out))
}

#[test]
fn guarded_terminate_execs() {
    let mut d = Daemon::interactive(&["--exit-guard", "7"]);
    let out = d.path("exec.out");
    d.cmd_quiet(&exec_args_cmd(&out));
    d.send("terminate\t5\t7");
    d.exit_is(42);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "5:terminated normally|"
    );
    d.stderr_contains("warning: daemonproxy exec_on_exit to '/bin/sh'\n");
}

#[test]
fn terminate_execs_with_command_line_exec_args() {
    let dir = TempDir::new();
    let out = dir.join("exec.out");
    let arg = exit_exec_recorder(&out);
    let mut d = Daemon::interactive_in(dir, &["-E", &arg]);
    d.send("terminate\t7");
    d.exit_is(42);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "7:terminated normally|"
    );
}

/// DAEMONPROXY_EXITCODE is the code as a C int in decimal: a negative one
/// keeps its sign.
#[test]
fn exec_on_exit_code_keeps_its_sign() {
    let mut d = Daemon::interactive(&[]);
    let out = d.path("exec.out");
    d.cmd_quiet(&exec_args_cmd(&out));
    d.send("terminate\t-1");
    d.exit_is(42);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "-1:terminated normally|"
    );
}

/// The exec-on-exit program gets the daemon's whole environment, a large
/// one too, plus the two variables (§11.3 step 1.1).
#[test]
fn exec_on_exit_keeps_a_large_environment() {
    for count in [600, 2_000, 20_000] {
        let mut spawn = Spawn::new(&["-i"]);
        for k in 0..count {
            spawn = spawn.env(&format!("ZV{k}"), "x");
        }
        let mut d = spawn.start();
        d.sync();
        let out = d.path("env.out");
        d.cmd_quiet(&format!(
            "terminate.exec_args\t/bin/sh\t-c\tenv | grep -c ^ZV >{out}; \
             env | grep -c ^DAEMONPROXY_EXITCODE=7$ >>{out}; exit 42"
        ));
        d.send("terminate\t7");
        d.exit_is(42);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            format!("{count}\n1\n")
        );
    }
}

/// The exec-on-exit program inherits the named descriptors, whether a
/// `terminate` or a fatal signal (whose handler cannot use the daemon's
/// tables) ends the daemon (§11.3 step 1.4).
#[test]
fn exec_on_exit_inherits_descriptors_and_umask() {
    for by_signal in [false, true] {
        let mut d = Daemon::interactive(&[]);
        let out = d.path("umask.out");
        d.cmd(&format!("fd.open\tkeep\twrite,create\t{out}"));
        // fd 1 is still the interactive output pipe; the named fd is
        // inherited too (found through /proc since its number is not known
        // here).
        d.cmd_quiet(&format!(
            "terminate.exec_args\t/bin/sh\t-c\techo from-exec; for f in /proc/$$/fd/*; do [ \"$(readlink $f)\" = {out} ] && umask >$f; done; exit 42"
        ));
        if by_signal {
            d.signal(libc::SIGSEGV);
        } else {
            d.send("terminate\t0");
        }
        d.recv_ok("from-exec");
        d.exit_is(42);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "0077\n",
            "by signal: {by_signal}"
        );
    }
}

#[test]
fn exec_args_trailing_tab_adds_an_empty_argument() {
    for (tail, argc) in [
        ("", "0"),
        ("\tzero", "0"),
        ("\tzero\t", "1"),
        ("\tzero\t\t", "2"),
    ] {
        let mut d = Daemon::interactive(&[]);
        let out = d.path("argc.out");
        d.cmd_quiet(&format!(
            "terminate.exec_args\t/bin/sh\t-c\techo $# >{out}; exit 42{tail}"
        ));
        d.send("terminate\t0");
        d.exit_is(42);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            format!("{argc}\n"),
            "{tail:?}"
        );
    }
}

#[test]
fn exec_args_limits_and_reset() {
    let mut d = Daemon::interactive(&[]);
    let long = format!("/bin/sh\t-c\texit 42 #{}", "x".repeat(300));
    d.cmd_err(
        &format!("terminate.exec_args\t{}", &long[..256]),
        "exec arguments exceed buffer size (255)",
    );
    d.cmd_quiet(&format!("terminate.exec_args\t{}", &long[..255]));
    // Empty text switches it off again.
    d.cmd_quiet("terminate.exec_args");
    d.send("terminate\t3");
    d.exit_is(3);
}

#[test]
fn exec_args_empty_field_form_switches_off() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_quiet("terminate.exec_args\t/bin/sh\t-c\texit 42");
    d.cmd_quiet("terminate.exec_args\t");
    d.send("terminate\t4");
    d.exit_is(4);
}

/// terminate with exec-on-exit is fatal(CODE, "terminated normally"): when
/// the exec fails, that is logged as fatal and the daemon exits there,
/// with no `daemonproxy exiting`, as in the original.
#[test]
fn failed_exec_still_exits_with_code() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_quiet("terminate.exec_args\t/nonexistent/rescue\targ");
    d.send("terminate\t9");
    d.exit_is(9);
    assert_eq!(
        d.stderr_text(),
        "warning: daemonproxy exec_on_exit to '/nonexistent/rescue'\n\
         error: Unable to exec \"/nonexistent/rescue\": No such file or directory\n\
         fatal: terminated normally\n"
    );
}

/// The same with `-E` naming a missing program, and the running services
/// listed before the exec and again before the exit.
#[test]
fn failed_command_line_exec_logs_fatal() {
    let mut d = Daemon::interactive(&["-E", "/nonexistent/prog"]);
    d.cmd("service.args\ts\tsleep\t100");
    d.send("service.start\ts");
    let pid = d.recv_state("s", "up")[4].clone();
    d.send("terminate\t3");
    d.exit_is(3);
    let running = format!("warning: service 's' running as pid {pid}\n");
    assert_eq!(
        d.stderr_text(),
        format!(
            "warning: daemonproxy exec_on_exit to '/nonexistent/prog'\n\
             {running}\
             error: Unable to exec \"/nonexistent/prog\": No such file or directory\n\
             fatal: terminated normally\n\
             {running}"
        )
    );
}

/// With the guard set, fatal() returns after the failed exec: the message
/// says so, and the normal end follows.
#[test]
fn failed_guarded_exec_continues_to_the_normal_end() {
    let mut d = Daemon::interactive(&["--exit-guard", "7", "-E", "/nonexistent/prog"]);
    d.send("terminate\t3\t7");
    d.exit_is(3);
    assert_eq!(
        d.stderr_text(),
        "warning: daemonproxy exec_on_exit to '/nonexistent/prog'\n\
         error: Unable to exec \"/nonexistent/prog\": No such file or directory\n\
         fatal: (attempting to continue) terminated normally\n\
         info: daemonproxy exiting\n"
    );
}

#[test]
fn running_services_are_reported_and_left_running() {
    let mut d = Daemon::interactive(&[]);
    let mut pids = Vec::new();
    for name in ["zz", "aa"] {
        d.cmd(&format!("service.args\t{name}\tsleep\t100"));
        d.send(&format!("service.start\t{name}"));
        let up = d.recv_state(name, "up");
        pids.push(up[4].parse::<i32>().unwrap());
    }
    d.send("terminate\t0");
    d.exit_is(0);
    let err = d.stderr_contains(&format!(
        "warning: service 'zz' running as pid {}\n",
        pids[0]
    ));
    let a = err
        .find(&format!(
            "warning: service 'aa' running as pid {}\n",
            pids[1]
        ))
        .expect("aa reported");
    let z = err.find("warning: service 'zz'").unwrap();
    assert!(a < z, "name order: {err}");
    assert!(err.find("info: daemonproxy exiting\n").unwrap() < a);
    // Services are not killed: the daemon is gone, so a signal it sent is
    // pending on the service or has begun to end it.
    for pid in pids {
        assert!(not_signalled(pid), "service {pid} was signalled");
    }
}

/// The process exists, is not exiting (nor a zombie) and has no signal
/// pending (`/proc/PID/stat` flags, `/proc/PID/status` SigPnd and ShdPnd).
fn not_signalled(pid: i32) -> bool {
    const PF_EXITING: u64 = 0x4;
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let st = proc_stat(pid);
    let flags: u64 = st[6].parse().unwrap();
    let pending = status
        .lines()
        .filter(|l| l.starts_with("SigPnd:") || l.starts_with("ShdPnd:"))
        .any(|l| !l[7..].trim().trim_start_matches('0').is_empty());
    st[0] != "Z" && flags & PF_EXITING == 0 && !pending
}

#[test]
fn exited_services_are_not_reported() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.args\tquick\t/bin/true");
    d.send("service.start\tquick");
    d.recv_state("quick", "down");
    d.send("terminate\t0");
    d.exit_is(0);
    assert!(!d.stderr_text().contains("warning: service 'quick'"));
}

#[test]
fn interactive_eof_exits_0() {
    let mut d = Daemon::interactive(&[]);
    d.close_stdin();
    d.exit_is(0);
    let err = d.stderr_contains("info: daemonproxy exiting\n");
    let a = err.find("info: interactive session ended\n").unwrap();
    assert!(a < err.find("info: daemonproxy exiting\n").unwrap());
}

#[test]
fn interactive_eof_drops_partial_line() {
    let mut d = Daemon::interactive(&[]);
    d.write_raw(b"echo\tcomplete\necho\tpartial").unwrap();
    d.recv_ok("complete");
    d.close_stdin();
    d.exit_is(0);
    assert!(!d.out.seen().iter().any(|l| l.contains("partial")));
    d.stderr_contains("warning: Command ends with EOF... ignored\n");
}

#[test]
fn interactive_eof_with_exec_on_exit() {
    let dir = TempDir::new();
    let out = dir.join("exec.out");
    let arg = exit_exec_recorder(&out);
    let mut d = Daemon::interactive_in(dir, &["-E", &arg]);
    d.close_stdin();
    d.exit_is(42);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "0:terminated normally|"
    );
}

/// A guarded EOF logs only the warning, not `interactive session ended`
/// as well: the original logs one or the other.
#[test]
fn guarded_eof_logs_one_warning() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["--exit-guard", "3", "-S", &sock]);
    d.close_stdin();
    d.stderr_contains("not exiting due to terminate-guard\n");
    // A record logged after the EOF was handled: whatever the EOF logged
    // comes before it.
    Client::connect(&sock).cmd("after-eof");
    let text = d.stderr_contains(" sent unknown command after-eof\n");
    assert!(d.running());
    let rest = text
        .strip_prefix(
            "warning: interactive session ended, but not exiting due to terminate-guard\n",
        )
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        rest.starts_with("error: controller[") && rest.lines().count() == 1,
        "{text}"
    );
}

#[test]
fn interactive_eof_with_guard_keeps_running() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["--exit-guard", "3", "-S", &sock]);
    d.close_stdin();
    d.stderr_contains(
        "warning: interactive session ended, but not exiting due to terminate-guard\n",
    );
    let mut c = Client::connect(&sock);
    assert_eq!(c.cmd("echo\tstill-running"), ["still-running"]);
    assert!(d.running());
    c.send("terminate\t1\t3");
    c.recv_ok(Prefix(
        "error\tcannot exit, and exec-on-exit is not configured",
    ));
}

#[test]
fn control_socket_path_survives_exit() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["-S", &sock]);
    d.send("terminate\t0");
    d.exit_is(0);
    assert!(Path::new(&sock).exists());
}

/// Reading stops at `terminate`: what follows it in the input is left for
/// the exec-on-exit program to read, apart from the rest of the read that
/// brought the command (at most the 1024-byte receive buffer).
#[test]
fn input_after_terminate_is_left_unread() {
    let dir = TempDir::new();
    let input = dir.join("in.txt");
    let out = dir.join("rest.txt");
    let mut text = String::from("terminate\t0\n");
    for i in 0..2000 {
        text.push_str(&format!("echo\tline{i:05}\n"));
    }
    std::fs::write(&input, &text).unwrap();
    let mut child = std::process::Command::new(bin())
        .args(["-i", "-E", &format!("/bin/sh\t-c\tcat >{out}")])
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the exec-on-exit program to finish", || {
        child.try_wait().unwrap().is_some()
    });
    let rest = std::fs::read_to_string(&out).unwrap();
    assert!(
        rest.len() + 1024 >= text.len(),
        "{} of {} bytes were left after terminate",
        rest.len(),
        text.len()
    );
    assert!(text.ends_with(&rest));
}
