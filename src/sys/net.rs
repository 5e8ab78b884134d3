//! Sockets: creation, addresses, descriptors passed over unix sockets,
//! and peer credentials.

use core::ffi::c_int;

use arrayvec::ArrayVec;

use super::{Errno, Fd, PATH_MAX, Res, borrow, close, cold_ran, cpath, errno};

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

fn address_family(d: Domain) -> rustix::net::AddressFamily {
    match d {
        Domain::Unix => rustix::net::AddressFamily::UNIX,
        Domain::Inet => rustix::net::AddressFamily::INET,
        Domain::Inet6 => rustix::net::AddressFamily::INET6,
    }
}

fn socket_type(t: SockType) -> rustix::net::SocketType {
    match t {
        SockType::Stream => rustix::net::SocketType::STREAM,
        SockType::Dgram => rustix::net::SocketType::DGRAM,
        SockType::Seqpacket => rustix::net::SocketType::SEQPACKET,
    }
}

/// socketpair(2), both ends close-on-exec.
pub fn socketpair(d: Domain, t: SockType) -> Res<(Fd, Fd)> {
    let (a, b) = rustix::net::socketpair(
        address_family(d),
        socket_type(t),
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )?;
    Ok((Fd::owned(a), Fd::owned(b)))
}

/// socket(2), close-on-exec.
pub fn socket(d: Domain, t: SockType) -> Res<Fd> {
    rustix::net::socket_with(
        address_family(d),
        socket_type(t),
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .map(Fd::owned)
}

/// setsockopt(SO_REUSEADDR, 1).
pub fn set_reuseaddr(fd: Fd) -> Res<()> {
    rustix::net::sockopt::set_socket_reuseaddr(borrow(fd), true)
}

/// bind(2) to a unix path.
#[inline(never)]
#[cold]
pub fn bind_unix(fd: Fd, path: &[u8]) -> Res<()> {
    cold_ran();
    let mut buf = [0; PATH_MAX + 1];
    let addr = rustix::net::SocketAddrUnix::new(cpath(path, &mut buf)?)?;
    rustix::net::bind(borrow(fd), &addr)
}

/// bind(2) to an IPv4 address (octets) and port.
pub fn bind_inet(fd: Fd, ip: [u8; 4], port: u16) -> Res<()> {
    let addr = rustix::net::SocketAddrV4::new(rustix::net::Ipv4Addr::from(ip), port);
    rustix::net::bind(borrow(fd), &addr)
}

/// listen(2).
pub fn listen(fd: Fd, backlog: i32) -> Res<()> {
    rustix::net::listen(borrow(fd), backlog)
}

/// accept4(2), close-on-exec.
pub fn accept(fd: Fd) -> Res<Fd> {
    rustix::net::accept_with(borrow(fd), rustix::net::SocketFlags::CLOEXEC).map(Fd::owned)
}

/// Which directions of a socket to shut down.
pub fn shutdown(fd: Fd, read: bool, write: bool) {
    let how = match (read, write) {
        (true, true) => rustix::net::Shutdown::Both,
        (true, false) => rustix::net::Shutdown::Read,
        (false, true) => rustix::net::Shutdown::Write,
        (false, false) => return,
    };
    let _ = rustix::net::shutdown(borrow(fd), how);
}

/// If `fd` is a socket: its (domain, type), by getsockopt/getsockname.
pub fn socket_kind(fd: Fd) -> Option<(Domain, SockType)> {
    let t = rustix::net::sockopt::socket_type(borrow(fd)).ok()?;
    let t = if t == rustix::net::SocketType::DGRAM {
        SockType::Dgram
    } else if t == rustix::net::SocketType::SEQPACKET {
        SockType::Seqpacket
    } else {
        SockType::Stream
    };
    let d = match rustix::net::getsockname(borrow(fd)).map(|a| a.address_family()) {
        Ok(f) if f == rustix::net::AddressFamily::INET => Domain::Inet,
        Ok(f) if f == rustix::net::AddressFamily::INET6 => Domain::Inet6,
        _ => Domain::Unix,
    };
    Some((d, t))
}

/// recvmsg(2) that also collects SCM_RIGHTS descriptors (close-on-exec) into
/// `fds`; returns the bytes received. Descriptors beyond the 8 kept are
/// closed.
pub fn recv_with_fds(fd: Fd, buf: &mut [u8], fds: &mut ArrayVec<Fd, 8>) -> Res<usize> {
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
        let n = libc::recvmsg(fd.raw(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(Errno::from_raw_os_error(errno()));
        }
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c).cast::<c_int>();
                let count = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                for k in 0..count {
                    // The kernel hands out no negative numbers.
                    let Some(received) = Fd::new(data.add(k).read_unaligned()) else {
                        continue;
                    };
                    if let Err(full) = fds.try_push(received) {
                        close(full.element());
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Ok(n as usize)
    }
}

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
            fd.raw(),
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
