//! Descriptor commands (§4.8–4.12, §7): `fd.open`, `fd.pipe`, `fd.socket`, `fd.take`
//! and `fd.delete`, with their flag words.

use super::{Error, Msg, Result, fail, fd_name};
use crate::fd_table::{self, FdObj, FdTable, Kind, fl};
use crate::proto::{self, Fields};
use crate::supervisor::Supervisor;
use crate::sys::{self, Domain, SockType};

/// An fd name that is not one of the constants.
#[inline(never)]
fn assignable_fd_name(f: Option<&[u8]>) -> Result<'_, &[u8]> {
    let n = fd_name(f)?;
    if FdTable::is_constant(n) {
        return fail(Msg::FileDescriptorCannotBeAltered);
    }
    Ok(n)
}

/// The NAME and FLAGS fields that fd.open and fd.socket start with.
#[inline(always)]
fn name_and_flags<'a>(f: &mut Fields<'a>) -> Result<'a, (&'a [u8], &'a [u8])> {
    let name = assignable_fd_name(f.next())?;
    let flags = f.next().ok_or(Error::Text(Msg::MissingFlagsArgument))?;
    Ok((name, flags))
}

/// With the `mkdir` flag among `bits`, creates each missing parent
/// directory of `path` (mode 0700), ignoring errors.
fn make_parents(bits: u16, path: &[u8]) {
    if bits & fl::MKDIR == 0 {
        return;
    }
    for (i, &b) in path.iter().enumerate().skip(1) {
        if b == b'/' {
            let _ = sys::mkdir(&path[..i], 0o700);
        }
    }
}

/// fd.open's flags: the i-th word is flag bit i (`fl::READ` … `fl::MKDIR`).
const OPEN_FLAGS: &[u8] = b"read write append create trunc nonblock mkdir";

/// fd.pipe's and fd.socket's flags: the socket words (the first
/// SOCKET_WORDS, the same in both), then each command's own.
const PIPE_FLAGS: &[u8] = b"unix inet inet6 tcp udp stream dgram seqpacket nonblock -";
const SOCKET_FLAGS: &[u8] =
    b"unix inet inet6 tcp udp stream dgram seqpacket nonblock mkdir bind listen";
const SOCKET_WORDS: usize = 8;
const NONBLOCK: usize = 8;
const MKDIR: usize = 9;
const BIND: usize = 10;

const INET: u8 = 1;
const INET6: u8 = 2;
const DGRAM: u8 = 4;
const SEQPACKET: u8 = 8;
/// What each socket word sets and then clears; later words win, as in the
/// original: `unix` clears `inet` (so `inet,unix` is a unix socket) but
/// not `inet6`, which only `inet` outranks.
const SOCKET_EFFECTS: [(u8, u8); SOCKET_WORDS] = [
    (0, INET),              // unix
    (INET, 0),              // inet
    (INET6, 0),             // inet6
    (INET, DGRAM),          // tcp
    (INET | DGRAM, 0),      // udp
    (0, DGRAM | SEQPACKET), // stream
    (DGRAM, 0),             // dgram
    (SEQPACKET, 0),         // seqpacket
];

/// Socket domain and type from protocol flags.
#[derive(Default)]
struct SockFlags {
    bits: u8,
    any: bool,
}

impl SockFlags {
    /// Applies socket word `word` (an index below SOCKET_WORDS).
    fn apply(&mut self, word: usize) {
        if let Some(&(set, clear)) = SOCKET_EFFECTS.get(word) {
            self.bits = (self.bits | set) & !clear;
            self.any = true;
        }
    }

    /// The domain: `inet` outranks `inet6`.
    fn domain(&self) -> Domain {
        match (self.bits & INET != 0, self.bits & INET6 != 0) {
            (true, _) => Domain::Inet,
            (false, true) => Domain::Inet6,
            (false, false) => Domain::Unix,
        }
    }

    /// The type: `dgram` outranks `seqpacket`.
    fn stype(&self) -> SockType {
        match self.bits & (DGRAM | SEQPACKET) {
            0 => SockType::Stream,
            SEQPACKET => SockType::Seqpacket,
            _ => SockType::Dgram,
        }
    }
}

/// Parses an inet ADDRSPEC: `*` or a dotted quad, optionally `:PORT`.
fn parse_inet(a: &[u8]) -> Option<([u8; 4], u16)> {
    let (host, port) = proto::split_once(a, b':');
    let port = match port {
        Some(p) => proto::parse_int(p)? as u16,
        None => 0,
    };
    if host == b"*" {
        return Some(([0; 4], port));
    }
    let mut ip = [0u8; 4];
    let mut parts = proto::split(host, b'.');
    for octet in &mut ip {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *octet = u8::try_from(proto::parse_int(part)?).ok()?;
    }
    parts.next().is_none().then_some((ip, port))
}

/// Binds, listens and sets O_NONBLOCK as fd.socket's flags ask.
fn set_up_socket(
    fd: sys::Fd,
    bits: u16,
    listen: u16,
    addr: &[u8],
    inet: Option<([u8; 4], u16)>,
) -> Result<'static> {
    if bits & fl::BIND != 0 {
        sys::set_reuseaddr(fd).map_err(|e| Error::Sys(Msg::Setsockopt, e))?;
        match inet {
            Some((ip, port)) => sys::bind_inet(fd, ip, port),
            None => sys::bind_unix(fd, addr),
        }
        .map_err(|e| Error::Sys(Msg::Bind, e))?;
    }
    if listen > 0 {
        sys::listen(fd, listen as i32).map_err(|e| Error::Sys(Msg::Listen, e))?;
    }
    if bits & fl::NONBLOCK != 0 {
        sys::set_nonblock(fd, true).map_err(|e| Error::Sys(Msg::FcntlNonblock, e))?;
    }
    Ok(())
}

impl Supervisor {
    /// Names a new object, closing whatever carried the name before.
    fn publish_fd(&mut self, slot: usize) {
        if let Some(old) = self.fds.publish(slot) {
            self.log.forget_fd(old);
            sys::close(old);
        }
        // A detached log attaches by name on the loop's next pass (§10.4).
        if self.log.fd().is_none() {
            self.loop_due = true;
        }
    }

    /// Stores a new object under its name and announces it; when the pool
    /// is full, its descriptor is closed instead.
    #[inline(never)]
    fn add_fd<'a>(&mut self, obj: FdObj, desc: &[u8]) -> Result<'a> {
        let Some(slot) = self.fds.alloc(obj, desc) else {
            if let Some(fd) = obj.fd {
                sys::close(fd);
            }
            return fail(Msg::NoFdObject);
        };
        self.publish_fd(slot);
        self.broadcast_fd(slot);
        Ok(())
    }

    pub(super) fn cmd_fd_open<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let (name, flags) = name_and_flags(&mut f)?;
        let Some(path) = f.next() else {
            return fail(Msg::MissingPathArgument);
        };
        if f.next().is_some() {
            return fail(Msg::UnexpectedArgumentAfterPath);
        }
        let mut bits = 0u16;
        for flag in proto::flags(flags, OPEN_FLAGS, false) {
            let (k, _) = flag.map_err(Error::UnknownFlag)?;
            bits |= 1 << k;
        }
        let fd = if self.check {
            None
        } else {
            make_parents(bits, path);
            let fd = sys::open(path, fd_table::open_flags(bits), 0o600)
                .map_err(|e| Error::Sys(Msg::OpenFailed, e))?;
            Some(fd)
        };
        self.add_fd(FdObj::new(name, Kind::File, bits, fd), path)
    }

    pub(super) fn cmd_fd_socket<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let (name, flags) = name_and_flags(&mut f)?;
        let mut sock = SockFlags::default();
        let mut bits = 0u16;
        let mut listen = 0u16;
        for flag in proto::flags(flags, SOCKET_FLAGS, true) {
            match flag.map_err(Error::UnknownFlag)? {
                (NONBLOCK, _) => bits |= fl::NONBLOCK,
                (MKDIR, _) => bits |= fl::MKDIR,
                (BIND, _) => bits |= fl::BIND,
                (k, _) if k < SOCKET_WORDS => sock.apply(k),
                (_, value) => {
                    // listen[=N]
                    bits |= fl::BIND;
                    listen = match value.filter(|v| !v.is_empty()).map(proto::parse_int) {
                        None => 32,
                        Some(Some(n)) if (1..=65535).contains(&n) => n as u16,
                        Some(_) => return fail(Msg::InvalidListenQueueLength),
                    };
                }
            }
        }
        // The address is checked before anything after it, as the original
        // does: an empty address with more fields is an invalid address.
        let addr = f.next();
        let domain = sock.domain();
        let mut inet = None;
        match addr {
            Some(a) => {
                bits |= fl::BIND;
                let ok = match domain {
                    Domain::Unix => (1..=107).contains(&a.len()),
                    Domain::Inet => {
                        inet = parse_inet(a);
                        inet.is_some()
                    }
                    Domain::Inet6 => false,
                };
                if !ok {
                    return fail(Msg::InvalidAddress);
                }
            }
            None if bits & fl::BIND != 0 => return fail(Msg::ExpectedAddressArgument),
            None => {}
        }
        if f.next().is_some() {
            return fail(Msg::UnexpectedArgumentAfterAddress);
        }
        let addr = addr.unwrap_or(b"");
        let fd = if self.check {
            None
        } else {
            if domain == Domain::Unix {
                make_parents(bits, addr);
            }
            let fd = sys::socket(domain, sock.stype()).map_err(|e| Error::Sys(Msg::Socket, e))?;
            if let Err(e) = set_up_socket(fd, bits, listen, addr, inet) {
                sys::close(fd);
                return Err(e);
            }
            Some(fd)
        };
        let mut o = FdObj::new(name, Kind::Socket, bits, fd);
        o.domain = fd_table::domain_code(domain);
        o.stype = fd_table::type_code(sock.stype());
        o.listen = listen;
        self.add_fd(o, addr)
    }

    pub(super) fn cmd_fd_pipe<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let rname = assignable_fd_name(f.next())?;
        let wname = assignable_fd_name(f.next())?;
        let mut sock = SockFlags::default();
        let mut bits = 0;
        for flag in proto::flags(f.next().unwrap_or(b""), PIPE_FLAGS, false) {
            match flag.map_err(Error::UnknownFlag)? {
                (NONBLOCK, _) => bits = fl::NONBLOCK,
                (k, _) => sock.apply(k), // `-` (no flags) is no socket word
            }
        }
        let (r, w) = if self.check {
            (None, None)
        } else {
            let (r, w) = if sock.any {
                sys::socketpair(sock.domain(), sock.stype())
                    .map_err(|e| Error::Sys(Msg::SocketpairFailed, e))?
            } else {
                sys::pipe(false).map_err(|e| Error::Sys(Msg::PipeFailed, e))?
            };
            if bits != 0 {
                for fd in [r, w] {
                    if let Err(e) = sys::set_nonblock(fd, true) {
                        sys::close(r);
                        sys::close(w);
                        return Err(Error::Sys(Msg::FcntlNonblockFailed, e));
                    }
                }
            }
            (Some(r), Some(w))
        };
        let close_both = || {
            if let Some((r, w)) = r.zip(w) {
                sys::close(r);
                sys::close(w);
            }
        };
        if sock.any {
            bits |= fl::SOCKPAIR;
        }
        let from = if sock.any { 0 } else { fl::FROM };
        let mut ends = [
            FdObj::new(rname, Kind::Pipe, bits | from, r),
            FdObj::new(wname, Kind::Pipe, bits, w),
        ];
        for o in &mut ends {
            o.domain = fd_table::domain_code(sock.domain());
            o.stype = fd_table::type_code(sock.stype());
        }
        let [ro, wo] = ends;
        let slots = if self.fds.available() < 2 {
            None
        } else {
            self.fds.alloc(ro, b"").zip(self.fds.alloc(wo, b""))
        };
        let Some((rs, ws)) = slots else {
            close_both();
            return fail(Msg::FailedToCreatePipe);
        };
        self.fds.get_mut(rs).peer = ws as u16 + 1;
        self.fds.get_mut(ws).peer = rs as u16 + 1;
        self.publish_fd(rs);
        self.publish_fd(ws);
        // With one name for both ends the write end replaced the read end,
        // and a replacement sends no `deleted` (§7.5): only the write end is
        // left to announce.
        if rname != wname {
            self.broadcast_fd(rs);
        }
        self.broadcast_fd(ws);
        Ok(())
    }

    pub(super) fn cmd_fd_take<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
        let Some(fd) = self.ctl[i].take_anc() else {
            return fail(Msg::NoAncillaryFd);
        };
        match assignable_fd_name(Fields::new(args).next()) {
            Ok(name) => self.add_fd(fd_table::introspect(name, fd), b""),
            Err(e) => {
                sys::close(fd);
                Err(e)
            }
        }
    }

    pub(super) fn cmd_fd_delete<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let name = assignable_fd_name(Fields::new(args).next())?;
        let Some(slot) = self.fds.find(name) else {
            return fail(Msg::NoSuchFileDescriptor);
        };
        // A free object's state line is the `deleted` event.
        let obj = self.fds.get_mut(slot);
        obj.kind = Kind::Free;
        let fd = obj.fd;
        self.broadcast_fd(slot);
        self.fds.forget(slot);
        if let Some(fd) = fd {
            self.log.forget_fd(fd);
            sys::close(fd);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_addresses() {
        assert_eq!(parse_inet(b"*"), Some(([0; 4], 0)));
        assert_eq!(parse_inet(b"*:80"), Some(([0; 4], 80)));
        assert_eq!(
            parse_inet(b"127.0.0.1:10203"),
            Some(([127, 0, 0, 1], 10203))
        );
        assert_eq!(parse_inet(b"localhost:1"), None);
        assert_eq!(parse_inet(b"1.2.3"), None);
        assert_eq!(parse_inet(b"1.2.3.256"), None);
        assert_eq!(parse_inet(b"1.2.3.4.5"), None);
        assert_eq!(parse_inet(b"1.2.-3.4"), None);
        assert_eq!(parse_inet(b"1.2.3.4:x"), None);
        assert_eq!(parse_inet(b""), None);
    }

    fn sock(words: &[&[u8]]) -> (Domain, SockType) {
        let mut s = SockFlags::default();
        for w in words {
            s.apply(proto::word_index(SOCKET_FLAGS, w).unwrap());
        }
        (s.domain(), s.stype())
    }

    #[test]
    fn socket_flag_resolution() {
        assert_eq!(sock(&[b"udp", b"stream"]), (Domain::Inet, SockType::Stream));
        assert_eq!(sock(&[b"stream", b"udp"]), (Domain::Inet, SockType::Dgram));
        assert_eq!(sock(&[b"dgram", b"tcp"]), (Domain::Inet, SockType::Stream));
        assert_eq!(sock(&[b"seqpacket"]), (Domain::Unix, SockType::Seqpacket));
        assert_eq!(sock(&[b"inet", b"unix"]), (Domain::Unix, SockType::Stream));
        assert_eq!(sock(&[b"tcp", b"unix"]), (Domain::Unix, SockType::Stream));
        assert_eq!(sock(&[b"udp", b"unix"]), (Domain::Unix, SockType::Dgram));
        assert_eq!(
            sock(&[b"inet6", b"unix"]),
            (Domain::Inet6, SockType::Stream)
        );
        assert_eq!(sock(&[b"inet6", b"inet"]), (Domain::Inet, SockType::Stream));
        assert_eq!(
            sock(&[b"inet6", b"dgram"]),
            (Domain::Inet6, SockType::Dgram)
        );
    }

    #[test]
    fn flag_word_positions() {
        let at = |words, w| proto::word_index(words, w);
        for (k, w) in [
            &b"read"[..],
            b"write",
            b"append",
            b"create",
            b"trunc",
            b"nonblock",
            b"mkdir",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(
                1u16 << at(OPEN_FLAGS, w).unwrap(),
                [
                    fl::READ,
                    fl::WRITE,
                    fl::APPEND,
                    fl::CREATE,
                    fl::TRUNC,
                    fl::NONBLOCK,
                    fl::MKDIR
                ][k]
            );
        }
        assert_eq!(at(PIPE_FLAGS, b"nonblock"), Some(NONBLOCK));
        assert_eq!(at(SOCKET_FLAGS, b"nonblock"), Some(NONBLOCK));
        assert_eq!(at(SOCKET_FLAGS, b"mkdir"), Some(MKDIR));
        assert_eq!(at(SOCKET_FLAGS, b"bind"), Some(BIND));
        assert_eq!(PIPE_FLAGS[..40], SOCKET_FLAGS[..40]);
        assert_eq!(at(SOCKET_FLAGS, b"seqpacket"), Some(SOCKET_WORDS - 1));
    }
}
