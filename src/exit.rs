//! Signal dispositions, the terminate guard and exec-on-exit (§9.1, §11).
//!
//! The state here is read by signal handlers, so it lives in atomics: the
//! exec-on-exit text, the guard, the log descriptor and the self-pipe. The
//! argv and environment for the exec are built on the stack of the exiting
//! path, so no memory is set aside for them while the daemon runs.

use core::ffi::c_char;
use core::ptr;
use core::sync::atomic::{
    AtomicI32, AtomicIsize, AtomicU8, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};

use crate::errtext;
use crate::fmt::Buf;
use crate::log::{Level, Log};
use crate::signal;
use crate::sys::{self, AtomicFd, Errno, Fd, StaticSlice, TakeSlice};

/// Exec-on-exit text is limited to 255 bytes.
pub const EXEC_ARGS_MAX: usize = 255;

/// The exec-on-exit text, in memory reserved at startup (not in .bss, where
/// it would push the data segment over a page boundary).
static EXEC_BUF: StaticSlice<AtomicU8> = StaticSlice::new();
static EXEC_LEN: AtomicUsize = AtomicUsize::new(0);
/// The exec-on-exit program's environment array, reserved at startup
/// (`env_slots` pointers) and filled only on the way out.
static ENVP: TakeSlice<*const c_char> = TakeSlice::new();
/// The terminate guard, as wide as a C long (the original's type): MIPS32
/// has no 64-bit atomics.
static GUARD: AtomicIsize = AtomicIsize::new(0);
static LOG_FD: AtomicFd = AtomicFd::new(Some(Fd::STDERR));
static WAKE_FD: AtomicFd = AtomicFd::new(None);
static WAKE_R: AtomicFd = AtomicFd::new(None);
static DAEMON_PID: AtomicI32 = AtomicI32::new(0);
/// The running services as the fatal handler lists them (`Running`).
static RUNNING: StaticSlice<Running> = StaticSlice::new();

/// A service slot's process as the fatal-signal handler may list it: a
/// copy of its pid and name that only the loop writes, when the service is
/// forked and when it is reaped. The handler cannot read the service table,
/// which the signal may have interrupted in the middle of a change.
pub struct Running {
    /// 0: not running.
    pid: AtomicI32,
    name: [AtomicU8; crate::proto::NAME_MAX + 1],
}

zeroable!(Running { pid, name });

/// The table the loop keeps `note_running` in, one entry per service slot.
#[cold]
pub fn set_running_table(t: &'static mut [Running]) {
    RUNNING.set(t);
}

/// Under `-M`: locks the entries of service slots `from..to`, which came
/// into use (see `sys::lock_grown`).
#[cold]
pub fn lock_running(from: usize, to: usize) {
    sys::lock_grown(RUNNING.get(), from, to);
}

/// The service in `slot` now runs as `pid` (0: no longer runs). The pid is
/// cleared before the name changes and set after it, so a handler that
/// interrupts this sees either no entry or a whole one.
pub fn note_running(slot: usize, pid: i32, name: &[u8]) {
    let Some(e) = RUNNING.get().get(slot) else {
        return;
    };
    e.pid.store(0, Release);
    if pid != 0 {
        for (i, n) in e.name.iter().enumerate() {
            n.store(name.get(i).copied().unwrap_or(0), Relaxed);
        }
        e.pid.store(pid, Release);
    }
}

/// Logs `warning: service 'NAME' running as pid PID` for each running
/// service, from the copy the loop keeps (§11.3).
#[cold]
fn log_running_direct() {
    for e in RUNNING.get() {
        let pid = e.pid.load(Acquire);
        if pid == 0 {
            continue;
        }
        let mut name = [0u8; crate::proto::NAME_MAX + 1];
        let mut len = 0;
        for n in &e.name {
            match n.load(Relaxed) {
                0 => break,
                b => name[len] = b,
            }
            len += 1;
        }
        let mut num = Buf::<20>::new();
        num.int(pid as i64);
        log_direct(&[
            cold!(b"warning: service '"),
            &name[..len],
            cold!(b"' running as pid "),
            num.as_bytes(),
        ]);
    }
}

/// Where the exec-on-exit text will be kept (EXEC_ARGS_MAX + 1 bytes).
#[cold]
pub fn set_exec_buf(buf: &'static mut [AtomicU8]) {
    if buf.len() > EXEC_ARGS_MAX {
        EXEC_BUF.set(buf);
    }
}

/// Pointers the exec-on-exit program's environment needs: one per entry of
/// the daemon's environment (which nothing changes after startup), the two
/// variables and the terminating null.
#[cold]
pub fn env_slots() -> usize {
    sys::entries(sys::environ()) + 3
}

/// Where the exec-on-exit program's environment will be built
/// (`env_slots()` pointers).
#[cold]
pub fn set_env_buf(buf: &'static mut [*const c_char]) {
    ENVP.put(buf);
}

/// The exec-on-exit text's storage; empty before startup set it.
fn exec_args() -> &'static [AtomicU8] {
    EXEC_BUF.get()
}

/// Sets the exec-on-exit argv from TSV text; Err when 256 bytes or more.
pub fn set_exec_args(tsv: &[u8]) -> Result<(), ()> {
    let args = exec_args();
    if tsv.len() > EXEC_ARGS_MAX || tsv.len() > args.len() {
        return Err(());
    }
    for (a, &b) in args.iter().zip(tsv) {
        a.store(b, Relaxed);
    }
    EXEC_LEN.store(tsv.len(), Relaxed);
    Ok(())
}

/// Is exec-on-exit configured?
pub fn exec_configured() -> bool {
    EXEC_LEN.load(Relaxed) > 0
}

/// The terminate guard (0: off).
pub fn guard() -> i64 {
    GUARD.load(Relaxed) as i64
}

/// A guard code as it is kept: a C long, as in the original, where a code
/// beyond a long's range saturates (as strtol does). Cutting it to 32 bits
/// instead would keep a guard on 32-bit boards that no code removes.
fn as_long(code: i64) -> isize {
    code.clamp(isize::MIN as i64, isize::MAX as i64) as isize
}

/// Sets the terminate guard.
pub fn set_guard(code: i64) {
    GUARD.store(as_long(code), Relaxed);
}

/// Does `code` match the terminate guard?
pub fn guard_is(code: i64) -> bool {
    GUARD.load(Relaxed) == as_long(code)
}

/// Tells the handlers where the log goes.
pub fn set_log_fd(fd: Option<Fd>) {
    LOG_FD.set(fd);
}

/// Writes `parts` and a LF to `fd` as one record, cut to `max` bytes
/// (nothing when there is none); for the paths that cannot use the log:
/// signal handlers, the exit paths, a forked child, the final stage.
#[cold]
pub fn write_record(fd: Option<Fd>, max: usize, parts: &[&[u8]]) {
    let Some(fd) = fd else {
        return;
    };
    let mut b = Buf::<1400>::new();
    for p in parts {
        b.bytes(p);
    }
    b.byte(b'\n');
    let record = b.as_bytes();
    sys::write_all(fd, &record[..record.len().min(max)]);
}

/// Writes a record to the log descriptor.
#[cold]
fn log_direct(parts: &[&[u8]]) {
    write_record(LOG_FD.get(), 1400, parts);
}

/// The exec-on-exit program's environment variables.
static EXITCODE_VAR: &[u8] = cold!(b"DAEMONPROXY_EXITCODE=");
static ERROR_VAR: &[u8] = cold!(b"DAEMONPROXY_ERROR=");

/// Joins `parts` into `dst` as a C string, cut to fit.
#[cold]
fn store(dst: &mut [u8], parts: &[&[u8]]) {
    let mut i = 0;
    for p in parts {
        for &b in p.iter() {
            if i + 1 < dst.len() {
                dst[i] = b;
                i += 1;
            }
        }
    }
    dst[i] = 0;
}

/// Execs the exec-on-exit program with DAEMONPROXY_EXITCODE and
/// DAEMONPROXY_ERROR set (§11.3 step 1). Returns only if the exec failed,
/// with the signal handling reinstalled.
#[cold]
pub fn exec_on_exit(code: i32, msg: &[u8], announce: bool) -> Option<Errno> {
    let len = EXEC_LEN.load(Relaxed);
    if len == 0 {
        return None;
    }
    // argv: the TSV text with TABs turned into NULs.
    let mut text = [0u8; EXEC_ARGS_MAX + 1];
    for (t, a) in text.iter_mut().zip(&exec_args()[..len]) {
        *t = a.load(Relaxed);
    }
    let mut argv = [ptr::null::<c_char>(); EXEC_ARGS_MAX + 2];
    crate::spawn::split_argv(&mut text, len, &mut argv);
    // In decimal as the C int it is: `terminate -1` gives -1.
    let mut num = Buf::<20>::new();
    num.int(code as i64);
    let code_text = num.as_bytes();
    let mut var_code = [0u8; 48];
    let mut var_error = [0u8; 1200];
    store(&mut var_code, &[EXITCODE_VAR, code_text]);
    store(&mut var_error, &[ERROR_VAR, msg]);
    let mut own = [ptr::null::<c_char>(); 3];
    // Given back if the exec fails, for the next path to it.
    let mut reserved = ENVP.take();
    let envp: &mut [*const c_char] = match &mut reserved {
        Some(buf) if buf.len() >= own.len() => buf,
        _ => &mut own,
    };
    let room = envp.len() - 3;
    let env = sys::environ();
    let mut n = 0;
    let mut i = 0;
    while !env.is_null() && n < room {
        let p = sys::env_entry(env, i);
        if p.is_null() {
            break;
        }
        i += 1;
        let s = sys::cstr_bytes(p);
        if s.starts_with(EXITCODE_VAR) || s.starts_with(ERROR_VAR) {
            continue;
        }
        envp[n] = p;
        n += 1;
    }
    envp[n] = var_code.as_ptr().cast();
    envp[n + 1] = var_error.as_ptr().cast();
    envp[n + 2] = ptr::null();
    let envp = &envp[..n + 3];
    let argv0 = sys::cstr_bytes(argv[0]);
    reset_handlers();
    if announce {
        log_direct(&[
            cold!(b"warning: daemonproxy exec_on_exit to '"),
            argv0,
            b"'",
        ]);
        log_running_direct();
    }
    inherit_all();
    let e = sys::execvpe(&argv, envp);
    if let Some(buf) = reserved {
        ENVP.put(buf);
    }
    let _ = install_handlers();
    log_direct(&[
        cold!(b"error: Unable to exec \""),
        argv0,
        b"\": ",
        errtext::strerror(e),
    ]);
    Some(e)
}

/// Where fatal() reports: the log, and once services run, their list.
pub trait Report {
    /// Logs one record.
    fn log(&mut self, level: Level, parts: &[&[u8]]);
    /// Logs `service 'NAME' running as pid PID` for each running service.
    fn log_running(&mut self) {}
    /// Before the exec: writes out what is logged so far.
    fn flush(&mut self) {}
}

/// Before the supervisor exists: the log alone, which writes each record
/// out as it is put.
impl Report for Log {
    fn log(&mut self, level: Level, parts: &[&[u8]]) {
        self.put(level, parts, crate::time::Mono::ZERO);
    }
}

/// fatal(code, msg) (§11.3): exec-on-exit if configured, otherwise log
/// and exit unless the terminate guard is set (then return). The one
/// policy for startup, commands and the loop.
#[cold]
#[inline(never)]
pub fn fatal(r: &mut dyn Report, code: i32, msg: &[u8]) {
    if exec_configured() {
        let mut argv0 = Buf::<256>::new();
        exec_argv0(&mut argv0);
        r.log(
            Level::Warning,
            &[
                cold!(b"daemonproxy exec_on_exit to '"),
                argv0.as_bytes(),
                b"'",
            ],
        );
        r.log_running();
        r.flush();
        exec_on_exit(code, msg, false);
    }
    if !msg.is_empty() {
        let pre: &[u8] = if guard() != 0 {
            cold!(b"(attempting to continue) ")
        } else {
            b""
        };
        r.log(Level::Fatal, &[pre, msg]);
    }
    if guard() == 0 {
        r.log_running();
        sys::exit(code);
    }
}

/// Remembers the self-pipe's ends: the handlers write to `w`, and neither
/// end is passed to the exec-on-exit program.
pub fn set_wake_fds(r: Fd, w: Fd) {
    set_daemon_pid();
    WAKE_R.set(Some(r));
    WAKE_FD.set(Some(w));
}

/// Makes every open descriptor but the self-pipe inheritable, for the
/// exec-on-exit program (§11.3 step 1.4, §7.6). It goes by number, not by
/// the daemon's tables, so every path to the exec can use it: a fatal
/// signal may have interrupted any change to the tables. The numbers are
/// those startup registers (§2 step 8).
fn inherit_all() {
    let (r, w) = (WAKE_R.get(), WAKE_FD.get());
    for n in 0..1024 {
        let fd = Fd::low(n);
        if Some(fd) != r && Some(fd) != w {
            let _ = sys::set_cloexec(fd, false);
        }
    }
}

/// Makes this process the one the handlers act for: at startup, and in the
/// process `--daemonize` forks (the handlers would otherwise take it for a
/// service's child and hand every signal back to the default action).
pub fn set_daemon_pid() {
    DAEMON_PID.store(sys::getpid(), Relaxed);
}

/// In a forked child that has not exec'd yet, a handler must not act for
/// the daemon: restore the default and deliver the signal to the child.
fn forward_in_child(sig: core::ffi::c_int) -> bool {
    if sys::getpid() == DAEMON_PID.load(Relaxed) {
        return false;
    }
    redeliver(sig);
    true
}

#[cold]
#[inline(never)]
fn redeliver(sig: core::ffi::c_int) {
    sys::set_default(sig);
    let _ = sys::kill(sys::getpid(), sig, false);
}

extern "C" fn on_signal(sig: core::ffi::c_int) {
    let saved = sys::errno_get();
    if forward_in_child(sig) {
        sys::errno_set(saved);
        return;
    }
    if let Some(fd) = WAKE_FD.get() {
        let _ = sys::write(fd, &[sig as u8]);
    }
    sys::errno_set(saved);
}

/// The handler of SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT and SIGTRAP
/// (§11.3), on the alternate stack. A signal some process sent is fatal()
/// as the protocol describes: exec-on-exit, else log and exit, or return
/// ("attempting to continue") under the terminate guard. A fault the CPU
/// raised cannot be continued (returning runs the faulting instruction
/// again): it never returns (see `fault_exit`).
#[cold]
extern "C" fn on_fatal(sig: core::ffi::c_int, info: *mut sys::SigInfo, _: *mut core::ffi::c_void) {
    let saved = sys::errno_get();
    if forward_in_child(sig) {
        sys::errno_set(saved);
        return;
    }
    let mut msg = Buf::<64>::new();
    msg.bytes(cold!(b"Received signal SIG"))
        .bytes(signal::name(sig))
        .bytes(b" (")
        .int(sig as i64)
        .byte(b')');
    if sys::is_fault(info) {
        fault_exit(msg.as_bytes());
    }
    exec_on_exit(4, msg.as_bytes(), true);
    if guard() != 0 {
        log_direct(&[cold!(b"fatal: (attempting to continue) "), msg.as_bytes()]);
        sys::errno_set(saved);
        return;
    }
    log_direct(&[b"fatal: ", msg.as_bytes()]);
    log_running_direct();
    sys::exit_now(4);
}

/// The end of a fault the daemon cannot continue from: a CPU fault, or a
/// panic. Exec-on-exit if configured; else, under the terminate guard or
/// as PID 1 (whose exit panics the kernel), the daemon runs itself again,
/// a fresh supervisor that the services' controller can drive again; else
/// it exits with code 4.
#[cold]
pub fn fault_exit(msg: &[u8]) -> ! {
    exec_on_exit(4, msg, true);
    log_direct(&[b"fatal: ", msg]);
    log_running_direct();
    if guard() != 0 || DAEMON_PID.load(Relaxed) == 1 {
        restart_self();
    }
    sys::exit_now(4)
}

/// Runs the daemon's own program again with its argv and environment, as
/// the same process. A one-second pause first keeps a daemon that faults
/// at every start from spinning.
#[cold]
fn restart_self() {
    let argv = sys::self_argv();
    if argv.is_empty() {
        return;
    }
    log_direct(&[
        cold!(b"warning: daemonproxy restarting: "),
        sys::cstr_bytes(argv[0]),
    ]);
    reset_handlers();
    sys::sleep_ms(1000);
    let e = sys::exec_self(argv);
    log_direct(&[cold!(b"error: Unable to restart: "), errtext::strerror(e)]);
}

/// Test builds only: `test.fault\tsegv|stack|panic` raises a real fault, to
/// test `on_fatal` and `fault_exit`. Not in a release build.
#[cfg(feature = "fault-injection")]
pub fn inject_fault(name: &[u8], args: Option<&[u8]>) {
    if name != b"test.fault" {
        return;
    }
    match args {
        Some(b"segv") => sys::fault::segv(),
        Some(b"stack") => {
            sys::fault::overflow(0);
        }
        Some(b"panic") => panic!(),
        _ => {}
    }
}

/// Installs the daemon's handlers (§9.1).
#[cold]
pub fn install_handlers() -> Result<(), Errno> {
    for &s in &signal::WAKING[first_ours()..] {
        sys::set_handler(s, on_signal)?;
    }
    for &s in signal::FATAL {
        sys::set_fault_handler(s, on_fatal)?;
    }
    Ok(())
}

/// Where the daemon's signals start in signal::HANDLED: past the
/// PID-1-only ones unless it is PID 1.
fn first_ours() -> usize {
    if DAEMON_PID.load(Relaxed) == 1 {
        0
    } else {
        signal::PID1_ONLY
    }
}

/// Resets every handled signal to its default and unblocks all signals,
/// as a service child or the exec-on-exit program needs.
#[cold]
pub fn reset_handlers() {
    for &s in &signal::HANDLED[first_ours()..] {
        sys::set_default(s);
    }
    sys::unmask_all();
}

/// The exec-on-exit program's name, for the announcement.
#[cold]
pub fn exec_argv0(out: &mut crate::fmt::Bytes) {
    let len = EXEC_LEN.load(Relaxed);
    for a in &exec_args()[..len] {
        let b = a.load(Relaxed);
        if b == b'\t' || b == 0 {
            break;
        }
        out.byte(b);
    }
}
