//! A fixed-capacity byte buffer for building protocol lines and log records
//! without an allocator.

use core::ops::{Deref, DerefMut};

/// A byte buffer whose capacity is the length of `data`. Appends beyond the
/// capacity are dropped and remembered in `truncated`.
pub struct Bytes<T: ?Sized = [u8]> {
    len: usize,
    /// Set when an append did not fit.
    pub truncated: bool,
    data: T,
}

/// A buffer of capacity `N`, on the stack or in a struct.
pub type Buf<const N: usize> = Bytes<[u8; N]>;

impl<const N: usize> Buf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Bytes {
            len: 0,
            truncated: false,
            data: [0; N],
        }
    }
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

// Every fixed-size buffer is used as the one unsized `Bytes`, so its methods
// exist once rather than once per capacity.
impl<const N: usize> Deref for Buf<N> {
    type Target = Bytes;
    fn deref(&self) -> &Bytes {
        self
    }
}

impl<const N: usize> DerefMut for Buf<N> {
    fn deref_mut(&mut self) -> &mut Bytes {
        self
    }
}

impl Bytes {
    /// The bytes written so far.
    #[inline(never)]
    pub fn as_bytes(&self) -> &[u8] {
        self.data.get(..self.len).unwrap_or_default()
    }

    /// Number of bytes written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Forgets what was written after the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets the contents.
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }

    /// Appends bytes.
    #[inline(never)]
    pub fn s(&mut self, b: &[u8]) -> &mut Self {
        let room = self.data.get_mut(self.len..).unwrap_or_default();
        let n = b.len().min(room.len());
        room[..n].copy_from_slice(&b[..n]);
        self.len += n;
        if n < b.len() {
            self.truncated = true;
        }
        self
    }

    /// Appends one byte.
    pub fn c(&mut self, b: u8) -> &mut Self {
        self.s(&[b])
    }

    /// Appends a TAB.
    pub fn tab(&mut self) -> &mut Self {
        self.c(b'\t')
    }

    /// Appends an unsigned decimal.
    pub fn u(&mut self, v: u64) -> &mut Self {
        let mut tmp = [0u8; 20];
        let s = fmt_u64(v, &mut tmp);
        self.s(s)
    }

    /// Appends a signed decimal.
    pub fn i(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.c(b'-');
        }
        self.u(v.unsigned_abs())
    }
}

/// Formats `v` in decimal into the tail of `tmp`.
#[inline(never)]
pub fn fmt_u64(mut v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &tmp[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_truncation() {
        let mut b = Buf::<8>::new();
        b.u(0).c(b' ').i(-42);
        assert_eq!(b.as_bytes(), b"0 -42");
        b.s(b"abcdef");
        assert_eq!(b.as_bytes(), b"0 -42abc");
        assert!(b.truncated);
        let mut t = [0; 20];
        assert_eq!(fmt_u64(u64::MAX, &mut t), b"18446744073709551615");
    }
}
