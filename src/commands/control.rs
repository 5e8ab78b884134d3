//! Control commands (§4.13–4.19): `socket.create`, `log.filter`, `log.dest`,
//! `conn.event_timeout` and `chdir`.

use super::{Error, Msg, Result, fail, fd_name, int};
use crate::log::Level;
use crate::name::Name;
use crate::proto::Fields;
use crate::supervisor::Supervisor;
use crate::sys;

impl Supervisor {
    pub(super) fn cmd_socket_create<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
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

    pub(super) fn cmd_log_filter<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
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

    pub(super) fn cmd_log_dest<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
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

    pub(super) fn cmd_event_timeout<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
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
        self.ctl[i].set_timeouts(reset as u32, close as u32);
        Ok(())
    }
}

pub(super) fn cmd_chdir(args: Option<&[u8]>, check: bool) -> Result<'_> {
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
