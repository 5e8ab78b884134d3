//! A supervisor over small pools, as startup builds one, for the unit
//! tests (`event_loop`'s) and the fuzz harness (`fuzz`): the named-fd
//! constants, a quiet log, and controller 0 an interactive session on the
//! descriptors the caller gives. Dropping it closes what the run left open
//! and frees its reservation.

use core::ops::{Deref, DerefMut};

use crate::controller::{Controller, Kind, RECV_BUF, SEND_BUF};
use crate::fd_table::{self, FdObj, FdTable};
use crate::log::{self, Level, Log};
use crate::service::ServiceTable;
use crate::signal::Signals;
use crate::supervisor::Supervisor;
use crate::sys::{self, Fd};

const FDS: usize = 24;
const FD_DESC: usize = FDS * 160;
const SERVICES: usize = 16;
const SERVICE_BYTES: usize = 512;

/// A supervisor in a reservation of its own.
pub struct Harness {
    sup: &'static mut Supervisor,
    size: usize,
}

impl Harness {
    /// A supervisor whose controller 0 reads commands from `input` and
    /// writes events to `output`; both are the harness's to close from now
    /// on. Its clock reads `sys::now`.
    pub fn new(input: Option<Fd>, output: Option<Fd>) -> Harness {
        let size = sys::Reservation::size_of::<Supervisor>(1)
            + 2 * sys::Reservation::size_of::<u8>(SEND_BUF + RECV_BUF)
            + log::LOG_BUF
            + FdTable::size(FDS, FD_DESC)
            + Signals::size()
            + ServiceTable::size(SERVICES, SERVICES * SERVICE_BYTES)
            + 64;
        let mut res = sys::Reservation::new(size).expect("mmap");
        let sup = res.uninit::<Supervisor>().expect("room");
        let mut take = |n| res.take::<u8>(n).expect("room");
        let (send0, recv0, send1, recv1) = (
            take(SEND_BUF),
            take(RECV_BUF),
            take(SEND_BUF),
            take(RECV_BUF),
        );
        let mut log = Log::new(take(log::LOG_BUF));
        log.filter = Level::Fatal;
        let fds = FdTable::new(&mut res, FDS, FD_DESC, Some(96)).expect("fd table");
        let signals = Signals::new(&mut res).expect("signals");
        let services =
            ServiceTable::new(&mut res, SERVICES, SERVICE_BYTES, SERVICES * SERVICE_BYTES)
                .expect("service table");
        let sup = sup.write(Supervisor {
            now: sys::now(),
            log,
            services,
            fds,
            ctl: [Controller::new(recv0, send0), Controller::new(recv1, send1)],
            signals,
            terminate: None,
            listener: crate::control_socket::Listener::new(None, None),
            wake_r: None,
            busy: false,
            loop_due: false,
            pid1: false,
            check: false,
            config_path: b"",
            config_line: 0,
            config_errors: 0,
        });
        for (name, flags, _) in fd_table::SPECIALS {
            let obj = FdObj::new(name, fd_table::Kind::Special, flags, None);
            let slot = sup.fds.alloc(obj, b"").expect("room for the constants");
            sup.fds.publish(slot);
        }
        sup.ctl[0].open(Kind::Interactive, input, output);
        Harness { sup, size }
    }
}

impl Deref for Harness {
    type Target = Supervisor;
    fn deref(&self) -> &Supervisor {
        self.sup
    }
}

impl DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut Supervisor {
        self.sup
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let sup = &mut *self.sup;
        let mut pos = 0;
        while let Some(slot) = sup.fds.sorted(pos) {
            pos += 1;
            if let Some(fd) = sup.fds.get(slot).fd {
                sys::close(fd);
            }
        }
        for c in sup.ctl.iter_mut().filter(|c| c.active()) {
            c.close();
        }
        if let Some(fd) = sup.wake_r {
            sys::close(fd);
        }
        let base: *mut Supervisor = sup;
        // SAFETY: the reservation starts with the supervisor, and nothing
        // made from it outlives the harness.
        unsafe { sys::unmap(base.cast(), self.size) };
    }
}
