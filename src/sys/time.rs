//! The clock and sleeping.

/// Monotonic time in 32.32 fixed point (seconds in the high half).
/// Through musl, whose vDSO lookup is linked anyway (rustix would bring a
/// second vDSO parser).
pub fn now() -> u64 {
    // SAFETY: a timespec is plain integers; zero is a valid value (its
    // fields and padding differ between 32- and 64-bit targets).
    let mut ts: libc::timespec = unsafe { core::mem::zeroed() };
    // SAFETY: a valid out pointer; CLOCK_MONOTONIC cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ((ts.tv_sec as u64) << 32) | (((ts.tv_nsec as u64) << 32) / 1_000_000_000)
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
