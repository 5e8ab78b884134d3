//! The 25 commands (§4): the command table's dispatch, argument checks and
//! the error messages. The handlers live by family next to what they
//! change: `service` (the service table), `fd` (the fd table), `control`
//! (the log, the control socket, controllers) and `terminate`.

mod control;
mod fd;
mod service;
mod terminate;

use crate::controller::{Dump, Kind as CtlKind};
use crate::errtext;
use crate::exit;
use crate::fmt::Bytes;
use crate::log::Level;
use crate::proto::{self, Cmd, Fields};
use crate::service::Var;
use crate::signal;
use crate::supervisor::{Line, Supervisor};
use crate::sys::{self, Errno};

/// Declares `Msg` and its texts from one list of `Variant => "text"`.
macro_rules! messages {
    ($($variant:ident => $text:literal,)*) => {
        /// The fixed error messages of the commands (§4), named after their
        /// texts. A failing check records one of these small values; the
        /// text is looked up once, at the protocol edge.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr(u8)]
        pub enum Msg {
            $($variant,)*
        }

        impl Msg {
            /// The texts, each ending in a NUL, in the order of the variants.
            const TEXTS: &'static [u8] = concat!($($text, "\0",)*).as_bytes();
        }
    };
}

messages! {
    ExpectedInteger => "Expected integer",
    FileDescriptorCannotBeAltered => "File descriptor cannot be altered",
    Setsockopt => "setsockopt: ",
    Bind => "bind: ",
    Listen => "listen: ",
    FcntlNonblock => "fcntl(O_NONBLOCK): ",
    ExecArgumentsTooLong => "exec arguments exceed buffer size (255)",
    NoSuchService => "No such service",
    NoServiceObject => "Unable to allocate new service",
    InvalidFdName => "invalid fd name",
    UnableToSetFileDescriptors => "unable to set file descriptors",
    InvalidInterval => "invalid interval",
    UnableToSetAutoUpTriggers => "unable to set auto_up triggers",
    NoServiceStartPending => "no service.start pending",
    InvalidTimestamp => "invalid timestamp",
    NoArgsConfiguredForService => "no args configured for service",
    ServiceIsNotStartable => "service is not startable",
    ServiceIsNotRunning => "service is not running",
    ServiceIsRunning => "service is running",
    NoFdObject => "Unable to allocate new file descriptor object",
    MissingFlagsArgument => "missing flags argument",
    MissingPathArgument => "missing path argument",
    UnexpectedArgumentAfterPath => "unexpected argument after path",
    OpenFailed => "open failed: ",
    SocketpairFailed => "socketpair() failed: ",
    PipeFailed => "pipe() failed: ",
    FcntlNonblockFailed => "fcntl(O_NONBLOCK) failed: ",
    FailedToCreatePipe => "failed to create pipe",
    InvalidListenQueueLength => "invalid listen queue length",
    UnexpectedArgumentAfterAddress => "unexpected argument after address",
    InvalidAddress => "invalid address",
    ExpectedAddressArgument => "expected address argument",
    Socket => "socket: ",
    NoAncillaryFd => "No ancillary file descriptor received",
    NoSuchFileDescriptor => "No such file descriptor",
    MissingArgument => "missing argument",
    InvalidOptions => "Invalid options",
    FailedToCreateControlSocket => "Failed to create control socket",
    InvalidLoglevelArgument => "Invalid loglevel argument",
    UnknownLoggingType => "Unknown logging type",
    InvalidTimeout => "invalid timeout (must be 0..7FFFFFFF)",
    ResetAfterClose => "reset timeout is greater than close timeout",
    GuardCodeRequired => "terminate guard code required",
    IncorrectTerminateGuardCode => "incorrect terminate guard code",
    CannotExitWithoutExec => "cannot exit, and exec-on-exit is not configured",
    ChdirFailed => "chdir failed: ",
    ExpectedPlusOrMinus => "expected + or -",
    CodeCannotBe0 => "code cannot be 0",
    GuardAlreadySet => "terminate guard code is already set",
    GuardNotSet => "terminate guard was not set",
    IncorrectGuardCode => "incorrect guard code",
    ExpectedServiceName => "Expected service name",
    InvalidServiceName => "Invalid service name",
    ExpectedFileDescriptorName => "Expected file descriptor name",
    InvalidFileDescriptorName => "Invalid file descriptor name",
    UnableToSetArgv => "unable to set argv",
    UnableToSetTags => "unable to set tags",
    ExpectedSignalArgument => "Expected signal argument",
    InvalidSignalNumber => "Invalid signal number",
}

impl Msg {
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
            Error::Text(t) => m.bytes(t.text()),
            Error::Sys(what, e) => m.bytes(what.text()).bytes(errtext::strerror(e)),
            Error::UnknownFlag(f) => m.bytes(b"unknown flag \"").bytes(f).bytes(b"\"\n"),
            Error::UnknownOption(o) => m.bytes(b"unknown option \"").bytes(o).byte(b'"'),
            Error::Kill {
                name,
                pid,
                group,
                errno,
            } => m
                .bytes(b"can't kill ")
                .bytes(name)
                .bytes(if group { b" (pgid " } else { b" (pid " })
                .int(pid as i64)
                .bytes(b"): ")
                .bytes(errtext::strerror(errno)),
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

#[cold]
fn has_space(s: &[u8]) -> bool {
    proto::find_inline(s, b' ').is_some()
}

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
        if let Err(e) = self.dispatch(i, cmd, args) {
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
        b.bytes(b"error\t");
        e.write(&mut b);
        let message = 6..b.len();
        b.bytes(b", for command \"");
        if line.len() >= 30 {
            b.bytes(&line[..30]).bytes(b"...");
        } else {
            b.bytes(line);
        }
        b.byte(b'"');
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

    /// Runs command `cmd` with its arguments for controller `i`: the
    /// command table, one arm per command.
    fn dispatch<'a>(&mut self, i: usize, cmd: Cmd, args: Option<&'a [u8]>) -> Result<'a> {
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
            Cmd::Chdir => control::cmd_chdir(args, self.check),
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
            Cmd::TerminateGuard => terminate::cmd_terminate_guard(args),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::Buf;

    #[test]
    fn message_texts() {
        assert_eq!(Msg::ExpectedInteger.text(), b"Expected integer");
        assert_eq!(Msg::InvalidSignalNumber.text(), b"Invalid signal number");
        assert_eq!(Msg::IncorrectGuardCode.text(), b"incorrect guard code");
        let count = Msg::TEXTS.split(|&b| b == 0).count();
        // Each text ends in a NUL: one empty piece after the last.
        assert_eq!(count, Msg::InvalidSignalNumber as usize + 2);
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
