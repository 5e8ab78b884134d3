//! The control socket (§8.6): the listener, its path, and admitting the
//! connections it accepts as controllers.

use crate::log::Level;
use crate::supervisor::Supervisor;
use crate::sys::{self, Domain, Errno, SockType};

/// The control socket step whose failure is logged with the path.
const CONTROL_BIND: &[u8] = b"bind(control_socket, ";

impl Supervisor {
    /// Stops the control socket: close it and remove its path.
    #[cold]
    pub fn delete_control_socket(&mut self) {
        sys::cold_ran();
        if self.ctl_socket >= 0 {
            sys::close(self.ctl_socket);
            self.ctl_socket = -1;
            let path = core::mem::take(&mut self.ctl_socket_path);
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
                &[b"Can't unlink control socket: ", sys::strerror(e)],
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
                self.ctl_socket = fd;
                self.ctl_socket_path.clear();
                self.ctl_socket_path.s(path);
                true
            }
            Err((what, e)) => {
                let (path, colon): (&[u8], &[u8]) = if what == CONTROL_BIND {
                    (path, b": ")
                } else {
                    (b"", b"")
                };
                self.log(Level::Error, &[what, path, colon, sys::strerror(e)]);
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
