//! PID 1 duties: the built-in final stage (halt, poweroff, reboot) meant as
//! the exec-on-exit target, so no separate halt program is needed: it stops
//! every process, unmounts every file system and reboots.

use crate::exit;
use crate::sys::{self, Fd};
use crate::time::Dur;

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
    exit::write_record(Some(Fd::STDERR), 256, &[text]);
}

/// Seconds to wait for processes to leave after SIGTERM.
const GRACE: Dur = Dur::from_secs(5);

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
    sys::close_from_except(Fd::PAST_STANDARD, None);
    say(cold!(b"daemonproxy: stopping all processes"));
    for sig in [libc::SIGTERM, libc::SIGCONT, libc::SIGHUP] {
        let _ = sys::kill(-1, sig, false);
    }
    // Every process descends from PID 1, and an orphan is re-parented to
    // it: none is left once PID 1 has no child. (kill(-1, 0) would not
    // tell: it also counts the kernel's threads.)
    let deadline = sys::now() + GRACE;
    while sys::reap_all() && sys::now() < deadline {
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
    if let Err(e) = unmount_all() {
        exit::write_record(
            Some(Fd::STDERR),
            256,
            &[
                cold!(b"daemonproxy: remounting / read-only: "),
                crate::errtext::strerror(e),
            ],
        );
    }
    sys::sync();
    match sys::fork() {
        // reboot(2) from a child: if it returns, PID 1 is still alive.
        Ok(0) => {
            sys::reboot(match action {
                Action::Halt => sys::RebootCommand::Halt,
                Action::Poweroff => sys::RebootCommand::PowerOff,
                Action::Reboot => sys::RebootCommand::Restart,
            });
            sys::exit_now(1)
        }
        _ => loop {
            while sys::reap_any().is_some() {}
            sys::sleep_ms(1000);
        },
    }
}

/// Unmounts every mount in /proc/self/mounts, newest first (lazily), then
/// remounts / read-only; the error is the remount's.
#[cold]
fn unmount_all() -> sys::Res<()> {
    // A detached mount leaves the list, so a list longer than the buffer
    // is read again until what is left fits.
    let mut buf = [0u8; 64 << 10];
    for _ in 0..8 {
        let mut len = 0;
        if let Ok(fd) = sys::open(b"/proc/self/mounts", sys::oflag::RDONLY, 0) {
            while len < buf.len() {
                match sys::read(fd, &mut buf[len..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
            }
            sys::close(fd);
        }
        // Whole lines only: a line cut by the buffer's end would name
        // another path.
        let whole = buf[..len]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        for line in crate::proto::split(&buf[..whole], b'\n').rev() {
            let mut f = crate::proto::split(line, b' ');
            let (_, Some(target)) = (f.next(), f.next()) else {
                continue;
            };
            if target == b"/" || target.is_empty() {
                continue;
            }
            let mut decoded = [0; sys::PATH_MAX];
            let n = unescape_mount_path(target, &mut decoded);
            let _ = sys::unmount_detach(&decoded[..n]);
        }
        if len < buf.len() {
            break;
        }
    }
    sys::remount_root_readonly()
}

/// A mount point as /proc/self/mounts shows it, its `\ooo` escapes (of
/// space, tab, newline and backslash) decoded into `out`; returns the
/// length.
#[cold]
fn unescape_mount_path(s: &[u8], out: &mut [u8]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < s.len() && n < out.len() {
        let mut b = s[i];
        i += 1;
        let octal = |c: &u8| (b'0'..=b'7').contains(c);
        if b == b'\\' && s.len() >= i + 3 && s[i..i + 3].iter().all(octal) {
            b = (s[i] - b'0') << 6 | (s[i + 1] - b'0') << 3 | (s[i + 2] - b'0');
            i += 3;
        }
        out[n] = b;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_are_unescaped() {
        let mut out = [0u8; 64];
        let n = unescape_mount_path(br"/media/u/USB\040DISK\134x\011", &mut out);
        assert_eq!(&out[..n], b"/media/u/USB DISK\\x\t");
        // Not an escape: kept as it is.
        let n = unescape_mount_path(br"/a\09", &mut out);
        assert_eq!(&out[..n], br"/a\09");
    }
}
