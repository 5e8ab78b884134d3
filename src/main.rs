//! daemonproxy: a tiny, scriptable process supervisor for PID 1.
//!
//! `start` (called by the C entry point in `sys`) only parses options,
//! sizes the pools and enters the loop; see `supervisor` for the state and
//! `event_loop` for the loop. `unsafe` is denied here and allowed only in
//! `sys`, the syscall layer, and the buffer modules `fmt` and `pool`.
//!
//! Section numbers in comments (§4.5, §11.3, …) are those of
//! docs/protocol.md, the protocol reference.

#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
// Under `cargo test` the C entry point is not built, so startup code looks unused.
#![cfg_attr(test, allow(dead_code))]
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

// The modules are `pub(crate)` for the unit tests (tests/unit.rs), whose
// crate holds this file as a module: they name one another from the crate
// root (`crate::sys`), where that crate imports them.
//
// First: its macros (`cold!`, `zeroable!`) are used everywhere.
#[macro_use]
#[allow(unsafe_code)]
pub(crate) mod sys;
#[macro_use]
pub(crate) mod macros;

pub(crate) mod commands;
pub(crate) mod control_socket;
pub(crate) mod controller;
pub(crate) mod errtext;
pub(crate) mod event_loop;
pub(crate) mod exit;
pub(crate) mod fd_table;
// The buffer module: line buffers that are not zeroed first.
#[allow(unsafe_code)]
pub(crate) mod fmt;
#[cfg(test)]
pub(crate) mod fuzz;
// It frees each supervisor's reservation (sys::unmap).
#[cfg(test)]
#[allow(unsafe_code)]
pub(crate) mod harness;
pub(crate) mod log;
pub(crate) mod name;
pub(crate) mod options;
pub(crate) mod pid1;
#[allow(unsafe_code)]
pub(crate) mod pool;
pub(crate) mod proto;
pub(crate) mod service;
pub(crate) mod signal;
pub(crate) mod spawn;
pub(crate) mod supervisor;
pub(crate) mod time;

use controller::{Controller, Kind as CtlKind, RECV_BUF, SEND_BUF, SLOTS};
use fd_table::{FdObj, FdTable, Kind};
use fmt::Buf;
use log::{Level, Log};
use options::{Options, early_fatal};
use service::ServiceTable;
use signal::Signals;
use supervisor::Supervisor;
use sys::{Fd, Reservation};

/// Default service count without `--service-pool` (the original had no
/// limit; reserved but untouched memory costs nothing).
const DEFAULT_SERVICES: usize = 4096;
/// Default bytes of strings per service without a pool (a 1023-byte line
/// cannot exceed it), and the arena share per service: with the arena's
/// headers, 1 KiB per service (and per fd), so the arenas stay whole pages
/// and what follows them in the reservation keeps its place.
const DEFAULT_SERVICE_BYTES: usize = 4096;
const DEFAULT_ARENA_PER_SERVICE: usize = 1024 - 4 * pool::HDR;
/// Named fds: every descriptor number below 1024 plus the 4 constants.
const DEFAULT_FDS: usize = 1028;
const DEFAULT_DESC_PER_FD: usize = 1024 - pool::HDR;

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Like a CPU fault, a panic cannot be continued from (§11.3).
    exit::fault_exit(b"panic")
}

/// The daemon, from the command line the C runtime passed (`sys`'s entry
/// point calls it): options, pools, startup, then the loop.
#[inline(always)]
pub fn start(args: sys::Args) -> ! {
    let (sup, opts) = init(args);
    // Each step's frame is gone before the next one's stack grows below
    // it, so the daemon's stack stays as shallow as its deepest step.
    startup(sup, &opts);
    if opts.check {
        sup.check_config()
    }
    run(sup, opts.mlockall)
}

/// Options and pools (§1, §2 steps 1–6): the supervisor, and the options
/// for the remaining startup steps.
#[cold]
#[inline(never)]
fn init(args: sys::Args) -> (&'static mut Supervisor, Options<'static>) {
    // The log is needed before the options size everything else.
    // The exec-on-exit text shares its page (it is written only when set).
    // So does the room for the exec-on-exit program's environment, which
    // is written only on the way out.
    let env_slots = exit::env_slots();
    let early_size = log::LOG_BUF
        + exit::EXEC_ARGS_MAX
        + 1
        + Reservation::size_of::<*const core::ffi::c_char>(env_slots);
    let early = Reservation::new(early_size).and_then(|mut r| {
        let log_buf = r.take(log::LOG_BUF)?;
        exit::set_exec_buf(r.take(exit::EXEC_ARGS_MAX + 1)?);
        exit::set_env_buf(r.take(env_slots)?);
        Some(log_buf)
    });
    let Some(log_buf) = early else { sys::exit(3) };
    let mut log = Log::new(log_buf);
    let pid1 = sys::getpid() == 1;
    let mut opts = Options::default();
    if pid1 {
        opts.config = Some(DEFAULT_CONFIG);
        exit::set_guard(1);
    }
    sys::umask(0o077);
    if let Some(act) = args.get(0).and_then(pid1::Action::by_program_name) {
        pid1::final_stage(act);
    }
    options::parse(args, &mut log, &mut opts);
    if let Some(act) = opts.final_stage {
        pid1::final_stage(act);
    }
    if !opts.interactive && opts.config.is_none() && opts.socket.is_none() {
        early_fatal(&mut log, 2, &[cold!(b"require -i or -c or -S")]);
    }
    if opts.interactive && opts.config == Some(b"-") {
        log.put(
            Level::Error,
            &[cold!(b"stdin not available")],
            crate::time::Mono::ZERO,
        );
        early_fatal(&mut log, 3, &[cold!(b"Unable to process config file")]);
        opts.config = None;
    }

    // -M locks what is mapped now, and what the reservation below comes to
    // use as it does (sys::lock_current).
    if opts.mlockall {
        opts.mlock_error = sys::lock_current().err();
    }
    let (fd_count, fd_desc, fd_obj_size) = match opts.fd_pool {
        Some(p) => {
            let (n, m) = options::pool_size(&mut log, p, 96, &options::FD_POOL);
            (n, n * (m + 64), Some(m))
        }
        None => (DEFAULT_FDS, DEFAULT_FDS * DEFAULT_DESC_PER_FD, None),
    };
    let (svc_count, svc_bytes, svc_arena) = match opts.service_pool {
        Some(p) => {
            let (n, m) = options::pool_size(&mut log, p, 512, &options::SERVICE_POOL);
            let m = m.min(1 << 20);
            (n, m, n * m)
        }
        None => (
            DEFAULT_SERVICES,
            DEFAULT_SERVICE_BYTES,
            DEFAULT_SERVICES * DEFAULT_ARENA_PER_SERVICE,
        ),
    };
    // One reservation for everything. What an idle daemon touches comes
    // first, packed: the supervisor, the first controller's send buffer
    // (the interactive banner) and the head of the fd table.
    let size = Reservation::size_of::<Supervisor>(1)
        + SLOTS * Reservation::size_of::<u8>(SEND_BUF + RECV_BUF)
        + FdTable::size(fd_count, fd_desc)
        + Signals::size()
        + ServiceTable::size(svc_count, svc_arena)
        + Reservation::size_of::<exit::Running>(svc_count)
        + Reservation::size_of::<u8>(sys::ALT_STACK);
    let mut res = Reservation::new(size);
    // A failure names what failed: one of the two tables the options
    // size, or else the reservation (mmap, or a piece of fixed size that
    // did not fit).
    let (fixed, no_fds, no_services): (&[u8], &[u8], &[u8]) = (
        cold!(b"Unable to reserve memory"),
        cold!(b"Unable to preallocate file descriptor objects"),
        cold!(b"Unable to preallocate service objects"),
    );
    let mut carve = || {
        let res = res.as_mut().ok_or(fixed)?;
        let sup = res.uninit::<Supervisor>().ok_or(fixed)?;
        let send0 = res.take(SEND_BUF).ok_or(fixed)?;
        let fds = FdTable::new(res, fd_count, fd_desc, fd_obj_size).ok_or(no_fds)?;
        let recv0 = res.take(RECV_BUF).ok_or(fixed)?;
        // Beside the first controller's input, which every mode touches:
        // the first services' entries share its page.
        // Locked by -M as the service slots come into use (event_loop).
        exit::set_running_table(res.take_lazy(svc_count).ok_or(fixed)?);
        let ctl1 = Controller::new(
            res.take(RECV_BUF).ok_or(fixed)?,
            res.take(SEND_BUF).ok_or(fixed)?,
        );
        let signals = Signals::new(res).ok_or(fixed)?;
        let services =
            ServiceTable::new(res, svc_count, svc_bytes, svc_arena).ok_or(no_services)?;
        // Last: untouched unless a fault's handler runs on it (so not
        // locked by -M either).
        let alt_stack = res.take_lazy(sys::ALT_STACK).ok_or(fixed)?;
        Ok((
            sup,
            [Controller::new(recv0, send0), ctl1],
            signals,
            fds,
            services,
            alt_stack,
        ))
    };
    let (sup, ctl, signals, fds, services, alt_stack) = match carve() {
        Ok(pieces) => pieces,
        Err(what) => {
            early_fatal(&mut log, 3, &[what]);
            sys::exit(3)
        }
    };
    let sup = sup.write(Supervisor {
        now: sys::now(),
        log,
        services,
        fds,
        ctl,
        signals,
        terminate: None,
        listener: control_socket::Listener::new(opts.socket_uid, opts.socket_gid),
        wake_r: None,
        busy: false,
        loop_due: false,
        pid1,
        check: opts.check,
        config_path: b"",
        config_line: 0,
        config_errors: 0,
    });
    // The fault handlers run on a stack of their own, so that they also
    // run when the fault is a stack overflow (§11.3).
    if let Err(e) = sys::set_alt_stack(alt_stack) {
        sup.log(
            Level::Error,
            &[cold!(b"sigaltstack: "), errtext::strerror(e)],
        );
    }
    (sup, opts)
}

/// Lets go of the code only startup needed and enters the loop. Out of
/// line and calling nothing cold, so it is hot code itself (the compiler
/// treats code that always reaches cold code as cold): execution never
/// returns to the cold code that called it.
#[inline(never)]
fn run(sup: &'static mut Supervisor, mlockall: bool) -> ! {
    if !mlockall {
        sys::release_cold_text();
    }
    sup.run_loop()
}

/// Startup steps 7–15 (§2).
#[cold]
#[inline(never)]
fn startup(sup: &mut Supervisor, opts: &Options<'static>) {
    // 7: /dev/null and the constant handles.
    let null = match sys::open_dev_null() {
        Ok(fd) => Some(fd),
        Err(e) => {
            fatal_errno(sup, 3, cold!(b"Can't open /dev/null: "), e);
            sup.log(
                Level::Error,
                &[cold!(
                    b"Services using 'null' descriptor will get closed handles instead!"
                )],
            );
            None
        }
    };
    // Off the standard numbers, which a closed stdin, stdout or stderr
    // gets as a dup of it below.
    let null = null.map(|null| match null.raw() {
        0..=2 => {
            let moved = sys::dup_above(null, Fd::PAST_STANDARD).unwrap_or(null);
            if moved != null {
                sys::close(null);
            }
            moved
        }
        _ => null,
    });
    for (i, &(name, flags, _)) in fd_table::SPECIALS.iter().enumerate() {
        let fd = if i == 0 { null } else { None };
        match sup
            .fds
            .alloc(FdObj::new(name, Kind::Special, flags, fd), b"")
        {
            Some(slot) => {
                sup.fds.publish(slot);
            }
            None => sup.fatal(4, cold!(b"Can't initialize all special handles")),
        }
    }
    // 8: register every open descriptor.
    for n in 0..1024 {
        let fd = Fd::low(n);
        if Some(fd) == null {
            continue;
        }
        let open = sys::is_open(fd);
        if !open && n > 2 {
            continue;
        }
        let mut name = Buf::<16>::new();
        match n {
            0 => name.bytes(b"stdin"),
            1 => name.bytes(b"stdout"),
            2 => name.bytes(b"stderr"),
            _ => name.bytes(b"fd_").uint(n as u64),
        };
        // A closed standard number gets a dup of /dev/null, so that nothing
        // the daemon opens later lands on it. A check only names them: its
        // commands must not close the stderr it reports on.
        let usable = !opts.check
            && (open || null.is_some_and(|null| sys::dup2_inheritable(null, fd).is_ok()));
        let mut obj = fd_table::introspect(name.as_bytes(), fd);
        if !usable {
            obj.fd = None;
        } else if n > 2 {
            let _ = sys::set_cloexec(fd, true);
        }
        match sup.fds.alloc(obj, b"") {
            Some(slot) => {
                sup.fds.publish(slot);
            }
            None => {
                sup.fatal(2, cold!(b"Not enough FD objects to register all open FDs"));
                break;
            }
        }
    }
    if opts.check {
        // Only the config file: no signals, sockets, or services.
        match opts.config {
            Some(path) => setup_config(sup, path, false),
            None => sup.fatal(2, cold!(b"--check needs a config file (-c FILE)")),
        }
        return;
    }
    // 9: the self-pipe and signal handlers.
    // Should fatal() return (the terminate guard), the loop makes the pipe
    // once it can; the handlers must know the daemon meanwhile.
    exit::set_daemon_pid();
    if let Err(e) = sup.open_wake_pipe() {
        fatal_errno(sup, 5, cold!(b"signal pipe setup: "), e);
    }
    if let Err(e) = exit::install_handlers() {
        fatal_errno(sup, 5, cold!(b"signal handler setup: "), e);
    }
    if sup.pid1 {
        sys::disable_cad();
    } else {
        sys::become_subreaper();
    }
    // 11: the control socket.
    if let Some(path) = opts.socket
        && !sup.create_control_socket(path)
    {
        sup.fatal(3, cold!(b"Can't create controller socket"));
    }
    // 12: interactive mode.
    if opts.interactive {
        setup_interactive(sup);
    }
    // 13: the config file.
    if let Some(path) = opts.config {
        setup_config(sup, path, core::ptr::eq(path, DEFAULT_CONFIG));
    }
    // 14, 15
    if opts.mlockall
        && let Some(e) = opts.mlock_error
    {
        sup.log(Level::Error, &[cold!(b"mlockall: "), errtext::strerror(e)]);
    }
    if opts.daemonize {
        if opts.interactive || sup.pid1 {
            sup.log(
                Level::Warning,
                &[cold!(b"Ignoring --daemonize (see manual)")],
            );
        } else {
            daemonize(sup);
        }
    }
}

/// fatal() with `what` and the text of `e`.
#[inline(never)]
#[cold]
fn fatal_errno(sup: &mut Supervisor, code: i32, what: &[u8], e: sys::Errno) {
    let mut m = Buf::<128>::new();
    m.bytes(what).bytes(errtext::strerror(e));
    sup.fatal(code, m.as_bytes());
}

#[cold]
fn setup_interactive(sup: &mut Supervisor) {
    let Some(i) = sup.free_slot() else {
        sup.fatal(3, cold!(b"stdin/stdout are not usable!"));
        return;
    };
    if !sys::is_open(Fd::STDIN) || !sys::is_open(Fd::STDOUT) {
        sup.fatal(3, cold!(b"stdin/stdout are not usable!"));
        return;
    }
    sup.ctl[i].open(CtlKind::Interactive, Some(Fd::STDIN), Some(Fd::STDOUT));
    sup.repoint_to_null(b"stdin");
    sup.repoint_to_null(b"stdout");
    sup.reply(i, options::BANNER_VERSION);
    // The banner's lines are short: no need for a full Line on the stack.
    let mut b = Buf::<128>::new();
    let licence = proto::split(options::VERSION_TEXT, b'\n').skip(3);
    for line in licence.filter(|l| !l.is_empty()) {
        b.clear();
        b.bytes(b"info\t").bytes(line);
        sup.reply(i, b.as_bytes());
    }
    sup.reply(
        i,
        cold!(b"info\tInteractive mode.  Use ^D or 'exit' to terminate.  See 'man daemonproxy' for command syntax."),
    );
}

/// PID 1's config file when no `-c` is given (§1.8). A static, so that
/// its address tells it from the same path given with `-c`.
static DEFAULT_CONFIG: &[u8] = cold!(b"/etc/daemonproxy.conf");

#[cold]
fn setup_config(sup: &mut Supervisor, path: &'static [u8], default: bool) {
    sup.config_path = path;
    let fd = if path == b"-" {
        if sup.fds.fd_of(b"stdin") != Some(Fd::STDIN) && !sup.check {
            sup.log(Level::Error, &[cold!(b"stdin not available")]);
            sup.fatal(3, cold!(b"Unable to process config file"));
            return;
        }
        sup.repoint_to_null(b"stdin");
        Fd::STDIN
    } else {
        match sys::open(path, sys::oflag::RDONLY | sys::oflag::NONBLOCK, 0) {
            Ok(fd) => fd,
            Err(e) => {
                sup.log(
                    Level::Error,
                    &[
                        cold!(b"Failed to open config file \""),
                        path,
                        b"\": ",
                        errtext::strerror(e),
                    ],
                );
                // PID 1's default file is optional (§1.8): with the guard
                // its absence is only logged, and no exec-on-exit (a final
                // stage there would power off at boot) is run for it.
                if default && exit::guard() != 0 {
                    sup.log(
                        Level::Fatal,
                        &[cold!(
                            b"(attempting to continue) Unable to process config file"
                        )],
                    );
                } else {
                    sup.fatal(3, cold!(b"Unable to process config file"));
                }
                return;
            }
        }
    };
    let Some(i) = sup.free_slot() else {
        sup.fatal(3, cold!(b"Unable to process config file"));
        return;
    };
    sup.ctl[i].open(CtlKind::Config, Some(fd), None);
    sup.ctl[i].auto_final_newline = true;
}

#[cold]
fn daemonize(sup: &mut Supervisor) {
    // No handler may run in the new process before it knows it is the
    // daemon: until then it would take itself for a service's child.
    let mask = sys::block_all();
    let forked = sys::fork();
    if forked == Ok(0) {
        exit::set_daemon_pid();
    }
    sys::set_mask(&mask);
    match forked {
        Ok(0) => {}
        Ok(pid) => {
            let mut b = Buf::<20>::new();
            b.uint(pid as u64);
            sys::write_all(Fd::STDOUT, b.as_bytes());
            sys::exit_now(0);
        }
        Err(e) => {
            fatal_errno(sup, 3, b"fork: ", e);
            return;
        }
    }
    for (name, fd) in [
        (&b"stdin"[..], Fd::STDIN),
        (b"stdout", Fd::STDOUT),
        (b"stderr", Fd::STDERR),
    ] {
        if sup.fds.fd_of(name) == Some(fd) {
            sup.repoint_to_null(name);
            sys::close(fd);
        }
    }
    if let Err(e) = sys::setsid() {
        fatal_errno(sup, 3, cold!(b"setsid: "), e);
    }
}
