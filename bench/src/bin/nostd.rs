//! What the minimal programs share: a panic handler that aborts, the C
//! library linked statically, and a loop that writes a whole buffer.

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort never returns.
    unsafe { libc::abort() }
}

#[cfg(not(test))]
#[link(name = "c", kind = "static")]
unsafe extern "C" {}

/// Writes all of `buf` to stdout; false when a write fails.
#[allow(dead_code)] // Not every program writes.
pub fn write_all(mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::write(1, buf.as_ptr().cast(), buf.len()) };
        if n <= 0 {
            return false;
        }
        buf = &buf[n as usize..];
    }
    true
}
