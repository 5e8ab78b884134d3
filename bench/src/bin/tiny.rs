//! The program the spawn and restart cycles run: a static executable that
//! exits 0 at once, so the cycle measures the supervisor, not the service.

// Under `cargo test` (clippy --all-targets) the C entry point is not built.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code, unused_imports))]

mod nostd;

/// Entry point called by the C runtime.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn main() -> core::ffi::c_int {
    0
}
