//! The control socket (§8.6): the listener, its path, and admitting the
//! connections it accepts as controllers.

use crate::controller::Kind as CtlKind;
use crate::errtext;
use crate::fmt::Buf;
use crate::log::Level;
use crate::supervisor::Supervisor;
use crate::sys::{self, Domain, Errno, Fd, PollEntry, SockType};
use crate::time::{Dur, Mono};

/// The listening control socket, its path, and who besides uid 0 and the
/// daemon's own uid may connect.
pub struct Listener {
    /// The socket, once it listens.
    fd: Option<Fd>,
    path: Buf<108>,
    /// A uid and a group admitted besides (`--socket-admit`).
    admit_uid: Option<u32>,
    admit_gid: Option<u32>,
    /// accept() failed for want of descriptors: the listener is left alone
    /// until the retry time.
    backoff: bool,
}

impl Listener {
    /// No socket yet; `--socket-admit`'s uid and group.
    pub const fn new(admit_uid: Option<u32>, admit_gid: Option<u32>) -> Listener {
        Listener {
            fd: None,
            path: Buf::new(),
            admit_uid,
            admit_gid,
            backoff: false,
        }
    }

    /// The listening socket, if there is one.
    pub fn fd(&self) -> Option<Fd> {
        self.fd
    }
}

/// Retry interval for a pending control-socket connection with no slot.
const ACCEPT_RETRY: Dur = Dur::from_secs(5);

/// The control socket step whose failure is logged with the path.
const CONTROL_BIND: &[u8] = b"bind(control_socket, ";

impl Supervisor {
    /// The listener waits for the retry time instead of poll: no slot is
    /// free, or accept failed for want of descriptors.
    pub(crate) fn accept_held(&self) -> bool {
        self.free_slot().is_none() || self.listener.backoff
    }
    /// Accepts one control-socket connection if a slot is free; returns the
    /// time to retry when none is, or when accept failed.
    pub(crate) fn accept(&mut self) -> Mono {
        self.listener.backoff = false;
        let Some(listener) = self.listener.fd else {
            return Mono::ZERO;
        };
        let Some(i) = self.free_slot() else {
            let mut probe = [PollEntry::new(listener, true, false)];
            sys::poll(&mut probe, 0);
            if probe[0].readable() {
                // "accpet": the original's spelling, kept on purpose (the
                // log is compatible with the C daemonproxy's).
                self.log(
                    Level::Warning,
                    &[b"No free controllers to accpet socket connection"],
                );
            }
            return self.now + ACCEPT_RETRY;
        };
        match sys::accept(listener) {
            Ok(fd) if !self.admitted(fd) => sys::close(fd),
            Ok(fd) => {
                self.ctl[i].open(CtlKind::Socket, Some(fd), Some(fd));
                self.ctl[i].is_socket = true;
            }
            Err(Errno::AGAIN | Errno::INTR | Errno::CONNABORTED) => {}
            // Out of descriptors (EMFILE, ENFILE) or memory: the connection
            // stays pending and the listener readable, so polling it again
            // at once would spin. Retry later instead.
            Err(e) => {
                self.log(
                    Level::Error,
                    &[b"accept(control_socket): ", errtext::strerror(e)],
                );
                self.listener.backoff = true;
                return self.now + ACCEPT_RETRY;
            }
        }
        Mono::ZERO
    }

    /// May the peer of an accepted connection control the daemon? A
    /// controller can do anything root can, so by default only uid 0 and
    /// the daemon's own uid may; `--socket-admit` admits
    /// one more uid and the members of a group (by the peer's gid). A
    /// refused peer is logged. Cold, as connections are rare.
    #[cold]
    #[inline(never)]
    fn admitted(&mut self, fd: sys::Fd) -> bool {
        sys::cold_ran();
        // Unknown credentials are nobody's: refused, as uid 4294967295.
        let (pid, uid, gid) = sys::peer_cred(fd).unwrap_or((0, u32::MAX, u32::MAX));
        if uid == 0
            || uid == sys::geteuid()
            || Some(uid) == self.listener.admit_uid
            || Some(gid) == self.listener.admit_gid
        {
            return true;
        }
        let mut n = [0u8; 20];
        self.log_numbered(
            Level::Warning,
            b"control socket: refused a connection from pid ",
            pid as usize,
            &[b", uid ", crate::fmt::fmt_u64(uid as u64, &mut n)],
        );
        false
    }
    /// Stops the control socket: close it and remove its path.
    #[cold]
    pub fn delete_control_socket(&mut self) {
        sys::cold_ran();
        if let Some(fd) = self.listener.fd.take() {
            sys::close(fd);
            let path = core::mem::take(&mut self.listener.path);
            let _ = self.remove_socket(path.as_bytes());
        }
    }

    /// Removes a socket of ours at `path`, logging it (§8.6). Err(uid) when
    /// the socket there belongs to another user: not ours to remove.
    #[cold]
    fn remove_socket(&mut self, path: &[u8]) -> core::result::Result<(), u32> {
        let Ok((true, uid)) = sys::lstat_socket_owner(path) else {
            return Ok(());
        };
        if uid != sys::geteuid() {
            return Err(uid);
        }
        match sys::unlink(path) {
            Ok(()) => self.log(Level::Info, &[b"Unlinked control socket ", path]),
            Err(e) => self.log(
                Level::Error,
                &[b"Can't unlink control socket: ", errtext::strerror(e)],
            ),
        }
        Ok(())
    }

    /// Listens on a unix socket at `path` for controllers (§8.6), in place
    /// of the current one; failures are logged. A path that cannot be bound
    /// leaves the current socket working.
    #[cold]
    pub fn create_control_socket(&mut self, path: &[u8]) -> bool {
        sys::cold_ran();
        let r = match path.len() {
            0 => Err((CONTROL_BIND, Errno::INVAL)),
            108.. => Err((CONTROL_BIND, Errno::NAMETOOLONG)),
            _ => {
                self.delete_control_socket();
                if let Err(uid) = self.remove_socket(path) {
                    let mut n = [0u8; 20];
                    let n = crate::fmt::fmt_u64(uid as u64, &mut n);
                    self.log(
                        Level::Error,
                        &[
                            b"control socket ",
                            path,
                            b" belongs to uid ",
                            n,
                            b", not replacing it",
                        ],
                    );
                    return false;
                }
                listen_control(path)
            }
        };
        match r {
            Ok(fd) => {
                self.listener.fd = Some(fd);
                self.listener.path.clear();
                self.listener.path.bytes(path);
                true
            }
            Err((what, e)) => {
                let (path, colon): (&[u8], &[u8]) = if what == CONTROL_BIND {
                    (path, b": ")
                } else {
                    (b"", b"")
                };
                self.log(Level::Error, &[what, path, colon, errtext::strerror(e)]);
                false
            }
        }
    }
}

/// The control socket's steps; Err names the failed one.
#[cold]
fn listen_control(path: &[u8]) -> core::result::Result<sys::Fd, (&'static [u8], Errno)> {
    let fd = sys::socket(Domain::Unix, SockType::Stream).map_err(|e| (&b"socket: "[..], e))?;
    let r = sys::bind_unix(fd, path)
        .map_err(|e| (CONTROL_BIND, e))
        .and_then(|_| sys::listen(fd, 2).map_err(|e| (&b"listen(control_socket): "[..], e)))
        .and_then(|_| {
            sys::set_nonblock(fd, true)
                .map_err(|e| (&b"fcntl(control_socket, O_NONBLOCK): "[..], e))
        });
    if r.is_err() {
        sys::close(fd);
    }
    r.map(|_| fd)
}
