//! The service table and each service's state machine (§5.1, §6).

#[cfg(test)]
use crate::fmt::Buf;
use crate::fmt::Bytes;
use crate::name::Name;
use crate::pool::{Arena, Named, Span, Table};
use crate::signal;
use crate::sys::{self, ExitHow, Reservation};
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

// SAFETY: integers, bools, a Name and enums whose zero is a variant.
unsafe impl sys::Zeroable for Service {}

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
        b.s(b"service.state\t").s(self.name.as_bytes()).tab();
        let secs = |t: Mono| t.as_secs();
        let dur = |a: Mono, z: Mono| a.since(z).as_secs();
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
        let was_pending = svc.state == State::Start;
        svc.request_start(at)?;
        self.pending_starts += usize::from(!was_pending);
        Ok(())
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
mod tests {
    use super::*;

    fn new_table(count: usize, per_service: usize, arena: usize) -> ServiceTable {
        let mut res = Reservation::new(ServiceTable::size(count, arena)).unwrap();
        ServiceTable::new(&mut res, count, per_service, arena).unwrap()
    }

    fn table() -> ServiceTable {
        new_table(4, 64, 4 * 64)
    }

    /// The clock at `secs` seconds.
    fn at(secs: u64) -> Mono {
        Mono::from_secs(secs)
    }

    /// Checks the `service.state` line of slot `s` at `now`.
    #[track_caller]
    fn expect(t: &ServiceTable, s: usize, now: Mono, want: &str) {
        let mut b = Buf::<200>::new();
        t.get(s).write_state(&mut b, now);
        assert_eq!(String::from_utf8_lossy(b.as_bytes()), want);
    }

    #[test]
    fn start_up_exit_down() {
        let mut t = table();
        let s = t.find_or_create(b"foo").unwrap();
        expect(&t, s, at(100), "service.state\tfoo\tdown\t-\t-\t-\t-\t-\t-");
        t.request_start(s, at(105)).unwrap();
        assert_eq!(t.pending_starts(), 1);
        assert_eq!(t.next_start(), Some(at(105)));
        expect(
            &t,
            s,
            at(100),
            "service.state\tfoo\tstart\t105\t-\t-\t-\t-\t-",
        );
        assert!(!t.get(s).is_due(at(104)));
        assert!(t.get(s).is_due(at(105)));
        t.forked(s, 42, at(105));
        assert_eq!(t.pending_starts(), 0);
        assert_eq!(t.next_start(), None);
        assert_eq!(t.request_start(s, at(100)), Err(NotStartable));
        assert!(t.delete(s).is_err());
        expect(
            &t,
            s,
            at(107),
            "service.state\tfoo\tup\t105\t42\t-\t-\t2\t-",
        );
        assert_eq!(t.by_pid(42), Some(s));
        t.reaped(s, ExitHow::Signaled(15), at(108), 0);
        assert_eq!(t.by_pid(42), None);
        expect(
            &t,
            s,
            at(109),
            "service.state\tfoo\tdown\t108\t42\tsignal\tSIGTERM\t3\t1",
        );
        t.request_start(s, at(100)).unwrap();
        assert!(t.cancel_start(s));
        assert!(!t.cancel_start(s));
        assert_eq!(t.pending_starts(), 0);
        expect(&t, s, at(100), "service.state\tfoo\tdown\t-\t-\t-\t-\t-\t-");
    }

    #[test]
    fn exit_code_and_deleted_lines() {
        let mut t = table();
        let s = t.find_or_create(b"e").unwrap();
        t.request_start(s, at(10)).unwrap();
        t.forked(s, 7, at(10));
        t.reaped(s, ExitHow::Exited(3), at(14), 0);
        expect(
            &t,
            s,
            at(20),
            "service.state\te\tdown\t14\t7\texit\t3\t4\t6",
        );
        t.request_start(s, at(30)).unwrap();
        t.delete(s).unwrap();
        assert_eq!(t.pending_starts(), 0);
        assert!(t.find(b"e").is_none());
        expect(&t, s, at(20), "service.state\te\tdeleted\t-\t-\t-\t-\t-\t-");
    }

    #[test]
    fn pending_count_follows_every_transition() {
        let mut t = table();
        let a = t.find_or_create(b"a").unwrap();
        let b = t.find_or_create(b"b").unwrap();
        t.request_start(a, at(5)).unwrap();
        // Moving a pending start is not a second one.
        t.request_start(a, at(3)).unwrap();
        t.request_start(b, at(4)).unwrap();
        assert_eq!(t.pending_starts(), 2);
        assert_eq!(t.next_start(), Some(at(3)));
        t.forked(a, 1, at(3));
        assert_eq!((t.pending_starts(), t.next_start()), (1, Some(at(4))));
        // A retry after a failed launch stays one pending start.
        t.request_start(b, at(7)).unwrap();
        assert_eq!((t.pending_starts(), t.next_start()), (1, Some(at(7))));
        t.delete(b).unwrap();
        assert_eq!((t.pending_starts(), t.next_start()), (0, None));
    }

    #[test]
    fn crash_restarts_after_the_interval() {
        let mut t = table();
        let s = t.find_or_create(b"x").unwrap();
        let svc = t.get_mut(s);
        svc.interval = 5;
        svc.always = true;
        t.request_start(s, at(0)).unwrap();
        t.forked(s, 1, at(10));
        // Ran 2 s, less than the interval: the restart waits 5 s.
        let next = t.reaped(s, ExitHow::Signaled(11), at(12), 0);
        assert_eq!(next, Some(at(17)));
        t.request_start(s, at(17)).unwrap();
        assert!(!t.get(s).is_due(at(16) + Dur::from_ms(999)));
        assert!(t.get(s).is_due(at(17)));
        // Ran 10 s, at least the interval: the restart is immediate.
        t.forked(s, 2, at(17));
        assert_eq!(t.reaped(s, ExitHow::Exited(1), at(27), 0), Some(at(27)));
        expect(
            &t,
            s,
            at(27),
            "service.state\tx\tdown\t27\t2\texit\t1\t10\t0",
        );
    }

    #[test]
    fn restarts_follow_triggers_only() {
        let mut t = table();
        let s = t.find_or_create(b"x").unwrap();
        t.get_mut(s).triggers = 1 << 10;
        let mut run = |pending| {
            t.request_start(s, at(1)).unwrap();
            t.forked(s, 9, at(1));
            t.reaped(s, ExitHow::Exited(0), at(2), pending)
        };
        assert_eq!(run(0), None);
        assert_eq!(run(1 << 12), None);
        // With no interval, the restart is at once.
        assert_eq!(run(1 << 10 | 1 << 12), Some(at(2)));
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
        t.delete(a).unwrap();
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
        t.delete(a).unwrap();
        assert!(t.find(b"a").is_none());
        assert!(t.find_or_create(b"c").is_some());
        assert_eq!(t.sorted(1).is_some(), t.sorted(2).is_none());
    }
}
