//! A fixed-capacity byte buffer for building protocol lines and log records
//! without an allocator.

use core::mem::MaybeUninit;
use core::ops::{Deref, DerefMut};

/// A byte buffer whose capacity is the length of `data`. Appends beyond the
/// capacity are dropped and remembered in `truncated`. Only the first `len`
/// bytes are ever written, so a new buffer is not zeroed: a line costs what
/// is written into it, not its capacity.
pub struct Bytes<T: ?Sized = [MaybeUninit<u8>]> {
    len: usize,
    /// Set when an append did not fit.
    pub truncated: bool,
    data: T,
}

/// A buffer of capacity `N`, on the stack or in a struct.
pub type Buf<const N: usize> = Bytes<[MaybeUninit<u8>; N]>;

impl<const N: usize> Buf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Bytes {
            len: 0,
            truncated: false,
            data: [MaybeUninit::uninit(); N],
        }
    }
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

// Every fixed-size buffer is used as the one unsized `Bytes`, so its methods
// exist once rather than once per capacity (`ArrayVec<u8, N>` has them per
// capacity: docs/size-crates.md).
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
        let written = self.data.get(..self.len).unwrap_or_default();
        // SAFETY: the first `len` bytes were written by `s`.
        unsafe { &*(written as *const [MaybeUninit<u8>] as *const [u8]) }
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
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let room = self.data.get_mut(self.len..).unwrap_or_default();
        let n = b.len().min(room.len());
        // SAFETY: room has at least n bytes.
        unsafe { copy_to(room.as_mut_ptr().cast(), &b[..n]) };
        self.len += n;
        if n < b.len() {
            self.truncated = true;
        }
        self
    }

    /// Appends one byte.
    pub fn byte(&mut self, b: u8) -> &mut Self {
        match self.data.get_mut(self.len) {
            Some(d) => {
                d.write(b);
                self.len += 1;
            }
            None => self.truncated = true,
        }
        self
    }

    /// Appends a TAB.
    pub fn tab(&mut self) -> &mut Self {
        self.byte(b'\t')
    }

    /// Appends an unsigned decimal.
    pub fn uint(&mut self, v: u64) -> &mut Self {
        let mut tmp = [0u8; 20];
        let s = fmt_u64(v, &mut tmp);
        self.bytes(s)
    }

    /// Appends a signed decimal.
    pub fn int(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.byte(b'-');
        }
        self.uint(v.unsigned_abs())
    }
}

/// Copies `src` into `dst`, of the same length. Most protocol fields are a
/// few bytes long, and musl's memcpy (`rep movs` on x86_64) takes tens of
/// cycles to start, so up to 16 bytes move as two overlapping loads and
/// stores instead.
pub fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len().min(dst.len());
    // SAFETY: dst has room for n bytes.
    unsafe { copy_to(dst.as_mut_ptr(), &src[..n]) }
}

/// `copy` to memory that may be uninitialized.
///
/// # Safety
/// `d` must be valid for writing `src.len()` bytes.
#[inline(never)]
unsafe fn copy_to(d: *mut u8, src: &[u8]) {
    let (n, s) = (src.len(), src.as_ptr());
    // SAFETY: every access below is within the first n bytes of both.
    unsafe {
        let word = |at: usize, w: usize| core::ptr::copy_nonoverlapping(s.add(at), d.add(at), w);
        match n {
            0 => {}
            1..4 => {
                *d = *s;
                *d.add(n / 2) = *s.add(n / 2);
                *d.add(n - 1) = *s.add(n - 1);
            }
            4..8 => {
                word(0, 4);
                word(n - 4, 4);
            }
            8..=16 => {
                word(0, 8);
                word(n - 8, 8);
            }
            // Event lines: 16 bytes at a time, the last 16 overlapping.
            _ => {
                let mut at = 0;
                while at + 16 < n {
                    word(at, 16);
                    at += 16;
                }
                word(n - 16, 16);
            }
        }
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
    fn copy_every_length() {
        let src: [u8; 200] = core::array::from_fn(|i| i as u8 + 1);
        for n in 0..200 {
            let mut dst = [0u8; 200];
            copy(&mut dst[..n], &src[..n]);
            assert_eq!(dst[..n], src[..n], "length {n}");
            assert!(dst[n..].iter().all(|&b| b == 0), "length {n}");
        }
    }

    #[test]
    fn numbers_and_truncation() {
        let mut b = Buf::<8>::new();
        b.uint(0).byte(b' ').int(-42);
        assert_eq!(b.as_bytes(), b"0 -42");
        b.bytes(b"abcdef");
        assert_eq!(b.as_bytes(), b"0 -42abc");
        assert!(b.truncated);
        let mut b = Buf::<2>::new();
        b.byte(b'x').tab();
        assert!(!b.truncated);
        b.byte(b'y');
        assert_eq!(b.as_bytes(), b"x\t");
        assert!(b.truncated);
        let mut t = [0; 20];
        assert_eq!(fmt_u64(u64::MAX, &mut t), b"18446744073709551615");
    }
}
