//! The printed table and the machine-readable results (one JSON object per
//! line: a `meta` line, then one line per figure and implementation).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::stats::{Stat, cell, num};

/// What a figure is held to (reported, never asserted).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bar {
    None,
    /// ours/limit at least this (higher is better).
    RatioAtLeast(f64),
    /// ours/limit at most this (lower is better).
    RatioAtMost(f64),
    /// ours at most this value.
    AtMost(f64),
    /// Within 10% of the first row of its group (the smallest count).
    Flat,
}

/// How far a `Flat` figure may drift from the first of its group.
pub const FLAT_TOLERANCE: f64 = 0.10;

/// One row of the table.
pub struct Figure {
    /// Stable key in the results file.
    pub id: &'static str,
    pub label: String,
    pub unit: &'static str,
    pub ours: Option<Stat>,
    pub limit: Option<Stat>,
    pub theirs: Option<Stat>,
    /// A second reference, printed under the row: what the simplest
    /// program doing the work no implementation can avoid reaches (for
    /// pipelined, a parser that only answers `echo`), and its name. Not a
    /// protocol implementation: the best one could do.
    pub bound: Option<(&'static str, Stat)>,
    pub bar: Bar,
}

/// Where the figures come from.
pub struct Meta {
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
    pub arch: String,
    pub date: String,
    pub git: String,
    pub runs: usize,
    pub ours: String,
    pub theirs: Option<String>,
    /// CPUs: the benchmark's (and latency workloads'), throughput peers'.
    pub cpus: (usize, usize),
}

fn run(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

impl Meta {
    pub fn collect(ours: &Path, theirs: Option<&Path>, runs: usize, cpus: (usize, usize)) -> Meta {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        // The machine's CPUs, not the benchmark's affinity (which libc's
        // CPU counts report).
        let cores = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let mut git = run("git", &["rev-parse", "--short=12", "HEAD"]);
        if !run("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty() {
            git.push('+');
        }
        Meta {
            cpu,
            cores,
            kernel: run("uname", &["-r"]),
            arch: std::env::consts::ARCH.into(),
            date: run("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
            git,
            runs,
            ours: ours.display().to_string(),
            theirs: theirs.map(|t| t.display().to_string()),
            cpus,
        }
    }
}

impl Figure {
    /// ours/limit, or for `Flat` rows ours/first-of-group.
    fn ratio(&self, group_first: Option<f64>) -> Option<f64> {
        let ours = self.ours?.median;
        match self.bar {
            Bar::Flat => group_first.map(|f| ours / f),
            _ => self.limit.map(|l| ours / l.median),
        }
    }

    fn verdict(&self, ratio: Option<f64>) -> &'static str {
        let ok = match (self.bar, ratio, self.ours) {
            (Bar::None, _, _) => return "",
            (Bar::RatioAtLeast(b), Some(r), _) => r >= b,
            (Bar::RatioAtMost(b), Some(r), _) => r <= b,
            (Bar::Flat, Some(r), _) => (r - 1.0).abs() <= FLAT_TOLERANCE,
            (Bar::AtMost(b), _, Some(o)) => o.median <= b,
            _ => return "?",
        };
        if ok { "ok" } else { "MISS" }
    }
}

fn bar_text(b: Bar) -> String {
    match b {
        Bar::None => String::new(),
        Bar::RatioAtLeast(v) => format!("≥ {v:.2}×"),
        Bar::RatioAtMost(v) => format!("≤ {v:.2}×"),
        Bar::AtMost(v) => format!("≤ {}", num(v)),
        Bar::Flat => format!("±{:.0}%", FLAT_TOLERANCE * 100.0),
    }
}

/// The table as printed by `make bench`.
pub fn table(meta: &Meta, figs: &[Figure], base: Option<&HashMap<String, f64>>) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "daemonproxy bench: {} ({} cores), {}, kernel {}; git {}; median of {} runs ±half the range",
        meta.cpu, meta.cores, meta.arch, meta.kernel, meta.git, meta.runs
    );
    let _ = writeln!(
        t,
        "pinned: benchmark, round trip and spawn peers on CPU {}; pipelined, statedump and scaling peers on CPU {}",
        meta.cpus.0, meta.cpus.1
    );
    if let Some(th) = &meta.theirs {
        let _ = writeln!(t, "theirs: {th}");
    }
    let theirs = figs.iter().any(|f| f.theirs.is_some()) || meta.theirs.is_some();
    let mut head = format!(
        "{:<28} {:<10} {:>14} {:>14} {:>8} {:>8} {:>4}",
        "workload", "unit", "ours", "limit", "ratio", "bar", ""
    );
    if theirs {
        let _ = write!(head, " {:>14} {:>11}", "theirs", "ours/theirs");
    }
    if base.is_some() {
        let _ = write!(head, " {:>9}", "vs base");
    }
    let _ = writeln!(t, "{head}");
    let _ = writeln!(t, "{}", "-".repeat(head.chars().count()));
    let mut group_first = None;
    for f in figs {
        if f.bar == Bar::Flat {
            group_first = group_first.or(f.ours.map(|s| s.median));
        } else {
            group_first = None;
        }
        let ratio = f.ratio(group_first);
        let mut line = format!(
            "{:<28} {:<10} {:>14} {:>14} {:>8} {:>8} {:>4}",
            f.label,
            f.unit,
            cell(f.ours),
            cell(f.limit),
            ratio.map_or("—".into(), |r| format!("{r:.2}")),
            bar_text(f.bar),
            f.verdict(ratio)
        );
        if theirs {
            let vs = match (f.ours, f.theirs) {
                (Some(o), Some(th)) => format!("{:.2}", o.median / th.median),
                _ => "—".into(),
            };
            let _ = write!(line, " {:>14} {:>11}", cell(f.theirs), vs);
        }
        if let Some(b) = base {
            let vs = match (f.ours, b.get(f.id)) {
                (Some(o), Some(&v)) if v != 0.0 => format!("{:.2}", o.median / v),
                _ => "—".into(),
            };
            let _ = write!(line, " {vs:>9}");
        }
        let _ = writeln!(t, "{}", line.trim_end());
        if let Some((name, b)) = f.bound {
            let ratio = f
                .limit
                .map_or("—".into(), |l| format!("{:.2}", b.median / l.median));
            let _ = writeln!(
                t,
                "{:<28} {:<10} {:>14} {:>14} {:>8}",
                format!("  bound: {name}"),
                f.unit,
                cell(Some(b)),
                cell(f.limit),
                ratio
            );
        }
    }
    let _ = writeln!(
        t,
        "ratio: ours/limit (scaling rows: ours/10 services); higher is better only for klines/s"
    );
    t
}

fn esc(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// The results file: a meta line, then one line per figure and implementation.
pub fn jsonl(meta: &Meta, figs: &[Figure]) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{{\"meta\":{{\"cpu\":\"{}\",\"cores\":{},\"arch\":\"{}\",\"kernel\":\"{}\",\"date\":\"{}\",\"git\":\"{}\",\"runs\":{},\"ours\":\"{}\",\"theirs\":\"{}\",\"cpus\":[{},{}]}}}}",
        esc(&meta.cpu),
        meta.cores,
        esc(&meta.arch),
        esc(&meta.kernel),
        esc(&meta.date),
        esc(&meta.git),
        meta.runs,
        esc(&meta.ours),
        esc(meta.theirs.as_deref().unwrap_or("")),
        meta.cpus.0,
        meta.cpus.1
    );
    for f in figs {
        let all = [
            ("ours", f.ours),
            ("limit", f.limit),
            ("theirs", f.theirs),
            ("bound", f.bound.map(|b| b.1)),
        ];
        for (who, s) in all {
            let Some(s) = s else { continue };
            let _ = writeln!(
                t,
                "{{\"id\":\"{}\",\"impl\":\"{who}\",\"unit\":\"{}\",\"median\":{},\"min\":{},\"max\":{},\"runs\":{},\"label\":\"{}\"}}",
                f.id,
                esc(f.unit),
                s.median,
                s.min,
                s.max,
                s.runs,
                esc(&f.label)
            );
        }
    }
    t
}

fn json_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let rest = &line[line.find(&pat)? + pat.len()..];
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let end = rest.find([',', '"', '}'])?;
    Some(&rest[..end])
}

/// Our medians from an earlier results file, by figure id.
pub fn read_baseline(path: &Path) -> Option<HashMap<String, f64>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut m = HashMap::new();
    for line in text.lines() {
        if json_field(line, "impl") != Some("ours") {
            continue;
        }
        if let (Some(id), Some(v)) = (json_field(line, "id"), json_field(line, "median"))
            && let Ok(v) = v.parse()
        {
            m.insert(id.to_string(), v);
        }
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(ours: f64, limit: f64, bar: Bar) -> Figure {
        Figure {
            id: "x",
            label: "x".into(),
            unit: "µs",
            ours: Stat::of(&[ours]),
            limit: Stat::of(&[limit]),
            theirs: None,
            bound: None,
            bar,
        }
    }

    #[test]
    fn verdicts() {
        let f = fig(1.1, 1.0, Bar::RatioAtMost(1.2));
        assert_eq!(f.verdict(f.ratio(None)), "ok");
        let f = fig(1.3, 1.0, Bar::RatioAtMost(1.2));
        assert_eq!(f.verdict(f.ratio(None)), "MISS");
        let f = fig(0.9, 1.0, Bar::RatioAtLeast(0.8));
        assert_eq!(f.verdict(f.ratio(None)), "ok");
        let f = fig(105.0, 0.0, Bar::Flat);
        assert_eq!(f.verdict(f.ratio(Some(100.0))), "ok");
        let f = fig(120.0, 0.0, Bar::Flat);
        assert_eq!(f.verdict(f.ratio(Some(100.0))), "MISS");
        let f = fig(70.0, 10.0, Bar::AtMost(64.0));
        assert_eq!(f.verdict(f.ratio(None)), "MISS");
    }

    #[test]
    fn results_round_trip_through_the_baseline_reader() {
        let meta = Meta {
            cpu: "cpu \"x\"".into(),
            cores: 2,
            kernel: "k".into(),
            arch: "x86_64".into(),
            date: "d".into(),
            git: "g".into(),
            runs: 3,
            ours: "/a".into(),
            theirs: None,
            cpus: (0, 1),
        };
        let mut f = fig(12.5, 10.0, Bar::None);
        f.id = "round_trip";
        f.bound = Stat::of(&[11.0]).map(|b| ("poll-first relay", b));
        let printed = table(&meta, &[f], None);
        let row = printed
            .lines()
            .find(|l| l.contains("bound: poll-first relay"));
        assert!(row.is_some_and(|r| r.contains("11.0") && r.trim_end().ends_with("1.10")));
        let mut f = fig(12.5, 10.0, Bar::None);
        f.id = "round_trip";
        f.bound = Stat::of(&[11.0]).map(|b| ("poll-first relay", b));
        let text = jsonl(&meta, &[f]);
        assert!(text.contains("\"impl\":\"bound\""));
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains("\"cpu\":\"cpu \\\"x\\\"\"")
        );
        let dir = std::env::temp_dir().join(format!("bench-test-{}", std::process::id()));
        std::fs::write(&dir, &text).unwrap();
        let base = read_baseline(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(base.get("round_trip"), Some(&12.5));
        assert_eq!(base.len(), 1);
    }
}
