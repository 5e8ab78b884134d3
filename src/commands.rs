//! The 25 commands (§4): argument checks, effects and their output.
// Error messages are built in place without a heap, so they travel by value.
#![allow(clippy::result_large_err)]

use crate::controller::Dump;
use crate::exit;
use crate::fd_table::{self, FdObj, FdTable, Kind, fl};
use crate::fmt::Buf;
use crate::log::Level;
use crate::name::Name;
use crate::proto::{self, Cmd, Fields};
use crate::service::{self, State, Var};
use crate::signal;
use crate::supervisor::{Line, Supervisor};
use crate::sys::{self, Domain, Errno, SockType};

/// A command's error message (the text before `, for command "…"`).
pub type Msg = Buf<160>;
type CmdResult = Result<(), Msg>;

fn fail<T>(text: &[u8]) -> Result<T, Msg> {
    let mut m = Msg::new();
    m.s(text);
    Err(m)
}

fn fail_errno<T>(what: &[u8], e: Errno) -> Result<T, Msg> {
    let mut m = Msg::new();
    m.s(what).s(sys::strerror(e));
    Err(m)
}

fn unknown_flag<T>(flag: &[u8]) -> Result<T, Msg> {
    let mut m = Msg::new();
    m.s(b"unknown flag \"").s(flag).s(b"\"\n");
    Err(m)
}

fn int(f: Option<&[u8]>) -> Result<i64, Msg> {
    match f.and_then(proto::parse_int) {
        Some(v) => Ok(v),
        None => fail(b"Expected integer"),
    }
}

fn service_name(f: Option<&[u8]>) -> Result<&[u8], Msg> {
    match f {
        None | Some(b"") => fail(b"Expected service name"),
        Some(n) if !proto::valid_name(n) => fail(b"Invalid service name"),
        Some(n) => Ok(n),
    }
}

fn fd_name(f: Option<&[u8]>) -> Result<&[u8], Msg> {
    match f {
        None | Some(b"") => fail(b"Expected file descriptor name"),
        Some(n) if !proto::valid_name(n) => fail(b"Invalid file descriptor name"),
        Some(n) => Ok(n),
    }
}

fn assignable_fd_name(f: Option<&[u8]>) -> Result<&[u8], Msg> {
    let n = fd_name(f)?;
    if FdTable::is_constant(n) {
        return fail(b"File descriptor cannot be altered");
    }
    Ok(n)
}

fn new_obj(name: &[u8], kind: Kind, flags: u16, fd: sys::Fd) -> FdObj {
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
    }
}

/// Creates each missing parent directory of `path` (mode 0700), ignoring
/// errors.
fn make_parents(path: &[u8]) {
    for (i, &b) in path.iter().enumerate() {
        if b == b'/' && i > 0 {
            let _ = sys::mkdir(&path[..i], 0o700);
        }
    }
}

/// Socket domain and type from protocol flags.
#[derive(Default)]
struct SockFlags {
    inet: bool,
    inet6: bool,
    dgram: bool,
    seqpacket: bool,
    any: bool,
}

impl SockFlags {
    /// Applies one flag; false if it is not a socket flag.
    fn apply(&mut self, f: &[u8]) -> bool {
        match f {
            b"unix" => {}
            b"inet" => self.inet = true,
            b"inet6" => self.inet6 = true,
            b"tcp" => {
                self.inet = true;
                self.dgram = false;
            }
            b"udp" => {
                self.inet = true;
                self.dgram = true;
            }
            b"stream" => {
                self.dgram = false;
                self.seqpacket = false;
            }
            b"dgram" => self.dgram = true,
            b"seqpacket" => self.seqpacket = true,
            _ => return false,
        }
        self.any = true;
        true
    }

    fn domain(&self) -> Domain {
        if self.inet {
            Domain::Inet
        } else if self.inet6 {
            Domain::Inet6
        } else {
            Domain::Unix
        }
    }

    fn stype(&self) -> SockType {
        if self.dgram {
            SockType::Dgram
        } else if self.seqpacket {
            SockType::Seqpacket
        } else {
            SockType::Stream
        }
    }
}

/// Parses an inet ADDRSPEC: `*` or a dotted quad, optionally `:PORT`.
fn parse_inet(a: &[u8]) -> Option<([u8; 4], u16)> {
    let (host, port) = match memchr::memchr(b':', a) {
        Some(i) => (&a[..i], Some(&a[i + 1..])),
        None => (a, None),
    };
    let port = match port {
        Some(p) => proto::parse_int(p)? as u16,
        None => 0,
    };
    if host == b"*" {
        return Some(([0; 4], port));
    }
    if !host.iter().all(|&b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let mut ip = [0u8; 4];
    let mut n = 0;
    for part in host.split(|&b| b == b'.') {
        if n == 4 || part.is_empty() || part.len() > 3 {
            return None;
        }
        let v = part.iter().fold(0u32, |v, &d| v * 10 + (d - b'0') as u32);
        if v > 255 {
            return None;
        }
        ip[n] = v as u8;
        n += 1;
    }
    (n == 4).then_some((ip, port))
}

impl Supervisor {
    /// Runs one command line from controller `i` (§3.4).
    pub fn execute(&mut self, i: usize, line: &[u8]) {
        if self.log.enabled(Level::Debug) {
            let mut n = [0u8; 20];
            let n = crate::fmt::fmt_u64(i as u64, &mut n);
            self.log(
                Level::Debug,
                &[b"controller[", n, b"] command: \"", line, b"\""],
            );
        }
        if proto::is_ignored(line) {
            return;
        }
        let (name, args) = proto::split_command(line);
        let Some(cmd) = proto::command(name) else {
            let mut b = Line::new();
            b.s(b"error\tUnknown command: ").s(name);
            self.reply(i, b.as_bytes());
            let mut n = [0u8; 20];
            let n = crate::fmt::fmt_u64(i as u64, &mut n);
            self.log(
                Level::Error,
                &[b"controller[", n, b"] sent unknown command ", name],
            );
            return;
        };
        if let Err(msg) = self.run(i, cmd, args) {
            let mut b = Line::new();
            b.s(b"error\t").s(msg.as_bytes()).s(b", for command \"");
            if line.len() >= 30 {
                b.s(&line[..30]).s(b"...");
            } else {
                b.s(line);
            }
            b.c(b'"');
            self.reply(i, b.as_bytes());
            let mut n = [0u8; 20];
            let n = crate::fmt::fmt_u64(i as u64, &mut n);
            let shown = &line[..line.len().min(90)];
            let more: &[u8] = if line.len() >= 90 { b"..." } else { b"" };
            self.log(
                Level::Error,
                &[b"controller[", n, b"] command failed: '", shown, b"'", more],
            );
            self.log(Level::Error, &[b"  with error: '", msg.as_bytes(), b"'"]);
        }
    }

    fn run(&mut self, i: usize, cmd: Cmd, args: Option<&[u8]>) -> CmdResult {
        match cmd {
            Cmd::Echo => {
                if let Some(t) = args.filter(|t| !t.is_empty()) {
                    self.reply(i, t);
                }
                Ok(())
            }
            Cmd::Statedump => {
                self.ctl[i].dump = Some(Dump::new());
                Ok(())
            }
            Cmd::Chdir => self.cmd_chdir(args),
            Cmd::Exit => {
                self.ctl[i].in_eof = true;
                self.ctl[i].recv_len = 0;
                Ok(())
            }
            Cmd::ServiceArgs => self.cmd_service_var(args, Var::Args, b"unable to set argv"),
            Cmd::ServiceTags => self.cmd_service_var(args, Var::Tags, b"unable to set tags"),
            Cmd::ServiceFds => self.cmd_service_fds(i, args),
            Cmd::ServiceAutoUp => self.cmd_auto_up(args),
            Cmd::ServiceStart => self.cmd_service_start(args),
            Cmd::ServiceSignal => self.cmd_service_signal(args),
            Cmd::ServiceDelete => self.cmd_service_delete(args),
            Cmd::FdOpen => self.cmd_fd_open(args),
            Cmd::FdPipe => self.cmd_fd_pipe(args),
            Cmd::FdSocket => self.cmd_fd_socket(args),
            Cmd::FdTake => self.cmd_fd_take(i, args),
            Cmd::FdDelete => self.cmd_fd_delete(args),
            Cmd::SocketCreate => self.cmd_socket_create(args),
            Cmd::SocketDelete => {
                self.delete_control_socket();
                Ok(())
            }
            Cmd::LogFilter => self.cmd_log_filter(i, args),
            Cmd::LogDest => self.cmd_log_dest(i, args),
            Cmd::ConnEventTimeout => self.cmd_event_timeout(i, args),
            Cmd::SignalClear => {
                let mut f = Fields::new(args);
                let sig = signal::parse_arg(f.next()).or_else(|e| fail(e.text()))?;
                let by = int(f.next())?;
                self.signals.clear(sig, by);
                Ok(())
            }
            Cmd::Terminate => self.cmd_terminate(args),
            Cmd::TerminateExecArgs => match exit::set_exec_args(args.unwrap_or(b"")) {
                Ok(()) => Ok(()),
                Err(()) => fail(b"exec arguments exceed buffer size (255)"),
            },
            Cmd::TerminateGuard => self.cmd_terminate_guard(args),
        }
    }

    fn cmd_chdir(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let Some(path) = f.next() else {
            return fail(b"missing path argument");
        };
        if f.next().is_some() {
            return fail(b"unexpected argument after path");
        }
        sys::chdir(path).or_else(|e| fail_errno(b"chdir failed: ", e))
    }

    fn existing_service(&self, f: Option<&[u8]>) -> Result<usize, Msg> {
        let name = service_name(f)?;
        match self.services.find(name) {
            Some(s) => Ok(s),
            None => fail(b"No such service"),
        }
    }

    fn created_service(&mut self, f: Option<&[u8]>) -> Result<usize, Msg> {
        let name = service_name(f)?;
        match self.services.find_or_create(name) {
            Some(s) => Ok(s),
            None => fail(b"Unable to allocate new service"),
        }
    }

    fn cmd_service_var(&mut self, args: Option<&[u8]>, v: Var, err: &[u8]) -> CmdResult {
        let mut f = Fields::new(args);
        let slot = self.created_service(f.next())?;
        let val = f.rest().unwrap_or(b"");
        if self.services.set_var(slot, v, val).is_err() {
            return fail(err);
        }
        self.broadcast_var(slot, v);
        Ok(())
    }

    fn cmd_service_fds(&mut self, i: usize, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let slot = self.created_service(f.next())?;
        let val = f.rest().unwrap_or(b"");
        let list = Fields::new(f.rest());
        if list.clone().any(|n| !n.is_empty() && !proto::valid_name(n)) {
            return fail(b"invalid fd name");
        }
        let is_default = val == b"null\tnull\tnull";
        let stored: &[u8] = if is_default { b"" } else { val };
        if self.services.set_var(slot, Var::Fds, stored).is_err() {
            return fail(b"unable to set file descriptors");
        }
        let mut control = 0;
        for n in list {
            control |= match n {
                b"control.cmd" => service::CTL_CMD,
                b"control.event" => service::CTL_EVENT,
                b"control.socket" => service::CTL_SOCKET,
                _ => 0,
            };
        }
        let svc = self.services.get_mut(slot);
        svc.fds_default = is_default;
        svc.control = control;
        for n in list {
            if self.fds.find(n).is_none() {
                let mut b = Line::new();
                b.s(b"warning: fd \"").s(n).s(b"\" is not yet defined");
                self.reply(i, b.as_bytes());
            }
        }
        self.broadcast_var(slot, Var::Fds);
        Ok(())
    }

    fn cmd_auto_up(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let slot = self.created_service(f.next())?;
        let interval = match f.next() {
            Some(b"-") => None,
            field => {
                let v = int(field)?;
                if !(1..=2147483647).contains(&v) {
                    return fail(b"invalid interval");
                }
                Some(v as u32)
            }
        };
        if let Some(v) = interval {
            self.services.get_mut(slot).interval = v;
        }
        let text = f.rest().unwrap_or(b"");
        let mut always = false;
        let mut mask = 0u64;
        for t in Fields::new(f.rest()) {
            if t.is_empty() {
                break;
            }
            if t == b"always" {
                always = true;
            } else {
                match signal::by_name(t) {
                    Some(s) if (1..=signal::MAX_SIG as i32).contains(&s) => mask |= 1 << s,
                    Some(_) => {}
                    None => return fail(b"unable to set auto_up triggers"),
                }
            }
        }
        if self.services.set_var(slot, Var::Triggers, text).is_err() {
            return fail(b"unable to set auto_up triggers");
        }
        let svc = self.services.get_mut(slot);
        svc.always = always;
        svc.triggers = mask;
        if svc.wants_restart(self.signals.pending_mask()) {
            self.start_service(slot, self.now);
        }
        self.broadcast_var(slot, Var::Triggers);
        Ok(())
    }

    /// Makes a service start-pending at `at` and broadcasts it; false when
    /// it is running.
    pub fn start_service(&mut self, slot: usize, at: u64) -> bool {
        let was_pending = self.services.get(slot).state == State::Start;
        if self.services.get_mut(slot).request_start(at).is_err() {
            return false;
        }
        if !was_pending {
            self.pending_starts += 1;
        }
        self.broadcast_state(slot);
        true
    }

    fn cmd_service_start(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let slot = self.existing_service(f.next())?;
        let mut at = self.now;
        match f.next() {
            Some(b"-") => {
                if !self.services.get_mut(slot).cancel_start() {
                    return fail(b"no service.start pending");
                }
                self.pending_starts -= 1;
                self.broadcast_state(slot);
                return Ok(());
            }
            Some(ts) => {
                let t = match proto::parse_int(ts) {
                    Some(v) => (v as u64) << 32,
                    None => return fail(b"invalid timestamp"),
                };
                if (t.wrapping_sub(self.now) as i64) < -100_000 {
                    return fail(b"invalid timestamp");
                }
                if (t.wrapping_sub(self.now) as i64) > 0 {
                    at = t;
                }
            }
            None => {}
        }
        let a = self.services.var(slot, Var::Args);
        if a.is_empty() || a[0] == b'\t' {
            return fail(b"no args configured for service");
        }
        if !self.start_service(slot, at) {
            return fail(b"service is not startable");
        }
        Ok(())
    }

    fn cmd_service_signal(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let slot = self.existing_service(f.next())?;
        let sig = signal::parse_arg(f.next()).or_else(|e| fail(e.text()))?;
        let mut group = false;
        if let Some(flags) = f.next() {
            for item in proto::comma_items(flags) {
                if item != b"group" {
                    let mut m = Msg::new();
                    m.s(b"unknown option \"").s(item).c(b'"');
                    return Err(m);
                }
                group = true;
            }
        }
        let svc = *self.services.get(slot);
        if svc.state != State::Up {
            return fail(b"service is not running");
        }
        if let Err(e) = sys::kill(svc.pid, sig, group) {
            let mut m = Msg::new();
            m.s(b"can't kill ").s(svc.name.as_bytes());
            m.s(if group { b" (pgid " } else { b" (pid " })
                .i(svc.pid as i64);
            m.s(b"): ").s(sys::strerror(e));
            return Err(m);
        }
        Ok(())
    }

    fn cmd_service_delete(&mut self, args: Option<&[u8]>) -> CmdResult {
        let slot = self.existing_service(Fields::new(args).next())?;
        match self.services.get(slot).state {
            State::Up => return fail(b"service is running"),
            State::Start => self.pending_starts -= 1,
            State::Down | State::Free => {}
        }
        let mut b = Line::new();
        b.s(b"service.state\t")
            .s(self.services.get(slot).name.as_bytes());
        b.s(b"\tdeleted\t-\t-\t-\t-\t-\t-");
        self.services.delete(slot);
        self.broadcast(b.as_bytes());
        Ok(())
    }

    /// Names a new object, closing whatever carried the name before, and
    /// broadcasts its state.
    fn publish_fd(&mut self, slot: usize) {
        if let Some(old) = self.fds.publish(slot) {
            self.log.forget_fd(old);
            sys::close(old);
        }
    }

    fn cmd_fd_open(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let name = assignable_fd_name(f.next())?;
        let Some(flags) = f.next() else {
            return fail(b"missing flags argument");
        };
        let Some(path) = f.next() else {
            return fail(b"missing path argument");
        };
        if f.next().is_some() {
            return fail(b"unexpected argument after path");
        }
        let mut bits = 0u16;
        for item in proto::comma_items(flags).filter(|i| !i.is_empty()) {
            bits |= match item {
                b"read" => fl::READ,
                b"write" => fl::WRITE,
                b"append" => fl::APPEND,
                b"create" => fl::CREATE,
                b"trunc" => fl::TRUNC,
                b"nonblock" => fl::NONBLOCK,
                b"mkdir" => fl::MKDIR,
                _ => return unknown_flag(item),
            };
        }
        if bits & fl::MKDIR != 0 {
            make_parents(path);
        }
        use sys::oflag;
        let mut o = match (bits & fl::READ != 0, bits & fl::WRITE != 0) {
            (true, true) => oflag::RDWR,
            (false, true) => oflag::WRONLY,
            _ => oflag::RDONLY,
        };
        for (b, of) in [
            (fl::APPEND, oflag::APPEND),
            (fl::CREATE, oflag::CREAT),
            (fl::TRUNC, oflag::TRUNC),
            (fl::NONBLOCK, oflag::NONBLOCK),
        ] {
            if bits & b != 0 {
                o |= of;
            }
        }
        let fd = sys::open(path, o, 0o600).or_else(|e| fail_errno(b"open failed: ", e))?;
        let Some(slot) = self.fds.alloc(new_obj(name, Kind::File, bits, fd), path) else {
            sys::close(fd);
            return fail(b"Unable to allocate new file descriptor object");
        };
        self.publish_fd(slot);
        self.broadcast_fd(slot);
        Ok(())
    }

    fn cmd_fd_pipe(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let rname = assignable_fd_name(f.next())?;
        let wname = assignable_fd_name(f.next())?;
        let mut sock = SockFlags::default();
        let mut nonblock = false;
        if let Some(flags) = f.next() {
            for item in proto::comma_items(flags).filter(|i| !i.is_empty() && *i != b"-") {
                if item == b"nonblock" {
                    nonblock = true;
                } else if !sock.apply(item) {
                    return unknown_flag(item);
                }
            }
        }
        let (r, w) = if sock.any {
            sys::socketpair(sock.domain(), sock.stype())
                .or_else(|e| fail_errno(b"socketpair() failed: ", e))?
        } else {
            sys::pipe(false).or_else(|e| fail_errno(b"pipe() failed: ", e))?
        };
        let close_both = || {
            sys::close(r);
            sys::close(w);
        };
        if nonblock {
            for fd in [r, w] {
                if let Err(e) = sys::set_nonblock(fd, true) {
                    close_both();
                    return fail_errno(b"fcntl(O_NONBLOCK) failed: ", e);
                }
            }
        }
        let mut bits = if nonblock { fl::NONBLOCK } else { 0 };
        if sock.any {
            bits |= fl::SOCKPAIR;
        }
        let mut ro = new_obj(
            rname,
            Kind::Pipe,
            bits | if sock.any { 0 } else { fl::FROM },
            r,
        );
        let mut wo = new_obj(wname, Kind::Pipe, bits, w);
        for o in [&mut ro, &mut wo] {
            o.domain = fd_table::domain_code(sock.domain());
            o.stype = fd_table::type_code(sock.stype());
        }
        if self.fds.available() < 2 {
            close_both();
            return fail(b"failed to create pipe");
        }
        let (Some(rs), Some(ws)) = (self.fds.alloc(ro, b""), self.fds.alloc(wo, b"")) else {
            close_both();
            return fail(b"failed to create pipe");
        };
        self.fds.get_mut(rs).peer = ws as u16 + 1;
        self.fds.get_mut(ws).peer = rs as u16 + 1;
        self.publish_fd(rs);
        self.publish_fd(ws);
        self.broadcast_fd(rs);
        self.broadcast_fd(ws);
        Ok(())
    }

    fn cmd_fd_socket(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let name = assignable_fd_name(f.next())?;
        let Some(flags) = f.next() else {
            return fail(b"missing flags argument");
        };
        let mut sock = SockFlags::default();
        let (mut nonblock, mut mkdir, mut bind) = (false, false, false);
        let mut listen = 0u16;
        for item in proto::comma_items(flags).filter(|i| !i.is_empty()) {
            let (key, val) = match memchr::memchr(b'=', item) {
                Some(p) => (&item[..p], Some(&item[p + 1..])),
                None => (item, None),
            };
            match key {
                b"nonblock" => nonblock = true,
                b"mkdir" => mkdir = true,
                b"bind" => bind = true,
                b"listen" => {
                    bind = true;
                    listen = match val {
                        None | Some(b"") => 32,
                        Some(v) => match proto::parse_int(v) {
                            Some(n) if (1..=65535).contains(&n) => n as u16,
                            _ => return fail(b"invalid listen queue length"),
                        },
                    };
                }
                k if sock.apply(k) => {}
                _ => return unknown_flag(item),
            }
        }
        let addr = f.next();
        if f.next().is_some() {
            return fail(b"unexpected argument after address");
        }
        let domain = sock.domain();
        let mut inet = ([0u8; 4], 0u16);
        match addr {
            Some(a) => {
                bind = true;
                let ok = match domain {
                    Domain::Unix => (1..=107).contains(&a.len()),
                    Domain::Inet => parse_inet(a).map(|v| inet = v).is_some(),
                    Domain::Inet6 => false,
                };
                if !ok {
                    return fail(b"invalid address");
                }
            }
            None if bind => return fail(b"expected address argument"),
            None => {}
        }
        if mkdir && domain == Domain::Unix {
            make_parents(addr.unwrap_or(b""));
        }
        let fd = sys::socket(domain, sock.stype()).or_else(|e| fail_errno(b"socket: ", e))?;
        let step = || -> Result<(), Msg> {
            if bind {
                sys::set_reuseaddr(fd).or_else(|e| fail_errno(b"setsockopt: ", e))?;
                let r = match domain {
                    Domain::Unix => sys::bind_unix(fd, addr.unwrap_or(b"")),
                    _ => sys::bind_inet(fd, inet.0, inet.1),
                };
                r.or_else(|e| fail_errno(b"bind: ", e))?;
            }
            if listen > 0 {
                sys::listen(fd, listen as i32).or_else(|e| fail_errno(b"listen: ", e))?;
            }
            if nonblock {
                sys::set_nonblock(fd, true).or_else(|e| fail_errno(b"fcntl(O_NONBLOCK): ", e))?;
            }
            Ok(())
        };
        if let Err(m) = step() {
            sys::close(fd);
            return Err(m);
        }
        let mut bits = 0;
        for (on, b) in [
            (bind, fl::BIND),
            (mkdir, fl::MKDIR),
            (nonblock, fl::NONBLOCK),
        ] {
            if on {
                bits |= b;
            }
        }
        let mut o = new_obj(name, Kind::Socket, bits, fd);
        o.domain = fd_table::domain_code(domain);
        o.stype = fd_table::type_code(sock.stype());
        o.listen = listen;
        let Some(slot) = self.fds.alloc(o, addr.unwrap_or(b"")) else {
            sys::close(fd);
            return fail(b"Unable to allocate new file descriptor object");
        };
        self.publish_fd(slot);
        self.broadcast_fd(slot);
        Ok(())
    }

    fn cmd_fd_take(&mut self, i: usize, args: Option<&[u8]>) -> CmdResult {
        let Some(fd) = self.ctl[i].take_anc() else {
            return fail(b"No ancillary file descriptor received");
        };
        let name = match assignable_fd_name(Fields::new(args).next()) {
            Ok(n) => n,
            Err(m) => {
                sys::close(fd);
                return Err(m);
            }
        };
        let Some(slot) = self.fds.alloc(fd_table::introspect(name, fd), b"") else {
            sys::close(fd);
            return fail(b"Unable to allocate new file descriptor object");
        };
        self.publish_fd(slot);
        self.broadcast_fd(slot);
        Ok(())
    }

    fn cmd_fd_delete(&mut self, args: Option<&[u8]>) -> CmdResult {
        let name = fd_name(Fields::new(args).next())?;
        if FdTable::is_constant(name) {
            return fail(b"File descriptor cannot be altered");
        }
        let Some(slot) = self.fds.find(name) else {
            return fail(b"No such file descriptor");
        };
        let mut b = Line::new();
        b.s(b"fd.state\t").s(name).s(b"\tdeleted");
        self.broadcast(b.as_bytes());
        let fd = self.fds.get(slot).fd;
        self.fds.forget(slot);
        self.log.forget_fd(fd);
        sys::close(fd);
        Ok(())
    }

    fn cmd_socket_create(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let (Some(opts), Some(path)) = (f.next(), f.next()) else {
            return fail(b"missing argument");
        };
        if !opts.is_empty() && opts != b"-" {
            return fail(b"Invalid options");
        }
        if !self.create_control_socket(path) {
            return fail(b"Failed to create control socket");
        }
        Ok(())
    }

    /// Stops the control socket: close it and remove its path.
    pub fn delete_control_socket(&mut self) {
        if self.ctl_socket >= 0 {
            sys::close(self.ctl_socket);
            self.ctl_socket = -1;
            let _ = sys::unlink(self.ctl_socket_path.as_bytes());
            self.ctl_socket_path.clear();
        }
    }

    /// Listens on a unix socket at `path` for controllers (§8.6); failures
    /// are logged.
    pub fn create_control_socket(&mut self, path: &[u8]) -> bool {
        self.delete_control_socket();
        if path.is_empty() || path.len() > 107 {
            let e = if path.is_empty() {
                Errno::INVAL
            } else {
                Errno::NAMETOOLONG
            };
            self.log(
                Level::Error,
                &[b"bind(control_socket, ", path, b": ", sys::strerror(e)],
            );
            return false;
        }
        if let Ok((is_sock, uid)) = sys::lstat_socket_owner(path)
            && is_sock
            && uid == sys::geteuid()
        {
            match sys::unlink(path) {
                Ok(()) => self.log(Level::Info, &[b"Unlinked control socket ", path]),
                Err(e) => self.log(
                    Level::Error,
                    &[b"Can't unlink control socket: ", sys::strerror(e)],
                ),
            }
        }
        let fd = match sys::socket(Domain::Unix, SockType::Stream) {
            Ok(fd) => fd,
            Err(e) => {
                self.log(Level::Error, &[b"socket: ", sys::strerror(e)]);
                return false;
            }
        };
        let r = sys::bind_unix(fd, path)
            .map_err(|e| (&b"bind(control_socket, "[..], e, true))
            .and_then(|_| {
                sys::listen(fd, 2).map_err(|e| (&b"listen(control_socket): "[..], e, false))
            })
            .and_then(|_| {
                sys::set_nonblock(fd, true)
                    .map_err(|e| (&b"fcntl(control_socket, O_NONBLOCK): "[..], e, false))
            });
        if let Err((what, e, with_path)) = r {
            sys::close(fd);
            if with_path {
                self.log(Level::Error, &[what, path, b": ", sys::strerror(e)]);
            } else {
                self.log(Level::Error, &[what, sys::strerror(e)]);
            }
            return false;
        }
        self.ctl_socket = fd;
        self.ctl_socket_path.clear();
        self.ctl_socket_path.s(path);
        true
    }

    fn cmd_log_filter(&mut self, i: usize, args: Option<&[u8]>) -> CmdResult {
        if let Some(a) = args {
            self.log.filter = match a {
                b"+" => self.log.filter.step(1),
                b"-" => self.log.filter.step(-1),
                _ => match Level::by_name(a) {
                    Some(l) => l,
                    None => return fail(b"Invalid loglevel argument"),
                },
            };
        }
        let mut b = Line::new();
        b.s(b"log.filter\t").s(self.log.filter.name());
        self.reply(i, b.as_bytes());
        Ok(())
    }

    fn cmd_log_dest(&mut self, i: usize, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        match f.next() {
            None => return fail(b"missing argument"),
            Some(b"fd") => {}
            Some(_) => return fail(b"Unknown logging type"),
        }
        let name = fd_name(f.next())?;
        if self.fds.find(name).is_none() {
            let mut b = Line::new();
            b.s(b"warning\tfd \"").s(name).s(b"\" does not exist");
            self.reply(i, b.as_bytes());
        }
        self.log.set_dest(Name::new(name));
        let now = self.now;
        self.log.run(now, Supervisor::fd_lookup(&self.fds));
        exit::set_log_fd(self.log.fd());
        Ok(())
    }

    fn cmd_event_timeout(&mut self, i: usize, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let reset = int(f.next())?;
        let close = int(f.next())?;
        let range = 0..=0x7FFF_FFFF;
        if !range.contains(&reset) || !range.contains(&close) {
            return fail(b"invalid timeout (must be 0..7FFFFFFF)");
        }
        if reset > close {
            return fail(b"reset timeout is greater than close timeout");
        }
        self.ctl[i].reset_timeout = reset as u32;
        self.ctl[i].close_timeout = close as u32;
        Ok(())
    }

    fn cmd_terminate(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let code = int(f.next())?;
        let guard = exit::guard();
        if guard != 0 {
            let Some(g) = f.next() else {
                return fail(b"terminate guard code required");
            };
            if proto::parse_int(g) != Some(guard) {
                return fail(b"incorrect terminate guard code");
            }
            if !exit::exec_configured() {
                return fail(b"cannot exit, and exec-on-exit is not configured");
            }
        }
        self.terminate = Some(code);
        Ok(())
    }

    fn cmd_terminate_guard(&mut self, args: Option<&[u8]>) -> CmdResult {
        let mut f = Fields::new(args);
        let op = f.next();
        if op != Some(b"+") && op != Some(b"-") {
            return fail(b"expected + or -");
        }
        let code = int(f.next())?;
        if code == 0 {
            return fail(b"code cannot be 0");
        }
        let guard = exit::guard();
        if op == Some(b"+") {
            if guard != 0 {
                return fail(b"terminate guard code is already set");
            }
            exit::set_guard(code);
        } else {
            if guard == 0 {
                return fail(b"terminate guard was not set");
            }
            if guard != code {
                return fail(b"incorrect guard code");
            }
            exit::set_guard(0);
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
        assert_eq!(parse_inet(b"1.2.3.4:x"), None);
        assert_eq!(parse_inet(b""), None);
    }

    #[test]
    fn socket_flag_resolution() {
        let mut s = SockFlags::default();
        for f in [&b"udp"[..], b"stream"] {
            assert!(s.apply(f));
        }
        assert_eq!((s.domain(), s.stype()), (Domain::Inet, SockType::Stream));
        let mut s = SockFlags::default();
        s.apply(b"seqpacket");
        assert_eq!((s.domain(), s.stype()), (Domain::Unix, SockType::Seqpacket));
        assert!(!s.apply(b"bogus"));
    }
}
