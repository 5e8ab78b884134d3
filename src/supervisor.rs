//! The one owner of state: services, named fds, controllers, signals and the
//! log, plus the output paths (reply, broadcast) and the statedump.
//!
//! Section numbers (§N.N) throughout the sources are those of
//! docs/protocol.md.

use crate::control_socket::Listener;
use crate::controller::{Controller, Dump, DumpPart, Kind as CtlKind, SLOTS};
use crate::exit;
use crate::fd_table::FdTable;
use crate::fmt::{Buf, Bytes};
use crate::log::{Level, Log};
use crate::name::Name;
use crate::service::{ServiceTable, State, Var};
use crate::signal::Signals;
use crate::sys::{self, Fd};
use crate::time::Mono;

/// A formatted output line (without its LF).
pub type Line = Buf<1152>;

/// Everything the daemon knows.
pub struct Supervisor {
    /// This loop iteration's clock reading.
    pub now: Mono,
    /// The log.
    pub log: Log,
    /// Services.
    pub services: ServiceTable,
    /// Named descriptors.
    pub fds: FdTable,
    /// Controller slots.
    pub ctl: [Controller; SLOTS],
    /// Pending signals.
    pub signals: Signals,
    /// `terminate` succeeded with this code.
    pub terminate: Option<i64>,
    /// The control socket.
    pub listener: Listener,
    /// Read end of the signal self-pipe (None until it is made, or if it
    /// could not be).
    pub wake_r: Option<Fd>,
    /// A controller has more buffered commands: poll without waiting.
    pub busy: bool,
    /// A command left work for the loop's earlier steps (a service to
    /// launch): no more commands run until the loop has been round (§8.7
    /// runs about 3 commands per pass; this keeps that order of events
    /// without a pass for every few commands).
    pub loop_due: bool,
    /// Are we PID 1?
    pub pid1: bool,
    /// `--check`: commands run without effects (nothing opened, bound or
    /// started) and errors are counted.
    pub check: bool,
    /// The `-c` file, for `FILE:LINE` in its errors.
    pub config_path: &'static [u8],
    /// Lines of the config file read so far.
    pub config_line: u32,
    /// Config lines that failed.
    pub config_errors: u32,
}

impl Supervisor {
    /// Logs a record built from parts.
    pub fn log(&mut self, level: Level, parts: &[&[u8]]) {
        self.log.put(level, parts, self.now);
    }

    /// Logs `controller[I` followed by `parts` (at most 4).
    pub fn log_controller(&mut self, level: Level, i: usize, parts: &[&[u8]]) {
        self.log_numbered(level, b"controller[", i, parts);
    }

    /// Logs `prefix`, the number `i`, then `parts` (at most 4).
    #[inline(never)]
    pub fn log_numbered(&mut self, level: Level, prefix: &[u8], i: usize, parts: &[&[u8]]) {
        if !self.log.enabled(level) {
            return;
        }
        let mut n = [0u8; 20];
        let mut all: [&[u8]; 6] = [
            prefix,
            crate::fmt::fmt_u64(i as u64, &mut n),
            b"",
            b"",
            b"",
            b"",
        ];
        for (a, p) in all[2..].iter_mut().zip(parts) {
            *a = p;
        }
        self.log(level, &all);
    }

    /// Queues `line` + LF to controller `i`, flushing or marking overflow
    /// when the send buffer is full.
    pub fn queue(&mut self, i: usize, line: &[u8]) {
        if !self.ctl[i].takes_output() {
            return;
        }
        if self.log.enabled(Level::Debug) {
            self.log_numbered(
                Level::Debug,
                b"client[",
                i,
                &[b"] event: \"", line, b"\n\""],
            );
        }
        if self.ctl[i].send_line(line, self.now).is_err() {
            self.log_output_closed(i);
        }
    }

    /// Counts a line the config controller `i` takes; others are not counted.
    #[inline(always)]
    pub fn count_line(&mut self, i: usize) {
        if self.ctl[i].kind == CtlKind::Config {
            self.config_line += 1;
        }
    }

    /// Logs a failed line of the config file as `FILE:LINE: ` and `parts`
    /// (instead of the `controller[N]` records), with the hint when the
    /// caller found spaces where TABs belong.
    #[cold]
    #[inline(never)]
    pub fn config_error(&mut self, spaces: bool, parts: [&[u8]; 3]) {
        sys::cold_ran();
        self.config_errors += 1;
        let mut n = [0u8; 20];
        let number = crate::fmt::fmt_u64(self.config_line as u64, &mut n);
        let hint: &[u8] = if spaces {
            cold!(b" (fields are separated by TABs, not spaces)")
        } else {
            b""
        };
        let [a, b, c] = parts;
        let path = self.config_path;
        self.log(Level::Error, &[path, b":", number, b": ", a, b, c, hint]);
    }

    /// Sends a line to the issuing controller only.
    pub fn reply(&mut self, i: usize, line: &[u8]) {
        self.queue(i, line);
    }

    /// Sends the issuing controller a line joined from `parts`. Out of line
    /// (as every function with a Line is), so callers' frames stay small.
    #[inline(never)]
    pub fn reply_parts(&mut self, i: usize, parts: &[&[u8]]) {
        let mut b = Line::new();
        for p in parts {
            b.bytes(p);
        }
        self.reply(i, b.as_bytes());
    }

    /// Sends a line to every controller with an output.
    pub fn broadcast(&mut self, line: &[u8]) {
        for i in 0..SLOTS {
            self.queue(i, line);
        }
    }

    /// Debug-logs that controller `i`'s output broke.
    pub fn log_output_closed(&mut self, i: usize) {
        self.log_controller(Level::Debug, i, &[b"] output closed"]);
    }

    /// Broadcasts a service's `service.state`.
    #[inline(never)]
    pub fn broadcast_state(&mut self, slot: usize) {
        let mut b = Line::new();
        self.services.get(slot).write_state(&mut b, self.now);
        self.broadcast(b.as_bytes());
    }

    /// Makes a service start-pending at `at` and broadcasts it; false when
    /// it is running. The loop's earlier steps launch it: no more commands
    /// run until the loop has been round (see `loop_due`).
    pub fn start_service(&mut self, slot: usize, at: Mono) -> bool {
        if self.services.request_start(slot, at).is_err() {
            return false;
        }
        self.loop_due = true;
        self.broadcast_state(slot);
        true
    }

    /// Broadcasts `fd.state` of a named descriptor.
    #[inline(never)]
    pub fn broadcast_fd(&mut self, slot: usize) {
        let mut b = Line::new();
        self.fds.write_state(slot, &mut b);
        self.broadcast(b.as_bytes());
    }

    /// Formats one of a service's four configuration lines.
    pub fn write_var(&self, slot: usize, v: Var, b: &mut Bytes) {
        let svc = self.services.get(slot);
        let value = self.services.var(slot, v);
        b.bytes(v.command()).tab().bytes(svc.name.as_bytes()).tab();
        match v {
            Var::Fds if svc.fds_default => b.bytes(b"null\tnull\tnull"),
            Var::Triggers if value.is_empty() => b.byte(b'-'),
            Var::Triggers => b.uint(svc.interval as u64).tab().bytes(value),
            Var::Args | Var::Tags | Var::Fds => b.bytes(value),
        };
    }

    /// Broadcasts one configuration line of a service.
    #[inline(never)]
    pub fn broadcast_var(&mut self, slot: usize, v: Var) {
        let mut b = Line::new();
        self.write_var(slot, v, &mut b);
        self.broadcast(b.as_bytes());
    }

    /// Sends controller `i` every signal newer than it has seen (§8.3).
    pub fn deliver_signals(&mut self, i: usize) {
        while self.ctl[i].has_output() && !self.ctl[i].overflowing() {
            let Some((sig, ts, count)) = self.signals.next_after(self.ctl[i].last_signal) else {
                break;
            };
            self.ctl[i].last_signal = ts;
            self.reply_signal(i, sig, ts, count);
        }
    }

    /// Sends one `signal` event to controller `i`. Out of line (as every
    /// function with a Line is), so the idle loop's stack stays shallow.
    #[inline(never)]
    fn reply_signal(&mut self, i: usize, sig: i32, ts: Mono, count: u32) {
        let mut b = Line::new();
        crate::signal::write_event(&mut b, sig, ts, count);
        self.reply(i, b.as_bytes());
    }

    /// Continues controller `i`'s statedump; true when it is finished.
    /// Cold: a controller dumps when it (re)starts, not in steady state. It
    /// runs a chunk per wake-up, so the cold text is let go once the dump
    /// is done, not after every chunk (which would fault it back each time).
    #[cold]
    #[inline(never)]
    pub fn continue_dump(&mut self, i: usize) -> bool {
        let Some(mut d) = self.ctl[i].dump else {
            return true;
        };
        let done = loop {
            let c = &self.ctl[i];
            if c.output_high() {
                break false;
            }
            let mut b = Line::new();
            // Names are never empty, so an empty name sorts first and is
            // never found.
            let name = d.name.as_bytes();
            match d.part {
                DumpPart::Fds => match self.fds.sorted(self.fds.after(name)) {
                    Some(slot) => {
                        self.fds.write_state(slot, &mut b);
                        d.name = self.fds.get(slot).name;
                    }
                    None => d = Dump::at(DumpPart::Services),
                },
                DumpPart::Services => {
                    let current = self.services.find(name).filter(|_| d.line < 5);
                    let slot = current.or_else(|| {
                        d.line = 0;
                        self.services.sorted(self.services.after(name))
                    });
                    match slot {
                        Some(s) => {
                            d.name = self.services.get(s).name;
                            match Var::DUMP_ORDER.get(usize::from(d.line).wrapping_sub(1)) {
                                Some(&v) => self.write_var(s, v, &mut b),
                                None => self.services.get(s).write_state(&mut b, self.now),
                            }
                            d.line += 1;
                        }
                        None => d = Dump::at(DumpPart::Signals),
                    }
                }
                DumpPart::Signals => match self.signals.next_after(d.signal_after) {
                    Some((sig, ts, count)) => {
                        d.signal_after = ts;
                        crate::signal::write_event(&mut b, sig, ts, count);
                    }
                    None => break true,
                },
            }
            if !b.is_empty() {
                self.reply(i, b.as_bytes());
            }
        };
        self.ctl[i].dump = if done { None } else { Some(d) };
        if done {
            sys::cold_ran();
        }
        done
    }

    /// Logs `warning: service 'NAME' running as pid PID` for each running
    /// service, in name order.
    #[cold]
    pub fn log_running(&mut self) {
        let mut pos = 0;
        while let Some(slot) = self.services.sorted(pos) {
            pos += 1;
            let svc = self.services.get(slot);
            if svc.state() == State::Up {
                let mut pid = [0u8; 20];
                let pid = crate::fmt::fmt_u64(svc.pid() as u64, &mut pid);
                let parts: [&[u8]; 4] = [
                    cold!(b"service '"),
                    svc.name.as_bytes(),
                    cold!(b"' running as pid "),
                    pid,
                ];
                self.log.put(Level::Warning, &parts, self.now);
            }
        }
    }

    /// fatal(code, msg) (§11.3): `exit::fatal`, reporting here.
    #[cold]
    pub fn fatal(&mut self, code: i32, msg: &[u8]) {
        exit::fatal(self, code, msg);
    }

    /// Frees controller `i` after its input ended (§3.6 steps 3–4). Returns
    /// true when this ends the daemon (interactive EOF without a guard).
    pub fn close_controller(&mut self, i: usize) -> bool {
        let kind = self.ctl[i].kind;
        let now = self.now;
        if self.ctl[i].dump.is_some() {
            // A dump cut short never reaches the end that lets the cold
            // text go (see continue_dump).
            sys::cold_ran();
        }
        let _ = self.ctl[i].flush(now);
        for fd in self.ctl[i].close() {
            let mut b = [0u8; 20];
            let b = crate::fmt::fmt_u64(fd.raw() as u64, &mut b);
            self.log(
                Level::Warning,
                &[b"closing leftover ancillary file descriptor ", b],
            );
        }
        if kind == CtlKind::Interactive {
            if exit::guard() != 0 {
                self.log(
                    Level::Warning,
                    &[b"interactive session ended, but not exiting due to terminate-guard"],
                );
                return false;
            }
            self.log(Level::Info, &[b"interactive session ended"]);
            return true;
        }
        false
    }

    /// Finds a free controller slot.
    pub fn free_slot(&self) -> Option<usize> {
        self.ctl.iter().position(|c| !c.active())
    }

    /// Re-points a named descriptor (stdin/stdout/stderr) at a new dup of
    /// /dev/null, keeping its displayed flags (§2.2).
    #[cold]
    pub fn repoint_to_null(&mut self, name: &[u8]) {
        let null = self.fds.fd_of(b"null");
        if let Some(s) = self.fds.find(name) {
            let fd = null.and_then(|null| sys::dup_above(null, Fd::PAST_STANDARD).ok());
            self.fds.get_mut(s).fd = fd;
        }
    }

    /// Current descriptor number of a name, for the log's re-attach.
    pub fn fd_lookup(fds: &FdTable) -> impl Fn(&Name) -> Option<Fd> + '_ {
        move |n: &Name| fds.fd_of(n.as_bytes())
    }
}

/// fatal()'s report: the log, the running services, and a flush before
/// the exec.
impl exit::Report for Supervisor {
    fn log(&mut self, level: Level, parts: &[&[u8]]) {
        Supervisor::log(self, level, parts);
    }

    fn log_running(&mut self) {
        Supervisor::log_running(self);
    }

    fn flush(&mut self) {
        let now = self.now;
        self.log.run(now, |_| None);
        exit::set_log_fd(self.log.fd());
    }
}
