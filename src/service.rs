//! The service table and each service's state machine (§5.1, §6).

#[cfg(test)]
use crate::fmt::Buf;
use crate::fmt::Bytes;
use crate::name::Name;
use crate::pool::{Arena, Named, Span, Table};
use crate::signal;
use crate::sys::{ExitHow, Reservation};
use crate::time::{Dur, Mono};

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
    /// Lifecycle state: changed only by the table's transitions, which
    /// keep its count of start-pending services.
    state: State,
    /// How the last run ended.
    last: LastExit,
    /// True while `service.fds` was never set (or set to `null null null`).
    pub fds_default: bool,
    /// `always` is among the auto_up triggers.
    pub always: bool,
    /// CTL_* bits from the fds list.
    pub control: u8,
    /// Process id of the current or last run (0: none).
    pid: i32,
    /// Exit code or signal number of the last run.
    last_value: i32,
    /// Minimum restart interval in seconds.
    pub interval: u32,
    /// Signals in the auto_up wake set, one bit per number.
    pub triggers: u64,
    /// Where its args, tags, fds and triggers are stored (by `Var`).
    pub strings: [Span; 4],
    /// Scheduled start time (Start) or fork time (Up, Down after a run).
    start_time: Mono,
    /// Reap time of the last run.
    reap_time: Mono,
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
    /// Lifecycle state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Process id of the current or last run (0: none).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// `service.start` or an automatic start at `at`.
    fn request_start(&mut self, at: Mono) -> Result<(), NotStartable> {
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
    fn cancel_start(&mut self) -> bool {
        match self.state {
            State::Start => {
                self.state = State::Down;
                self.start_time = Mono::ZERO;
                true
            }
            State::Down | State::Up | State::Free => false,
        }
    }

    /// Is a start due at `now`?
    pub fn is_due(&self, now: Mono) -> bool {
        match self.state {
            State::Start => now >= self.start_time,
            State::Down | State::Up | State::Free => false,
        }
    }

    /// The fork succeeded.
    fn forked(&mut self, pid: i32, now: Mono) {
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
    fn reaped(&mut self, how: ExitHow, now: Mono) {
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

    /// When to restart after a reap at `now` (§6.5): a run shorter than
    /// the restart interval waits for the interval.
    fn restart_time(&self, now: Mono) -> Mono {
        let interval = Dur::from_secs(self.interval);
        if self.reap_time.since(self.start_time) < interval {
            now + interval
        } else {
            now
        }
    }

    /// Writes `service.state\tNAME\t…` (8 fields) for time `now`.
    pub fn write_state(&self, b: &mut Bytes, now: Mono) {
        b.bytes(b"service.state\t")
            .bytes(self.name.as_bytes())
            .tab();
        let secs = |t: Mono| t.as_secs();
        let dur = |a: Mono, z: Mono| a.since(z).as_secs();
        match self.state {
            State::Free => {
                b.bytes(b"deleted\t-\t-\t-\t-\t-\t-");
            }
            State::Start => {
                b.bytes(b"start\t")
                    .uint(secs(self.start_time))
                    .bytes(b"\t-\t-\t-\t-\t-");
            }
            State::Up => {
                b.bytes(b"up\t")
                    .uint(secs(self.start_time))
                    .tab()
                    .int(self.pid as i64);
                b.bytes(b"\t-\t-\t")
                    .uint(dur(now, self.start_time))
                    .bytes(b"\t-");
            }
            State::Down if self.last == LastExit::None => {
                b.bytes(b"down\t-\t-\t-\t-\t-\t-");
            }
            State::Down => {
                b.bytes(b"down\t")
                    .uint(secs(self.reap_time))
                    .tab()
                    .int(self.pid as i64)
                    .tab();
                if self.last == LastExit::Exited {
                    b.bytes(b"exit\t").int(self.last_value as i64);
                } else {
                    b.bytes(b"signal\tSIG").bytes(signal::name(self.last_value));
                }
                b.tab().uint(dur(self.reap_time, self.start_time));
                b.tab().uint(dur(now, self.reap_time));
            }
        }
    }
}

/// Why a service could not be deleted.
#[derive(Debug)]
pub struct IsRunning;

/// Why a variable could not be stored.
#[derive(Debug)]
pub struct NoRoom;

/// All services: slots, the name index and the string arena.
pub struct ServiceTable {
    svc: Table<Service>,
    strings: Arena,
    /// Per-service limit on stored records, `key=value\0` each (pool mode).
    per_service: usize,
    /// Number of services in `State::Start`.
    pending_starts: usize,
}

/// A service's transitions (§6). Each keeps the count of start-pending
/// services; the supervisor acts on them (forks, broadcasts).
impl ServiceTable {
    /// Number of services waiting for their start time.
    pub fn pending_starts(&self) -> usize {
        self.pending_starts
    }

    /// Makes a service start-pending at `at` (`service.start`, an automatic
    /// start, a retry); a pending start moves to `at`. Err when it runs.
    pub fn request_start(&mut self, slot: usize, at: Mono) -> Result<(), NotStartable> {
        let svc = self.svc.get_mut(slot);
        // Only a service that is down becomes pending: a pending one moves,
        // a running (or free) one refuses.
        self.pending_starts += usize::from(svc.state == State::Down);
        svc.request_start(at)
    }

    /// `service.start NAME -`; false when no start was pending.
    pub fn cancel_start(&mut self, slot: usize) -> bool {
        let cancelled = self.svc.get_mut(slot).cancel_start();
        self.pending_starts -= usize::from(cancelled);
        cancelled
    }

    /// A start-pending service was forked as `pid` at `now`.
    pub fn forked(&mut self, slot: usize, pid: i32, now: Mono) {
        let svc = self.svc.get_mut(slot);
        self.pending_starts -= usize::from(svc.state == State::Start);
        svc.forked(pid, now);
    }

    /// A running service was reaped at `now`. Returns when to start it
    /// again, if its auto_up triggers ask for it: `always`, or one of its
    /// signals among `pending`.
    pub fn reaped(&mut self, slot: usize, how: ExitHow, now: Mono, pending: u64) -> Option<Mono> {
        let svc = self.svc.get_mut(slot);
        svc.reaped(how, now);
        svc.wants_restart(pending).then(|| svc.restart_time(now))
    }

    /// The earliest start time of the start-pending services: when the loop
    /// must wake for them.
    pub fn next_start(&self) -> Option<Mono> {
        let mut next = None;
        if self.pending_starts > 0 {
            for slot in 0..self.high() {
                let s = self.get(slot);
                if s.state == State::Start && next.is_none_or(|t| s.start_time < t) {
                    next = Some(s.start_time);
                }
            }
        }
        next
    }
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
            pending_starts: 0,
        })
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
            start_time: Mono::ZERO,
            reap_time: Mono::ZERO,
        };
        self.svc.insert(pos, slot);
        Some(slot)
    }

    /// Deletes a service that is not running, and its strings. The slot
    /// keeps the name until it is reused: its state line is then the
    /// `deleted` event.
    pub fn delete(&mut self, slot: usize) -> Result<(), IsRunning> {
        match self.svc.get(slot).state {
            State::Up => return Err(IsRunning),
            State::Start => self.pending_starts -= 1,
            State::Down | State::Free => {}
        }
        if let Ok(pos) = self.svc.search(self.svc.get(slot).name.as_bytes()) {
            self.svc.remove(pos);
        }
        for v in [Var::Args, Var::Tags, Var::Fds, Var::Triggers] {
            let _ = self.store(slot, v, b"");
        }
        self.svc.get_mut(slot).state = State::Free;
        self.svc.release(slot);
        Ok(())
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

    /// Service in `slot`, mutable.
    pub fn get_mut(&mut self, slot: usize) -> &mut Service {
        self.svc.get_mut(slot)
    }

    /// The service running as `pid`.
    pub fn by_pid(&self, pid: i32) -> Option<usize> {
        (0..self.high()).find(|&s| self.get(s).state == State::Up && self.get(s).pid == pid)
    }
}

/// The slots and their name index, read through the table (`get`, `find`,
/// `sorted`, `after`, `high`); changes go through the table's methods.
impl core::ops::Deref for ServiceTable {
    type Target = Table<Service>;
    fn deref(&self) -> &Table<Service> {
        &self.svc
    }
}

#[cfg(test)]
mod tests;
