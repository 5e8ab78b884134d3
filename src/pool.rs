//! Fixed pools: slot allocation with a free list, a name-sorted index of
//! live slots, and a dense byte arena for variable-length values. All memory
//! is reserved once at startup; nothing here can grow.

use crate::sys;
use core::cmp::Ordering;

/// Hands out slot numbers `0..cap`, reusing freed ones first.
pub struct Slots {
    free: &'static mut [u16],
    nfree: usize,
    high: usize,
    cap: usize,
}

impl Slots {
    /// Room for `cap` slots (at most 65536).
    pub fn new(cap: usize) -> Option<Slots> {
        Some(Slots {
            free: sys::reserve(cap)?,
            nfree: 0,
            high: 0,
            cap,
        })
    }

    /// A free slot, or None when the pool is full.
    pub fn alloc(&mut self) -> Option<usize> {
        if self.nfree > 0 {
            self.nfree -= 1;
            return Some(self.free[self.nfree] as usize);
        }
        if self.high < self.cap {
            self.high += 1;
            return Some(self.high - 1);
        }
        None
    }

    /// Returns a slot to the pool.
    pub fn release(&mut self, slot: usize) {
        self.free[self.nfree] = slot as u16;
        self.nfree += 1;
    }

    /// Number of free slots.
    pub fn available(&self) -> usize {
        self.cap - self.high + self.nfree
    }

    /// One past the highest slot ever handed out.
    pub fn high(&self) -> usize {
        self.high
    }
}

/// Live slots sorted by name, for lookups in O(log n) and ordered dumps.
pub struct NameIndex {
    order: &'static mut [u16],
    len: usize,
}

impl NameIndex {
    /// Room for `cap` entries.
    pub fn new(cap: usize) -> Option<NameIndex> {
        Some(NameIndex {
            order: sys::reserve(cap)?,
            len: 0,
        })
    }

    /// Binary search: Ok(position) when found, Err(insert position).
    pub fn find<'a>(
        &self,
        name: &[u8],
        name_of: impl Fn(usize) -> &'a [u8],
    ) -> Result<usize, usize> {
        self.order[..self.len].binary_search_by(|&s| name_of(s as usize).cmp(name))
    }

    /// First position whose name sorts strictly after `name`.
    pub fn after<'a>(&self, name: &[u8], name_of: impl Fn(usize) -> &'a [u8]) -> usize {
        self.order[..self.len]
            .partition_point(|&s| name_of(s as usize).cmp(name) != Ordering::Greater)
    }

    /// Inserts `slot` at `pos`.
    pub fn insert(&mut self, pos: usize, slot: usize) {
        self.order.copy_within(pos..self.len, pos + 1);
        self.order[pos] = slot as u16;
        self.len += 1;
    }

    /// Removes the entry at `pos`.
    pub fn remove(&mut self, pos: usize) {
        self.order.copy_within(pos + 1..self.len, pos);
        self.len -= 1;
    }

    /// Live slots in name order.
    pub fn slots(&self) -> &[u16] {
        &self.order[..self.len]
    }
}

#[derive(Clone, Copy, Default)]
struct Span {
    off: u32,
    len: u32,
}

// SAFETY: two integers.
unsafe impl sys::Zeroable for Span {}

/// A dense byte store: value `key` is `buf[off..off+len]`. Replacing a value
/// closes the gap it leaves, so the touched memory is only what is in use.
pub struct Arena {
    buf: &'static mut [u8],
    used: usize,
    spans: &'static mut [Span],
    keys_high: usize,
}

impl Arena {
    /// `bytes` of storage for `keys` values.
    pub fn new(keys: usize, bytes: usize) -> Option<Arena> {
        Some(Arena {
            buf: sys::reserve(bytes)?,
            used: 0,
            spans: sys::reserve(keys)?,
            keys_high: 0,
        })
    }

    /// The value of `key` (empty when never set).
    pub fn get(&self, key: usize) -> &[u8] {
        let s = self.spans[key];
        &self.buf[s.off as usize..(s.off + s.len) as usize]
    }

    /// Would replacing `key`'s value with `len` bytes fit?
    pub fn fits(&self, key: usize, len: usize) -> bool {
        self.used - self.spans[key].len as usize + len <= self.buf.len()
    }

    /// Replaces the value of `key`; Err(()) when the arena is full (the old
    /// value is then kept).
    pub fn set(&mut self, key: usize, val: &[u8]) -> Result<(), ()> {
        if !self.fits(key, val.len()) {
            return Err(());
        }
        let old = self.spans[key];
        if old.len as usize == val.len() {
            self.buf[old.off as usize..old.off as usize + val.len()].copy_from_slice(val);
            return Ok(());
        }
        if old.len > 0 {
            let (o, l) = (old.off as usize, old.len as usize);
            self.buf.copy_within(o + l..self.used, o);
            self.used -= l;
            for s in &mut self.spans[..self.keys_high] {
                if s.off as usize > o {
                    s.off -= l as u32;
                }
            }
        }
        self.buf[self.used..self.used + val.len()].copy_from_slice(val);
        self.spans[key] = Span {
            off: self.used as u32,
            len: val.len() as u32,
        };
        self.used += val.len();
        self.keys_high = self.keys_high.max(key + 1);
        Ok(())
    }

    /// Bytes in use.
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_reuse_and_fill() {
        let mut s = Slots::new(2).unwrap();
        assert_eq!(s.alloc(), Some(0));
        assert_eq!(s.alloc(), Some(1));
        assert_eq!(s.alloc(), None);
        s.release(0);
        assert_eq!(s.available(), 1);
        assert_eq!(s.alloc(), Some(0));
    }

    #[test]
    fn index_keeps_byte_order() {
        let names: [&[u8]; 4] = [b"b", b"a", b"ab", b"-"];
        let mut ix = NameIndex::new(4).unwrap();
        for (slot, n) in names.iter().enumerate() {
            let pos = ix.find(n, |s| names[s]).unwrap_err();
            ix.insert(pos, slot);
        }
        let sorted: Vec<&[u8]> = ix.slots().iter().map(|&s| names[s as usize]).collect();
        assert_eq!(sorted, [&b"-"[..], b"a", b"ab", b"b"]);
        assert_eq!(ix.find(b"ab", |s| names[s]), Ok(2));
        assert_eq!(ix.after(b"a", |s| names[s]), 2);
        ix.remove(0);
        assert_eq!(ix.find(b"a", |s| names[s]), Ok(0));
    }

    #[test]
    fn arena_stays_dense() {
        let mut a = Arena::new(3, 10).unwrap();
        a.set(0, b"aaa").unwrap();
        a.set(1, b"bb").unwrap();
        a.set(2, b"c").unwrap();
        a.set(0, b"").unwrap();
        assert_eq!(a.used(), 3);
        assert_eq!(a.get(1), b"bb");
        assert_eq!(a.get(2), b"c");
        a.set(1, b"0123456").unwrap();
        assert_eq!(a.get(1), b"0123456");
        assert!(a.set(0, b"xxx").is_err());
        assert_eq!(a.get(0), b"");
        assert_eq!(a.get(2), b"c");
    }
}
