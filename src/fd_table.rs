//! Named file descriptors (§7): the constants, inherited descriptors, files,
//! pipes and sockets, with their `fd.state` descriptions.

#[cfg(test)]
use crate::fmt::Buf;
use crate::fmt::Bytes;
use crate::name::Name;
use crate::pool::{Arena, Named, Span, Table};
use crate::proto;
use crate::sys::{self, Domain, Fd, Reservation, SockType};

/// What kind of object a name refers to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Kind {
    Free = 0,
    Special,
    File,
    Pipe,
    Socket,
}

/// Flag bits shown in `fd.state`: bit i is the i-th of fd.open's flag
/// words (`read` … `mkdir`), then `bind`; `FROM` marks the read end of a
/// plain pipe and `SOCKPAIR` a pipe made by socketpair.
pub mod fl {
    macro_rules! bits {
        ($($name:ident),*) => {
            bits!(@ 0; $($name),*);
        };
        (@ $bit:expr; $name:ident $(, $rest:ident)*) => {
            pub const $name: u16 = 1 << $bit;
            bits!(@ $bit + 1; $($rest),*);
        };
        (@ $bit:expr;) => {};
    }
    bits!(
        READ, WRITE, APPEND, CREATE, TRUNC, NONBLOCK, MKDIR, BIND, FROM, SOCKPAIR
    );
}

/// One named descriptor.
#[derive(Clone, Copy)]
pub struct FdObj {
    /// Its name.
    pub name: Name,
    /// Object kind.
    pub kind: Kind,
    /// Socket (or socketpair) domain: 0 unix, 1 inet, 2 inet6.
    pub domain: u8,
    /// Socket type: 0 stream, 1 dgram, 2 seqpacket.
    pub stype: u8,
    /// `fl::*` bits.
    pub flags: u16,
    /// listen backlog (0: not listening).
    pub listen: u16,
    /// Pipe peer slot + 1; 0 once the peer is gone.
    pub peer: u16,
    /// Inherited or received: the description is `unknown`.
    pub inherited: bool,
    /// The descriptor, if it has one (a constant other than `null`, a
    /// closed standard descriptor, any object under `--check`).
    pub fd: Option<Fd>,
    /// Where its description is stored (set by `FdTable::alloc`).
    pub desc: Span,
}

zeroable!(FdObj { name, kind = Kind::Free, domain, stype, flags, listen, peer, inherited, fd, desc });

impl FdObj {
    /// A new object: `kind` with `flags`, on `fd`, not a socket and not
    /// inherited; its description is stored by `FdTable::alloc`.
    pub fn new(name: &[u8], kind: Kind, flags: u16, fd: Option<Fd>) -> FdObj {
        FdObj {
            name: Name::new(name),
            kind,
            domain: 0,
            stype: 0,
            flags,
            listen: 0,
            peer: 0,
            inherited: false,
            fd,
            desc: Default::default(),
        }
    }
}

impl Named for FdObj {
    fn name(&self) -> &Name {
        &self.name
    }
}

/// Encodes a domain for `FdObj::domain`.
pub fn domain_code(d: Domain) -> u8 {
    match d {
        Domain::Unix => 0,
        Domain::Inet => 1,
        Domain::Inet6 => 2,
    }
}

/// Encodes a socket type for `FdObj::stype`.
pub fn type_code(t: SockType) -> u8 {
    match t {
        SockType::Stream => 0,
        SockType::Dgram => 1,
        SockType::Seqpacket => 2,
    }
}

/// Domain and type words by their codes.
const DOMAINS: &[u8] = b"unix inet inet6";
const TYPES: &[u8] = b"stream dgram seqpacket";
/// `,WORD` for the flag bits shown after a file's access mode, in order.
const FILE_FLAGS: [(u16, &[u8]); 5] = [
    (fl::APPEND, b",append"),
    (fl::CREATE, b",create"),
    (fl::TRUNC, b",trunc"),
    (fl::NONBLOCK, b",nonblock"),
    (fl::MKDIR, b",mkdir"),
];

/// `DOMAIN,TYPE` of a socket or socketpair.
fn write_socket_kind(b: &mut Bytes, o: &FdObj) {
    let word = |words, code: u8| proto::nth_word(words, code.into()).unwrap_or_default();
    b.bytes(word(DOMAINS, o.domain))
        .byte(b',')
        .bytes(word(TYPES, o.stype));
}

/// The constant handles and their descriptions (§7.2).
pub const SPECIALS: [(&[u8], u16, &[u8]); 4] = [
    (b"null", fl::READ | fl::WRITE, b"/dev/null"),
    (b"control.cmd", fl::WRITE, b"daemonproxy command pipe"),
    (b"control.event", fl::READ, b"daemonproxy event stream"),
    (
        b"control.socket",
        fl::READ | fl::WRITE,
        b"daemonproxy control socket",
    ),
];

/// Pool-mode description sizing (§7.8): objects of M bytes truncate paths.
#[derive(Clone, Copy)]
pub struct Truncation {
    obj_size: usize,
}

impl Truncation {
    fn capacity(&self, name_len: usize) -> usize {
        ((104 + self.obj_size + 15) & !15) - 72 - (name_len + 1)
    }
}

/// All named descriptors.
pub struct FdTable {
    obj: Table<FdObj>,
    desc: Arena,
    trunc: Option<Truncation>,
}

impl FdTable {
    /// Under `-M`, locks what the table grew into since the last call.
    #[cold]
    pub fn lock_grown(&mut self) {
        self.obj.lock_grown();
        self.desc.lock_grown();
    }

    /// Bytes `new` takes from a reservation.
    pub const fn size(count: usize, desc_bytes: usize) -> usize {
        Table::<FdObj>::size(count) + Arena::size(desc_bytes, count)
    }

    /// Room for `count` objects and `desc_bytes` of descriptions; with
    /// `obj_size`, descriptions are truncated as the original's pool did.
    #[cold]
    pub fn new(
        res: &mut Reservation,
        count: usize,
        desc_bytes: usize,
        obj_size: Option<usize>,
    ) -> Option<FdTable> {
        Some(FdTable {
            obj: Table::new(res, count)?,
            desc: Arena::new(res, desc_bytes, count)?,
            trunc: obj_size.map(|obj_size| Truncation { obj_size }),
        })
    }

    /// Allocates an unnamed object (not yet in the index), storing `desc`.
    /// None when the pool or the description store is full.
    pub fn alloc(&mut self, mut obj: FdObj, desc: &[u8]) -> Option<usize> {
        let slot = self.obj.alloc()?;
        obj.desc = Span::default();
        let stored = match self.trunc {
            Some(t) if desc.len() >= t.capacity(obj.name.len()) => {
                let keep = t.capacity(obj.name.len()).saturating_sub(4);
                self.store_desc(slot, &mut obj.desc, &[&desc[..keep], b"..."])
            }
            _ => self.store_desc(slot, &mut obj.desc, &[desc]),
        };
        if stored.is_err() {
            self.obj.release(slot);
            return None;
        }
        *self.obj.get_mut(slot) = obj;
        Some(slot)
    }

    /// Frees an object allocated by `alloc` that never got a name.
    pub fn unalloc(&mut self, slot: usize) {
        let o = self.obj.get_mut(slot);
        o.kind = Kind::Free;
        let mut span = o.desc;
        let _ = self.store_desc(slot, &mut span, &[]);
        self.obj.get_mut(slot).desc = span;
        self.obj.release(slot);
    }

    /// Replaces `slot`'s description (at `span`) in the arena, updating
    /// the other objects' spans if a compaction moves them.
    fn store_desc(&mut self, slot: usize, span: &mut Span, parts: &[&[u8]]) -> Result<(), ()> {
        let table = &mut self.obj;
        self.desc.replace(slot as u32, span, parts, &mut |o, off| {
            table.get_mut(o as usize).desc.moved_to(off)
        })
    }

    /// Gives `slot` its name, replacing any object of that name; returns the
    /// replaced object's descriptor, if it had one (for the caller to close).
    pub fn publish(&mut self, slot: usize) -> Option<Fd> {
        let name = self.obj.get(slot).name;
        let mut old_fd = None;
        if let Some(old) = self.obj.find(name.as_bytes()) {
            old_fd = self.obj.get(old).fd;
            self.forget(old);
        }
        if let Err(pos) = self.obj.search(name.as_bytes()) {
            self.obj.insert(pos, slot);
        }
        old_fd
    }

    /// Removes a named object without closing its descriptor; its pipe peer
    /// then shows `?`.
    pub fn forget(&mut self, slot: usize) {
        if let Ok(pos) = self.obj.search(self.obj.get(slot).name.as_bytes())
            && self.obj.sorted(pos) == Some(slot)
        {
            self.obj.remove(pos);
        }
        let peer = self.obj.get(slot).peer as usize;
        if peer > 0 && self.obj.get(peer - 1).peer as usize == slot + 1 {
            self.obj.get_mut(peer - 1).peer = 0;
        }
        self.unalloc(slot);
    }

    /// The object in `slot`, mutable.
    pub fn get_mut(&mut self, slot: usize) -> &mut FdObj {
        self.obj.get_mut(slot)
    }

    /// Descriptor currently carrying `name` (None if no such name, or no
    /// descriptor under it).
    pub fn fd_of(&self, name: &[u8]) -> Option<Fd> {
        self.named_fd(name).flatten()
    }

    /// The object named `name`'s descriptor: None if there is no such
    /// name, Some(None) if it carries none.
    pub fn named_fd(&self, name: &[u8]) -> Option<Option<Fd>> {
        self.find(name).map(|s| self.obj.get(s).fd)
    }

    /// The description shown in `fd.state`: the constants' texts and
    /// `unknown` are not stored.
    fn description(&self, slot: usize) -> &[u8] {
        let o = self.obj.get(slot);
        if o.kind == Kind::Special {
            SPECIALS
                .iter()
                .find(|s| s.0 == o.name.as_bytes())
                .map_or(b"", |s| s.2)
        } else if o.inherited {
            b"unknown"
        } else {
            self.desc.get(o.desc)
        }
    }

    /// Is `name` one of the constants?
    pub fn is_constant(name: &[u8]) -> bool {
        SPECIALS.iter().any(|&(n, _, _)| n == name)
    }

    /// Writes `fd.state\tNAME\tTYPE\tFLAGS\tDESCRIPTION`.
    pub fn write_state(&self, slot: usize, b: &mut Bytes) {
        let o = self.obj.get(slot);
        b.bytes(b"fd.state\t").bytes(o.name.as_bytes()).tab();
        let has = |f: u16| o.flags & f != 0;
        match o.kind {
            Kind::Free => {
                b.bytes(b"deleted");
            }
            Kind::Special | Kind::File => {
                b.bytes(if o.kind == Kind::Special {
                    b"special\t"
                } else {
                    b"file\t"
                });
                b.bytes(match (has(fl::READ), has(fl::WRITE)) {
                    (true, true) => b"read,write",
                    (false, true) => b"write",
                    _ => b"read",
                });
                for &(f, t) in &FILE_FLAGS {
                    if has(f) {
                        b.bytes(t);
                    }
                }
                b.tab().bytes(self.description(slot));
            }
            Kind::Pipe => {
                b.bytes(b"pipe\t");
                if has(fl::SOCKPAIR) {
                    write_socket_kind(b, o);
                    b.byte(b',');
                }
                if has(fl::NONBLOCK) {
                    b.bytes(b"nonblock,");
                }
                b.bytes(if has(fl::FROM) { b"from\t" } else { b"to\t" });
                match o.peer {
                    0 => b.byte(b'?'),
                    p => b.bytes(self.obj.get(p as usize - 1).name.as_bytes()),
                };
            }
            Kind::Socket => {
                b.bytes(b"socket\t");
                write_socket_kind(b, o);
                if has(fl::BIND) {
                    b.bytes(b",bind");
                }
                if o.listen > 0 {
                    b.bytes(b",listen=").uint(o.listen as u64);
                }
                if has(fl::MKDIR) {
                    b.bytes(b",mkdir");
                }
                if has(fl::NONBLOCK) {
                    b.bytes(b",nonblock");
                }
                b.tab().bytes(self.description(slot));
            }
        }
    }
}

/// The open(2) flags past the access mode and the flag bits they show as.
const OPEN_FLAG_BITS: [(u32, u16); 4] = [
    (sys::oflag::APPEND, fl::APPEND),
    (sys::oflag::CREAT, fl::CREATE),
    (sys::oflag::TRUNC, fl::TRUNC),
    (sys::oflag::NONBLOCK, fl::NONBLOCK),
];

/// open(2) flags for fd.open's flag bits.
pub fn open_flags(bits: u16) -> u32 {
    use sys::oflag;
    let mut o = match (bits & fl::READ != 0, bits & fl::WRITE != 0) {
        (true, true) => oflag::RDWR,
        (false, true) => oflag::WRONLY,
        _ => oflag::RDONLY,
    };
    for (of, b) in OPEN_FLAG_BITS {
        if bits & b != 0 {
            o |= of;
        }
    }
    o
}

/// The flag bits shown for a descriptor's status flags (§7.3).
#[cold]
fn flags_of(f: u32) -> u16 {
    use sys::oflag;
    let mut bits = match f & oflag::ACCMODE {
        oflag::WRONLY => fl::WRITE,
        oflag::RDWR => fl::READ | fl::WRITE,
        _ => fl::READ,
    };
    for (of, b) in OPEN_FLAG_BITS {
        if f & of != 0 {
            bits |= b;
        }
    }
    bits
}

/// The objects and their name index, read through the table (`get`,
/// `find`, `sorted`, `after`, `available`); changes go through the
/// table's methods.
impl core::ops::Deref for FdTable {
    type Target = Table<FdObj>;
    fn deref(&self) -> &Table<FdObj> {
        &self.obj
    }
}

/// An object for an inherited or received descriptor, flags found by
/// introspection (§7.3).
#[cold]
pub fn introspect(name: &[u8], fd: Fd) -> FdObj {
    sys::cold_ran();
    let mut o = FdObj {
        name: Name::new(name),
        kind: Kind::File,
        domain: 0,
        stype: 0,
        flags: 0,
        listen: 0,
        peer: 0,
        inherited: true,
        fd: Some(fd),
        desc: Default::default(),
    };
    if let Ok(f) = sys::status_flags(fd) {
        o.flags = flags_of(f);
    }
    if let Some((d, t)) = sys::socket_kind(fd) {
        o.kind = Kind::Socket;
        o.domain = domain_code(d);
        o.stype = type_code(t);
        o.flags &= fl::NONBLOCK;
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &[u8], kind: Kind, flags: u16) -> FdObj {
        FdObj::new(name, kind, flags, None)
    }

    fn table(count: usize, desc_bytes: usize, obj_size: Option<usize>) -> FdTable {
        let mut res = Reservation::new(FdTable::size(count, desc_bytes)).unwrap();
        FdTable::new(&mut res, count, desc_bytes, obj_size).unwrap()
    }

    fn ordered(t: &FdTable) -> Vec<usize> {
        (0..).map_while(|p| t.sorted(p)).collect()
    }

    fn state(t: &FdTable, s: usize) -> String {
        let mut b = Buf::<300>::new();
        t.write_state(s, &mut b);
        String::from_utf8(b.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn files_pipes_and_peers() {
        let mut t = table(8, 1024, None);
        let f = t
            .alloc(
                obj(b"f", Kind::File, fl::WRITE | fl::APPEND | fl::CREATE),
                b"/tmp/x",
            )
            .unwrap();
        assert_eq!(t.publish(f), None);
        assert_eq!(
            state(&t, f),
            "fd.state\tf\tfile\twrite,append,create\t/tmp/x"
        );
        let r = t.alloc(obj(b"r", Kind::Pipe, fl::FROM), b"").unwrap();
        let w = t.alloc(obj(b"w", Kind::Pipe, 0), b"").unwrap();
        t.get_mut(r).peer = w as u16 + 1;
        t.get_mut(w).peer = r as u16 + 1;
        t.publish(r);
        t.publish(w);
        assert_eq!(state(&t, r), "fd.state\tr\tpipe\tfrom\tw");
        assert_eq!(state(&t, w), "fd.state\tw\tpipe\tto\tr");
        t.forget(r);
        assert_eq!(state(&t, w), "fd.state\tw\tpipe\tto\t?");
        assert_eq!(ordered(&t), [f, w]);
    }

    #[test]
    fn replacing_a_name_returns_the_old_descriptor() {
        let mut t = table(4, 1024, None);
        let mut a = obj(b"a", Kind::File, fl::READ);
        a.fd = Some(Fd::low(10));
        let s1 = t.alloc(a, b"p").unwrap();
        t.publish(s1);
        a.fd = Some(Fd::low(11));
        let s2 = t.alloc(a, b"q").unwrap();
        assert_eq!(t.publish(s2), Some(Fd::low(10)));
        assert_eq!(t.fd_of(b"a"), Some(Fd::low(11)));
        assert_eq!(ordered(&t).len(), 1);
    }

    #[test]
    fn pool_mode_truncates_descriptions() {
        let mut t = table(4, 4 * 200, Some(32));
        let path = [b'p'; 129];
        let s = t.alloc(obj(b"f", Kind::File, fl::READ), &path).unwrap();
        t.publish(s);
        let line = state(&t, s);
        assert!(line.ends_with(&format!("{}...", "p".repeat(66))), "{line}");
    }

    #[test]
    fn sockets_show_their_flags() {
        let mut t = table(4, 1024, None);
        let mut o = obj(b"s", Kind::Socket, fl::BIND | fl::NONBLOCK | fl::MKDIR);
        o.listen = 32;
        let s = t.alloc(o, b"/x/s.sock").unwrap();
        t.publish(s);
        assert_eq!(
            state(&t, s),
            "fd.state\ts\tsocket\tunix,stream,bind,listen=32,mkdir,nonblock\t/x/s.sock"
        );
    }
}
