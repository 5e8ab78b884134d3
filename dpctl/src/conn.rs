//! One connection to the control socket: command lines out, lines in, and
//! the `echo` barrier that tells when a command's replies are complete
//! (commands from one controller run in order, so the echo's answer comes
//! after everything the earlier commands caused, PROTOCOL.md §3.4).

use crate::out::decimal;
use crate::sys::{self, Errno, Fd};
use crate::{Fail, NO_DAEMON, NO_SERVICE, REFUSED, USAGE};

/// How long to wait for a reply, in milliseconds.
pub const REPLY_MS: i64 = 10_000;
/// The longest command line the daemon accepts, without its LF (§3.3).
pub const MAX_LINE: usize = 1023;

/// A connection and its receive buffer.
pub struct Conn {
    fd: Fd,
    buf: [u8; 8192],
    start: usize,
    end: usize,
    pid: u32,
    tokens: u32,
}

impl Conn {
    /// Connects to the socket at `path` and waits for a first round trip;
    /// what comes before its answer (`signal` lines, §8.3) goes to `f`.
    /// Every failure is "cannot reach the daemon" (exit status 4).
    pub fn connect(path: &[u8], f: &mut dyn FnMut(&[u8])) -> Result<Conn, Fail> {
        let fd = sys::connect_unix(path).map_err(|e| {
            Fail::new(NO_DAEMON)
                .put(b"cannot connect to ")
                .put(path)
                .put(b": ")
                .put(sys::strerror(e))
                .put(match e {
                    Errno::NOENT | Errno::CONNREFUSED => b" (is daemonproxy running with -S?)",
                    _ => b"",
                })
        })?;
        let mut conn = Conn {
            fd,
            buf: [0; 8192],
            start: 0,
            end: 0,
            pid: sys::getpid(),
            tokens: 0,
        };
        // A connection waits in the listen backlog while both controller
        // slots are taken (§8.6): no answer means the daemon cannot serve us.
        conn.sync(f).map_err(|e| {
            if e.code == REFUSED {
                Fail::new(NO_DAEMON)
                    .put(b"no answer on ")
                    .put(path)
                    .put(b" (both controller slots busy?)")
            } else {
                e
            }
        })?;
        Ok(conn)
    }

    /// Sends one command line: `fields` joined with TABs.
    pub fn send(&mut self, fields: &[&[u8]]) -> Result<(), Fail> {
        let mut line = [0u8; MAX_LINE + 1];
        let mut len = 0;
        for (i, f) in fields.iter().enumerate() {
            let sep = usize::from(i > 0);
            if len + sep + f.len() > MAX_LINE {
                return Err(Fail::new(USAGE).put(b"command longer than 1023 bytes"));
            }
            if sep == 1 {
                line[len] = b'\t';
            }
            line[len + sep..len + sep + f.len()].copy_from_slice(f);
            len += sep + f.len();
        }
        line[len] = b'\n';
        self.write(&line[..=len])
    }

    fn write(&mut self, data: &[u8]) -> Result<(), Fail> {
        sys::write_all(self.fd, data).map_err(|e| {
            Fail::new(REFUSED)
                .put(b"writing to the daemon: ")
                .put(sys::strerror(e))
        })
    }

    /// The next line (without its LF), or None when `deadline` (on the
    /// monotonic clock, in ms; None: no limit) passes first.
    pub fn next_line(&mut self, deadline: Option<i64>) -> Result<Option<&[u8]>, Fail> {
        loop {
            if let Some(i) = self.buf[self.start..self.end]
                .iter()
                .position(|&b| b == b'\n')
            {
                let line = self.start..self.start + i;
                self.start += i + 1;
                return Ok(Some(&self.buf[line]));
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                return Err(Fail::new(REFUSED).put(b"a line from the daemon is too long"));
            }
            let wait = match deadline {
                None => -1,
                Some(d) => {
                    let left = d - sys::now_ms();
                    if left <= 0 {
                        return Ok(None);
                    }
                    left
                }
            };
            let io = |e: Errno| {
                Fail::new(REFUSED)
                    .put(b"reading from the daemon: ")
                    .put(sys::strerror(e))
            };
            if !sys::wait_readable(self.fd, wait).map_err(io)? {
                continue;
            }
            match sys::read(self.fd, &mut self.buf[self.end..]).map_err(io)? {
                0 => return Err(Fail::new(REFUSED).put(b"the daemon closed the connection")),
                n => self.end += n,
            }
        }
    }

    /// Sends `echo` with a token of its own and passes every line before
    /// the token's answer to `f`.
    pub fn sync(&mut self, f: &mut dyn FnMut(&[u8])) -> Result<(), Fail> {
        self.tokens += 1;
        let mut token = [0u8; 64];
        let mut len = 0;
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        for part in [
            b"dpctl-" as &[u8],
            decimal(u64::from(self.pid), &mut a),
            b"-",
            decimal(u64::from(self.tokens), &mut b),
        ] {
            token[len..len + part.len()].copy_from_slice(part);
            len += part.len();
        }
        let token = &token[..len];
        self.send(&[b"echo", token])?;
        let deadline = sys::now_ms() + REPLY_MS;
        loop {
            match self.next_line(Some(deadline))? {
                None => return Err(Fail::new(REFUSED).put(b"no reply from the daemon")),
                Some(line) if line == token => return Ok(()),
                Some(line) => f(line),
            }
        }
    }

    /// Runs one command: sends it, reads up to the barrier (every line to
    /// `f`), and turns an `error` reply into a failure about `name`:
    /// status 3 for `No such service`, 1 for any other refusal.
    pub fn command(
        &mut self,
        fields: &[&[u8]],
        name: &[u8],
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Fail> {
        self.send(fields)?;
        let mut err: Option<Fail> = None;
        self.sync(&mut |line| {
            if let Some(e) = refusal(line, name) {
                err.get_or_insert(e);
            }
            f(line)
        })?;
        err.map_or(Ok(()), Err)
    }
}

/// The failure an `error` reply (§3.4) stands for, or None for other lines.
/// The message is the daemon's, without its `, for command "…"` excerpt.
pub fn refusal(line: &[u8], name: &[u8]) -> Option<Fail> {
    let msg = line.strip_prefix(b"error\t")?;
    const EXCERPT: &[u8] = b", for command \"";
    let end = msg
        .windows(EXCERPT.len())
        .position(|w| w == EXCERPT)
        .unwrap_or(msg.len());
    let msg = &msg[..end];
    let fail = if msg == b"No such service" {
        Fail::new(NO_SERVICE)
    } else {
        Fail::new(REFUSED)
    };
    Some(if msg == b"No such service" && !name.is_empty() {
        fail.put(name).put(b": no such service")
    } else if name.is_empty() {
        fail.put(b"the daemon refused: ").put(msg)
    } else {
        fail.put(name).put(b": ").put(msg)
    })
}
