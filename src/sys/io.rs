//! Descriptors, files and pipes, and poll(2).

use core::ffi::c_int;

use rustix::fd::OwnedFd;

use super::{Errno, Fd, PATH_MAX, Res, borrow, cpath};

/// write(2).
pub fn write(fd: Fd, buf: &[u8]) -> Res<usize> {
    rustix::io::write(borrow(fd), buf)
}

/// read(2).
pub fn read(fd: Fd, buf: &mut [u8]) -> Res<usize> {
    rustix::io::read(borrow(fd), buf)
}

/// Writes all of `buf`, retrying on partial writes and EINTR; for startup
/// messages and the child's last words, where blocking is acceptable.
#[cold]
pub fn write_all(fd: Fd, mut buf: &[u8]) {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return,
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(_) => return,
        }
    }
}

/// close(2); errors are meaningless here.
pub fn close(fd: Fd) {
    // SAFETY: the caller owns `fd` and forgets the number after this call.
    drop(unsafe { <OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(fd.raw()) });
}

/// fcntl(F_DUPFD_CLOEXEC, min).
#[cold]
pub fn dup_above(fd: Fd, min: Fd) -> Res<Fd> {
    rustix::io::fcntl_dupfd_cloexec(borrow(fd), min.raw()).map(Fd::owned)
}

/// Is `fd` an open descriptor? (fcntl F_GETFL succeeds)
#[cold]
pub fn is_open(fd: Fd) -> bool {
    rustix::fs::fcntl_getfl(borrow(fd)).is_ok()
}

/// Status flags of an open descriptor, as raw O_* bits.
pub fn status_flags(fd: Fd) -> Res<u32> {
    rustix::fs::fcntl_getfl(borrow(fd)).map(|f| f.bits())
}

/// Raw O_* bits the rest of the daemon looks at.
pub mod oflag {
    pub const ACCMODE: u32 = libc::O_ACCMODE as u32;
    pub const RDONLY: u32 = libc::O_RDONLY as u32;
    pub const WRONLY: u32 = libc::O_WRONLY as u32;
    pub const RDWR: u32 = libc::O_RDWR as u32;
    pub const APPEND: u32 = libc::O_APPEND as u32;
    pub const CREAT: u32 = libc::O_CREAT as u32;
    pub const TRUNC: u32 = libc::O_TRUNC as u32;
    pub const NONBLOCK: u32 = libc::O_NONBLOCK as u32;
}

/// Sets or clears O_NONBLOCK.
pub fn set_nonblock(fd: Fd, on: bool) -> Res<()> {
    let mut fl = rustix::fs::fcntl_getfl(borrow(fd))?;
    fl.set(rustix::fs::OFlags::NONBLOCK, on);
    rustix::fs::fcntl_setfl(borrow(fd), fl)
}

/// Sets or clears FD_CLOEXEC.
#[cold]
pub fn set_cloexec(fd: Fd, on: bool) -> Res<()> {
    let mut fl = rustix::io::fcntl_getfd(borrow(fd))?;
    fl.set(rustix::io::FdFlags::CLOEXEC, on);
    rustix::io::fcntl_setfd(borrow(fd), fl)
}

/// open(2) with O_NOCTTY|O_CLOEXEC added; `flags` are raw O_* bits.
#[inline(never)]
pub fn open(path: &[u8], flags: u32, mode: u32) -> Res<Fd> {
    let fl = rustix::fs::OFlags::from_bits_retain(flags)
        | rustix::fs::OFlags::NOCTTY
        | rustix::fs::OFlags::CLOEXEC;
    let mut buf = [0; PATH_MAX + 1];
    rustix::fs::open(
        cpath(path, &mut buf)?,
        fl,
        rustix::fs::Mode::from_raw_mode(mode),
    )
    .map(Fd::owned)
}

/// open("/dev/null", O_RDWR|O_NOCTTY|O_CLOEXEC), without a path copy.
#[cold]
pub fn open_dev_null() -> Res<Fd> {
    let fl = rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC;
    rustix::fs::open(c"/dev/null", fl, rustix::fs::Mode::empty()).map(Fd::owned)
}

/// mkdir(2).
#[inline(never)]
pub fn mkdir(path: &[u8], mode: u32) -> Res<()> {
    let mut buf = [0; PATH_MAX + 1];
    rustix::fs::mkdir(
        cpath(path, &mut buf)?,
        rustix::fs::Mode::from_raw_mode(mode),
    )
}

/// unlink(2).
#[inline(never)]
pub fn unlink(path: &[u8]) -> Res<()> {
    let mut buf = [0; PATH_MAX + 1];
    rustix::fs::unlink(cpath(path, &mut buf)?)
}

/// stat(2): does the path exist?
#[cold]
#[inline(never)]
pub fn exists(path: &[u8]) -> bool {
    let mut buf = [0; PATH_MAX + 1];
    cpath(path, &mut buf).and_then(rustix::fs::stat).is_ok()
}

/// What lstat(2) says about a path: (is a socket, owner uid).
#[inline(never)]
#[cold]
pub fn lstat_socket_owner(path: &[u8]) -> Res<(bool, u32)> {
    let mut buf = [0; PATH_MAX + 1];
    let st = rustix::fs::lstat(cpath(path, &mut buf)?)?;
    let is_sock = rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Socket;
    Ok((is_sock, st.st_uid))
}

/// A pipe, both ends close-on-exec.
pub fn pipe(nonblock: bool) -> Res<(Fd, Fd)> {
    let mut fl = rustix::pipe::PipeFlags::CLOEXEC;
    if nonblock {
        fl |= rustix::pipe::PipeFlags::NONBLOCK;
    }
    let (r, w) = rustix::pipe::pipe_with(fl)?;
    Ok((Fd::owned(r), Fd::owned(w)))
}

/// One entry of a poll set: libc's `struct pollfd`, so the set goes to
/// poll(2) as it is.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct PollEntry(libc::pollfd);

const POLL_BAD: i16 = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;

impl PollEntry {
    /// An entry poll skips (a negative descriptor).
    pub const NONE: PollEntry = PollEntry(libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    });

    /// An entry watching `fd` for readability and/or writability.
    pub const fn new(fd: Fd, read: bool, write: bool) -> PollEntry {
        let mut events = 0;
        if read {
            events |= libc::POLLIN;
        }
        if write {
            events |= libc::POLLOUT;
        }
        PollEntry(libc::pollfd {
            fd: fd.raw(),
            events,
            revents: 0,
        })
    }

    /// After `poll`: readability was asked for, and the descriptor is
    /// readable, hung up or in error.
    pub fn readable(&self) -> bool {
        self.0.events & libc::POLLIN != 0 && self.0.revents & (libc::POLLIN | POLL_BAD) != 0
    }

    /// After `poll`: writability was asked for, and the descriptor is
    /// writable or in error.
    pub fn writable(&self) -> bool {
        self.0.events & libc::POLLOUT != 0 && self.0.revents & (libc::POLLOUT | POLL_BAD) != 0
    }

    /// After `poll`: hung up or in error.
    pub fn hup(&self) -> bool {
        self.0.revents & POLL_BAD != 0
    }
}

/// Most entries one `poll` call watches.
pub const POLL_MAX: usize = 8;

/// poll(2) over the entries of `set` that name a descriptor (at most
/// `POLL_MAX`), with a timeout in milliseconds (negative: forever); when it
/// fails, nothing is reported ready.
///
/// Only those entries go to the kernel: it refuses (EINVAL) a set longer
/// than RLIMIT_NOFILE, skipped entries included, and a loop whose every
/// poll fails would spin without reading anything. If poll fails all the
/// same (the limit lowered under the daemon's feet, no memory), the call
/// sleeps out its timeout, up to a second, instead of returning at once.
pub fn poll(set: &mut [PollEntry], timeout_ms: i64) {
    let timeout = timeout_ms.clamp(-1, c_int::MAX as i64) as c_int;
    let mut live = [PollEntry::NONE; POLL_MAX];
    let mut n = 0;
    for e in set.iter() {
        if e.0.fd >= 0 && n < POLL_MAX {
            live[n] = *e;
            n += 1;
        }
    }
    // SAFETY: PollEntry is a struct pollfd, and `live` holds n of them.
    let r = unsafe { libc::poll(live.as_mut_ptr().cast(), n as libc::nfds_t, timeout) };
    let mut k = 0;
    for e in set.iter_mut() {
        e.0.revents = 0;
        if e.0.fd >= 0 && k < n {
            if r > 0 {
                e.0.revents = live[k].0.revents;
            }
            k += 1;
        }
    }
    if r < 0 && Errno::from_raw_os_error(super::errno_get()) != Errno::INTR {
        super::sleep_ms(if timeout < 0 { 1000 } else { timeout.min(1000) } as u64);
    }
}

/// sync(2).
#[cold]
pub fn sync() {
    rustix::fs::sync();
}
