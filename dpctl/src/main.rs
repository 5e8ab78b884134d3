//! dpctl: the command-line client for daemonproxy's control socket.
//!
//! It speaks only the daemon's line protocol (PROTOCOL.md): `statedump` to
//! learn the state, the service commands to change it, and a unique `echo`
//! as the barrier that ends each reply. Stop and start follow the `down`
//! tag convention of docs/controllers.md, so that a controller which
//! restarts crashed services leaves a stopped one alone.

#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]
// A failure carries its message (a copy of the daemon's reply) up to
// `main`, which prints it once; only error paths move it.
#![allow(clippy::result_large_err)]
// Under `cargo test` the C entry point is not built.
#![cfg_attr(test, allow(dead_code))]

mod conn;
mod ctl;
mod out;
mod status;
mod svc;
mod sys;

use out::{Out, Sink};

/// Exit status: the daemon refused a command, or something failed.
pub const REFUSED: i32 = 1;
/// Exit status: a usage error (nothing was sent).
pub const USAGE: i32 = 2;
/// Exit status: no such service.
pub const NO_SERVICE: i32 = 3;
/// Exit status: the daemon cannot be reached.
pub const NO_DAEMON: i32 = 4;

const DEFAULT_SOCKET: &[u8] = b"/run/daemonproxy.sock";
/// More command-line arguments than this are a usage error.
const MAX_ARGS: usize = 256;

const USAGE_LINE: &[u8] = b"usage: dpctl [-S PATH] VERB [ARGS]   (dpctl --help)\n";
const HELP: &[u8] = b"usage: dpctl [-S PATH] VERB [ARGS]

Talks to daemonproxy through its control socket: -S PATH, else
$DAEMONPROXY_SOCKET, else /run/daemonproxy.sock.

  status [--raw] [NAME...]  one line per service: NAME STATE PID INFO AUTO_UP
                            (--raw: the daemon's service.* lines)
  start NAME...             clear the down tag, give auto_up back, start
  stop NAME...              tag down (controllers leave it down), stop the
                            daemon's auto_up, SIGTERM, wait until down
                            (SIGKILL after 10 s)
  restart NAME...           stop, then start (not counted as a crash)
  signal NAME SIG           send a signal (TERM, SIGHUP, 9, ...)
  events                    print events as they happen, until interrupted
  dump                      print the daemon's statedump
  send LINE...              send raw protocol lines (\\t or a real TAB
                            between fields) and print the replies

Exit status: 0 done, 1 refused or failed, 2 usage, 3 no such service,
4 cannot reach the daemon.
";

/// Why dpctl stops: an exit status and the message for stderr.
pub struct Fail {
    /// The exit status.
    pub code: i32,
    msg: [u8; 512],
    len: usize,
}

impl Fail {
    /// A failure with status `code` and, so far, no message.
    pub fn new(code: i32) -> Fail {
        Fail {
            code,
            msg: [0; 512],
            len: 0,
        }
    }

    /// Appends to the message (cut at 512 bytes).
    pub fn put(mut self, b: &[u8]) -> Fail {
        let n = b.len().min(self.msg.len() - self.len);
        self.msg[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
        self
    }

    fn text(&self) -> &[u8] {
        &self.msg[..self.len]
    }
}

fn usage(msg: &[u8], arg: &[u8]) -> Fail {
    Fail::new(USAGE).put(msg).put(arg)
}

/// The names of a verb's arguments, checked (§3.5) before anything is sent.
fn names<'a>(args: &'a [&'a [u8]], verb: &[u8]) -> Result<&'a [&'a [u8]], Fail> {
    if args.is_empty() {
        return Err(usage(verb, b": which service?"));
    }
    if args.len() > 64 {
        return Err(usage(b"at most 64 services at a time", b""));
    }
    match args.iter().find(|n| !svc::valid_name(n)) {
        Some(bad) => Err(usage(b"not a service name: ", bad)),
        None => Ok(args),
    }
}

fn no_args(args: &[&[u8]], verb: &[u8]) -> Result<(), Fail> {
    match args.first() {
        Some(a) => Err(usage(verb, b": unexpected argument ").put(a)),
        None => Ok(()),
    }
}

fn run(argv: &[&[u8]], out: &mut Out) -> Result<(), Fail> {
    let mut socket = None;
    let mut i = 1;
    while let Some(&a) = argv.get(i) {
        match a {
            b"-S" => {
                socket = Some(
                    *argv
                        .get(i + 1)
                        .ok_or_else(|| usage(b"-S needs a path", b""))?,
                );
                i += 2;
            }
            b"-h" | b"--help" => {
                out.put(HELP);
                return Ok(());
            }
            b"--version" => {
                out.put(b"dpctl ")
                    .put(env!("CARGO_PKG_VERSION").as_bytes())
                    .put(b"\n");
                return Ok(());
            }
            [b'-', _, ..] => return Err(usage(b"unknown option ", a)),
            _ => break,
        }
    }
    let Some(&verb) = argv.get(i) else {
        return Err(usage(b"no verb given", b""));
    };
    let args = &argv[i + 1..];
    let path = socket
        .or_else(|| sys::getenv(c"DAEMONPROXY_SOCKET").filter(|p| !p.is_empty()))
        .unwrap_or(DEFAULT_SOCKET);
    let connect = || conn::Conn::connect(path, &mut |_| {});
    match verb {
        b"status" => {
            // --raw may come anywhere; the rest are names.
            let mut list: [&[u8]; 64] = [b""; 64];
            let mut n = 0;
            let mut raw = false;
            for a in args {
                if *a == b"--raw" {
                    raw = true;
                } else if n == list.len() {
                    return Err(usage(b"at most 64 services at a time", b""));
                } else {
                    list[n] = a;
                    n += 1;
                }
            }
            let names = if n == 0 {
                &[][..]
            } else {
                names(&list[..n], verb)?
            };
            status::status(&mut connect()?, names, raw, out)
        }
        b"start" | b"stop" | b"restart" => {
            let names = names(args, verb)?;
            ctl::change(&mut connect()?, names, verb)
        }
        b"signal" => {
            let [name, sig] = args else {
                return Err(usage(b"signal NAME SIG", b""));
            };
            names(&args[..1], verb)?;
            let mut buf = [0u8; 16];
            let sig =
                ctl::signal_arg(sig, &mut buf).ok_or_else(|| usage(b"unknown signal ", sig))?;
            connect()?.command(&[b"service.signal", name, sig], name, &mut |_| {})
        }
        b"events" => {
            no_args(args, verb)?;
            let print = &mut |line: &[u8]| {
                out.put(line).put(b"\n");
            };
            let mut conn = conn::Conn::connect(path, print)?;
            ctl::events(&mut conn, out)
        }
        b"dump" => {
            no_args(args, verb)?;
            let mut conn = connect()?;
            conn.send(&[b"statedump"])?;
            conn.sync(&mut |line| {
                out.put(line).put(b"\n");
            })
        }
        b"send" => {
            if args.is_empty() {
                return Err(usage(b"send: which lines?", b""));
            }
            for a in args {
                ctl::unescape(a, &mut [0; conn::MAX_LINE])?;
            }
            ctl::send(&mut connect()?, args, out)
        }
        _ => Err(usage(b"unknown verb ", verb)),
    }
}

/// A note on stderr that does not end dpctl.
pub fn warn(parts: &[&[u8]]) {
    let mut err = Out::new(sys::STDERR);
    err.put(b"dpctl: ");
    for p in parts {
        err.put(p);
    }
    err.put(b"\n").flush();
}

/// Runs dpctl with `argv` (the program name first); returns the exit status.
fn dpctl(argv: &[&[u8]]) -> i32 {
    let mut out = Out::new(sys::STDOUT);
    let result = if argv.len() > MAX_ARGS {
        Err(usage(b"too many arguments", b""))
    } else {
        run(argv, &mut out)
    };
    out.flush();
    match result {
        Ok(()) => 0,
        Err(fail) => {
            let mut err = Out::new(sys::STDERR);
            err.put(b"dpctl: ").put(fail.text()).put(b"\n");
            if fail.code == USAGE {
                err.put(USAGE_LINE);
            }
            err.flush();
            fail.code
        }
    }
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    let _ = sys::write_all(sys::STDERR, b"dpctl: internal error\n");
    sys::exit(1)
}

#[cfg(not(test))]
#[allow(unsafe_code)]
#[link(name = "c", kind = "static")]
unsafe extern "C" {}

/// Entry point called by the C runtime.
#[cfg(not(test))]
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
#[allow(clippy::not_unsafe_ptr_arg_deref)] // called by the C runtime only
pub extern "C" fn main(
    argc: core::ffi::c_int,
    argv: *const *const core::ffi::c_char,
) -> core::ffi::c_int {
    // SAFETY: the C runtime passes argc valid strings that outlive main.
    let args = unsafe { sys::Args::new(argc, argv) };
    let mut list: [&[u8]; MAX_ARGS + 1] = [b""; MAX_ARGS + 1];
    let n = args.len().min(list.len());
    for (i, slot) in list[..n].iter_mut().enumerate() {
        *slot = args.get(i).unwrap_or(b"");
    }
    dpctl(&list[..n])
}
