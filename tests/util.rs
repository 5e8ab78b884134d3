//! Test harness: runs the real daemonproxy binary and talks to it the way a
//! controller does (TAB-separated command lines in, event lines out).
//!
//! Every wait has a generous deadline ([`TIMEOUT`]); timing goals do not belong
//! in these tests. A [`Daemon`] is started in its own process group, and
//! dropping it SIGKILLs that group (daemonproxy ignores SIGTERM by design, and
//! its services stay in its group).

#![allow(dead_code)]

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Deadline for every single wait in the suite.
pub const TIMEOUT: Duration = Duration::from_secs(10);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique() -> usize {
    COUNTER.fetch_add(1, Ordering::SeqCst)
}

/// Path of the daemon under test: `$DAEMONPROXY_BIN`, else the cargo-built one.
pub fn bin() -> PathBuf {
    match std::env::var_os("DAEMONPROXY_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_daemonproxy")),
    }
}

/// A signal's number on the daemon's architecture, given the host's: MIPS
/// numbers some signals differently from the others (its SIGBUS is 10,
/// SIGUSR2 17, SIGSYS 12), and the daemon reads and prints its own
/// architecture's numbers. Under qemu-user (`make test-arch ARCH=mipsel`)
/// a signal the host sends arrives as the guest's number for it. The
/// binary's ELF header (e_machine) names the architecture.
pub fn target_signo(host: i32) -> i32 {
    static MIPS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    const EM_MIPS: u16 = 8;
    let mips = *MIPS.get_or_init(|| {
        let elf = std::fs::read(bin()).expect("read the binary");
        u16::from_le_bytes([elf[18], elf[19]]) == EM_MIPS
    });
    if !mips {
        return host;
    }
    match host {
        libc::SIGBUS => 10,
        libc::SIGUSR1 => 16,
        libc::SIGUSR2 => 17,
        libc::SIGCHLD => 18,
        libc::SIGPWR => 19,
        libc::SIGWINCH => 20,
        libc::SIGURG => 21,
        libc::SIGIO => 22,
        libc::SIGSTOP => 23,
        libc::SIGTSTP => 24,
        libc::SIGCONT => 25,
        libc::SIGTTIN => 26,
        libc::SIGTTOU => 27,
        libc::SIGVTALRM => 28,
        libc::SIGPROF => 29,
        libc::SIGXCPU => 30,
        libc::SIGXFSZ => 31,
        libc::SIGSYS => 12,
        // 1-6, 8, 9, 11 and 13-15 agree.
        n => n,
    }
}

/// The daemon built with the `fault-injection` feature, whose `test.fault`
/// command raises a real CPU fault: `$DAEMONPROXY_FAULT_BIN` (`make test`
/// builds it).
pub fn fault_bin() -> PathBuf {
    match std::env::var_os("DAEMONPROXY_FAULT_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "DAEMONPROXY_FAULT_BIN is not set: build the daemon with \
             --features fault-injection (make test does)"
        ),
    }
}

/// Name of the running test, for temp dir names and messages.
fn test_name() -> String {
    let name = thread::current().name().unwrap_or("test").to_string();
    let short = name.rsplit("::").next().unwrap_or("test");
    short
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(24)
        .collect()
}

/// The reply line for a failed command (§3.4): the excerpt is the raw line,
/// cut to 30 bytes plus `...` when it is 30 bytes or longer.
pub fn err_line(line: &str, msg: &str) -> String {
    let excerpt = if line.len() >= 30 {
        format!("{}...", &line[..30])
    } else {
        line.to_string()
    };
    format!("error\t{msg}, for command \"{excerpt}\"")
}

/// Whole seconds of CLOCK_MONOTONIC, the daemon's TS base (§0.1).
pub fn mono_now() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0);
    ts.tv_sec
}

/// Splits an event line at TABs.
pub fn fields(line: &str) -> Vec<&str> {
    line.split('\t').collect()
}

/// Sends a signal to a process.
pub fn kill(pid: i32, sig: i32) {
    // SAFETY: plain syscall.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(
        rc,
        0,
        "kill({pid}, {sig}) failed: {}",
        io::Error::last_os_error()
    );
}

/// Is there a process (or zombie) with this PID?
pub fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Waits until the process is gone or a zombie.
pub fn wait_pid_gone(pid: i32) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .chars()
            .next();
        if stat.is_empty() || state == Some('Z') {
            return;
        }
        assert!(Instant::now() < deadline, "pid {pid} did not go away");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Fields of /proc/PID/stat after the comm field (index 0 is the state).
pub fn proc_stat(pid: i32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc stat");
    let rest = stat.rsplit_once(')').expect("stat format").1;
    rest.split_whitespace().map(str::to_string).collect()
}

/// CPU time a process has used, user and system, in clock ticks.
pub fn cpu_ticks(pid: i32) -> u64 {
    let st = proc_stat(pid);
    st[11].parse::<u64>().unwrap() + st[12].parse::<u64>().unwrap()
}

/// A TCP port that was free a moment ago.
pub fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A UDP port that was free a moment ago.
pub fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// Polls `f` until it returns true or the deadline passes.
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the file exists and contains `text`; returns its content.
pub fn file_contains(path: &Path, text: &str) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let content = std::fs::read(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        if content.contains(text) {
            return content;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {} to contain {text:?}; it has:\n{content}",
            path.display()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh, empty directory named after the test.
    pub fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "dpx-{}-{}-{}",
            std::process::id(),
            unique(),
            test_name()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory, as a String (for command lines).
    pub fn join(&self, name: &str) -> String {
        self.path.join(name).to_str().unwrap().to_string()
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Something a line can be matched against: `&str`/`String` match exactly,
/// [`Prefix`], [`Contains`] and [`Where`] do what their names say.
pub trait Pat {
    fn is_match(&self, line: &str) -> bool;
    fn describe(&self) -> String;
}

impl Pat for &str {
    fn is_match(&self, line: &str) -> bool {
        line == *self
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

impl Pat for String {
    fn is_match(&self, line: &str) -> bool {
        line == self
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Matches lines starting with the text.
pub struct Prefix<S: AsRef<str>>(pub S);

impl<S: AsRef<str>> Pat for Prefix<S> {
    fn is_match(&self, line: &str) -> bool {
        line.starts_with(self.0.as_ref())
    }
    fn describe(&self) -> String {
        format!("prefix {:?}", self.0.as_ref())
    }
}

/// Matches lines containing the text.
pub struct Contains<S: AsRef<str>>(pub S);

impl<S: AsRef<str>> Pat for Contains<S> {
    fn is_match(&self, line: &str) -> bool {
        line.contains(self.0.as_ref())
    }
    fn describe(&self) -> String {
        format!("containing {:?}", self.0.as_ref())
    }
}

/// Matches lines for which the predicate holds.
pub struct Where<F: Fn(&str) -> bool>(pub F);

impl<F: Fn(&str) -> bool> Pat for Where<F> {
    fn is_match(&self, line: &str) -> bool {
        (self.0)(line)
    }
    fn describe(&self) -> String {
        "a line matching the predicate".to_string()
    }
}

/// Event lines read by a background thread from a pipe or socket. All lines
/// are kept (`seen`) so a test can assert on ordering; `pos` is the next line
/// not yet consumed by a `recv*` call.
pub struct Lines {
    rx: Option<Receiver<String>>,
    pending: Option<Box<dyn Read + Send>>,
    seen: Vec<String>,
    pos: usize,
    eof: bool,
    what: String,
}

impl Lines {
    /// Lines read from `reader` (`what` names it in messages); with
    /// `paused`, reading starts at [`Lines::resume`].
    pub fn new(reader: Box<dyn Read + Send>, what: &str, paused: bool) -> Lines {
        let mut lines = Lines {
            rx: None,
            pending: Some(reader),
            seen: Vec::new(),
            pos: 0,
            eof: false,
            what: what.to_string(),
        };
        if !paused {
            lines.resume();
        }
        lines
    }

    /// Starts the reader thread (if it was paused).
    pub fn resume(&mut self) {
        let Some(reader) = self.pending.take() else {
            return;
        };
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut r = BufReader::with_capacity(65536, reader);
            loop {
                let mut buf = Vec::new();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if buf.last() == Some(&b'\n') {
                            buf.pop();
                        } else {
                            // A partial last line is a protocol violation (§3.4).
                            buf.extend_from_slice(b"<<PARTIAL LINE AT EOF>>");
                        }
                        if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        self.rx = Some(rx);
    }

    /// Pulls one more line into `seen`; false on timeout or EOF.
    fn pull(&mut self, deadline: Instant) -> bool {
        if self.eof {
            return false;
        }
        let rx = self
            .rx
            .as_ref()
            .expect("reading from a paused line stream; call resume() first");
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                self.seen.push(line);
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                false
            }
        }
    }

    fn context(&self) -> String {
        let start = self.seen.len().saturating_sub(40);
        let mut s = String::new();
        for l in &self.seen[start..] {
            s.push_str(&format!("  {l:?}\n"));
        }
        s
    }

    /// Next unconsumed line, or None on timeout/EOF.
    pub fn next_within(&mut self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        if self.pos == self.seen.len() && !self.pull(deadline) {
            return None;
        }
        self.pos += 1;
        Some(self.seen[self.pos - 1].clone())
    }

    /// Next unconsumed line; panics on timeout/EOF.
    pub fn next_line(&mut self) -> String {
        match self.next_within(TIMEOUT) {
            Some(l) => l,
            None => panic!(
                "{}: no line within {:?} (eof={}); recent lines:\n{}",
                self.what,
                TIMEOUT,
                self.eof,
                self.context()
            ),
        }
    }

    /// Consumes lines until one matches; returns it. Skipped lines stay in
    /// `seen`.
    pub fn recv_within<P: Pat>(&mut self, pat: P, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            while self.pos < self.seen.len() {
                self.pos += 1;
                if pat.is_match(&self.seen[self.pos - 1]) {
                    return Some(self.seen[self.pos - 1].clone());
                }
            }
            if !self.pull(deadline) {
                return None;
            }
        }
    }

    /// Like [`Lines::recv_within`] with [`TIMEOUT`]; panics with context.
    pub fn recv_ok<P: Pat>(&mut self, pat: P) -> String {
        let start = self.pos;
        match self.recv_within(&pat, TIMEOUT) {
            Some(l) => l,
            None => panic!(
                "{}: timed out waiting for {} (eof={}); lines since wait started:\n{}",
                self.what,
                pat.describe(),
                self.eof,
                self.seen[start..]
                    .iter()
                    .map(|l| format!("  {l:?}\n"))
                    .collect::<String>()
            ),
        }
    }

    /// Index of the next line to be consumed (for slicing `seen`).
    pub fn mark(&self) -> usize {
        self.pos
    }

    /// Every line received so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Consumed lines from `mark` up to (not including) the last consumed one.
    pub fn since(&self, mark: usize) -> Vec<String> {
        self.seen[mark..self.pos.saturating_sub(1).max(mark)].to_vec()
    }

    /// Waits for EOF, returning the remaining lines.
    pub fn drain_to_eof(&mut self) -> Vec<String> {
        let deadline = Instant::now() + TIMEOUT;
        while self.pull(deadline) {}
        assert!(self.eof, "{}: no EOF within {:?}", self.what, TIMEOUT);
        let rest = self.seen[self.pos..].to_vec();
        self.pos = self.seen.len();
        rest
    }
}

impl<P: Pat> Pat for &P {
    fn is_match(&self, line: &str) -> bool {
        (*self).is_match(line)
    }
    fn describe(&self) -> String {
        (*self).describe()
    }
}

/// What a controller can do; shared by the interactive daemon session and
/// control-socket clients.
pub trait Controller {
    /// Writes raw bytes to the command stream.
    fn write_raw(&mut self, data: &[u8]) -> io::Result<()>;
    /// The event stream.
    fn lines(&mut self) -> &mut Lines;

    /// Sends one command line (LF appended).
    fn send(&mut self, line: &str) {
        let mut data = line.as_bytes().to_vec();
        data.push(b'\n');
        self.write_raw(&data)
            .unwrap_or_else(|e| panic!("sending {line:?}: {e}"));
    }

    /// Sends one command line, returning write errors.
    fn try_send(&mut self, line: &str) -> io::Result<()> {
        let mut data = line.as_bytes().to_vec();
        data.push(b'\n');
        self.write_raw(&data)
    }

    /// Waits for a matching line (see [`Lines::recv_ok`]).
    fn recv_ok<P: Pat>(&mut self, pat: P) -> String {
        self.lines().recv_ok(pat)
    }

    /// Sends a command whose effect is asynchronous, waits for the matching
    /// event and asserts that no error reply came before it.
    fn send_then<P: Pat>(&mut self, line: &str, pat: P) -> String {
        let mark = self.lines().mark();
        self.send(line);
        let got = self.lines().recv_ok(pat);
        let before = self.lines().since(mark);
        assert!(
            !before.iter().any(|l| l.starts_with("error\t")),
            "{line:?} failed: {before:?}"
        );
        got
    }

    /// A matching line received after `mark`, even if it was already
    /// skipped while waiting for something else; otherwise waits for one.
    fn recv_since<P: Pat>(&mut self, mark: usize, pat: P) -> String {
        let lines = self.lines();
        match lines.seen[mark..].iter().find(|l| pat.is_match(l)) {
            Some(l) => l.clone(),
            None => lines.recv_ok(pat),
        }
    }

    /// Next line, whatever it is.
    fn next_line(&mut self) -> String {
        self.lines().next_line()
    }

    /// Sends a unique `echo` and waits for it: everything the daemon queued
    /// for us before it has arrived. Returns the lines received before it.
    fn sync(&mut self) -> Vec<String> {
        let token = format!("sync-{}-{}", std::process::id(), unique());
        self.send(&format!("echo\t{token}"));
        let mark = self.lines().mark();
        self.lines().recv_ok(token.as_str());
        self.lines().since(mark)
    }

    /// Sends a command and returns every line received up to a sync barrier
    /// after it.
    fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send(line);
        self.sync()
    }

    /// Asserts that the command fails with exactly this message and nothing
    /// else is output.
    fn cmd_err(&mut self, line: &str, msg: &str) {
        let out = self.cmd(line);
        assert_eq!(out, vec![err_line(line, msg)], "reply to {line:?}");
    }

    /// Asserts that the command succeeds silently.
    fn cmd_quiet(&mut self, line: &str) {
        let out = self.cmd(line);
        assert!(
            out.is_empty(),
            "expected no output for {line:?}, got {out:?}"
        );
    }

    /// `statedump` followed by a sync.
    fn statedump(&mut self) -> Vec<String> {
        self.cmd("statedump")
    }

    /// Waits for `service.state\tNAME\tSTATE\t...` and returns its fields.
    fn recv_state(&mut self, name: &str, state: &str) -> Vec<String> {
        let line = self.recv_ok(Prefix(format!("service.state\t{name}\t{state}\t")));
        let f: Vec<String> = line.split('\t').map(str::to_string).collect();
        assert_eq!(f.len(), 9, "service.state has 8 fields: {line:?}");
        f
    }
}

/// How the daemon's stderr is wired.
enum ErrMode {
    /// Captured by a thread into a buffer ([`Daemon::stderr_contains`]).
    Capture,
    /// Left to the test: a pipe nobody reads ([`Daemon::take_stderr`]).
    Unread,
    /// Any Stdio (a file, /dev/full, a prepared pipe).
    Given(Stdio),
}

/// Builder for a daemon process.
pub struct Spawn {
    program: PathBuf,
    pre_args: Vec<OsString>,
    args: Vec<OsString>,
    err: ErrMode,
    paused_stdout: bool,
    dir: Option<TempDir>,
    env: Vec<(String, String)>,
    nofile: Option<u64>,
}

impl Spawn {
    /// Daemon with the given arguments.
    pub fn new<S: AsRef<str>>(args: &[S]) -> Spawn {
        Spawn {
            program: bin(),
            pre_args: Vec::new(),
            args: args.iter().map(|a| OsString::from(a.as_ref())).collect(),
            err: ErrMode::Capture,
            paused_stdout: false,
            dir: None,
            env: Vec::new(),
            nofile: None,
        }
    }

    /// Runs the test build with the `test.fault` command (`fault_bin`).
    pub fn fault_build(mut self) -> Spawn {
        self.program = fault_bin();
        self
    }

    /// Limits the daemon to `n` open descriptors (RLIMIT_NOFILE).
    pub fn nofile(mut self, n: u64) -> Spawn {
        self.nofile = Some(n);
        self
    }

    /// Runs the daemon (through sh) with descriptors 3 to `3 + extra - 1`
    /// open on /dev/null and RLIMIT_NOFILE at `nofile`: a crowded
    /// descriptor table from the start.
    pub fn crowded(mut self, extra: usize, nofile: u64) -> Spawn {
        let opens: String = (3..3 + extra)
            .map(|fd| format!("exec {fd}</dev/null; "))
            .collect();
        self.pre_args = vec![
            OsString::from("-c"),
            OsString::from(format!("{opens}ulimit -n {nofile}; exec \"$0\" \"$@\"")),
            self.program.clone().into_os_string(),
        ];
        self.program = PathBuf::from("/bin/sh");
        self
    }

    /// Sets an environment variable for the daemon.
    pub fn env(mut self, key: &str, value: &str) -> Spawn {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Run the daemon as `strace -o FILE daemonproxy ARGS`.
    pub fn strace(mut self, out: &Path) -> Spawn {
        let strace = ["/usr/bin/strace", "/bin/strace"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("strace is required for this test (CI installs it)");
        self.pre_args = vec![
            OsString::from("-o"),
            out.as_os_str().to_owned(),
            self.program.clone().into_os_string(),
        ];
        self.program = strace;
        self
    }

    /// Runs the daemon in a private mount namespace where `mnt` is a FUSE
    /// mount that never answers: the daemon holds the FUSE device (as fd 3)
    /// and never reads it, so any access below `mnt` hangs until the
    /// connection is aborted. None where /dev/fuse or mount namespaces are
    /// missing.
    pub fn on_hung_fuse(mut self, mnt: &str) -> Option<Spawn> {
        let probe = Command::new("unshare")
            .args(["-m", "--propagation", "private", "true"])
            .status();
        if !Path::new("/dev/fuse").exists() || !probe.is_ok_and(|s| s.success()) {
            return None;
        }
        let script = format!(
            "exec 3<>/dev/fuse && mount -t fuse -o fd=3,rootmode=40000,user_id=0,group_id=0 \
             none {mnt} && exec \"$0\" \"$@\""
        );
        self.pre_args = vec![
            "-m".into(),
            "--propagation".into(),
            "private".into(),
            "sh".into(),
            "-c".into(),
            script.into(),
            self.program.clone().into_os_string(),
        ];
        self.program = PathBuf::from("unshare");
        Some(self)
    }

    /// Use this temp dir as the daemon's cwd (otherwise a new one).
    pub fn dir(mut self, dir: TempDir) -> Spawn {
        self.dir = Some(dir);
        self
    }

    /// Do not start reading stdout until [`Daemon::resume_stdout`].
    pub fn paused_stdout(mut self) -> Spawn {
        self.paused_stdout = true;
        self
    }

    /// Leave stderr as a pipe the test reads itself (or never).
    pub fn stderr_unread(mut self) -> Spawn {
        self.err = ErrMode::Unread;
        self
    }

    /// Wire stderr to this.
    pub fn stderr(mut self, s: Stdio) -> Spawn {
        self.err = ErrMode::Given(s);
        self
    }

    /// Starts the daemon.
    pub fn start(self) -> Daemon {
        let dir = self.dir.unwrap_or_default();
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.pre_args)
            .args(&self.args)
            .current_dir(dir.path())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .process_group(0);
        only_std_fds(&mut cmd);
        if let Some(n) = self.nofile {
            let lim = libc::rlimit {
                rlim_cur: n,
                rlim_max: n,
            };
            // SAFETY: setrlimit is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
                    Ok(())
                });
            }
        }
        let capture = matches!(self.err, ErrMode::Capture);
        match self.err {
            ErrMode::Capture | ErrMode::Unread => {
                cmd.stderr(Stdio::piped());
            }
            ErrMode::Given(s) => {
                cmd.stderr(s);
            }
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", self.program.display()));
        let stdin = child.stdin.take().unwrap();
        set_nonblock(stdin.as_raw_fd());
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let err = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let mut unread = None;
        if capture {
            let mut stderr: ChildStderr = child.stderr.take().unwrap();
            let err = err.clone();
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match stderr.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let (lock, cv) = &*err;
                            lock.lock().unwrap().extend_from_slice(&buf[..n]);
                            cv.notify_all();
                        }
                    }
                }
                // EOF: a NUL can never come from the daemon's text log.
                let (lock, cv) = &*err;
                lock.lock().unwrap().push(0);
                cv.notify_all();
            });
        } else {
            unread = child.stderr.take();
        }
        let pid = child.id() as i32;
        Daemon {
            child,
            pid,
            stdin: Some(stdin),
            out: Lines::new(Box::new(stdout), "daemon stdout", self.paused_stdout),
            err,
            unread_stderr: unread,
            status: None,
            dir,
        }
    }
}

/// Makes the child start with only fds 0-2: whatever else the test process
/// inherited (a CI runner's or a jobserver's descriptors) is marked
/// close-on-exec before exec, so the daemon's startup registration (§2 step
/// 8) sees exactly stdin, stdout and stderr.
pub fn only_std_fds(cmd: &mut Command) {
    // SAFETY: the closure only makes async-signal-safe syscalls.
    unsafe {
        cmd.pre_exec(|| {
            const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
            let rc = libc::syscall(
                libc::SYS_close_range,
                3 as libc::c_uint,
                libc::c_uint::MAX,
                CLOSE_RANGE_CLOEXEC,
            );
            if rc != 0 {
                for fd in 3..1024 {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
            }
            Ok(())
        });
    }
}

fn set_nonblock(fd: RawFd) {
    // SAFETY: fcntl on an fd we own.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

/// Writes everything to a non-blocking fd, waiting at most [`TIMEOUT`].
fn write_all_deadline(fd: RawFd, mut data: &[u8]) -> io::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    while !data.is_empty() {
        // SAFETY: data is a valid buffer.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n >= 0 {
            data = &data[n as usize..];
            continue;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "daemon did not read its input",
                    ));
                }
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut pfd, 1, 50) };
            }
            _ => return Err(e),
        }
    }
    Ok(())
}

/// A running daemon with stdin/stdout as pipes (the interactive controller
/// when started with `-i`).
pub struct Daemon {
    child: Child,
    pid: i32,
    stdin: Option<ChildStdin>,
    /// Lines the daemon wrote to stdout.
    pub out: Lines,
    err: Arc<(Mutex<Vec<u8>>, Condvar)>,
    unread_stderr: Option<ChildStderr>,
    status: Option<ExitStatus>,
    /// The daemon's cwd; removed on drop.
    pub dir: TempDir,
}

impl Daemon {
    /// `daemonproxy -i ARGS`, with the banner already consumed.
    pub fn interactive(args: &[&str]) -> Daemon {
        let mut all = vec!["-i"];
        all.extend_from_slice(args);
        let mut d = Spawn::new(&all).start();
        d.sync();
        d
    }

    /// `daemonproxy -i ARGS` in an existing temp dir, banner consumed.
    pub fn interactive_in(dir: TempDir, args: &[&str]) -> Daemon {
        let mut all = vec!["-i"];
        all.extend_from_slice(args);
        let mut d = Spawn::new(&all).dir(dir).start();
        d.sync();
        d
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A path inside the daemon's temp dir.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name)
    }

    /// Opens `file` in the temp dir as the fd named `fd` and sends the log
    /// there; returns the file's path.
    pub fn log_to_file(&mut self, fd: &str, file: &str) -> String {
        let path = self.path(file);
        self.cmd(&format!("fd.open\t{fd}\twrite,create,append\t{path}"));
        self.cmd_quiet(&format!("log.dest\tfd\t{fd}"));
        path
    }

    /// Sends a signal to the daemon process.
    pub fn signal(&self, sig: i32) {
        kill(self.pid, sig);
    }

    /// Closes the daemon's stdin (EOF on the interactive stream).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Starts reading stdout after [`Spawn::paused_stdout`].
    pub fn resume_stdout(&mut self) {
        self.out.resume();
    }

    /// The raw stderr pipe after [`Spawn::stderr_unread`].
    pub fn take_stderr(&mut self) -> ChildStderr {
        self.unread_stderr.take().expect("stderr is not unread")
    }

    /// Everything captured from stderr so far.
    pub fn stderr_text(&self) -> String {
        let buf = self.err.0.lock().unwrap();
        let data = buf.strip_suffix(&[0]).unwrap_or(&buf);
        String::from_utf8_lossy(data).into_owned()
    }

    /// Waits (at most `timeout`) until stderr reached EOF, so that
    /// [`Daemon::stderr_text`] holds everything the daemon wrote.
    pub fn stderr_eof(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.err;
        let mut buf = lock.lock().unwrap();
        loop {
            if buf.last() == Some(&0) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            buf = cv.wait_timeout(buf, left).unwrap().0;
        }
    }

    /// Waits until the captured stderr contains `text`; returns all of it.
    pub fn stderr_contains(&self, text: &str) -> String {
        self.stderr_within(text, TIMEOUT).unwrap_or_else(|| {
            panic!(
                "stderr does not contain {text:?} after {TIMEOUT:?}; stderr:\n{}",
                self.stderr_text()
            )
        })
    }

    /// Waits up to `timeout` for `text` on stderr.
    pub fn stderr_within(&self, text: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.err;
        let mut buf = lock.lock().unwrap();
        loop {
            let eof = buf.last() == Some(&0);
            let data = if eof { &buf[..buf.len() - 1] } else { &buf[..] };
            let s = String::from_utf8_lossy(data);
            if s.contains(text) {
                return Some(s.into_owned());
            }
            if eof {
                return None;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            buf = cv.wait_timeout(buf, left).unwrap().0;
        }
    }

    /// Waits for the daemon to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                self.status = Some(s);
                // Let the capture thread catch up with the last records.
                self.stderr_eof(Duration::from_secs(2));
                return s;
            }
            if Instant::now() >= deadline {
                panic!(
                    "daemon did not exit within {TIMEOUT:?}; stderr:\n{}",
                    self.stderr_text()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asserts the daemon exits with this code.
    pub fn exit_is(&mut self, code: i32) {
        let s = self.wait_exit();
        assert_eq!(
            s.code(),
            Some(code),
            "exit status {s:?}; stderr:\n{}",
            self.stderr_text()
        );
    }

    /// Is the daemon still running (not exited)?
    pub fn running(&mut self) -> bool {
        if self.status.is_some() {
            return false;
        }
        match self.child.try_wait().expect("try_wait") {
            Some(s) => {
                self.status = Some(s);
                false
            }
            None => true,
        }
    }
}

impl Controller for Daemon {
    fn write_raw(&mut self, data: &[u8]) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "stdin closed"))?;
        write_all_deadline(stdin.as_raw_fd(), data)
    }

    fn lines(&mut self) -> &mut Lines {
        &mut self.out
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: plain syscalls on our own child's process group.
        unsafe {
            libc::killpg(self.pid, libc::SIGKILL);
        }
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A control-socket client (§8.6).
pub struct Client {
    stream: UnixStream,
    pub out: Lines,
}

impl Client {
    /// Connects, retrying until the socket exists.
    pub fn connect(path: &str) -> Client {
        Client::connect_opt(path, false)
    }

    /// Connects without starting to read events (see [`Lines::resume`]).
    pub fn connect_paused(path: &str) -> Client {
        Client::connect_opt(path, true)
    }

    fn connect_opt(path: &str, paused: bool) -> Client {
        let deadline = Instant::now() + TIMEOUT;
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(Instant::now() < deadline, "connect {path}: {e}");
                    thread::sleep(Duration::from_millis(20));
                }
            }
        };
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        let reader = stream.try_clone().unwrap();
        Client {
            stream,
            out: Lines::new(Box::new(reader), "socket client", paused),
        }
    }

    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Sends a command line with file descriptors attached (SCM_RIGHTS).
    pub fn send_with_fds(&mut self, line: &str, fds: &[RawFd]) {
        let mut data = line.as_bytes().to_vec();
        data.push(b'\n');
        send_fds(self.fd(), &data, fds).expect("sendmsg");
    }

    /// Starts the reader after [`Client::connect_paused`].
    pub fn resume(&mut self) {
        self.out.resume();
    }
}

impl Controller for Client {
    fn write_raw(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data)
    }

    fn lines(&mut self) -> &mut Lines {
        &mut self.out
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// `sendmsg` with an SCM_RIGHTS control message.
pub fn send_fds(sock: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let fd_bytes = std::mem::size_of_val(fds);
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(fd_bytes as u32) } as usize;
    let mut cbuf = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: the control buffer is large enough for one cmsg of fd_bytes.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(fd_bytes as u32) as _;
        std::ptr::copy_nonoverlapping(fds.as_ptr().cast::<u8>(), libc::CMSG_DATA(cmsg), fd_bytes);
    }
    // SAFETY: msg points at live buffers.
    let n = unsafe { libc::sendmsg(sock, &msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    assert_eq!(n as usize, data.len(), "short sendmsg");
    Ok(())
}

/// A pipe with both ends close-on-exec: (read, write).
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid out-array.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0);
    // SAFETY: pipe2 returned two fresh fds we now own.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Creates a FIFO.
pub fn mkfifo(path: &str) {
    let c = std::ffi::CString::new(path).unwrap();
    // SAFETY: valid C string.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo: {}", io::Error::last_os_error());
}

/// Opens a path read-only and non-blocking (e.g. a FIFO's read end).
pub fn open_nonblock_read(path: &str) -> File {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .expect("open fifo for reading")
}

/// Reads from a non-blocking fd until `text` shows up; returns all read.
pub fn read_until_contains(f: &mut File, text: &str) -> String {
    let deadline = Instant::now() + TIMEOUT;
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match f.read(&mut buf) {
            Ok(n) if n > 0 => all.extend_from_slice(&buf[..n]),
            _ => thread::sleep(Duration::from_millis(20)),
        }
        let s = String::from_utf8_lossy(&all);
        if s.contains(text) {
            return s.into_owned();
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {text:?}; read so far: {s:?}"
        );
    }
}

/// Result of a daemon run to completion.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub dir: TempDir,
}

impl Finished {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Asserts the exit code, showing stderr on mismatch.
    pub fn assert_code(&self, code: i32) {
        assert_eq!(
            self.status.code(),
            Some(code),
            "status {:?} (signal {:?}); stderr:\n{}",
            self.status,
            self.status.signal(),
            self.stderr
        );
    }
}

/// Runs the daemon with stdin at EOF until it exits (at most [`TIMEOUT`]).
pub fn run(args: &[&str]) -> Finished {
    run_in(TempDir::new(), args)
}

/// Like [`run`], in the given directory.
pub fn run_in(dir: TempDir, args: &[&str]) -> Finished {
    let mut d = Spawn::new(args).dir(dir).start();
    d.close_stdin();
    let status = d.wait_exit();
    // The exec-on-exit program or services may still hold the pipes; take
    // what is there shortly after exit.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut stdout = Vec::new();
    while let Some(l) = d
        .out
        .next_within(deadline.saturating_duration_since(Instant::now()))
    {
        stdout.push(l);
    }
    let stdout = if stdout.is_empty() {
        String::new()
    } else {
        stdout.join("\n") + "\n"
    };
    d.stderr_eof(Duration::from_secs(2));
    let stderr = d.stderr_text();
    let dir = std::mem::take(&mut d.dir);
    Finished {
        status,
        stdout,
        stderr,
        dir,
    }
}

/// The exec-on-exit argument (TSV) that records the two environment variables
/// in `out` as `CODE:ERROR|` and exits 42.
pub fn exit_exec_recorder(out: &str) -> String {
    format!(
        "/bin/sh\t-c\tprintf '%s:%s|' \"$DAEMONPROXY_EXITCODE\" \"$DAEMONPROXY_ERROR\" >{out}; exit 42"
    )
}

/// What became of a connection made as another user ([`echo_as`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Peer {
    /// The `echo` was answered.
    Answered,
    /// The daemon closed the connection unanswered.
    Closed,
    /// connect() failed.
    NoConnect,
    /// Something else (no answer in time, setuid failed, another reply).
    Other(i32),
}

/// Connects to the control socket at `path` as `uid`/`gid` (a forked
/// child that drops root) and sends an `echo`.
pub fn echo_as(path: &str, uid: u32, gid: u32) -> Peer {
    // SAFETY: sockaddr_un is plain data; all-zero is valid.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(path.as_bytes()) {
        *d = *s as libc::c_char;
    }
    // SAFETY: the child makes only async-signal-safe syscalls on memory
    // prepared before the fork, then _exits.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setresgid(gid, gid, gid) != 0
                || libc::setresuid(uid, uid, uid) != 0
            {
                libc::_exit(10);
            }
            let s = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
            let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            if libc::connect(s, (&addr as *const libc::sockaddr_un).cast(), len) != 0 {
                libc::_exit(2);
            }
            let msg = b"echo\tpeer-ok\n";
            libc::write(s, msg.as_ptr().cast(), msg.len());
            let mut pfd = libc::pollfd {
                fd: s,
                events: libc::POLLIN,
                revents: 0,
            };
            if libc::poll(&mut pfd, 1, 10_000) != 1 {
                libc::_exit(11);
            }
            let mut buf = [0u8; 64];
            let n = libc::read(s, buf.as_mut_ptr().cast(), buf.len());
            if n <= 0 {
                libc::_exit(1);
            }
            libc::_exit(if buf.starts_with(b"peer-ok\n") { 0 } else { 12 });
        }
        assert!(pid > 0, "fork failed");
        let mut status = 0;
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
        match libc::WEXITSTATUS(status) {
            0 => Peer::Answered,
            1 => Peer::Closed,
            2 => Peer::NoConnect,
            c => Peer::Other(c),
        }
    }
}
