//! Named file descriptors: fd.open, fd.pipe, fd.socket, fd.take, fd.delete
//! (§4.8–§4.12), fd.state (§5.3), order (§7.4), replacement (§7.5) and the
//! fd pool (§7.8).

use crate::util::*;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::time::{Duration, Instant};

/// Waits until every writer of the pipe is gone (EOF); returns data read.
fn wait_eof(read_end: OwnedFd) -> String {
    let mut f = File::from(read_end);
    // SAFETY: fcntl on an fd we own.
    unsafe {
        libc::fcntl(f.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK);
    }
    let deadline = Instant::now() + TIMEOUT;
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return String::from_utf8_lossy(&all).into_owned(),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "pipe writer was never closed");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn fd_open_flags_and_state() {
    let mut d = Daemon::interactive(&[]);
    let p = d.path("f.txt");
    assert_eq!(
        d.cmd("fd.open\tn\tread\t/dev/null"),
        ["fd.state\tn\tfile\tread\t/dev/null"]
    );
    assert_eq!(
        d.cmd(&format!("fd.open\tf\ttrunc,create,write\t{p}")),
        [format!("fd.state\tf\tfile\twrite,create,trunc\t{p}")]
    );
    let meta = std::fs::metadata(&p).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        d.cmd(&format!(
            "fd.open\tf\tnonblock,append,write,read,create,trunc\t{p}"
        )),
        [format!(
            "fd.state\tf\tfile\tread,write,append,create,trunc,nonblock\t{p}"
        )]
    );
    assert_eq!(
        d.cmd(&format!("fd.open\tf\tread,,write,\t{p}")),
        [format!("fd.state\tf\tfile\tread,write\t{p}")]
    );
    assert_eq!(
        d.cmd(&format!("fd.open\tf\tappend\t{p}")),
        [format!("fd.state\tf\tfile\tread,append\t{p}")]
    );
    let p2 = d.path("created.txt");
    assert_eq!(
        d.cmd(&format!("fd.open\tg\tcreate\t{p2}")),
        [format!("fd.state\tg\tfile\tread,create\t{p2}")]
    );
    assert!(std::path::Path::new(&p2).exists());
    // Relative paths resolve against the cwd.
    assert_eq!(
        d.cmd("fd.open\th\twrite,create\trel.txt"),
        ["fd.state\th\tfile\twrite,create\trel.txt"]
    );
    assert!(d.dir.path().join("rel.txt").exists());
}

#[test]
fn fd_open_mkdir_creates_parents() {
    let mut d = Daemon::interactive(&[]);
    let p = d.path("a/b/c/file.txt");
    assert_eq!(
        d.cmd(&format!("fd.open\tf\tmkdir,write,create\t{p}")),
        [format!("fd.state\tf\tfile\twrite,create,mkdir\t{p}")]
    );
    assert!(std::path::Path::new(&p).is_file());
    for dir in ["a", "a/b", "a/b/c"] {
        let mode = std::fs::metadata(d.dir.path().join(dir))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{dir}");
    }
    // mkdir ignores errors for parents that already exist.
    let p = d.path("a/b/other.txt");
    assert_eq!(
        d.cmd(&format!("fd.open\tg\tcreate,mkdir,write\t{p}")),
        [format!("fd.state\tg\tfile\twrite,create,mkdir\t{p}")]
    );
}

#[test]
fn fd_open_errors() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_err("fd.open", "Expected file descriptor name");
    d.cmd_err(
        "fd.open\t\tread\t/dev/null",
        "Expected file descriptor name",
    );
    d.cmd_err(
        "fd.open\tbad name\tread\t/dev/null",
        "Invalid file descriptor name",
    );
    d.cmd_err(
        &format!("fd.open\t{}\tread\t/dev/null", "n".repeat(32)),
        "Invalid file descriptor name",
    );
    d.cmd_err("fd.open\tf", "missing flags argument");
    d.cmd_err("fd.open\tf\tread", "missing path argument");
    d.cmd_err(
        "fd.open\tf\tread\t/dev/null\textra",
        "unexpected argument after path",
    );
    d.cmd_err(
        "fd.open\tf\tread\t/nonexistent/file",
        "open failed: No such file or directory",
    );
    d.cmd_err("fd.open\tf\twrite\t/", "open failed: Is a directory");
    for c in ["null", "control.cmd", "control.event", "control.socket"] {
        d.cmd_err(
            &format!("fd.open\t{c}\tread\t/dev/null"),
            "File descriptor cannot be altered",
        );
    }
    // Nothing was created by the failures.
    let dump = d.statedump();
    assert!(
        !dump.iter().any(|l| l.starts_with("fd.state\tf\t")),
        "{dump:?}"
    );
}

#[test]
fn replacing_a_name_sends_no_deleted_event() {
    let mut d = Daemon::interactive(&[]);
    d.cmd("fd.open\tf\tread\t/dev/null");
    let p = d.path("x");
    assert_eq!(
        d.cmd(&format!("fd.open\tf\twrite,create\t{p}")),
        [format!("fd.state\tf\tfile\twrite,create\t{p}")]
    );
    assert_eq!(
        d.cmd("fd.pipe\tr\tw"),
        ["fd.state\tr\tpipe\tfrom\tw", "fd.state\tw\tpipe\tto\tr"]
    );
    assert_eq!(
        d.cmd("fd.open\tw\tread\t/dev/null"),
        ["fd.state\tw\tfile\tread\t/dev/null"]
    );
    let dump = d.statedump();
    assert!(
        dump.contains(&"fd.state\tr\tpipe\tfrom\t?".to_string()),
        "{dump:?}"
    );
    // Replacing a pipe end with a new pipe.
    d.cmd("fd.pipe\ta\tb");
    assert_eq!(
        d.cmd("fd.pipe\tc\tb"),
        ["fd.state\tc\tpipe\tfrom\tb", "fd.state\tb\tpipe\tto\tc"]
    );
    let dump = d.statedump();
    assert!(
        dump.contains(&"fd.state\ta\tpipe\tfrom\t?".to_string()),
        "{dump:?}"
    );
    // One name for both ends: the write end replaces the read end, with no
    // `deleted` (§7.5); both lines show what the name is now.
    assert_eq!(
        d.cmd("fd.pipe\tm\tm"),
        ["fd.state\tm\tpipe\tto\t?", "fd.state\tm\tpipe\tto\t?"]
    );
}

#[test]
fn replacing_a_name_closes_the_old_descriptor() {
    let mut d = Daemon::interactive(&[]);
    let fifo = d.path("p.fifo");
    mkfifo(&fifo);
    let reader = open_nonblock_read(&fifo);
    d.cmd(&format!("fd.open\tw\twrite\t{fifo}"));
    d.cmd("fd.open\tw\tread\t/dev/null");
    wait_eof(reader.into());
}

#[test]
fn fd_pipe_and_peer_deletion() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(
        d.cmd("fd.pipe\tr\tw"),
        ["fd.state\tr\tpipe\tfrom\tw", "fd.state\tw\tpipe\tto\tr"]
    );
    assert_eq!(d.cmd("fd.delete\tr"), ["fd.state\tr\tdeleted"]);
    let dump = d.statedump();
    assert!(
        dump.contains(&"fd.state\tw\tpipe\tto\t?".to_string()),
        "{dump:?}"
    );
    assert!(!dump.iter().any(|l| l.starts_with("fd.state\tr\t")));
}

#[test]
fn fd_pipe_flags() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(
        d.cmd("fd.pipe\tp\tq\tnonblock"),
        [
            "fd.state\tp\tpipe\tnonblock,from\tq",
            "fd.state\tq\tpipe\tnonblock,to\tp"
        ]
    );
    assert_eq!(
        d.cmd("fd.pipe\ta\tb\tunix"),
        [
            "fd.state\ta\tpipe\tunix,stream,to\tb",
            "fd.state\tb\tpipe\tunix,stream,to\ta"
        ]
    );
    assert_eq!(
        d.cmd("fd.pipe\ta\tb\tdgram"),
        [
            "fd.state\ta\tpipe\tunix,dgram,to\tb",
            "fd.state\tb\tpipe\tunix,dgram,to\ta"
        ]
    );
    assert_eq!(
        d.cmd("fd.pipe\ta\tb\tseqpacket,unix"),
        [
            "fd.state\ta\tpipe\tunix,seqpacket,to\tb",
            "fd.state\tb\tpipe\tunix,seqpacket,to\ta"
        ]
    );
    assert_eq!(
        d.cmd("fd.pipe\ta\tb\tstream,nonblock"),
        [
            "fd.state\ta\tpipe\tunix,stream,nonblock,to\tb",
            "fd.state\tb\tpipe\tunix,stream,nonblock,to\ta"
        ]
    );
    for plain in ["-", ",", "-,,-"] {
        assert_eq!(
            d.cmd(&format!("fd.pipe\tr\tw\t{plain}")),
            ["fd.state\tr\tpipe\tfrom\tw", "fd.state\tw\tpipe\tto\tr"],
            "{plain}"
        );
    }
}

#[test]
fn fd_pipe_inet_socketpair_unsupported() {
    let mut d = Daemon::interactive(&[]);
    for flags in ["inet", "tcp", "udp", "inet6", "inet,dgram"] {
        d.cmd_err(
            &format!("fd.pipe\ta\tb\t{flags}"),
            "socketpair() failed: Operation not supported",
        );
    }
    let dump = d.statedump();
    assert!(!dump.iter().any(|l| l.starts_with("fd.state\ta\t")));
}

#[test]
fn fd_pipe_name_errors() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_err("fd.pipe\tr", "Expected file descriptor name");
    d.cmd_err("fd.pipe", "Expected file descriptor name");
    d.cmd_err("fd.pipe\tnull\tw", "File descriptor cannot be altered");
    d.cmd_err(
        "fd.pipe\tr\tcontrol.cmd",
        "File descriptor cannot be altered",
    );
    d.cmd_err("fd.pipe\tr\tw w", "Invalid file descriptor name");
}

#[test]
fn pipe_carries_data_between_services() {
    let mut d = Daemon::interactive(&[]);
    let out = d.path("got.txt");
    d.cmd("fd.pipe\tpr\tpw");
    d.cmd(&format!("fd.open\tout\twrite,create\t{out}"));
    d.cmd("service.fds\treader\tpr\tout\tnull");
    d.cmd("service.args\treader\t/bin/sh\t-c\tread x; echo \"got:$x\"");
    d.cmd("service.fds\twriter\tnull\tpw\tnull");
    d.cmd("service.args\twriter\t/bin/sh\t-c\techo through-the-pipe");
    d.send("service.start\treader");
    d.send("service.start\twriter");
    d.recv_ok(Prefix("service.state\treader\tdown\t"));
    file_contains(std::path::Path::new(&out), "got:through-the-pipe\n");
}

#[test]
fn fd_socket_unix_variants() {
    let mut d = Daemon::interactive(&[]);
    for (flags, shown) in [
        ("unix", "unix,stream"),
        ("stream", "unix,stream"),
        ("unix,dgram", "unix,dgram"),
        ("seqpacket", "unix,seqpacket"),
        ("unix,dgram,seqpacket", "unix,dgram"),
        ("dgram,stream", "unix,stream"),
        ("unix,nonblock", "unix,stream,nonblock"),
        ("tcp=5", "inet,stream"),
        ("inet", "inet,stream"),
        ("udp", "inet,dgram"),
        ("inet6", "inet6,stream"),
        ("inet6,dgram", "inet6,dgram"),
        (",unix,", "unix,stream"),
    ] {
        assert_eq!(
            d.cmd(&format!("fd.socket\ts\t{flags}")),
            [format!("fd.state\ts\tsocket\t{shown}\t")],
            "{flags}"
        );
    }
}

/// The last family word wins, as in the original: `unix` after `inet`,
/// `tcp` or `udp` gives a unix socket, while `inet6` is undone only by
/// `inet` (which outranks it), not by `unix`.
#[test]
fn later_family_word_wins() {
    let mut d = Daemon::interactive(&[]);
    for (flags, shown) in [
        ("inet,unix", "unix,stream"),
        ("tcp,unix", "unix,stream"),
        ("udp,unix", "unix,dgram"),
        ("unix,inet", "inet,stream"),
        ("inet6,unix", "inet6,stream"),
        ("inet6,inet", "inet,stream"),
    ] {
        assert_eq!(
            d.cmd(&format!("fd.socket\ts\t{flags}")),
            [format!("fd.state\ts\tsocket\t{shown}\t")],
            "{flags}"
        );
    }
    for flags in ["inet,unix", "tcp,unix"] {
        assert_eq!(
            d.cmd(&format!("fd.pipe\ta\tb\t{flags}")),
            [
                "fd.state\ta\tpipe\tunix,stream,to\tb",
                "fd.state\tb\tpipe\tunix,stream,to\ta"
            ],
            "{flags}"
        );
    }
    assert_eq!(
        d.cmd("fd.pipe\ta\tb\tudp,unix"),
        [
            "fd.state\ta\tpipe\tunix,dgram,to\tb",
            "fd.state\tb\tpipe\tunix,dgram,to\ta"
        ]
    );
    d.cmd_err(
        "fd.pipe\ta\tb\tinet6,unix",
        "socketpair() failed: Operation not supported",
    );
}

/// The address is checked before what follows it: an empty address is
/// invalid even when more fields come after it.
#[test]
fn fd_socket_address_checked_before_extra_fields() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_err("fd.socket\tf1\tunix\t\textra", "invalid address");
    d.cmd_err("fd.socket\tf1\tinet\tnowhere\textra", "invalid address");
    d.cmd_err(
        "fd.socket\tf1\tunix\tx.sock\textra",
        "unexpected argument after address",
    );
}

#[test]
fn fd_socket_unix_listen_is_reachable() {
    let mut d = Daemon::interactive(&[]);
    let p = d.path("s.sock");
    assert_eq!(
        d.cmd(&format!("fd.socket\ts\tunix,listen\t{p}")),
        [format!(
            "fd.state\ts\tsocket\tunix,stream,bind,listen=32\t{p}"
        )]
    );
    let meta = std::fs::metadata(&p).unwrap();
    assert!(meta.file_type().is_socket());
    UnixStream::connect(&p).expect("connect to the listening socket");
    let p2 = d.path("x/y/z.sock");
    assert_eq!(
        d.cmd(&format!("fd.socket\tt\tlisten=5,mkdir\t{p2}")),
        [format!(
            "fd.state\tt\tsocket\tunix,stream,bind,listen=5,mkdir\t{p2}"
        )]
    );
    UnixStream::connect(&p2).expect("connect to the mkdir socket");
    let p3 = d.path("e.sock");
    assert_eq!(
        d.cmd(&format!("fd.socket\tu\tunix,listen=\t{p3}")),
        [format!(
            "fd.state\tu\tsocket\tunix,stream,bind,listen=32\t{p3}"
        )]
    );
}

#[test]
fn fd_socket_unix_bind_and_dgram() {
    let mut d = Daemon::interactive(&[]);
    let p = d.path("b.sock");
    assert_eq!(
        d.cmd(&format!("fd.socket\ts\tunix,bind\t{p}")),
        [format!("fd.state\ts\tsocket\tunix,stream,bind\t{p}")]
    );
    assert!(std::fs::metadata(&p).unwrap().file_type().is_socket());
    let p = d.path("d.sock");
    // An address implies bind.
    assert_eq!(
        d.cmd(&format!("fd.socket\tg\tunix,dgram\t{p}")),
        [format!("fd.state\tg\tsocket\tunix,dgram,bind\t{p}")]
    );
    let c = UnixDatagram::unbound().unwrap();
    c.send_to(b"hello", &p)
        .expect("datagram to the bound socket");
}

#[test]
fn fd_socket_tcp_is_reachable() {
    let mut d = Daemon::interactive(&[]);
    let port = free_tcp_port();
    assert_eq!(
        d.cmd(&format!("fd.socket\tt\ttcp,listen=11\t*:{port}")),
        [format!(
            "fd.state\tt\tsocket\tinet,stream,bind,listen=11\t*:{port}"
        )]
    );
    TcpStream::connect(("127.0.0.1", port)).expect("connect to *:PORT");
    let port = free_tcp_port();
    assert_eq!(
        d.cmd(&format!(
            "fd.socket\tl\ttcp,listen,nonblock\t127.0.0.1:{port}"
        )),
        [format!(
            "fd.state\tl\tsocket\tinet,stream,bind,listen=32,nonblock\t127.0.0.1:{port}"
        )]
    );
    TcpStream::connect(("127.0.0.1", port)).expect("connect to 127.0.0.1:PORT");
    assert_eq!(
        d.cmd("fd.socket\tb\tinet,bind\t127.0.0.1"),
        ["fd.state\tb\tsocket\tinet,stream,bind\t127.0.0.1"]
    );
}

#[test]
fn fd_socket_udp_is_bound() {
    let mut d = Daemon::interactive(&[]);
    let port = free_udp_port();
    assert_eq!(
        d.cmd(&format!("fd.socket\tu\tudp\t127.0.0.1:{port}")),
        [format!(
            "fd.state\tu\tsocket\tinet,dgram,bind\t127.0.0.1:{port}"
        )]
    );
    let err = UdpSocket::bind(("127.0.0.1", port)).expect_err("port is taken");
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
}

#[test]
fn fd_socket_errors() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_err("fd.socket\ts", "missing flags argument");
    d.cmd_err("fd.socket\tnull\tunix", "File descriptor cannot be altered");
    d.cmd_err("fd.socket\ts\tunix,bind", "expected address argument");
    d.cmd_err("fd.socket\ts\ttcp,listen", "expected address argument");
    let p = d.path("x.sock");
    d.cmd_err(
        &format!("fd.socket\ts\tunix\t{p}\textra"),
        "unexpected argument after address",
    );
    for addr in [
        "localhost:80",
        "",
        "1.2.3.4:x",
        "1.2.3.4:80x",
        "[::1]:80",
        "1.2.3.4 ",
    ] {
        d.cmd_err(&format!("fd.socket\ts\tinet\t{addr}"), "invalid address");
    }
    d.cmd_err("fd.socket\ts\tinet6\t::1", "invalid address");
    d.cmd_err("fd.socket\ts\tunix\t", "invalid address");
    d.cmd_err(
        &format!("fd.socket\ts\tunix\t/{}", "p".repeat(107)),
        "invalid address",
    );
    for q in ["0", "65536", "abc", "-1"] {
        d.cmd_err(
            &format!("fd.socket\ts\tunix,listen={q}\t{p}"),
            "invalid listen queue length",
        );
    }
    d.cmd_err(
        "fd.socket\ts\tunix,bind\t/nonexistent/dir/s.sock",
        "bind: No such file or directory",
    );
    let dump = d.statedump();
    assert!(
        !dump.iter().any(|l| l.starts_with("fd.state\ts\t")),
        "{dump:?}"
    );
}

#[test]
fn fd_socket_address_in_use() {
    let mut d = Daemon::interactive(&[]);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    d.cmd_err(
        &format!("fd.socket\tt\ttcp,listen\t127.0.0.1:{port}"),
        "bind: Address already in use",
    );
    let p = d.path("dup.sock");
    d.cmd(&format!("fd.socket\ta\tunix,listen\t{p}"));
    d.cmd_err(
        &format!("fd.socket\tb\tunix,listen\t{p}"),
        "bind: Address already in use",
    );
}

#[test]
fn fd_delete() {
    let mut d = Daemon::interactive(&[]);
    for c in ["null", "control.cmd", "control.event", "control.socket"] {
        d.cmd_err(
            &format!("fd.delete\t{c}"),
            "File descriptor cannot be altered",
        );
    }
    d.cmd_err("fd.delete\tnosuch", "No such file descriptor");
    d.cmd_err("fd.delete\ta b", "Invalid file descriptor name");
    d.cmd("fd.open\tf\tread\t/dev/null");
    assert_eq!(d.cmd("fd.delete\tf"), ["fd.state\tf\tdeleted"]);
    d.cmd_err("fd.delete\tf", "No such file descriptor");
    assert_eq!(d.cmd("fd.delete\tstdin"), ["fd.state\tstdin\tdeleted"]);
    let dump = d.statedump();
    assert!(
        !dump
            .iter()
            .any(|l| l.starts_with("fd.state\tf\t") || l.starts_with("fd.state\tstdin\t")),
        "{dump:?}"
    );
}

#[test]
fn fd_delete_closes_the_descriptor() {
    let mut d = Daemon::interactive(&[]);
    let fifo = d.path("p.fifo");
    mkfifo(&fifo);
    let reader = open_nonblock_read(&fifo);
    d.cmd(&format!("fd.open\tw\twrite\t{fifo}"));
    d.cmd("fd.delete\tw");
    wait_eof(reader.into());
}

#[test]
fn fd_pool_full() {
    let mut d = Daemon::interactive(&["--fd-pool", "1"]);
    d.stderr_contains("warning: At least 7 fd objects required; using minimum\n");
    let line = "fd.open\tfoo\tread\t/dev/null";
    assert_eq!(
        d.cmd(line),
        [
            "error\tUnable to allocate new file descriptor object, for command \"fd.open\tfoo\tread\t/dev/null\""
        ]
    );
    // Even a replacement needs a free object first.
    d.cmd_err(
        "fd.open\tstderr\twrite\t/dev/null",
        "Unable to allocate new file descriptor object",
    );
    d.cmd_err(
        "fd.socket\ts\tunix",
        "Unable to allocate new file descriptor object",
    );
    d.cmd_err("fd.pipe\tr\tw", "failed to create pipe");
    // fd.delete frees an object.
    d.cmd("fd.delete\tstdout");
    assert_eq!(d.cmd(line), ["fd.state\tfoo\tfile\tread\t/dev/null"]);
    d.cmd_err(
        "fd.open\tbar\tread\t/dev/null",
        "Unable to allocate new file descriptor object",
    );
}

#[test]
fn fd_pool_pipe_needs_two_objects() {
    let mut d = Daemon::interactive(&["--fd-pool", "8"]);
    d.cmd_err("fd.pipe\tr\tw", "failed to create pipe");
    assert_eq!(
        d.cmd("fd.open\tone\tread\t/dev/null"),
        ["fd.state\tone\tfile\tread\t/dev/null"]
    );
    d.cmd("fd.delete\tone");
    d.cmd("fd.delete\tstdin");
    assert_eq!(
        d.cmd("fd.pipe\tr\tw"),
        ["fd.state\tr\tpipe\tfrom\tw", "fd.state\tw\tpipe\tto\tr"]
    );
}

#[test]
fn statedump_sorts_fds_by_name() {
    let mut d = Daemon::interactive(&[]);
    let names = [
        "b", "B", "_x", "a-1", "a.1", "a1", "a", "ab", "-z", ".z", "9", "Z", "nul", "null0",
    ];
    for n in names {
        d.cmd(&format!("fd.open\t{n}\tread\t/dev/null"));
    }
    let dump = d.statedump();
    let got: Vec<&str> = dump
        .iter()
        .filter(|l| l.starts_with("fd.state\t"))
        .map(|l| fields(l)[1])
        .collect();
    let mut want: Vec<&str> = names.to_vec();
    want.extend([
        "control.cmd",
        "control.event",
        "control.socket",
        "null",
        "stderr",
        "stdin",
        "stdout",
    ]);
    want.sort();
    assert_eq!(got, want);
    assert_eq!(&got[..3], ["-z", ".z", "9"]);
}

#[test]
fn fd_take_registers_received_descriptor() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["-S", &sock]);
    let mut c = Client::connect(&sock);
    let (r, w) = pipe();
    c.send_with_fds("fd.take\tpw", &[w.as_raw_fd()]);
    drop(w);
    c.recv_ok("fd.state\tpw\tfile\twrite\tunknown");
    d.recv_ok("fd.state\tpw\tfile\twrite\tunknown");
    // The daemon now holds the write end; a service can use it.
    d.cmd("service.fds\ts\tnull\tpw\tnull");
    d.cmd("service.args\ts\t/bin/sh\t-c\techo via-taken-fd");
    d.send("service.start\ts");
    d.recv_ok(Prefix("service.state\ts\tdown\t"));
    d.cmd("fd.delete\tpw");
    assert_eq!(wait_eof(r), "via-taken-fd\n");
}

/// fd.take works for a service controller too: its control.socket end is a
/// socket, read with recvmsg like a socket client's (§4.11, §8.5).
#[test]
fn fd_take_from_a_service_controller() {
    let mut d = Daemon::interactive(&[]);
    let exe = std::env::current_exe().unwrap();
    d.cmd("service.fds\ts\tcontrol.socket\tnull\tstderr");
    d.cmd(&format!(
        "service.args\ts\t{}\t--ignored\t--exact\tfds::service_sends_fd_take",
        exe.display()
    ));
    d.send("service.start\ts");
    d.recv_ok("fd.state\ttaken\tfile\twrite\tunknown");
    let down = d.recv_state("s", "down");
    assert_eq!(&down[5..7], ["exit", "0"], "{down:?}");
}

/// Not a test of its own: the service in fd_take_from_a_service_controller,
/// which the daemon runs with its control.socket end on fd 0. It hands the
/// daemon a pipe's write end and waits to see it registered.
#[test]
#[ignore = "run as a service by fd_take_from_a_service_controller"]
fn service_sends_fd_take() {
    use std::io::BufRead;
    use std::os::fd::FromRawFd;
    let (_r, w) = pipe();
    send_fds(0, b"fd.take\ttaken\n", &[w.as_raw_fd()]).expect("sendmsg on fd 0");
    // SAFETY: fd 0 is the service's end of the control socket, ours to own.
    let events = std::io::BufReader::new(unsafe { File::from_raw_fd(0) });
    for line in events.lines() {
        if line.expect("read fd 0").starts_with("fd.state\ttaken\t") {
            return;
        }
    }
    panic!("the daemon closed the control socket first");
}

#[test]
fn fd_take_socket_types() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let _d = Daemon::interactive_in(dir, &["-S", &sock]);
    let mut c = Client::connect(&sock);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    c.send_with_fds("fd.take\tu", &[udp.as_raw_fd()]);
    c.recv_ok("fd.state\tu\tsocket\tinet,dgram\tunknown");
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    c.send_with_fds("fd.take\tt", &[tcp.as_raw_fd()]);
    c.recv_ok("fd.state\tt\tsocket\tinet,stream\tunknown");
    let (a, _b) = UnixStream::pair().unwrap();
    c.send_with_fds("fd.take\tx", &[a.as_raw_fd()]);
    c.recv_ok("fd.state\tx\tsocket\tunix,stream\tunknown");
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .unwrap();
    c.send_with_fds("fd.take\tn", &[f.as_raw_fd()]);
    c.recv_ok("fd.state\tn\tfile\tread,write\tunknown");
}

#[test]
fn fd_take_without_descriptor() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["-S", &sock]);
    let mut c = Client::connect(&sock);
    c.cmd_err("fd.take\tx", "No ancillary file descriptor received");
    d.cmd_err("fd.take\tx", "No ancillary file descriptor received");
}

#[test]
fn fd_take_bad_name_closes_descriptor() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let _d = Daemon::interactive_in(dir, &["-S", &sock]);
    let mut c = Client::connect(&sock);
    let (r, w) = pipe();
    c.send_with_fds("fd.take\tnull", &[w.as_raw_fd()]);
    drop(w);
    c.recv_ok(err_line(
        "fd.take\tnull",
        "File descriptor cannot be altered",
    ));
    wait_eof(r);
    // It was consumed: the queue is empty now.
    c.cmd_err("fd.take\tx", "No ancillary file descriptor received");
}

#[test]
fn fd_take_queue_holds_two() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let d = Daemon::interactive_in(dir, &["-S", &sock]);
    let mut c = Client::connect(&sock);
    let (r1, w1) = pipe();
    let (r2, w2) = pipe();
    let (r3, w3) = pipe();
    // Three messages with one descriptor each: only two can be queued.
    c.send_with_fds("echo\tone", &[w1.as_raw_fd()]);
    c.send_with_fds("echo\ttwo", &[w2.as_raw_fd()]);
    c.send_with_fds("echo\tthree", &[w3.as_raw_fd()]);
    drop((w1, w2, w3));
    c.recv_ok("three");
    d.stderr_contains("error: No room for ancillary file descriptor ");
    // The third one was closed.
    wait_eof(r3);
    c.send("fd.take\ta");
    c.recv_ok("fd.state\ta\tfile\twrite\tunknown");
    c.send("fd.take\tb");
    c.recv_ok("fd.state\tb\tfile\twrite\tunknown");
    c.cmd_err("fd.take\tc", "No ancillary file descriptor received");
    // The oldest went to "a": deleting "a" closes pipe 1, not pipe 2.
    c.cmd("fd.delete\ta");
    wait_eof(r1);
    c.cmd("fd.delete\tb");
    wait_eof(r2);
}

#[test]
fn leftover_received_descriptor_is_closed() {
    let dir = TempDir::new();
    let sock = dir.join("ctl.sock");
    let mut d = Daemon::interactive_in(dir, &["-S", &sock]);
    let mut c = Client::connect(&sock);
    let (r, w) = pipe();
    c.send_with_fds("echo\tnot-a-take", &[w.as_raw_fd()]);
    drop(w);
    c.recv_ok("not-a-take");
    drop(c);
    d.stderr_contains("warning: closing leftover ancillary file descriptor ");
    wait_eof(r);
    d.sync();
}
