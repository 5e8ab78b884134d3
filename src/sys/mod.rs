//! The syscall seam: the only module that talks to rustix and libc, and
//! with the buffer modules (`fmt`'s line buffers, `pool`'s zeroed slots)
//! the only one where `unsafe` is allowed. Split by concern: `io` (descriptors, files, pipes, poll),
//! `net` (sockets), `process` (fork, exec, wait, kill, the C entry point),
//! `signal` (dispositions, masks, the alternate stack, the alarm), `memory`
//! (the reservation, cold text, locking), `time` (the clock, sleeping) and
//! `arch` (what differs between architectures). Everything is re-exported
//! here, so callers name `sys::write`, `sys::fork`, ... Under `cfg(test)`,
//! `fake` stands in for the clock and the process calls.
//!
//! Everything above it works with descriptors (`Fd`, a number that cannot
//! be negative; `Option<Fd>` where there may be none), byte-string paths and
//! `Errno`. Every wrapper takes an `Fd`, so no -1 reaches a syscall; numbers
//! become `Fd`s here, from what the kernel returns, or through `Fd::new`'s
//! check. Descriptors the daemon opens are close-on-exec; services get
//! theirs through `dup2` in the child.

// Declared first: the macros (`cold!`, `zeroable!`) are used everywhere.
#[macro_use]
mod memory;
pub mod arch;
#[cfg(test)]
pub mod fake;
mod io;
mod net;
mod process;
mod signal;
mod time;

pub use io::*;
pub use memory::*;
pub use net::*;
pub use process::*;
pub use signal::*;
pub use time::*;
// Under test, the clock and the process calls are stand-ins (named
// imports take precedence over the globs above).
#[cfg(test)]
pub use fake::{fork, kill, now, reap_any};

use core::ffi::CStr;
use core::num::NonZeroU32;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rustix::fd::{BorrowedFd, IntoRawFd, OwnedFd};
pub use rustix::io::Errno;

/// A descriptor number, never negative. Stored as the number plus one, so
/// that `Option<Fd>` is as small as an `i32` and `None` is all-zero bytes
/// (a pooled record carved from zeroed memory holds no descriptor).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(transparent)]
pub struct Fd(NonZeroU32);

impl Fd {
    /// Standard input.
    pub const STDIN: Fd = Fd::low(0);
    /// Standard output.
    pub const STDOUT: Fd = Fd::low(1);
    /// Standard error, where the log starts.
    pub const STDERR: Fd = Fd::low(2);
    /// The first number past the standard three.
    pub const PAST_STANDARD: Fd = Fd::low(3);

    /// Descriptor `n`, if it is one (not negative).
    pub const fn new(n: i32) -> Option<Fd> {
        if n < 0 {
            return None;
        }
        match NonZeroU32::new(n as u32 + 1) {
            Some(v) => Some(Fd(v)),
            None => None,
        }
    }

    /// Descriptor `n` of the low numbers the daemon picks itself (the
    /// standard ones, a service's fd list positions, the numbers scanned at
    /// startup).
    pub const fn low(n: u16) -> Fd {
        match NonZeroU32::new(n as u32 + 1) {
            Some(v) => Fd(v),
            None => unreachable!(),
        }
    }

    /// The number.
    pub const fn raw(self) -> i32 {
        (self.0.get() - 1) as i32
    }

    /// A descriptor rustix opened, which the caller now owns.
    fn owned(fd: OwnedFd) -> Fd {
        let n = fd.into_raw_fd();
        // SAFETY: an OwnedFd is never -1 (rustix's invariant), so n + 1,
        // wrapping, is not zero.
        Fd(unsafe { NonZeroU32::new_unchecked((n as u32).wrapping_add(1)) })
    }
}

// SAFETY: all-zero bytes are `None`.
unsafe impl Zeroable for Option<Fd> {}

/// Maybe a descriptor, as the signal handlers read it: an atomic holding
/// `Option<Fd>`'s bytes (0: none).
pub struct AtomicFd(AtomicU32);

impl AtomicFd {
    /// Holding `fd`.
    pub const fn new(fd: Option<Fd>) -> AtomicFd {
        AtomicFd(AtomicU32::new(match fd {
            Some(fd) => fd.0.get(),
            None => 0,
        }))
    }

    /// The descriptor held.
    pub fn get(&self) -> Option<Fd> {
        NonZeroU32::new(self.0.load(Relaxed)).map(Fd)
    }

    /// Holds `fd` from now on.
    pub fn set(&self, fd: Option<Fd>) {
        self.0.store(fd.map_or(0, |fd| fd.0.get()), Relaxed);
    }
}
/// Result of a syscall wrapper.
pub type Res<T> = Result<T, Errno>;

/// Largest path we accept: a protocol line is at most 1023 bytes.
pub const PATH_MAX: usize = 1024;

/// `fd` as rustix takes it.
fn borrow<'a>(fd: Fd) -> BorrowedFd<'a> {
    // SAFETY: callers pass descriptors the daemon owns and keeps open for the
    // duration of the call; rustix only uses the number, which is not -1.
    unsafe { BorrowedFd::borrow_raw(fd.raw()) }
}

/// Room for a NUL-terminated path.
type PathBuf = [u8; PATH_MAX + 1];

/// A NUL-terminated copy of `path` in `buf`; NAMETOOLONG when it does not
/// fit or has a NUL inside. One out-of-line copy for every path syscall.
#[inline(never)]
fn cpath<'b>(path: &[u8], buf: &'b mut PathBuf) -> Res<&'b CStr> {
    if path.len() > PATH_MAX || !path.iter().all(|&b| b != 0) {
        return Err(Errno::NAMETOOLONG);
    }
    buf[..path.len()].copy_from_slice(path);
    buf[path.len()] = 0;
    // SAFETY: the bytes up to and including index path.len() end in the
    // only NUL among them.
    Ok(unsafe { CStr::from_bytes_with_nul_unchecked(&buf[..=path.len()]) })
}

/// errno after a libc call that failed.
fn errno() -> i32 {
    // SAFETY: musl's errno location is always valid for the calling thread.
    unsafe { *libc::__errno_location() }
}

/// Current errno, for handlers to preserve it.
pub fn errno_get() -> i32 {
    errno()
}

/// Restores errno.
pub fn errno_set(v: i32) {
    // SAFETY: musl's errno location is valid for the calling thread.
    unsafe { *libc::__errno_location() = v }
}

/// Test builds only: a real fault, raised by the CPU (`test.fault`).
#[cfg(feature = "fault-injection")]
pub mod fault {
    /// A store to an unmapped address: SIGSEGV.
    #[cold]
    pub fn segv() {
        // SAFETY: none; the store faults, which is the point.
        unsafe { core::ptr::write_volatile(16 as *mut u8, 1) };
    }

    /// Recursion without end: the stack overflows into its guard page.
    #[cold]
    #[inline(never)]
    #[allow(unconditional_recursion)]
    pub fn overflow(depth: usize) -> usize {
        let frame = core::hint::black_box([depth as u8; 1024]);
        overflow(depth + 1).wrapping_add(frame[depth % 1024] as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_are_never_negative_and_none_is_zero() {
        assert_eq!(Fd::new(-1), None);
        assert_eq!(Fd::new(i32::MIN), None);
        assert_eq!(Fd::new(0), Some(Fd::STDIN));
        assert_eq!(Fd::new(i32::MAX).map(Fd::raw), Some(i32::MAX));
        assert_eq!(Fd::low(7).raw(), 7);
        // As small as the number, and zeroed memory holds none.
        assert_eq!(size_of::<Option<Fd>>(), size_of::<i32>());
        // SAFETY: Option<Fd> is Zeroable.
        assert_eq!(unsafe { core::mem::zeroed::<Option<Fd>>() }, None);
        let a = AtomicFd::new(Some(Fd::STDERR));
        assert_eq!(a.get(), Some(Fd::STDERR));
        a.set(None);
        assert_eq!(a.get(), None);
    }

    #[test]
    fn wrappers_take_what_the_kernel_returns() {
        let (r, w) = pipe(true).unwrap();
        assert_eq!(write(w, b"x"), Ok(1));
        let mut b = [0u8; 4];
        assert_eq!(read(r, &mut b), Ok(1));
        let d = dup_above(r, Fd::low(100)).unwrap();
        assert!(d.raw() >= 100);
        for fd in [r, w, d] {
            close(fd);
        }
    }
}
