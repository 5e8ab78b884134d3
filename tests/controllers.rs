//! Controllers: the control socket (§8.6, §4.13), slots (§8.1), who receives
//! what (§8.3), overflow and timeouts (§8.4), service controllers (§8.5) and
//! config files (§2.4).

use crate::util::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

#[test]
fn control_socket_serves_commands() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let d = Spawn::new(&["-S", &sock]).dir(dir).start();
    let mut c = Client::connect(&sock);
    assert_eq!(c.cmd("echo\thi\tthere"), ["hi\tthere"]);
    let meta = std::fs::metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    // Without -i, stdin/stdout are the real fds 0 and 1.
    let dump = c.statedump();
    assert!(dump.contains(&"fd.state\tstdin\tfile\tread\tunknown".to_string()));
    assert!(dump.contains(&"fd.state\tstdout\tfile\twrite\tunknown".to_string()));
    drop(c);
    // The daemon keeps running with no controller left.
    let mut c = Client::connect(&sock);
    assert_eq!(c.cmd("echo\tagain"), ["again"]);
    drop(d);
}

#[test]
fn broadcasts_reach_all_replies_only_the_issuer() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["-v", "-S", &sock]);
    let mut c = Client::connect(&sock);
    assert_eq!(
        c.cmd("service.args\tx\t/bin/true"),
        ["service.args\tx\t/bin/true"]
    );
    assert_eq!(c.cmd("echo\tonly-client"), ["only-client"]);
    c.cmd_err("fd.delete\tnull", "File descriptor cannot be altered");
    let got = d.sync();
    assert_eq!(got, ["service.args\tx\t/bin/true"]);
    // Broadcasts caused by the interactive controller reach the client.
    assert_eq!(
        d.cmd("fd.open\tf\tread\t/dev/null"),
        ["fd.state\tf\tfile\tread\t/dev/null"]
    );
    c.recv_ok("fd.state\tf\tfile\tread\t/dev/null");
    // The interactive controller is slot 0, the client slot 1.
    c.cmd("statedump");
    d.stderr_contains("debug: controller[1] command: \"statedump\"\n");
}

#[test]
fn only_two_controller_slots() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let d = Spawn::new(&["-S", &sock]).dir(dir).start();
    let mut a = Client::connect(&sock);
    let mut b = Client::connect(&sock);
    a.sync();
    b.sync();
    // A third connection waits in the backlog.
    let mut c = Client::connect(&sock);
    c.send("echo\tthird");
    assert_eq!(
        c.out.recv_within("third", Duration::from_millis(1500)),
        None,
        "third client was served while both slots were taken"
    );
    d.stderr_contains("warning: No free controllers to accpet socket connection\n");
    // Served as soon as a slot frees, not at the next 5 s retry: 3 s is
    // ample for the former and too short for the latter.
    drop(a);
    assert!(
        c.out.recv_within("third", Duration::from_secs(3)).is_some(),
        "third client not served once a slot was free"
    );
    b.sync();
}

#[test]
fn socket_create_and_delete() {
    let mut d = Daemon::interactive(&[]);
    let p1 = d.path("one.sock");
    let p2 = d.path("two.sock");
    d.cmd_quiet(&format!("socket.create\t-\t{p1}"));
    {
        let mut c = Client::connect(&p1);
        assert_eq!(c.cmd("echo\tvia-one"), ["via-one"]);
    }
    // Replacing: the old socket is closed and its path removed.
    d.cmd_quiet(&format!("socket.create\t\t{p2}"));
    assert!(!Path::new(&p1).exists());
    d.stderr_contains(&format!("info: Unlinked control socket {p1}\n"));
    {
        let mut c = Client::connect(&p2);
        assert_eq!(c.cmd("echo\tvia-two"), ["via-two"]);
    }
    d.cmd_quiet("socket.delete");
    assert!(!Path::new(&p2).exists());
    d.stderr_contains(&format!("info: Unlinked control socket {p2}\n"));
    assert!(UnixStream::connect(&p2).is_err());
    // Without a socket it does nothing.
    d.cmd_quiet("socket.delete");
}

#[test]
fn socket_create_errors() {
    let mut d = Daemon::interactive(&[]);
    let p = d.path("s.sock");
    d.cmd_err("socket.create", "missing argument");
    d.cmd_err("socket.create\t-", "missing argument");
    d.cmd_err(&format!("socket.create\tx\t{p}"), "Invalid options");
    d.cmd_err(
        "socket.create\t-\t/nonexistent/dir/s.sock",
        "Failed to create control socket",
    );
    // Recommended (§8.6): only sockets are unlinked, not regular files.
    let file = d.path("regular");
    std::fs::write(&file, "keep me").unwrap();
    d.cmd_err(
        &format!("socket.create\t-\t{file}"),
        "Failed to create control socket",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

/// A path that cannot be bound is refused before the working socket is
/// let go (§8.6).
#[test]
fn socket_create_bad_path_keeps_the_socket() {
    let mut d = Daemon::interactive(&[]);
    let p = d.path("keep.sock");
    d.cmd_quiet(&format!("socket.create\t-\t{p}"));
    let long = format!("/tmp/{}", "x".repeat(103));
    assert_eq!(long.len(), 108);
    for bad in ["", long.as_str()] {
        d.cmd_err(
            &format!("socket.create\t-\t{bad}"),
            "Failed to create control socket",
        );
        assert!(Path::new(&p).exists(), "socket path removed for {bad:?}");
        let mut c = Client::connect(&p);
        assert_eq!(c.cmd("echo\tstill-here"), ["still-here"]);
    }
    assert!(!d.stderr_text().contains("Unlinked control socket"));
}

/// Another user's socket at the path is not ours to replace: startup
/// refuses it, naming the owner.
#[test]
fn another_users_socket_is_refused() {
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: giving a socket to another user needs root");
        return;
    }
    let dir = TempDir::new();
    let sock = dir.join("theirs.sock");
    let _theirs = UnixListener::bind(&sock).unwrap();
    std::os::unix::fs::lchown(&sock, Some(65534), Some(65534)).unwrap();
    let r = run_in(dir, &["-S", &sock]);
    r.assert_code(3);
    assert!(
        r.stderr.contains(&format!(
            "error: control socket {sock} belongs to uid 65534, not replacing it\n"
        )),
        "{}",
        r.stderr
    );
    assert!(Path::new(&sock).exists());
}

#[test]
fn stale_socket_is_unlinked() {
    let dir = TempDir::new();
    let sock = dir.join("stale.sock");
    drop(UnixListener::bind(&sock).unwrap());
    assert!(Path::new(&sock).exists());
    let d = Spawn::new(&["-S", &sock]).dir(dir).start();
    d.stderr_contains(&format!("info: Unlinked control socket {sock}\n"));
    let mut c = Client::connect(&sock);
    assert_eq!(c.cmd("echo\tfresh"), ["fresh"]);
}

#[test]
fn exit_closes_a_socket_client() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["-S", &sock]);
    let mut c = Client::connect(&sock);
    c.sync();
    c.send("exit");
    assert!(c.out.drain_to_eof().is_empty());
    d.sync();
    assert!(d.running());
}

#[test]
fn service_controller_reads_events_and_sends_commands() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.fds\tctl\tcontrol.event\tcontrol.cmd\tstderr");
    let script = "T=$(printf '\\t'); \
        printf 'service.args%ssvcmade%s/bin/true\\n' \"$T\" \"$T\"; \
        while IFS= read -r line; do case \"$line\" in \
        \"service.args${T}svcmade${T}/bin/true\") printf 'echo%sreply-to-service\\n' \"$T\" ;; \
        reply-to-service) printf 'service.tags%ssvcmade%sseen-both\\n' \"$T\" \"$T\"; exit 0 ;; \
        esac; done; exit 1";
    d.cmd(&format!("service.args\tctl\t/bin/sh\t-c\t{script}"));
    let mark = d.out.mark();
    d.send("service.start\tctl");
    d.recv_ok("service.args\tsvcmade\t/bin/true");
    d.recv_ok("service.tags\tsvcmade\tseen-both");
    // The exit may be reaped before or after the service's last command is
    // read.
    let dn = d.recv_since(mark, Prefix("service.state\tctl\tdown\t"));
    assert_eq!(&fields(&dn)[5..7], ["exit", "0"]);
    d.sync();
    assert!(
        !d.out.seen().iter().any(|l| l == "reply-to-service"),
        "a reply went to the wrong controller"
    );
    // The slot is free again: a second run works the same way.
    let mark = d.out.mark();
    d.send("service.start\tctl");
    d.recv_ok("service.tags\tsvcmade\tseen-both");
    let dn = d.recv_since(mark, Prefix("service.state\tctl\tdown\t"));
    assert_eq!(&fields(&dn)[5..7], ["exit", "0"]);
}

#[test]
fn control_socket_handle_goes_both_ways() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.fds\tsk\tnull\tnull\tstderr\tcontrol.socket");
    let script = "T=$(printf '\\t'); \
        printf 'echo%sback\\n' \"$T\" >&3; \
        while IFS= read -r line <&3; do [ \"$line\" = back ] && break; done; \
        printf 'service.tags%ssk%sboth-ways\\n' \"$T\" \"$T\" >&3; \
        while IFS= read -r line <&3; do [ \"$line\" = \"service.tags${T}sk${T}both-ways\" ] && exit 0; done; exit 1";
    d.cmd(&format!("service.args\tsk\t/bin/sh\t-c\t{script}"));
    let mark = d.out.mark();
    d.send("service.start\tsk");
    d.recv_ok("service.tags\tsk\tboth-ways");
    let dn = d.recv_since(mark, Prefix("service.state\tsk\tdown\t"));
    assert_eq!(&fields(&dn)[5..7], ["exit", "0"]);
}

#[test]
fn config_file_runs_commands() {
    let dir = TempDir::new();
    let cfg = dir.join("dp.conf");
    std::fs::write(
        &cfg,
        "# comment\n\
         service.args\tcfg\t/bin/true\n\
         \n   \n\
         echo\tdiscarded-reply\n\
         bogus-command\n\
         fd.open\tcf\twrite,create\tcfg.out\n\
         service.tags\tcfg\tlast",
    )
    .unwrap();
    let mut d = Spawn::new(&["-i", "-c", &cfg]).dir(dir).start();
    d.recv_ok("service.tags\tcfg\tlast");
    d.sync();
    let seen = d.out.seen().to_vec();
    let pos = |want: &str| seen.iter().position(|l| l == want);
    let a = pos("service.args\tcfg\t/bin/true").expect("args broadcast");
    let f = pos("fd.state\tcf\tfile\twrite,create\tcfg.out").expect("fd broadcast");
    let t = pos("service.tags\tcfg\tlast").unwrap();
    assert!(a < f && f < t, "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|l| l.contains("discarded-reply") || l.starts_with("error"))
    );
    assert!(d.dir.path().join("cfg.out").exists());
    d.stderr_contains("warning: Command ends with EOF... processing anyway\n");
    // A config file's errors name the file and line instead of the slot.
    d.stderr_contains(&format!("error: {cfg}:6: Unknown command: bogus-command\n"));
    // The interactive session goes on after the config EOF.
    assert_eq!(d.cmd("echo\tstill-here"), ["still-here"]);
}

#[test]
fn config_file_alone_keeps_running() {
    let dir = TempDir::new();
    let cfg = dir.join("dp.conf");
    let sock = dir.join("ctl.sock");
    std::fs::write(
        &cfg,
        format!(
            "service.args\tfromcfg\t/bin/sh\t-c\techo ran >ran.txt\n\
             service.start\tfromcfg\n\
             socket.create\t-\t{sock}\n"
        ),
    )
    .unwrap();
    let d = Spawn::new(&["-c", &cfg]).dir(dir).start();
    file_contains(&d.dir.path().join("ran.txt"), "ran\n");
    let mut c = Client::connect(&sock);
    let dump = c.statedump();
    assert!(dump.contains(&"service.args\tfromcfg\t/bin/sh\t-c\techo ran >ran.txt".to_string()));
    assert!(dump.contains(&"fd.state\tstdin\tfile\tread\tunknown".to_string()));
}

#[test]
fn config_from_stdin() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Spawn::new(&["-c", "-", "-S", &sock]).dir(dir).start();
    d.write_raw(
        b"service.fds\tp\tnull\tstdout\tnull\n\
          service.args\tp\t/bin/echo\tprinted-by-service\n\
          service.start\tp\n\
          echo\tnot-printed\n\
          service.tags\tp\tpartial",
    )
    .unwrap();
    d.close_stdin();
    // The service's fd 1 is the daemon's real stdout in this mode.
    d.recv_ok("printed-by-service");
    let mut c = Client::connect(&sock);
    let dump = c.statedump();
    assert!(
        dump.contains(&"service.tags\tp\tpartial".to_string()),
        "{dump:?}"
    );
    // stdin was re-pointed; its displayed flags stay.
    assert!(dump.contains(&"fd.state\tstdin\tfile\tread\tunknown".to_string()));
    assert!(!d.out.seen().iter().any(|l| l == "not-printed"));
}

#[test]
fn interactive_stdout_name_is_dev_null() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("service.fds\tp\tnull\tstdout\tnull");
    d.cmd("service.args\tp\t/bin/echo\tshould-not-appear");
    d.send("service.start\tp");
    let dn = d.recv_state("p", "down");
    assert_eq!(&dn[5..7], ["exit", "0"]);
    d.sync();
    assert!(!d.out.seen().iter().any(|l| l == "should-not-appear"));
}

fn flood_line() -> String {
    format!("service.args\tflood\t/bin/true\t{}", "x".repeat(900))
}

/// `n` flood lines, each ending in a newline.
fn flood_batch(n: usize) -> String {
    (flood_line() + "\n").repeat(n)
}

/// Writes `batch` and an `fd.open` of the file `marker` after it, and waits
/// for the file: every command of the batch has run, whether the
/// controller's output is read or not.
fn run_unread_batch(c: &mut impl Controller, marker: &str, mut batch: String) {
    batch.push_str(&format!("fd.open\tmarker\twrite,create\t{marker}\n"));
    c.write_raw(batch.as_bytes()).unwrap();
    wait_for("the commands after the batch to run", || {
        Path::new(&marker).exists()
    });
}

#[test]
fn overflow_when_not_reading() {
    let mut d = Spawn::new(&["-i"]).paused_stdout().start();
    d.send("conn.event_timeout\t2\t8");
    let line = flood_line();
    // The rest of the flood runs once the daemon gives up on the pipe.
    let marker = d.path("after-batch");
    run_unread_batch(&mut d, &marker, flood_batch(1000));
    d.resume_stdout();
    d.recv_ok("overflow");
    let before = d.out.seen()[..d.out.mark() - 1].to_vec();
    let events = before.iter().filter(|l| **l == line).count();
    assert!(events > 0, "buffered events come before overflow");
    assert!(events < 1000, "some events must have been dropped");
    for l in &before {
        assert!(
            l.starts_with("info\t") || *l == line,
            "unexpected line {l:?}"
        );
    }
    // After the overflow line, output flows normally again.
    assert!(d.sync().is_empty());
    d.stderr_contains("warning: controller 0 blocked pipe for ");
    assert!(d.running());
}

/// A peer that sends commands and reads nothing is given up on after the
/// reset timeout (§8.4): its commands run on with their output dropped, an
/// `echo` among them too, rather than wait for a reader that is not there.
#[test]
fn echo_from_a_peer_that_does_not_read_does_not_stall() {
    let mut d = Spawn::new(&["-i"]).paused_stdout().start();
    d.send("conn.event_timeout\t1\t60");
    let batch = flood_batch(301) + "echo\tmid-flood\n" + &flood_batch(699);
    let marker = d.path("after-batch");
    run_unread_batch(&mut d, &marker, batch);
    d.resume_stdout();
    d.recv_ok("overflow");
    assert!(d.sync().is_empty());
}

#[test]
fn close_timeout_on_blocked_interactive_controller() {
    let mut d = Spawn::new(&["-i"]).paused_stdout().start();
    d.send("conn.event_timeout\t1\t2");
    let line = flood_line();
    for _ in 0..300 {
        if d.try_send(&line).is_err() {
            break;
        }
    }
    d.exit_is(0);
    let err = d.stderr_contains("seconds, closing connection\n");
    assert!(
        err.contains("error: controller 0 blocked pipe for "),
        "{err}"
    );
    assert!(err.contains("info: interactive session ended\n"), "{err}");
}

#[test]
fn client_overflow_does_not_affect_others() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let marker = dir.join("after-flood");
    let mut d = Daemon::interactive_in(dir, &["-S", &sock]);
    let mut c = Client::connect_paused(&sock);
    c.send("conn.event_timeout\t1\t30");
    let line = flood_line();
    // The client's whole flood runs (after the daemon gives up on its
    // output), so nothing follows the client's overflow line.
    run_unread_batch(&mut c, &marker, format!("{line}\n").repeat(1000));
    // The interactive controller keeps working: every event, or (if its
    // own reader fell behind) an `overflow` line, then the echo reply.
    let mut seen = 0;
    while seen < 1000 {
        if d.recv_ok(Where(|l: &str| l == line || l == "overflow")) == "overflow" {
            break;
        }
        seen += 1;
    }
    d.send("echo\tfine");
    d.recv_ok("fine");
    c.resume();
    c.recv_ok("overflow");
    assert!(c.sync().is_empty());
}

/// The loop runs only a few commands per pass (§8.7), so work a command
/// leaves for the loop's earlier steps is done before the commands after
/// it, even when they all arrive in one read: a started service is up
/// before the next command runs, and a log waiting for a name attaches as
/// soon as the name exists (§10.4).
#[test]
fn loop_work_is_done_between_batched_commands() {
    let mut d = Daemon::interactive(&[]);
    let log = d.path("log.out");
    let mut batch = String::new();
    batch += "service.args\tfoo\t/bin/sleep\t30\nservice.start\tfoo\n";
    batch += &"echo\tbetween\n".repeat(6);
    batch += "service.signal\tfoo\tSIGTERM\n";
    batch += &format!("log.dest\tfd\tlf\nfd.open\tlf\twrite,create\t{log}\n");
    batch += &"echo\tagain\n".repeat(6);
    batch += "nosuchcommand\nlog.dest\tfd\tstderr\n";
    d.write_raw(batch.as_bytes()).unwrap();
    let out = d.recv_state("foo", "down");
    assert_eq!(&out[5..7], ["signal", "SIGTERM"], "{out:?}");
    d.sync();
    let lines = d.lines().seen().to_vec();
    let at = |want: &dyn Fn(&String) -> bool| lines.iter().position(want).expect("line");
    let up = at(&|l| l.starts_with("service.state\tfoo\tup\t"));
    assert!(up < at(&|l| l == "between"), "{lines:?}");
    let unexpected = |l: &String| l.starts_with("error") && !l.ends_with("nosuchcommand");
    assert!(!lines.iter().any(unexpected), "{lines:?}");
    let text = file_contains(Path::new(&log), "sent unknown command nosuchcommand");
    assert!(!d.stderr_text().contains("nosuchcommand"), "{text}");
}

/// Out of descriptors, accept fails (EMFILE) while the connection stays
/// pending and the listener readable. The loop must not spin on it: it logs
/// the error, retries later, and serves the client once descriptors are
/// free again.
#[test]
fn accept_failure_does_not_spin() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Spawn::new(&["-i", "-S", &sock]).nofile(16).dir(dir).start();
    d.sync();
    for k in 0..12 {
        d.send(&format!("fd.open\tf{k}\tread\t/dev/null"));
    }
    d.stderr_contains("open failed: Too many open files");
    d.sync();
    let mut c = Client::connect(&sock);
    d.stderr_contains("error: accept(control_socket): Too many open files\n");
    assert_idle(&d);
    d.cmd("fd.delete\tf0");
    d.cmd("fd.delete\tf1");
    c.send("echo\tserved");
    c.recv_ok("served");
}

/// Fails if the daemon uses the CPU while it should be waiting.
fn assert_idle(d: &Daemon) {
    let before = cpu_ticks(d.pid());
    // A measurement over time (CPU used while idle), not a wait for an event.
    sleep(Duration::from_secs(1));
    // A spinning loop would use the whole second (100 ticks).
    let used = cpu_ticks(d.pid()) - before;
    assert!(used < 30, "CPU ticks in 1 s: {used}");
}

/// With RLIMIT_NOFILE below the loop's poll set (7 entries: the signal
/// pipe, the listener, the log, two controllers' input and output), the
/// kernel refuses a poll over the whole set, skipped entries included. The
/// loop polls only the entries in use, so it still sleeps, reads its
/// controller and runs services; a loop whose every poll failed would
/// spin and never read a command.
#[test]
fn poll_set_larger_than_the_descriptor_limit() {
    let mut d = Spawn::new(&["-i"]).nofile(6).start();
    d.sync();
    assert_idle(&d);
    d.cmd("service.args\tt\ttrue");
    d.send("service.start\tt");
    d.recv_state("t", "up");
    d.recv_state("t", "down");
    d.sync();
}

/// `echo` is the protocol's barrier: its reply arrives even when the
/// controller's output overflowed while a statedump was paused (§8.4).
/// Client B starts a dump over a small receive buffer and does not read;
/// client A's changes overflow B's output; B's `echo` must still be
/// answered, after the `overflow` line.
#[test]
fn echo_after_overflowed_dump_is_answered() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let d = Spawn::new(&["-S", &sock]).dir(dir).start();
    let mut a = Client::connect(&sock);
    let args: String = (0..20)
        .map(|k| format!("\targument-number-{k:02}-padding"))
        .collect();
    let tags: String = (0..40).map(|k| format!("\ttag{k:02}x")).collect();
    let mut batch = String::new();
    for n in 0..400 {
        batch += &format!("service.args\ts{n:03}\t/bin/true{args}\n");
        batch += &format!("service.tags\ts{n:03}{tags}\n");
    }
    a.write_raw(batch.as_bytes()).unwrap();
    a.sync();
    let mut b = Client::connect_paused(&sock);
    let size: libc::c_int = 4096;
    // SAFETY: setsockopt on a socket we own, with a valid int.
    let rc = unsafe {
        libc::setsockopt(
            b.fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    b.send("statedump");
    // B's line is read and run in one pass: the dump is under way before
    // A's changes.
    wait_for("the daemon to read B's statedump", || {
        unread_by_peer(&b) == 0
    });
    let mut batch = String::new();
    for n in (0..400).step_by(3) {
        batch += &format!("service.delete\ts{n:03}\n");
    }
    for n in 0..50 {
        batch += &format!("service.args\tnew{n:02}\t/bin/true{args}\n");
    }
    a.write_raw(batch.as_bytes()).unwrap();
    a.sync();
    b.send("echo\tX1");
    // The echo is read (and waits) while B's output is still blocked.
    wait_for("the daemon to read B's echo", || unread_by_peer(&b) == 0);
    b.resume();
    b.recv_ok("X1");
    let seen = b.out.seen();
    let overflow = seen.iter().position(|l| l == "overflow");
    assert!(
        overflow.is_some_and(|o| o < seen.len() - 1),
        "no overflow line before the reply"
    );
    drop(d);
}

/// Bytes the client sent that the daemon has not read yet (SIOCOUTQ).
fn unread_by_peer(c: &Client) -> libc::c_int {
    let mut n: libc::c_int = 0;
    // SAFETY: ioctl on a socket we own, with a valid int out-pointer.
    let rc = unsafe { libc::ioctl(c.fd(), libc::TIOCOUTQ, &mut n) };
    assert_eq!(rc, 0, "SIOCOUTQ: {}", std::io::Error::last_os_error());
    n
}

/// Lets anyone connect to the socket file; peers are then told apart only
/// by their credentials.
fn open_to_all(sock: &str) {
    std::fs::set_permissions(sock, std::fs::Permissions::from_mode(0o777)).unwrap();
}

fn is_root() -> bool {
    // SAFETY: plain syscall.
    unsafe { libc::geteuid() == 0 }
}

/// A controller can do anything root can: by default only uid 0 and the
/// daemon's own uid are served, whatever the socket file allows. A refused
/// peer is logged with its pid and uid, and closed.
#[test]
fn control_socket_refuses_other_users() {
    if !is_root() {
        eprintln!("skipped: connecting as another user needs root");
        return;
    }
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let d = Spawn::new(&["-S", &sock]).dir(dir).start();
    Client::connect(&sock).sync();
    open_to_all(&sock);
    assert_eq!(echo_as(&sock, 65534, 65534), Peer::Closed);
    let err = d.stderr_contains("warning: control socket: refused a connection from pid ");
    assert!(err.contains(", uid 65534\n"), "{err}");
    // Root is served, and so is the daemon's own uid.
    assert_eq!(echo_as(&sock, 0, 0), Peer::Answered);
    let mut c = Client::connect(&sock);
    assert_eq!(c.cmd("echo\tstill"), ["still"]);
}

/// `--socket-admit UID` admits one more uid, `--socket-admit :GID` the
/// peers whose group it is.
#[test]
fn socket_admit_admits_a_uid_and_a_group() {
    if !is_root() {
        eprintln!("skipped: connecting as another user needs root");
        return;
    }
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let _d = Spawn::new(&[
        "-S",
        &sock,
        "--socket-admit",
        "65534",
        "--socket-admit",
        ":4242",
    ])
    .dir(dir)
    .start();
    Client::connect(&sock).sync();
    open_to_all(&sock);
    assert_eq!(echo_as(&sock, 65534, 65534), Peer::Answered);
    assert_eq!(echo_as(&sock, 4000, 4242), Peer::Answered);
    assert_eq!(echo_as(&sock, 4000, 4000), Peer::Closed);
}

#[test]
fn socket_admit_takes_a_uid_or_gid() {
    for bad in ["nobody", "-1", "4294967295", "", ":", ":staff", "::1"] {
        let r = run(&["-S", "x.sock", "--socket-admit", bad]);
        r.assert_code(2);
        assert!(
            r.stderr
                .contains("fatal: --socket-admit takes a uid or :gid\n"),
            "{}",
            r.stderr
        );
    }
}
