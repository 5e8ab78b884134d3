//! Termination commands (§4.20–4.22, §11): `terminate` and `terminate.guard`.

use super::{Msg, Result, fail, int};
use crate::exit;
use crate::proto::{self, Fields};
use crate::supervisor::Supervisor;

impl Supervisor {
    pub(super) fn cmd_terminate<'a>(&mut self, i: usize, args: Option<&'a [u8]>) -> Result<'a> {
        let mut f = Fields::new(args);
        let code = int(f.next())?;
        let guard = exit::guard();
        if guard != 0 {
            let Some(g) = f.next() else {
                return fail(Msg::GuardCodeRequired);
            };
            if !proto::parse_int(g).is_some_and(exit::guard_is) {
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

pub(super) fn cmd_terminate_guard(args: Option<&[u8]>) -> Result<'_> {
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
        if !exit::guard_is(code) {
            return fail(Msg::IncorrectGuardCode);
        }
        exit::set_guard(0);
    }
    Ok(())
}
