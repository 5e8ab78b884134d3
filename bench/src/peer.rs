//! A program driven over pipes the way a controller drives daemonproxy:
//! command lines into its stdin, event lines out of its stdout.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for any expected output before a run is declared broken.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Result of a benchmark step; the error says what went wrong.
pub type Res<T> = Result<T, String>;

/// A running program with our ends of its stdin and stdout.
pub struct Peer {
    child: Child,
    input: ChildStdin,
    output: ChildStdout,
    buf: Vec<u8>,
    /// Unread bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
    /// For messages: what this is.
    pub what: String,
}

fn poll_one(fd: i32, events: i16, deadline: Instant) -> Res<i16> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("timed out".into());
        }
        let mut p = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, left.as_millis().min(60_000) as i32 + 1) };
        if n > 0 {
            return Ok(p.revents);
        }
        if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return Err(format!("poll: {}", io::Error::last_os_error()));
        }
    }
}

fn set_nonblock(fd: i32, on: bool) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        let fl = if on {
            fl | libc::O_NONBLOCK
        } else {
            fl & !libc::O_NONBLOCK
        };
        libc::fcntl(fd, libc::F_SETFL, fl);
    }
}

impl Peer {
    /// Starts `prog args…` with piped stdin and stdout; stderr is dropped.
    pub fn spawn(prog: &Path, args: &[&str], what: &str) -> Res<Peer> {
        let mut child = Command::new(prog)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{what}: cannot run {}: {e}", prog.display()))?;
        let input = child.stdin.take().expect("piped stdin");
        let output = child.stdout.take().expect("piped stdout");
        Ok(Peer {
            child,
            input,
            output,
            buf: vec![0; 1 << 16],
            pos: 0,
            len: 0,
            what: what.to_string(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn err(&self, msg: impl std::fmt::Display) -> String {
        format!("{}: {msg}", self.what)
    }

    /// Writes one line (a LF is added), blocking.
    pub fn send(&mut self, line: &str) -> Res<()> {
        let mut b = Vec::with_capacity(line.len() + 1);
        b.extend_from_slice(line.as_bytes());
        b.push(b'\n');
        self.input
            .write_all(&b)
            .map_err(|e| self.err(format!("write: {e}")))
    }

    /// Reads more output into the buffer, waiting until `deadline`.
    fn fill(&mut self, deadline: Instant) -> Res<()> {
        if self.pos == self.len {
            self.pos = 0;
            self.len = 0;
        } else if self.len == self.buf.len() {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
            if self.len == self.buf.len() {
                let n = self.buf.len();
                self.buf.resize(n * 2, 0);
            }
        }
        let fd = self.output.as_raw_fd();
        poll_one(fd, libc::POLLIN, deadline).map_err(|e| self.err(e))?;
        let space = &mut self.buf[self.len..];
        // SAFETY: space is valid for its length.
        let n = unsafe { libc::read(fd, space.as_mut_ptr().cast(), space.len()) };
        match n {
            0 => Err(self.err("output closed")),
            n if n < 0 => {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted || e.kind() == io::ErrorKind::WouldBlock {
                    Ok(())
                } else {
                    Err(self.err(format!("read: {e}")))
                }
            }
            n => {
                self.len += n as usize;
                Ok(())
            }
        }
    }

    /// The next output line, without its LF.
    pub fn line(&mut self) -> Res<String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self.buf[self.pos..self.len]
                .iter()
                .position(|&b| b == b'\n')
            {
                let l = String::from_utf8_lossy(&self.buf[self.pos..self.pos + i]).into_owned();
                self.pos += i + 1;
                return Ok(l);
            }
            self.fill(deadline)
                .map_err(|e| format!("{e} (waiting for a line)"))?;
        }
    }

    /// Reads lines until one satisfies `want`; returns it.
    pub fn until(&mut self, what: &str, mut want: impl FnMut(&str) -> bool) -> Res<String> {
        loop {
            let l = self.line().map_err(|e| format!("{e}, expecting {what}"))?;
            if want(&l) {
                return Ok(l);
            }
        }
    }

    /// Sends `echo TOKEN` and reads up to its reply (the daemon answers
    /// TOKEN, the relay the whole line): everything before it is consumed.
    pub fn sync(&mut self, token: &str) -> Res<()> {
        self.send(&format!("echo\t{token}"))?;
        let full = format!("echo\t{token}");
        self.until(&format!("the reply to echo {token}"), |l| {
            l == token || l == full
        })?;
        Ok(())
    }

    /// Writes `out` without blocking while reading output, until `lines`
    /// more lines have arrived. Returns when the last of them is read.
    pub fn pump_lines(&mut self, out: &[u8], lines: usize) -> Res<()> {
        let (wfd, rfd) = (self.input.as_raw_fd(), self.output.as_raw_fd());
        let mut written = 0;
        let mut seen = 0;
        if self.pos != self.len {
            let extra = String::from_utf8_lossy(&self.buf[self.pos..self.len]).into_owned();
            return Err(self.err(format!("unexpected output {extra:?}")));
        }
        set_nonblock(wfd, true);
        let deadline = Instant::now() + TIMEOUT;
        let result = loop {
            if seen == lines && written == out.len() {
                break Ok(());
            }
            if Instant::now() > deadline {
                break Err(self.err(format!(
                    "timed out: {seen} of {lines} lines, {written} of {} bytes written",
                    out.len()
                )));
            }
            let mut fds = [
                libc::pollfd {
                    fd: rfd,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: wfd,
                    events: if written < out.len() {
                        libc::POLLOUT
                    } else {
                        0
                    },
                    revents: 0,
                },
            ];
            let nfds = if written < out.len() { 2 } else { 1 };
            // SAFETY: valid pollfds.
            unsafe { libc::poll(fds.as_mut_ptr(), nfds, 1000) };
            if nfds == 2 && fds[1].revents != 0 {
                let rest = &out[written..];
                // SAFETY: rest is valid for its length.
                let n = unsafe { libc::write(wfd, rest.as_ptr().cast(), rest.len()) };
                if n > 0 {
                    written += n as usize;
                } else if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock {
                    break Err(self.err(format!("write: {}", io::Error::last_os_error())));
                }
            }
            if fds[0].revents != 0 {
                self.pos = 0;
                self.len = 0;
                // SAFETY: buf is valid for its length.
                let n = unsafe { libc::read(rfd, self.buf.as_mut_ptr().cast(), self.buf.len()) };
                if n == 0 {
                    break Err(self.err("output closed"));
                }
                if n > 0 {
                    let chunk = &self.buf[..n as usize];
                    let mut used = chunk.len();
                    for (i, &b) in chunk.iter().enumerate() {
                        if b == b'\n' {
                            seen += 1;
                            if seen == lines {
                                used = i + 1;
                                break;
                            }
                        }
                    }
                    // Anything after the last expected line stays buffered.
                    self.pos = used;
                    self.len = n as usize;
                }
            }
        };
        set_nonblock(wfd, false);
        result
    }

    /// Writes `out` while reading, until the reply to `echo TOKEN` (which
    /// `out` must end with) arrives; each line before it goes to `each`.
    pub fn pump_until(&mut self, out: &[u8], token: &str, mut each: impl FnMut(&[u8])) -> Res<()> {
        let full = format!("echo\t{token}");
        let (wfd, rfd) = (self.input.as_raw_fd(), self.output.as_raw_fd());
        let mut written = 0;
        set_nonblock(wfd, true);
        let deadline = Instant::now() + TIMEOUT;
        let result = 'outer: loop {
            while let Some(i) = self.buf[self.pos..self.len]
                .iter()
                .position(|&b| b == b'\n')
            {
                let l = &self.buf[self.pos..self.pos + i];
                self.pos += i + 1;
                if l == token.as_bytes() || l == full.as_bytes() {
                    if written == out.len() {
                        break 'outer Ok(());
                    }
                    break 'outer Err(self.err("sync token arrived before the input was written"));
                }
                each(l);
            }
            if Instant::now() > deadline {
                break Err(self.err(format!("timed out waiting for {token}")));
            }
            if written < out.len() {
                let rest = &out[written..];
                // SAFETY: rest is valid for its length.
                let n = unsafe { libc::write(wfd, rest.as_ptr().cast(), rest.len()) };
                if n > 0 {
                    written += n as usize;
                    continue;
                }
                if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock {
                    break Err(self.err(format!("write: {}", io::Error::last_os_error())));
                }
            }
            let mut fds = [
                libc::pollfd {
                    fd: rfd,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: wfd,
                    events: libc::POLLOUT,
                    revents: 0,
                },
            ];
            let nfds = if written < out.len() { 2 } else { 1 };
            // SAFETY: valid pollfds.
            unsafe { libc::poll(fds.as_mut_ptr(), nfds, 1000) };
            if fds[0].revents != 0
                && let Err(e) = self.fill(deadline)
            {
                break Err(e);
            }
        };
        set_nonblock(wfd, false);
        result
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // The daemon ignores SIGTERM by design.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
