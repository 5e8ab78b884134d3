//! Command line (§1), exit codes (§1.5), exec-on-exit from fatal paths
//! (§11.3), daemonize (§1.7) and fatal signals (§9.1).

use crate::util::*;
use std::io::Read;
use std::process::{Command, Stdio};

const HELP_REST: &str = "\
options:
  -c --config       FILENAME  Read command stream from FILENAME at startup
  -i --interactive            Use STDIN+STDOUT as a controller communication pipe
  -S --socket       PATH      Listen on PATH for controller connections
     --socket-admit UID|:GID  Admit this uid (or :group) to the control socket
  -D --daemonize              Fork into the background
     --exit-guard   INTEGER   Guard against accidental termination
  -E --exit-exec    TSV_ARGS  exec() args in any trappable exit scenario
     --fd-pool      N[xM]     Pre-allocate N named handles [of M bytes each]
     --service-pool N[xM]     Pre-allocate N services [of M bytes each]
  -M --mlockall               Call mlockall() after allocating structures
  -v --verbose                Enable another level of logging output
  -q --quiet                  Suppress another level of logging output
  -h --help                   Quick usage synopsis
     --version                Print complete version information
     --check                  Check the -c file's commands, run nothing, exit

";

const EXIT42: &str = "/bin/sh\t-c\texit 42";

fn assert_help(f: &Finished) {
    f.assert_code(1);
    let (first, rest) = f.stdout.split_once('\n').expect("help output");
    assert!(
        first.starts_with("daemonproxy version 1.1.0"),
        "first line: {first:?}"
    );
    assert_eq!(rest, HELP_REST);
    assert!(!f.stderr.contains("fatal"), "stderr: {}", f.stderr);
}

#[test]
fn help_long_prints_usage_and_exits_1() {
    assert_help(&run(&["--help"]));
}

#[test]
fn help_short_prints_usage_and_exits_1() {
    assert_help(&run(&["-h"]));
}

#[test]
fn help_takes_effect_where_it_appears() {
    // Options are processed left to right: the later unknown option is never
    // reached, and a later -E does not apply.
    assert_help(&run(&["--help", "-X"]));
    assert_help(&run(&["--help", "-E", EXIT42]));
}

#[test]
fn version_first_line_and_exit_1() {
    let f = run(&["--version"]);
    f.assert_code(1);
    let first = f.stdout.lines().next().unwrap_or("");
    assert!(
        first.starts_with("daemonproxy version 1.1.0"),
        "first line: {first:?}"
    );
    assert!(!f.stderr.contains("fatal"), "stderr: {}", f.stderr);
}

fn assert_fatal(args: &[&str], code: i32, msg: &str) -> Finished {
    let f = run(args);
    f.assert_code(code);
    assert!(
        f.stderr.contains(&format!("fatal: {msg}\n")),
        "args {args:?}: expected fatal {msg:?}; stderr:\n{}",
        f.stderr
    );
    f
}

#[test]
fn unknown_short_option() {
    assert_fatal(&["-X"], 2, "Unknown option -X  (see --help)");
    assert_fatal(&["-i", "-X"], 2, "Unknown option -X  (see --help)");
    // In a cluster, letters are handled one by one.
    assert_fatal(&["-vZ"], 2, "Unknown option -Z  (see --help)");
}

#[test]
fn unknown_long_options() {
    assert_fatal(&["--foo"], 2, "Unknown option --foo  (see --help)");
    assert_fatal(
        &["--config=x"],
        2,
        "Unknown option --config=x  (see --help)",
    );
    assert_fatal(&["--"], 2, "Unknown option --  (see --help)");
    // Long names must match exactly.
    assert_fatal(
        &["--interactiv"],
        2,
        "Unknown option --interactiv  (see --help)",
    );
}

#[test]
fn bare_dash_is_ignored() {
    assert_help(&run(&["-", "--help"]));
    assert_fatal(&["-", "-X"], 2, "Unknown option -X  (see --help)");
}

#[test]
fn missing_option_argument() {
    assert_fatal(&["-c"], 2, "Missing argument for -c");
    assert_fatal(&["--config"], 2, "Missing argument for --config");
    assert_fatal(&["-i", "-S"], 2, "Missing argument for -S");
    assert_fatal(&["--exit-guard"], 2, "Missing argument for --exit-guard");
    assert_fatal(&["-E"], 2, "Missing argument for -E");
    assert_fatal(&["--fd-pool"], 2, "Missing argument for --fd-pool");
}

#[test]
fn unexpected_argument_message_ends_in_newline() {
    let f = assert_fatal(&["-i", "foo"], 2, "Unexpected argument \"foo\"");
    assert!(
        f.stderr.contains("fatal: Unexpected argument \"foo\"\n\n"),
        "the message itself ends in LF: {:?}",
        f.stderr
    );
}

#[test]
fn a_mode_is_required() {
    assert_fatal(&[], 2, "require -i or -c or -S");
    assert_fatal(&["-v", "-q"], 2, "require -i or -c or -S");
}

#[test]
fn interactive_with_config_stdin_is_rejected() {
    let f = assert_fatal(&["-i", "-c", "-"], 3, "Unable to process config file");
    assert!(
        f.stderr.contains("error: stdin not available\n"),
        "{}",
        f.stderr
    );
}

#[test]
fn clustered_options_take_successive_arguments() {
    // `-ic -` is -i plus `-c -`.
    let f = assert_fatal(&["-ic", "-"], 3, "Unable to process config file");
    assert!(
        f.stderr.contains("error: stdin not available\n"),
        "{}",
        f.stderr
    );
    // `-cS FILE PATH`: -c takes FILE, -S takes PATH.
    assert_fatal(
        &["-cS", "/nonexistent/cfg", "/nonexistent/sock"],
        2,
        "Cannot stat configfile \"/nonexistent/cfg\"",
    );
}

#[test]
fn config_file_must_exist() {
    assert_fatal(
        &["-c", "/nonexistent/dp.conf"],
        2,
        "Cannot stat configfile \"/nonexistent/dp.conf\"",
    );
}

#[test]
fn exit_guard_must_be_an_integer() {
    for bad in ["abc", "12x", "1 2", "0x10"] {
        assert_fatal(
            &["--exit-guard", bad, "-i"],
            2,
            "Terminate guard must be an integer",
        );
    }
}

#[test]
fn exit_guard_zero_and_empty_disable_the_guard() {
    // With guard 0 (or empty = 0) EOF on the interactive stream exits 0.
    for g in ["0", ""] {
        let f = run(&["--exit-guard", g, "-i"]);
        f.assert_code(0);
        assert!(f.stderr.contains("info: interactive session ended\n"));
    }
}

#[test]
fn exit_guard_accepts_blanks_and_sign() {
    for g in [" 5", "-3", "+7"] {
        let dir = TempDir::new();
        let sock = dir.join("ctl.sock");
        let mut d = Daemon::interactive_in(dir, &["--exit-guard", g, "-S", &sock]);
        d.close_stdin();
        d.stderr_contains(
            "warning: interactive session ended, but not exiting due to terminate-guard\n",
        );
        // The loop goes on past the EOF: a client is answered.
        Client::connect(&sock).sync();
        assert!(d.running(), "guard {g:?}: daemon exited after EOF");
    }
}

#[test]
fn exit_exec_too_long() {
    let long = format!("/bin/sh\t-c\texit 42 #{}", "x".repeat(256));
    assert_fatal(
        &["-E", &long[..256], "-i"],
        2,
        "exec-on-exit arguments exceed buffer size",
    );
    // 255 bytes fits: --help then execs it.
    let f = run(&["-E", &long[..255], "--help"]);
    f.assert_code(42);
}

#[test]
fn pool_syntax_errors() {
    let msg = "Expected 'N' or 'NxM' where N and M are integers and M has an optional size suffix";
    for bad in ["abc", "10y", "10x5Q", "10x5T", "10x1kk", "1.5"] {
        assert_fatal(&["--fd-pool", bad, "-i"], 2, msg);
        assert_fatal(&["--service-pool", bad, "-i"], 2, msg);
    }
}

/// Runs `-i ARGS` to EOF and returns stderr (exit must be 0).
fn warnings_of(args: &[&str]) -> String {
    let mut all = vec!["-i"];
    all.extend_from_slice(args);
    let f = run(&all);
    f.assert_code(0);
    f.stderr
}

const FD_MIN: &str = "warning: At least 7 fd objects required; using minimum\n";
const FD_MAX: &str =
    "warning: fd pool size exceeds max number of allowed file descriptors; limiting to 1024\n";
const FD_SMALL: &str = "warning: fd obj size increased to minimum of 32\n";
const FD_BIG: &str = "warning: fd obj size limited to maximum of 4096\n";
const SVC_MIN: &str = "warning: At least 1 service objects required; using minimum\n";
const SVC_MAX: &str = "warning: service pool size exceeds maximum; limiting to 65535\n";
const SVC_SMALL: &str = "warning: servce obj size increased to minimum of 64\n";

#[test]
fn fd_pool_clamping_warnings() {
    assert!(warnings_of(&["--fd-pool", "1"]).contains(FD_MIN));
    assert!(warnings_of(&["--fd-pool", "-5"]).contains(FD_MIN));
    assert!(warnings_of(&["--fd-pool", "2000"]).contains(FD_MAX));
    assert!(warnings_of(&["--fd-pool", "10x8"]).contains(FD_SMALL));
    assert!(warnings_of(&["--fd-pool", "10x1M"]).contains(FD_BIG));
    let both = warnings_of(&["--fd-pool", "1x8"]);
    let (a, b) = (both.find(FD_MIN), both.find(FD_SMALL));
    assert!(
        a.is_some() && b.is_some() && a < b,
        "count warning first: {both}"
    );
    let quiet = warnings_of(&["--fd-pool", "7x32"]);
    assert!(!quiet.contains("warning"), "{quiet}");
    let quiet = warnings_of(&["--fd-pool", "1024x4096"]);
    assert!(!quiet.contains("warning"), "{quiet}");
}

#[test]
fn fd_pool_size_suffixes() {
    // k/K/KiB are powers of 1024, KB powers of 1000.
    for ok in [
        "10x4k", "10x4K", "10x4KiB", "10x4KB", "10x4000b", "10x4096B", "10x",
    ] {
        let s = warnings_of(&["--fd-pool", ok]);
        assert!(!s.contains("warning"), "{ok}: {s}");
    }
    for big in [
        "10x5k", "10x5KB", "10x4097", "10x1m", "10x1MB", "10x1g", "10x1GiB",
    ] {
        let s = warnings_of(&["--fd-pool", big]);
        assert!(s.contains(FD_BIG), "{big}: {s}");
    }
}

#[test]
fn service_pool_clamping_warnings() {
    assert!(warnings_of(&["--service-pool", "0"]).contains(SVC_MIN));
    assert!(warnings_of(&["--service-pool", "-3"]).contains(SVC_MIN));
    assert!(warnings_of(&["--service-pool", "70000x64"]).contains(SVC_MAX));
    assert!(warnings_of(&["--service-pool", "1x10"]).contains(SVC_SMALL));
    let both = warnings_of(&["--service-pool", "0x10"]);
    let (a, b) = (both.find(SVC_MIN), both.find(SVC_SMALL));
    assert!(
        a.is_some() && b.is_some() && a < b,
        "count warning first: {both}"
    );
    let quiet = warnings_of(&["--service-pool", "1x64"]);
    assert!(!quiet.contains("warning"), "{quiet}");
    // No maximum object size.
    let quiet = warnings_of(&["--service-pool", "2x1M"]);
    assert!(!quiet.contains("warning"), "{quiet}");
}

/// Runs with the recording exec-on-exit and returns (status, recorded text).
fn exec_on_exit(args: &[&str]) -> (Finished, String) {
    let dir = TempDir::new();
    let out = dir.join("exec.out");
    let arg = exit_exec_recorder(&out);
    let mut all = vec!["-E", arg.as_str()];
    all.extend_from_slice(args);
    let f = run_in(dir, &all);
    let rec = std::fs::read_to_string(f.dir.path().join("exec.out")).unwrap_or_default();
    (f, rec)
}

#[test]
fn exec_on_exit_for_version_and_help() {
    for opt in ["--version", "--help"] {
        let f = run(&["--exit-exec", EXIT42, opt]);
        f.assert_code(42);
        let (f, rec) = exec_on_exit(&[opt]);
        f.assert_code(42);
        assert_eq!(rec, "1:|", "{opt}");
        assert!(
            f.stderr
                .contains("warning: daemonproxy exec_on_exit to '/bin/sh'\n"),
            "{}",
            f.stderr
        );
    }
}

#[test]
fn exec_on_exit_for_unknown_option() {
    run(&["-E", EXIT42, "-X"]).assert_code(42);
    let (f, rec) = exec_on_exit(&["-X"]);
    f.assert_code(42);
    assert_eq!(rec, "2:Unknown option -X  (see --help)|");
}

#[test]
fn exec_on_exit_for_missing_config() {
    run(&["-E", EXIT42, "-c", "/nonexistent/x.conf"]).assert_code(42);
    let (f, rec) = exec_on_exit(&["-c", "/nonexistent/x.conf"]);
    f.assert_code(42);
    assert_eq!(rec, "2:Cannot stat configfile \"/nonexistent/x.conf\"|");
}

#[test]
fn exec_on_exit_for_missing_mode() {
    run(&["-E", EXIT42]).assert_code(42);
    let (f, rec) = exec_on_exit(&[]);
    f.assert_code(42);
    assert_eq!(rec, "2:require -i or -c or -S|");
}

#[test]
fn exec_on_exit_for_unexpected_argument_keeps_newline() {
    let (f, rec) = exec_on_exit(&["-i", "bogus"]);
    f.assert_code(42);
    assert_eq!(rec, "2:Unexpected argument \"bogus\"\n|");
}

#[test]
fn exec_on_exit_failure_falls_back_to_exit_code() {
    let f = run(&["-E", "/nonexistent/rescue", "-X"]);
    f.assert_code(2);
    assert!(
        f.stderr
            .contains("error: Unable to exec \"/nonexistent/rescue\": No such file or directory\n"),
        "{}",
        f.stderr
    );
    assert!(
        f.stderr
            .contains("fatal: Unknown option -X  (see --help)\n")
    );
}

#[test]
fn exec_on_exit_after_sigill_via_terminate_exec_args() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_quiet("terminate.exec_args\tperl\t-e\texit 42");
    d.signal(libc::SIGILL);
    d.exit_is(42);
}

const FATAL_SIGNALS: [(i32, &str); 6] = [
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGABRT, "SIGABRT"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGFPE, "SIGFPE"),
    (libc::SIGTRAP, "SIGTRAP"),
];

#[test]
fn fatal_signals_exit_4() {
    for (sig, name) in FATAL_SIGNALS {
        let mut d = Daemon::interactive(&[]);
        d.signal(sig);
        d.exit_is(4);
        let n = target_signo(sig);
        d.stderr_contains(&format!("fatal: Received signal {name} ({n})\n"));
    }
}

#[test]
fn fatal_signals_exec_on_exit_with_code_4() {
    for (sig, name) in FATAL_SIGNALS {
        let dir = TempDir::new();
        let out = dir.join("exec.out");
        let arg = exit_exec_recorder(&out);
        let mut d = Daemon::interactive_in(dir, &["-E", &arg]);
        d.signal(sig);
        d.exit_is(42);
        let rec = std::fs::read_to_string(&out).unwrap();
        let n = target_signo(sig);
        assert_eq!(rec, format!("4:Received signal {name} ({n})|"));
    }
}

#[test]
fn fatal_signal_with_guard_continues() {
    let mut d = Daemon::interactive(&["--exit-guard", "9"]);
    d.signal(libc::SIGSEGV);
    d.stderr_contains("fatal: (attempting to continue) Received signal SIGSEGV (11)\n");
    d.sync();
    assert!(d.running());
}

#[test]
fn verbose_shows_command_debug_lines() {
    let mut d = Daemon::interactive(&["-v"]);
    d.cmd("statedump");
    d.stderr_contains("debug: controller[0] command: \"statedump\"\n");
}

#[test]
fn default_filter_hides_debug_lines() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("statedump");
    d.send("bogus-marker");
    d.recv_ok(Prefix("error\tUnknown command: bogus-marker"));
    let s = d.stderr_contains("sent unknown command bogus-marker\n");
    assert!(!s.contains("debug:"), "{s}");
}

#[test]
fn quiet_hides_info_messages() {
    let f = run(&["-i"]);
    f.assert_code(0);
    assert!(
        f.stderr.contains("info: interactive session ended\n"),
        "{}",
        f.stderr
    );
    assert!(
        f.stderr.contains("info: daemonproxy exiting\n"),
        "{}",
        f.stderr
    );
    let f = run(&["-q", "-i"]);
    f.assert_code(0);
    assert!(!f.stderr.contains("info:"), "{}", f.stderr);
    // -v then -q is back at the default.
    let f = run(&["-vq", "-i"]);
    f.assert_code(0);
    assert!(
        f.stderr.contains("info: interactive session ended\n"),
        "{}",
        f.stderr
    );
}

#[test]
fn mlockall_failure_is_not_fatal() {
    let mut d = Daemon::interactive(&["-M"]);
    d.sync();
    assert!(d.running());
    let err = d.stderr_text();
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    let locked = status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .map(|v| v.trim() != "0 kB")
        .unwrap_or(false);
    assert!(
        locked || err.contains("error: mlockall: "),
        "neither locked nor an error logged: {err}"
    );
}

/// (VmLck, VmRSS) of a process, in kB.
fn locked_and_resident(pid: i32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = |key: &str| {
        let v = status.lines().find_map(|l| l.strip_prefix(key)).unwrap();
        v.trim().trim_end_matches(" kB").parse::<u64>().unwrap()
    };
    (kb("VmLck:"), kb("VmRSS:"))
}

/// `-M` locks what is in use, not what the default pools reserve (several
/// megabytes): everything resident is locked, and the pools' pages are
/// locked as they come into use.
#[test]
fn mlockall_locks_what_is_in_use() {
    let mut d = Daemon::interactive(&["-M"]);
    d.sync();
    if d.stderr_text().contains("error: mlockall: ") {
        eprintln!("skipped: mlockall is not permitted here");
        return;
    }
    let (locked, resident) = locked_and_resident(d.pid());
    assert!(locked < 1024, "{locked} kB locked at startup");
    assert!(
        resident - locked <= 64,
        "{resident} kB resident, {locked} kB locked"
    );
    let mut batch = String::new();
    for n in 0..2000 {
        batch += &format!("service.args\ts{n}\t/bin/true\t{}\n", "a".repeat(300));
        batch += &format!("fd.open\tf{}\tread\t/dev/null\n", n % 500);
    }
    d.write_raw(batch.as_bytes()).unwrap();
    d.sync();
    let (grown, resident) = locked_and_resident(d.pid());
    assert!(
        grown > locked + 400,
        "{grown} kB locked after 2000 services"
    );
    assert!(
        resident - grown <= 64,
        "{resident} kB resident, {grown} kB locked"
    );
}

#[test]
fn daemonize_with_interactive_is_ignored() {
    let mut d = Daemon::interactive(&["-D"]);
    d.stderr_contains("warning: Ignoring --daemonize (see manual)\n");
    d.sync();
    assert!(d.running());
}

/// Kills a daemonized process on drop.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // SAFETY: plain syscall.
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
        }
    }
}

#[test]
fn daemonize_prints_pid_and_becomes_session_leader() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut cmd = Command::new(bin());
    cmd.args(["-D", "-S", &sock])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    only_std_fds(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    // Both pipes reach EOF: the parent exited and the child closed fds 1 and 2.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        let _ = tx.send((1, s));
    });
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        let _ = tx2.send((2, s));
    });
    let mut printed = String::new();
    for _ in 0..2 {
        let (which, text) = rx
            .recv_timeout(TIMEOUT)
            .expect("stdout and stderr reach EOF");
        if which == 1 {
            printed = text;
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        !printed.ends_with('\n'),
        "no newline after the PID: {printed:?}"
    );
    let pid: i32 = printed.parse().expect("stdout is the PID");
    let _guard = KillOnDrop(pid);
    assert_ne!(pid, child.id() as i32);
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm, "daemonproxy\n");
    // setsid() comes right after the fds are closed (§1.7 steps 3-4).
    // Fields after comm: state ppid pgrp session ...
    wait_for("sid and pgid to equal the pid", || {
        let st = proc_stat(pid);
        st[2] == pid.to_string() && st[3] == pid.to_string()
    });
    // The daemon still serves its control socket.
    let mut c = Client::connect(&sock);
    c.send("echo\tdaemonized");
    c.recv_ok("daemonized");
    // The forked daemon, not its exited parent, owns the signal handlers:
    // children are reaped and signals are reported, more than once.
    c.send("service.args\tt\t/bin/true");
    c.send("service.start\tt");
    c.recv_state("t", "down");
    for count in 1..=2 {
        kill(pid, libc::SIGUSR1);
        let ev = c.recv_ok(Where(|l: &str| l.starts_with("signal\tSIGUSR1\t")));
        assert!(ev.ends_with(&format!("\t{count}")), "{ev}");
    }
    assert!(pid_alive(pid));
}

/// A child process, killed and reaped on drop.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A daemon started with stdin and stdout closed still has both names
/// (§2 step 8), each a dup of /dev/null on its own number: nothing the
/// daemon opens later lands there, and no number is registered twice.
#[test]
fn closed_standard_fds_become_dev_null() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut cmd = Command::new(bin());
    cmd.args(["-S", &sock])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    only_std_fds(&mut cmd);
    // SAFETY: close is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::close(0);
            libc::close(1);
            Ok(())
        });
    }
    let child = Reaped(cmd.spawn().unwrap());
    let mut c = Client::connect(&sock);
    let fds: Vec<String> = c
        .statedump()
        .into_iter()
        .filter(|l| l.starts_with("fd.state\t"))
        .collect();
    for name in ["stdin", "stdout"] {
        let want = format!("fd.state\t{name}\tfile\tread,write\tunknown");
        assert!(fds.contains(&want), "{fds:?}");
    }
    assert!(
        !fds.iter().any(|l| l.starts_with("fd.state\tfd_")),
        "{fds:?}"
    );
    for n in [0, 1] {
        let target = std::fs::read_link(format!("/proc/{}/fd/{n}", child.0.id())).unwrap();
        assert_eq!(target, std::path::Path::new("/dev/null"));
    }
}

/// The writable segment (data and .bss) must lie within one page: link.ld
/// places it right after the hot text, and an idle daemon should dirty one
/// page for it, not two. This fails when the hot text grows to end in the
/// last ~1 KiB of a page; move rarely run code to cold (README, "Memory
/// model") to fix it.
#[test]
fn writable_segment_lies_in_one_page() {
    let elf = std::fs::read(bin()).expect("read the binary");
    assert_eq!(&elf[..4], b"\x7fELF");
    // Every target is little-endian; ELF32 (armv7, mipsel under
    // `make test-arch`) and ELF64 differ in where the fields lie.
    assert_eq!(elf[5], 1, "little-endian ELF");
    let elf64 = elf[4] == 2;
    let u = |at: usize, n: usize| {
        let mut v = 0u64;
        for k in (0..n).rev() {
            v = v << 8 | elf[at + k] as u64;
        }
        v
    };
    let (phoff, phentsize, phnum) = if elf64 {
        (u(32, 8) as usize, u(54, 2) as usize, u(56, 2) as usize)
    } else {
        (u(28, 4) as usize, u(42, 2) as usize, u(44, 2) as usize)
    };
    let mut writable = 0;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let (ptype, flags, vaddr, memsz) = if elf64 {
            (u(ph, 4), u(ph + 4, 4), u(ph + 16, 8), u(ph + 40, 8))
        } else {
            (u(ph, 4), u(ph + 24, 4), u(ph + 8, 4), u(ph + 20, 4))
        };
        if ptype == 1 && flags & 2 != 0 {
            writable += 1;
            let (first, last) = (vaddr / 4096, (vaddr + memsz - 1) / 4096);
            assert_eq!(
                first,
                last,
                "the writable segment {vaddr:#x}+{memsz:#x} spans {} pages",
                last - first + 1
            );
        }
    }
    assert_eq!(writable, 1, "one writable PT_LOAD");
}

/// The cold text's resident KiB once the daemon is idle. The pass that
/// answers a barrier lets the cold text go only after it has flushed the
/// reply, so one more round trip comes first: an `echo` runs no cold code,
/// and its reply means the pass before it has ended.
fn cold(d: &mut Daemon) -> u64 {
    d.sync();
    let maps = binary_rss(d.pid());
    let at = maps.iter().position(|(p, _)| p.starts_with("rw")).unwrap();
    let (perms, kib) = maps.get(at + 1).cloned().expect("a cold text mapping");
    assert!(perms.starts_with("r-x"), "{maps:?}");
    kib
}

/// Resident pages of the binary's mappings, in address order: (permissions,
/// KiB). The cold text is the executable mapping after the writable one.
fn binary_rss(pid: i32) -> Vec<(String, u64)> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let me = bin().canonicalize().unwrap();
    let mut out = Vec::new();
    let mut ours = false;
    for l in smaps.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.first()
            .is_some_and(|a| a.contains('-') && !a.ends_with(':'))
        {
            ours = f.len() > 5 && std::path::Path::new(f[5]) == me;
            if ours {
                out.push((f[1].to_string(), 0));
            }
        } else if ours && f.first() == Some(&"Rss:") {
            out.last_mut().unwrap().1 = f[1].parse().unwrap();
        }
    }
    out
}

/// The cold text (startup, exit paths, a service's child until it execs)
/// is released after startup and stays released: defining services,
/// starting them and reaping them must not fault it back in. Fault-around
/// maps the whole segment on any cold call, so one stray `#[cold]` on the
/// steady-state path shows as its full size here.
#[test]
fn cold_text_stays_released() {
    let mut d = Daemon::interactive(&[]);
    d.sync();
    assert_eq!(cold(&mut d), 0, "idle");
    for i in 0..100 {
        d.cmd(&format!("service.args\tsvc{i:03}\t/bin/true\t{i}"));
        d.cmd(&format!("service.tags\tsvc{i:03}\ta{i}"));
    }
    assert_eq!(cold(&mut d), 0, "after defining 100 services");
    // Values changing length: the string arena compacts on the way.
    for k in 0..2000 {
        let tags = if k % 2 == 0 { "x" } else { "yy" };
        d.send(&format!("service.tags\tsvc{:03}\t{tags}", k % 100));
    }
    d.sync();
    assert_eq!(cold(&mut d), 0, "after the string arena compacted");
    // Cold code that runs after startup is let go again before the loop
    // sleeps: a statedump and a failed command.
    d.send("statedump");
    d.sync();
    assert_eq!(cold(&mut d), 0, "after a statedump");
    d.send("service.signal\tnosuchservice\tSIGTERM");
    d.sync();
    assert_eq!(cold(&mut d), 0, "after a failed command");
    d.send("service.start\tsvc007");
    d.recv_state("svc007", "up");
    d.recv_state("svc007", "down");
    d.sync();
    assert_eq!(cold(&mut d), 0, "after a service ran");
}

/// A controller that is closed in the middle of a statedump (here: its
/// output blocked past the close timeout) never reaches the dump's end,
/// where the dump lets the cold text go: the close must do it instead.
#[test]
fn cold_text_released_when_a_dump_is_cut_short() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["-S", &sock, "--service-pool", "1000"]);
    let mut batch = String::new();
    for i in 0..1000 {
        batch += &format!("service.args\tsvc{i:04}\t/bin/true\t{i}\n");
    }
    d.write_raw(batch.as_bytes()).unwrap();
    d.sync();
    // A client that never reads: the dump (about 250 KB) fills the socket
    // and pauses, then the close timeout ends the connection.
    let mut c = Client::connect_paused(&sock);
    c.send("conn.event_timeout\t1\t1");
    c.send("statedump");
    d.stderr_contains("seconds, closing connection");
    d.sync();
    assert_eq!(cold(&mut d), 0, "after a controller closed mid-dump");
}
