//! Launching a service (§6.2, §6.3): the controller socketpair, the argv
//! and descriptor plan prepared in the parent, and the child's last steps.

use core::ffi::c_char;

use crate::controller::Kind as CtlKind;
use crate::errtext;
use crate::exit;
use crate::fmt::Buf;
use crate::log::Level;
use crate::proto::Fields;
use crate::service::{self, Var};
use crate::supervisor::Supervisor;
use crate::sys::{self, Domain, Errno, Fd, SockType};

/// Longest argv or fd list a 1023-byte command line can produce.
const MAX_LIST: usize = 512;
const RETRY_DELAY: crate::time::Dur = crate::time::Dur::from_secs(3);

/// A step that failed and its errno, if it has one.
type StepFailed = (&'static [u8], Option<Errno>);

/// What the child needs, prepared before fork so the child only copies.
struct Plan {
    argv_text: [u8; 1100],
    argv: [*const c_char; MAX_LIST + 1],
    fds: [Option<Fd>; MAX_LIST],
    nfds: usize,
    empties: usize,
    missing: Buf<32>,
    log_fd: Option<Fd>,
    /// The log filter lets error records through (§10.1).
    log_errors: bool,
    /// ... and warnings.
    log_warnings: bool,
}

impl Supervisor {
    /// Forks a start-pending service whose time has come.
    #[inline(never)]
    pub fn launch(&mut self, slot: usize) {
        let (ctl, service_end) = match self.control_pair(self.services.get(slot).control) {
            Ok(pair) => pair,
            Err((what, e)) => {
                self.log(Level::Error, &[what, e.map_or(b"", errtext::strerror)]);
                return self.retry_later(slot);
            }
        };
        // A plain fork: the daemon never waits for the child, whatever
        // its exec does (a program on a hung network or FUSE mount blocks
        // only the child). No handler may run in the child before it has
        // reset them: it would act for the daemon.
        let mask = sys::block_all();
        let spawned = sys::fork();
        if spawned == Ok(0) {
            self.child(slot, service_end);
        }
        sys::set_mask(&mask);
        if let Some(fd) = service_end {
            sys::close(fd);
        }
        match spawned {
            Ok(pid) => {
                self.services.forked(slot, pid, self.now);
                exit::note_running(slot, pid, self.services.get(slot).name.as_bytes());
                // The fork ran cold code (the child's side, in this
                // address space until it execs); let it go again before
                // the loop sleeps.
                sys::cold_ran();
                self.broadcast_state(slot);
            }
            Err(e) => {
                if let Some(c) = ctl {
                    self.ctl[c].close();
                }
                self.log(Level::Error, &[b"fork failed: ", errtext::strerror(e)]);
                self.retry_later(slot);
            }
        }
    }

    fn retry_later(&mut self, slot: usize) {
        self.log(Level::Info, &[b"will retry in 3 seconds"]);
        let at = self.now + RETRY_DELAY;
        let _ = self.services.request_start(slot, at);
        self.broadcast_state(slot);
    }

    /// Sets up a controller slot and a socketpair for a service using
    /// `control.*` (§8.5); returns (the slot, the service's end), or (None,
    /// None) for a service that uses none. Err names what failed.
    fn control_pair(&mut self, control: u8) -> Result<(Option<usize>, Option<Fd>), StepFailed> {
        if control == 0 {
            return Ok((None, None));
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
            Some(ours).filter(|_| reads),
            Some(ours).filter(|_| events),
        );
        // Its input is a socket: read with recvmsg, so that fd.take works
        // for the service as for a socket client (§4.11).
        self.ctl[c].is_socket = true;
        Ok((Some(c), Some(theirs)))
    }

    /// In the child: build the plan from its copy of the state, then exec.
    #[inline(never)]
    #[cold]
    fn child(&self, slot: usize, service_end: Option<Fd>) -> ! {
        let mut plan = Plan {
            argv_text: [0; 1100],
            argv: [core::ptr::null(); MAX_LIST + 1],
            fds: [None; MAX_LIST],
            nfds: 0,
            empties: 0,
            missing: Buf::new(),
            log_fd: self.log.fd(),
            log_errors: self.log.enabled(Level::Error),
            log_warnings: self.log.enabled(Level::Warning),
        };
        self.prepare(slot, service_end, &mut plan);
        exec_child(&mut plan, self.services.get(slot).name.as_bytes())
    }

    #[cold]
    fn prepare(&self, slot: usize, service_end: Option<Fd>, plan: &mut Plan) {
        let args = self.services.var(slot, Var::Args);
        let n = args.len().min(plan.argv_text.len() - 1);
        plan.argv_text[..n].copy_from_slice(&args[..n]);
        // No args make one empty one: exec("") fails and the child exits
        // 3, as the original.
        crate::spawn::split_argv(&mut plan.argv_text, n, &mut plan.argv);
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
                b"-" => None,
                b"control.cmd" | b"control.event" | b"control.socket" => service_end,
                _ => match self.fds.named_fd(name) {
                    Some(fd) => fd,
                    None => {
                        if plan.missing.is_empty() {
                            plan.missing.bytes(name);
                        }
                        None
                    }
                },
            };
            plan.fds[plan.nfds] = fd;
            plan.nfds += 1;
        }
    }
}

/// Logs from the child. A write that blocks (a full log pipe, a stopped
/// terminal) would hold the service back from its exec: a record that
/// cannot be written at once is dropped.
#[cold]
fn child_log(fd: Option<Fd>, parts: &[&[u8]]) {
    let Some(fd) = fd else {
        return;
    };
    let mut probe = [sys::PollEntry::new(fd, false, true)];
    sys::poll(&mut probe, 0);
    if probe[0].writable() {
        exit::write_record(Some(fd), 256, parts);
    }
}

/// Position `k` of the fds list could not be put in place (out of
/// descriptors, or a list longer than RLIMIT_NOFILE allows). Rather than
/// run the service without it, the child fails as a failed exec does
/// (§6.3 step 5).
#[cold]
fn fd_setup_failed(plan: &Plan, log_fd: Option<Fd>, k: usize, e: Errno) -> ! {
    let mut num = [0u8; 20];
    if plan.log_errors {
        child_log(
            log_fd,
            &[
                cold!(b"error: can't set up file descriptor "),
                crate::fmt::fmt_u64(k as u64, &mut num),
                b": ",
                errtext::strerror(e),
            ],
        );
    }
    sys::exit_now(3)
}

/// The child: reset signals, lay out descriptors, exec (§6.3). What it
/// logs follows the daemon's log filter at the fork.
#[cold]
fn exec_child(plan: &mut Plan, name: &[u8]) -> ! {
    exit::reset_handlers();
    if plan.log_warnings {
        for _ in 0..plan.empties {
            child_log(
                plan.log_fd,
                &[cold!(b"warning: ignoring zero-length file descriptor name")],
            );
        }
    }
    if !plan.missing.is_empty() {
        if plan.log_errors {
            child_log(
                plan.log_fd,
                &[
                    cold!(b"error: file descriptor \""),
                    plan.missing.as_bytes(),
                    cold!(b"\" does not exist"),
                ],
            );
        }
        sys::abort();
    }
    let n = plan.nfds;
    // The first number past the service's: n <= MAX_LIST.
    let above = Fd::low(n as u16);
    let among = |fd: Fd| (fd.raw() as usize) < n;
    for k in 0..n {
        if let Some(src) = plan.fds[k].filter(|&fd| among(fd)) {
            match sys::dup_above(src, above) {
                Ok(fd) => plan.fds[k] = Some(fd),
                Err(e) => fd_setup_failed(plan, plan.log_fd, k, e),
            }
        }
    }
    // The daemon's log stays open above the service's descriptors, closed
    // by a successful exec, to report a failed one there too: a copy when
    // its number is among the service's (a copy that fails is no loss).
    let log_fd = match plan.log_fd {
        Some(fd) if plan.log_errors && among(fd) => sys::dup_above(fd, above).ok(),
        Some(fd) if plan.log_errors => Some(fd),
        _ => None,
    };
    if let Some(fd) = log_fd {
        let _ = sys::set_cloexec(fd, true);
    }
    for k in 0..n {
        let target = Fd::low(k as u16);
        match plan.fds[k] {
            Some(src) => {
                if let Err(e) = sys::dup2_inheritable(src, target) {
                    fd_setup_failed(plan, log_fd.or(Some(Fd::STDERR)), k, e);
                }
            }
            None => sys::close(target),
        }
    }
    sys::close_from_except(above, log_fd);
    let e = sys::execvp(&plan.argv);
    let argv0 = sys::cstr_bytes(plan.argv[0]);
    if plan.log_errors {
        // To the service's own fd 2 (§6.3), as the original does ...
        child_log(
            Some(Fd::STDERR),
            &[
                cold!(b"error: exec("),
                argv0,
                cold!(b", ...) failed: "),
                errtext::strerror(e),
            ],
        );
        // ... and to the daemon's log, where a failure is seen even when
        // the service's fd 2 is /dev/null.
        child_log(
            log_fd,
            &[
                cold!(b"error: service '"),
                name,
                cold!(b"': exec "),
                argv0,
                b": ",
                errtext::strerror(e),
            ],
        );
    }
    sys::exit_now(3)
}

/// Splits `text[..len]` at its TABs, in place, into C strings (`text[len]`
/// ends the last one) and points `argv` at them, at most `argv.len() - 1`
/// of them, then NULL. Returns their number.
#[cold]
pub fn split_argv(text: &mut [u8], len: usize, argv: &mut [*const c_char]) -> usize {
    let mut argc = 0;
    let mut start = 0;
    for i in 0..=len {
        if i == len || text[i] == b'\t' {
            text[i] = 0;
            if argc + 1 < argv.len() {
                argv[argc] = text[start..].as_ptr().cast();
                argc += 1;
            }
            start = i + 1;
        }
    }
    argv[argc] = core::ptr::null();
    argc
}
