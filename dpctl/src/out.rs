//! Text output: a line buffer for stdout and stderr, and the number and
//! duration formats of the status table.

use crate::sys::{self, Fd};

/// A fixed buffer in front of a descriptor; flushed when full and on
/// request. A failed write (a closed pipe) ends the process with status 1.
pub struct Out {
    fd: Fd,
    buf: [u8; 4096],
    len: usize,
}

impl Out {
    /// Output to `fd`.
    pub const fn new(fd: Fd) -> Out {
        Out {
            fd,
            buf: [0; 4096],
            len: 0,
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        if self.len > 0 && sys::write_all(self.fd, &self.buf[..self.len]).is_err() {
            sys::exit(1);
        }
        self.len = 0;
    }
}

/// Somewhere to put text.
pub trait Sink {
    /// Appends bytes.
    fn put(&mut self, b: &[u8]) -> &mut Self;

    /// Appends a decimal number.
    fn num(&mut self, n: u64) -> &mut Self {
        let mut d = [0u8; 20];
        self.put(decimal(n, &mut d))
    }
}

impl Sink for Out {
    fn put(&mut self, mut b: &[u8]) -> &mut Out {
        while !b.is_empty() {
            if self.len == self.buf.len() {
                self.flush();
            }
            let n = b.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
            self.len += n;
            b = &b[n..];
        }
        self
    }
}

/// Text kept whole until it is printed (the status table needs every row
/// to size its columns): anonymous memory reserved once, used from the
/// start. What does not fit is dropped and `full` set.
pub struct Arena {
    buf: &'static mut [u8],
    /// Bytes used.
    pub len: usize,
    /// Something did not fit.
    pub full: bool,
}

impl Arena {
    /// An arena of `size` bytes (None: no memory).
    pub fn new(size: usize) -> Option<Arena> {
        Some(Arena {
            buf: sys::scratch(size).ok()?,
            len: 0,
            full: false,
        })
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.len = 0;
        self.full = false;
    }

    /// What was put so far.
    pub fn text(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Sink for Arena {
    fn put(&mut self, b: &[u8]) -> &mut Arena {
        if self.len + b.len() <= self.buf.len() {
            self.buf[self.len..self.len + b.len()].copy_from_slice(b);
            self.len += b.len();
        } else {
            self.full = true;
        }
        self
    }
}

/// `n` in decimal, in the tail of `buf`.
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// A whole non-negative decimal number (no sign, no spaces), as the
/// protocol prints them.
pub fn parse_num(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 18 {
        return None;
    }
    s.iter().try_fold(0u64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
    })
}

/// A duration in seconds the way the status table shows it: `4s`,
/// `3m12s`, `2h5m`, `3d4h`.
pub fn duration(out: &mut impl Sink, s: u64) {
    let (big, unit_big, small, unit_small) = match s {
        0..60 => {
            out.num(s).put(b"s");
            return;
        }
        60..3600 => (s / 60, b"m", s % 60, b"s"),
        3600..86400 => (s / 3600, b"h", s / 60 % 60, b"m"),
        _ => (s / 86400, b"d", s / 3600 % 24, b"h"),
    };
    out.num(big).put(unit_big).num(small).put(unit_small);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: u64) -> String {
        let mut o = Out::new(-1);
        duration(&mut o, s);
        String::from_utf8(o.buf[..o.len].to_vec()).unwrap()
    }

    #[test]
    fn durations() {
        assert_eq!(fmt(0), "0s");
        assert_eq!(fmt(59), "59s");
        assert_eq!(fmt(192), "3m12s");
        assert_eq!(fmt(3600 * 2 + 5 * 60 + 9), "2h5m");
        assert_eq!(fmt(86400 * 3 + 3600 * 4 + 1), "3d4h");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_num(b"0"), Some(0));
        assert_eq!(parse_num(b"1234"), Some(1234));
        assert_eq!(parse_num(b""), None);
        assert_eq!(parse_num(b"-1"), None);
        assert_eq!(parse_num(b"1x"), None);
        let mut d = [0u8; 20];
        assert_eq!(decimal(u64::MAX, &mut d), b"18446744073709551615");
    }
}
