//! Signals sent to the daemon: dispositions (§9.1), counting (§9.2), names
//! (§9.3), `signal` events (§5.2), signal.clear (§4.19) and delivery to
//! controllers (§8.3).

use crate::util::*;
use std::os::fd::AsRawFd;

/// Waits for `signal\tNAME\tTS\tCOUNT`; returns (TS, COUNT).
fn recv_signal<C: Controller>(c: &mut C, name: &str) -> (i64, u32) {
    let line = c.recv_ok(Prefix(format!("signal\t{name}\t")));
    let f = fields(&line);
    assert_eq!(f.len(), 4, "{line:?}");
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}

/// The `signal` lines of a statedump.
fn dumped_signals(d: &mut Daemon) -> Vec<(String, u32)> {
    d.statedump()
        .iter()
        .filter(|l| l.starts_with("signal\t"))
        .map(|l| {
            let f = fields(l);
            (f[1].to_string(), f[3].parse().unwrap())
        })
        .collect()
}

#[test]
fn recorded_signals_are_reported_and_do_not_kill() {
    let mut d = Daemon::interactive(&[]);
    for (sig, name) in [
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
    ] {
        let before = mono_now();
        d.signal(sig);
        let (ts, count) = recv_signal(&mut d, name);
        assert_eq!(count, 1, "{name}");
        assert!(before <= ts && ts <= mono_now(), "{name} TS {ts}");
        d.sync();
        assert!(d.running(), "{name} killed the daemon");
    }
}

#[test]
fn counts_accumulate() {
    let mut d = Daemon::interactive(&[]);
    d.signal(libc::SIGUSR1);
    assert_eq!(recv_signal(&mut d, "SIGUSR1").1, 1);
    d.signal(libc::SIGUSR1);
    assert_eq!(recv_signal(&mut d, "SIGUSR1").1, 2);
    d.signal(libc::SIGUSR1);
    assert_eq!(recv_signal(&mut d, "SIGUSR1").1, 3);
}

#[test]
fn wake_only_signals_are_silent() {
    let mut d = Daemon::interactive(&[]);
    for sig in [libc::SIGPIPE, libc::SIGALRM, libc::SIGCHLD] {
        d.signal(sig);
    }
    // A recorded signal sent after them: their handlers have run (they
    // were pending first) by the time its event is made.
    let mark = d.out.mark();
    d.signal(libc::SIGUSR1);
    recv_signal(&mut d, "SIGUSR1");
    let out = [d.out.since(mark), d.sync()].concat();
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(dumped_signals(&mut d), [("SIGUSR1".to_string(), 1)]);
    assert!(d.running());
}

#[test]
fn statedump_lists_pending_signals_oldest_first() {
    let mut d = Daemon::interactive(&[]);
    d.signal(libc::SIGHUP);
    // The order is by last arrival; each signal is sent after the event of
    // the one before.
    recv_signal(&mut d, "SIGHUP");
    d.signal(libc::SIGUSR1);
    recv_signal(&mut d, "SIGUSR1");
    assert_eq!(
        dumped_signals(&mut d),
        [("SIGHUP".to_string(), 1), ("SIGUSR1".to_string(), 1)]
    );
    d.signal(libc::SIGHUP);
    recv_signal(&mut d, "SIGHUP");
    assert_eq!(
        dumped_signals(&mut d),
        [("SIGUSR1".to_string(), 1), ("SIGHUP".to_string(), 2)]
    );
    // Signals come after the fd and service lines.
    d.cmd("service.args\ts\t/bin/true");
    let dump = d.statedump();
    let first_signal = dump.iter().position(|l| l.starts_with("signal\t")).unwrap();
    assert!(
        dump[first_signal..]
            .iter()
            .all(|l| l.starts_with("signal\t"))
    );
}

#[test]
fn signal_clear_lowers_the_count() {
    let mut d = Daemon::interactive(&[]);
    d.signal(libc::SIGUSR1);
    recv_signal(&mut d, "SIGUSR1");
    d.signal(libc::SIGUSR1);
    assert_eq!(recv_signal(&mut d, "SIGUSR1").1, 2);
    d.cmd_quiet("signal.clear\tSIGUSR1\t1");
    assert_eq!(dumped_signals(&mut d), [("SIGUSR1".to_string(), 1)]);
    d.cmd_quiet("signal.clear\tSIGUSR1\t5");
    assert!(dumped_signals(&mut d).is_empty());
    // The next arrival counts from 0 again.
    d.signal(libc::SIGUSR1);
    assert_eq!(recv_signal(&mut d, "SIGUSR1").1, 1);
}

/// A negative COUNT raises a signal's count (Quirk, §4.19), but only for a
/// signal that has arrived: one that never did has no entry, and a count
/// without one would be pending (and fire triggers) yet never be listed.
#[test]
fn negative_clear_raises_only_arrived_signals() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_quiet("signal.clear\tSIGHUP\t-2");
    assert!(dumped_signals(&mut d).is_empty());
    d.cmd("service.args\ts\t/bin/true");
    // A pending trigger starts the service in the command itself, and the
    // loop's next pass (before the second echo) launches it.
    let out = d.cmd("service.auto_up\ts\t5\tSIGHUP");
    let out = [out, d.sync()].concat();
    assert!(
        !out.iter().any(|l| l.starts_with("service.state\ts\t")),
        "{out:?}"
    );
    d.signal(libc::SIGUSR1);
    recv_signal(&mut d, "SIGUSR1");
    d.cmd_quiet("signal.clear\tSIGUSR1\t-2");
    assert_eq!(dumped_signals(&mut d), [("SIGUSR1".to_string(), 3)]);
}

#[test]
fn signal_clear_accepts_names_and_numbers() {
    let mut d = Daemon::interactive(&[]);
    for _ in 0..4 {
        d.signal(libc::SIGUSR2);
        recv_signal(&mut d, "SIGUSR2");
    }
    assert_eq!(dumped_signals(&mut d), [("SIGUSR2".to_string(), 4)]);
    d.cmd_quiet("signal.clear\tUSR2\t1");
    assert_eq!(dumped_signals(&mut d), [("SIGUSR2".to_string(), 3)]);
    let usr2 = target_signo(libc::SIGUSR2);
    d.cmd_quiet(&format!("signal.clear\t{usr2}\t1"));
    assert_eq!(dumped_signals(&mut d), [("SIGUSR2".to_string(), 2)]);
    // All digits, 0...65535: leading zeros too (§3.5).
    d.cmd_quiet(&format!("signal.clear\t0000{usr2}\t1"));
    assert_eq!(dumped_signals(&mut d), [("SIGUSR2".to_string(), 1)]);
    // Unknown names mean signal 0: no error, no effect.
    d.cmd_quiet("signal.clear\tSIGBOGUS\t1");
    assert_eq!(dumped_signals(&mut d), [("SIGUSR2".to_string(), 1)]);
}

#[test]
fn signal_clear_errors() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_err("signal.clear", "Expected signal argument");
    d.cmd_err("signal.clear\t", "Expected signal argument");
    d.cmd_err("signal.clear\t99999\t1", "Invalid signal number");
    d.cmd_err("signal.clear\t12ab\t1", "Invalid signal number");
    d.cmd_err("signal.clear\tSIGUSR1", "Expected integer");
    d.cmd_err("signal.clear\tSIGUSR1\tx", "Expected integer");
}

#[test]
fn new_controller_gets_pending_signals_at_once() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["-S", &sock]);
    d.signal(libc::SIGHUP);
    let (ts, _) = recv_signal(&mut d, "SIGHUP");
    // A client that connects later is sent the pending signal without
    // asking for anything.
    let mut c = Client::connect(&sock);
    let (cts, count) = recv_signal(&mut c, "SIGHUP");
    assert_eq!((cts, count), (ts, 1));
    // And later arrivals, to both.
    d.signal(libc::SIGHUP);
    assert_eq!(recv_signal(&mut c, "SIGHUP").1, 2);
    assert_eq!(recv_signal(&mut d, "SIGHUP").1, 2);
}

#[test]
fn signal_events_reach_socket_clients() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let d = Spawn::new(&["-S", &sock]).dir(dir).start();
    let mut c = Client::connect(&sock);
    c.sync();
    d.signal(libc::SIGTERM);
    assert_eq!(recv_signal(&mut c, "SIGTERM").1, 1);
    c.sync();
}

/// SIGPWR and SIGWINCH are init's signals: only PID 1 takes them over (the
/// VM suite checks that it does). Anywhere else they keep the disposition
/// the daemon inherited, and its services inherit that in turn.
#[test]
fn pwr_and_winch_are_left_alone_unless_pid1() {
    // SIGWINCH is ignored by default, so ignoring it here changes nothing
    // for the other tests' processes; it marks what is inherited.
    // SAFETY: plain syscall.
    unsafe { libc::signal(libc::SIGWINCH, libc::SIG_IGN) };
    let mut d = Daemon::interactive(&[]);
    let status_mask = |text: &str, field: &str| -> u64 {
        let line = text.lines().find(|l| l.starts_with(field)).unwrap();
        u64::from_str_radix(line[field.len()..].trim(), 16).unwrap()
    };
    let bit = |sig: i32| 1u64 << (sig - 1);
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    let caught = status_mask(&status, "SigCgt:");
    assert_eq!(
        caught & (bit(libc::SIGPWR) | bit(libc::SIGWINCH)),
        0,
        "{caught:#x}"
    );
    assert_ne!(caught & bit(libc::SIGUSR1), 0, "{caught:#x}");
    assert_ne!(status_mask(&status, "SigIgn:") & bit(libc::SIGWINCH), 0);
    d.signal(libc::SIGWINCH);
    let out = d.path("status.out");
    d.cmd(&format!("fd.open\tout\twrite,create,trunc\t{out}"));
    d.cmd("service.fds\ts\tnull\tout\tnull");
    d.cmd("service.args\ts\t/bin/grep\t^SigIgn\t/proc/self/status");
    // Not cmd: its barrier could take the down event before we look.
    d.send("service.start\ts");
    d.recv_state("s", "down");
    let lines = d.out.seen();
    assert!(
        !lines.iter().any(|l| l.starts_with("signal\t")),
        "{lines:?}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert_ne!(
        status_mask(&text, "SigIgn:") & bit(libc::SIGWINCH),
        0,
        "{text}"
    );
    assert!(dumped_signals(&mut d).is_empty());
}

/// A signal that arrives while a statedump is paused (output backed up)
/// comes after the dump, when the controller next looks for a command
/// (§8.3), not between two of the dump's lines.
#[test]
fn signal_during_a_paused_dump_comes_after_it() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Spawn::new(&["-i", "--service-pool", "600", "-S", &sock])
        .dir(dir)
        .paused_stdout()
        .start();
    let mut c = Client::connect(&sock);
    let mut batch = String::new();
    for i in 0..600 {
        batch += &format!("service.args\ts{i:03}\t/bin/true\t{i}\n");
    }
    // The events of the batch (its own lines) and the banner come first.
    let before_dump = batch.len() + 1024;
    // About 100 KB of dump: more than the pipe holds, so it pauses.
    batch += "statedump\necho\tdump-end\n";
    d.write_raw(batch.as_bytes()).unwrap();
    wait_for("the dump to begin", || stdout_queued(&d) > before_dump);
    d.signal(libc::SIGUSR1);
    // Handled while the dump is paused: the client, not dumping, is sent it.
    recv_signal(&mut c, "SIGUSR1");
    d.resume_stdout();
    d.recv_ok("dump-end");
    let lines = d.lines().seen().to_vec();
    let last_object = lines
        .iter()
        .rposition(|l| l.starts_with("service.") || l.starts_with("fd.state"))
        .unwrap();
    let signals: Vec<usize> = (0..lines.len())
        .filter(|&k| lines[k].starts_with("signal\tSIGUSR1\t"))
        .collect();
    assert!(!signals.is_empty(), "{:?}", &lines[last_object..]);
    assert!(
        signals.iter().all(|&k| k > last_object),
        "{signals:?} {last_object}"
    );
}

/// Bytes in the daemon's stdout pipe, not yet read (FIONREAD on the pipe,
/// opened again through /proc).
fn stdout_queued(d: &Daemon) -> usize {
    let pipe = std::fs::File::open(format!("/proc/{}/fd/1", d.pid())).expect("open stdout pipe");
    let mut n: libc::c_int = 0;
    // SAFETY: ioctl on a file we own, with a valid int out-pointer.
    let rc = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(rc, 0, "FIONREAD: {}", std::io::Error::last_os_error());
    n as usize
}

/// Descriptors the process has open.
fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc fd dir")
        .count()
}

/// A startup failure takes the fatal path (§11.3): with the terminate guard
/// set (as PID 1 has it), a signal pipe that cannot be made for want of
/// descriptors is logged and the daemon runs on without it, instead of
/// reading descriptor -1 and aborting. Once descriptors are free the pipe
/// is made, and signals are events again.
#[test]
fn signal_pipe_failure_under_the_guard_is_survived() {
    // 0-2 are the test's pipes, 3-5 inherited, 6 the daemon's /dev/null:
    // none left for the pipe (and poll's 7 entries are within the limit).
    let mut d = Spawn::new(&["-i", "--exit-guard", "9"])
        .crowded(3, 7)
        .start();
    d.sync();
    d.stderr_contains("fatal: (attempting to continue) signal pipe setup: Too many open files\n");
    assert!(d.running());
    let full = open_fds(d.pid());
    // Closing two descriptors makes room: the loop makes the pipe.
    d.cmd("fd.delete\tfd_3");
    d.cmd("fd.delete\tfd_4");
    wait_for("the daemon to make its signal pipe", || {
        open_fds(d.pid()) == full
    });
    d.signal(libc::SIGUSR1);
    recv_signal(&mut d, "SIGUSR1");
    assert!(d.running());
}
