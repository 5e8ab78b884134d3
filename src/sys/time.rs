//! The clock and sleeping.

use crate::time::Mono;

/// The monotonic clock. Through musl, whose vDSO lookup is linked anyway
/// (rustix would bring a second vDSO parser).
pub fn now() -> Mono {
    // SAFETY: a timespec is plain integers; zero is a valid value (its
    // fields and padding differ between 32- and 64-bit targets).
    let mut ts: libc::timespec = unsafe { core::mem::zeroed() };
    // SAFETY: a valid out pointer; CLOCK_MONOTONIC cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    Mono::from_clock(ts.tv_sec as u64, ts.tv_nsec as u64)
}

/// Sleeps for `ms` milliseconds.
#[cold]
pub fn sleep_ms(ms: u64) {
    let ts = rustix::time::Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as _,
    };
    let _ = rustix::thread::nanosleep(&ts);
}
