//! The syscall seam: the only module that talks to rustix and libc.

#![allow(unsafe_code)]

use core::ffi::{CStr, c_char, c_int};

use rustix::fd::{AsRawFd, BorrowedFd, OwnedFd};
pub use rustix::io::Errno;

/// A raw descriptor number.
pub type Fd = i32;

/// Standard output.
pub const STDOUT: Fd = 1;
/// Standard error.
pub const STDERR: Fd = 2;

fn bfd<'a>(fd: Fd) -> BorrowedFd<'a> {
    // SAFETY: callers pass descriptors that stay open during the call.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// Milliseconds of CLOCK_MONOTONIC, through musl (whose vDSO lookup is
/// linked anyway).
pub fn now_ms() -> i64 {
    // SAFETY: all-zero is a valid timespec (plain integers, and private
    // padding where 32-bit musl has a 64-bit time_t).
    let mut ts: libc::timespec = unsafe { core::mem::zeroed() };
    // SAFETY: a valid out pointer; CLOCK_MONOTONIC cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000) as i64
}

/// socket(AF_UNIX, SOCK_STREAM) connected to `path`.
pub fn connect_unix(path: &[u8]) -> Result<Fd, Errno> {
    let mut buf = [0u8; 109];
    if path.is_empty() || path.len() >= buf.len() - 1 || path.contains(&0) {
        return Err(Errno::NAMETOOLONG);
    }
    buf[..path.len()].copy_from_slice(path);
    let cpath = CStr::from_bytes_until_nul(&buf).map_err(|_| Errno::INVAL)?;
    let addr = rustix::net::SocketAddrUnix::new(cpath)?;
    let sock = rustix::net::socket_with(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::STREAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )?;
    loop {
        match rustix::net::connect(&sock, &addr) {
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
            Ok(()) => break,
        }
    }
    let fd = sock.as_raw_fd();
    core::mem::forget::<OwnedFd>(sock);
    Ok(fd)
}

/// read(2), retried on EINTR.
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        match rustix::io::read(bfd(fd), &mut *buf) {
            Err(Errno::INTR) => {}
            r => return r,
        }
    }
}

/// Writes all of `buf` (blocking).
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match rustix::io::write(bfd(fd), buf) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// poll(2) for input on `fd`, at most `ms` milliseconds (-1: no limit).
/// True when `fd` is readable (or at EOF or in error).
pub fn wait_readable(fd: Fd, ms: i64) -> Result<bool, Errno> {
    let mut fds = [rustix::event::PollFd::from_borrowed_fd(
        bfd(fd),
        rustix::event::PollFlags::IN,
    )];
    let ts;
    let timeout = if ms < 0 {
        None
    } else {
        ts = rustix::event::Timespec {
            tv_sec: ms / 1000,
            tv_nsec: (ms % 1000 * 1_000_000) as _,
        };
        Some(&ts)
    };
    match rustix::event::poll(&mut fds, timeout) {
        Ok(n) => Ok(n > 0),
        Err(Errno::INTR) => Ok(false),
        Err(e) => Err(e),
    }
}

/// getpid(2).
pub fn getpid() -> u32 {
    rustix::process::getpid().as_raw_nonzero().get() as u32
}

/// The value of environment variable `name`.
pub fn getenv(name: &CStr) -> Option<&'static [u8]> {
    // SAFETY: getenv returns NULL or a string that lives as long as the
    // process (nothing here changes the environment).
    let p = unsafe { libc::getenv(name.as_ptr()) };
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// The C library's text for an errno value.
pub fn strerror(e: Errno) -> &'static [u8] {
    // SAFETY: musl's strerror returns a static string for every number.
    unsafe { CStr::from_ptr(libc::strerror(e.raw_os_error())) }.to_bytes()
}

/// _exit(2): nothing is buffered outside `out`, which the caller flushed.
pub fn exit(code: i32) -> ! {
    // SAFETY: ends the process.
    unsafe { libc::_exit(code) }
}

/// `len` bytes of zeroed memory that live for the rest of the process
/// (anonymous, reserved lazily: only touched pages cost memory).
pub fn scratch(len: usize) -> Result<&'static mut [u8], Errno> {
    use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous};
    // SAFETY: a fresh private mapping, not aliased, never unmapped.
    unsafe {
        let p = mmap_anonymous(
            core::ptr::null_mut(),
            len,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE | MapFlags::NORESERVE,
        )?;
        Ok(core::slice::from_raw_parts_mut(p.cast::<u8>(), len))
    }
}

/// The command line as the C runtime passed it.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
}

impl Args {
    /// Wraps `main`'s arguments.
    ///
    /// # Safety
    /// `argv` must point to `argc` valid NUL-terminated strings that live
    /// for the rest of the process.
    pub unsafe fn new(argc: c_int, argv: *const *const c_char) -> Args {
        Args {
            argc: argc.max(0) as usize,
            argv,
        }
    }

    /// Number of arguments, the program name included.
    pub fn len(&self) -> usize {
        self.argc
    }

    /// Argument `i`.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        // SAFETY: i < argc, and the strings live as long as the process.
        (i < self.argc).then(|| unsafe { CStr::from_ptr(*self.argv.add(i)) }.to_bytes())
    }
}
