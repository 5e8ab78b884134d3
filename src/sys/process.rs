//! Processes: identity, fork, exec, kill, wait, exit, the command line and
//! environment, and the descriptor layout a child inherits.

use core::ffi::{CStr, c_char, c_int};
use core::sync::atomic::{AtomicPtr, Ordering::Relaxed};

use rustix::fd::{IntoRawFd, OwnedFd};

use super::{Errno, Fd, PATH_MAX, Res, borrow, close, cpath, errno, set_cloexec};

/// getpid(2).
pub fn getpid() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

/// geteuid(2).
pub fn geteuid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// chdir(2).
#[inline(never)]
pub fn chdir(path: &[u8]) -> Res<()> {
    let mut buf = [0; PATH_MAX + 1];
    rustix::process::chdir(cpath(path, &mut buf)?)
}

/// umask(2).
#[cold]
pub fn umask(mask: u32) {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask));
}

/// setsid(2).
#[cold]
pub fn setsid() -> Res<()> {
    rustix::process::setsid().map(|_| ())
}

/// abort(): SIGABRT to the process. In the daemon its handler runs
/// exec-on-exit (§11.3); in a service's child, whose handlers are reset,
/// it ends the child.
#[cold]
pub fn abort() -> ! {
    let _ = kill(getpid(), libc::SIGABRT, false);
    exit_now(128 + libc::SIGABRT)
}

/// fork(2), through `_Fork` (POSIX.1-2024, musl 1.2.3 on): `fork` without
/// the atfork handlers and the locks a multi-threaded process takes around
/// it. The daemon is single-threaded and registers no handlers, so the two
/// do the same here, and musl's `fork` would bring 1,250 bytes of that
/// locking (x86_64). Every signal should be blocked around it
/// (`block_all`): until the child has reset its handlers, a handler running
/// there would act for the daemon.
/// Returns 0 in the child and the child's pid in the parent.
pub fn fork() -> Res<i32> {
    // musl's unistd.h declares it; the libc crate does not yet.
    unsafe extern "C" {
        fn _Fork() -> libc::pid_t;
    }
    // SAFETY: the daemon is single-threaded; the child only execs or exits.
    let pid = unsafe { _Fork() };
    if pid < 0 {
        Err(Errno::from_raw_os_error(errno()))
    } else {
        Ok(pid)
    }
}

/// _exit(2).
#[cold]
pub fn exit_now(code: i32) -> ! {
    // SAFETY: ends the process without running anything else.
    unsafe { libc::_exit(code) }
}

/// exit(3) is not needed: the daemon has nothing to flush but its own log.
#[cold]
pub fn exit(code: i32) -> ! {
    exit_now(code)
}

/// execvp(3) with a NULL-terminated argv of NUL-terminated strings; returns
/// only on failure.
#[cold]
pub fn execvp(argv: &[*const c_char]) -> Errno {
    // SAFETY: argv is NULL-terminated and its strings NUL-terminated.
    unsafe { libc::execvp(argv[0], argv.as_ptr()) };
    Errno::from_raw_os_error(errno())
}

/// execvpe(3): execvp with an explicit NULL-terminated environment;
/// returns only on failure.
#[cold]
pub fn execvpe(argv: &[*const c_char], envp: &[*const c_char]) -> Errno {
    // SAFETY: argv and envp are NULL-terminated arrays of C strings.
    unsafe { libc::execvpe(argv[0], argv.as_ptr(), envp.as_ptr()) };
    Errno::from_raw_os_error(errno())
}

/// Runs this program again (/proc/self/exe, else argv[0] through PATH) with
/// `argv` (NULL-terminated) and the process environment; returns only on
/// failure.
#[cold]
pub fn exec_self(argv: &[*const c_char]) -> Errno {
    // SAFETY: argv is NULL-terminated and its strings NUL-terminated.
    unsafe { libc::execv(c"/proc/self/exe".as_ptr(), argv.as_ptr()) };
    execvp(argv)
}

/// The process environment as a NULL-terminated array.
#[cold]
pub fn environ() -> *const *const c_char {
    unsafe extern "C" {
        static environ: *const *const c_char;
    }
    // SAFETY: reading the pointer value of libc's environ.
    unsafe { environ }
}

/// kill(2) or killpg(2).
pub fn kill(pid: i32, sig: i32, group: bool) -> Res<()> {
    // SAFETY: kill and killpg take no pointers; rustix's Signal type cannot carry signal 0 or
    // real-time numbers, which the protocol allows.
    let r = unsafe {
        if group {
            libc::killpg(pid, sig)
        } else {
            libc::kill(pid, sig)
        }
    };
    if r < 0 {
        Err(Errno::from_raw_os_error(errno()))
    } else {
        Ok(())
    }
}

/// A child's wait status, decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExitHow {
    /// exit(code)
    Exited(u8),
    /// killed by signal
    Signaled(i32),
}

/// waitpid(-1, WNOHANG): the next reaped child, if any.
pub fn reap_any() -> Option<(i32, ExitHow)> {
    let mut status: c_int = 0;
    // SAFETY: waitpid writes the status to a valid out pointer. (Not
    // rustix: its waitpid(None) means "my process group", not "any
    // child".)
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid <= 0 {
        return None;
    }
    let how = if libc::WIFSIGNALED(status) {
        ExitHow::Signaled(libc::WTERMSIG(status))
    } else {
        ExitHow::Exited(libc::WEXITSTATUS(status) as u8)
    };
    Some((pid, how))
}

/// dup2(src, dst), with dst inheritable (when src == dst, dup2 would leave
/// its close-on-exec flag, so it is cleared instead). For a forked child,
/// and for startup's closed stdin, stdout or stderr.
#[cold]
pub fn dup2_inheritable(src: Fd, dst: Fd) -> Res<()> {
    if src == dst {
        return set_cloexec(dst, false);
    }
    // SAFETY: the caller owns `dst`'s number and gives it up to the copy.
    let mut target = unsafe { <OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(dst.raw()) };
    let r = rustix::io::dup2(borrow(src), &mut target);
    // The number stays open, as the copy.
    let _ = target.into_raw_fd();
    r
}

/// Closes every descriptor from `first` up except `keep`, with
/// close_range(2) (one call per range), or one by one below 1024 where the
/// kernel lacks it.
#[cold]
pub fn close_from_except(first: Fd, keep: Option<Fd>) {
    let close_range = |lo: u32, hi: u32| {
        // SAFETY: close_range takes no pointers; the caller wants all of
        // these closed.
        let r = unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0u32) };
        if r < 0 {
            for n in lo..=hi.min(1023) {
                close(Fd::low(n as u16));
            }
        }
    };
    let first = first.raw() as u32;
    match keep.map(|fd| fd.raw() as u32) {
        Some(keep) if keep >= first => {
            if keep > first {
                close_range(first, keep - 1);
            }
            close_range(keep + 1, u32::MAX);
        }
        _ => close_range(first, u32::MAX),
    }
}

/// prctl(PR_SET_CHILD_SUBREAPER, 1).
#[cold]
pub fn become_subreaper() {
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::Pid::from_raw(1).unwrap()));
}

/// reboot(RB_DISABLE_CAD): Ctrl-Alt-Del sends SIGINT to PID 1.
#[cold]
pub fn disable_cad() {
    let _ = rustix::system::reboot(rustix::system::RebootCommand::CadOff);
}

/// The command line as the C runtime passed it (at most 64 arguments are
/// looked at), read in place rather than copied.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
}

impl Args {
    /// Wraps `main`'s arguments.
    ///
    /// # Safety
    /// `argv` must point to `argc` valid NUL-terminated strings that live
    /// for the rest of the process.
    #[cold]
    unsafe fn new(argc: c_int, argv: *const *const c_char) -> Args {
        Args {
            argc: (argc.max(0) as usize).min(64),
            argv,
        }
    }

    /// Argument `i`.
    #[cold]
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        // SAFETY: i < argc, and the strings live as long as the process.
        (i < self.argc).then(|| unsafe { CStr::from_ptr(*self.argv.add(i)).to_bytes() })
    }
}

/// The `i`th entry of a NULL-terminated C pointer array.
#[cold]
pub fn env_entry(env: *const *const c_char, i: usize) -> *const c_char {
    // SAFETY: callers stop at the terminating NULL.
    unsafe { *env.add(i) }
}

/// The number of entries of a NULL-terminated C pointer array (an argv or
/// an environment; 0 for a NULL array).
#[cold]
pub fn entries(list: *const *const c_char) -> usize {
    let mut n = 0;
    while !list.is_null() && !env_entry(list, n).is_null() {
        n += 1;
    }
    n
}

/// The bytes of a C string (empty for NULL).
#[cold]
pub fn cstr_bytes<'a>(p: *const c_char) -> &'a [u8] {
    if p.is_null() {
        return b"";
    }
    // SAFETY: p points to a NUL-terminated string that outlives the use.
    unsafe { CStr::from_ptr(p).to_bytes() }
}

/// Reaps every child that has exited; false once none is left (ECHILD).
#[cold]
pub fn reap_all() -> bool {
    loop {
        // SAFETY: waitpid with a null status pointer writes no status.
        let pid = unsafe { libc::waitpid(-1, core::ptr::null_mut(), libc::WNOHANG) };
        if pid <= 0 {
            return pid == 0;
        }
    }
}

pub use rustix::system::RebootCommand;

/// reboot(2).
#[cold]
pub fn reboot(cmd: RebootCommand) {
    let _ = rustix::system::reboot(cmd);
}

/// umount2(path, MNT_DETACH).
#[cold]
pub fn unmount_detach(path: &[u8]) -> Res<()> {
    let mut buf = [0; PATH_MAX + 1];
    rustix::mount::unmount(cpath(path, &mut buf)?, rustix::mount::UnmountFlags::DETACH)
}

/// mount("/", MS_REMOUNT | MS_RDONLY).
#[cold]
pub fn remount_root_readonly() -> Res<()> {
    rustix::mount::mount_remount(c"/", rustix::mount::MountFlags::RDONLY, c"")
}

// The C library, linked statically: its startup code calls `main`.
#[cfg(not(any(test, fuzzing)))]
#[link(name = "c", kind = "static")]
unsafe extern "C" {}

/// The daemon's own argv, NULL-terminated, as the C runtime passed it.
static SELF_ARGV: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());

/// Entry point called by the C runtime: remembers argv and hands the
/// command line to `crate::start`.
#[cfg(not(any(test, fuzzing)))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    SELF_ARGV.store(argv.cast_mut(), Relaxed);
    // SAFETY: the C runtime passes argc valid strings that outlive main.
    crate::start(unsafe { Args::new(argc, argv) })
}

/// The daemon's own argv with its terminating NULL, to run it again
/// (`exec_self`); empty under `cargo test`.
#[cold]
pub fn self_argv() -> &'static [*const c_char] {
    let argv = SELF_ARGV.load(Relaxed);
    if argv.is_null() {
        return &[];
    }
    // SAFETY: `main` stored the C runtime's argv, NULL-terminated, which
    // lives as long as the process.
    unsafe { core::slice::from_raw_parts(argv, entries(argv) + 1) }
}
