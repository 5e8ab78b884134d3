//! The service table and each service's state machine (§5.1, §6).

#[cfg(test)]
use crate::fmt::Buf;
use crate::fmt::Bytes;
use crate::name::Name;
use crate::pool::{Arena, Named, Span, Table};
use crate::signal;
use crate::sys::{ExitHow, Reservation};

/// A service's lifecycle state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum State {
    /// Slot not in use.
    Free = 0,
    /// Never started, exited, or its pending start was cancelled.
    Down,
    /// Waiting for its start time.
    Start,
    /// Forked and not yet reaped.
    Up,
}

/// How the last run ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum LastExit {
    None = 0,
    Exited,
    Signaled,
}

/// Which string a service stores.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Var {
    Args = 0,
    Tags = 1,
    Fds = 2,
    Triggers = 3,
}

impl Var {
    /// The order of a service's lines after its state in a statedump.
    pub const DUMP_ORDER: [Var; 4] = [Var::Tags, Var::Args, Var::Fds, Var::Triggers];

    fn key(self) -> &'static [u8] {
        match self {
            Var::Args => b"args",
            Var::Tags => b"tags",
            Var::Fds => b"fds",
            Var::Triggers => b"triggers",
        }
    }

    /// The command (and event) that sets it.
    pub fn command(self) -> &'static [u8] {
        match self {
            Var::Args => b"service.args",
            Var::Tags => b"service.tags",
            Var::Fds => b"service.fds",
            Var::Triggers => b"service.auto_up",
        }
    }
}

/// Controller handles a service's fd list mentions (§8.5).
pub const CTL_CMD: u8 = 1;
/// `control.event` is listed.
pub const CTL_EVENT: u8 = 2;
/// `control.socket` is listed.
pub const CTL_SOCKET: u8 = 4;
/// The controller handles; the i-th name is bit i of the CTL_* bits.
pub const CONTROL_NAMES: &[u8] = b"control.cmd control.event control.socket";

/// One service.
#[derive(Clone, Copy)]
pub struct Service {
    /// Its name (empty for a free slot).
    pub name: Name,
    /// Lifecycle state.
    pub state: State,
    /// How the last run ended.
    pub last: LastExit,
    /// True while `service.fds` was never set (or set to `null null null`).
    pub fds_default: bool,
    /// `always` is among the auto_up triggers.
    pub always: bool,
    /// CTL_* bits from the fds list.
    pub control: u8,
    /// Process id of the current or last run (0: none).
    pub pid: i32,
    /// Exit code or signal number of the last run.
    pub last_value: i32,
    /// Minimum restart interval in seconds.
    pub interval: u32,
    /// Signals in the auto_up wake set, one bit per number.
    pub triggers: u64,
    /// Where its args, tags, fds and triggers are stored (by `Var`).
    pub strings: [Span; 4],
    /// Scheduled start time (Start) or fork time (Up, Down after a run).
    pub start_time: u64,
    /// Reap time of the last run.
    pub reap_time: u64,
}

zeroable!(Service { name, state = State::Free, last = LastExit::None, fds_default, always, control, pid, last_value, interval, triggers, strings, start_time, reap_time });

impl Named for Service {
    const HASHED: bool = true;
    fn name(&self) -> &Name {
        &self.name
    }
}

/// Why a start request was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct NotStartable;

impl Service {
    /// `service.start` or an automatic start at `at`.
    pub fn request_start(&mut self, at: u64) -> Result<(), NotStartable> {
        match self.state {
            State::Down | State::Start => {
                self.state = State::Start;
                self.start_time = at;
                self.pid = 0;
                self.last = LastExit::None;
                Ok(())
            }
            State::Up | State::Free => Err(NotStartable),
        }
    }

    /// `service.start NAME -`; false when no start was pending.
    pub fn cancel_start(&mut self) -> bool {
        match self.state {
            State::Start => {
                self.state = State::Down;
                self.start_time = 0;
                true
            }
            State::Down | State::Up | State::Free => false,
        }
    }

    /// Is a start due at `now`?
    pub fn is_due(&self, now: u64) -> bool {
        match self.state {
            State::Start => now.wrapping_sub(self.start_time) as i64 >= 0,
            State::Down | State::Up | State::Free => false,
        }
    }

    /// The fork succeeded.
    pub fn forked(&mut self, pid: i32, now: u64) {
        match self.state {
            State::Start => {
                self.state = State::Up;
                self.pid = pid;
                self.start_time = now;
            }
            State::Down | State::Up | State::Free => {}
        }
    }

    /// waitpid returned this service's pid.
    pub fn reaped(&mut self, how: ExitHow, now: u64) {
        match self.state {
            State::Up => {
                self.state = State::Down;
                self.reap_time = now;
                (self.last, self.last_value) = match how {
                    ExitHow::Exited(c) => (LastExit::Exited, c as i32),
                    ExitHow::Signaled(s) => (LastExit::Signaled, s),
                };
            }
            State::Down | State::Start | State::Free => {}
        }
    }

    /// Should a reaped service be started again, given the pending signals?
    pub fn wants_restart(&self, pending: u64) -> bool {
        self.always || self.triggers & pending != 0
    }

    /// When to restart after a reap at `now` (§6.5).
    pub fn restart_time(&self, now: u64) -> u64 {
        let ran = self.reap_time.wrapping_sub(self.start_time);
        let interval = (self.interval as u64) << 32;
        if ran < interval {
            now.wrapping_add(interval)
        } else {
            now
        }
    }

    /// Writes `service.state\tNAME\t…` (8 fields) for time `now`.
    pub fn write_state(&self, b: &mut Bytes, now: u64) {
        b.s(b"service.state\t").s(self.name.as_bytes()).tab();
        let secs = |t: u64| t >> 32;
        let dur = |a: u64, z: u64| a.wrapping_sub(z) >> 32;
        match self.state {
            State::Free => {
                b.s(b"deleted\t-\t-\t-\t-\t-\t-");
            }
            State::Start => {
                b.s(b"start\t")
                    .u(secs(self.start_time))
                    .s(b"\t-\t-\t-\t-\t-");
            }
            State::Up => {
                b.s(b"up\t")
                    .u(secs(self.start_time))
                    .tab()
                    .i(self.pid as i64);
                b.s(b"\t-\t-\t").u(dur(now, self.start_time)).s(b"\t-");
            }
            State::Down if self.last == LastExit::None => {
                b.s(b"down\t-\t-\t-\t-\t-\t-");
            }
            State::Down => {
                b.s(b"down\t")
                    .u(secs(self.reap_time))
                    .tab()
                    .i(self.pid as i64)
                    .tab();
                if self.last == LastExit::Exited {
                    b.s(b"exit\t").i(self.last_value as i64);
                } else {
                    b.s(b"signal\tSIG").s(signal::name(self.last_value));
                }
                b.tab().u(dur(self.reap_time, self.start_time));
                b.tab().u(dur(now, self.reap_time));
            }
        }
    }
}

/// Why a variable could not be stored.
#[derive(Debug)]
pub struct NoRoom;

/// All services: slots, the name index and the string arena.
pub struct ServiceTable {
    svc: Table<Service>,
    strings: Arena,
    /// Per-service limit on stored records, `key=value\0` each (pool mode).
    per_service: usize,
}

impl ServiceTable {
    /// Under `-M`, locks what the table grew into since the last call;
    /// returns the slots locked before (see `Table::lock_grown`).
    #[cold]
    pub fn lock_grown(&mut self) -> usize {
        self.strings.lock_grown();
        self.svc.lock_grown()
    }

    /// Bytes `new` takes from a reservation.
    pub const fn size(count: usize, arena: usize) -> usize {
        Table::<Service>::size(count) + Arena::size(arena, count * 4)
    }

    /// Room for `count` services storing up to `per_service` bytes each and
    /// `arena` bytes in all.
    #[cold]
    pub fn new(
        res: &mut Reservation,
        count: usize,
        per_service: usize,
        arena: usize,
    ) -> Option<ServiceTable> {
        Some(ServiceTable {
            svc: Table::new(res, count)?,
            strings: Arena::new(res, arena, count * 4)?,
            per_service,
        })
    }

    /// Looks up a service by name.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        self.svc.find(name)
    }

    /// Finds or creates a service; None when the pool is full.
    pub fn find_or_create(&mut self, name: &[u8]) -> Option<usize> {
        if let Some(slot) = self.svc.find(name) {
            return Some(slot);
        }
        let Err(pos) = self.svc.search(name) else {
            return None;
        };
        let slot = self.svc.alloc()?;
        *self.svc.get_mut(slot) = Service {
            name: Name::new(name),
            state: State::Down,
            last: LastExit::None,
            fds_default: true,
            always: false,
            control: 0,
            pid: 0,
            last_value: 0,
            interval: 0,
            triggers: 0,
            strings: [Span::default(); 4],
            start_time: 0,
            reap_time: 0,
        };
        self.svc.insert(pos, slot);
        Some(slot)
    }

    /// Deletes a service and its strings.
    pub fn delete(&mut self, slot: usize) {
        if let Ok(pos) = self.svc.search(self.svc.get(slot).name.as_bytes()) {
            self.svc.remove(pos);
        }
        for v in [Var::Args, Var::Tags, Var::Fds, Var::Triggers] {
            let _ = self.store(slot, v, b"");
        }
        let svc = self.svc.get_mut(slot);
        svc.state = State::Free;
        svc.name = Name::EMPTY;
        self.svc.release(slot);
    }

    /// A stored string.
    pub fn var(&self, slot: usize, v: Var) -> &[u8] {
        self.strings.get(self.get(slot).strings[v as usize])
    }

    /// Replaces a string in the arena.
    fn store(&mut self, slot: usize, v: Var, val: &[u8]) -> Result<(), NoRoom> {
        let svc = &mut self.svc;
        let mut span = svc.get(slot).strings[v as usize];
        let owner = (slot * 4 + v as usize) as u32;
        self.strings
            .replace(owner, &mut span, &[val], &mut |o, off| {
                svc.get_mut(o as usize / 4).strings[o as usize % 4].moved_to(off)
            })
            .map_err(|_| NoRoom)?;
        svc.get_mut(slot).strings[v as usize] = span;
        Ok(())
    }

    /// Stores a string, enforcing the per-service record limit.
    pub fn set_var(&mut self, slot: usize, v: Var, val: &[u8]) -> Result<(), NoRoom> {
        let record = |var: Var, len: usize| {
            if len == 0 {
                0
            } else {
                var.key().len() + 1 + len + 1
            }
        };
        let total: usize = [Var::Args, Var::Tags, Var::Fds, Var::Triggers]
            .iter()
            .map(|&w| {
                record(
                    w,
                    if w == v {
                        val.len()
                    } else {
                        self.var(slot, w).len()
                    },
                )
            })
            .sum();
        if total > self.per_service {
            return Err(NoRoom);
        }
        self.store(slot, v, val)
    }

    /// Service in `slot`.
    pub fn get(&self, slot: usize) -> &Service {
        self.svc.get(slot)
    }

    /// Service in `slot`, mutable.
    pub fn get_mut(&mut self, slot: usize) -> &mut Service {
        self.svc.get_mut(slot)
    }

    /// The service at position `pos` in name order.
    pub fn sorted(&self, pos: usize) -> Option<usize> {
        self.svc.sorted(pos)
    }

    /// Position of the first service named after `name`.
    pub fn position_after(&self, name: &[u8]) -> usize {
        self.svc.after(name)
    }

    /// One past the highest slot in use, for scans by slot.
    pub fn high(&self) -> usize {
        self.svc.high()
    }

    /// The service running as `pid`.
    pub fn by_pid(&self, pid: i32) -> Option<usize> {
        (0..self.high()).find(|&s| self.get(s).state == State::Up && self.get(s).pid == pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_table(count: usize, per_service: usize, arena: usize) -> ServiceTable {
        let mut res = Reservation::new(ServiceTable::size(count, arena)).unwrap();
        ServiceTable::new(&mut res, count, per_service, arena).unwrap()
    }

    fn table() -> ServiceTable {
        new_table(4, 64, 4 * 64)
    }

    #[test]
    fn lifecycle_and_state_lines() {
        let mut t = table();
        let s = t.find_or_create(b"foo").unwrap();
        let now = 100u64 << 32;
        let line = |t: &ServiceTable, now| {
            let mut b = Buf::<200>::new();
            t.get(s).write_state(&mut b, now);
            String::from_utf8(b.as_bytes().to_vec()).unwrap()
        };
        assert_eq!(line(&t, now), "service.state\tfoo\tdown\t-\t-\t-\t-\t-\t-");
        t.get_mut(s).request_start(now + (5 << 32)).unwrap();
        assert_eq!(
            line(&t, now),
            "service.state\tfoo\tstart\t105\t-\t-\t-\t-\t-"
        );
        assert!(!t.get(s).is_due(now));
        assert!(t.get(s).is_due(now + (5 << 32)));
        t.get_mut(s).forked(42, now + (5 << 32));
        assert_eq!(t.get_mut(s).request_start(now), Err(NotStartable));
        assert_eq!(
            line(&t, now + (7 << 32)),
            "service.state\tfoo\tup\t105\t42\t-\t-\t2\t-"
        );
        assert_eq!(t.by_pid(42), Some(s));
        t.get_mut(s).reaped(ExitHow::Signaled(15), now + (8 << 32));
        assert_eq!(
            line(&t, now + (9 << 32)),
            "service.state\tfoo\tdown\t108\t42\tsignal\tSIGTERM\t3\t1"
        );
        t.get_mut(s).request_start(now).unwrap();
        assert!(t.get_mut(s).cancel_start());
        assert!(!t.get_mut(s).cancel_start());
        assert_eq!(line(&t, now), "service.state\tfoo\tdown\t-\t-\t-\t-\t-\t-");
    }

    #[test]
    fn restart_interval_counts_from_reap() {
        let mut t = table();
        let s = t.find_or_create(b"x").unwrap();
        let svc = t.get_mut(s);
        svc.interval = 5;
        svc.request_start(0).unwrap();
        svc.forked(1, 10 << 32);
        svc.reaped(ExitHow::Exited(0), 12 << 32);
        assert_eq!(svc.restart_time(12 << 32), 17 << 32);
        svc.request_start(0).unwrap();
        svc.forked(1, 10 << 32);
        svc.reaped(ExitHow::Exited(0), 20 << 32);
        assert_eq!(svc.restart_time(20 << 32), 20 << 32);
    }

    #[test]
    fn strings_survive_other_services_changes() {
        let mut t = table();
        let a = t.find_or_create(b"a").unwrap();
        let b = t.find_or_create(b"b").unwrap();
        t.set_var(a, Var::Args, b"/bin/a").unwrap();
        t.set_var(b, Var::Args, b"/bin/b").unwrap();
        t.set_var(b, Var::Tags, b"x").unwrap();
        t.set_var(a, Var::Args, b"/bin/longer").unwrap();
        assert_eq!(t.var(b, Var::Args), b"/bin/b");
        t.delete(a);
        assert_eq!(t.var(b, Var::Args), b"/bin/b");
        assert_eq!(t.var(b, Var::Tags), b"x");
    }

    #[test]
    fn pool_and_record_limits() {
        let mut t = new_table(2, 64, 128);
        let a = t.find_or_create(b"a").unwrap();
        t.find_or_create(b"b").unwrap();
        assert!(t.find_or_create(b"c").is_none());
        assert!(t.set_var(a, Var::Args, &[b'x'; 58]).is_ok()); // 5 + 58 + 1 = 64
        assert!(t.set_var(a, Var::Tags, b"t").is_err());
        assert!(t.set_var(a, Var::Args, &[b'x'; 59]).is_err());
        assert_eq!(t.var(a, Var::Args).len(), 58);
        t.delete(a);
        assert!(t.find(b"a").is_none());
        assert!(t.find_or_create(b"c").is_some());
        assert_eq!(t.sorted(1).is_some(), t.sorted(2).is_none());
    }
}
