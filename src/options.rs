//! Command-line options (§1): parsed left to right, each taking effect as
//! soon as it is read.

use crate::exit;
use crate::fmt::Buf;
use crate::log::{Level, Log};
use crate::proto;
use crate::sys;

/// The version `--version`, `--help` and the banner print.
macro_rules! version {
    () => {
        "1.1.0-rs"
    };
}

/// What the options asked for.
#[derive(Default)]
pub struct Options<'a> {
    /// `-i`
    pub interactive: bool,
    /// `-c FILE` (or the PID-1 default).
    pub config: Option<&'a [u8]>,
    /// `-S PATH`
    pub socket: Option<&'a [u8]>,
    /// `--socket-admit UID`: a uid admitted to the control socket besides
    /// 0 and the daemon's own.
    pub socket_uid: Option<u32>,
    /// `--socket-admit :GID`: a group whose members are admitted too.
    pub socket_gid: Option<u32>,
    /// `-D`
    pub daemonize: bool,
    /// `-M`
    pub mlockall: bool,
    /// Why `-M`'s first step failed (set by startup, logged at its end).
    pub mlock_error: Option<sys::Errno>,
    /// `--fd-pool N[xM]`
    pub fd_pool: Option<(i64, Option<i64>)>,
    /// `--service-pool N[xM]`
    pub service_pool: Option<(i64, Option<i64>)>,
    /// `--check`: run the config file's commands without effects, then exit.
    pub check: bool,
    /// `--halt`, `--poweroff`, `--reboot` (or invoked under that name).
    pub final_stage: Option<crate::pid1::Action>,
}

/// fatal() before the supervisor exists (`exit::fatal`), with the message
/// joined from `parts` (at most 300 bytes).
#[inline(never)]
#[cold]
pub fn early_fatal(log: &mut Log, code: i32, parts: &[&[u8]]) {
    let mut m = Buf::<300>::new();
    for p in parts {
        m.bytes(p);
    }
    exit::fatal(log, code, m.as_bytes());
}

/// The options table, one option a line: its name in `Opt`, its long name,
/// its letter (`-` for none), and whether an argument follows. Gives `Opt`,
/// `OPTS` (in table order), `LONG_NAMES` (space-separated), `SHORT_NAMES`
/// (one letter each) and `TAKES_ARG`.
macro_rules! options {
    ($($opt:ident: $long:literal, $short:literal, $kind:ident;)*) => {
        /// The options, in table order.
        #[derive(Clone, Copy)]
        enum Opt {
            $($opt,)*
        }
        const OPTS: [Opt; [$($long),*].len()] = [$(Opt::$opt),*];
        static LONG_NAMES: &[u8] = cold!({
            const ALL: &str = concat!($($long, " "),*);
            ALL.as_bytes().split_at(ALL.len() - 1).0
        });
        static SHORT_NAMES: &[u8] = cold!(concat!($($short),*).as_bytes());
        const TAKES_ARG: [bool; OPTS.len()] = [$(options!(@$kind)),*];
    };
    (@arg) => { true };
    (@flag) => { false };
}

options! {
    Config: "config", 'c', arg;
    Interactive: "interactive", 'i', flag;
    Socket: "socket", 'S', arg;
    SocketAdmit: "socket-admit", '-', arg;
    Daemonize: "daemonize", 'D', flag;
    ExitGuard: "exit-guard", '-', arg;
    ExitExec: "exit-exec", 'E', arg;
    FdPool: "fd-pool", '-', arg;
    ServicePool: "service-pool", '-', arg;
    Mlockall: "mlockall", 'M', flag;
    Verbose: "verbose", 'v', flag;
    Quiet: "quiet", 'q', flag;
    Help: "help", 'h', flag;
    Version: "version", '-', flag;
    Check: "check", '-', flag;
}

/// `--help` (§1.3).
static HELP: &[u8] = cold!(
    concat!(
        "daemonproxy version ",
        version!(),
        "
options:
  -c --config       FILENAME  Read command stream from FILENAME at startup
  -i --interactive            Use STDIN+STDOUT as a controller communication pipe
  -S --socket       PATH      Listen on PATH for controller connections
     --socket-admit UID|:GID  Admit this uid (or :group) to the control socket
  -D --daemonize              Fork into the background
     --exit-guard   INTEGER   Guard against accidental termination
  -E --exit-exec    TSV_ARGS  exec() args in any trappable exit scenario
     --fd-pool      N[xM]     Pre-allocate N named handles [of M bytes each]
     --service-pool N[xM]     Pre-allocate N services [of M bytes each]
  -M --mlockall               Call mlockall() after allocating structures
  -v --verbose                Enable another level of logging output
  -q --quiet                  Suppress another level of logging output
  -h --help                   Quick usage synopsis
     --version                Print complete version information
     --check                  Check the -c file's commands, run nothing, exit

"
    )
    .as_bytes()
);

/// Extra long options of this implementation (PID 1 final stage), in the
/// order of `pid1::Action::ALL`.
static FINAL_STAGE: &[u8] = cold!(b"halt poweroff reboot");

/// `--version` (§1.3); its last four lines are also the interactive
/// banner's.
pub static VERSION_TEXT: &[u8] = cold!(
    concat!(
        "daemonproxy version ",
        version!(),
        "\n build timestamp: ",
        env!("DP_BUILD_TS"),
        " (",
        env!("DP_BUILD_DATE"),
        ")\n git HEAD: ",
        env!("DP_GIT_REV"),
        env!("DP_GIT_DIRTY_NOTE"),
        "\nCopyright (C) 2014-2026  Michael Conrad and the daemonproxy-rs authors",
        "\nDistributed under the MIT license.  See LICENSE.",
        "\nThis is free software: you are free to change and redistribute it.",
        "\nThere is NO WARRANTY, to the extent permitted by law.\n",
    )
    .as_bytes()
);

/// The interactive banner's first line.
pub static BANNER_VERSION: &[u8] = cold!(
    concat!(
        "info\tdaemonproxy version ",
        version!(),
        " (git ",
        env!("DP_GIT_SHORT"),
        ")"
    )
    .as_bytes()
);

/// Parses `N[xM]` (§1.6).
#[cold]
pub fn parse_pool(s: &[u8]) -> Option<(i64, Option<i64>)> {
    let (n_text, m_text) = crate::proto::split_once(s, b'x');
    let n = crate::proto::parse_int(n_text)?;
    let m = match m_text {
        None | Some(b"") => None,
        Some(t) => Some(parse_size(t)?),
    };
    Some((n, m))
}

#[cold]
fn warn(log: &mut Log, text: &[u8]) {
    log.put(Level::Warning, &[text], crate::time::Mono::ZERO);
}

/// A pool option's bounds (§1.6), each with the original's warning for a
/// value beyond it: the count's lower and upper, then the item size's.
pub type PoolBounds = [[(i64, &'static [u8]); 2]; 2];

pub static FD_POOL: PoolBounds = [
    [
        (7, cold!(b"At least 7 fd objects required; using minimum")),
        (
            1024,
            cold!(b"fd pool size exceeds max number of allowed file descriptors; limiting to 1024"),
        ),
    ],
    [
        (32, cold!(b"fd obj size increased to minimum of 32")),
        (4096, cold!(b"fd obj size limited to maximum of 4096")),
    ],
];

/// "servce": the original's spelling. The item size has no upper bound to
/// warn about (it is limited to 1 MiB silently).
pub static SERVICE_POOL: PoolBounds = [
    [
        (
            1,
            cold!(b"At least 1 service objects required; using minimum"),
        ),
        (
            65535,
            cold!(b"service pool size exceeds maximum; limiting to 65535"),
        ),
    ],
    [
        (64, cold!(b"servce obj size increased to minimum of 64")),
        (i64::MAX, b""),
    ],
];

/// `v` moved into `lo..=hi`, with the warning for the bound it was beyond.
#[inline(always)]
fn clamp_warn(log: &mut Log, v: i64, [(lo, low), (hi, high)]: &[(i64, &[u8]); 2]) -> i64 {
    if v < *lo {
        warn(log, low);
        *lo
    } else if v > *hi {
        warn(log, high);
        *hi
    } else {
        v
    }
}

/// A pool option's count and item size (`size` when none is given), moved
/// into `bounds`.
#[inline(always)]
pub fn pool_size(
    log: &mut Log,
    (n, m): (i64, Option<i64>),
    size: i64,
    bounds: &PoolBounds,
) -> (usize, usize) {
    let [count, item] = bounds;
    let n = clamp_warn(log, n, count);
    let m = clamp_warn(log, m.unwrap_or(size), item);
    (n as usize, m as usize)
}

#[cold]
fn parse_size(t: &[u8]) -> Option<i64> {
    let digits = t.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let v: i64 = t[..digits].iter().try_fold(0i64, |v, &d| {
        v.checked_mul(10)?.checked_add((d - b'0') as i64)
    })?;
    let suffix = &t[digits..];
    let (unit, rest) = match suffix.first() {
        None => return Some(v),
        Some(b'b' | b'B') if suffix.len() == 1 => return Some(v),
        Some(b'k' | b'K') => (1, &suffix[1..]),
        Some(b'm' | b'M') => (2, &suffix[1..]),
        Some(b'g' | b'G') => (3, &suffix[1..]),
        Some(b't' | b'T') => (4, &suffix[1..]),
        _ => return None,
    };
    let base: i64 = match rest {
        b"" | b"iB" => 1024,
        b"B" => 1000,
        _ => return None,
    };
    let mult = base.checked_pow(unit)?;
    let r = v.checked_mul(mult)?;
    if unit == 4 && v > 1 {
        return None;
    }
    Some(r)
}

/// Parses argv (§1.1) into Options; `--help`, `--version` and errors end in
/// fatal() here.
#[cold]
pub fn parse(args: sys::Args, log: &mut Log, opts: &mut Options<'static>) {
    let mut i = 1;
    while let Some(a) = args.get(i) {
        // Option arguments are taken from `next` on, in letter order.
        let mut next = i + 1;
        if a.len() > 2 && a.starts_with(b"--") {
            let name = &a[2..];
            if let Some(k) = proto::word_index(FINAL_STAGE, name) {
                opts.final_stage = crate::pid1::Action::ALL.get(k).copied();
            } else if let Some(k) = proto::word_index(LONG_NAMES, name) {
                apply(k, a, args, &mut next, log, opts);
            } else {
                early_fatal(
                    log,
                    2,
                    &[cold!(b"Unknown option --"), name, cold!(b"  (see --help)")],
                );
            }
        } else if a == b"--" {
            early_fatal(log, 2, &[cold!(b"Unknown option --  (see --help)")]);
        } else if a.first() == Some(&b'-') {
            for &c in &a[1..] {
                match SHORT_NAMES.iter().position(|&s| s == c && c != b'-') {
                    Some(k) => apply(k, &[b'-', c], args, &mut next, log, opts),
                    None => early_fatal(
                        log,
                        2,
                        &[cold!(b"Unknown option -"), &[c], cold!(b"  (see --help)")],
                    ),
                }
            }
        } else {
            early_fatal(log, 2, &[cold!(b"Unexpected argument \""), a, b"\"\n"]);
        }
        i = next;
    }
}

#[cold]
fn apply(
    k: usize,
    spelled: &[u8],
    args: sys::Args,
    next: &mut usize,
    log: &mut Log,
    opts: &mut Options<'static>,
) {
    let (Some(&o), Some(&takes_arg)) = (OPTS.get(k), TAKES_ARG.get(k)) else {
        return;
    };
    let value = if !takes_arg {
        None
    } else if let Some(v) = args.get(*next) {
        *next += 1;
        Some(v)
    } else {
        early_fatal(log, 2, &[cold!(b"Missing argument for "), spelled]);
        return;
    };
    let v = value.unwrap_or(b"");
    match o {
        Opt::Config => {
            if v != b"-" && !sys::exists(v) {
                early_fatal(log, 2, &[cold!(b"Cannot stat configfile \""), v, b"\""]);
            }
            opts.config = Some(v);
        }
        Opt::Interactive => opts.interactive = true,
        Opt::Socket => opts.socket = Some(v),
        Opt::SocketAdmit => {
            let (group, n) = match v.strip_prefix(b":") {
                Some(n) => (true, n),
                None => (false, v),
            };
            let id = crate::proto::parse_int(n)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n != u32::MAX);
            match id {
                Some(_) if group => opts.socket_gid = id,
                Some(_) => opts.socket_uid = id,
                None => early_fatal(
                    log,
                    2,
                    &[cold!(b"--socket-admit takes a uid or :gid")],
                ),
            }
        }
        Opt::Daemonize => opts.daemonize = true,
        Opt::ExitGuard => match parse_strtol(v) {
            Some(g) => exit::set_guard(g),
            None => early_fatal(log, 2, &[cold!(b"Terminate guard must be an integer")]),
        },
        Opt::ExitExec => {
            if exit::set_exec_args(v).is_err() {
                early_fatal(log, 2, &[cold!(b"exec-on-exit arguments exceed buffer size")]);
            }
        }
        Opt::FdPool | Opt::ServicePool => match parse_pool(v) {
            Some(p) if matches!(o, Opt::FdPool) => opts.fd_pool = Some(p),
            Some(p) => opts.service_pool = Some(p),
            None => early_fatal(
                log,
                2,
                &[cold!(b"Expected 'N' or 'NxM' where N and M are integers and M has an optional size suffix")],
            ),
        },
        Opt::Mlockall => opts.mlockall = true,
        Opt::Check => opts.check = true,
        Opt::Verbose => log.filter = log.filter.step(-1),
        Opt::Quiet => log.filter = log.filter.step(1),
        Opt::Help => {
            sys::write_all(sys::Fd::STDOUT, HELP);
            early_fatal(log, 1, &[]);
        }
        Opt::Version => {
            sys::write_all(sys::Fd::STDOUT, VERSION_TEXT);
            early_fatal(log, 1, &[]);
        }
    }
}

/// strtol base 10 consuming the whole string: leading blanks and a sign are
/// allowed, and the empty string is 0.
#[cold]
fn parse_strtol(s: &[u8]) -> Option<i64> {
    let t = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&s[s.len()..], |p| &s[p..]);
    if t.is_empty() {
        return if s.is_empty() { Some(0) } else { None };
    }
    let (neg, d) = match t[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let v = crate::proto::parse_int(d).filter(|_| !d.starts_with(b"-"))?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_sizes() {
        assert_eq!(parse_pool(b"10"), Some((10, None)));
        assert_eq!(parse_pool(b"10x"), Some((10, None)));
        assert_eq!(parse_pool(b"-1x64"), Some((-1, Some(64))));
        assert_eq!(parse_pool(b"2x1k"), Some((2, Some(1024))));
        assert_eq!(parse_pool(b"2x1KB"), Some((2, Some(1000))));
        assert_eq!(parse_pool(b"2x1KiB"), Some((2, Some(1024))));
        assert_eq!(parse_pool(b"2x3M"), Some((2, Some(3 << 20))));
        assert_eq!(parse_pool(b"2x1g"), Some((2, Some(1 << 30))));
        assert_eq!(parse_pool(b"2x7b"), Some((2, Some(7))));
        assert_eq!(parse_pool(b"2x2T"), None);
        assert_eq!(parse_pool(b"2xk"), None);
        assert_eq!(parse_pool(b"x2"), None);
        assert_eq!(parse_pool(b"2y"), None);
    }

    #[test]
    fn guard_values() {
        let cases: [(&[u8], _); 6] = [
            (b"", Some(0)),
            (b" 12", Some(12)),
            (b"-5", Some(-5)),
            (b"+5", Some(5)),
            (b"5x", None),
            (b" ", None),
        ];
        for (text, value) in cases {
            assert_eq!(parse_strtol(text), value, "{text:?}");
        }
    }
}
