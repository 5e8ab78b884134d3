//! Launching a service (§6.2, §6.3): the controller socketpair, the argv
//! and descriptor plan prepared in the parent, and the child's last steps.

use core::ffi::c_char;

use crate::controller::Kind as CtlKind;
use crate::exit;
use crate::fmt::Buf;
use crate::log::Level;
use crate::proto::Fields;
use crate::service::{self, Var};
use crate::supervisor::Supervisor;
use crate::sys::{self, Domain, Errno, Fd, SockType};

/// Longest argv or fd list a 1023-byte command line can produce.
const MAX_LIST: usize = 512;
const RETRY_DELAY: u64 = 3 << 32;
/// The child's stack until exec: its plan (about 7 KiB), the PATH search
/// (a candidate path of up to 4 KiB) and the frames between.
pub const CHILD_STACK: usize = 32 << 10;

/// A step that failed and its errno, if it has one.
type StepFailed = (&'static [u8], Option<Errno>);

/// What the child needs, prepared before fork so the child only copies.
struct Plan {
    argv_text: [u8; 1100],
    argv: [*const c_char; MAX_LIST + 1],
    fds: [Fd; MAX_LIST],
    nfds: usize,
    empties: usize,
    missing: Buf<32>,
    log_fd: Fd,
}

impl Supervisor {
    /// Forks a start-pending service whose time has come.
    #[inline(never)]
    pub fn launch(&mut self, slot: usize) {
        let (ctl, service_end) = match self.control_pair(self.services.get(slot).control) {
            Ok(pair) => pair,
            Err((what, e)) => {
                self.log(Level::Error, &[what, e.map_or(b"", sys::strerror)]);
                return self.retry_later(slot);
            }
        };
        let stack = core::mem::take(&mut self.child_stack);
        let start = ChildStart {
            sup: self,
            slot,
            service_end,
        };
        let spawned = sys::spawn_shared(stack, child_main, &start as *const ChildStart as usize);
        self.child_stack = stack;
        // The child ran cold code in our address space.
        sys::cold_ran();
        match spawned {
            Ok(pid) => {
                sys::close(service_end);
                self.services.get_mut(slot).forked(pid, self.now);
                self.pending_starts -= 1;
                self.broadcast_state(slot);
            }
            Err(e) => {
                sys::close(service_end);
                if let Some(c) = ctl {
                    self.ctl[c].close();
                }
                self.log(Level::Error, &[b"fork failed: ", sys::strerror(e)]);
                self.retry_later(slot);
            }
        }
    }

    fn retry_later(&mut self, slot: usize) {
        self.log(Level::Info, &[b"will retry in 3 seconds"]);
        let at = self.now.wrapping_add(RETRY_DELAY);
        let _ = self.services.get_mut(slot).request_start(at);
        self.broadcast_state(slot);
    }

    /// Sets up a controller slot and a socketpair for a service using
    /// `control.*` (§8.5); returns (the slot, the service's end), or (None,
    /// -1) for a service that uses none. Err names what failed.
    fn control_pair(&mut self, control: u8) -> Result<(Option<usize>, Fd), StepFailed> {
        if control == 0 {
            return Ok((None, -1));
        }
        let Some(c) = self.free_slot() else {
            return Err((b"can't allocate controller object", None));
        };
        let (ours, theirs) = sys::socketpair(Domain::Unix, SockType::Stream)
            .map_err(|e| (&b"socketpair: "[..], Some(e)))?;
        let reads = control & (service::CTL_CMD | service::CTL_SOCKET) != 0;
        let events = control & (service::CTL_EVENT | service::CTL_SOCKET) != 0;
        if control & service::CTL_SOCKET == 0 {
            sys::shutdown(ours, !reads, !events);
            sys::shutdown(theirs, !events, !reads);
        }
        self.ctl[c].open(
            CtlKind::Service,
            if reads { ours } else { -1 },
            if events { ours } else { -1 },
        );
        // Its input is a socket: read with recvmsg, so that fd.take works
        // for the service as for a socket client (§4.11).
        self.ctl[c].is_socket = true;
        Ok((Some(c), theirs))
    }

    /// In the child: build the plan from the (shared, unchanging) state,
    /// then exec. It runs on the child stack, so no stack holds a plan.
    #[inline(never)]
    #[cold]
    fn child(&self, slot: usize, service_end: Fd) -> ! {
        let mut plan = Plan {
            argv_text: [0; 1100],
            argv: [core::ptr::null(); MAX_LIST + 1],
            fds: [-1; MAX_LIST],
            nfds: 0,
            empties: 0,
            missing: Buf::new(),
            log_fd: self.log.fd(),
        };
        self.prepare(slot, service_end, &mut plan);
        exec_child(&mut plan)
    }

    #[cold]
    fn prepare(&self, slot: usize, service_end: Fd, plan: &mut Plan) {
        let args = self.services.var(slot, Var::Args);
        let n = args.len().min(plan.argv_text.len() - 1);
        plan.argv_text[..n].copy_from_slice(&args[..n]);
        // No args make one empty one: exec("") fails and the child exits
        // 3, as the original.
        sys::split_argv(&mut plan.argv_text, n, &mut plan.argv);
        let svc = self.services.get(slot);
        let list: &[u8] = if svc.fds_default {
            b"null\tnull\tnull"
        } else {
            self.services.var(slot, Var::Fds)
        };
        if list.is_empty() {
            return;
        }
        for name in Fields::new(Some(list)) {
            if plan.nfds == MAX_LIST {
                break;
            }
            let fd = match name {
                b"" => {
                    plan.empties += 1;
                    continue;
                }
                b"-" => -1,
                b"control.cmd" | b"control.event" | b"control.socket" => service_end,
                _ => match self.fds.fd_of(name) {
                    Some(fd) => fd,
                    None => {
                        if plan.missing.is_empty() {
                            plan.missing.s(name);
                        }
                        -1
                    }
                },
            };
            plan.fds[plan.nfds] = fd;
            plan.nfds += 1;
        }
    }
}

/// What the child needs to find its service.
struct ChildStart {
    sup: *const Supervisor,
    slot: usize,
    service_end: Fd,
}

/// The child's entry point, on the child stack (see `sys::spawn_shared`).
#[cold]
extern "C" fn child_main(arg: usize) -> ! {
    // SAFETY: `arg` is the ChildStart on the parent's stack, and the parent
    // is suspended (CLONE_VFORK) until this process execs or exits, so the
    // supervisor it points to does not change while the child reads it.
    let start = unsafe { &*(arg as *const ChildStart) };
    let sup = unsafe { &*start.sup };
    sup.child(start.slot, start.service_end)
}

/// Logs from the child. The daemon waits until the child execs, so a write
/// that blocks (a full log pipe, a stopped terminal) would stop the daemon
/// too: a record that cannot be written at once is dropped.
#[cold]
fn child_log(fd: Fd, parts: &[&[u8]]) {
    let mut probe = [sys::PollEntry::new(fd, false, true)];
    sys::poll(&mut probe, 0);
    if probe[0].writable() {
        exit::write_record(fd, 256, parts);
    }
}

/// Position `k` of the fds list could not be put in place (out of
/// descriptors, or a list longer than RLIMIT_NOFILE allows). Rather than
/// run the service without it, the child fails as a failed exec does
/// (§6.3 step 5).
#[cold]
fn fd_setup_failed(log_fd: Fd, k: usize) -> ! {
    let e = Errno::from_raw_os_error(sys::errno_get());
    let mut num = [0u8; 20];
    child_log(
        log_fd,
        &[
            cold!(b"error: can't set up file descriptor "),
            crate::fmt::fmt_u64(k as u64, &mut num),
            b": ",
            sys::strerror(e),
        ],
    );
    sys::exit_now(3)
}

/// The child: reset signals, lay out descriptors, exec (§6.3).
#[cold]
fn exec_child(plan: &mut Plan) -> ! {
    exit::reset_handlers();
    for _ in 0..plan.empties {
        child_log(
            plan.log_fd,
            &[cold!(b"warning: ignoring zero-length file descriptor name")],
        );
    }
    if !plan.missing.is_empty() {
        child_log(
            plan.log_fd,
            &[
                cold!(b"error: file descriptor \""),
                plan.missing.as_bytes(),
                cold!(b"\" does not exist"),
            ],
        );
        sys::abort();
    }
    let n = plan.nfds;
    for k in 0..n {
        let src = plan.fds[k];
        if src >= 0 && (src as usize) < n {
            plan.fds[k] = sys::child_dup_above(src, n as Fd);
            if plan.fds[k] < 0 {
                fd_setup_failed(plan.log_fd, k);
            }
        }
    }
    for k in 0..n {
        if plan.fds[k] >= 0 {
            if !sys::dup2_inheritable(plan.fds[k], k as Fd) {
                fd_setup_failed(2, k);
            }
        } else {
            sys::close(k as Fd);
        }
    }
    sys::close_from(n as Fd);
    let e = sys::execvp(&plan.argv);
    let argv0 = sys::cstr_bytes(plan.argv[0]);
    // To the service's own fd 2 (§6.3): the log's descriptor is gone.
    child_log(
        2,
        &[
            cold!(b"error: exec("),
            argv0,
            cold!(b", ...) failed: "),
            sys::strerror(e),
        ],
    );
    sys::exit_now(3)
}
