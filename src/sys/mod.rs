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
//! Everything above it works with raw descriptor numbers (`Fd`, an `i32`,
//! -1 meaning "none"), byte-string paths and `Errno`. Descriptors the daemon
//! opens are close-on-exec; services get theirs through `dup2` in the child.

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
// Until every caller names `errtext::strerror`.
pub use crate::errtext::strerror;

use core::ffi::CStr;

use rustix::fd::{BorrowedFd, IntoRawFd, OwnedFd};
pub use rustix::io::Errno;

/// A raw descriptor number; -1 is "no descriptor".
pub type Fd = i32;
/// Result of a syscall wrapper.
pub type Res<T> = Result<T, Errno>;

/// Largest path we accept: a protocol line is at most 1023 bytes.
pub const PATH_MAX: usize = 1024;

/// `fd` as rustix takes it.
fn borrow<'a>(fd: Fd) -> BorrowedFd<'a> {
    // SAFETY: callers pass descriptors the daemon owns and keeps open for the
    // duration of the call; rustix only uses the number.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// The number of a descriptor rustix opened, which the caller now owns.
fn into_raw(fd: OwnedFd) -> Fd {
    fd.into_raw_fd()
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
