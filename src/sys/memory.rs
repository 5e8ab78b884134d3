//! Memory: the one reservation the pools are carved from, the cold text
//! released after startup, and `-M`'s locking.

use core::mem::MaybeUninit;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicPtr, AtomicU8, AtomicUsize, Ordering::Relaxed,
};

use super::Res;

/// A byte string only startup and the exit paths use, kept with the cold
/// code (link.ld gathers `.text.unlikely.*`), so the running daemon's
/// resident pages do not hold it.
macro_rules! cold {
    ($s:expr) => {{
        const BYTES: &[u8] = $s;
        // The section only moves the bytes; nothing is placed there but
        // read-only data.
        #[allow(unsafe_code)]
        #[unsafe(link_section = ".text.unlikely.strings")]
        static TEXT: [u8; BYTES.len()] = match BYTES.first_chunk() {
            Some(bytes) => *bytes,
            None => unreachable!(),
        };
        &TEXT
    }};
}

/// Implements `Zeroable` for a struct, after checking at compile time (as
/// bytemuck's derive does) that the list names every field and that each
/// is `Zeroable`; a field of a fieldless enum is written `field = Enum::V`,
/// and `V` is checked to be its zero discriminant:
/// `zeroable!(Item { name, kind = Kind::Free, fd });`, or a newtype's
/// `zeroable!(Mono(u64));`
macro_rules! zeroable {
    ($name:ident { $($field:ident $(= $zero:path)?),* $(,)? }) => {
        const _: fn(&$name) = |v| {
            // No `..`: a field missing from the list does not compile.
            let $name { $($field),* } = v;
            $(zeroable!(@field $field $(= $zero)?);)*
        };
        // SAFETY: every field is Zeroable or an enum whose zero is a
        // variant (checked above), so all-zero bytes are a valid value.
        #[allow(unsafe_code)]
        unsafe impl $crate::sys::Zeroable for $name {}
    };
    // A newtype: `zeroable!(Mono(u64));`
    ($name:ident($ty:ty)) => {
        const _: fn(&$name) = |v| {
            let $name(inner) = v;
            let inner: &$ty = inner;
            $crate::sys::must_be_zeroable(inner);
        };
        // SAFETY: the one field is Zeroable (checked above).
        #[allow(unsafe_code)]
        unsafe impl $crate::sys::Zeroable for $name {}
    };
    (@field $field:ident) => {
        $crate::sys::must_be_zeroable($field)
    };
    (@field $field:ident = $zero:path) => {{
        $crate::sys::same_type($field, &$zero);
        const { assert!($zero as isize == 0, "not the enum's zero discriminant") }
    }};
}

/// `zeroable!`'s check of a field.
pub const fn must_be_zeroable<T: Zeroable>(_: &T) {}

/// `zeroable!`'s check of an enum field's type.
pub const fn same_type<T>(_: &T, _: &T) {}

/// Types whose all-zero bit pattern is a valid value, so pools can be carved
/// from fresh anonymous memory without touching (and so paying for) it.
///
/// # Safety
/// Implement only for types made of integers, bools, byte arrays, enums
/// whose zero discriminant is a variant, and options whose `None` is zero.
pub unsafe trait Zeroable {}

/// One private anonymous mapping, reserved once at startup and carved into
/// the daemon's state and pools. Pages are only backed by RAM when first
/// written, so what is carved next to each other shares pages: the caller
/// orders the pieces so that an idle daemon touches as few pages as possible.
pub struct Reservation {
    next: *mut u8,
    left: usize,
}

impl Reservation {
    /// Bytes `take::<T>(n)` may consume, alignment included.
    pub const fn size_of<T>(n: usize) -> usize {
        n * core::mem::size_of::<T>() + core::mem::align_of::<T>()
    }

    /// Maps `bytes` of zeroed memory; None when mmap fails.
    #[cold]
    pub fn new(bytes: usize) -> Option<Reservation> {
        // SAFETY: a fresh private anonymous mapping that is never unmapped.
        let p = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                bytes.max(1),
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::NORESERVE,
            )
        }
        .ok()?;
        Some(Reservation {
            next: p.cast(),
            left: bytes,
        })
    }

    /// `n` values of `T`, aligned; locked now under `-M` when `lock`.
    fn carve<T>(&mut self, n: usize, lock: bool) -> Option<*mut T> {
        let bytes = n.checked_mul(core::mem::size_of::<T>())?;
        self.carve_bytes(bytes, core::mem::align_of::<T>(), lock)
            .map(|p| p.cast())
    }

    /// One copy for every type: `bytes` at `align`.
    #[cold]
    #[inline(never)]
    fn carve_bytes(&mut self, bytes: usize, align: usize, lock: bool) -> Option<*mut u8> {
        let pad = self.next.align_offset(align);
        let all = bytes.checked_add(pad)?;
        if all > self.left {
            return None;
        }
        // SAFETY: stays within the mapping (checked above).
        let p = unsafe { self.next.add(pad) };
        // SAFETY: as above.
        self.next = unsafe { self.next.add(all) };
        self.left -= all;
        if lock {
            lock_in_use(p, 0, bytes);
        }
        Some(p)
    }

    /// The next `n` values of `T`, still zero (so untouched).
    #[cold]
    pub fn take<T: Zeroable>(&mut self, n: usize) -> Option<&'static mut [T]> {
        let p = self.carve::<T>(n, true)?;
        // SAFETY: aligned, in bounds, handed out once, never unmapped; zeroed
        // memory is a valid [T] because T: Zeroable.
        Some(unsafe { core::slice::from_raw_parts_mut(p, n) })
    }

    /// Like `take`, for a pool that grows into its room: under `-M` its
    /// pages are locked as they come into use (`lock_grown`), not now.
    #[cold]
    pub fn take_lazy<T: Zeroable>(&mut self, n: usize) -> Option<&'static mut [T]> {
        let p = self.carve::<T>(n, false)?;
        // SAFETY: as in take.
        Some(unsafe { core::slice::from_raw_parts_mut(p, n) })
    }

    /// Room for one `T`, to be written later.
    #[cold]
    pub fn uninit<T>(&mut self) -> Option<&'static mut MaybeUninit<T>> {
        let p = self.carve::<MaybeUninit<T>>(1, true)?;
        // SAFETY: aligned, in bounds, handed out once, never unmapped; any
        // bytes are a valid MaybeUninit.
        Some(unsafe { &mut *p })
    }
}

// SAFETY: zero is a value of every integer, `false`, and a zeroed atomic.
unsafe impl Zeroable for u8 {}
// SAFETY: as above.
unsafe impl Zeroable for u16 {}
// SAFETY: as above.
unsafe impl Zeroable for u32 {}
// SAFETY: as above.
unsafe impl Zeroable for u64 {}
// SAFETY: as above.
unsafe impl Zeroable for i32 {}
// SAFETY: as above.
unsafe impl Zeroable for bool {}
// SAFETY: as above.
unsafe impl Zeroable for AtomicU8 {}
// SAFETY: as above.
unsafe impl Zeroable for AtomicI32 {}
// SAFETY: an array of zeroable values, without padding between them.
unsafe impl<T: Zeroable, const N: usize> Zeroable for [T; N] {}
// SAFETY: all-zero is the null pointer.
unsafe impl<T> Zeroable for *const T {}

/// Drops the pages of the cold text segment from this process's page
/// tables once startup is over (see link.ld): code only startup, the exit
/// paths and forked children run should not stay resident in an idle
/// daemon. madvise(MADV_DONTNEED) on a private file mapping only forgets
/// the mapping of clean page-cache pages; cold code that runs later faults
/// them back in. Not done under mlockall, which wants everything resident.
pub fn release_cold_text() {
    COLD_RELEASED.store(true, Relaxed);
    COLD_RAN.store(false, Relaxed);
    release_cold_again();
}

/// Whether the cold text is released (not under mlockall).
static COLD_RELEASED: AtomicBool = AtomicBool::new(false);
/// Cold code ran since the cold text was last released.
static COLD_RAN: AtomicBool = AtomicBool::new(false);

/// Notes that cold code runs after startup (a failed command, a statedump,
/// a socket command, a service's child before it execs): fault-around maps
/// the whole cold segment back, so the loop lets it go again before it
/// sleeps (`release_cold_if_ran`). Called by the cold functions the loop
/// can reach.
pub fn cold_ran() {
    COLD_RAN.store(true, Relaxed);
}

/// Releases the cold text again if cold code ran since it was released.
pub fn release_cold_if_ran() {
    if COLD_RAN.load(Relaxed) {
        COLD_RAN.store(false, Relaxed);
        release_cold_again();
    }
}

/// Releases the cold text, if it was released after startup.
#[cfg(not(any(test, fuzzing)))]
fn release_cold_again() {
    if !COLD_RELEASED.load(Relaxed) {
        return;
    }
    unsafe extern "C" {
        static __cold_text_start: u8;
        static __cold_text_end: u8;
    }
    let page = page_size();
    // Only the addresses of the linker-defined symbols are taken.
    let start = core::ptr::addr_of!(__cold_text_start) as usize;
    let end = core::ptr::addr_of!(__cold_text_end) as usize;
    // The cold segment is a mapping of its own: whole pages may go.
    let first = start & !(page - 1);
    let last = (end + page - 1) & !(page - 1);
    if last > first {
        // SAFETY: the range lies in the cold segment's mapping; dropping
        // clean file-backed pages does not change its contents.
        let _ = unsafe {
            rustix::mm::madvise(
                first as *mut core::ffi::c_void,
                last - first,
                rustix::mm::Advice::LinuxDontNeed,
            )
        };
    }
}

/// The unit tests and the fuzz target are linked without link.ld: there is
/// no cold segment, nor its bounds, to release.
#[cfg(any(test, fuzzing))]
fn release_cold_again() {}

/// The kernel's page size, from the auxiliary vector (arm64, ppc64 and
/// mips kernels may use 16 or 64 KiB pages); 4096 if the kernel gave none.
#[cold]
pub fn page_size() -> usize {
    // SAFETY: getauxval only reads the auxiliary vector musl saved.
    match unsafe { libc::getauxval(libc::AT_PAGESZ) } as usize {
        0 => 4096,
        p => p,
    }
}

/// `-M`, so that what the pools reserve is locked only as it comes into
/// use (the default pools reserve megabytes, which locking would make
/// resident): mlockall(MCL_CURRENT) before the reservation, and from then
/// on the reservation locks what it hands out (`Reservation::take`) and
/// the pools what they grow into (`lock_grown`). No MCL_FUTURE: it would
/// lock all of the reservation, and the daemon maps nothing after startup
/// (the stack grows within its locked mapping).
#[cold]
pub fn lock_current() -> Res<()> {
    rustix::mm::mlockall(rustix::mm::MlockAllFlags::CURRENT)?;
    LOCK_IN_USE.store(true, Relaxed);
    Ok(())
}

/// Set by `lock_current`: memory coming into use is to be locked.
static LOCK_IN_USE: AtomicBool = AtomicBool::new(false);

/// Is memory coming into use to be locked (`-M`)?
#[inline(always)]
pub fn locking() -> bool {
    LOCK_IN_USE.load(Relaxed)
}

/// A pool grew from `from` to `to` of its `items`: locks the pages that
/// brings into use (`-M`; callers check `locking()`).
pub fn lock_grown<T>(items: &[T], from: usize, to: usize) {
    let size = core::mem::size_of::<T>();
    lock_bytes(items.as_ptr() as usize, from * size, to * size);
}

/// Under `-M`, locks bytes `from..to` after `base`; the bytes before `from`
/// are in use, so their pages are locked already.
#[cold]
fn lock_in_use(base: *const u8, from: usize, to: usize) {
    if locking() {
        lock_bytes(base as usize, from, to);
    }
}

#[cold]
#[inline(never)]
fn lock_bytes(base: usize, from: usize, to: usize) {
    if to <= from {
        return;
    }
    let page = page_size();
    let (first, end) = (base + from, base + to);
    // Within the page that holds the byte before `from`: locked already.
    if from > 0 && (first - 1) / page == (end - 1) / page {
        return;
    }
    // SAFETY: the range lies in the reservation's mapping; mlock only pins
    // its pages (rounding out to whole pages) and cannot change contents.
    // Failure (RLIMIT_MEMLOCK) leaves the pages unlocked but usable.
    let _ = unsafe { rustix::mm::mlock(first as *mut core::ffi::c_void, end - first) };
}

/// A `'static` slice that startup hands over, kept in atomics so that a
/// signal handler reads it whole (or finds none).
pub struct StaticSlice<T> {
    ptr: AtomicPtr<T>,
    len: AtomicUsize,
}

impl<T: Sync> StaticSlice<T> {
    /// No slice yet.
    pub const fn new() -> Self {
        StaticSlice {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
            len: AtomicUsize::new(0),
        }
    }

    /// Keeps `s`: from now on `get` hands it out, shared.
    pub fn set(&self, s: &'static [T]) {
        self.len.store(s.len(), Relaxed);
        self.ptr.store(s.as_ptr().cast_mut(), Relaxed);
    }

    /// The slice `set` kept; empty before.
    pub fn get(&self) -> &'static [T] {
        let p = self.ptr.load(Relaxed);
        if p.is_null() {
            return &[];
        }
        // SAFETY: `set` stored a shared 'static slice of this length (the
        // length first: a pointer seen is one whose length is stored).
        unsafe { core::slice::from_raw_parts(p, self.len.load(Relaxed)) }
    }
}

/// A `'static` mutable slice that startup hands over for an exit path:
/// `take` gives it out once, until it is `put` back.
pub struct TakeSlice<T> {
    ptr: AtomicPtr<T>,
    len: AtomicUsize,
}

impl<T> TakeSlice<T> {
    /// No slice yet.
    pub const fn new() -> Self {
        TakeSlice {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
            len: AtomicUsize::new(0),
        }
    }

    /// Keeps `s` until it is taken.
    pub fn put(&self, s: &'static mut [T]) {
        self.len.store(s.len(), Relaxed);
        self.ptr.store(s.as_mut_ptr(), Relaxed);
    }

    /// The slice, if it is here (not taken, and `put` once).
    pub fn take(&self) -> Option<&'static mut [T]> {
        let len = self.len.load(Relaxed);
        // A load and a store, not a swap: a read-modify-write would link
        // aarch64's outline-atomics runtime (about 950 bytes). Nothing
        // can come between them but a signal handler, which runs to its
        // end (an exec, an exit, or a return with the slice put back)
        // before this goes on.
        let p = self.ptr.load(Relaxed);
        self.ptr.store(core::ptr::null_mut(), Relaxed);
        if p.is_null() {
            return None;
        }
        // SAFETY: `put` stored a 'static mutable slice of this length,
        // and clearing it makes this its only holder until it is put back
        // (the daemon is single-threaded).
        Some(unsafe { core::slice::from_raw_parts_mut(p, len) })
    }
}

/// munmap(2), for the fuzz harness to free each run's reservation.
///
/// # Safety
/// Nothing may use the range afterwards.
#[cfg(any(test, fuzzing))]
pub unsafe fn unmap(base: *mut u8, size: usize) {
    // SAFETY: the caller's promise.
    let _ = unsafe { rustix::mm::munmap(base.cast(), size) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_take_slice_is_handed_out_once() {
        static SLOT: TakeSlice<u32> = TakeSlice::new();
        assert!(SLOT.take().is_none(), "nothing put yet");
        let mut res = Reservation::new(64).unwrap();
        SLOT.put(res.take::<u32>(4).unwrap());
        let s = SLOT.take().unwrap();
        s[3] = 7;
        assert!(SLOT.take().is_none(), "taken");
        SLOT.put(s);
        assert_eq!(SLOT.take().map(|s| (s.len(), s[3])), Some((4, 7)));
    }

    #[test]
    fn a_static_slice_is_empty_until_set() {
        static SLICE: StaticSlice<AtomicU8> = StaticSlice::new();
        assert!(SLICE.get().is_empty());
        let mut res = Reservation::new(64).unwrap();
        SLICE.set(res.take::<AtomicU8>(5).unwrap());
        SLICE.get()[4].store(9, Relaxed);
        assert_eq!(SLICE.get().len(), 5);
        assert_eq!(SLICE.get()[4].load(Relaxed), 9);
    }

    #[test]
    fn zeroable_structs_carve_as_zero() {
        #[derive(Clone, Copy, PartialEq, Debug)]
        #[repr(u8)]
        enum Mode {
            Off = 0,
            On,
        }
        struct Item {
            mode: Mode,
            count: u32,
            name: [u8; 3],
        }
        zeroable!(Item { mode = Mode::Off, count, name });
        let mut res = Reservation::new(64).unwrap();
        let items = res.take::<Item>(2).unwrap();
        assert_eq!(
            (items[1].mode, items[1].count, items[1].name),
            (Mode::Off, 0, [0; 3])
        );
        items[0].mode = Mode::On;
        assert_eq!(items[0].mode, Mode::On);
    }
}
