//! Signals: dispositions, masks, the alternate stack and the alarm.

use core::ffi::c_int;

use super::{Errno, Res, errno};

/// Sets `sig`'s disposition through musl's sigaction, which supplies the
/// architecture's signal return trampoline: `handler` (or SIG_DFL) with
/// `flags`, blocking nothing extra and without SA_RESTART.
#[cold]
fn sigaction(sig: c_int, handler: usize, flags: c_int) -> Res<()> {
    // SAFETY: a zeroed sigaction is an empty mask and no flags; the handler
    // (if any) is async-signal-safe and matches `flags`.
    let r = unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = flags;
        libc::sigaction(sig, &sa, core::ptr::null_mut())
    };
    if r < 0 {
        return Err(Errno::from_raw_os_error(errno()));
    }
    Ok(())
}

/// Installs `handler` for `sig`.
#[cold]
pub fn set_handler(sig: i32, handler: extern "C" fn(c_int)) -> Res<()> {
    sigaction(sig, handler as *const () as usize, 0)
}

/// What a fault handler is told about a signal: its siginfo.
pub type SigInfo = libc::siginfo_t;

/// Installs `handler` for `sig` with its siginfo (SA_SIGINFO), on the
/// alternate signal stack (SA_ONSTACK), so that it also runs when the
/// fault is a stack overflow.
#[cold]
pub fn set_fault_handler(
    sig: i32,
    handler: extern "C" fn(c_int, *mut SigInfo, *mut core::ffi::c_void),
) -> Res<()> {
    sigaction(
        sig,
        handler as *const () as usize,
        libc::SA_SIGINFO | libc::SA_ONSTACK,
    )
}

/// Was this signal raised by the kernel for the instruction that was
/// running (a fault: si_code > 0), rather than sent by a process (kill,
/// tkill, sigqueue: si_code <= 0)? Returning from the handler of a fault
/// runs the instruction again.
pub fn is_fault(info: *const SigInfo) -> bool {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    !info.is_null() && unsafe { (*info).si_code } > 0
}

/// Makes `stack` the alternate signal stack (sigaltstack(2)).
#[cold]
pub fn set_alt_stack(stack: &'static mut [u8]) -> Res<()> {
    // SAFETY: the stack is memory of its own that lives as long as the
    // process; a zeroed stack_t is then filled in by field name (the field
    // order differs between architectures).
    let r = unsafe {
        let mut ss: libc::stack_t = core::mem::zeroed();
        ss.ss_sp = stack.as_mut_ptr().cast();
        ss.ss_size = stack.len();
        libc::sigaltstack(&ss, core::ptr::null_mut())
    };
    if r < 0 {
        return Err(Errno::from_raw_os_error(errno()));
    }
    Ok(())
}

/// Size of the alternate signal stack: the architecture's signal frame
/// (SIGSTKSZ) plus what the fatal handler's exec-on-exit needs (§11.3).
pub const ALT_STACK: usize = libc::SIGSTKSZ + (32 << 10);

/// Restores the default disposition of `sig`.
#[cold]
pub fn set_default(sig: i32) {
    let _ = sigaction(sig, libc::SIG_DFL, 0);
}

/// Blocks every signal; returns the mask before.
pub fn block_all() -> libc::sigset_t {
    // SAFETY: the sets are plain data, passed to sigprocmask.
    unsafe {
        let mut all: libc::sigset_t = core::mem::zeroed();
        let mut old: libc::sigset_t = core::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, &mut old);
        old
    }
}

/// Sets the signal mask to `mask`.
pub fn set_mask(mask: &libc::sigset_t) {
    // SAFETY: a valid set passed to sigprocmask.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, mask, core::ptr::null_mut()) };
}

/// Unblocks every signal.
pub fn unmask_all() {
    // SAFETY: a zeroed set is plain data; sigemptyset makes it empty.
    let mut none: libc::sigset_t = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::sigemptyset(&mut none) };
    set_mask(&none);
}

/// Arms (or with 0 disarms) a one-shot ITIMER_REAL of `usec` microseconds.
pub fn alarm_usec(usec: i64) {
    // SAFETY: setitimer reads the new value and, with a null pointer,
    // writes no old one.
    unsafe {
        let it = libc::itimerval {
            it_interval: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            it_value: libc::timeval {
                tv_sec: (usec / 1_000_000) as _,
                tv_usec: (usec % 1_000_000) as _,
            },
        };
        libc::setitimer(libc::ITIMER_REAL, &it, core::ptr::null_mut());
    }
}
