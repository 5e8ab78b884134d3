//! PID 1 duties: the built-in final stage (halt, poweroff, reboot) meant as
//! the exec-on-exit target, so no separate halt program is needed.

use crate::exit;
use crate::sys;

/// What the final stage ends with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    Halt,
    Poweroff,
    Reboot,
}

impl Action {
    /// The actions in the order of their names (`halt poweroff reboot`).
    pub const ALL: [Action; 3] = [Action::Halt, Action::Poweroff, Action::Reboot];

    /// The action named by a program name (argv[0]'s last component).
    #[cold]
    pub fn by_program_name(argv0: &[u8]) -> Option<Action> {
        let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or(argv0);
        match base {
            b"halt" => Some(Action::Halt),
            b"poweroff" => Some(Action::Poweroff),
            b"reboot" => Some(Action::Reboot),
            _ => None,
        }
    }
}

/// A message on stderr.
#[cold]
fn say(text: &[u8]) {
    exit::write_record(2, 256, &[text]);
}

/// Seconds to wait for processes to leave after SIGTERM.
const GRACE_SECONDS: u64 = 5;

/// Stops every process, unmounts, and halts, powers off or reboots. As PID
/// 1 it never returns or exits (the kernel would panic).
#[cold]
pub fn final_stage(action: Action) -> ! {
    if sys::getpid() != 1 {
        say(cold!(
            b"daemonproxy: the final stage (--halt, --poweroff, --reboot) runs only as PID 1"
        ));
        sys::exit(2);
    }
    // What the daemon handed on (its log file, say) would keep a file
    // system busy: only the console stays.
    sys::close_from_except(3, -1);
    say(cold!(b"daemonproxy: stopping all processes"));
    for sig in [libc::SIGTERM, libc::SIGCONT, libc::SIGHUP] {
        let _ = sys::kill(-1, sig, false);
    }
    // Every process descends from PID 1, and an orphan is re-parented to
    // it: none is left once PID 1 has no child. (kill(-1, 0) would not
    // tell: it also counts the kernel's threads.)
    let deadline = sys::now().wrapping_add(GRACE_SECONDS << 32);
    while sys::reap_all() && (sys::now().wrapping_sub(deadline) as i64) < 0 {
        sys::sleep_ms(50);
    }
    let _ = sys::kill(-1, libc::SIGKILL, false);
    for _ in 0..20 {
        if !sys::reap_all() {
            break;
        }
        sys::sleep_ms(50);
    }
    sys::sync();
    say(cold!(b"daemonproxy: unmounting file systems"));
    if let Err(e) = sys::unmount_all() {
        exit::write_record(
            2,
            256,
            &[
                cold!(b"daemonproxy: remounting / read-only: "),
                sys::strerror(e),
            ],
        );
    }
    sys::sync();
    match sys::fork() {
        // reboot(2) from a child: if it returns, PID 1 is still alive.
        Ok(0) => {
            sys::reboot(action);
            sys::exit_now(1)
        }
        _ => loop {
            while sys::reap_any().is_some() {}
            sys::sleep_ms(1000);
        },
    }
}
