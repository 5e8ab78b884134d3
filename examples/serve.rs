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
//!
//! Like the daemon, it is `no_std` on musl's C runtime, so it builds for
//! every target the daemon does with `core` alone (no std to build from
//! source where rustup has none).

#![no_std]
#![no_main]

use core::ffi::{CStr, c_char, c_int};
use core::ptr;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort(3) has no preconditions.
    unsafe { libc::abort() }
}

#[link(name = "c", kind = "static")]
unsafe extern "C" {}

/// Writes the pieces to stderr as one line.
fn complain(parts: &[&[u8]]) {
    let mut line = [0u8; 256];
    let mut n = 0;
    for p in parts.iter().chain([&b"\n"[..]].iter()) {
        let take = p.len().min(line.len() - n);
        line[n..n + take].copy_from_slice(&p[..take]);
        n += take;
    }
    // SAFETY: writes n initialized bytes of `line`.
    unsafe { libc::write(2, line.as_ptr().cast(), n) };
}

fn errno() -> c_int {
    // SAFETY: musl's errno location is valid for the calling thread.
    unsafe { *libc::__errno_location() }
}

fn strerror(e: c_int) -> &'static [u8] {
    // SAFETY: strerror returns a static string in musl.
    unsafe { CStr::from_ptr(libc::strerror(e)).to_bytes() }
}

/// Decimal digits of `v` at the end of `buf`, NUL-terminated.
fn decimal(mut v: u32, buf: &mut [u8; 12]) -> &CStr {
    let mut i = buf.len() - 1;
    buf[i] = 0;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    CStr::from_bytes_with_nul(&buf[i..]).unwrap_or(c"0")
}

/// Entry point called by the C runtime.
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    if argc < 2 {
        complain(&[b"usage: serve PROG [ARG...]   (fd 0: a listening socket)"]);
        return 2;
    }
    // SAFETY: the C runtime passes argc valid strings, NULL-terminated.
    let (prog_argv, prog) = unsafe { (argv.add(1), *argv.add(1)) };
    // SAFETY: prog is one of argv's strings.
    let prog_name = unsafe { CStr::from_ptr(prog) }.to_bytes();
    let mut pid_buf = [0u8; 12];
    // SAFETY: getpid has no preconditions.
    let pid = decimal(unsafe { libc::getpid() } as u32, &mut pid_buf);
    // SAFETY: both strings are NUL-terminated; only this thread runs.
    unsafe { libc::setenv(c"SERVE_PID".as_ptr(), pid.as_ptr(), 1) };
    // Finished handlers are reaped by the kernel (SA_NOCLDWAIT), so the
    // accept loop never waits; the flag does not survive exec.
    // SAFETY: a zeroed sigaction is SIG_DFL with an empty mask.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        sa.sa_flags = libc::SA_NOCLDWAIT;
        libc::sigaction(libc::SIGCHLD, &sa, ptr::null_mut());
    }
    loop {
        // SAFETY: accept(2) on fd 0 with no address buffer.
        let conn =
            unsafe { libc::accept4(0, ptr::null_mut(), ptr::null_mut(), libc::SOCK_CLOEXEC) };
        if conn < 0 {
            match errno() {
                libc::EINTR | libc::ECONNABORTED | libc::EMFILE | libc::ENFILE => continue,
                e => {
                    complain(&[b"serve: accept: ", strerror(e)]);
                    return 1;
                }
            }
        }
        // SAFETY: fork has no preconditions in a single-threaded process.
        match unsafe { libc::fork() } {
            0 => {
                // SAFETY: the child owns conn; prog_argv is argv from PROG
                // on, NULL-terminated.
                unsafe {
                    if libc::dup2(conn, 0) < 0 || libc::dup2(conn, 1) < 0 {
                        libc::_exit(126);
                    }
                    libc::execvp(prog, prog_argv);
                }
                complain(&[b"serve: ", prog_name, b": ", strerror(errno())]);
                // SAFETY: leaves the child without running exit handlers.
                unsafe { libc::_exit(127) }
            }
            -1 => complain(&[b"serve: fork: ", strerror(errno())]),
            _ => {}
        }
        // SAFETY: conn is ours and no longer needed here.
        unsafe { libc::close(conn) };
    }
}
