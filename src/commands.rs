//! The 25 commands (§4): argument checks, effects and their output.

use crate::controller::{Dump, Kind as CtlKind};
use crate::exit;
use crate::fd_table::{self, FdObj, FdTable, Kind, fl};
use crate::fmt::Bytes;
use crate::log::Level;
use crate::name::Name;
use crate::proto::{self, Cmd, Fields};
use crate::service::{self, State, Var};
use crate::signal;
use crate::supervisor::{Line, Supervisor};
use crate::sys::{self, Domain, Errno, SockType};
use crate::time::{Dur, Mono};

/// The fixed error messages of the commands (§4), named after their
/// texts. A failing check records one of these small values; the text is
/// looked up once, at the protocol edge.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Msg {
    ExpectedInteger,
    FileDescriptorCannotBeAltered,
    Setsockopt,
    Bind,
    Listen,
    FcntlNonblock,
    ExecArgumentsTooLong,
    NoSuchService,
    NoServiceObject,
    InvalidFdName,
    UnableToSetFileDescriptors,
    InvalidInterval,
    UnableToSetAutoUpTriggers,
    NoServiceStartPending,
    InvalidTimestamp,
    NoArgsConfiguredForService,
    ServiceIsNotStartable,
    ServiceIsNotRunning,
    ServiceIsRunning,
    NoFdObject,
    MissingFlagsArgument,
    MissingPathArgument,
    UnexpectedArgumentAfterPath,
    OpenFailed,
    SocketpairFailed,
    PipeFailed,
    FcntlNonblockFailed,
    FailedToCreatePipe,
    InvalidListenQueueLength,
    UnexpectedArgumentAfterAddress,
    InvalidAddress,
    ExpectedAddressArgument,
    Socket,
    NoAncillaryFd,
    NoSuchFileDescriptor,
    MissingArgument,
    InvalidOptions,
    FailedToCreateControlSocket,
    InvalidLoglevelArgument,
    UnknownLoggingType,
    InvalidTimeout,
    ResetAfterClose,
    GuardCodeRequired,
    IncorrectTerminateGuardCode,
    CannotExitWithoutExec,
    ChdirFailed,
    ExpectedPlusOrMinus,
    CodeCannotBe0,
    GuardAlreadySet,
    GuardNotSet,
    IncorrectGuardCode,
    ExpectedServiceName,
    InvalidServiceName,
    ExpectedFileDescriptorName,
    InvalidFileDescriptorName,
    UnableToSetArgv,
    UnableToSetTags,
    ExpectedSignalArgument,
    InvalidSignalNumber,
}

impl Msg {
    /// The texts, NUL-separated, in the order of the variants.
    const TEXTS: &'static [u8] = b"\
        Expected integer\0\
        File descriptor cannot be altered\0\
        setsockopt: \0\
        bind: \0\
        listen: \0\
        fcntl(O_NONBLOCK): \0\
        exec arguments exceed buffer size (255)\0\
        No such service\0\
        Unable to allocate new service\0\
        invalid fd name\0\
        unable to set file descriptors\0\
        invalid interval\0\
        unable to set auto_up triggers\0\
        no service.start pending\0\
        invalid timestamp\0\
        no args configured for service\0\
        service is not startable\0\
        service is not running\0\
        service is running\0\
        Unable to allocate new file descriptor object\0\
        missing flags argument\0\
        missing path argument\0\
        unexpected argument after path\0\
        open failed: \0\
        socketpair() failed: \0\
        pipe() failed: \0\
        fcntl(O_NONBLOCK) failed: \0\
        failed to create pipe\0\
        invalid listen queue length\0\
        unexpected argument after address\0\
        invalid address\0\
        expected address argument\0\
        socket: \0\
        No ancillary file descriptor received\0\
        No such file descriptor\0\
        missing argument\0\
        Invalid options\0\
        Failed to create control socket\0\
        Invalid loglevel argument\0\
        Unknown logging type\0\
        invalid timeout (must be 0..7FFFFFFF)\0\
        reset timeout is greater than close timeout\0\
        terminate guard code required\0\
        incorrect terminate guard code\0\
        cannot exit, and exec-on-exit is not configured\0\
        chdir failed: \0\
        expected + or -\0\
        code cannot be 0\0\
        terminate guard code is already set\0\
        terminate guard was not set\0\
        incorrect guard code\0\
        Expected service name\0\
        Invalid service name\0\
        Expected file descriptor name\0\
        Invalid file descriptor name\0\
        unable to set argv\0\
        unable to set tags\0\
        Expected signal argument\0\
        Invalid signal number";

    /// The message's text.
    pub fn text(self) -> &'static [u8] {
        proto::split(Msg::TEXTS, 0)
            .nth(self as usize)
            .unwrap_or_default()
    }
}

/// Why a command failed. A failing check only records which message
/// applies; the text (§3.4) is written once, at the protocol edge.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error<'a> {
    /// A fixed message.
    Text(Msg),
    /// A message ending in the text of an errno.
    Sys(Msg, Errno),
    /// `unknown flag "ITEM"`, with the newline the original puts after it.
    UnknownFlag(&'a [u8]),
    /// `unknown option "ITEM"`.
    UnknownOption(&'a [u8]),
    /// `can't kill NAME (pid N): ERROR`, `pgid` for a process group.
    Kill {
        name: &'a [u8],
        pid: i32,
        group: bool,
        errno: Errno,
    },
}

/// Longest error text; the rest is cut, as the original's buffer did.
const MESSAGE_MAX: usize = 160;

impl Error<'_> {
    /// Appends the message, cut to MESSAGE_MAX bytes.
    pub fn write(&self, m: &mut Bytes) {
        let start = m.len();
        match *self {
            Error::Text(t) => m.s(t.text()),
            Error::Sys(what, e) => m.s(what.text()).s(sys::strerror(e)),
            Error::UnknownFlag(f) => m.s(b"unknown flag \"").s(f).s(b"\"\n"),
            Error::UnknownOption(o) => m.s(b"unknown option \"").s(o).c(b'"'),
            Error::Kill {
                name,
                pid,
                group,
                errno,
            } => m
                .s(b"can't kill ")
                .s(name)
                .s(if group { b" (pgid " } else { b" (pid " })
                .i(pid as i64)
                .s(b"): ")
                .s(sys::strerror(errno)),
        };
        m.truncate(start + MESSAGE_MAX);
    }
}

type Result<'a, T = ()> = core::result::Result<T, Error<'a>>;

fn fail<'a, T>(msg: Msg) -> Result<'a, T> {
    Err(Error::Text(msg))
}

/// A SIGNAL argument (§3.5).
fn signal_arg<'a>(f: Option<&[u8]>) -> Result<'a, i32> {
    signal::parse_arg(f).map_err(|e| {
        Error::Text(match e {
            signal::SigArgError::Missing => Msg::ExpectedSignalArgument,
            signal::SigArgError::BadNumber => Msg::InvalidSignalNumber,
        })
    })
}

fn int<'a>(f: Option<&[u8]>) -> Result<'a, i64> {
    f.and_then(proto::parse_int)
        .ok_or(Error::Text(Msg::ExpectedInteger))
}

/// A service or fd name, or the message for a missing or invalid one.
#[inline(never)]
fn name<'a>(f: Option<&'a [u8]>, missing: Msg, invalid: Msg) -> Result<'a, &'a [u8]> {
    match f {
        None | Some(b"") => fail(missing),
        Some(n) if !proto::valid_name(n) => fail(invalid),
        Some(n) => Ok(n),
    }
}

fn service_name(f: Option<&[u8]>) -> Result<'_, &[u8]> {
    name(f, Msg::ExpectedServiceName, Msg::InvalidServiceName)
}

fn fd_name(f: Option<&[u8]>) -> Result<'_, &[u8]> {
    name(
        f,
        Msg::ExpectedFileDescriptorName,
        Msg::InvalidFileDescriptorName,
    )
}

/// An fd name that is not one of the constants.
#[inline(never)]
fn assignable_fd_name(f: Option<&[u8]>) -> Result<'_, &[u8]> {
    let n = fd_name(f)?;
    if FdTable::is_constant(n) {
        return fail(Msg::FileDescriptorCannotBeAltered);
    }
    Ok(n)
}

#[cold]
fn has_space(s: &[u8]) -> bool {
    proto::find_inline(s, b' ').is_some()
}

/// Creates each missing parent directory of `path` (mode 0700), ignoring
/// errors.
fn make_parents(path: &[u8]) {
    for (i, &b) in path.iter().enumerate().skip(1) {
        if b == b'/' {
            let _ = sys::mkdir(&path[..i], 0o700);
        }
    }
}

/// fd.open's flags: the i-th word is flag bit i (`fl::READ` … `fl::MKDIR`).
const OPEN_FLAGS: &[u8] = b"read write append create trunc nonblock mkdir";

/// open(2) flags for fd.open's flag bits.
fn open_flags(bits: u16) -> u32 {
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
    o
}

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

    fn domain(&self) -> Domain {
        if self.bits & INET != 0 {
            Domain::Inet
        } else if self.bits & INET6 != 0 {
            Domain::Inet6
        } else {
            Domain::Unix
        }
    }

    fn stype(&self) -> SockType {
        if self.bits & DGRAM != 0 {
            SockType::Dgram
        } else if self.bits & SEQPACKET != 0 {
            SockType::Seqpacket
        } else {
            SockType::Stream
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

/// The control socket step whose failure is logged with the path.
const CONTROL_BIND: &[u8] = b"bind(control_socket, ";

impl Supervisor {
    /// Runs one command line from controller `i` (§3.4).
    #[inline(never)]
    pub fn execute(&mut self, i: usize, line: &[u8]) {
        self.log_command_line(i, line);
        self.count_line(i);
        if proto::is_ignored(line) {
            return;
        }
        let (name, args) = proto::split_command(line);
        let Some(cmd) = proto::command(name) else {
            #[cfg(feature = "fault-injection")]
            crate::exit::inject_fault(name, args);
            self.unknown_command(i, line, name);
            return;
        };
        if let Err(e) = self.run(i, cmd, args) {
            self.command_failed(i, line, e);
        }
    }

    /// Debug-logs a line from controller `i` as the command it is.
    #[inline(always)]
    pub fn log_command_line(&mut self, i: usize, line: &[u8]) {
        if self.log.enabled(Level::Debug) {
            self.log_controller(Level::Debug, i, &[b"] command: \"", line, b"\""]);
        }
    }

    /// Replies `error\tUnknown command: NAME` and logs it. Cold, as
    /// failures are (see command_failed). The original reads a line as a
    /// C string and sees nothing past a NUL: a line that is blank up to
    /// one is ignored (a `#` there would have made it a comment).
    #[cold]
    #[inline(never)]
    fn unknown_command(&mut self, i: usize, line: &[u8], name: &[u8]) {
        sys::cold_ran();
        let mut seen = line.iter().take_while(|&&b| b != 0);
        if seen.all(|&b| matches!(b, b' ' | b'\t' | b'\r')) {
            return;
        }
        self.reply_parts(i, &[b"error\tUnknown command: ", name]);
        if self.ctl[i].kind == CtlKind::Config {
            // With no TAB, the whole line is the "name".
            let spaces = has_space(name);
            self.config_error(spaces, [b"Unknown command: ", name, b""]);
        } else {
            self.log_controller(Level::Error, i, &[b"] sent unknown command ", name]);
        }
    }

    /// Replies `error\tMESSAGE, for command "LINE"` and logs the failure.
    /// Cold: failures are rare, and this keeps them out of resident text.
    #[cold]
    #[inline(never)]
    fn command_failed(&mut self, i: usize, line: &[u8], e: Error) {
        sys::cold_ran();
        let mut b = Line::new();
        b.s(b"error\t");
        e.write(&mut b);
        let message = 6..b.len();
        b.s(b", for command \"");
        if line.len() >= 30 {
            b.s(&line[..30]).s(b"...");
        } else {
            b.s(line);
        }
        b.c(b'"');
        self.reply(i, b.as_bytes());
        if self.ctl[i].kind == CtlKind::Config {
            let text = &b.as_bytes()[message];
            let text = text.strip_suffix(b"\n").unwrap_or(text);
            let spaces = has_space(line)
                && matches!(
                    e,
                    Error::Text(
                        Msg::InvalidServiceName
                            | Msg::InvalidFileDescriptorName
                            | Msg::InvalidFdName
                            | Msg::ExpectedInteger
                    )
                );
            self.config_error(spaces, [proto::split_command(line).0, b": ", text]);
            return;
        }
        let shown = &line[..line.len().min(90)];
        let more: &[u8] = if line.len() >= 90 { b"..." } else { b"" };
        self.log_controller(
            Level::Error,
            i,
            &[b"] command failed: '", shown, b"'", more],
        );
        let message = &b.as_bytes()[message];
        self.log(Level::Error, &[b"  with error: '", message, b"'"]);
    }

    fn run<'a>(&mut self, i: usize, cmd: Cmd, args: Option<&'a [u8]>) -> Result<'a> {
        match cmd {
            Cmd::Echo => {
                if let Some(t) = args.filter(|t| !t.is_empty()) {
                    self.reply(i, t);
                }
                Ok(())
            }
            Cmd::Statedump => {
                // Three more steps of the original's pass (§11.1).
                self.ctl[i].step(3);
                self.ctl[i].dump = Some(Dump::new());
                Ok(())
            }
            Cmd::Chdir => cmd_chdir(args, self.check),
            Cmd::Exit => {
                self.ctl[i].stop_input();
                Ok(())
            }
            Cmd::ServiceArgs => self.cmd_service_var(args, Var::Args, Msg::UnableToSetArgv),
            Cmd::ServiceTags => self.cmd_service_var(args, Var::Tags, Msg::UnableToSetTags),
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
                let sig = signal_arg(f.next())?;
                let by = int(f.next())?;
                self.signals.clear(sig, by);
                Ok(())
            }
            Cmd::Terminate => self.cmd_terminate(i, args),
            Cmd::TerminateExecArgs => {
                exit::set_exec_args(args.unwrap_or(b"")).or(fail(Msg::ExecArgumentsTooLong))
            }
            Cmd::TerminateGuard => cmd_terminate_guard(args),
        }
    }

    fn find_service<'a>(&self, name: &[u8]) -> Result<'a, usize> {
        self.services
            .find(name)
            .ok_or(Error::Text(Msg::NoSuchService))
    }

    /// The service named by `f`, created if it does not exist.
    #[inline(never)]
    fn created_service<'a>(&mut self, f: Option<&'a [u8]>) -> Result<'a, usize> {
        let name = service_name(f)?;
        self.services
            .find_or_create(name)
            .ok_or(Error::Text(Msg::NoServiceObject))
    }

    fn cmd_service_var<'a>(&mut self, args: Option<&'a [u8]>, v: Var, err: Msg) -> Result<'a> {
        let mut f = Fields::new(args);
        let slot = self.created_service(f.next())?;
        let val = f.rest().unwrap_or(b"");
        if self.services.set_var(slot, v, val).is_err() {
            return fail(err);
        }
        self.broadcast_var(slot, v);
        Ok(())
    }

    fn cmd_service_fds<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let slot = self.created_service(f.next())?;
        let val = f.rest().unwrap_or(b"");
        let list = Fields::new(f.rest());
        // Each name in turn is checked, then looked up: the warnings for
        // the names before an invalid one still come, as in the original.
        for n in list {
            if !n.is_empty() && !proto::valid_name(n) {
                return fail(Msg::InvalidFdName);
            }
            if self.fds.find(n).is_none() {
                self.reply_parts(i, &[b"warning: fd \"", n, b"\" is not yet defined"]);
            }
        }
        let is_default = val == b"null\tnull\tnull";
        let stored: &[u8] = if is_default { b"" } else { val };
        if self.services.set_var(slot, Var::Fds, stored).is_err() {
            return fail(Msg::UnableToSetFileDescriptors);
        }
        let control = list.fold(0, |c, n| {
            c | proto::word_index(service::CONTROL_NAMES, n).map_or(0, |k| 1 << k)
        });
        let svc = self.services.get_mut(slot);
        svc.fds_default = is_default;
        svc.control = control;
        self.broadcast_var(slot, Var::Fds);
        Ok(())
    }

    fn cmd_auto_up<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let slot = self.created_service(f.next())?;
        match f.next() {
            Some(b"-") => {}
            field => {
                let v = int(field)?;
                if !(1..=i32::MAX as i64).contains(&v) {
                    return fail(Msg::InvalidInterval);
                }
                self.services.get_mut(slot).interval = v as u32;
            }
        }
        let text = f.rest().unwrap_or(b"");
        let mut always = false;
        let mut mask = 0u64;
        for t in Fields::new(f.rest()).take_while(|t| !t.is_empty()) {
            if t == b"always" {
                always = true;
                continue;
            }
            match signal::by_name(t) {
                Some(s) if (1..=signal::MAX_SIG as i32).contains(&s) => mask |= 1 << s,
                Some(_) => {}
                None => return fail(Msg::UnableToSetAutoUpTriggers),
            }
        }
        if self.services.set_var(slot, Var::Triggers, text).is_err() {
            return fail(Msg::UnableToSetAutoUpTriggers);
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

    fn cmd_service_start<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let slot = self.find_service(service_name(f.next())?)?;
        let mut at = self.now;
        match f.next() {
            Some(b"-") => {
                if !self.services.cancel_start(slot) {
                    return fail(Msg::NoServiceStartPending);
                }
                self.broadcast_state(slot);
                return Ok(());
            }
            Some(ts) => {
                let Some(t) = proto::parse_int(ts).map(|v| Mono::from_secs(v as u64)) else {
                    return fail(Msg::InvalidTimestamp);
                };
                // The original's slack: 100000 units (about 23 µs), so a
                // second that has begun is already in the past.
                if t + Dur::from_raw(100_000) < self.now {
                    return fail(Msg::InvalidTimestamp);
                }
                if t > self.now {
                    at = t;
                }
            }
            None => {}
        }
        if matches!(
            self.services.var(slot, Var::Args).first(),
            None | Some(b'\t')
        ) {
            return fail(Msg::NoArgsConfiguredForService);
        }
        if !self.start_service(slot, at) {
            return fail(Msg::ServiceIsNotStartable);
        }
        Ok(())
    }

    fn cmd_service_signal<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let name = service_name(f.next())?;
        let slot = self.find_service(name)?;
        let sig = signal_arg(f.next())?;
        let options = f.next();
        if let Some(bad) = options.and_then(|o| proto::split(o, b',').find(|&o| o != b"group")) {
            return Err(Error::UnknownOption(bad));
        }
        let group = options.is_some();
        if self.check {
            return Ok(());
        }
        let svc = self.services.get(slot);
        if svc.state() != State::Up {
            return fail(Msg::ServiceIsNotRunning);
        }
        let pid = svc.pid;
        sys::kill(pid, sig, group).map_err(|errno| Error::Kill {
            name,
            pid,
            group,
            errno,
        })
    }

    fn cmd_service_delete<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let slot = self.find_service(service_name(Fields::new(args).next())?)?;
        if self.services.delete(slot).is_err() {
            return fail(Msg::ServiceIsRunning);
        }
        self.broadcast_state(slot);
        Ok(())
    }

    /// Names a new object, closing whatever carried the name before.
    fn publish_fd(&mut self, slot: usize) {
        if let Some(old) = self.fds.publish(slot) {
            self.log.forget_fd(old);
            sys::close(old);
        }
        // A detached log attaches by name on the loop's next pass (§10.4).
        if self.log.fd() < 0 {
            self.loop_due = true;
        }
    }

    /// Stores a new object under its name and announces it; when the pool
    /// is full, its descriptor is closed instead.
    #[inline(never)]
    fn add_fd<'a>(&mut self, obj: FdObj, desc: &[u8]) -> Result<'a> {
        let Some(slot) = self.fds.alloc(obj, desc) else {
            sys::close(obj.fd);
            return fail(Msg::NoFdObject);
        };
        self.publish_fd(slot);
        self.broadcast_fd(slot);
        Ok(())
    }

    fn cmd_fd_open<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let name = assignable_fd_name(f.next())?;
        let Some(flags) = f.next() else {
            return fail(Msg::MissingFlagsArgument);
        };
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
            -1
        } else {
            if bits & fl::MKDIR != 0 {
                make_parents(path);
            }
            sys::open(path, open_flags(bits), 0o600).map_err(|e| Error::Sys(Msg::OpenFailed, e))?
        };
        self.add_fd(FdObj::new(name, Kind::File, bits, fd), path)
    }

    fn cmd_fd_pipe<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
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
            (-1, -1)
        } else if sock.any {
            sys::socketpair(sock.domain(), sock.stype())
                .map_err(|e| Error::Sys(Msg::SocketpairFailed, e))?
        } else {
            sys::pipe(false).map_err(|e| Error::Sys(Msg::PipeFailed, e))?
        };
        let close_both = || {
            sys::close(r);
            sys::close(w);
        };
        if bits != 0 && !self.check {
            for fd in [r, w] {
                if let Err(e) = sys::set_nonblock(fd, true) {
                    close_both();
                    return Err(Error::Sys(Msg::FcntlNonblockFailed, e));
                }
            }
        }
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

    fn cmd_fd_socket<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let name = assignable_fd_name(f.next())?;
        let Some(flags) = f.next() else {
            return fail(Msg::MissingFlagsArgument);
        };
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
            -1
        } else {
            if bits & fl::MKDIR != 0 && domain == Domain::Unix {
                make_parents(addr);
            }
            let fd = sys::socket(domain, sock.stype()).map_err(|e| Error::Sys(Msg::Socket, e))?;
            if let Err(e) = set_up_socket(fd, bits, listen, addr, inet) {
                sys::close(fd);
                return Err(e);
            }
            fd
        };
        let mut o = FdObj::new(name, Kind::Socket, bits, fd);
        o.domain = fd_table::domain_code(domain);
        o.stype = fd_table::type_code(sock.stype());
        o.listen = listen;
        self.add_fd(o, addr)
    }

    fn cmd_fd_take<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
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

    fn cmd_fd_delete<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
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
        self.log.forget_fd(fd);
        sys::close(fd);
        Ok(())
    }

    fn cmd_socket_create<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let (Some(opts), Some(path)) = (f.next(), f.next()) else {
            return fail(Msg::MissingArgument);
        };
        if !opts.is_empty() && opts != b"-" {
            return fail(Msg::InvalidOptions);
        }
        if !self.check && !self.create_control_socket(path) {
            return fail(Msg::FailedToCreateControlSocket);
        }
        Ok(())
    }

    /// Stops the control socket: close it and remove its path.
    #[cold]
    pub fn delete_control_socket(&mut self) {
        sys::cold_ran();
        if self.ctl_socket >= 0 {
            sys::close(self.ctl_socket);
            self.ctl_socket = -1;
            let path = core::mem::take(&mut self.ctl_socket_path);
            let _ = self.remove_socket(path.as_bytes());
        }
    }

    /// Removes a socket of ours at `path`, logging it (§8.6). Err(uid) when
    /// the socket there belongs to another user: not ours to remove.
    #[cold]
    fn remove_socket(&mut self, path: &[u8]) -> core::result::Result<(), u32> {
        let Ok((true, uid)) = sys::lstat_socket_owner(path) else {
            return Ok(());
        };
        if uid != sys::geteuid() {
            return Err(uid);
        }
        match sys::unlink(path) {
            Ok(()) => self.log(Level::Info, &[b"Unlinked control socket ", path]),
            Err(e) => self.log(
                Level::Error,
                &[b"Can't unlink control socket: ", sys::strerror(e)],
            ),
        }
        Ok(())
    }

    /// Listens on a unix socket at `path` for controllers (§8.6), in place
    /// of the current one; failures are logged. A path that cannot be bound
    /// leaves the current socket working.
    #[cold]
    pub fn create_control_socket(&mut self, path: &[u8]) -> bool {
        sys::cold_ran();
        let r = match path.len() {
            0 => Err((CONTROL_BIND, Errno::INVAL)),
            108.. => Err((CONTROL_BIND, Errno::NAMETOOLONG)),
            _ => {
                self.delete_control_socket();
                if let Err(uid) = self.remove_socket(path) {
                    let mut n = [0u8; 20];
                    let n = crate::fmt::fmt_u64(uid as u64, &mut n);
                    self.log(
                        Level::Error,
                        &[
                            b"control socket ",
                            path,
                            b" belongs to uid ",
                            n,
                            b", not replacing it",
                        ],
                    );
                    return false;
                }
                listen_control(path)
            }
        };
        match r {
            Ok(fd) => {
                self.ctl_socket = fd;
                self.ctl_socket_path.clear();
                self.ctl_socket_path.s(path);
                true
            }
            Err((what, e)) => {
                let (path, colon): (&[u8], &[u8]) = if what == CONTROL_BIND {
                    (path, b": ")
                } else {
                    (b"", b"")
                };
                self.log(Level::Error, &[what, path, colon, sys::strerror(e)]);
                false
            }
        }
    }

    fn cmd_log_filter<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
        // The first field: later ones are ignored (§3.5).
        if let Some(a) = Fields::new(args).next() {
            let filter = match a {
                b"+" => self.log.filter.step(1),
                b"-" => self.log.filter.step(-1),
                _ => Level::by_name(a).ok_or(Error::Text(Msg::InvalidLoglevelArgument))?,
            };
            // A check reports at the level it started with.
            if !self.check {
                self.log.filter = filter;
            }
        }
        self.reply_parts(i, &[b"log.filter\t", self.log.filter.name()]);
        Ok(())
    }

    fn cmd_log_dest<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        match f.next() {
            None => return fail(Msg::MissingArgument),
            Some(b"fd") => {}
            Some(_) => return fail(Msg::UnknownLoggingType),
        }
        let name = fd_name(f.next())?;
        if self.fds.find(name).is_none() {
            self.reply_parts(i, &[b"warning\tfd \"", name, b"\" does not exist"]);
        }
        if !self.check {
            self.log.set_dest(Name::new(name));
            self.run_log();
        }
        Ok(())
    }

    fn cmd_event_timeout<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let reset = int(f.next())?;
        let close = int(f.next())?;
        let range = 0..=0x7FFF_FFFF;
        if !range.contains(&reset) || !range.contains(&close) {
            return fail(Msg::InvalidTimeout);
        }
        if reset > close {
            return fail(Msg::ResetAfterClose);
        }
        self.ctl[i].reset_timeout = reset as u32;
        self.ctl[i].close_timeout = close as u32;
        Ok(())
    }

    fn cmd_terminate<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let code = int(f.next())?;
        let guard = exit::guard();
        if guard != 0 {
            let Some(g) = f.next() else {
                return fail(Msg::GuardCodeRequired);
            };
            if proto::parse_int(g) != Some(guard) {
                return fail(Msg::IncorrectTerminateGuardCode);
            }
            if !exit::exec_configured() {
                return fail(Msg::CannotExitWithoutExec);
            }
        }
        self.terminate = Some(code);
        // The loop ends after this pass: where it ends for each controller.
        for (k, c) in self.ctl.iter_mut().enumerate() {
            c.last_pass(k == i);
        }
        Ok(())
    }
}

/// The control socket's steps; Err names the failed one.
#[cold]
fn listen_control(path: &[u8]) -> core::result::Result<sys::Fd, (&'static [u8], Errno)> {
    let fd = sys::socket(Domain::Unix, SockType::Stream).map_err(|e| (&b"socket: "[..], e))?;
    let r = sys::bind_unix(fd, path)
        .map_err(|e| (CONTROL_BIND, e))
        .and_then(|_| sys::listen(fd, 2).map_err(|e| (&b"listen(control_socket): "[..], e)))
        .and_then(|_| {
            sys::set_nonblock(fd, true)
                .map_err(|e| (&b"fcntl(control_socket, O_NONBLOCK): "[..], e))
        });
    if r.is_err() {
        sys::close(fd);
    }
    r.map(|_| fd)
}

fn cmd_chdir(args: Option<&[u8]>, check: bool) -> Result<'_> {
    let mut f = Fields::new(args);
    let Some(path) = f.next() else {
        return fail(Msg::MissingPathArgument);
    };
    if f.next().is_some() {
        return fail(Msg::UnexpectedArgumentAfterPath);
    }
    if check {
        return Ok(());
    }
    sys::chdir(path).map_err(|e| Error::Sys(Msg::ChdirFailed, e))
}

fn cmd_terminate_guard(args: Option<&[u8]>) -> Result<'_> {
    let mut f = Fields::new(args);
    let set = match f.next() {
        Some(b"+") => true,
        Some(b"-") => false,
        _ => return fail(Msg::ExpectedPlusOrMinus),
    };
    let code = int(f.next())?;
    if code == 0 {
        return fail(Msg::CodeCannotBe0);
    }
    let guard = exit::guard();
    if set {
        if guard != 0 {
            return fail(Msg::GuardAlreadySet);
        }
        exit::set_guard(code);
    } else {
        if guard == 0 {
            return fail(Msg::GuardNotSet);
        }
        if guard != code {
            return fail(Msg::IncorrectGuardCode);
        }
        exit::set_guard(0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::Buf;

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

    #[test]
    fn message_texts() {
        assert_eq!(Msg::ExpectedInteger.text(), b"Expected integer");
        assert_eq!(Msg::InvalidSignalNumber.text(), b"Invalid signal number");
        assert_eq!(Msg::IncorrectGuardCode.text(), b"incorrect guard code");
        let count = Msg::TEXTS.split(|&b| b == 0).count();
        assert_eq!(count, Msg::InvalidSignalNumber as usize + 1);
    }

    #[test]
    fn error_texts() {
        let text = |e: Error| {
            let mut m = Buf::<300>::new();
            e.write(&mut m);
            String::from_utf8(m.as_bytes().to_vec()).unwrap()
        };
        assert_eq!(text(Error::UnknownFlag(b"x")), "unknown flag \"x\"\n");
        assert_eq!(
            text(Error::Kill {
                name: b"s",
                pid: 7,
                group: true,
                errno: Errno::SRCH
            }),
            "can't kill s (pgid 7): No such process"
        );
        assert_eq!(
            text(Error::Sys(Msg::Bind, Errno::ACCESS)),
            "bind: Permission denied"
        );
        assert_eq!(text(Error::UnknownFlag(&[b'x'; 200])).len(), 160);
    }
}
