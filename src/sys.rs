//! The syscall seam: the only module that talks to rustix and libc.
//!
//! Everything above it works with raw descriptor numbers (`Fd`, an `i32`,
//! -1 meaning "none"), byte-string paths and `Errno`. Descriptors the daemon
//! opens are close-on-exec; services get theirs through `dup2` in the child.

use core::ffi::{CStr, c_char, c_int};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering::Relaxed};

use rustix::fd::{BorrowedFd, IntoRawFd, OwnedFd};
pub use rustix::io::Errno;

/// A raw descriptor number; -1 is "no descriptor".
pub type Fd = i32;
/// Result of a syscall wrapper.
pub type Res<T> = Result<T, Errno>;

/// Largest path we accept: a protocol line is at most 1023 bytes.
pub const PATH_MAX: usize = 1024;

fn bfd<'a>(fd: Fd) -> BorrowedFd<'a> {
    // SAFETY: callers pass descriptors the daemon owns and keeps open for the
    // duration of the call; rustix only uses the number.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

fn raw(fd: OwnedFd) -> Fd {
    fd.into_raw_fd()
}

/// Room for a NUL-terminated path.
type PathBuf = [u8; PATH_MAX + 1];

/// A NUL-terminated copy of `path` in `buf`; NAMETOOLONG when it does not
/// fit or has a NUL inside. One out-of-line copy for every path syscall.
#[inline(never)]
fn cpath<'b>(path: &[u8], buf: &'b mut PathBuf) -> Res<&'b CStr> {
    if path.len() > PATH_MAX || !path.iter().all(|&b| b != 0) {
        return Err(Errno::NAMETOOLONG);
    }
    buf[..path.len()].copy_from_slice(path);
    buf[path.len()] = 0;
    // SAFETY: the bytes up to and including index path.len() end in the
    // only NUL among them.
    Ok(unsafe { CStr::from_bytes_with_nul_unchecked(&buf[..=path.len()]) })
}

// ---------------------------------------------------------------- time ---

/// Monotonic time in 32.32 fixed point (seconds in the high half).
/// Through musl, whose vDSO lookup is linked anyway (rustix would bring a
/// second vDSO parser).
pub fn now() -> u64 {
    // SAFETY: a timespec is plain integers; zero is a valid value (its
    // fields and padding differ between 32- and 64-bit targets).
    let mut ts: libc::timespec = unsafe { core::mem::zeroed() };
    // SAFETY: a valid out pointer; CLOCK_MONOTONIC cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ((ts.tv_sec as u64) << 32) | (((ts.tv_nsec as u64) << 32) / 1_000_000_000)
}

// ------------------------------------------------------------- basic io ---

/// write(2).
pub fn write(fd: Fd, buf: &[u8]) -> Res<usize> {
    rustix::io::write(bfd(fd), buf)
}

/// read(2).
pub fn read(fd: Fd, buf: &mut [u8]) -> Res<usize> {
    rustix::io::read(bfd(fd), buf)
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
    if fd >= 0 {
        // SAFETY: the caller owns `fd` and forgets the number after this call.
        drop(unsafe { <OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(fd) });
    }
}

/// fcntl(F_DUPFD_CLOEXEC, min).
#[cold]
pub fn dup_above(fd: Fd, min: Fd) -> Res<Fd> {
    rustix::io::fcntl_dupfd_cloexec(bfd(fd), min).map(raw)
}

/// Is `fd` an open descriptor? (fcntl F_GETFL succeeds)
#[cold]
pub fn is_open(fd: Fd) -> bool {
    rustix::fs::fcntl_getfl(bfd(fd)).is_ok()
}

/// Status flags of an open descriptor, as raw O_* bits.
pub fn status_flags(fd: Fd) -> Res<u32> {
    rustix::fs::fcntl_getfl(bfd(fd)).map(|f| f.bits())
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
    let mut fl = rustix::fs::fcntl_getfl(bfd(fd))?;
    fl.set(rustix::fs::OFlags::NONBLOCK, on);
    rustix::fs::fcntl_setfl(bfd(fd), fl)
}

/// Sets or clears FD_CLOEXEC.
#[cold]
pub fn set_cloexec(fd: Fd, on: bool) -> Res<()> {
    let mut fl = rustix::io::fcntl_getfd(bfd(fd))?;
    fl.set(rustix::io::FdFlags::CLOEXEC, on);
    rustix::io::fcntl_setfd(bfd(fd), fl)
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
    .map(raw)
}

/// open("/dev/null", O_RDWR|O_NOCTTY|O_CLOEXEC), without a path copy.
#[cold]
pub fn open_dev_null() -> Res<Fd> {
    let fl = rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC;
    rustix::fs::open(c"/dev/null", fl, rustix::fs::Mode::empty()).map(raw)
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

/// geteuid(2).
pub fn geteuid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// chdir(2).
#[inline(never)]
pub fn chdir(path: &[u8]) -> Res<()> {
    let mut buf = [0; PATH_MAX + 1];
    rustix::process::chdir(cpath(path, &mut buf)?)
}

/// umask(2).
#[cold]
pub fn umask(mask: u32) {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask));
}

/// A pipe, both ends close-on-exec.
pub fn pipe(nonblock: bool) -> Res<(Fd, Fd)> {
    let mut fl = rustix::pipe::PipeFlags::CLOEXEC;
    if nonblock {
        fl |= rustix::pipe::PipeFlags::NONBLOCK;
    }
    let (r, w) = rustix::pipe::pipe_with(fl)?;
    Ok((raw(r), raw(w)))
}

// -------------------------------------------------------------- sockets ---

/// Socket domains the protocol knows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Domain {
    Unix,
    Inet,
    Inet6,
}

/// Socket types the protocol knows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SockType {
    Stream,
    Dgram,
    Seqpacket,
}

fn af(d: Domain) -> rustix::net::AddressFamily {
    match d {
        Domain::Unix => rustix::net::AddressFamily::UNIX,
        Domain::Inet => rustix::net::AddressFamily::INET,
        Domain::Inet6 => rustix::net::AddressFamily::INET6,
    }
}

fn st(t: SockType) -> rustix::net::SocketType {
    match t {
        SockType::Stream => rustix::net::SocketType::STREAM,
        SockType::Dgram => rustix::net::SocketType::DGRAM,
        SockType::Seqpacket => rustix::net::SocketType::SEQPACKET,
    }
}

/// socketpair(2), both ends close-on-exec.
pub fn socketpair(d: Domain, t: SockType) -> Res<(Fd, Fd)> {
    let (a, b) = rustix::net::socketpair(af(d), st(t), rustix::net::SocketFlags::CLOEXEC, None)?;
    Ok((raw(a), raw(b)))
}

/// socket(2), close-on-exec.
pub fn socket(d: Domain, t: SockType) -> Res<Fd> {
    rustix::net::socket_with(af(d), st(t), rustix::net::SocketFlags::CLOEXEC, None).map(raw)
}

/// setsockopt(SO_REUSEADDR, 1).
pub fn set_reuseaddr(fd: Fd) -> Res<()> {
    rustix::net::sockopt::set_socket_reuseaddr(bfd(fd), true)
}

/// bind(2) to a unix path.
#[inline(never)]
#[cold]
pub fn bind_unix(fd: Fd, path: &[u8]) -> Res<()> {
    cold_ran();
    let mut buf = [0; PATH_MAX + 1];
    let addr = rustix::net::SocketAddrUnix::new(cpath(path, &mut buf)?)?;
    rustix::net::bind(bfd(fd), &addr)
}

/// bind(2) to an IPv4 address (octets) and port.
pub fn bind_inet(fd: Fd, ip: [u8; 4], port: u16) -> Res<()> {
    let addr = rustix::net::SocketAddrV4::new(rustix::net::Ipv4Addr::from(ip), port);
    rustix::net::bind(bfd(fd), &addr)
}

/// listen(2).
pub fn listen(fd: Fd, backlog: i32) -> Res<()> {
    rustix::net::listen(bfd(fd), backlog)
}

/// accept4(2), close-on-exec.
pub fn accept(fd: Fd) -> Res<Fd> {
    rustix::net::accept_with(bfd(fd), rustix::net::SocketFlags::CLOEXEC).map(raw)
}

/// Which directions of a socket to shut down.
pub fn shutdown(fd: Fd, read: bool, write: bool) {
    let how = match (read, write) {
        (true, true) => rustix::net::Shutdown::Both,
        (true, false) => rustix::net::Shutdown::Read,
        (false, true) => rustix::net::Shutdown::Write,
        (false, false) => return,
    };
    let _ = rustix::net::shutdown(bfd(fd), how);
}

/// If `fd` is a socket: its (domain, type), by getsockopt/getsockname.
pub fn socket_kind(fd: Fd) -> Option<(Domain, SockType)> {
    let t = rustix::net::sockopt::socket_type(bfd(fd)).ok()?;
    let t = if t == rustix::net::SocketType::DGRAM {
        SockType::Dgram
    } else if t == rustix::net::SocketType::SEQPACKET {
        SockType::Seqpacket
    } else {
        SockType::Stream
    };
    let d = match rustix::net::getsockname(bfd(fd)).map(|a| a.address_family()) {
        Ok(f) if f == rustix::net::AddressFamily::INET => Domain::Inet,
        Ok(f) if f == rustix::net::AddressFamily::INET6 => Domain::Inet6,
        _ => Domain::Unix,
    };
    Some((d, t))
}

/// recvmsg(2) that also collects SCM_RIGHTS descriptors (close-on-exec) into
/// `fds`; returns (bytes, descriptors received). Descriptors beyond the 8
/// kept are closed.
pub fn recv_with_fds(fd: Fd, buf: &mut [u8], fds: &mut [Fd; 8]) -> Res<(usize, usize)> {
    /// Room for one SCM_RIGHTS message of 8 descriptors (CMSG_SPACE(32)).
    #[repr(C)]
    struct Control {
        hdr: libc::cmsghdr,
        fds: [c_int; 8],
    }
    // SAFETY: the message header points at `buf` and `control`, which
    // outlive the call; the control messages are walked with the CMSG
    // macros within msg_controllen, as the kernel filled them in.
    unsafe {
        let mut control: Control = core::mem::zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut msg: libc::msghdr = core::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = (&raw mut control).cast();
        msg.msg_controllen = core::mem::size_of::<Control>() as _;
        let n = libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(Errno::from_raw_os_error(errno()));
        }
        let mut kept = 0;
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c).cast::<c_int>();
                let count = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                for k in 0..count {
                    let received = data.add(k).read_unaligned();
                    match fds.get_mut(kept) {
                        Some(slot) => *slot = received,
                        None => close(received),
                    }
                    kept += usize::from(kept < fds.len());
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Ok((n as usize, kept))
    }
}

// ----------------------------------------------------------------- poll ---

/// One entry of a poll set: libc's `struct pollfd`, so the set goes to
/// poll(2) as it is.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct PollEntry(libc::pollfd);

const POLL_BAD: i16 = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;

impl PollEntry {
    /// An entry poll skips (a negative descriptor).
    pub const NONE: PollEntry = PollEntry::new(-1, false, false);

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
            fd,
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

/// poll(2) over `set` with a timeout in milliseconds (negative: forever);
/// when it fails, nothing is reported ready.
pub fn poll(set: &mut [PollEntry], timeout_ms: i64) {
    let timeout = timeout_ms.clamp(-1, c_int::MAX as i64) as c_int;
    // SAFETY: PollEntry is a struct pollfd and the slice holds set.len() of them.
    let r = unsafe { libc::poll(set.as_mut_ptr().cast(), set.len() as libc::nfds_t, timeout) };
    if r < 0 {
        for e in set {
            e.0.revents = 0;
        }
    }
}

// -------------------------------------------------------------- memory ---

/// Types whose all-zero bit pattern is a valid value, so pools can be carved
/// from fresh anonymous memory without touching (and so paying for) it.
///
/// # Safety
/// Implement only for types made of integers, bools, byte arrays and enums
/// whose zero discriminant is a variant.
pub unsafe trait Zeroable {}

/// One private anonymous mapping, reserved once at startup and carved into
/// the daemon's state and pools. Pages are only backed by RAM when first
/// written, so what is carved next to each other shares pages: the caller
/// orders the pieces so that an idle daemon touches as few pages as possible.
pub struct Reservation {
    next: *mut u8,
    left: usize,
}

impl Reservation {
    /// Bytes `take::<T>(n)` may consume, alignment included.
    pub const fn size_of<T>(n: usize) -> usize {
        n * core::mem::size_of::<T>() + core::mem::align_of::<T>()
    }

    /// Maps `bytes` of zeroed memory; None when mmap fails.
    #[cold]
    pub fn new(bytes: usize) -> Option<Reservation> {
        // SAFETY: a fresh private anonymous mapping that is never unmapped.
        let p = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                bytes.max(1),
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::NORESERVE,
            )
        }
        .ok()?;
        Some(Reservation {
            next: p.cast(),
            left: bytes,
        })
    }

    /// `n` values of `T`, aligned; locked now under `-M` when `lock`.
    fn carve<T>(&mut self, n: usize, lock: bool) -> Option<*mut T> {
        let bytes = n.checked_mul(core::mem::size_of::<T>())?;
        self.carve_bytes(bytes, core::mem::align_of::<T>(), lock)
            .map(|p| p.cast())
    }

    /// One copy for every type: `bytes` at `align`.
    #[cold]
    #[inline(never)]
    fn carve_bytes(&mut self, bytes: usize, align: usize, lock: bool) -> Option<*mut u8> {
        let pad = self.next.align_offset(align);
        let all = bytes.checked_add(pad)?;
        if all > self.left {
            return None;
        }
        // SAFETY: stays within the mapping (checked above).
        let p = unsafe { self.next.add(pad) };
        // SAFETY: as above.
        self.next = unsafe { self.next.add(all) };
        self.left -= all;
        if lock {
            lock_in_use(p, 0, bytes);
        }
        Some(p)
    }

    /// The next `n` values of `T`, still zero (so untouched).
    #[cold]
    pub fn take<T: Zeroable>(&mut self, n: usize) -> Option<&'static mut [T]> {
        let p = self.carve::<T>(n, true)?;
        // SAFETY: aligned, in bounds, handed out once, never unmapped; zeroed
        // memory is a valid [T] because T: Zeroable.
        Some(unsafe { core::slice::from_raw_parts_mut(p, n) })
    }

    /// Like `take`, for a pool that grows into its room: under `-M` its
    /// pages are locked as they come into use (`lock_grown`), not now.
    #[cold]
    pub fn take_lazy<T: Zeroable>(&mut self, n: usize) -> Option<&'static mut [T]> {
        let p = self.carve::<T>(n, false)?;
        // SAFETY: as in take.
        Some(unsafe { core::slice::from_raw_parts_mut(p, n) })
    }

    /// Room for one `T`, to be written later.
    #[cold]
    pub fn uninit<T>(&mut self) -> Option<&'static mut MaybeUninit<T>> {
        let p = self.carve::<MaybeUninit<T>>(1, true)?;
        // SAFETY: aligned, in bounds, handed out once, never unmapped; any
        // bytes are a valid MaybeUninit.
        Some(unsafe { &mut *p })
    }
}

unsafe impl Zeroable for u8 {}
unsafe impl Zeroable for u16 {}
unsafe impl Zeroable for u32 {}
unsafe impl Zeroable for u64 {}
unsafe impl Zeroable for AtomicU8 {}
unsafe impl<T: Zeroable, const N: usize> Zeroable for [T; N] {}
// SAFETY: all-zero is the null pointer.
unsafe impl<T> Zeroable for *const T {}

/// Drops the pages of the cold text segment from this process's page
/// tables once startup is over (see link.ld): code only startup, the exit
/// paths and forked children run should not stay resident in an idle
/// daemon. madvise(MADV_DONTNEED) on a private file mapping only forgets
/// the mapping of clean page-cache pages; cold code that runs later faults
/// them back in. Not done under mlockall, which wants everything resident.
pub fn release_cold_text() {
    COLD_RELEASED.store(true, Relaxed);
    COLD_RAN.store(false, Relaxed);
    release_cold_again();
}

/// Whether the cold text is released (not under mlockall).
static COLD_RELEASED: AtomicBool = AtomicBool::new(false);
/// Cold code ran since the cold text was last released.
static COLD_RAN: AtomicBool = AtomicBool::new(false);

/// Notes that cold code runs after startup (a failed command, a statedump,
/// a socket command, a service's child before it execs): fault-around maps
/// the whole cold segment back, so the loop lets it go again before it
/// sleeps (`release_cold_if_ran`). Called by the cold functions the loop
/// can reach.
pub fn cold_ran() {
    COLD_RAN.store(true, Relaxed);
}

/// Releases the cold text again if cold code ran since it was released.
pub fn release_cold_if_ran() {
    if COLD_RAN.load(Relaxed) {
        COLD_RAN.store(false, Relaxed);
        release_cold_again();
    }
}

/// Releases the cold text, if it was released after startup.
fn release_cold_again() {
    if !COLD_RELEASED.load(Relaxed) {
        return;
    }
    unsafe extern "C" {
        static __cold_text_start: u8;
        static __cold_text_end: u8;
    }
    let page = page_size();
    // Only the addresses of the linker-defined symbols are taken.
    let start = core::ptr::addr_of!(__cold_text_start) as usize;
    let end = core::ptr::addr_of!(__cold_text_end) as usize;
    // The cold segment is a mapping of its own: whole pages may go.
    let first = start & !(page - 1);
    let last = (end + page - 1) & !(page - 1);
    if last > first {
        // SAFETY: the range lies in the cold segment's mapping; dropping
        // clean file-backed pages does not change its contents.
        let _ = unsafe {
            rustix::mm::madvise(
                first as *mut core::ffi::c_void,
                last - first,
                rustix::mm::Advice::LinuxDontNeed,
            )
        };
    }
}

/// The kernel's page size, from the auxiliary vector (arm64, ppc64 and
/// mips kernels may use 16 or 64 KiB pages); 4096 if the kernel gave none.
#[cold]
pub fn page_size() -> usize {
    // SAFETY: getauxval only reads the auxiliary vector musl saved.
    match unsafe { libc::getauxval(libc::AT_PAGESZ) } as usize {
        0 => 4096,
        p => p,
    }
}

/// `-M`, so that what the pools reserve is locked only as it comes into
/// use (the default pools reserve megabytes, which locking would make
/// resident): mlockall(MCL_CURRENT) before the reservation, and from then
/// on the reservation locks what it hands out (`Reservation::take`) and
/// the pools what they grow into (`lock_grown`). No MCL_FUTURE: it would
/// lock all of the reservation, and the daemon maps nothing after startup
/// (the stack grows within its locked mapping).
#[cold]
pub fn lock_current() -> Res<()> {
    rustix::mm::mlockall(rustix::mm::MlockAllFlags::CURRENT)?;
    LOCK_IN_USE.store(true, Relaxed);
    Ok(())
}

/// Set by `lock_current`: memory coming into use is to be locked.
static LOCK_IN_USE: AtomicBool = AtomicBool::new(false);

/// Is memory coming into use to be locked (`-M`)?
#[inline(always)]
pub fn locking() -> bool {
    LOCK_IN_USE.load(Relaxed)
}

/// A pool grew from `from` to `to` of its `items`: locks the pages that
/// brings into use (`-M`; callers check `locking()`).
pub fn lock_grown<T>(items: &[T], from: usize, to: usize) {
    let size = core::mem::size_of::<T>();
    lock_bytes(items.as_ptr() as usize, from * size, to * size);
}

/// Under `-M`, locks bytes `from..to` after `base`; the bytes before `from`
/// are in use, so their pages are locked already.
#[cold]
fn lock_in_use(base: *const u8, from: usize, to: usize) {
    if locking() {
        lock_bytes(base as usize, from, to);
    }
}

#[cold]
#[inline(never)]
fn lock_bytes(base: usize, from: usize, to: usize) {
    if to <= from {
        return;
    }
    let page = page_size();
    let (first, end) = (base + from, base + to);
    // Within the page that holds the byte before `from`: locked already.
    if from > 0 && (first - 1) / page == (end - 1) / page {
        return;
    }
    // SAFETY: the range lies in the reservation's mapping; mlock only pins
    // its pages (rounding out to whole pages) and cannot change contents.
    // Failure (RLIMIT_MEMLOCK) leaves the pages unlocked but usable.
    let _ = unsafe { rustix::mm::mlock(first as *mut core::ffi::c_void, end - first) };
}

// ------------------------------------------------------------ processes ---

/// getpid(2).
pub fn getpid() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

/// setsid(2).
#[cold]
pub fn setsid() -> Res<()> {
    rustix::process::setsid().map(|_| ())
}

/// abort(): SIGABRT to the process. In the daemon its handler runs
/// exec-on-exit (§11.3); in a service's child, whose handlers are reset,
/// it ends the child.
#[cold]
pub fn abort() -> ! {
    let _ = kill(getpid(), libc::SIGABRT, false);
    exit_now(128 + libc::SIGABRT)
}

/// fork(2), through `_Fork` (POSIX.1-2024, musl 1.2.3 on): `fork` without
/// the atfork handlers and the locks a multi-threaded process takes around
/// it. The daemon is single-threaded and registers no handlers, so the two
/// do the same here, and musl's `fork` would bring 1,250 bytes of that
/// locking (x86_64). Every signal should be blocked around it
/// (`block_all`): until the child has reset its handlers, a handler running
/// there would act for the daemon.
/// Returns 0 in the child and the child's pid in the parent.
pub fn fork() -> Res<i32> {
    // musl's unistd.h declares it; the libc crate does not yet.
    unsafe extern "C" {
        fn _Fork() -> libc::pid_t;
    }
    // SAFETY: the daemon is single-threaded; the child only execs or exits.
    let pid = unsafe { _Fork() };
    if pid < 0 {
        Err(Errno::from_raw_os_error(errno()))
    } else {
        Ok(pid)
    }
}

fn errno() -> i32 {
    // SAFETY: musl's errno location is always valid for the calling thread.
    unsafe { *libc::__errno_location() }
}

/// _exit(2).
#[cold]
pub fn exit_now(code: i32) -> ! {
    // SAFETY: ends the process without running anything else.
    unsafe { libc::_exit(code) }
}

/// exit(3) is not needed: the daemon has nothing to flush but its own log.
#[cold]
pub fn exit(code: i32) -> ! {
    exit_now(code)
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

/// execvp(3) with a NULL-terminated argv of NUL-terminated strings; returns
/// only on failure.
#[cold]
pub fn execvp(argv: &[*const c_char]) -> Errno {
    // SAFETY: argv is NULL-terminated and its strings NUL-terminated.
    unsafe { libc::execvp(argv[0], argv.as_ptr()) };
    Errno::from_raw_os_error(errno())
}

/// execvpe(3): execvp with an explicit NULL-terminated environment;
/// returns only on failure.
#[cold]
pub fn execvpe(argv: &[*const c_char], envp: &[*const c_char]) -> Errno {
    // SAFETY: argv and envp are NULL-terminated arrays of C strings.
    unsafe { libc::execvpe(argv[0], argv.as_ptr(), envp.as_ptr()) };
    Errno::from_raw_os_error(errno())
}

/// Runs this program again (/proc/self/exe, else argv[0] through PATH) with
/// `argv` (NULL-terminated) and the process environment; returns only on
/// failure.
#[cold]
pub fn exec_self(argv: &[*const c_char]) -> Errno {
    // SAFETY: argv is NULL-terminated and its strings NUL-terminated.
    unsafe { libc::execv(c"/proc/self/exe".as_ptr(), argv.as_ptr()) };
    execvp(argv)
}

/// Test builds only: a real fault, raised by the CPU (`test.fault`).
#[cfg(feature = "fault-injection")]
pub mod fault {
    /// A store to an unmapped address: SIGSEGV.
    #[cold]
    pub fn segv() {
        // SAFETY: none; the store faults, which is the point.
        unsafe { core::ptr::write_volatile(16 as *mut u8, 1) };
    }

    /// Recursion without end: the stack overflows into its guard page.
    #[cold]
    #[inline(never)]
    #[allow(unconditional_recursion)]
    pub fn overflow(depth: usize) -> usize {
        let frame = core::hint::black_box([depth as u8; 1024]);
        overflow(depth + 1).wrapping_add(frame[depth % 1024] as usize)
    }
}

/// The process environment as a NULL-terminated array.
#[cold]
pub fn environ() -> *const *const c_char {
    unsafe extern "C" {
        static environ: *const *const c_char;
    }
    // SAFETY: reading the pointer value of libc's environ.
    unsafe { environ }
}

/// kill(2) or killpg(2).
pub fn kill(pid: i32, sig: i32, group: bool) -> Res<()> {
    // SAFETY: plain syscall; rustix's Signal type cannot carry signal 0 or
    // real-time numbers, which the protocol allows.
    let r = unsafe {
        if group {
            libc::killpg(pid, sig)
        } else {
            libc::kill(pid, sig)
        }
    };
    if r < 0 {
        Err(Errno::from_raw_os_error(errno()))
    } else {
        Ok(())
    }
}

/// A child's wait status, decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExitHow {
    /// exit(code)
    Exited(u8),
    /// killed by signal
    Signaled(i32),
}

/// waitpid(-1, WNOHANG): the next reaped child, if any.
pub fn reap_any() -> Option<(i32, ExitHow)> {
    let mut status: c_int = 0;
    // SAFETY: plain syscall with a valid out pointer. rustix's waitpid(None)
    // means "my process group", not "any child".
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid <= 0 {
        return None;
    }
    let how = if libc::WIFSIGNALED(status) {
        ExitHow::Signaled(libc::WTERMSIG(status))
    } else {
        ExitHow::Exited(libc::WEXITSTATUS(status) as u8)
    };
    Some((pid, how))
}

/// The errno texts the protocol quotes, worded as glibc's strerror (musl
/// words some differently), keyed by rustix's per-architecture errno
/// values (MIPS numbers many of them differently): the values, and the
/// texts in the same order, each ended by a NUL (one string rather than a
/// table of pointers).
macro_rules! errno_texts {
    ($($name:ident => $text:literal,)*) => {
        const ERRNO_CODES: &[Errno] = &[$(Errno::$name),*];
        const ERRNO_TEXTS: &[u8] = concat!($($text, "\0"),*).as_bytes();
    };
}

errno_texts! {
    PERM => "Operation not permitted",
    NOENT => "No such file or directory",
    SRCH => "No such process",
    INTR => "Interrupted system call",
    IO => "Input/output error",
    NXIO => "No such device or address",
    TOOBIG => "Argument list too long",
    NOEXEC => "Exec format error",
    BADF => "Bad file descriptor",
    CHILD => "No child processes",
    AGAIN => "Resource temporarily unavailable",
    NOMEM => "Cannot allocate memory",
    ACCESS => "Permission denied",
    FAULT => "Bad address",
    NOTBLK => "Block device required",
    BUSY => "Device or resource busy",
    EXIST => "File exists",
    XDEV => "Invalid cross-device link",
    NODEV => "No such device",
    NOTDIR => "Not a directory",
    ISDIR => "Is a directory",
    INVAL => "Invalid argument",
    NFILE => "Too many open files in system",
    MFILE => "Too many open files",
    NOTTY => "Inappropriate ioctl for device",
    TXTBSY => "Text file busy",
    FBIG => "File too large",
    NOSPC => "No space left on device",
    SPIPE => "Illegal seek",
    ROFS => "Read-only file system",
    MLINK => "Too many links",
    PIPE => "Broken pipe",
    DOM => "Numerical argument out of domain",
    RANGE => "Numerical result out of range",
    DEADLK => "Resource deadlock avoided",
    NAMETOOLONG => "File name too long",
    NOLCK => "No locks available",
    NOSYS => "Function not implemented",
    NOTEMPTY => "Directory not empty",
    LOOP => "Too many levels of symbolic links",
    NOMSG => "No message of desired type",
    IDRM => "Identifier removed",
    NODATA => "No data available",
    TIME => "Timer expired",
    PROTO => "Protocol error",
    BADMSG => "Bad message",
    OVERFLOW => "Value too large for defined data type",
    ILSEQ => "Invalid or incomplete multibyte or wide character",
    NOTSOCK => "Socket operation on non-socket",
    DESTADDRREQ => "Destination address required",
    MSGSIZE => "Message too long",
    PROTOTYPE => "Protocol wrong type for socket",
    NOPROTOOPT => "Protocol not available",
    PROTONOSUPPORT => "Protocol not supported",
    SOCKTNOSUPPORT => "Socket type not supported",
    OPNOTSUPP => "Operation not supported",
    PFNOSUPPORT => "Protocol family not supported",
    AFNOSUPPORT => "Address family not supported by protocol",
    ADDRINUSE => "Address already in use",
    ADDRNOTAVAIL => "Cannot assign requested address",
    NETDOWN => "Network is down",
    NETUNREACH => "Network is unreachable",
    NETRESET => "Network dropped connection on reset",
    CONNABORTED => "Software caused connection abort",
    CONNRESET => "Connection reset by peer",
    NOBUFS => "No buffer space available",
    ISCONN => "Transport endpoint is already connected",
    NOTCONN => "Transport endpoint is not connected",
    SHUTDOWN => "Cannot send after transport endpoint shutdown",
    TIMEDOUT => "Connection timed out",
    CONNREFUSED => "Connection refused",
    HOSTDOWN => "Host is down",
    HOSTUNREACH => "No route to host",
    ALREADY => "Operation already in progress",
    INPROGRESS => "Operation now in progress",
    STALE => "Stale file handle",
    DQUOT => "Disk quota exceeded",
    CANCELED => "Operation canceled",
}

/// The text of an errno, worded as glibc's strerror(3).
pub fn strerror(e: Errno) -> &'static [u8] {
    ERRNO_CODES
        .iter()
        .position(|&k| k == e)
        .and_then(|i| crate::proto::split(ERRNO_TEXTS, 0).nth(i))
        .unwrap_or(b"Unknown error")
}

// -------------------------------------------------------------- signals ---

/// Sets `sig`'s disposition through musl's sigaction, which supplies the
/// architecture's signal return trampoline: `handler` (or SIG_DFL) with
/// `flags`, blocking nothing extra and without SA_RESTART.
#[cold]
fn sigaction(sig: c_int, handler: usize, flags: c_int) -> Res<()> {
    // SAFETY: a zeroed sigaction is an empty mask and no flags; the handler
    // (if any) is async-signal-safe and matches `flags`.
    let r = unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = flags;
        libc::sigaction(sig, &sa, core::ptr::null_mut())
    };
    if r < 0 {
        return Err(Errno::from_raw_os_error(errno()));
    }
    Ok(())
}

/// Installs `handler` for `sig`.
#[cold]
pub fn set_handler(sig: i32, handler: extern "C" fn(c_int)) -> Res<()> {
    sigaction(sig, handler as *const () as usize, 0)
}

/// What a fault handler is told about a signal: its siginfo.
pub type SigInfo = libc::siginfo_t;

/// Installs `handler` for `sig` with its siginfo (SA_SIGINFO), on the
/// alternate signal stack (SA_ONSTACK), so that it also runs when the
/// fault is a stack overflow.
#[cold]
pub fn set_fault_handler(
    sig: i32,
    handler: extern "C" fn(c_int, *mut SigInfo, *mut core::ffi::c_void),
) -> Res<()> {
    sigaction(
        sig,
        handler as *const () as usize,
        libc::SA_SIGINFO | libc::SA_ONSTACK,
    )
}

/// Was this signal raised by the kernel for the instruction that was
/// running (a fault: si_code > 0), rather than sent by a process (kill,
/// tkill, sigqueue: si_code <= 0)? Returning from the handler of a fault
/// runs the instruction again.
pub fn is_fault(info: *const SigInfo) -> bool {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    !info.is_null() && unsafe { (*info).si_code } > 0
}

/// Makes `stack` the alternate signal stack (sigaltstack(2)).
#[cold]
pub fn set_alt_stack(stack: &'static mut [u8]) -> Res<()> {
    // SAFETY: the stack is memory of its own that lives as long as the
    // process; a zeroed stack_t is then filled in by field name (the field
    // order differs between architectures).
    let r = unsafe {
        let mut ss: libc::stack_t = core::mem::zeroed();
        ss.ss_sp = stack.as_mut_ptr().cast();
        ss.ss_size = stack.len();
        libc::sigaltstack(&ss, core::ptr::null_mut())
    };
    if r < 0 {
        return Err(Errno::from_raw_os_error(errno()));
    }
    Ok(())
}

/// Size of the alternate signal stack: the architecture's signal frame
/// (SIGSTKSZ) plus what the fatal handler's exec-on-exit needs (§11.3).
pub const ALT_STACK: usize = libc::SIGSTKSZ + (32 << 10);

/// Restores the default disposition of `sig`.
#[cold]
pub fn set_default(sig: i32) {
    let _ = sigaction(sig, libc::SIG_DFL, 0);
}

/// Blocks every signal; returns the mask before.
pub fn block_all() -> libc::sigset_t {
    // SAFETY: the sets are plain data, passed to sigprocmask.
    unsafe {
        let mut all: libc::sigset_t = core::mem::zeroed();
        let mut old: libc::sigset_t = core::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, &mut old);
        old
    }
}

/// Sets the signal mask to `mask`.
pub fn set_mask(mask: &libc::sigset_t) {
    // SAFETY: a valid set passed to sigprocmask.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, mask, core::ptr::null_mut()) };
}

/// Unblocks every signal.
pub fn unmask_all() {
    // SAFETY: a zeroed set is plain data; sigemptyset makes it empty.
    let mut none: libc::sigset_t = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::sigemptyset(&mut none) };
    set_mask(&none);
}

/// Arms (or with 0 disarms) a one-shot ITIMER_REAL of `usec` microseconds.
pub fn alarm_usec(usec: i64) {
    // SAFETY: plain syscall with valid pointers.
    unsafe {
        let it = libc::itimerval {
            it_interval: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            it_value: libc::timeval {
                tv_sec: (usec / 1_000_000) as _,
                tv_usec: (usec % 1_000_000) as _,
            },
        };
        libc::setitimer(libc::ITIMER_REAL, &it, core::ptr::null_mut());
    }
}

// ------------------------------------------------------------ the child ---

/// dup2(src, dst), with dst inheritable (when src == dst, dup2 would leave
/// its close-on-exec flag, so it is cleared instead). For a forked child,
/// and for startup's closed stdin, stdout or stderr.
#[cold]
pub fn dup2_inheritable(src: Fd, dst: Fd) -> Res<()> {
    if src == dst {
        return set_cloexec(dst, false);
    }
    // SAFETY: the caller owns `dst`'s number and gives it up to the copy.
    let mut target = unsafe { <OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(dst) };
    let r = rustix::io::dup2(bfd(src), &mut target);
    // The number stays open, as the copy.
    let _ = target.into_raw_fd();
    r
}

/// Closes every descriptor from `first` up except `keep` (-1: none), with
/// close_range(2) (one call per range), or one by one below 1024 where the
/// kernel lacks it.
#[cold]
pub fn close_from_except(first: Fd, keep: Fd) {
    let close_range = |lo: Fd, hi: u32| {
        // SAFETY: plain syscall; the caller wants all of these closed.
        let r = unsafe { libc::syscall(libc::SYS_close_range, lo as u32, hi, 0u32) };
        if r < 0 {
            for fd in lo..(hi.min(1023) as Fd + 1) {
                close(fd);
            }
        }
    };
    if keep >= first {
        if keep > first {
            close_range(first, keep as u32 - 1);
        }
        close_range(keep + 1, u32::MAX);
    } else {
        close_range(first, u32::MAX);
    }
}

// ------------------------------------------------------------------ pid1 ---

/// prctl(PR_SET_CHILD_SUBREAPER, 1).
#[cold]
pub fn become_subreaper() {
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::Pid::from_raw(1).unwrap()));
}

/// reboot(RB_DISABLE_CAD): Ctrl-Alt-Del sends SIGINT to PID 1.
#[cold]
pub fn disable_cad() {
    let _ = rustix::system::reboot(rustix::system::RebootCommand::CadOff);
}

/// The command line as the C runtime passed it (at most 64 arguments are
/// looked at), read in place rather than copied.
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
    #[cold]
    pub unsafe fn new(argc: c_int, argv: *const *const c_char) -> Args {
        Args {
            argc: (argc.max(0) as usize).min(64),
            argv,
        }
    }

    /// Argument `i`.
    #[cold]
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        // SAFETY: i < argc, and the strings live as long as the process.
        (i < self.argc).then(|| unsafe { CStr::from_ptr(*self.argv.add(i)).to_bytes() })
    }
}

/// The `i`th entry of a NULL-terminated C pointer array.
#[cold]
pub fn env_entry(env: *const *const c_char, i: usize) -> *const c_char {
    // SAFETY: callers stop at the terminating NULL.
    unsafe { *env.add(i) }
}

/// The number of entries of a NULL-terminated C pointer array (an argv or
/// an environment; 0 for a NULL array).
#[cold]
pub fn entries(list: *const *const c_char) -> usize {
    let mut n = 0;
    while !list.is_null() && !env_entry(list, n).is_null() {
        n += 1;
    }
    n
}

/// The bytes of a C string (empty for NULL).
#[cold]
pub fn cstr_bytes<'a>(p: *const c_char) -> &'a [u8] {
    if p.is_null() {
        return b"";
    }
    // SAFETY: p points to a NUL-terminated string that outlives the use.
    unsafe { CStr::from_ptr(p).to_bytes() }
}

/// Current errno, for handlers to preserve it.
pub fn errno_get() -> i32 {
    errno()
}

/// Restores errno.
pub fn errno_set(v: i32) {
    // SAFETY: musl's errno location is valid for the calling thread.
    unsafe { *libc::__errno_location() = v }
}

/// Sleeps for `ms` milliseconds.
#[cold]
pub fn sleep_ms(ms: u64) {
    let ts = rustix::time::Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as _,
    };
    let _ = rustix::thread::nanosleep(&ts);
}

/// sync(2).
#[cold]
pub fn sync() {
    rustix::fs::sync();
}

/// Reaps every child that has exited; false once none is left (ECHILD).
#[cold]
pub fn reap_all() -> bool {
    loop {
        // SAFETY: plain syscall; the status is not wanted.
        let pid = unsafe { libc::waitpid(-1, core::ptr::null_mut(), libc::WNOHANG) };
        if pid <= 0 {
            return pid == 0;
        }
    }
}

/// Unmounts every mount in /proc/self/mounts, newest first (lazily), then
/// remounts / read-only; the error is the remount's.
#[cold]
pub fn unmount_all() -> Res<()> {
    // A detached mount leaves the list, so a list longer than the buffer
    // is read again until what is left fits.
    let mut buf = [0u8; 64 << 10];
    for _ in 0..8 {
        let mut len = 0;
        if let Ok(fd) = open(b"/proc/self/mounts", oflag::RDONLY, 0) {
            while len < buf.len() {
                match read(fd, &mut buf[len..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
            }
            close(fd);
        }
        // Whole lines only: a line cut by the buffer's end would name
        // another path.
        let whole = buf[..len]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        for line in crate::proto::split(&buf[..whole], b'\n').rev() {
            let mut f = crate::proto::split(line, b' ');
            let (_, Some(target)) = (f.next(), f.next()) else {
                continue;
            };
            if target == b"/" || target.is_empty() {
                continue;
            }
            let mut decoded = [0; PATH_MAX];
            let n = unescape_mount_path(target, &mut decoded);
            let mut path = [0; PATH_MAX + 1];
            if let Ok(p) = cpath(&decoded[..n], &mut path) {
                let _ = rustix::mount::unmount(p, rustix::mount::UnmountFlags::DETACH);
            }
        }
        if len < buf.len() {
            break;
        }
    }
    rustix::mount::mount_remount(c"/", rustix::mount::MountFlags::RDONLY, c"")
}

/// A mount point as /proc/self/mounts shows it, its `\ooo` escapes (of
/// space, tab, newline and backslash) decoded into `out`; returns the
/// length.
#[cold]
fn unescape_mount_path(s: &[u8], out: &mut [u8]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < s.len() && n < out.len() {
        let mut b = s[i];
        i += 1;
        let octal = |c: &u8| (b'0'..=b'7').contains(c);
        if b == b'\\' && s.len() >= i + 3 && s[i..i + 3].iter().all(octal) {
            b = (s[i] - b'0') << 6 | (s[i + 1] - b'0') << 3 | (s[i + 2] - b'0');
            i += 3;
        }
        out[n] = b;
        n += 1;
    }
    n
}

/// reboot(2) with the final stage's action.
#[cold]
pub fn reboot(action: crate::pid1::Action) {
    use rustix::system::RebootCommand;
    let cmd = match action {
        crate::pid1::Action::Halt => RebootCommand::Halt,
        crate::pid1::Action::Poweroff => RebootCommand::PowerOff,
        crate::pid1::Action::Reboot => RebootCommand::Restart,
    };
    let _ = rustix::system::reboot(cmd);
}

// ------------------------------------------------ control socket peers ---

/// getsockopt(SO_PEERCRED): the (pid, uid, gid) of a unix socket's peer
/// when it connected. Through libc: rustix's Pid cannot hold the 0 a peer
/// in another pid namespace shows as.
pub fn peer_cred(fd: Fd) -> Res<(i32, u32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = core::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: cred and len are valid out-pointers of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(Errno::from_raw_os_error(errno()));
    }
    Ok((cred.pid, cred.uid, cred.gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_are_unescaped() {
        let mut out = [0u8; 64];
        let n = unescape_mount_path(br"/media/u/USB\040DISK\134x\011", &mut out);
        assert_eq!(&out[..n], b"/media/u/USB DISK\\x\t");
        // Not an escape: kept as it is.
        let n = unescape_mount_path(br"/a\09", &mut out);
        assert_eq!(&out[..n], br"/a\09");
    }

    #[test]
    fn errno_texts() {
        assert_eq!(strerror(Errno::PERM), b"Operation not permitted");
        assert_eq!(strerror(Errno::NOENT), b"No such file or directory");
        assert_eq!(
            strerror(Errno::ILSEQ),
            b"Invalid or incomplete multibyte or wide character"
        );
        assert_eq!(strerror(Errno::CANCELED), b"Operation canceled");
        assert_eq!(strerror(Errno::from_raw_os_error(41)), b"Unknown error");
    }
}
