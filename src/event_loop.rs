//! The main loop (§8.7): the only place that reads the clock and blocks.

use crate::controller::{Kind as CtlKind, ReadResult, SLOTS, Stall};
use crate::errtext;
use crate::exit;
use crate::fmt::fmt_u64;
use crate::log::Level;
use crate::service::State;
use crate::signal;
use crate::supervisor::Supervisor;
use crate::sys::{self, Errno, PollEntry};
use crate::time::{Dur, Mono};

/// Commands run per controller per wake-up before others get a turn.
const COMMANDS_PER_TURN: usize = 512;
/// Reads per controller per wake-up (each at most a receive buffer).
const READS_PER_TURN: usize = 8;

/// What the last poll reported.
#[derive(Default)]
struct Ready {
    wake: bool,
    listener: bool,
    input: [bool; SLOTS],
    output: [bool; SLOTS],
    hangup: [bool; SLOTS],
    log: bool,
}

impl Ready {
    /// What a poll over `set` reported.
    fn from(set: &[PollEntry; POLL_SET]) -> Ready {
        Ready {
            wake: set[WAKE].readable(),
            listener: set[LISTENER].readable(),
            log: set[LOG].writable(),
            input: core::array::from_fn(|i| set[input(i)].readable()),
            output: core::array::from_fn(|i| set[output(i)].writable()),
            hangup: core::array::from_fn(|i| set[output(i)].hup()),
        }
    }
}

/// Fixed positions in the poll set; what is not watched stays
/// `PollEntry::NONE`, which poll skips.
const WAKE: usize = 0;
const LISTENER: usize = 1;
const LOG: usize = 2;
const fn input(i: usize) -> usize {
    3 + 2 * i
}
const fn output(i: usize) -> usize {
    4 + 2 * i
}
const POLL_SET: usize = 3 + 2 * SLOTS;
const _: () = assert!(
    POLL_SET <= sys::POLL_MAX,
    "sys::poll watches at most POLL_MAX entries"
);

fn num(v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    fmt_u64(v, tmp)
}

impl Supervisor {
    /// Runs until terminate or the end of the interactive session.
    pub fn run_loop(&mut self) -> ! {
        let mut ready = Ready {
            wake: true,
            listener: true,
            input: [true; SLOTS],
            ..Ready::default()
        };
        let mut accept_retry_at = Mono::ZERO;
        loop {
            self.pass(&ready, &mut accept_retry_at);
            ready = self.wait(accept_retry_at);
        }
    }

    /// One pass of the loop over what the last poll reported: reads the
    /// clock, then signals, reaping, launches, new connections and every
    /// controller's commands and output. Never blocks.
    fn pass(&mut self, ready: &Ready, accept_retry_at: &mut Mono) {
        let &Ready {
            wake,
            listener,
            input,
            output,
            hangup,
            log,
        } = ready;
        self.now = sys::now();
        self.run_log();
        if log {
            self.log.writable(self.now);
        }
        if wake || self.wake_r.is_none() {
            // SIGCHLD is among what woke us: a child can only need
            // reaping after its signal's byte reached the wake pipe.
            // Without the pipe (see open_wake_pipe), every pass reaps.
            self.drain_signals();
            self.reap();
        }
        self.run_services();
        if listener || (self.accept_held() && self.now >= *accept_retry_at) {
            *accept_retry_at = self.accept();
        }
        self.busy = false;
        self.loop_due = false;
        for i in 0..SLOTS {
            self.run_controller(i, input[i], output[i], hangup[i]);
        }
        self.flush_all();
        if let Some(code) = self.terminate {
            self.finish(code);
        }
        self.run_log();
        if sys::locking() {
            self.lock_grown();
        }
        sys::release_cold_if_ran();
    }

    /// `-M`: what the pools grew into this pass is locked before the loop
    /// sleeps.
    #[cold]
    #[inline(never)]
    fn lock_grown(&mut self) {
        self.fds.lock_grown();
        let from = self.services.lock_grown();
        // The fatal handler's copy of the running services, per slot.
        exit::lock_running(from, self.services.high());
    }

    /// `--check`: runs the config file's commands (with no effects, see
    /// `Supervisor::check`) to its end, then exits 1 if any failed, else 0.
    #[cold]
    pub fn check_config(&mut self) -> ! {
        if !self.ctl.iter().any(|c| c.active()) {
            // The file could not be opened (and a terminate guard let
            // startup go on).
            sys::exit(3);
        }
        while let Some(i) = self.ctl.iter().position(|c| c.active()) {
            self.now = sys::now();
            // Lines after a `terminate` or a start are checked too.
            self.terminate = None;
            self.loop_due = false;
            // `-c -` may be a pipe that has nothing yet.
            let mut p = [self.ctl[i]
                .in_fd
                .map_or(PollEntry::NONE, |fd| PollEntry::new(fd, true, false))];
            sys::poll(&mut p, -1);
            self.read_input(i);
            // The steps of run_lines that a file needs, without its turn
            // limits (and without a second caller, which would move the
            // loop's copy out of line).
            while self.ctl[i].active() {
                if self.ctl[i].dump.is_some() {
                    self.continue_dump(i);
                } else if let Some(n) = self.ctl[i].line_len() {
                    self.run_line(i, n);
                } else if !self.ctl[i].discard_overlong() {
                    if self.ctl[i].in_eof {
                        self.end_of_input(i);
                    }
                    break;
                }
            }
        }
        sys::exit((self.config_errors != 0) as i32)
    }

    /// Lets the log attach or retry, and tells the signal handlers where it
    /// writes.
    pub fn run_log(&mut self) {
        let now = self.now;
        self.log.run(now, Supervisor::fd_lookup(&self.fds));
        exit::set_log_fd(self.log.fd());
    }

    /// Makes the signal self-pipe. Startup failing to (out of descriptors)
    /// is fatal, but with the terminate guard the daemon runs on: the loop
    /// then wakes every second, reaps, and tries again, so signals become
    /// events once descriptors are free.
    #[cold]
    pub fn open_wake_pipe(&mut self) -> Result<(), Errno> {
        let (r, w) = sys::pipe(true)?;
        self.wake_r = Some(r);
        exit::set_wake_fds(r, w);
        Ok(())
    }

    fn drain_signals(&mut self) {
        let Some(wake_r) = self.wake_r else {
            let _ = self.open_wake_pipe();
            return;
        };
        let mut buf = [0u8; 64];
        while let Ok(n) = sys::read(wake_r, &mut buf) {
            if n == 0 {
                break;
            }
            for &s in &buf[..n] {
                if signal::RECORDED.contains(&(s as i32)) {
                    self.signals.record(s as i32, self.now);
                }
            }
        }
    }

    fn reap(&mut self) {
        while let Some((pid, how)) = sys::reap_any() {
            let Some(slot) = self.services.by_pid(pid) else {
                continue;
            };
            let pending = self.signals.pending_mask();
            let restart = self.services.reaped(slot, how, self.now, pending);
            crate::exit::note_running(slot, 0, b"");
            self.broadcast_state(slot);
            if let Some(at) = restart {
                self.start_service(slot, at);
            }
        }
    }

    fn run_services(&mut self) {
        if self.signals.fresh != 0 {
            let fresh = self.signals.fresh & self.signals.pending_mask();
            self.signals.fresh = 0;
            if fresh != 0 {
                for slot in 0..self.services.high() {
                    let s = self.services.get(slot);
                    let startable = matches!(s.state(), State::Down | State::Start);
                    if startable && s.triggers & fresh != 0 {
                        self.start_service(slot, self.now);
                    }
                }
            }
        }
        if self.services.pending_starts() == 0 {
            return;
        }
        for slot in 0..self.services.high() {
            if self.services.get(slot).is_due(self.now) {
                self.launch(slot);
            }
        }
    }

    fn run_controller(&mut self, i: usize, readable: bool, writable: bool, hangup: bool) {
        if !self.ctl[i].active() {
            return;
        }
        let mut full = readable && self.read_input(i);
        if writable {
            let now = self.now;
            if self.ctl[i].flush(now).is_err() {
                self.log_output_closed(i);
            }
        }
        if hangup && self.ctl[i].kind == CtlKind::Service && self.ctl[i].in_fd.is_none() {
            self.ctl[i].close();
            return;
        }
        for reads in 1.. {
            self.run_commands(i);
            // A read that filled the buffer is followed by another at
            // once: more input is likely waiting, and poll would only say
            // so at the cost of a system call. Not after `terminate`: the
            // input past it is left for whoever reads it next.
            if !full || reads == READS_PER_TURN || self.terminate.is_some() || self.loop_due {
                return;
            }
            full = self.read_input(i);
        }
    }

    /// Reads what controller `i`'s input has; true when that filled the
    /// receive buffer.
    fn read_input(&mut self, i: usize) -> bool {
        if !self.ctl[i].active() || self.ctl[i].in_fd.is_none() || self.ctl[i].in_eof {
            return false;
        }
        let mut tmp = [0u8; 20];
        match self.ctl[i].read() {
            ReadResult::Data { dropped, full } => {
                for &fd in &dropped {
                    self.log(
                        Level::Error,
                        &[
                            b"No room for ancillary file descriptor ",
                            num(fd.raw() as u64, &mut tmp),
                        ],
                    );
                }
                return full;
            }
            ReadResult::Again => {}
            ReadResult::Eof(err) => {
                self.ctl[i].in_eof = true;
                if let Some(e) = err {
                    // A check that could not read its file did not pass.
                    self.config_errors += self.check as u32;
                    // "])):" with its extra parenthesis is the original's
                    // text, kept on purpose (a compatible log).
                    self.log_numbered(
                        Level::Error,
                        b"read(client[",
                        i,
                        &[b"])): ", errtext::strerror(e)],
                    );
                }
            }
        }
        false
    }

    /// Runs up to COMMANDS_PER_TURN commands from controller `i`, then
    /// drops the lines it ran from the receive buffer.
    fn run_commands(&mut self, i: usize) {
        self.run_lines(i);
        self.ctl[i].compact();
    }

    fn run_lines(&mut self, i: usize) {
        let now = self.now;
        for _ in 0..COMMANDS_PER_TURN {
            if !self.ctl[i].active() {
                return;
            }
            if (self.terminate.is_some() || self.loop_due) && !self.finishing_pass(i) {
                return;
            }
            let c = &mut self.ctl[i];
            if c.must_wait() {
                let _ = c.flush(now);
                if c.must_wait() {
                    // The original's pass ends at blocked output too.
                    c.end_pass();
                    return;
                }
            }
            if self.ctl[i].dump.is_some() {
                if !self.continue_dump(i) {
                    self.ctl[i].end_pass();
                    return;
                }
                continue;
            }
            // About to look for the next command: the signals it has not
            // been sent come first (§8.3), never inside a dump.
            self.deliver_signals(i);
            if let Some(n) = self.ctl[i].line_len() {
                self.ctl[i].step(3);
                self.run_line(i, n);
                continue;
            }
            let c = &mut self.ctl[i];
            if c.discard_overlong() {
                c.step(1);
                self.log_controller(
                    Level::Debug,
                    i,
                    &[b"] command length exceeds 1024 bytes, discarding"],
                );
                continue;
            }
            // No complete line: the original's pass for it ends here.
            c.end_pass();
            if c.in_eof {
                self.end_of_input(i);
            }
            return;
        }
    }

    /// After `terminate` the loop ends with this pass, which runs the lines
    /// the original's pass would still run (§11.1), and no more, though a
    /// statedump begun in it is finished; work left for the loop's earlier
    /// steps (`loop_due`) is then moot. Otherwise `loop_due` ends the pass.
    /// True when controller `i` may go on.
    #[cold]
    fn finishing_pass(&self, i: usize) -> bool {
        let c = &self.ctl[i];
        self.terminate.is_some() && (c.dump.is_some() || c.pass_has_room())
    }

    /// Takes the `n`-byte line (and its LF) out of controller `i`'s buffer
    /// and runs it where it lies.
    #[inline(always)]
    fn run_line(&mut self, i: usize, n: usize) {
        let (at, overlong) = self.ctl[i].take_line(n);
        if overlong {
            // What is left of the line (its first byte and the part after
            // the discarded ones) is shown as any command is.
            self.log_command(i, at, n);
            self.line_too_long(i, at);
        } else {
            self.execute_at(i, at, n);
        }
    }

    /// The rest of a line that overflowed the receive buffer arrived
    /// (§3.3): it is refused, unless it started with `#`.
    #[cold]
    #[inline(never)]
    fn line_too_long(&mut self, i: usize, at: usize) {
        sys::cold_ran();
        self.count_line(i);
        if self.ctl[i].input_byte(at) == b'#' {
            return;
        }
        self.reply(i, b"error\tline too long");
        if self.ctl[i].kind == CtlKind::Config {
            self.config_error(false, [b"line too long", b"", b""]);
        } else {
            self.log_controller(Level::Error, i, &[b"] command exceeds buffer size"]);
        }
    }

    /// Runs the `n` received bytes at `at` of controller `i` as a command,
    /// in place: the buffer is lent out while the command runs (no command
    /// reads input), then put back.
    #[inline(always)]
    fn execute_at(&mut self, i: usize, at: usize, n: usize) {
        let recv = self.ctl[i].lend_input();
        self.execute(i, &recv[at..at + n]);
        self.ctl[i].restore_input(recv);
    }

    /// Debug-logs the `n` received bytes at `at` of controller `i` as the
    /// command they are.
    #[cold]
    fn log_command(&mut self, i: usize, at: usize, n: usize) {
        let recv = self.ctl[i].lend_input();
        self.log_command_line(i, &recv[at..at + n]);
        self.ctl[i].restore_input(recv);
    }

    /// Input ended and every complete line ran (§3.6).
    #[inline(never)]
    fn end_of_input(&mut self, i: usize) {
        let c = &mut self.ctl[i];
        if let Some(n) = c.take_partial_line() {
            if c.auto_final_newline {
                self.log(
                    Level::Warning,
                    &[b"Command ends with EOF... processing anyway"],
                );
                self.execute_at(i, 0, n);
                if self.ctl[i].dump.is_some() {
                    // Let the dump drain before closing.
                    self.busy = true;
                    return;
                }
            } else {
                self.log(Level::Warning, &[b"Command ends with EOF... ignored"]);
            }
        }
        if self.close_controller(i) {
            // An `exit` after `terminate` in the same pass keeps its code.
            self.finish(self.terminate.unwrap_or(0));
        }
    }

    fn flush_all(&mut self) {
        let now = self.now;
        for i in 0..SLOTS {
            let c = &mut self.ctl[i];
            if !c.active() || !c.output_pending() {
                continue;
            }
            if c.flush(now).is_err() {
                continue;
            }
            let (late, closing) = match self.ctl[i].stall(now) {
                Stall::None => continue,
                Stall::Warn(late) => (late, false),
                Stall::Close(late) => (late, true),
            };
            let (level, end): (_, &[u8]) = if closing {
                (Level::Error, b" seconds, closing connection")
            } else {
                (Level::Warning, b" seconds")
            };
            let mut a = [0u8; 20];
            let mut b = [0u8; 20];
            let (n, s) = (num(i as u64, &mut a), num(late, &mut b));
            self.log.put(
                level,
                &[b"controller ", n, b" blocked pipe for ", s, end],
                now,
            );
            if closing && self.close_controller(i) {
                self.finish(0);
            }
        }
    }

    /// Ends the process after `terminate` or the interactive EOF (§11).
    /// With exec-on-exit this is fatal(): a failed exec logs `fatal:
    /// terminated normally` and exits there, unless the guard is set.
    #[cold]
    pub fn finish(&mut self, code: i64) -> ! {
        let now = self.now;
        for c in &mut self.ctl {
            let _ = c.flush(now);
        }
        if exit::exec_configured() {
            self.fatal(code as i32, cold!(b"terminated normally"));
        }
        self.log(Level::Info, &[cold!(b"daemonproxy exiting")]);
        self.log_running();
        sys::exit((code & 0xFF) as i32)
    }

    /// Sleeps in poll until something is ready or a timer is due.
    fn wait(&mut self, accept_retry_at: Mono) -> Ready {
        let mut set = [PollEntry::NONE; POLL_SET];
        let timeout_ms = self.poll_set(&mut set, accept_retry_at);
        sys::poll(&mut set, timeout_ms);
        Ready::from(&set)
    }

    /// Fills the poll set with what the loop waits for; returns how long
    /// it may sleep (-1: until something happens).
    fn poll_set(&mut self, set: &mut [PollEntry; POLL_SET], accept_retry_at: Mono) -> i64 {
        if let Some(fd) = self.wake_r {
            set[WAKE] = PollEntry::new(fd, true, false);
        }
        let hold = self.accept_held();
        if let Some(fd) = self.listener.fd().filter(|_| !hold) {
            set[LISTENER] = PollEntry::new(fd, true, false);
        }
        if let Some(fd) = self.log.wants_writable() {
            set[LOG] = PollEntry::new(fd, false, true);
        }
        // With no timer set, poll sleeps until something happens: no
        // timeout to arm and cancel on every wake-up.
        let mut wake_at = None;
        let now = self.now;
        let mut earlier = |t: Mono| {
            if wake_at.is_none_or(|w| t < w) {
                wake_at = Some(t);
            }
        };
        for (i, c) in self.ctl.iter().enumerate() {
            if !c.active() {
                continue;
            }
            if !c.must_wait() && (c.dump.is_some() || c.line_len().is_some() || c.in_eof) {
                self.busy = true;
            }
            if let Some(fd) = c.in_fd
                && !c.in_eof
                && !c.input_full()
            {
                set[input(i)] = PollEntry::new(fd, true, false);
            }
            // With nothing to send and no input, only a hangup is of interest.
            if let Some(fd) = c.out_fd
                && (c.output_pending() || c.in_fd.is_none())
            {
                set[output(i)] = PollEntry::new(fd, false, c.output_pending());
            }
            if let Some(t) = c.stall_wake_at() {
                earlier(t);
            }
        }
        if let Some(t) = self.log.wake_at() {
            earlier(t);
        }
        if self.listener.fd().is_some() && hold {
            earlier(accept_retry_at);
        }
        if self.wake_r.is_none() {
            earlier(now + Dur::from_secs(1));
        }
        if let Some(t) = self.services.next_start() {
            earlier(t);
        }
        match wake_at {
            _ if self.busy => 0,
            None => -1,
            Some(t) => t.poll_ms_from(now),
        }
    }
}

#[cfg(test)]
mod tests;
