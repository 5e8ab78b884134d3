//! Signal names and the pending-signal table.
//!
//! Handled signals are counted here by the event loop after the handler
//! (in `sys`-level code in `event_loop`) has written their numbers to the
//! self-pipe.

use crate::proto;
use crate::sys::Reservation;
use crate::time::{Dur, Mono};

// Signal names in the original's list order, and their numbers; number →
// name uses the first match, so 6 prints as ABRT and 31 as SYS.
keyword_table!(NAMES, NUMBERS: [i32] {
    "ABRT" => libc::SIGABRT,
    "ALRM" => libc::SIGALRM,
    "BUS" => libc::SIGBUS,
    "CHLD" => libc::SIGCHLD,
    "CLD" => libc::SIGCHLD,
    "CONT" => libc::SIGCONT,
    "FPE" => libc::SIGFPE,
    "HUP" => libc::SIGHUP,
    "ILL" => libc::SIGILL,
    "INT" => libc::SIGINT,
    "IO" => libc::SIGIO,
    "IOT" => libc::SIGIOT,
    "KILL" => libc::SIGKILL,
    "PIPE" => libc::SIGPIPE,
    "POLL" => libc::SIGPOLL,
    "PROF" => libc::SIGPROF,
    "PWR" => libc::SIGPWR,
    "QUIT" => libc::SIGQUIT,
    "SEGV" => libc::SIGSEGV,
    "STKFLT" => crate::sys::arch::SIGSTKFLT,
    "STOP" => libc::SIGSTOP,
    "SYS" => libc::SIGSYS,
    "TERM" => libc::SIGTERM,
    "TRAP" => libc::SIGTRAP,
    "TSTP" => libc::SIGTSTP,
    "TTIN" => libc::SIGTTIN,
    "TTOU" => libc::SIGTTOU,
    "UNUSED" => libc::SIGSYS,
    "URG" => libc::SIGURG,
    "USR1" => libc::SIGUSR1,
    "USR2" => libc::SIGUSR2,
    "VTALRM" => libc::SIGVTALRM,
    "WINCH" => libc::SIGWINCH,
    "XCPU" => libc::SIGXCPU,
    "XFSZ" => libc::SIGXFSZ,
});

/// Highest signal number tracked.
pub const MAX_SIG: usize = 64;

/// The table name of a signal number (without `SIG`), or `-?`.
pub fn name(sig: i32) -> &'static [u8] {
    NUMBERS
        .iter()
        .position(|&s| s == sig)
        .and_then(|i| proto::nth_word(NAMES, i))
        .unwrap_or(b"-?")
}

/// Looks up a name, with or without the `SIG` prefix.
pub fn by_name(n: &[u8]) -> Option<i32> {
    let n = if n.len() > 3 && n.starts_with(b"SIG") {
        &n[3..]
    } else {
        n
    };
    if n.is_empty() || n.len() > 8 {
        return None;
    }
    proto::word_index(NAMES, n).and_then(|i| NUMBERS.get(i).copied())
}

/// Why a SIGNAL argument was rejected.
#[derive(Debug, PartialEq, Eq)]
pub enum SigArgError {
    Missing,
    BadNumber,
}

/// Parses a SIGNAL argument (§3.5): digits give a number 0…65535, anything
/// else is a name, and an unknown name silently means 0.
pub fn parse_arg(f: Option<&[u8]>) -> Result<i32, SigArgError> {
    let f = match f {
        None | Some(b"") => return Err(SigArgError::Missing),
        Some(f) => f,
    };
    if f[0].is_ascii_digit() {
        if !f.iter().all(u8::is_ascii_digit) {
            return Err(SigArgError::BadNumber);
        }
        // Any number of leading zeros; a value past u32 stays past 65535.
        let v = f.iter().fold(0u32, |v, &d| {
            v.saturating_mul(10).saturating_add((d - b'0') as u32)
        });
        return if v <= 65535 {
            Ok(v as i32)
        } else {
            Err(SigArgError::BadNumber)
        };
    }
    Ok(by_name(f).unwrap_or(0))
}

/// Writes `signal\tSIGNAME\tTS\tCOUNT` (§5.2).
pub fn write_event(b: &mut crate::fmt::Bytes, sig: i32, ts: Mono, count: u32) {
    b.bytes(b"signal\tSIG")
        .bytes(name(sig))
        .tab()
        .uint(ts.as_secs())
        .tab()
        .uint(count as u64);
}

/// Every signal the daemon handles: those reported as `signal` events
/// (the first PID1_ONLY of them only as PID 1), those that only wake the
/// loop, then those that end in fatal().
pub const HANDLED: [i32; 17] = [
    libc::SIGPWR,
    libc::SIGWINCH,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGQUIT,
    libc::SIGCHLD,
    libc::SIGALRM,
    libc::SIGPIPE,
    libc::SIGABRT,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGTRAP,
];
/// SIGPWR and SIGWINCH are init's signals (a power failure, the keyboard
/// request): the daemon takes them over only as PID 1. Otherwise they keep
/// their inherited disposition (§9.1), in the daemon and its services.
pub const PID1_ONLY: usize = 2;
/// Signals reported as `signal` events.
pub const RECORDED: &[i32] = HANDLED.split_at(8).0;
/// Signals whose handler wakes the loop (the recorded ones among them).
pub const WAKING: &[i32] = HANDLED.split_at(11).0;
/// Signals that end in fatal().
pub const FATAL: &[i32] = HANDLED.split_at(11).1;

/// Pending counts and last-arrival times of the recorded signals.
pub struct Signals {
    count: &'static mut [u32; MAX_SIG + 1],
    last: &'static mut [Mono; MAX_SIG + 1],
    stamp: Mono,
    /// Bit per signal that arrived since the service triggers last looked.
    pub fresh: u64,
}

impl Signals {
    /// Bytes `new` takes from a reservation.
    pub const fn size() -> usize {
        Reservation::size_of::<[u32; MAX_SIG + 1]>(1)
            + Reservation::size_of::<[Mono; MAX_SIG + 1]>(1)
    }

    /// No signal pending; the tables come from `res` and stay untouched
    /// until a signal arrives.
    #[cold]
    pub fn new(res: &mut Reservation) -> Option<Self> {
        Some(Signals {
            count: res.take::<[u32; MAX_SIG + 1]>(1)?.first_mut()?,
            last: res.take::<[Mono; MAX_SIG + 1]>(1)?.first_mut()?,
            stamp: Mono::ZERO,
            fresh: 0,
        })
    }

    /// Counts one arrival at `now`; two arrivals never share a timestamp and
    /// zero is never used.
    pub fn record(&mut self, sig: i32, now: Mono) {
        let s = sig as usize;
        if s == 0 || s > MAX_SIG {
            return;
        }
        let ts = if now > self.stamp {
            now
        } else {
            self.stamp + Dur::from_raw(1)
        };
        self.stamp = ts;
        self.count[s] = self.count[s].saturating_add(1);
        self.last[s] = ts;
        self.fresh |= 1 << s;
    }

    /// signal.clear: lowers the count (a negative `by` raises it). A signal
    /// that never arrived has no entry to change (§9.2: an entry is made
    /// by an arrival and kept after a clear), so it stays at 0: a count
    /// without an arrival time would be pending yet never listed.
    pub fn clear(&mut self, sig: i32, by: i64) {
        let s = sig as usize;
        if s == 0 || s > MAX_SIG || self.last[s] == Mono::ZERO {
            return;
        }
        let v = (self.count[s] as i64)
            .saturating_sub(by)
            .clamp(0, u32::MAX as i64);
        self.count[s] = v as u32;
    }

    /// Pending count of `sig`.
    #[cfg(test)]
    pub fn count(&self, sig: i32) -> u32 {
        self.count.get(sig as usize).copied().unwrap_or(0)
    }

    /// Bit set of signals with a pending count above 0.
    pub fn pending_mask(&self) -> u64 {
        (1..=MAX_SIG)
            .filter(|&s| self.count[s] > 0)
            .fold(0, |m, s| m | 1 << s)
    }

    /// The pending signal with the oldest arrival strictly newer than
    /// `after`: (signal, time, count). It is asked before every command,
    /// and usually nothing arrived since: that is checked inline, without
    /// a call or a scan.
    #[inline(always)]
    pub fn next_after(&self, after: Mono) -> Option<(i32, Mono, u32)> {
        if self.stamp <= after {
            return None;
        }
        self.oldest_after(after)
    }

    #[inline(never)]
    fn oldest_after(&self, after: Mono) -> Option<(i32, Mono, u32)> {
        let mut next: Option<(Dur, usize)> = None;
        for s in 1..=MAX_SIG {
            let since = self.last[s].since(after);
            if self.count[s] > 0 && self.last[s] > after && next.is_none_or(|(d, _)| since < d) {
                next = Some((since, s));
            }
        }
        next.map(|(_, s)| (s as i32, self.last[s], self.count[s]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_ways() {
        assert_eq!(name(6), b"ABRT");
        assert_eq!(name(17), b"CHLD");
        assert_eq!(name(29), b"IO");
        assert_eq!(name(31), b"SYS");
        assert_eq!(name(40), b"-?");
        assert_eq!(by_name(b"SIGIOT"), Some(6));
        assert_eq!(by_name(b"CLD"), Some(17));
        assert_eq!(by_name(b"SIG"), None);
        assert_eq!(by_name(b"term"), None);
    }

    #[test]
    fn signal_arguments() {
        assert_eq!(parse_arg(Some(b"SIGQUIT")), Ok(3));
        assert_eq!(parse_arg(Some(b"QUIT")), Ok(3));
        assert_eq!(parse_arg(Some(b"3")), Ok(3));
        assert_eq!(parse_arg(Some(b"65535")), Ok(65535));
        assert_eq!(parse_arg(Some(b"65536")), Err(SigArgError::BadNumber));
        assert_eq!(parse_arg(Some(b"000001")), Ok(1));
        assert_eq!(
            parse_arg(Some(b"99999999999999999999")),
            Err(SigArgError::BadNumber)
        );
        assert_eq!(parse_arg(Some(b"3x")), Err(SigArgError::BadNumber));
        assert_eq!(parse_arg(Some(b"BOGUS")), Ok(0));
        assert_eq!(parse_arg(Some(b"")), Err(SigArgError::Missing));
        assert_eq!(parse_arg(None), Err(SigArgError::Missing));
    }

    #[test]
    fn counting_and_order() {
        let mut s = Signals::new(&mut Reservation::new(Signals::size()).unwrap()).unwrap();
        s.record(10, Mono::from_secs(5));
        s.record(1, Mono::from_secs(5));
        s.record(10, Mono::from_secs(5));
        assert_eq!(s.count(10), 2);
        let (a, ta, _) = s.next_after(Mono::ZERO).unwrap();
        assert_eq!(a, 1);
        let (b, tb, c) = s.next_after(ta).unwrap();
        assert_eq!((b, c), (10, 2));
        assert!(tb > ta);
        assert!(s.next_after(tb).is_none());
        s.clear(10, 5);
        assert_eq!(s.count(10), 0);
        s.clear(10, -2);
        assert_eq!(s.count(10), 2);
        s.clear(12, -2);
        assert_eq!(s.count(12), 0, "never arrived: no entry to raise");
    }
}
