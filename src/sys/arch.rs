//! What differs between the architectures the daemon is built for.
//!
//! Struct layouts, the signal return trampoline, signal, errno and system
//! call numbers all come from musl's public interface (through the `libc`
//! crate) or from rustix, which know every architecture; the daemon writes
//! no kernel structure by hand. This module names the architectures that
//! this was checked on, holds the few facts that are not in those
//! interfaces, and asserts at compile time the layouts the rest of the
//! daemon depends on. A new architecture is a compile error until it is
//! added here. Should a kernel structure or constant ever have to be
//! written by hand, this is the only place for it.

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "mips",
)))]
compile_error!(
    "unsupported architecture: check src/sys/arch.rs's facts for it (signal numbers, \
     struct layouts) and add it to the list"
);

/// SIGSTKFLT, which the protocol's signal names include; MIPS has no such
/// signal (its number 7 is SIGEMT), so there the name maps to 0, which the
/// protocol treats as an unknown name.
#[cfg(not(target_arch = "mips"))]
pub const SIGSTKFLT: i32 = libc::SIGSTKFLT;
#[cfg(target_arch = "mips")]
pub const SIGSTKFLT: i32 = 0;

// The self-pipe carries a signal number in one byte, and the pending
// table tracks numbers up to 64: every handled signal must fit both.
const _: () = {
    let mut i = 0;
    while i < crate::signal::HANDLED.len() {
        assert!(crate::signal::HANDLED[i] > 0 && crate::signal::HANDLED[i] <= 64);
        i += 1;
    }
};
// A poll set is handed to poll(2) as an array of libc's pollfd.
const _: () = assert!(core::mem::size_of::<crate::sys::PollEntry>() == 8);
// Descriptors received with SCM_RIGHTS are read as C ints.
const _: () = assert!(core::mem::size_of::<core::ffi::c_int>() == 4);
