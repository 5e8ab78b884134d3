//! Fixed pools: slot allocation with a free list, a name-sorted index of
//! live slots, and a dense byte arena for variable-length values. All memory
//! is reserved once at startup; nothing here can grow.

use crate::name::Name;
use crate::proto::NAME_MAX;
use crate::sys::{self, Reservation};
use core::cmp::Ordering;

mod arena;

pub use arena::{Arena, HDR, Span};

/// Items that are looked up by name.
pub trait Named {
    /// Keep hash chains, so `find` costs the same with any number of items
    /// (otherwise it is a binary search: code once, not per item type).
    const HASHED: bool = false;
    /// The item's name (empty for a free slot).
    fn name(&self) -> &Name;
}

/// A slot's item, and at the same position the name index entry (which
/// names some other slot) and the hash bucket (whose chain runs through
/// other slots): one array, so a small table touches one short run of
/// memory instead of one page per array.
#[derive(Clone, Copy)]
struct Cell<T> {
    item: T,
    sorted: u16,
    /// Buckets `2 * position` and `2 * position + 1`: their first slot + 1
    /// (0: empty). Two per cell (in what would be padding), so there can
    /// be as many buckets as items and the chains stay short.
    heads: [u16; 2],
    /// The item's successor in its bucket: slot + 1 (0: none).
    next: u16,
}

// SAFETY: a Zeroable item and integers.
unsafe impl<T: sys::Zeroable> sys::Zeroable for Cell<T> {}

/// Fixed-capacity items in slots `0..cap`: a free list reusing freed slots
/// first, an index of the named slots sorted by name for ordered dumps and
/// insertion, and hash chains of the named slots, so a lookup by name
/// costs the same with 10 items or 10,000.
pub struct Table<T: 'static> {
    cells: &'static mut [Cell<T>],
    /// Number of entries in the index.
    named: usize,
    free: &'static mut [u16],
    nfree: usize,
    high: usize,
    /// Hash buckets: a power of two, at least the named slots and at most
    /// twice them (so at most `2 * high`: up to DENSE_FROM, the heads live
    /// in cells already in use, two per cell), or 0.
    buckets: usize,
    /// The bucket heads once there are more than DENSE_FROM buckets (hashed
    /// tables only): spread over the cells, each head would then be a cache
    /// miss of its own, while this array stays in cache.
    dense: &'static mut [u16],
    /// Slots and dense heads locked so far (`-M`, see `lock_grown`).
    locked: usize,
    locked_dense: usize,
}

/// Bucket counts above this keep their heads in `Table::dense`; below it
/// the heads cost no memory of their own (a page, for a small table).
const DENSE_FROM: usize = 512;

impl<T: sys::Zeroable + Named> Table<T> {
    /// Bytes `new` takes from a reservation for `cap` slots.
    pub const fn size(cap: usize) -> usize {
        Reservation::size_of::<Cell<T>>(cap) + Reservation::size_of::<u16>(cap + Self::dense(cap))
    }

    /// Entries of the dense bucket heads for `cap` slots.
    const fn dense(cap: usize) -> usize {
        if T::HASHED { 2 * cap } else { 0 }
    }

    /// Room for `cap` slots (at most 65536).
    #[cold]
    pub fn new(res: &mut Reservation, cap: usize) -> Option<Table<T>> {
        Some(Table {
            cells: res.take_lazy(cap)?,
            named: 0,
            free: res.take_lazy(cap)?,
            nfree: 0,
            high: 0,
            buckets: 0,
            dense: res.take_lazy(Self::dense(cap))?,
            locked: 0,
            locked_dense: 0,
        })
    }

    /// A free slot, or None when the table is full.
    pub fn alloc(&mut self) -> Option<usize> {
        if self.nfree > 0 {
            self.nfree -= 1;
            return Some(self.free[self.nfree] as usize);
        }
        if self.high < self.cells.len() {
            self.high += 1;
            return Some(self.high - 1);
        }
        None
    }

    /// Under `-M`, locks what the table grew into since the last call:
    /// cells and free list entries up to the highest slot handed out (the
    /// free list holds at most those), and the dense bucket heads. Returns
    /// the slots locked before, so that `from..high()` are the new ones.
    #[cold]
    pub fn lock_grown(&mut self) -> usize {
        let from = core::mem::replace(&mut self.locked, self.high);
        sys::lock_grown(self.cells, from, self.high);
        sys::lock_grown(self.free, from, self.high);
        if self.buckets > DENSE_FROM {
            let dense_from = core::mem::replace(&mut self.locked_dense, self.buckets);
            sys::lock_grown(self.dense, dense_from, self.buckets);
        }
        from
    }

    /// Returns a slot to the free list.
    pub fn release(&mut self, slot: usize) {
        self.free[self.nfree] = slot as u16;
        self.nfree += 1;
    }

    /// Number of free slots.
    pub fn available(&self) -> usize {
        self.cells.len() - self.high + self.nfree
    }

    /// One past the highest slot ever handed out, for scans by slot.
    pub fn high(&self) -> usize {
        self.high
    }

    /// The item in `slot`.
    pub fn get(&self, slot: usize) -> &T {
        &self.cells[slot].item
    }

    /// The item in `slot`, mutable.
    pub fn get_mut(&mut self, slot: usize) -> &mut T {
        &mut self.cells[slot].item
    }

    /// The named slot at index position `pos` (name order).
    pub fn sorted(&self, pos: usize) -> Option<usize> {
        (pos < self.named).then(|| self.cells[pos].sorted as usize)
    }

    /// Number of named slots.
    #[cfg(test)]
    pub fn named(&self) -> usize {
        self.named
    }

    /// Binary search: Ok(position) when found, Err(insert position).
    pub fn search(&self, name: &[u8]) -> Result<usize, usize> {
        search_sorted(self.named, name, &|pos| {
            self.cells[self.cells[pos].sorted as usize].item.name()
        })
    }

    /// The slot named `name`: its hash bucket's chain is searched.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        if !T::HASHED {
            return self
                .search(name)
                .ok()
                .map(|p| self.cells[p].sorted as usize);
        }
        if self.buckets == 0 || name.len() > NAME_MAX {
            return None;
        }
        let key = Name::new(name);
        let mut at = self.head(self.bucket(&key));
        while at != 0 {
            let slot = usize::from(at - 1);
            if *self.cells[slot].item.name() == key {
                return Some(slot);
            }
            at = self.cells[slot].next;
        }
        None
    }

    /// The bucket of a name: a multiplicative hash of its words.
    #[inline(never)]
    fn bucket(&self, name: &Name) -> usize {
        let key = name.words();
        let mixed = key[0] ^ key[1].rotate_left(16) ^ key[2].rotate_left(32) ^ key[3];
        (mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & (self.buckets - 1)
    }

    /// The bucket `slot`'s item belongs to.
    fn bucket_of(&self, slot: usize) -> usize {
        self.bucket(self.cells[slot].item.name())
    }

    /// Bucket `b`'s first slot + 1 (0: empty).
    fn head(&self, b: usize) -> u16 {
        if self.buckets > DENSE_FROM {
            return self.dense[b];
        }
        self.cells[b / 2].heads[b % 2]
    }

    fn set_head(&mut self, b: usize, at: u16) {
        if self.buckets > DENSE_FROM {
            self.dense[b] = at;
        } else {
            self.cells[b / 2].heads[b % 2] = at;
        }
    }

    /// Puts `slot` at the head of its bucket's chain.
    fn link(&mut self, slot: usize) {
        let b = self.bucket_of(slot);
        self.cells[slot].next = self.head(b);
        self.set_head(b, slot as u16 + 1);
    }

    /// Takes `slot` out of its bucket's chain.
    fn unlink(&mut self, slot: usize) {
        let (target, after) = (slot as u16 + 1, self.cells[slot].next);
        let b = self.bucket_of(slot);
        if self.head(b) == target {
            self.set_head(b, after);
            return;
        }
        let mut at = self.head(b);
        while at != 0 {
            let p = usize::from(at - 1);
            if self.cells[p].next == target {
                self.cells[p].next = after;
                return;
            }
            at = self.cells[p].next;
        }
    }

    /// Spreads the named slots over `n` buckets. Rare, but not `#[cold]`:
    /// it runs after startup, and the cold text is released then.
    #[inline(never)]
    fn rehash(&mut self, n: usize) {
        self.buckets = n;
        for b in 0..n {
            self.set_head(b, 0);
        }
        for pos in 0..self.named {
            self.link(self.cells[pos].sorted as usize);
        }
    }

    /// First position whose name sorts strictly after `name`.
    pub fn after(&self, name: &[u8]) -> usize {
        match self.search(name) {
            Ok(p) => p + 1,
            Err(p) => p,
        }
    }

    /// Inserts `slot`, whose item is named already, into the index at `pos`
    /// and into its hash bucket. Past one per bucket, the buckets double.
    pub fn insert(&mut self, pos: usize, slot: usize) {
        for p in (pos..self.named).rev() {
            self.cells[p + 1].sorted = self.cells[p].sorted;
        }
        self.cells[pos].sorted = slot as u16;
        self.named += 1;
        if T::HASHED {
            if self.named > self.buckets {
                self.rehash((2 * self.buckets).max(1));
            } else {
                self.link(slot);
            }
        }
    }

    /// Removes the index entry at `pos` (its item still named) and its
    /// slot's hash chain entry.
    pub fn remove(&mut self, pos: usize) {
        if T::HASHED {
            self.unlink(self.cells[pos].sorted as usize);
        }
        for p in pos + 1..self.named {
            self.cells[p - 1].sorted = self.cells[p].sorted;
        }
        self.named -= 1;
    }
}

/// Binary search over `n` names in order, the one at each position given
/// by `name_at`: Ok(position) when found, Err(insert position). Out of
/// `Table`, so that the code exists once, not once per item type.
#[inline(never)]
fn search_sorted<'a>(
    n: usize,
    name: &[u8],
    name_at: &dyn Fn(usize) -> &'a Name,
) -> Result<usize, usize> {
    // Stored names are at most NAME_MAX bytes: a longer one sorts
    // after the stored name it starts with.
    let (key, long) = (Name::new(name).words(), name.len() > NAME_MAX);
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let w = name_at(mid).words();
        // Most probes are decided by the first eight bytes.
        let order = match w[0].cmp(&key[0]) {
            Ordering::Equal => w.cmp(&key),
            o => o,
        };
        match order {
            Ordering::Less => lo = mid + 1,
            Ordering::Equal if long => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::Name;

    #[derive(Clone, Copy)]
    struct Item(Name);
    // SAFETY: a Name.
    unsafe impl sys::Zeroable for Item {}
    impl Named for Item {
        fn name(&self) -> &Name {
            &self.0
        }
    }

    fn res() -> Reservation {
        Reservation::new(1 << 16).unwrap()
    }

    #[test]
    fn slots_reuse_and_fill() {
        let mut t = Table::<Item>::new(&mut res(), 2).unwrap();
        assert_eq!(t.alloc(), Some(0));
        assert_eq!(t.alloc(), Some(1));
        assert_eq!(t.alloc(), None);
        t.release(0);
        assert_eq!(t.available(), 1);
        assert_eq!(t.alloc(), Some(0));
    }

    #[derive(Clone, Copy)]
    struct Hashed(Name);
    // SAFETY: a Name.
    unsafe impl sys::Zeroable for Hashed {}
    impl Named for Hashed {
        const HASHED: bool = true;
        fn name(&self) -> &Name {
            &self.0
        }
    }

    #[test]
    fn hash_chains_follow_churn() {
        // Heads in the cells, then (past DENSE_FROM buckets) in `dense`.
        assert!(churn(300, 4000) <= DENSE_FROM);
        assert!(churn(1200, 12000) > DENSE_FROM);
    }

    /// Random inserts and removals; returns the final bucket count.
    fn churn(cap: usize, rounds: usize) -> usize {
        let mut t = Table::<Hashed>::new(&mut Reservation::new(1 << 18).unwrap(), cap).unwrap();
        let name = |i: usize| format!("svc{i}");
        // live[i]: the slot holding name(i), if any.
        let mut live = vec![None; 2 * cap];
        let mut x = 12345u64;
        for round in 0..rounds {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let i = (x >> 33) as usize % (2 * cap);
            let n = name(i);
            match live[i] {
                Some(slot) => {
                    let pos = t.search(n.as_bytes()).unwrap();
                    t.remove(pos);
                    t.get_mut(slot).0 = Name::EMPTY;
                    t.release(slot);
                    live[i] = None;
                }
                None => {
                    let Some(slot) = t.alloc() else { continue };
                    t.get_mut(slot).0 = Name::new(n.as_bytes());
                    let pos = t.search(n.as_bytes()).unwrap_err();
                    t.insert(pos, slot);
                    live[i] = Some(slot);
                }
            }
            if round % 97 == 0 || round > rounds - 100 {
                for (j, want) in live.iter().enumerate() {
                    assert_eq!(t.find(name(j).as_bytes()), *want, "{} at {round}", name(j));
                }
            }
        }
        assert!(t.buckets >= cap / 4, "{} buckets", t.buckets);
        assert_eq!(t.find(&[b'a'; 40]), None);
        t.buckets
    }

    #[test]
    fn index_keeps_byte_order() {
        let names: [&'static [u8]; 4] = [b"b", b"a", b"ab", b"-"];
        let mut t = Table::<Item>::new(&mut res(), 4).unwrap();
        for n in names {
            let slot = t.alloc().unwrap();
            *t.get_mut(slot) = Item(Name::new(n));
            let pos = t.search(n).unwrap_err();
            t.insert(pos, slot);
        }
        let sorted: Vec<&[u8]> = (0..t.named())
            .map(|p| t.get(t.sorted(p).unwrap()).name().as_bytes())
            .collect();
        assert_eq!(sorted, [&b"-"[..], b"a", b"ab", b"b"]);
        assert_eq!(t.search(b"ab"), Ok(2));
        assert_eq!(t.find(b"ab"), Some(2));
        assert_eq!(t.after(b"a"), 2);
        assert_eq!(t.after(b"aa"), 2);
        t.remove(0);
        assert_eq!(t.search(b"a"), Ok(0));
        assert_eq!(t.sorted(3), None);
    }
}
