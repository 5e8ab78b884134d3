//! The verbs that change things: start, stop, restart (through the `down`
//! tag convention), and the raw ones: send, events.

use crate::conn::{Conn, MAX_LINE, REPLY_MS, refusal};
use crate::out::{Out, Sink, parse_num};
use crate::svc::{View, edit_tags, fields, tag_value};
use crate::{Fail, NO_SERVICE, REFUSED, USAGE, sys};

/// How long `stop` waits for a service to go down after SIGTERM, then
/// after SIGKILL.
const STOP_MS: i64 = 10_000;
const KILL_MS: i64 = 5_000;

/// The signal names the daemon knows (§9.3).
const SIGNALS: &[u8] = b"ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ";

/// A signal argument as the daemon takes it: a number, or a known name
/// (any case, with or without `SIG`), made upper case in `buf`.
pub fn signal_arg<'b>(sig: &'b [u8], buf: &'b mut [u8; 16]) -> Option<&'b [u8]> {
    if sig.first().is_some_and(u8::is_ascii_digit) {
        return parse_num(sig).filter(|&n| n <= 65535).map(|_| sig);
    }
    let name = match sig.get(..3) {
        Some(p) if p.eq_ignore_ascii_case(b"SIG") && sig.len() > 3 => &sig[3..],
        _ => sig,
    };
    let upper = buf.get_mut(..name.len())?;
    upper.copy_from_slice(name);
    upper.make_ascii_uppercase();
    SIGNALS
        .split(|&b| b == b' ')
        .any(|n| n == upper)
        .then_some(&*upper)
}

/// `\t` becomes a TAB and `\\` a backslash; a line may not hold a newline
/// or be longer than the daemon accepts. Returns the length in `out`.
pub fn unescape(arg: &[u8], out: &mut [u8; MAX_LINE]) -> Result<usize, Fail> {
    let mut len = 0;
    let mut i = 0;
    while i < arg.len() {
        let b = match (arg[i], arg.get(i + 1)) {
            (b'\\', Some(b't')) => {
                i += 1;
                b'\t'
            }
            (b'\\', Some(b'\\')) => {
                i += 1;
                b'\\'
            }
            (b'\n', _) => return Err(Fail::new(USAGE).put(b"a line may not contain a newline")),
            (b, _) => b,
        };
        *out.get_mut(len)
            .ok_or_else(|| Fail::new(USAGE).put(b"line longer than 1023 bytes"))? = b;
        len += 1;
        i += 1;
    }
    Ok(len)
}

/// `send LINE...`: the lines, then everything up to the barrier, printed.
pub fn send(conn: &mut Conn, lines: &[&[u8]], out: &mut Out) -> Result<(), Fail> {
    let mut buf = [0u8; MAX_LINE];
    for line in lines {
        let n = unescape(line, &mut buf)?;
        conn.send(&[&buf[..n]])?;
    }
    let mut err = None;
    conn.sync(&mut |line| {
        out.put(line).put(b"\n");
        if err.is_none() {
            err = refusal(line, b"");
        }
    })?;
    err.map_or(Ok(()), Err)
}

/// `events`: every line the daemon sends, as it comes.
pub fn events(conn: &mut Conn, out: &mut Out) -> Result<(), Fail> {
    out.flush();
    loop {
        if let Some(line) = conn.next_line(None)? {
            out.put(line).put(b"\n");
            out.flush();
        }
    }
}

/// Fills `v` from a statedump; no such service is an error.
fn lookup(conn: &mut Conn, v: &mut View) -> Result<(), Fail> {
    conn.send(&[b"statedump"])?;
    conn.sync(&mut |line| v.apply(line))?;
    if v.exists() {
        Ok(())
    } else {
        Err(gone(v.name))
    }
}

fn gone(name: &[u8]) -> Fail {
    Fail::new(NO_SERVICE).put(name).put(b": no such service")
}

/// A command whose refusal is expected sometimes (a signal to a service
/// that has just exited, a cancel of a start that has just happened): the
/// next event tells what happened instead.
fn try_command(conn: &mut Conn, fields: &[&[u8]], v: &mut View) -> Result<(), Fail> {
    match conn.command(fields, v.name, &mut |line| v.apply(line)) {
        Err(e) if e.code == REFUSED => Ok(()),
        r => r,
    }
}

/// `start`, `stop` or `restart` of each of `names`, in turn. Every name is
/// checked first, so an unknown one changes nothing.
pub fn change(conn: &mut Conn, names: &[&[u8]], verb: &[u8]) -> Result<(), Fail> {
    let mut found = 0u64;
    conn.send(&[b"statedump"])?;
    conn.sync(&mut |line| {
        if line.starts_with(b"service.state\t") {
            let name = crate::svc::field(line, 1);
            for (i, n) in names.iter().enumerate() {
                if *n == name {
                    found |= 1 << i;
                }
            }
        }
    })?;
    if let Some(i) = (0..names.len()).find(|i| found & (1 << i) == 0) {
        return Err(gone(names[i]));
    }
    for name in names {
        let mut v = View::new(name);
        lookup(conn, &mut v)?;
        match verb {
            b"stop" => stop(conn, &mut v)?,
            b"start" => start(conn, &mut v)?,
            _ => {
                stop(conn, &mut v)?;
                start(conn, &mut v)?
            }
        }
    }
    Ok(())
}

/// Tags the service `down` and moves the daemon's auto_up triggers into an
/// `auto_up=` tag (turning auto_up off), keeping every other tag.
fn hold_down(conn: &mut Conn, v: &mut View) -> Result<(), Fail> {
    let name = v.name;
    let mut saved = [0u8; MAX_LINE];
    let mut n = 0;
    for t in fields(v.triggers()).take_while(|t| !t.is_empty()) {
        let sep = usize::from(n > 0);
        if let Some(dst) = saved.get_mut(n..n + sep + t.len()) {
            dst[0] = b',';
            dst[sep..].copy_from_slice(t);
            n += sep + t.len();
        }
    }
    let auto_up = n > 0;
    let mut tags = [0u8; MAX_LINE];
    let len = edit_tags(
        v.tag_text(),
        |t| auto_up && t.starts_with(b"auto_up="),
        &[
            &[if v.has_tag(b"down") { b"" } else { b"down" }],
            &[if auto_up { b"auto_up=" } else { b"" }, &saved[..n]],
        ],
        &mut tags,
    )
    .ok_or_else(|| Fail::new(REFUSED).put(name).put(b": tags too long"))?;
    conn.command(&[b"service.tags", name, &tags[..len]], name, &mut |l| {
        v.apply(l)
    })?;
    if auto_up {
        conn.command(&[b"service.auto_up", name, b"-"], name, &mut |l| v.apply(l))?;
    }
    Ok(())
}

/// Holds the service down, then ends it: cancels a pending start, sends
/// SIGCONT (in case it is stopped) and SIGTERM, and waits until it is down;
/// after 10 s, SIGKILL. The view follows the events meanwhile, so a start
/// that a controller scheduled before it saw the tag is cancelled too, and
/// a tag list that a controller rewrote without `down` gets it back.
fn stop(conn: &mut Conn, v: &mut View) -> Result<(), Fail> {
    let name = v.name;
    let mut deadline = sys::now_ms() + STOP_MS;
    let mut killed = false;
    let mut signalled = 0;
    let mut edits = 0;
    loop {
        if !v.exists() {
            return Err(gone(name));
        }
        if !v.has_tag(b"down") || !v.triggers().is_empty() {
            edits += 1;
            if edits > 5 {
                return Err(Fail::new(REFUSED)
                    .put(name)
                    .put(b": its tags keep changing"));
            }
            hold_down(conn, v)?;
            continue;
        }
        match v.state() {
            b"start" => try_command(conn, &[b"service.start", name, b"-"], v)?,
            b"up" => {
                let pid = parse_num(v.pid()).unwrap_or(0);
                if pid != signalled {
                    signalled = pid;
                    // CONT first: a stopped process acts on TERM only once
                    // continued, and a running one ignores CONT.
                    try_command(conn, &[b"service.signal", name, b"SIGCONT"], v)?;
                    try_command(conn, &[b"service.signal", name, b"SIGTERM"], v)?;
                } else {
                    match conn.next_line(Some(deadline))? {
                        Some(line) => v.apply(line),
                        None if !killed => {
                            killed = true;
                            crate::warn(&[name, b": still up 10 s after SIGTERM: SIGKILL"]);
                            try_command(conn, &[b"service.signal", name, b"SIGKILL"], v)?;
                            deadline = sys::now_ms() + KILL_MS;
                        }
                        None => {
                            return Err(Fail::new(REFUSED).put(name).put(
                                b": still up after SIGKILL (held down: it stays down once it ends)",
                            ));
                        }
                    }
                }
            }
            _ => return Ok(()),
        }
    }
}

/// The tags `start` removes: the stop convention's and the crash record.
fn convention(t: &[u8]) -> bool {
    t == b"down"
        || t.starts_with(b"auto_up=")
        || t.starts_with(b"restarts=")
        || t.starts_with(b"last=")
}

/// Lets the service run again: removes the convention's tags, starts it
/// unless it is up, gives back the saved auto_up triggers, and waits for
/// it to be up.
fn start(conn: &mut Conn, v: &mut View) -> Result<(), Fail> {
    let name = v.name;
    let mut saved = [0u8; MAX_LINE];
    let mut n = 0;
    if let Some(s) = tag_value(v.tag_text(), b"auto_up=") {
        n = s.len().min(saved.len());
        saved[..n].copy_from_slice(&s[..n]);
        for b in &mut saved[..n] {
            if *b == b',' {
                *b = b'\t';
            }
        }
    }
    if fields(v.tag_text()).any(convention) {
        let mut tags = [0u8; MAX_LINE];
        let len = edit_tags(v.tag_text(), convention, &[], &mut tags).unwrap_or(0);
        conn.command(&[b"service.tags", name, &tags[..len]], name, &mut |l| {
            v.apply(l)
        })?;
    }
    let ups = v.ups;
    let starting = matches!(v.state(), b"down" | b"start");
    if starting {
        conn.command(&[b"service.start", name], name, &mut |l| v.apply(l))?;
    }
    if n > 0 {
        conn.command(
            &[b"service.auto_up", name, b"-", &saved[..n]],
            name,
            &mut |l| v.apply(l),
        )?;
    }
    let deadline = sys::now_ms() + REPLY_MS;
    while starting && v.ups == ups {
        match conn.next_line(Some(deadline))? {
            Some(line) => v.apply(line),
            None => return Err(Fail::new(REFUSED).put(name).put(b": not up after 10 s")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        let mut b = [0u8; 16];
        assert_eq!(signal_arg(b"term", &mut b), Some(&b"TERM"[..]));
        assert_eq!(signal_arg(b"SIGHUP", &mut b), Some(&b"HUP"[..]));
        assert_eq!(signal_arg(b"sigusr1", &mut b), Some(&b"USR1"[..]));
        assert_eq!(signal_arg(b"9", &mut b), Some(&b"9"[..]));
        assert_eq!(signal_arg(b"SIGFOO", &mut b), None);
        assert_eq!(signal_arg(b"99999", &mut b), None);
        assert_eq!(signal_arg(b"9x", &mut b), None);
        assert_eq!(signal_arg(b"SIG", &mut b), None);
        assert_eq!(signal_arg(b"AVERYLONGSIGNALNAME", &mut b), None);
    }

    #[test]
    fn escapes() {
        let mut b = [0u8; MAX_LINE];
        let n = unescape(b"service.args\\tweb\\t/bin/x\\\\t\ty", &mut b)
            .ok()
            .unwrap();
        assert_eq!(&b[..n], b"service.args\tweb\t/bin/x\\t\ty");
        assert!(unescape(b"a\nb", &mut b).is_err());
        assert!(unescape(&[b'x'; 1024], &mut b).is_err());
        assert!(unescape(&[b'x'; 1023], &mut b).is_ok());
    }
}
