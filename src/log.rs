//! The log: one 1024-byte record buffer written to a raw descriptor number,
//! with the original's blocked / retry / "lost N log messages" behaviour.
//!
//! A write never stalls the loop for more than 1/16 s: a one-shot interval
//! timer interrupts it (the SIGALRM handler only wakes the loop).

use crate::fmt::fmt_u64;
use crate::name::Name;
use crate::proto;
use crate::sys;
use crate::time::{Dur, Mono};

/// Log levels; a record is written when its level is above the filter.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(i8)]
pub enum Level {
    None = -3,
    Trace = -2,
    Debug = -1,
    Info = 0,
    Warning = 1,
    Error = 2,
    Fatal = 3,
}

impl Level {
    const ALL: [Level; 7] = [
        Level::None,
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warning,
        Level::Error,
        Level::Fatal,
    ];

    /// Level names, from `none` up.
    const NAMES: &'static [u8] = b"none trace debug info warning error fatal";

    /// The level's printed name.
    pub fn name(self) -> &'static [u8] {
        proto::nth_word(Level::NAMES, (self as i32 + 3) as usize).unwrap_or(b"")
    }

    /// Parses a level name.
    pub fn by_name(n: &[u8]) -> Option<Level> {
        proto::word_index(Level::NAMES, n).and_then(|i| Level::ALL.get(i).copied())
    }

    /// The level `steps` away, clamped to none…fatal.
    pub fn step(self, steps: i32) -> Level {
        let v = (self as i32 + steps).clamp(-3, 3);
        Level::ALL[(v + 3) as usize]
    }
}

/// Size of the record buffer.
pub const LOG_BUF: usize = 1024;
/// How long after a failed retry the next one is.
const RETRY_INTERVAL: Dur = Dur::from_ms(500);
const WRITE_GUARD_USEC: i64 = 62_500;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Blocked {
    No,
    /// The last write failed: retry when the descriptor is writable.
    WaitWritable,
    /// Writability was not to be trusted: retry at this time.
    RetryAt(Mono),
}

/// The log module's state.
pub struct Log {
    /// LOG_BUF bytes, reserved at startup.
    buf: &'static mut [u8],
    len: usize,
    /// Current filter.
    pub filter: Level,
    fd: Option<sys::Fd>,
    dest: Option<Name>,
    blocked: Blocked,
    lost: u32,
}

impl Log {
    /// Logging to fd 2 with filter `debug`, into `buf` (LOG_BUF bytes).
    pub fn new(buf: &'static mut [u8]) -> Self {
        Log {
            buf,
            len: 0,
            filter: Level::Debug,
            fd: Some(sys::Fd::STDERR),
            dest: None,
            blocked: Blocked::No,
            lost: 0,
        }
    }

    /// Would a record at `level` be written?
    pub fn enabled(&self, level: Level) -> bool {
        level > self.filter
    }

    /// The descriptor records go to (None when detached).
    pub fn fd(&self) -> Option<sys::Fd> {
        self.fd
    }

    /// Appends `LEVEL: parts…\n` and tries to write it out.
    pub fn put(&mut self, level: Level, parts: &[&[u8]], now: Mono) {
        if !self.enabled(level) {
            return;
        }
        let size = level.name().len() + 3 + parts.iter().map(|p| p.len()).sum::<usize>();
        if self.lost > 0 || self.len + size > LOG_BUF {
            self.lost = self.lost.saturating_add(1);
            // A record longer than the whole buffer, with nothing waiting:
            // no write would come to report the loss, and every later
            // record would be dropped for good. Report it now.
            if self.len == 0 && self.blocked == Blocked::No {
                self.note_lost();
                self.flush(now);
            }
            return;
        }
        self.push(level.name());
        self.push(b": ");
        for p in parts {
            self.push(p);
        }
        self.push(b"\n");
        if self.blocked == Blocked::No {
            self.flush(now);
        }
    }

    /// Writes the buffer out, adding the "lost" warning once space is free.
    fn flush(&mut self, now: Mono) {
        while let Some(fd) = self.fd
            && self.len > 0
        {
            sys::alarm_usec(WRITE_GUARD_USEC);
            let r = sys::write(fd, &self.buf[..self.len]);
            sys::alarm_usec(0);
            match r {
                Ok(n) if n > 0 => {
                    self.buf.copy_within(n..self.len, 0);
                    self.len -= n;
                    self.blocked = Blocked::No;
                    if self.lost > 0 {
                        self.note_lost();
                    }
                }
                _ => {
                    self.blocked = match self.blocked {
                        Blocked::No => Blocked::WaitWritable,
                        _ => Blocked::RetryAt(now + RETRY_INTERVAL),
                    };
                    return;
                }
            }
        }
    }

    /// Appends bytes the caller made room for.
    #[inline(never)]
    fn push(&mut self, b: &[u8]) {
        if let Some(room) = self.buf.get_mut(self.len..self.len + b.len()) {
            room.copy_from_slice(b);
            self.len += b.len();
        }
    }

    fn note_lost(&mut self) {
        let mut n = [0u8; 20];
        let n = fmt_u64(self.lost as u64, &mut n);
        const BEFORE: &[u8] = b"warning: lost ";
        const AFTER: &[u8] = b" log messages\n";
        if self.len + BEFORE.len() + n.len() + AFTER.len() <= LOG_BUF {
            self.push(BEFORE);
            self.push(n);
            self.push(AFTER);
            self.lost = 0;
        }
    }

    /// `log.dest fd NAME`: detach now, attach by name later (see `run`).
    pub fn set_dest(&mut self, name: Name) {
        self.fd = None;
        self.dest = Some(name);
    }

    /// Detaches if the log currently writes to `fd`.
    pub fn forget_fd(&mut self, fd: sys::Fd) {
        if self.fd == Some(fd) {
            self.fd = None;
        }
    }

    /// Loop step: attach by name if detached (with `lookup` giving the
    /// descriptor currently carrying a name), and retry when due.
    pub fn run(&mut self, now: Mono, lookup: impl Fn(&Name) -> Option<sys::Fd>) {
        if self.fd.is_none() {
            if let Some(fd) = self.dest.as_ref().and_then(&lookup) {
                self.fd = Some(fd);
                self.blocked = Blocked::No;
                self.flush(now);
            }
            return;
        }
        match self.blocked {
            Blocked::RetryAt(t) if now >= t => self.flush(now),
            Blocked::No if self.len > 0 => self.flush(now),
            _ => {}
        }
    }

    /// The descriptor to watch for writability, if a retry waits on it.
    pub fn wants_writable(&self) -> Option<sys::Fd> {
        self.fd
            .filter(|_| self.blocked == Blocked::WaitWritable && self.len > 0)
    }

    /// The descriptor became writable: retry.
    pub fn writable(&mut self, now: Mono) {
        self.flush(now);
    }

    /// When the loop must wake for a timed retry.
    pub fn wake_at(&self) -> Option<Mono> {
        match self.blocked {
            Blocked::RetryAt(t) if self.fd.is_some() && self.len > 0 => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_to(fd: sys::Fd) -> Log {
        let buf: &'static mut [u8] = Box::leak(Box::new([0u8; LOG_BUF]));
        let mut log = Log::new(buf);
        log.fd = Some(fd);
        log
    }

    fn drain(r: sys::Fd) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = [0u8; LOG_BUF];
        while let Ok(n @ 1..) = sys::read(r, &mut buf) {
            all.extend_from_slice(&buf[..n]);
        }
        all
    }

    #[test]
    fn failed_writes_wait_for_writable_then_retry_on_time() {
        let t0 = Mono::from_secs(7);
        let (r, w) = sys::pipe(true).unwrap();
        // A write to the pipe's read end fails, as a broken log would.
        let mut log = log_to(r);
        log.put(Level::Error, &[b"one"], t0);
        assert_eq!(log.wants_writable(), Some(r));
        assert_eq!(log.wake_at(), None);
        // Writable but failing again: retry after the interval, by time.
        log.writable(t0);
        assert_eq!(log.wants_writable(), None);
        let retry = t0 + RETRY_INTERVAL;
        assert_eq!(log.wake_at(), Some(retry));
        // Records queue meanwhile; none is written before the retry time.
        log.put(Level::Warning, &[b"two"], t0);
        log.fd = Some(w);
        log.run(t0 + Dur::from_ms(499), |_| None);
        assert_eq!(drain(r), b"");
        log.run(retry, |_| None);
        assert_eq!(drain(r), b"error: one\nwarning: two\n");
        assert_eq!(log.wake_at(), None);
        // Unblocked, a record goes out at once.
        log.put(Level::Info, &[b"three"], retry);
        assert_eq!(drain(r), b"info: three\n");
        sys::close(r);
        sys::close(w);
    }

    #[test]
    fn records_past_the_buffer_are_counted_as_lost() {
        let t0 = Mono::from_secs(1);
        let (r, w) = sys::pipe(true).unwrap();
        let mut log = log_to(r);
        log.put(Level::Error, &[&[b'a'; 600]], t0);
        log.put(Level::Error, &[&[b'b'; 600]], t0);
        log.put(Level::Error, &[b"c"], t0);
        log.fd = Some(w);
        log.writable(t0);
        let out = drain(r);
        assert!(out.starts_with(b"error: aaa"));
        assert!(out.ends_with(b"aaa\nwarning: lost 2 log messages\n"));
        sys::close(r);
        sys::close(w);
    }

    #[test]
    fn level_names() {
        for l in Level::ALL {
            assert_eq!(Level::by_name(l.name()), Some(l));
        }
        assert_eq!(Level::Warning.name(), b"warning");
        assert_eq!(Level::by_name(b"DEBUG"), None);
        assert_eq!(Level::Fatal.step(1), Level::Fatal);
    }
}
