//! Monotonic time: instants (`Mono`) and durations (`Dur`) in 32.32 fixed
//! point seconds, with all of their arithmetic here.
//!
//! The clock wraps (after 2^32 seconds), so instants compare by their
//! wrapping difference: `a < b` when `b` is less than half the range ahead
//! of `a`. The loop reads the clock once per pass (`sys::now()`); everything below it takes `now` as a parameter, which is
//! what lets the unit tests drive the state machines with a made-up clock.

use core::cmp::Ordering;
use core::ops::Add;

/// One fractional bit count: 32.32 fixed point.
const FRACTION_BITS: u32 = 32;

/// An instant of the monotonic clock.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Mono(u64);

zeroable!(Mono(u64));

/// A span of time, never negative.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub struct Dur(u64);

zeroable!(Dur(u64));

impl Mono {
    /// The instant the clock reads as zero (a zeroed service's times).
    pub const ZERO: Mono = Mono(0);

    /// An instant from a CLOCK_MONOTONIC reading.
    pub const fn from_clock(secs: u64, nanos: u64) -> Mono {
        Mono((secs << FRACTION_BITS) | ((nanos << FRACTION_BITS) / 1_000_000_000))
    }

    /// The instant `secs` whole seconds after zero (a protocol timestamp).
    pub const fn from_secs(secs: u64) -> Mono {
        Mono(secs << FRACTION_BITS)
    }

    /// Whole seconds since zero, as timestamps are shown.
    pub const fn as_secs(self) -> u64 {
        self.0 >> FRACTION_BITS
    }

    /// How long after `earlier` this is (wrapping: `earlier` must not be
    /// later).
    pub const fn since(self, earlier: Mono) -> Dur {
        Dur(self.0.wrapping_sub(earlier.0))
    }

    /// The signed distance from `now` to this instant, in 32.32 (negative
    /// when it is past).
    const fn ahead_of(self, now: Mono) -> i64 {
        self.0.wrapping_sub(now.0) as i64
    }

    /// Milliseconds to sleep from `now` to reach this instant: 0 when it is
    /// reached, else rounded up so that the wake-up is never early.
    pub const fn poll_ms_from(self, now: Mono) -> i64 {
        let d = self.ahead_of(now);
        if d <= 0 {
            0
        } else {
            ((d as u64 * 1000) >> FRACTION_BITS) as i64 + 1
        }
    }
}

impl Ord for Mono {
    fn cmp(&self, other: &Mono) -> Ordering {
        self.ahead_of(*other).cmp(&0)
    }
}

impl PartialOrd for Mono {
    fn partial_cmp(&self, other: &Mono) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Add<Dur> for Mono {
    type Output = Mono;
    fn add(self, d: Dur) -> Mono {
        Mono(self.0.wrapping_add(d.0))
    }
}

impl Dur {
    /// `secs` whole seconds.
    pub const fn from_secs(secs: u32) -> Dur {
        Dur((secs as u64) << FRACTION_BITS)
    }

    /// A span in the clock's 32.32 units.
    pub const fn from_raw(raw: u64) -> Dur {
        Dur(raw)
    }

    /// `ms` milliseconds (rounded down to the clock's resolution).
    pub const fn from_ms(ms: u32) -> Dur {
        Dur(((ms as u64) << FRACTION_BITS) / 1000)
    }

    /// Whole seconds, rounded down.
    pub const fn as_secs(self) -> u64 {
        self.0 >> FRACTION_BITS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_order_across_the_wrap() {
        let late = Mono::from_secs(u64::from(u32::MAX) - 1);
        let wrapped = late + Dur::from_secs(3);
        assert!(wrapped > late);
        assert_eq!(wrapped.since(late), Dur::from_secs(3));
        assert_eq!(wrapped.since(late).as_secs(), 3);
        assert!(Mono::from_secs(5) < Mono::from_secs(6));
        assert_eq!(Mono::from_secs(7).as_secs(), 7);
    }

    #[test]
    fn poll_timeouts_round_up() {
        let now = Mono::from_secs(100);
        assert_eq!(now.poll_ms_from(now), 0);
        assert_eq!(Mono::from_secs(99).poll_ms_from(now), 0);
        assert_eq!((now + Dur::from_secs(2)).poll_ms_from(now), 2001);
        assert_eq!((now + Dur::from_ms(500)).poll_ms_from(now), 501);
        assert!(Mono::from_secs(90) < now);
    }
}
