//! `make bench`: drives the release daemon over pipes exactly as a
//! controller does, and measures beside each workload the limit the machine
//! sets (a bare line relay, a bare fork/exec/wait loop, a `pause()` program)
//! in the same run. Under the pipelined and round-trip rows it also
//! measures a bound: the limit plus only the work no implementation can
//! avoid (parsing the lines; waiting in poll for more than one descriptor). Implementations alternate run by run so drift hits all of them
//! alike; each figure is the median of the runs, with the spread.
//!
//! Usage: bench --daemon PATH [--compare PATH] [--aarch64 PATH]
//!              [--out FILE] [--baseline FILE] [--runs N] [--only WORKLOAD]

mod cpu;
mod peer;
mod report;
mod stats;

use std::ffi::CString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cpu::{Cpus, Place};
use peer::{Peer, Res};
use report::{Bar, Figure};
use stats::Stat;

/// Lines per pipelined run.
const PIPELINED_LINES: usize = 100_000;
/// Round trips per run.
const ROUND_TRIPS: usize = 5_000;
/// Spawns (and restarts) per run.
const CYCLES: usize = 300;
/// Dumps per statedump run.
const DUMPS: usize = 5;
/// Objects of each kind in the statedump workload.
const DUMP_OBJECTS: usize = 1_000;
/// Commands per scaling run.
const SCALING_COMMANDS: usize = 50_000;
/// Service counts of the scaling workload.
const SCALING_COUNTS: [usize; 3] = [10, 100, 1_000];

/// The programs built beside this one.
struct Bins {
    relay: PathBuf,
    parser: PathBuf,
    tiny: PathBuf,
    pause: PathBuf,
}

/// What to run.
struct Ctx {
    ours: PathBuf,
    theirs: Option<PathBuf>,
    aarch64: Option<PathBuf>,
    bins: Bins,
    runs: usize,
    cpus: Cpus,
}

/// One implementation taking part in a workload.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Ours,
    Limit,
    Theirs,
    /// Not an implementation: the best one could do (see `Figure`).
    Bound,
}

impl Ctx {
    /// The implementations speaking the protocol: ours, and theirs if given.
    fn daemons(&self) -> Vec<(Who, &Path)> {
        let mut v = vec![(Who::Ours, self.ours.as_path())];
        if let Some(t) = &self.theirs {
            v.push((Who::Theirs, t.as_path()));
        }
        v
    }
}

impl Ctx {
    /// Starts `prog args…` pinned for `place`.
    fn spawn(&self, prog: &Path, args: &[&str], what: &str, place: Place) -> Res<Peer> {
        let p = Peer::spawn(prog, args, what)?;
        self.cpus.pin(p.pid(), place);
        Ok(p)
    }

    /// Starts an implementation of the protocol and waits for its banner.
    fn start_daemon(&self, path: &Path, who: Who, place: Place) -> Res<Peer> {
        let what = format!("{who:?} ({})", path.display());
        let mut p = self.spawn(path, &["-i"], &what, place)?;
        p.sync("ready")?;
        Ok(p)
    }
}

/// Runs `trial` for each participant `runs` times, rotating the order every
/// run; a participant whose trial fails drops out with its error noted.
/// Returns the samples per participant.
fn alternate<T>(
    runs: usize,
    parts: &mut [(Who, T)],
    errors: &mut Vec<String>,
    mut trial: impl FnMut(Who, &mut T) -> Res<f64>,
) -> Vec<(Who, Vec<f64>)> {
    let mut samples: Vec<(Who, Vec<f64>)> = parts.iter().map(|(w, _)| (*w, vec![])).collect();
    let mut failed = vec![false; parts.len()];
    let n = parts.len();
    // One unrecorded warm-up run, then the measured ones.
    for run in 0..=runs {
        for k in 0..n {
            let i = (k + run) % n;
            if failed[i] {
                continue;
            }
            let (who, state) = &mut parts[i];
            match trial(*who, state) {
                Ok(v) if run > 0 => samples[i].1.push(v),
                Ok(_) => {}
                Err(e) => {
                    errors.push(format!("{who:?}: {e}"));
                    failed[i] = true;
                }
            }
        }
    }
    samples
}

fn stat_of(samples: &[(Who, Vec<f64>)], who: Who) -> Option<Stat> {
    samples
        .iter()
        .find(|(w, _)| *w == who)
        .and_then(|(_, s)| Stat::of(s))
}

fn per_op_us(d: Duration, ops: usize) -> f64 {
    d.as_secs_f64() * 1e6 / ops as f64
}

// ------------------------------------------------------------ workloads ---

/// N `echo` lines written back to back, until the last reply returns.
fn pipelined(ctx: &Ctx, figs: &mut Vec<Figure>, errors: &mut Vec<String>) -> Res<()> {
    let mut out = Vec::new();
    for i in 0..PIPELINED_LINES {
        writeln!(out_str(&mut out), "echo\t{i:07}").unwrap();
    }
    let relay = ctx.spawn(&ctx.bins.relay, &[], "relay", Place::Other)?;
    let parser = ctx.spawn(&ctx.bins.parser, &[], "parser", Place::Other)?;
    let mut parts = vec![(Who::Limit, relay), (Who::Bound, parser)];
    for (who, path) in ctx.daemons() {
        parts.push((who, ctx.start_daemon(path, who, Place::Other)?));
    }
    let s = alternate(ctx.runs, &mut parts, errors, |_, p| {
        let t = Instant::now();
        p.pump_lines(&out, PIPELINED_LINES)?;
        Ok(PIPELINED_LINES as f64 / t.elapsed().as_secs_f64() / 1e3)
    });
    figs.push(Figure {
        id: "pipelined",
        label: "pipelined echo".into(),
        unit: "klines/s",
        ours: stat_of(&s, Who::Ours),
        limit: stat_of(&s, Who::Limit),
        theirs: stat_of(&s, Who::Theirs),
        bound: stat_of(&s, Who::Bound).map(|b| ("echo-only parser", b)),
        bar: Bar::RatioAtLeast(0.8),
    });
    Ok(())
}

/// Appends formatted text to a byte buffer.
fn out_str(v: &mut Vec<u8>) -> ByteWriter<'_> {
    ByteWriter(v)
}

struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// One `echo`, wait for it, repeat.
fn round_trip(ctx: &Ctx, figs: &mut Vec<Figure>, errors: &mut Vec<String>) -> Res<()> {
    let relay = ctx.spawn(&ctx.bins.relay, &[], "relay", Place::Same)?;
    let polling = ctx.spawn(&ctx.bins.relay, &["poll"], "relay poll", Place::Same)?;
    let mut parts = vec![(Who::Limit, relay), (Who::Bound, polling)];
    for (who, path) in ctx.daemons() {
        parts.push((who, ctx.start_daemon(path, who, Place::Same)?));
    }
    let s = alternate(ctx.runs, &mut parts, errors, |_, p| {
        let t = Instant::now();
        for i in 0..ROUND_TRIPS {
            p.sync(&format!("r{i}"))?;
        }
        Ok(per_op_us(t.elapsed(), ROUND_TRIPS))
    });
    figs.push(Figure {
        id: "round_trip",
        label: "round trip".into(),
        unit: "µs",
        ours: stat_of(&s, Who::Ours),
        limit: stat_of(&s, Who::Limit),
        theirs: stat_of(&s, Who::Theirs),
        bound: stat_of(&s, Who::Bound).map(|b| ("poll-first relay", b)),
        bar: Bar::RatioAtMost(1.2),
    });
    Ok(())
}

/// fork, exec `tiny`, wait: the limit of a spawn.
struct ForkLoop {
    prog: CString,
}

impl ForkLoop {
    fn new(prog: &Path) -> ForkLoop {
        ForkLoop {
            prog: CString::new(prog.as_os_str().as_encoded_bytes()).expect("path without NUL"),
        }
    }

    fn run(&self, n: usize) -> Res<Duration> {
        let argv = [self.prog.as_ptr(), std::ptr::null()];
        unsafe extern "C" {
            static environ: *const *const libc::c_char;
        }
        let t = Instant::now();
        for _ in 0..n {
            // SAFETY: the child only calls execve and _exit.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: argv and environ are NULL-terminated.
                unsafe {
                    libc::execve(self.prog.as_ptr(), argv.as_ptr(), environ);
                    libc::_exit(127);
                }
            }
            if pid < 0 {
                return Err(format!("fork: {}", std::io::Error::last_os_error()));
            }
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            if status != 0 {
                return Err(format!("tiny exited with status {status}"));
            }
        }
        Ok(t.elapsed())
    }
}

/// Where a spawn or restart trial drives: a daemon, or the bare loop.
enum Spawner {
    Daemon(Peer),
    Loop(ForkLoop),
}

fn spawners(ctx: &Ctx, define: &str) -> Res<Vec<(Who, Spawner)>> {
    let mut parts = vec![(Who::Limit, Spawner::Loop(ForkLoop::new(&ctx.bins.tiny)))];
    for (who, path) in ctx.daemons() {
        let mut p = ctx.start_daemon(path, who, Place::Same)?;
        p.send(&format!("{define}\t{}", ctx.bins.tiny.display()))?;
        p.sync("defined")?;
        parts.push((who, Spawner::Daemon(p)));
    }
    Ok(parts)
}

fn is_state(l: &str, name: &str, state: &str) -> bool {
    let mut f = l.split('\t');
    f.next() == Some("service.state") && f.next() == Some(name) && f.next() == Some(state)
}

/// `service.start` of the tiny program until its `down` event, repeated.
fn spawn_cycle(ctx: &Ctx, figs: &mut Vec<Figure>, errors: &mut Vec<String>) -> Res<()> {
    let mut parts = spawners(ctx, "service.args\tt")?;
    let s = alternate(ctx.runs, &mut parts, errors, |_, sp| match sp {
        Spawner::Loop(l) => Ok(per_op_us(l.run(CYCLES)?, CYCLES)),
        Spawner::Daemon(p) => {
            let t = Instant::now();
            for _ in 0..CYCLES {
                p.send("service.start\tt")?;
                let l = p.until("service t down", |l| is_state(l, "t", "down"))?;
                if !l.contains("\texit\t0\t") {
                    return Err(format!("unexpected exit: {l}"));
                }
            }
            Ok(per_op_us(t.elapsed(), CYCLES))
        }
    });
    figs.push(Figure {
        id: "spawn",
        label: "spawn cycle".into(),
        unit: "µs",
        ours: stat_of(&s, Who::Ours),
        limit: stat_of(&s, Who::Limit),
        theirs: stat_of(&s, Who::Theirs),
        bound: None,
        bar: Bar::RatioAtMost(1.3),
    });
    Ok(())
}

/// auto_up restarts (interval 0: immediate, §6.5) of a service that exits at
/// once, timed from the first `down` to the last.
fn restart_cycle(ctx: &Ctx, figs: &mut Vec<Figure>, errors: &mut Vec<String>) -> Res<()> {
    let mut parts = spawners(ctx, "service.args\tr")?;
    let mut round = 0;
    let s = alternate(ctx.runs, &mut parts, errors, |_, sp| match sp {
        Spawner::Loop(l) => Ok(per_op_us(l.run(CYCLES)?, CYCLES)),
        Spawner::Daemon(p) => {
            // `-` keeps the interval of a new service: 0.
            p.send("service.auto_up\tr\t-\talways")?;
            p.until("service r down", |l| is_state(l, "r", "down"))?;
            let t = Instant::now();
            for _ in 0..CYCLES {
                p.until("service r down", |l| is_state(l, "r", "down"))?;
            }
            let d = t.elapsed();
            // Stop, and wait until the last run is reaped.
            round += 1;
            let token = format!("stopped{round}");
            p.send("service.auto_up\tr\t-")?;
            p.send(&format!("echo\t{token}"))?;
            let mut last = String::from("down");
            p.until("the stop", |l| {
                if l.starts_with("service.state\tr\t") {
                    last = l.split('\t').nth(2).unwrap_or("").to_string();
                }
                l == token
            })?;
            if last != "down" {
                p.until("service r down", |l| is_state(l, "r", "down"))?;
            }
            Ok(per_op_us(d, CYCLES))
        }
    });
    figs.push(Figure {
        id: "restart",
        label: "restart cycle".into(),
        unit: "µs",
        ours: stat_of(&s, Who::Ours),
        limit: stat_of(&s, Who::Limit),
        theirs: stat_of(&s, Who::Theirs),
        bound: None,
        bar: Bar::None,
    });
    Ok(())
}

/// Commands defining `n` services with typical arguments.
fn define_services(out: &mut Vec<u8>, from: usize, to: usize) {
    for i in from..to {
        writeln!(
            out_str(out),
            "service.args\tsvc{i:05}\t/usr/sbin/daemon{i}\t--foreground\t--config=/etc/svc{i}.conf"
        )
        .unwrap();
    }
}

/// A full statedump with 1,000 services and 1,000 fds; time per object.
fn statedump(ctx: &Ctx, figs: &mut Vec<Figure>, errors: &mut Vec<String>) -> Res<()> {
    let mut setup = Vec::new();
    define_services(&mut setup, 0, DUMP_OBJECTS);
    for i in 0..DUMP_OBJECTS {
        writeln!(out_str(&mut setup), "fd.open\tfd{i:05}\tread\t/dev/null").unwrap();
    }
    setup.extend_from_slice(b"echo\tdefined\n");
    let mut parts = Vec::new();
    for (who, path) in ctx.daemons() {
        let mut p = ctx.start_daemon(path, who, Place::Other)?;
        let mut failed = None;
        p.pump_until(&setup, "defined", |l| {
            if failed.is_none() && l.starts_with(b"error") {
                failed = Some(String::from_utf8_lossy(l).into_owned());
            }
        })?;
        if let Some(e) = failed {
            errors.push(format!("{who:?}: statedump setup: {e}"));
        }
        parts.push((who, p));
    }
    let mut dumps = b"statedump\n".repeat(DUMPS);
    dumps.extend_from_slice(b"echo\tdumped\n");
    let s = alternate(ctx.runs, &mut parts, errors, |_, p| {
        let t = Instant::now();
        let mut objects = 0;
        p.pump_until(&dumps, "dumped", |l| {
            if l.starts_with(b"fd.state\t") || l.starts_with(b"service.state\t") {
                objects += 1;
            }
        })?;
        let d = t.elapsed();
        if objects < 2 * DUMP_OBJECTS * DUMPS {
            return Err(format!("statedump listed only {objects} objects"));
        }
        Ok(d.as_secs_f64() * 1e9 / objects as f64)
    });
    figs.push(Figure {
        id: "statedump",
        label: format!("statedump {DUMP_OBJECTS} svc + {DUMP_OBJECTS} fd"),
        unit: "ns/object",
        ours: stat_of(&s, Who::Ours),
        limit: None,
        theirs: stat_of(&s, Who::Theirs),
        bound: None,
        bar: Bar::None,
    });
    Ok(())
}

/// The cost of one command (`service.tags` on an existing service, the
/// value changing length every time) with 10, 100 and 1,000 services.
fn scaling(ctx: &Ctx, figs: &mut Vec<Figure>, errors: &mut Vec<String>) -> Res<()> {
    for (who, path) in ctx.daemons() {
        let mut parts = Vec::new();
        let mut batches = Vec::new();
        for &n in &SCALING_COUNTS {
            let mut setup = Vec::new();
            define_services(&mut setup, 0, n);
            setup.extend_from_slice(b"echo\tdefined\n");
            let mut p = ctx.start_daemon(path, who, Place::Other)?;
            p.pump_until(&setup, "defined", |_| {})?;
            parts.push((who, p));
            let mut cmds = Vec::new();
            for k in 0..SCALING_COMMANDS {
                // A stride through all services; tags alternate in length.
                let i = (k * 7919) % n;
                let tags = if (k / n) % 2 == 0 { "a" } else { "bb" };
                writeln!(out_str(&mut cmds), "service.tags\tsvc{i:05}\t{tags}").unwrap();
            }
            batches.push(cmds);
        }
        // The instances alternate like implementations do.
        let mut idx: Vec<(Who, (usize, Peer))> = parts
            .into_iter()
            .enumerate()
            .map(|(k, (w, p))| (w, (k, p)))
            .collect();
        let mut samples = vec![Vec::new(); SCALING_COUNTS.len()];
        let mut failed = None;
        for run in 0..=ctx.runs {
            for j in 0..idx.len() {
                let k = (j + run) % idx.len();
                let (_, (n, p)) = &mut idx[k];
                let t = Instant::now();
                if let Err(e) = p.pump_lines(&batches[*n], SCALING_COMMANDS) {
                    failed = Some(e);
                    break;
                }
                if run > 0 {
                    samples[*n].push(t.elapsed().as_secs_f64() * 1e9 / SCALING_COMMANDS as f64);
                }
            }
            if failed.is_some() {
                break;
            }
        }
        if let Some(e) = failed {
            errors.push(format!("{who:?}: scaling: {e}"));
        }
        for (k, &n) in SCALING_COUNTS.iter().enumerate() {
            let st = Stat::of(&samples[k]);
            let id = ["scaling_10", "scaling_100", "scaling_1000"][k];
            match figs.iter_mut().find(|f| f.id == id) {
                Some(f) if who == Who::Theirs => f.theirs = st,
                Some(_) => {}
                None => figs.push(Figure {
                    id,
                    label: format!("one command, {n} svc"),
                    unit: "ns/cmd",
                    ours: st,
                    limit: None,
                    theirs: None,
                    bound: None,
                    bar: Bar::Flat,
                }),
            }
        }
    }
    Ok(())
}

// --------------------------------------------------------------- memory ---

/// (VmRSS, Private_Dirty) of a process, KiB.
fn memory_of(pid: u32) -> Res<(f64, f64)> {
    let field = |file: &str, key: &str| -> Res<f64> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/{file}"))
            .map_err(|e| format!("/proc/{pid}/{file}: {e}"))?;
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {key} in /proc/{pid}/{file}"))
    };
    Ok((
        field("status", "VmRSS:")?,
        field("smaps_rollup", "Private_Dirty:")?,
    ))
}

/// Waits until a process sleeps (state S), so it has finished starting.
fn settle(pid: u32) {
    for _ in 0..200 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat
            .rsplit(')')
            .next()
            .map(str::trim_start)
            .unwrap_or("")
            .starts_with('S')
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn file_kib(p: &Path) -> Option<Stat> {
    std::fs::metadata(p)
        .ok()
        .and_then(|m| Stat::of(&[m.len() as f64 / 1024.0]))
}

/// VmRSS and Private_Dirty idle and with 100 and 1,000 services, beside a
/// `pause()` program; binary sizes.
fn memory(ctx: &Ctx, figs: &mut Vec<Figure>, errors: &mut Vec<String>) -> Res<()> {
    // Freshly written binaries' page-cache pages count as dirty until synced.
    // SAFETY: plain syscall.
    unsafe { libc::sync() };
    // Idle is measured before any command, once the banner is out; then
    // after one command (it touches the receive buffer's page) and with
    // 100 and 1,000 services defined.
    const STAGES: [(Option<usize>, &str); 4] = [
        (None, "idle"),
        (Some(0), "after 1 cmd"),
        (Some(100), "100 svc"),
        (Some(1_000), "1000 svc"),
    ];
    let mut rows: Vec<[Vec<f64>; 8]> = Vec::new();
    let mut pause = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let p = ctx.spawn(&ctx.bins.pause, &[], "pause", Place::Same)?;
        settle(p.pid());
        let (rss, dirty) = memory_of(p.pid())?;
        pause.0.push(rss);
        pause.1.push(dirty);
    }
    for (who, path) in ctx.daemons() {
        let mut r: [Vec<f64>; 8] = Default::default();
        let mut ok = true;
        for _ in 0..3 {
            let res = (|| -> Res<()> {
                let what = format!("{who:?} ({})", path.display());
                let mut p = ctx.spawn(path, &["-i"], &what, Place::Same)?;
                p.until("the banner's last line", |l| l.contains("NO WARRANTY"))?;
                let mut have = 0;
                for (k, &(n, _)) in STAGES.iter().enumerate() {
                    if let Some(n) = n {
                        let mut setup = Vec::new();
                        define_services(&mut setup, have, n);
                        have = have.max(n);
                        setup.extend_from_slice(b"echo\tdefined\n");
                        p.pump_until(&setup, "defined", |_| {})?;
                    }
                    settle(p.pid());
                    let (rss, dirty) = memory_of(p.pid())?;
                    r[2 * k].push(rss);
                    r[2 * k + 1].push(dirty);
                }
                Ok(())
            })();
            if let Err(e) = res {
                errors.push(format!("{who:?}: memory: {e}"));
                ok = false;
                break;
            }
        }
        if !ok {
            r = Default::default();
        }
        rows.push(r);
    }
    let ids = [
        "mem_idle_rss",
        "mem_idle_dirty",
        "mem_cmd_rss",
        "mem_cmd_dirty",
        "mem_100_rss",
        "mem_100_dirty",
        "mem_1000_rss",
        "mem_1000_dirty",
    ];
    for (k, id) in ids.iter().enumerate() {
        let (stage, rss) = (STAGES[k / 2].1, k % 2 == 0);
        let bar = match (k, rss) {
            (0, true) => Bar::AtMost(64.0),
            (1, false) => Bar::AtMost(16.0),
            _ => Bar::None,
        };
        figs.push(Figure {
            id,
            label: format!("{stage} {}", if rss { "VmRSS" } else { "Private_Dirty" }),
            unit: "KiB",
            ours: Stat::of(&rows[0][k]),
            limit: Stat::of(if rss { &pause.0 } else { &pause.1 }),
            theirs: rows.get(1).and_then(|r| Stat::of(&r[k])),
            bound: None,
            bar,
        });
    }
    figs.push(Figure {
        id: "size_x86_64",
        label: "binary x86_64 stripped".into(),
        unit: "KiB",
        ours: file_kib(&ctx.ours),
        limit: file_kib(&ctx.bins.pause),
        theirs: ctx.theirs.as_deref().and_then(file_kib),
        bound: None,
        bar: Bar::AtMost(72.0),
    });
    if let Some(a) = &ctx.aarch64 {
        figs.push(Figure {
            id: "size_aarch64",
            label: "binary aarch64 stripped".into(),
            unit: "KiB",
            ours: file_kib(a),
            limit: None,
            theirs: None,
            bound: None,
            bar: Bar::AtMost(72.0),
        });
    }
    Ok(())
}

// ----------------------------------------------------------------- main ---

fn usage() -> ! {
    eprintln!(
        "usage: bench --daemon PATH [--compare PATH] [--aarch64 PATH] [--out FILE] \
         [--baseline FILE] [--runs N] [--only WORKLOAD]"
    );
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut ours = None;
    let mut theirs = None;
    let mut aarch64 = None;
    let mut out = None;
    let mut baseline = None;
    let mut runs = 21;
    let mut only = None;
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--daemon" => ours = Some(PathBuf::from(val())),
            "--compare" => {
                theirs = Some(PathBuf::from(val())).filter(|p| !p.as_os_str().is_empty())
            }
            "--aarch64" => aarch64 = Some(PathBuf::from(val())),
            "--out" => out = Some(PathBuf::from(val())),
            "--baseline" => baseline = Some(PathBuf::from(val())),
            "--runs" => runs = val().parse().unwrap_or_else(|_| usage()),
            "--only" => only = Some(val()),
            _ => usage(),
        }
    }
    let Some(ours) = ours else { usage() };
    let here = std::env::current_exe().expect("own path");
    let dir = here.parent().expect("own directory");
    // The results name the binaries as given (repo-relative under make).
    let named = (ours.clone(), theirs.clone());
    let ctx = Ctx {
        ours: std::fs::canonicalize(&ours).unwrap_or(ours),
        theirs: theirs.map(|t| std::fs::canonicalize(&t).unwrap_or(t)),
        aarch64,
        bins: Bins {
            relay: dir.join("relay"),
            parser: dir.join("parser"),
            tiny: dir.join("tiny"),
            pause: dir.join("pause"),
        },
        runs: runs.max(1),
        cpus: Cpus::pin_self(),
    };
    let started = Instant::now();
    let mut figs = Vec::new();
    let mut errors = Vec::new();
    type Workload = fn(&Ctx, &mut Vec<Figure>, &mut Vec<String>) -> Res<()>;
    let workloads: [(&str, Workload); 7] = [
        ("pipelined", pipelined),
        ("round trip", round_trip),
        ("spawn cycle", spawn_cycle),
        ("restart cycle", restart_cycle),
        ("statedump", statedump),
        ("scaling", scaling),
        ("memory", memory),
    ];
    for (name, w) in workloads {
        if only.as_ref().is_some_and(|o| !name.starts_with(o.as_str())) {
            continue;
        }
        eprint!("bench: {name}…");
        let t = Instant::now();
        if let Err(e) = w(&ctx, &mut figs, &mut errors) {
            errors.push(format!("{name}: {e}"));
        }
        eprintln!(" {:.1} s", t.elapsed().as_secs_f64());
    }
    let base = baseline.and_then(|b| report::read_baseline(&b));
    let cpus = (ctx.cpus.cpu(Place::Same), ctx.cpus.cpu(Place::Other));
    let meta = report::Meta::collect(&named.0, named.1.as_deref(), ctx.runs, cpus);
    print!("{}", report::table(&meta, &figs, base.as_ref()));
    for e in &errors {
        println!("failed: {e}");
    }
    println!("({:.0} s)", started.elapsed().as_secs_f64());
    if let Some(out) = out {
        if let Some(d) = out.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        match std::fs::write(&out, report::jsonl(&meta, &figs)) {
            Ok(()) => println!("results: {}", out.display()),
            Err(e) => eprintln!("bench: cannot write {}: {e}", out.display()),
        }
    }
    // Figures are never judged here, but a workload that failed is.
    if !errors.is_empty() {
        std::process::exit(1);
    }
}
