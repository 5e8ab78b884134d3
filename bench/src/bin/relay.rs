//! The I/O limit: a bare line relay. It reads stdin and writes every
//! complete line back to stdout, as fast as two syscalls per chunk allow.
//! The benchmark drives it over the same pipes as the daemon.
//!
//! `relay poll` first waits in poll() for stdin and for a second pipe (that
//! never becomes readable) before each read, as an event loop must when it
//! watches more than one descriptor: the least a supervisor, which also
//! waits for signals and children, pays for a round trip.

// Under `cargo test` (clippy --all-targets) the C entry point is not built.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code, unused_imports))]

/// Read size: the protocol's receive buffer (§3.3), so both sides move the
/// same chunks and the ratio shows the per-line cost.
const CHUNK: usize = 1024;

mod nostd;

/// Entry point called by the C runtime.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn main(argc: core::ffi::c_int, _argv: *const *const u8) -> core::ffi::c_int {
    let mut buf = [0u8; CHUNK];
    let mut len = 0;
    // Any argument selects the poll mode.
    let mut other = [-1; 2];
    // SAFETY: other has room for two descriptors.
    if argc > 1 && unsafe { libc::pipe(other.as_mut_ptr()) } != 0 {
        return 1;
    }
    loop {
        if other[0] >= 0 {
            let mut fds = [0, other[0]].map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
            // SAFETY: fds is valid for its length.
            unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        }
        let space = &mut buf[len..];
        // SAFETY: space is valid for its length.
        let n = unsafe { libc::read(0, space.as_mut_ptr().cast(), space.len()) };
        if n <= 0 {
            return 0;
        }
        len += n as usize;
        // Complete lines go out; a partial one waits (unless it fills the
        // buffer, then it goes out as it is).
        let end = match buf[..len].iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if len == CHUNK => len,
            None => continue,
        };
        if !nostd::write_all(&buf[..end]) {
            return 1;
        }
        buf.copy_within(end..len, 0);
        len -= end;
    }
}
