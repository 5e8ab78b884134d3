//! The parse bound: the line relay, except that it looks at each line as
//! any implementation of the protocol must. It finds the line's end, checks
//! that the line is an `echo`, and writes back only the argument text, as
//! the `echo` command does. It keeps no state and checks nothing else, so
//! no program that reads the commands can be faster: the gap between this
//! and the relay is the cost of looking at the lines at all.

// Under `cargo test` (clippy --all-targets) the C entry point is not built.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code, unused_imports))]

/// Read size: the protocol's receive buffer, as in the relay.
const CHUNK: usize = 1024;

mod nostd;

/// Copies `src` to the front of `dst`: up to 16 bytes as two overlapping
/// words, as musl's `memcpy` takes tens of cycles to start a short copy.
fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    let word = |d: &mut [u8], at: usize, w: usize| d[at..at + w].copy_from_slice(&src[at..at + w]);
    match n {
        0..4 => src.iter().zip(dst.iter_mut()).for_each(|(s, d)| *d = *s),
        4..8 => {
            word(dst, 0, 4);
            word(dst, n - 4, 4);
        }
        8..=16 => {
            word(dst, 0, 8);
            word(dst, n - 8, 8);
        }
        _ => dst[..n].copy_from_slice(src),
    }
}

/// Entry point called by the C runtime.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn main() -> core::ffi::c_int {
    let mut buf = [0u8; CHUNK];
    // Replies are never longer than the lines they answer.
    let mut out = [0u8; CHUNK];
    let mut len = 0;
    loop {
        let space = &mut buf[len..];
        // SAFETY: space is valid for its length.
        let n = unsafe { libc::read(0, space.as_mut_ptr().cast(), space.len()) };
        if n <= 0 {
            return 0;
        }
        len += n as usize;
        let (mut at, mut used) = (0, 0);
        for end in memchr::memchr_iter(b'\n', &buf[..len]) {
            let args = buf[at..end].strip_prefix(b"echo\t");
            if let Some(args) = args.filter(|a| !a.is_empty()) {
                copy(&mut out[used..], args);
                out[used + args.len()] = b'\n';
                used += args.len() + 1;
            }
            at = end + 1;
        }
        // A line that fills the buffer has no end: dropped, as too long.
        if at == 0 && len == CHUNK {
            at = len;
        }
        if used > 0 && !nostd::write_all(&out[..used]) {
            return 1;
        }
        buf.copy_within(at..len, 0);
        len -= at;
    }
}
