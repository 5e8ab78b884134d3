//! Service commands (§4.3–4.7, §6): `service.args`, `.tags`, `.fds`, `.auto_up`,
//! `.start`, `.signal` and `.delete`.

use super::{Error, Msg, Result, fail, int, service_name, signal_arg};
use crate::proto::{self, Fields};
use crate::service::{self, State, Var};
use crate::signal;
use crate::supervisor::Supervisor;
use crate::sys;
use crate::time::{Dur, Mono};

impl Supervisor {
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

    pub(super) fn cmd_service_var<'a>(
        &mut self,
        args: Option<&'a [u8]>,
        v: Var,
        err: Msg,
    ) -> Result<'a> {
        let mut f = Fields::new(args);
        let slot = self.created_service(f.next())?;
        let val = f.rest().unwrap_or(b"");
        if self.services.set_var(slot, v, val).is_err() {
            return fail(err);
        }
        self.broadcast_var(slot, v);
        Ok(())
    }

    pub(super) fn cmd_service_fds<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
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

    pub(super) fn cmd_auto_up<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
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

    pub(super) fn cmd_service_start<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
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

    pub(super) fn cmd_service_signal<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
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
        let pid = svc.pid();
        sys::kill(pid, sig, group).map_err(|errno| Error::Kill {
            name,
            pid,
            group,
            errno,
        })
    }

    pub(super) fn cmd_service_delete<'a>(&mut self, args: Option<&'a [u8]>) -> Result<'a> {
        let slot = self.find_service(service_name(Fields::new(args).next())?)?;
        if self.services.delete(slot).is_err() {
            return fail(Msg::ServiceIsRunning);
        }
        self.broadcast_state(slot);
        Ok(())
    }
}
