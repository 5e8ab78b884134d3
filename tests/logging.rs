//! Logging: levels and filter (§10.1), format (§10.2), blocking behaviour
//! (§10.3) and destination (§4.17, §10.4).

use crate::util::*;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn log_dest_to_a_file() {
    let mut d = Daemon::interactive(&[]);
    let log = d.log_to_file("log", "log.txt");
    assert_eq!(d.cmd("log.filter\ttrace"), ["log.filter\ttrace"]);
    d.cmd("echo\tmarker-xyz");
    d.cmd("to-the-file");
    let text = file_contains(
        Path::new(&log),
        "error: controller[0] sent unknown command to-the-file\n",
    );
    assert!(text.contains("debug: controller[0] command: \""), "{text}");
    assert!(text.contains("marker-xyz"), "{text}");
    // Nothing of that goes to stderr any more.
    assert!(!d.stderr_text().contains("to-the-file"));
}

#[test]
fn log_dest_replies_and_errors() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(
        d.cmd("log.dest\tfd\tnot.yet"),
        ["warning\tfd \"not.yet\" does not exist"]
    );
    d.cmd_err("log.dest", "missing argument");
    d.cmd_err("log.dest\tfile\tx", "Unknown logging type");
    d.cmd_err("log.dest\tfd", "Expected file descriptor name");
    d.cmd_err("log.dest\tfd\tbad name", "Invalid file descriptor name");
    // Constants are allowed, and existing names give no reply.
    d.cmd_quiet("log.dest\tfd\tnull");
    d.cmd_quiet("log.dest\tfd\tstderr");
    d.cmd("log-back-on-stderr");
    d.stderr_contains("error: controller[0] sent unknown command log-back-on-stderr\n");
}

#[test]
fn log_dest_attaches_when_the_name_appears() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(
        d.cmd("log.dest\tfd\tlate"),
        ["warning\tfd \"late\" does not exist"]
    );
    d.cmd("logged-while-detached");
    let log = d.path("late.log");
    d.cmd(&format!("fd.open\tlate\twrite,create\t{log}"));
    file_contains(
        Path::new(&log),
        "error: controller[0] sent unknown command logged-while-detached\n",
    );
    d.cmd("logged-after-attach");
    file_contains(
        Path::new(&log),
        "sent unknown command logged-after-attach\n",
    );
    assert!(!d.stderr_text().contains("logged-while-detached"));
}

#[test]
fn log_dest_to_a_pipe_defined_later() {
    let mut d = Daemon::interactive(&[]);
    let out = d.path("cat.out");
    assert_eq!(
        d.cmd("log.dest\tfd\tlog2.w"),
        ["warning\tfd \"log2.w\" does not exist"]
    );
    d.cmd("before-the-pipe");
    d.cmd("fd.pipe\tlog2.r\tlog2.w");
    d.cmd(&format!("fd.open\tcatout\twrite,create\t{out}"));
    d.cmd("service.fds\tcat\tlog2.r\tcatout\tnull");
    d.cmd("service.args\tcat\tcat");
    d.send("service.start\tcat");
    d.recv_state("cat", "up");
    d.cmd("after-the-pipe");
    let text = file_contains(Path::new(&out), "sent unknown command after-the-pipe\n");
    assert!(
        text.contains("error: controller[0] sent unknown command before-the-pipe\n"),
        "{text}"
    );
}

#[test]
fn deleting_the_log_fd_detaches_until_the_name_returns() {
    let mut d = Daemon::interactive(&[]);
    let a = d.log_to_file("lf", "a.log");
    let b = d.path("b.log");
    d.cmd("into-a");
    file_contains(Path::new(&a), "sent unknown command into-a\n");
    d.cmd("fd.delete\tlf");
    d.cmd("while-deleted");
    d.cmd(&format!("fd.open\tlf\twrite,create\t{b}"));
    d.cmd("into-b");
    let text = file_contains(Path::new(&b), "sent unknown command into-b\n");
    assert!(
        text.contains("sent unknown command while-deleted\n"),
        "{text}"
    );
    let a_text = std::fs::read_to_string(&a).unwrap();
    assert!(!a_text.contains("while-deleted") && !a_text.contains("into-b"));
}

#[test]
fn log_filter_controls_what_is_written() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("log.filter\tfatal");
    d.cmd("hidden-by-filter");
    d.cmd("log.filter\terror");
    d.cmd("hidden-error-level");
    d.cmd("log.filter\twarning");
    d.cmd("shown-error-level");
    d.stderr_contains("error: controller[0] sent unknown command shown-error-level\n");
    let text = d.stderr_text();
    assert!(!text.contains("hidden-by-filter"), "{text}");
    assert!(!text.contains("hidden-error-level"), "{text}");
    // `none` shows even debug records.
    d.cmd("log.filter\tnone");
    d.cmd("statedump");
    d.stderr_contains("debug: controller[0] command: \"statedump\"\n");
}

#[test]
fn log_records_have_level_prefix_only() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("format-check");
    let text = d.stderr_contains("sent unknown command format-check\n");
    assert!(
        text.lines()
            .any(|l| l == "error: controller[0] sent unknown command format-check"),
        "{text}"
    );
}

/// A record longer than the log buffer can never be written (§10.3). It is
/// counted and reported at once: with nothing else waiting, no write would
/// ever come to report it, and every later record would be dropped too.
#[test]
fn a_record_too_long_for_the_buffer_does_not_silence_the_log() {
    let mut d = Daemon::interactive(&[]);
    d.cmd(&"x".repeat(1000));
    d.cmd("after-the-long-one");
    let text = d.stderr_contains("sent unknown command after-the-long-one\n");
    assert!(text.contains("warning: lost 1 log messages\n"), "{text}");
    assert!(!text.contains("xxxx"), "{text}");
}

/// A pipe whose write end (blocking) is already full.
fn full_pipe() -> (OwnedFd, OwnedFd) {
    let (r, w) = pipe();
    let fd = w.as_raw_fd();
    // SAFETY: fcntl/write on an fd we own.
    unsafe {
        libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK);
        let chunk = [b'#'; 4096];
        while libc::write(fd, chunk.as_ptr().cast(), chunk.len()) > 0 {}
        while libc::write(fd, chunk.as_ptr().cast(), 1) > 0 {}
        libc::fcntl(fd, libc::F_SETFL, 0);
    }
    (r, w)
}

/// Drains a pipe in the background into a shared buffer.
fn drain(r: OwnedFd) -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let b = buf.clone();
    std::thread::spawn(move || {
        let mut f = File::from(r);
        let mut chunk = [0u8; 8192];
        loop {
            match f.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => b.lock().unwrap().extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    });
    buf
}

fn wait_text(buf: &std::sync::Mutex<Vec<u8>>, text: &str) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let s = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
        if s.contains(text) {
            return s;
        }
        assert!(Instant::now() < deadline, "no {text:?} in log:\n{s}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn blocked_stderr_loses_messages_but_not_the_loop() {
    let (r, w) = full_pipe();
    let mut d = Spawn::new(&["-i"]).stderr(Stdio::from(w)).start();
    d.sync();
    // 40 failing commands while stderr cannot take a byte. The daemon must
    // keep answering.
    for i in 0..40 {
        d.send(&format!("blocked-{i:02}"));
    }
    let out = d.sync();
    assert_eq!(out.len(), 40);
    assert_eq!(d.cmd("echo\tresponsive"), ["responsive"]);
    let buf = drain(r);
    let text = wait_text(&buf, " log messages\n");
    let text = text.trim_start_matches('#');
    let lost = text
        .lines()
        .find_map(|l| l.strip_prefix("warning: lost "))
        .and_then(|l| l.strip_suffix(" log messages"))
        .unwrap_or_else(|| panic!("no lost-messages record:\n{text}"));
    let n: u32 = lost.parse().unwrap();
    assert!(n > 0 && n < 40, "lost {n}");
    // The records that made it are whole lines, in order.
    assert!(
        text.starts_with("error: controller[0] sent unknown command blocked-00\n"),
        "{text}"
    );
    for l in text.lines() {
        assert!(
            l.starts_with("error: ") || l.starts_with("warning: "),
            "partial or odd record {l:?}"
        );
    }
    // Logging works normally afterwards.
    d.cmd("after-the-drain");
    wait_text(
        &buf,
        "error: controller[0] sent unknown command after-the-drain\n",
    );
}

#[test]
fn dev_full_stderr_keeps_records_for_log_dest() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut d = Spawn::new(&["-i"]).stderr(Stdio::from(full)).start();
    d.sync();
    for i in 0..5 {
        d.send(&format!("full-{i}"));
    }
    assert_eq!(d.sync().len(), 5);
    // The log retries /dev/full on a timer: let a few retries fail, as
    // counted by the daemon's write calls.
    let writes = || {
        let io = std::fs::read_to_string(format!("/proc/{}/io", d.pid())).expect("read /proc io");
        io.lines()
            .find_map(|l| l.strip_prefix("syscw: "))
            .and_then(|n| n.parse::<u64>().ok())
            .expect("syscw in /proc io")
    };
    let before = writes();
    wait_for("the log to retry /dev/full", || writes() >= before + 3);
    assert!(d.running());
    let log = d.log_to_file("lf", "full.log");
    let text = file_contains(Path::new(&log), "sent unknown command full-4\n");
    let count = text.matches("sent unknown command full-").count();
    assert_eq!(count, 5, "{text}");
    for i in 0..5 {
        assert!(text.contains(&format!(
            "error: controller[0] sent unknown command full-{i}\n"
        )));
    }
    // The echo text shows up through a debug record after log.filter trace.
    d.cmd("log.filter\ttrace");
    d.cmd("echo\tfull-echo-marker");
    file_contains(Path::new(&log), "full-echo-marker");
}

#[test]
fn dev_full_stderr_many_records_are_counted() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut d = Spawn::new(&["-i"]).stderr(Stdio::from(full)).start();
    d.sync();
    let mut batch = String::new();
    for i in 0..500 {
        batch.push_str(&format!("many-{i}\n"));
    }
    d.write_raw(batch.as_bytes()).unwrap();
    let out = d.sync();
    assert_eq!(out.len(), 500);
    let log = d.path("many.log");
    d.cmd(&format!("fd.open\tlf\twrite,create\t{log}"));
    d.cmd_quiet("log.dest\tfd\tlf");
    let text = file_contains(Path::new(&log), " log messages\n");
    assert!(text.contains("warning: lost "), "{text}");
}
