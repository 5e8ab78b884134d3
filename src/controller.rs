//! Controllers (§8): command streams with a receive buffer, a send buffer
//! of complete lines, overflow and blocked-output tracking.

use arrayvec::ArrayVec;

use crate::name::Name;
use crate::sys::{self, Errno, Fd};
use crate::time::{Dur, Mono};

/// Number of controller slots, as in the original.
pub const SLOTS: usize = 2;
/// Receive buffer size; the longest line is one less.
pub const RECV_BUF: usize = 1024;
/// Send buffer size.
pub const SEND_BUF: usize = 2048;
/// Commands start only while at most this much output is pending.
pub const SEND_HIGH: usize = 1024;
/// Ancillary descriptors kept per controller.
pub const ANC_MAX: usize = 2;
/// State-machine steps the original gives a controller per pass of its
/// loop (§8.7): a line takes 3 (find, run, drop it), a statedump 3 more.
pub const PASS_STEPS: u64 = 9;

/// What a controller is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Free,
    /// `-i`: stdin and stdout.
    Interactive,
    /// `-c`: a config file or stdin, input only.
    Config,
    /// A control-socket client.
    Socket,
    /// A service using `control.*`.
    Service,
}

/// The parts of a statedump, in order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DumpPart {
    /// `fd.state` of each named descriptor.
    Fds,
    /// Each service's state and its four configuration lines.
    Services,
    /// The pending signals.
    Signals,
}

/// Where a resumable statedump stands (§4.2).
#[derive(Clone, Copy)]
pub struct Dump {
    /// The part being dumped.
    pub part: DumpPart,
    /// The object being (or last) dumped; empty before the first.
    pub name: Name,
    /// Next line of that object (services have 5, fds 1); past the end
    /// means "move to the next name".
    pub line: u8,
    /// Signals phase: last-arrival time of the last signal dumped.
    pub signal_after: Mono,
}

impl Dump {
    /// A dump from the beginning.
    pub const fn new() -> Dump {
        Dump::at(DumpPart::Fds)
    }

    /// A dump at the start of `part`.
    pub const fn at(part: DumpPart) -> Dump {
        Dump {
            part,
            name: Name::EMPTY,
            line: 0,
            signal_after: Mono::ZERO,
        }
    }
}

/// What a blocked output calls for (see `Controller::stall`), with how many
/// whole seconds it has been blocked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stall {
    /// Nothing now.
    None,
    /// Log a warning.
    Warn(u64),
    /// Log an error and close the controller.
    Close(u64),
}

/// Outcome of one read.
pub enum ReadResult {
    /// Bytes arrived (maybe with descriptors beyond the 2 kept: their
    /// numbers, already closed); `full` when they filled the buffer, so
    /// more are likely waiting.
    Data {
        dropped: ArrayVec<Fd, 8>,
        full: bool,
    },
    /// Nothing to read now.
    Again,
    /// End of input; with Some(errno) when a read error caused it.
    Eof(Option<Errno>),
}

/// One controller slot.
pub struct Controller {
    /// Kind; Free for an unused slot.
    pub kind: Kind,
    /// Command input, if it has one.
    pub in_fd: Option<Fd>,
    /// Event output, if it has one still open.
    pub out_fd: Option<Fd>,
    /// Input is a socket: read with recvmsg to collect SCM_RIGHTS.
    pub is_socket: bool,
    /// Add a final LF to a partial last line at EOF.
    pub auto_final_newline: bool,
    /// Input reached EOF (or `exit`): finish the buffered lines, then close.
    pub in_eof: bool,
    /// The current line overflowed the receive buffer (§3.3).
    line_overflow: bool,
    /// Output lines were dropped; `overflow` is owed once drained.
    overflow: bool,
    /// The overflow flag was set because the output stayed blocked past the
    /// reset timeout with the input full (§8.4): the peer is not reading,
    /// so even an `echo` runs with its reply dropped.
    abandoned: bool,
    /// Received bytes (RECV_BUF of them, reserved at startup).
    recv: &'static mut [u8],
    /// Bytes in `recv`.
    recv_len: usize,
    /// Bytes at the front of `recv` already run this turn: lines are taken
    /// without moving the rest, which moves down once, at the turn's end.
    recv_at: usize,
    /// Pending output (SEND_BUF bytes, reserved at startup).
    send: &'static mut [u8],
    /// Bytes in `send`.
    send_len: usize,
    /// When output first hit EAGAIN (ZERO: not blocked; the clock is past
    /// zero once the daemon runs).
    blocked_since: Mono,
    /// Next time to log the reset-timeout warning.
    warn_at: Mono,
    /// Reset timeout, seconds.
    reset_timeout: u32,
    /// Close timeout, seconds.
    close_timeout: u32,
    /// Last-arrival time of the newest signal sent to this controller.
    pub last_signal: Mono,
    /// Received descriptors, oldest first.
    anc: ArrayVec<Fd, ANC_MAX>,
    /// A statedump in progress.
    pub dump: Option<Dump>,
    /// Steps of the original's passes this controller has used since it
    /// last ran out of lines (a pass ends there): where a `terminate` falls
    /// in its pass decides which of the lines after it still run (§11.1).
    pass_steps: u64,
    /// After `terminate`: the step at which the last pass ends.
    pass_end: u64,
}

impl Controller {
    /// A free slot using the given buffers.
    pub fn new(recv: &'static mut [u8], send: &'static mut [u8]) -> Controller {
        Controller {
            kind: Kind::Free,
            in_fd: None,
            out_fd: None,
            is_socket: false,
            auto_final_newline: false,
            in_eof: false,
            line_overflow: false,
            overflow: false,
            abandoned: false,
            recv,
            recv_len: 0,
            recv_at: 0,
            send,
            send_len: 0,
            blocked_since: Mono::ZERO,
            warn_at: Mono::ZERO,
            reset_timeout: 15,
            close_timeout: 30,
            last_signal: Mono::ZERO,
            anc: ArrayVec::new_const(),
            dump: None,
            pass_steps: 0,
            pass_end: 0,
        }
    }

    /// Frees the slot, keeping its buffers.
    fn reset(&mut self) {
        let recv = core::mem::take(&mut self.recv);
        let send = core::mem::take(&mut self.send);
        *self = Controller::new(recv, send);
    }

    /// Sets up a slot for a new stream; both descriptors become non-blocking.
    pub fn open(&mut self, kind: Kind, in_fd: Option<Fd>, out_fd: Option<Fd>) {
        self.reset();
        self.kind = kind;
        self.in_fd = in_fd;
        self.out_fd = out_fd;
        if let Some(fd) = in_fd {
            let _ = sys::set_nonblock(fd, true);
        }
        if let Some(fd) = out_fd {
            let _ = sys::set_nonblock(fd, true);
        }
    }

    /// Is the slot in use?
    pub fn active(&self) -> bool {
        self.kind != Kind::Free
    }

    /// Can output be queued?
    pub fn has_output(&self) -> bool {
        self.out_fd.is_some()
    }

    /// Is output waiting to be written?
    pub fn output_pending(&self) -> bool {
        self.send_len > 0
    }

    /// Takes the output queued so far, as a reader would (the fuzz harness
    /// checks it holds whole lines); the overflow flag is reset.
    #[cfg(any(test, fuzzing))]
    pub fn take_output(&mut self) -> &[u8] {
        self.overflow = false;
        let n = core::mem::take(&mut self.send_len);
        &self.send[..n]
    }

    /// Is there output pending past the high-water mark (and not being
    /// dropped)? Commands and dumps wait until it drains.
    pub fn output_high(&self) -> bool {
        self.has_output() && !self.overflow && self.send_len > SEND_HIGH
    }

    /// Are lines being dropped until the output drains?
    pub fn overflowing(&self) -> bool {
        self.overflow
    }

    /// Does output queued now have a place to go (an active slot with an
    /// output that is not dropping lines)?
    pub fn takes_output(&self) -> bool {
        self.active() && self.has_output() && !self.overflow
    }

    /// `exit`: no more input; the lines after it are dropped.
    pub fn stop_input(&mut self) {
        self.in_eof = true;
        self.recv_at = self.recv_len;
    }

    /// Reads once into the receive buffer.
    pub fn read(&mut self) -> ReadResult {
        let mut dropped = ArrayVec::new();
        let space = &mut self.recv[self.recv_len..];
        if space.is_empty() {
            return ReadResult::Again;
        }
        let Some(in_fd) = self.in_fd else {
            return ReadResult::Again;
        };
        let r = if self.is_socket {
            let mut fds = ArrayVec::new();
            let r = sys::recv_with_fds(in_fd, space, &mut fds);
            for fd in fds {
                if let Err(full) = self.anc.try_push(fd) {
                    sys::close(fd);
                    dropped.push(full.element());
                }
            }
            r
        } else {
            sys::read(in_fd, space)
        };
        match r {
            Ok(0) if dropped.is_empty() => ReadResult::Eof(None),
            Ok(n) => {
                self.recv_len += n;
                ReadResult::Data {
                    dropped,
                    full: self.recv_len == RECV_BUF,
                }
            }
            Err(Errno::AGAIN) | Err(Errno::INTR) => ReadResult::Again,
            Err(e) => ReadResult::Eof(Some(e)),
        }
    }

    /// The next complete line (without its LF), if one is buffered.
    #[inline(always)]
    pub fn line_len(&self) -> Option<usize> {
        crate::proto::find_inline(&self.recv[self.recv_at..self.recv_len], b'\n')
    }

    /// Commands wait for the output to drain: too much of it is pending
    /// (§8.4), or lines are being dropped and the next command is an
    /// `echo`. The barrier's reply is not dropped: it waits for the
    /// `overflow` line, unless the output was abandoned (a peer that does
    /// not read would otherwise stall until the close timeout). A dump in
    /// progress is not a command; it runs on.
    pub fn must_wait(&self) -> bool {
        if !self.has_output() {
            return false;
        }
        if !self.overflow {
            return self.send_len > SEND_HIGH;
        }
        self.dump.is_none() && !self.abandoned && self.echo_next()
    }

    /// Does the next line (complete or not) start an `echo`?
    #[cold]
    #[inline(never)]
    fn echo_next(&self) -> bool {
        sys::cold_ran();
        let at = self.recv_at;
        self.recv_len > at + 4
            && self.recv[at..at + 4] == *b"echo"
            && matches!(self.recv[at + 4], b'\t' | b'\n')
    }

    /// With no complete line left: moves the partial one to the front, and
    /// if it fills the buffer, keeps its first byte and discards the rest
    /// up to its LF (§3.3). True when it did.
    pub fn discard_overlong(&mut self) -> bool {
        self.compact();
        if self.recv_len < RECV_BUF {
            return false;
        }
        self.recv_len = 1;
        self.line_overflow = true;
        true
    }

    /// Marks the next `n` received bytes as run.
    pub fn consume(&mut self, n: usize) {
        self.recv_at += n;
    }

    /// Takes the next line, `n` bytes and its LF: (where it lies, whether
    /// it is what is left of a line that overflowed the buffer).
    #[inline(always)]
    pub fn take_line(&mut self, n: usize) -> (usize, bool) {
        let at = self.recv_at;
        self.consume(n + 1);
        (at, core::mem::take(&mut self.line_overflow))
    }

    /// The receive buffer, lent out while one of its lines runs as a
    /// command (no command reads input); `restore_input` puts it back.
    #[inline(always)]
    pub fn lend_input(&mut self) -> &'static mut [u8] {
        core::mem::take(&mut self.recv)
    }

    /// Puts back the buffer `lend_input` lent.
    #[inline(always)]
    pub fn restore_input(&mut self, recv: &'static mut [u8]) {
        self.recv = recv;
    }

    /// The received byte at `at`.
    pub fn input_byte(&self, at: usize) -> u8 {
        self.recv[at]
    }

    /// Is the receive buffer full?
    pub fn input_full(&self) -> bool {
        self.recv_len == RECV_BUF
    }

    /// At the end of input: takes the bytes after the last LF. Their
    /// length, unless there are none or they are what is left of a line
    /// that overflowed the buffer (dropped without a word).
    pub fn take_partial_line(&mut self) -> Option<usize> {
        let n = core::mem::take(&mut self.recv_len);
        let overflowed = core::mem::take(&mut self.line_overflow);
        (n > 0 && !overflowed).then_some(n)
    }

    /// The original's pass for this controller ends here (it ran out of
    /// lines, or its output blocks).
    pub fn end_pass(&mut self) {
        self.pass_steps = 0;
    }

    /// `conn.event_timeout`: the reset and close timeouts, in seconds.
    pub fn set_timeouts(&mut self, reset: u32, close: u32) {
        (self.reset_timeout, self.close_timeout) = (reset, close);
    }

    /// Counts `steps` of the original's passes.
    #[inline(always)]
    pub fn step(&mut self, steps: u64) {
        self.pass_steps = self.pass_steps.wrapping_add(steps);
    }

    /// `terminate` succeeded: the original finishes the pass under way and
    /// no more. The one that ran it is in its pass (a pass it used up
    /// exactly is over); another one's turn in it is still to come.
    #[cold]
    pub fn last_pass(&mut self, ran_terminate: bool) {
        let used = match self.pass_steps % PASS_STEPS {
            0 if ran_terminate => PASS_STEPS,
            r => r,
        };
        // `used` is at most one pass: no underflow, even at step 0 (a
        // `--check` run counts no steps).
        self.pass_end = self.pass_steps + PASS_STEPS - used;
    }

    /// In the last pass: is there room in it to run another line (to find
    /// it, then run it)?
    pub fn pass_has_room(&self) -> bool {
        self.pass_steps + 2 <= self.pass_end
    }

    /// Drops the bytes marked as run, moving the rest to the front.
    pub fn compact(&mut self) {
        if self.recv_at == 0 {
            return;
        }
        let at = core::mem::take(&mut self.recv_at);
        self.recv.copy_within(at..self.recv_len, 0);
        self.recv_len -= at;
    }

    /// Queues `line` and its LF if they fit; false otherwise.
    #[inline(always)]
    pub fn push_line(&mut self, line: &[u8]) -> bool {
        let end = self.send_len + line.len() + 1;
        let Some((lf, text)) = self
            .send
            .get_mut(self.send_len..end)
            .and_then(|room| room.split_last_mut())
        else {
            return false;
        };
        crate::fmt::copy(text, line);
        *lf = b'\n';
        self.send_len = end;
        true
    }

    /// Queues `line` and its LF, writing pending output first if the send
    /// buffer is full; with no room even then, the line is dropped and the
    /// overflow flag set (`overflow` is sent once the output drains).
    /// Err(errno) when the output broke.
    pub fn send_line(&mut self, line: &[u8], now: Mono) -> Result<(), Errno> {
        if self.push_line(line) {
            return Ok(());
        }
        self.flush(now)?;
        if !self.push_line(line) {
            self.overflow = true;
        }
        Ok(())
    }

    /// Writes pending output without blocking. Returns Err(errno) when the
    /// output broke (it is then closed and its buffer dropped).
    pub fn flush(&mut self, now: Mono) -> Result<(), Errno> {
        while let Some(out_fd) = self.out_fd
            && self.send_len > 0
        {
            match sys::write(out_fd, &self.send[..self.send_len]) {
                Ok(n) => {
                    self.send.copy_within(n..self.send_len, 0);
                    self.send_len -= n;
                    self.blocked_since = Mono::ZERO;
                    if self.send_len == 0 && self.overflow {
                        self.overflow = false;
                        self.abandoned = false;
                        self.push_line(b"overflow");
                    }
                }
                Err(Errno::AGAIN) => {
                    if self.blocked_since == Mono::ZERO {
                        self.blocked_since = now;
                        self.warn_at = now + Dur::from_secs(self.reset_timeout);
                    }
                    return Ok(());
                }
                Err(Errno::INTR) => {}
                Err(e) => {
                    self.close_output();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Stops output; later lines are discarded.
    pub fn close_output(&mut self) {
        if let Some(fd) = self.out_fd.take()
            && self.in_fd != Some(fd)
        {
            sys::close(fd);
        }
        self.send_len = 0;
        self.overflow = false;
        self.abandoned = false;
        self.blocked_since = Mono::ZERO;
    }

    /// What blocked output's timeouts call for at `now` (§8.4): past the
    /// close timeout the controller is closed; each reset timeout a
    /// warning, and with the input full too the output is abandoned (the
    /// peer is not reading: lines are dropped until it does).
    pub fn stall(&mut self, now: Mono) -> Stall {
        let since = self.blocked_since;
        if since == Mono::ZERO || self.send_len == 0 {
            return Stall::None;
        }
        let late = now.since(since).as_secs();
        if late >= self.close_timeout as u64 {
            return Stall::Close(late);
        }
        if now < self.warn_at {
            return Stall::None;
        }
        self.warn_at = now + Dur::from_secs(self.reset_timeout.max(1));
        if self.input_full() {
            self.overflow = true;
            self.abandoned = true;
        }
        Stall::Warn(late)
    }

    /// When blocked output's timeouts need the loop awake.
    pub fn stall_wake_at(&self) -> Option<Mono> {
        let since = self.blocked_since;
        if since == Mono::ZERO || self.send_len == 0 {
            return None;
        }
        Some(self.warn_at.min(since + Dur::from_secs(self.close_timeout)))
    }

    /// Closes everything and frees the slot; returns leftover ancillary
    /// descriptors (already closed) for the caller to log.
    pub fn close(&mut self) -> ArrayVec<Fd, ANC_MAX> {
        let left = core::mem::take(&mut self.anc);
        for &fd in &left {
            sys::close(fd);
        }
        if let Some(fd) = self.out_fd
            && self.in_fd != Some(fd)
        {
            sys::close(fd);
        }
        if let Some(fd) = self.in_fd {
            sys::close(fd);
        }
        self.reset();
        left
    }

    /// Takes the oldest received descriptor.
    pub fn take_anc(&mut self) -> Option<Fd> {
        self.anc.pop_at(0)
    }
}

#[cfg(test)]
mod tests;
