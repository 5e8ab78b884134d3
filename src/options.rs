//! Command-line options (§1): parsed left to right, each taking effect as
//! soon as it is read.

use crate::exit;
use crate::fmt::Buf;
use crate::log::{Level, Log};
use crate::sys;

/// Version string printed by `--version`, the banner and `--help`.
pub const VERSION: &[u8] = b"1.1.0-rs";

/// What the options asked for.
#[derive(Default)]
pub struct Options<'a> {
    /// `-i`
    pub interactive: bool,
    /// `-c FILE` (or the PID-1 default).
    pub config: Option<&'a [u8]>,
    /// `-S PATH`
    pub socket: Option<&'a [u8]>,
    /// `-D`
    pub daemonize: bool,
    /// `-M`
    pub mlockall: bool,
    /// `--fd-pool N[xM]`
    pub fd_pool: Option<(i64, Option<i64>)>,
    /// `--service-pool N[xM]`
    pub service_pool: Option<(i64, Option<i64>)>,
    /// `--halt`, `--poweroff`, `--reboot` (or invoked under that name).
    pub final_stage: Option<crate::pid1::Action>,
}

/// fatal() before the supervisor exists: exec-on-exit, or log and exit
/// unless the terminate guard is set. The message is joined from `parts`
/// (at most 300 bytes).
#[inline(never)]
#[cold]
pub fn early_fatal(log: &mut Log, code: i32, parts: &[&[u8]]) {
    let mut m = Buf::<300>::new();
    for p in parts {
        m.s(p);
    }
    let msg = m.as_bytes();
    if exit::exec_configured() {
        let mut argv0 = Buf::<256>::new();
        exit::exec_argv0(&mut argv0);
        log.put(
            Level::Warning,
            &[b"daemonproxy exec_on_exit to '", argv0.as_bytes(), b"'"],
            0,
        );
        exit::exec_on_exit(code, msg, false);
    }
    if !msg.is_empty() {
        let pre: &[u8] = if exit::guard() != 0 {
            b"(attempting to continue) "
        } else {
            b""
        };
        log.put(Level::Fatal, &[pre, msg], 0);
    }
    if exit::guard() == 0 {
        sys::exit(code);
    }
}

struct Opt {
    short: u8,
    long: &'static [u8],
    arg: &'static [u8],
    help: &'static [u8],
}

const OPTS: [Opt; 13] = [
    Opt {
        short: b'c',
        long: b"config",
        arg: b"FILENAME",
        help: b"Read command stream from FILENAME at startup",
    },
    Opt {
        short: b'i',
        long: b"interactive",
        arg: b"",
        help: b"Use STDIN+STDOUT as a controller communication pipe",
    },
    Opt {
        short: b'S',
        long: b"socket",
        arg: b"PATH",
        help: b"Listen on PATH for controller connections",
    },
    Opt {
        short: b'D',
        long: b"daemonize",
        arg: b"",
        help: b"Fork into the background",
    },
    Opt {
        short: 0,
        long: b"exit-guard",
        arg: b"INTEGER",
        help: b"Guard against accidental termination",
    },
    Opt {
        short: b'E',
        long: b"exit-exec",
        arg: b"TSV_ARGS",
        help: b"exec() args in any trappable exit scenario",
    },
    Opt {
        short: 0,
        long: b"fd-pool",
        arg: b"N[xM]",
        help: b"Pre-allocate N named handles [of M bytes each]",
    },
    Opt {
        short: 0,
        long: b"service-pool",
        arg: b"N[xM]",
        help: b"Pre-allocate N services [of M bytes each]",
    },
    Opt {
        short: b'M',
        long: b"mlockall",
        arg: b"",
        help: b"Call mlockall() after allocating structures",
    },
    Opt {
        short: b'v',
        long: b"verbose",
        arg: b"",
        help: b"Enable another level of logging output",
    },
    Opt {
        short: b'q',
        long: b"quiet",
        arg: b"",
        help: b"Suppress another level of logging output",
    },
    Opt {
        short: b'h',
        long: b"help",
        arg: b"",
        help: b"Quick usage synopsis",
    },
    Opt {
        short: 0,
        long: b"version",
        arg: b"",
        help: b"Print complete version information",
    },
];

/// Extra long options of this implementation (PID 1 final stage).
const FINAL_STAGE: [(&[u8], crate::pid1::Action); 3] = [
    (b"halt", crate::pid1::Action::Halt),
    (b"poweroff", crate::pid1::Action::Poweroff),
    (b"reboot", crate::pid1::Action::Reboot),
];

#[cold]
fn pad(b: &mut Buf<2048>, s: &[u8], width: usize) {
    b.s(s);
    for _ in s.len()..width {
        b.c(b' ');
    }
}

#[inline(never)]
#[cold]
fn print_help() {
    let mut b = Buf::<2048>::new();
    b.s(b"daemonproxy version ").s(VERSION).s(b"\noptions:\n");
    for o in &OPTS {
        b.s(b"  ");
        if o.short != 0 {
            b.c(b'-').c(o.short);
        } else {
            b.s(b"  ");
        }
        b.s(b" --");
        pad(&mut b, o.long, 12);
        b.c(b' ');
        pad(&mut b, o.arg, 8);
        b.s(b"  ").s(o.help).c(b'\n');
    }
    b.c(b'\n');
    sys::write_all(1, b.as_bytes());
}

#[inline(never)]
#[cold]
fn print_version() {
    let mut b = Buf::<1024>::new();
    b.s(b"daemonproxy version ").s(VERSION).c(b'\n');
    b.s(b" build timestamp: ").s(env!("DP_BUILD_TS").as_bytes());
    b.s(b" (").s(env!("DP_BUILD_DATE").as_bytes()).s(b")\n");
    b.s(b" git HEAD: ").s(env!("DP_GIT_REV").as_bytes());
    if !env!("DP_GIT_DIRTY").is_empty() {
        b.s(b" (dirty)");
    }
    b.c(b'\n');
    b.s(COPYRIGHT).c(b'\n').s(LICENSE_LINE).c(b'\n');
    b.s(b"This is free software: you are free to change and redistribute it.\n");
    b.s(b"There is NO WARRANTY, to the extent permitted by law.\n");
    sys::write_all(1, b.as_bytes());
}

/// Copyright line of `--version` and the banner.
pub const COPYRIGHT: &[u8] =
    b"Copyright (C) 2014-2026  Michael Conrad and the daemonproxy-rs authors";
/// Licence line of `--version` and the banner.
pub const LICENSE_LINE: &[u8] = b"Distributed under the MIT license.  See LICENSE.";

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
            if let Some(&(_, act)) = FINAL_STAGE.iter().find(|(n, _)| *n == name) {
                opts.final_stage = Some(act);
            } else if let Some(k) = OPTS.iter().position(|o| o.long == name) {
                apply(k, a, args, &mut next, log, opts);
            } else {
                early_fatal(log, 2, &[b"Unknown option --", name, b"  (see --help)"]);
            }
        } else if a == b"--" {
            early_fatal(log, 2, &[b"Unknown option --  (see --help)"]);
        } else if a.first() == Some(&b'-') {
            for &c in &a[1..] {
                match OPTS.iter().position(|o| o.short == c && c != 0) {
                    Some(k) => apply(k, &[b'-', c], args, &mut next, log, opts),
                    None => early_fatal(log, 2, &[b"Unknown option -", &[c], b"  (see --help)"]),
                }
            }
        } else {
            early_fatal(log, 2, &[b"Unexpected argument \"", a, b"\"\n"]);
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
    let o = &OPTS[k];
    let value = if o.arg.is_empty() {
        None
    } else if let Some(v) = args.get(*next) {
        *next += 1;
        Some(v)
    } else {
        early_fatal(log, 2, &[b"Missing argument for ", spelled]);
        return;
    };
    let v = value.unwrap_or(b"");
    match o.long {
        b"config" => {
            if v != b"-" && !sys::exists(v) {
                early_fatal(log, 2, &[b"Cannot stat configfile \"", v, b"\""]);
            }
            opts.config = Some(v);
        }
        b"interactive" => opts.interactive = true,
        b"socket" => opts.socket = Some(v),
        b"daemonize" => opts.daemonize = true,
        b"exit-guard" => match parse_strtol(v) {
            Some(g) => exit::set_guard(g),
            None => early_fatal(log, 2, &[b"Terminate guard must be an integer"]),
        },
        b"exit-exec" => {
            if exit::set_exec_args(v).is_err() {
                early_fatal(log, 2, &[b"exec-on-exit arguments exceed buffer size"]);
            }
        }
        b"fd-pool" | b"service-pool" => match parse_pool(v) {
            Some(p) if o.long == b"fd-pool" => opts.fd_pool = Some(p),
            Some(p) => opts.service_pool = Some(p),
            None => early_fatal(
                log,
                2,
                &[b"Expected 'N' or 'NxM' where N and M are integers and M has an optional size suffix"],
            ),
        },
        b"mlockall" => opts.mlockall = true,
        b"verbose" => log.filter = log.filter.step(-1),
        b"quiet" => log.filter = log.filter.step(1),
        b"help" => {
            print_help();
            early_fatal(log, 1, &[]);
        }
        _ => {
            print_version();
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
        assert_eq!(parse_strtol(b""), Some(0));
        assert_eq!(parse_strtol(b" 12"), Some(12));
        assert_eq!(parse_strtol(b"-5"), Some(-5));
        assert_eq!(parse_strtol(b"+5"), Some(5));
        assert_eq!(parse_strtol(b"5x"), None);
        assert_eq!(parse_strtol(b" "), None);
    }
}
