//! Unit tests of the service module, driven by an injected clock.

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
