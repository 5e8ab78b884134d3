//! Test stand-ins for the clock and the process syscalls (`now`, `fork`,
//! `kill`, `reap_any`), exported by `sys` in place of the real ones under
//! `cfg(test)`: the unit tests drive the supervisor's loop with a clock
//! they set and processes they make up, without sleeping or forking. What
//! tests may safely do for real (pipes, /dev/null, poll) stays real.
//!
//! The state is per thread, as the unit tests run on several.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::vec::Vec;

use super::{Errno, ExitHow, Res};
use crate::time::Mono;

/// The made-up processes and clock of one thread.
struct World {
    now: Mono,
    next_pid: i32,
    forks: Vec<i32>,
    kills: Vec<Kill>,
    exits: VecDeque<(i32, ExitHow)>,
    fork_error: Option<Errno>,
}

/// A recorded `kill`: (pid, signal, to the process group).
pub type Kill = (i32, i32, bool);

/// The first pid a test's `fork` hands out.
pub const FIRST_PID: i32 = 1000;

impl World {
    const fn new() -> World {
        World {
            now: Mono::from_secs(256),
            next_pid: FIRST_PID,
            forks: Vec::new(),
            kills: Vec::new(),
            exits: VecDeque::new(),
            fork_error: None,
        }
    }
}

thread_local! {
    static WORLD: RefCell<World> = const { RefCell::new(World::new()) };
}

fn with<T>(f: impl FnOnce(&mut World) -> T) -> T {
    WORLD.with(|w| f(&mut w.borrow_mut()))
}

/// The test's clock, as `now` reads it.
pub fn now() -> Mono {
    with(|w| w.now)
}

/// Records a launch and returns the next made-up pid, never 0: the
/// child's side of a fork never runs in a test. Fails once after
/// `fail_next_fork`.
pub fn fork() -> Res<i32> {
    with(|w| {
        if let Some(e) = w.fork_error.take() {
            return Err(e);
        }
        let pid = w.next_pid;
        w.next_pid += 1;
        w.forks.push(pid);
        Ok(pid)
    })
}

/// Records the signal and succeeds.
pub fn kill(pid: i32, sig: i32, group: bool) -> Res<()> {
    with(|w| w.kills.push((pid, sig, group)));
    Ok(())
}

/// The oldest exit the test queued (`exit`), if any.
pub fn reap_any() -> Option<(i32, ExitHow)> {
    with(|w| w.exits.pop_front())
}

/// Starts this thread's world again: the clock at its start, no
/// processes, nothing recorded.
pub fn reset() {
    with(|w| *w = World::new());
}

/// Sets the clock.
pub fn set_now(t: Mono) {
    with(|w| w.now = t);
}

/// The pids `fork` handed out since the last call.
pub fn take_forks() -> Vec<i32> {
    with(|w| core::mem::take(&mut w.forks))
}

/// The `kill` calls since the last call.
pub fn take_kills() -> Vec<Kill> {
    with(|w| core::mem::take(&mut w.kills))
}

/// Makes the next `fork` fail with `e`.
pub fn fail_next_fork(e: Errno) {
    with(|w| w.fork_error = Some(e));
}

/// Makes process `pid` end as `how`: the next `reap_any` calls return it.
pub fn exit(pid: i32, how: ExitHow) {
    with(|w| w.exits.push_back((pid, how)));
}
