//! The memory limit: a static executable that only waits in pause(2). Its
//! VmRSS and Private_Dirty are the floor for any static musl program.

// Under `cargo test` (clippy --all-targets) the C entry point is not built.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code, unused_imports))]

mod nostd;

/// Entry point called by the C runtime.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn main() -> core::ffi::c_int {
    loop {
        // SAFETY: plain syscall; returns when a handled signal arrives.
        unsafe { libc::pause() };
    }
}
