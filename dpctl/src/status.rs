//! `dpctl status`: a statedump turned into one line per service.

use crate::conn::Conn;
use crate::out::{Arena, Out, Sink, duration, parse_num};
use crate::svc::{Line, after, field, fields, has_tag, tag_value};
use crate::{Fail, NO_SERVICE, REFUSED, sys};

/// The five lines statedump gives each service, in order (§4.2).
const KINDS: [&[u8]; 5] = [
    b"service.state",
    b"service.tags",
    b"service.args",
    b"service.fds",
    b"service.auto_up",
];

const HEADER: &[u8] = b"NAME\tSTATE\tPID\tINFO\tAUTO_UP\n";

/// Follows the statedump block by block. A line out of that order is a
/// broadcast that came in during the dump; the dump is then taken again.
struct Dump<'n> {
    names: &'n [&'n [u8]],
    raw: bool,
    now: u64,
    /// Kind of the next line of the open block (0: no block open).
    next: usize,
    name: Line,
    keep: bool,
    state: Line,
    tags: Line,
    found: u64,
    dirty: bool,
}

impl Dump<'_> {
    fn take(&mut self, line: &[u8], rows: &mut Arena) {
        let event = field(line, 0);
        if event == b"overflow" {
            self.dirty = true;
        }
        let Some(kind) = KINDS.iter().position(|&k| k == event) else {
            return;
        };
        let name = field(line, 1);
        if kind == 0 {
            self.dirty |= self.next != 0;
            self.name.set(name);
            self.keep = self.names.is_empty();
            for (i, n) in self.names.iter().enumerate() {
                if *n == name {
                    self.keep = true;
                    self.found |= 1 << i;
                }
            }
            self.state.set(line);
        } else if kind != self.next || name != self.name.get() {
            self.dirty = true;
            return;
        } else if kind == 1 {
            self.tags.set(line);
        }
        if self.raw && self.keep {
            rows.put(line).put(b"\n");
        }
        self.next = (kind + 1) % KINDS.len();
        if kind == 4 && self.keep && !self.raw {
            row(
                rows,
                self.state.get(),
                after(self.tags.get(), 1),
                line,
                self.now,
            );
        }
    }
}

/// Prints the status of `names` (all services when empty): the table, or
/// with `raw` the protocol lines.
pub fn status(conn: &mut Conn, names: &[&[u8]], raw: bool, out: &mut Out) -> Result<(), Fail> {
    let mut rows = Arena::new(16 << 20).ok_or_else(|| Fail::new(REFUSED).put(b"out of memory"))?;
    let mut dump = Dump {
        names,
        raw,
        now: 0,
        next: 0,
        name: Line::new(),
        keep: false,
        state: Line::new(),
        tags: Line::new(),
        found: 0,
        dirty: false,
    };
    for _ in 0..3 {
        rows.clear();
        dump.now = (sys::now_ms() / 1000) as u64;
        dump.next = 0;
        dump.found = 0;
        dump.dirty = false;
        conn.send(&[b"statedump"])?;
        conn.sync(&mut |line| dump.take(line, &mut rows))?;
        if !dump.dirty && dump.next == 0 {
            break;
        }
    }
    if let Some(i) = (0..names.len()).find(|i| dump.found & (1 << i) == 0) {
        return Err(Fail::new(NO_SERVICE)
            .put(names[i])
            .put(b": no such service"));
    }
    if rows.full {
        return Err(Fail::new(REFUSED).put(b"too many services to list"));
    }
    if raw {
        out.put(rows.text());
        return Ok(());
    }
    let mut widths = [0usize; 4];
    for row in [HEADER]
        .into_iter()
        .chain(rows.text().split_inclusive(|&b| b == b'\n'))
    {
        for (w, cell) in widths.iter_mut().zip(fields(row)) {
            *w = (*w).max(cell.len());
        }
    }
    for row in [HEADER]
        .into_iter()
        .chain(rows.text().split_inclusive(|&b| b == b'\n'))
    {
        for (i, cell) in fields(row).enumerate() {
            out.put(cell);
            if let Some(&w) = widths.get(i) {
                for _ in cell.len()..w + 2 {
                    out.put(b" ");
                }
            }
        }
    }
    Ok(())
}

fn num(s: &[u8]) -> u64 {
    parse_num(s).unwrap_or(0)
}

/// How a service ended: `exit 3`, `killed by SIGTERM`.
fn ending(out: &mut impl Sink, reason: &[u8], value: &[u8]) {
    match reason {
        b"exit" => out.put(b"exit ").put(value),
        b"signal" => out.put(b"killed by ").put(value),
        _ => out.put(reason).put(b" ").put(value),
    };
}

/// One row: NAME, STATE, PID, INFO, AUTO_UP, TAB-separated, from the
/// service's state line, tags and auto_up line.
fn row(out: &mut Arena, state: &[u8], tags: &[u8], auto_up: &[u8], now: u64) {
    let f = |i| field(state, i);
    let word = f(2);
    out.put(f(1)).put(b"\t").put(word).put(b"\t");
    out.put(if word == b"up" { f(4) } else { b"-" }).put(b"\t");
    match word {
        b"up" => {
            out.put(b"up ");
            duration(out, num(f(7)));
        }
        b"start" => match num(f(3)).checked_sub(now) {
            Some(wait) if wait > 0 => {
                out.put(b"start in ");
                duration(out, wait);
            }
            _ => {
                out.put(b"starting");
            }
        },
        _ if f(3) == b"-" => {
            out.put(b"not started");
        }
        _ => {
            out.put(b"down ");
            duration(out, num(f(8)));
            out.put(b", ");
            ending(out, f(5), f(6));
        }
    }
    if has_tag(tags, b"down") {
        out.put(b", held down");
    }
    if let (b"up" | b"start", Some(n)) = (word, tag_value(tags, b"restarts=")) {
        out.put(b"; restarts ").put(n);
        if let Some(last) = tag_value(tags, b"last=") {
            let (reason, value) = match last.iter().position(|&b| b == b':') {
                Some(p) => (&last[..p], &last[p + 1..]),
                None => (last, &b""[..]),
            };
            out.put(b", last ");
            ending(out, reason, value);
        }
    }
    out.put(b"\t");
    // `service.auto_up NAME -`, or `… INTERVAL TRIGGER…` (§5.1).
    let interval = field(auto_up, 2);
    if interval != b"-" {
        for (i, t) in fields(after(auto_up, 2))
            .take_while(|t| !t.is_empty())
            .enumerate()
        {
            out.put(if i > 0 { b"," } else { b"" }).put(t);
        }
        if interval != b"0" {
            out.put(b" ").put(interval).put(b"s");
        }
    } else if let Some(saved) = tag_value(tags, b"auto_up=") {
        out.put(b"(").put(saved).put(b")");
    } else {
        out.put(b"-");
    }
    out.put(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(state: &str, tags: &str, auto_up: &str, now: u64) -> String {
        let mut a = Arena::new(1 << 16).unwrap();
        row(
            &mut a,
            state.as_bytes(),
            tags.as_bytes(),
            auto_up.as_bytes(),
            now,
        );
        String::from_utf8(a.text().to_vec()).unwrap()
    }

    #[test]
    fn rows() {
        assert_eq!(
            fmt(
                "service.state\tweb\tup\t10\t42\t-\t-\t192\t-",
                "",
                "service.auto_up\tweb\t-",
                0
            ),
            "web\tup\t42\tup 3m12s\t-\n"
        );
        assert_eq!(
            fmt(
                "service.state\tweb\tdown\t10\t42\texit\t3\t1\t4",
                "x\tdown\tauto_up=always",
                "service.auto_up\tweb\t-",
                0
            ),
            "web\tdown\t-\tdown 4s, exit 3, held down\t(always)\n"
        );
        assert_eq!(
            fmt(
                "service.state\tweb\tdown\t10\t42\tsignal\tSIGTERM\t1\t4",
                "",
                "service.auto_up\tweb\t5\talways\t",
                0
            ),
            "web\tdown\t-\tdown 4s, killed by SIGTERM\talways 5s\n"
        );
        assert_eq!(
            fmt(
                "service.state\tweb\tstart\t108\t-\t-\t-\t-\t-",
                "restarts=4\tlast=exit:3",
                "service.auto_up\tweb\t0\tSIGHUP\tSIGUSR1",
                100
            ),
            "web\tstart\t-\tstart in 8s; restarts 4, last exit 3\tSIGHUP,SIGUSR1\n"
        );
        assert_eq!(
            fmt(
                "service.state\tnew\tdown\t-\t-\t-\t-\t-\t-",
                "",
                "service.auto_up\tnew\t-",
                0
            ),
            "new\tdown\t-\tnot started\t-\n"
        );
    }
}
