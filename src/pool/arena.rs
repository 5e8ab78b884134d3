//! The byte arena: variable-length values kept dense, with their spans.

use crate::sys::{self, Reservation};

/// Where a value lives in an `Arena`. The value's owner keeps it (in its
/// own record, so a small table touches no separate array of them).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Span {
    off: u32,
    len: u32,
}

// SAFETY: two integers.
unsafe impl sys::Zeroable for Span {}

impl Span {
    /// Points this span at `off`, where `Arena::replace` moved its value.
    pub fn moved_to(&mut self, off: u32) {
        self.off = off;
    }
}

/// Bytes ahead of every stored value: its owner and its length, so a
/// compaction can walk the arena front to back.
pub const HDR: usize = 8;
/// Owner of a value that was replaced: its bytes are garbage.
const DEAD: u32 = u32::MAX;
/// Garbage tolerated before a compaction, whatever the live bytes.
const SLACK: usize = 4096;

/// A byte store for values that change size. A new value is appended and
/// the old one's bytes become garbage; once the garbage outweighs the
/// live bytes (or the end is reached), one pass moves the live values
/// down. So replacing a value costs the same with 10 owners or 10,000
/// (the compaction's cost is paid for by the garbage it removes), and the
/// touched memory stays within about twice what is in use.
pub struct Arena {
    buf: &'static mut [u8],
    used: usize,
    garbage: usize,
    /// Bytes locked so far (`-M`, see `lock_grown`).
    locked: usize,
}

impl Arena {
    /// Bytes `new` takes from a reservation for `bytes` of values held by
    /// at most `owners` spans.
    pub const fn size(bytes: usize, owners: usize) -> usize {
        Reservation::size_of::<u8>(bytes + owners * HDR)
    }

    /// Room for `bytes` of values held by at most `owners` spans.
    #[cold]
    pub fn new(res: &mut Reservation, bytes: usize, owners: usize) -> Option<Arena> {
        Some(Arena {
            buf: res.take_lazy(bytes + owners * HDR)?,
            used: 0,
            garbage: 0,
            locked: 0,
        })
    }

    /// Under `-M`, locks what the arena grew into since the last call.
    #[cold]
    pub fn lock_grown(&mut self) {
        // After a compaction `used` may be lower: nothing new is in use.
        let from = self.locked;
        self.locked = from.max(self.used);
        sys::lock_grown(self.buf, from, self.used);
    }

    /// The value at `span`.
    pub fn get(&self, span: Span) -> &[u8] {
        let start = span.off as usize;
        self.buf
            .get(start..start + span.len as usize)
            .unwrap_or_default()
    }

    /// The header at `at`: (owner, length). Headers move as whole words:
    /// copy_from_slice would be a call to memcpy at opt-level z.
    fn header(&self, at: usize) -> (u32, usize) {
        let h = self
            .buf
            .get(at..at + HDR)
            .and_then(|h| <[u8; HDR]>::try_from(h).ok());
        let h = u64::from_ne_bytes(h.unwrap_or_default());
        (h as u32, (h >> 32) as usize)
    }

    fn set_header(&mut self, at: usize, owner: u32, len: usize) {
        let h = (owner as u64) | (len as u64) << 32;
        let dst = self.buf.get_mut(at..at + HDR);
        if let Some(dst) = dst.and_then(|d| <&mut [u8; HDR]>::try_from(d).ok()) {
            *dst = h.to_ne_bytes();
        }
    }

    /// Replaces the value at `span`, which belongs to `owner`, with the
    /// concatenation of `parts`. Err(()) when it does not fit (the old
    /// value is kept). A compaction moves other owners' values: `moved`
    /// is called with each one's owner and new offset, for it to update
    /// its span with `Span::moved_to`.
    pub fn replace(
        &mut self,
        owner: u32,
        span: &mut Span,
        parts: &[&[u8]],
        moved: &mut dyn FnMut(u32, u32),
    ) -> Result<(), ()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let old = *span;
        if old.len as usize != len {
            let need = if len > 0 { HDR + len } else { 0 };
            let freed = if old.len > 0 {
                HDR + old.len as usize
            } else {
                0
            };
            let live = self.used - self.garbage - freed;
            if live + need > self.buf.len() {
                return Err(());
            }
            if old.len > 0 {
                self.set_header(old.off as usize - HDR, DEAD, old.len as usize);
                self.garbage += freed;
            }
            *span = Span::default();
            if self.used + need > self.buf.len()
                || (self.garbage > SLACK && self.garbage > self.used - self.garbage)
            {
                self.compact(moved);
            }
            if len > 0 {
                self.set_header(self.used, owner, len);
                *span = Span {
                    off: (self.used + HDR) as u32,
                    len: len as u32,
                };
                self.used += need;
            }
        }
        let mut at = span.off as usize;
        for p in parts {
            crate::fmt::copy(&mut self.buf[at..at + p.len()], p);
            at += p.len();
        }
        Ok(())
    }

    /// Moves every live value down over the garbage, in one pass. Rare, so
    /// marked cold (its caller's common path comes first); it is inlined
    /// there, so it runs from the hot text, as it must after startup (the
    /// test `cold_text_stays_released` churns the arena). Values
    /// below the first garbage stay where they are, unmoved and unreported:
    /// values that never change (most) settle at the bottom.
    #[cold]
    fn compact(&mut self, moved: &mut dyn FnMut(u32, u32)) {
        let (mut from, mut to) = (0, 0);
        while from < self.used {
            let (owner, len) = self.header(from);
            if owner != DEAD {
                if from != to {
                    self.buf.copy_within(from..from + HDR + len, to);
                    moved(owner, (to + HDR) as u32);
                }
                to += HDR + len;
            }
            from += HDR + len;
        }
        self.used = to;
        self.garbage = 0;
    }

    /// Bytes in use, live or garbage.
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res() -> Reservation {
        Reservation::new(1 << 16).unwrap()
    }

    #[test]
    fn arena_appends_then_compacts() {
        let mut a = Arena::new(&mut res(), 3 * SLACK, 3).unwrap();
        let mut spans = [Span::default(); 3];
        let set = |a: &mut Arena, spans: &mut [Span; 3], k: usize, v: &[u8]| {
            let mut s = spans[k];
            a.replace(k as u32, &mut s, &[v], &mut |o, off| {
                spans[o as usize].moved_to(off)
            })?;
            spans[k] = s;
            Ok::<(), ()>(())
        };
        set(&mut a, &mut spans, 0, b"aaa").unwrap();
        set(&mut a, &mut spans, 1, b"bb").unwrap();
        set(&mut a, &mut spans, 2, b"c").unwrap();
        set(&mut a, &mut spans, 0, b"").unwrap();
        assert_eq!(a.get(spans[0]), b"");
        assert_eq!(a.get(spans[1]), b"bb");
        // Same length: in place.
        set(&mut a, &mut spans, 1, b"BB").unwrap();
        assert_eq!(a.used(), 3 * HDR + 6);
        // Churn far past the capacity: garbage is collected on the way.
        let big = [b'x'; 1000];
        for i in 0..100 {
            set(&mut a, &mut spans, 2, &big[..500 + i]).unwrap();
            assert_eq!(a.get(spans[1]), b"BB");
            assert_eq!(a.get(spans[2]).len(), 500 + i);
            assert!(a.used() <= 2 * (HDR + 600) + SLACK + HDR + 600);
        }
        // Too big for what is left: refused, the old value kept.
        let huge = [b'y'; 3 * SLACK];
        assert!(set(&mut a, &mut spans, 0, &huge).is_err());
        assert_eq!(a.get(spans[2]).len(), 599);
        // Exactly what remains fits, through a compaction.
        let rest = 3 * SLACK + 3 * HDR - (HDR + 2) - (HDR + 599) - HDR;
        set(&mut a, &mut spans, 0, &huge[..rest]).unwrap();
        assert_eq!(a.get(spans[0]).len(), rest);
        assert_eq!(a.get(spans[1]), b"BB");
        assert!(set(&mut a, &mut spans, 1, b"BBB").is_err());
    }

    #[test]
    fn compaction_leaves_settled_values_alone() {
        let mut a = Arena::new(&mut res(), 2 * SLACK, 2).unwrap();
        let (mut keep, mut churn) = (Span::default(), Span::default());
        let mut moves = 0;
        let count = &mut |_, _| moves += 1;
        a.replace(0, &mut keep, &[b"keep"], count).unwrap();
        // The garbage passes SLACK and the live bytes: compactions run,
        // and the value below all garbage is never moved or reported.
        let big = [b'x'; 200];
        for i in 0..50 {
            a.replace(1, &mut churn, &[&big[..100 + i]], count).unwrap();
        }
        assert_eq!(moves, 0);
        assert!(a.used() < 25 * (HDR + 100), "no compaction: {}", a.used());
        assert_eq!(a.get(keep), b"keep");
        assert_eq!(a.get(churn), &big[..149]);
    }
}
