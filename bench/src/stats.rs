//! Samples to figures: median and spread.

/// A figure from repeated runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Stat {
    /// The median and range of `samples` (None when there are none).
    pub fn of(samples: &[f64]) -> Option<Stat> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        Some(Stat {
            median,
            min: s[0],
            max: s[n - 1],
            runs: n,
        })
    }

    /// Half the range as a fraction of the median: the "±" printed.
    pub fn spread(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / 2.0 / self.median.abs()
        }
    }
}

/// A number with about three significant digits.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// `median ±spread%`, or the bare value for single samples.
pub fn cell(s: Option<Stat>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s.runs < 2 || s.min == s.max => num(s.median),
        Some(s) => format!("{} ±{:.0}%", num(s.median), s.spread() * 100.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread() {
        let s = Stat::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (2.0, 1.0, 3.0, 3));
        assert_eq!(s.spread(), 0.5);
        assert_eq!(Stat::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert!(Stat::of(&[]).is_none());
    }

    #[test]
    fn cells() {
        assert_eq!(cell(None), "—");
        assert_eq!(cell(Stat::of(&[12.345])), "12.3");
        assert_eq!(cell(Stat::of(&[90.0, 100.0, 110.0])), "100 ±10%");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(1234.4), "1234");
    }
}
