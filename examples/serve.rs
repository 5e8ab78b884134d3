//! `serve PROG [ARG...]`: a minimal socket-activated server for daemonproxy
//! services, in the spirit of tcpsvd and s6-ipcserverd.
//!
//! daemonproxy holds the listening socket (`fd.socket web tcp,listen *:80`)
//! and hands it to the service as fd 0 (`service.fds web web null stderr`).
//! `serve` accepts connections on fd 0 and runs PROG for each one with the
//! connection on fds 0 and 1, for example `serve /bin/httpd -i`. When the
//! service restarts, the socket stays open in daemonproxy, so no connection
//! is refused: clients wait in the listen backlog until `serve` is back.
//!
//! Each connection's environment carries `SERVE_PID` (this server's PID).

use std::env;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio, exit};
use std::thread;

fn main() {
    let mut args = env::args_os().skip(1);
    let Some(prog) = args.next() else {
        eprintln!("usage: serve PROG [ARG...]   (fd 0: a listening socket)");
        exit(2);
    };
    let args: Vec<_> = args.collect();
    let pid = std::process::id().to_string();
    loop {
        // SAFETY: accept(2) on fd 0 with no address buffer.
        let conn = unsafe { libc::accept4(0, std::ptr::null_mut(), std::ptr::null_mut(), 0) };
        if conn < 0 {
            let err = std::io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR | libc::ECONNABORTED | libc::EMFILE | libc::ENFILE) => continue,
                _ => {
                    eprintln!("serve: accept: {err}");
                    exit(1);
                }
            }
        }
        // SAFETY: accept returned a new descriptor that nothing else owns.
        let conn = unsafe { OwnedFd::from_raw_fd(conn) };
        let Ok(out) = conn.try_clone() else { continue };
        let child = Command::new(&prog)
            .args(&args)
            .env("SERVE_PID", &pid)
            .stdin(Stdio::from(conn))
            .stdout(Stdio::from(out))
            .spawn();
        match child {
            // Reap each handler without blocking the accept loop.
            Ok(mut child) => {
                thread::spawn(move || child.wait());
            }
            Err(e) => eprintln!("serve: {}: {e}", prog.to_string_lossy()),
        }
    }
}
