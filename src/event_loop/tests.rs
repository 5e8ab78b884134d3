//! The loop's passes driven by a test: commands in through controller 0's
//! input pipe, events out of its output pipe, signals through the wake
//! pipe, and the clock and processes of `sys::fake` (no sleeps, no forks).

use super::*;
use crate::harness::Harness;
use crate::sys::{ExitHow, Fd, fake};

/// A supervisor run one pass at a time.
struct Loop {
    sup: Harness,
    /// Controller 0's input, the test's end.
    commands: Fd,
    /// Controller 0's output, the test's end.
    events: Fd,
    /// The signal self-pipe, the handlers' end.
    wake: Fd,
    accept_retry_at: Mono,
}

impl Loop {
    /// A fresh supervisor with the clock at `secs`, sent `lines`.
    fn at(secs: u64, lines: &[&str]) -> Loop {
        fake::reset();
        fake::set_now(Mono::from_secs(secs));
        let (cmd_r, commands) = sys::pipe(true).expect("pipe");
        let (events, ev_w) = sys::pipe(true).expect("pipe");
        let (wake_r, wake) = sys::pipe(true).expect("pipe");
        let mut sup = Harness::new(Some(cmd_r), Some(ev_w));
        sup.wake_r = Some(wake_r);
        let mut l = Loop {
            sup,
            commands,
            events,
            wake,
            accept_retry_at: Mono::ZERO,
        };
        for line in lines {
            l.send(line);
        }
        l
    }

    /// Sends controller 0 a command line.
    fn send(&mut self, line: &str) {
        let line = format!("{line}\n");
        assert_eq!(sys::write(self.commands, line.as_bytes()), Ok(line.len()));
    }

    /// Sets the clock to `secs`.
    fn clock(&mut self, secs: u64) {
        fake::set_now(Mono::from_secs(secs));
    }

    /// A signal's handler ran: its number reaches the wake pipe.
    fn signal(&mut self, sig: i32) {
        assert_eq!(sys::write(self.wake, &[sig as u8]), Ok(1));
    }

    /// Process `pid` ends as `how`, and SIGCHLD says so.
    fn exit(&mut self, pid: i32, how: ExitHow) {
        fake::exit(pid, how);
        self.signal(libc::SIGCHLD);
    }

    /// One pass over what is ready now (as poll reports it, without
    /// waiting); returns the timeout the loop would then sleep with, in
    /// milliseconds (-1: none).
    fn pass(&mut self) -> i64 {
        let mut set = [PollEntry::NONE; POLL_SET];
        self.sup.poll_set(&mut set, self.accept_retry_at);
        sys::poll(&mut set, 0);
        self.sup.pass(&Ready::from(&set), &mut self.accept_retry_at);
        let mut set = [PollEntry::NONE; POLL_SET];
        self.sup.poll_set(&mut set, self.accept_retry_at)
    }

    /// Runs a pass a second before `secs`, which must launch nothing, and
    /// one at `secs`; returns the pids that one launched.
    fn launched_at(&mut self, secs: u64) -> Vec<i32> {
        self.clock(secs - 1);
        self.pass();
        assert_eq!(fake::take_forks(), [], "a launch before {secs}");
        self.clock(secs);
        self.pass();
        fake::take_forks()
    }

    /// The lines controller 0 received since the last call.
    fn events(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = sys::read(self.events, &mut buf) {
            out.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8(out).expect("text");
        text.lines().map(str::to_owned).collect()
    }

    /// The `service.state` lines among the events since the last call,
    /// without the event name.
    fn states(&mut self) -> Vec<String> {
        let events = self.events();
        let states = events
            .iter()
            .filter_map(|l| l.strip_prefix("service.state\t"));
        states.map(str::to_owned).collect()
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        for fd in [self.commands, self.events, self.wake] {
            sys::close(fd);
        }
    }
}

const PID: i32 = fake::FIRST_PID;

#[test]
fn a_started_service_is_forked_then_reaped() {
    let mut l = Loop::at(100, &["service.args\tweb\t/bin/true", "service.start\tweb"]);
    // The start is broadcast; the launch waits for the loop's next turn,
    // which is due at once.
    assert_eq!(l.pass(), 0);
    assert_eq!(l.states(), ["web\tstart\t100\t-\t-\t-\t-\t-"]);
    assert_eq!(fake::take_forks(), []);
    l.clock(101);
    l.pass();
    assert_eq!(fake::take_forks(), [PID]);
    assert_eq!(l.states(), [format!("web\tup\t101\t{PID}\t-\t-\t0\t-")]);
    // An exit is reaped only once SIGCHLD has woken the loop.
    fake::exit(PID, ExitHow::Exited(3));
    l.clock(104);
    assert_eq!(l.pass(), -1, "nothing left to wake for");
    assert_eq!(l.states(), [] as [String; 0]);
    l.signal(libc::SIGCHLD);
    l.pass();
    assert_eq!(
        l.states(),
        [format!("web\tdown\t104\t{PID}\texit\t3\t3\t0")]
    );
    assert_eq!(fake::take_forks(), []);
}

#[test]
fn a_crashed_service_restarts_after_its_interval() {
    let mut l = Loop::at(
        100,
        &[
            "service.args\tdb\t/bin/true",
            "service.auto_up\tdb\t10\talways",
        ],
    );
    l.pass();
    l.pass();
    assert_eq!(fake::take_forks(), [PID]);
    assert_eq!(
        l.states(),
        [
            "db\tstart\t100\t-\t-\t-\t-\t-".to_owned(),
            format!("db\tup\t100\t{PID}\t-\t-\t0\t-"),
        ]
    );
    // It ran 2 seconds, less than its 10: the restart waits for them.
    l.clock(102);
    l.exit(PID, ExitHow::Signaled(libc::SIGSEGV));
    assert_eq!(l.pass(), 10_001, "the loop wakes for the restart");
    assert_eq!(
        l.states(),
        [
            format!("db\tdown\t102\t{PID}\tsignal\tSIGSEGV\t2\t0"),
            "db\tstart\t112\t-\t-\t-\t-\t-".to_owned(),
        ]
    );
    assert_eq!(l.launched_at(112), [PID + 1]);
    assert_eq!(
        l.states(),
        [format!("db\tup\t112\t{}\t-\t-\t0\t-", PID + 1)]
    );
    // A run longer than the interval restarts at once.
    l.clock(130);
    l.exit(PID + 1, ExitHow::Exited(1));
    l.pass();
    l.pass();
    assert_eq!(fake::take_forks(), [PID + 2]);
}

#[test]
fn a_timed_start_waits_for_its_time() {
    let mut l = Loop::at(
        100,
        &["service.args\tcron\t/bin/true", "service.start\tcron\t160"],
    );
    assert_eq!(l.pass(), 60_001);
    assert_eq!(l.states(), ["cron\tstart\t160\t-\t-\t-\t-\t-"]);
    assert_eq!(l.launched_at(160), [PID]);
    assert_eq!(l.states(), [format!("cron\tup\t160\t{PID}\t-\t-\t0\t-")]);
}

#[test]
fn service_signal_reaches_the_process() {
    let mut l = Loop::at(100, &["service.args\td\t/bin/true", "service.start\td"]);
    l.pass();
    l.pass();
    assert_eq!(fake::take_forks(), [PID]);
    l.send("service.signal\td\tSIGTERM");
    l.send("service.signal\td\tHUP\tgroup");
    l.pass();
    assert_eq!(
        fake::take_kills(),
        [(PID, libc::SIGTERM, false), (PID, libc::SIGHUP, true)]
    );
    // Once it is down, nothing is sent.
    l.exit(PID, ExitHow::Exited(0));
    l.pass();
    l.events();
    l.send("service.signal\td\tSIGTERM");
    l.pass();
    assert_eq!(fake::take_kills(), []);
    let events = l.events();
    assert!(events[0].starts_with("error\t"), "{events:?}");
}

#[test]
fn a_trigger_signal_starts_its_service() {
    let mut l = Loop::at(
        100,
        &[
            "service.args\tups\t/bin/true",
            "service.auto_up\tups\t1\tSIGHUP",
        ],
    );
    l.pass();
    l.pass();
    assert_eq!(fake::take_forks(), []);
    // Another signal is recorded but starts nothing.
    l.signal(libc::SIGUSR1);
    l.pass();
    assert_eq!(fake::take_forks(), []);
    l.clock(105);
    l.signal(libc::SIGHUP);
    l.pass();
    assert_eq!(fake::take_forks(), [PID]);
    let events = l.events();
    assert!(
        events.contains(&"signal\tSIGHUP\t105\t1".to_owned()),
        "{events:?}"
    );
    assert!(
        events.contains(&format!("service.state\tups\tup\t105\t{PID}\t-\t-\t0\t-")),
        "{events:?}"
    );
}

#[test]
fn a_failed_fork_is_retried_after_3_seconds() {
    let mut l = Loop::at(100, &["service.args\tx\t/bin/true", "service.start\tx"]);
    l.pass();
    fake::fail_next_fork(sys::Errno::AGAIN);
    assert_eq!(l.pass(), 3001);
    assert_eq!(fake::take_forks(), []);
    assert_eq!(
        l.states(),
        [
            "x\tstart\t100\t-\t-\t-\t-\t-",
            "x\tstart\t103\t-\t-\t-\t-\t-"
        ]
    );
    assert_eq!(l.launched_at(103), [PID]);
}
