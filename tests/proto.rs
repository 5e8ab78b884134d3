//! Line protocol (§3), general commands (§4.1, §4.2, §4.14–§4.18) and the
//! interactive banner (§2.3).

use crate::util::*;

const INITIAL_FDS: [&str; 7] = [
    "fd.state\tcontrol.cmd\tspecial\twrite\tdaemonproxy command pipe",
    "fd.state\tcontrol.event\tspecial\tread\tdaemonproxy event stream",
    "fd.state\tcontrol.socket\tspecial\tread,write\tdaemonproxy control socket",
    "fd.state\tnull\tspecial\tread,write\t/dev/null",
    "fd.state\tstderr\tfile\twrite\tunknown",
    "fd.state\tstdin\tfile\tread\tunknown",
    "fd.state\tstdout\tfile\twrite\tunknown",
];

#[test]
fn banner_comes_first() {
    let mut d = Spawn::new(&["-i"]).start();
    let banner = d.sync();
    assert!(
        banner
            .first()
            .is_some_and(|l| l.starts_with("info\tdaemonproxy version 1.1.0")),
        "{banner:?}"
    );
    assert!(banner.iter().all(|l| l.starts_with("info\t")), "{banner:?}");
    assert_eq!(
        banner.last().map(String::as_str),
        Some(
            "info\tInteractive mode.  Use ^D or 'exit' to terminate.  See 'man daemonproxy' for command syntax."
        )
    );
}

#[test]
fn initial_statedump_lists_the_startup_fds() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(d.statedump(), INITIAL_FDS);
}

#[test]
fn echo_replies_argument_text_exactly() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(d.cmd("echo\ta\t\tb"), ["a\t\tb"]);
    assert_eq!(d.cmd("echo\thello world"), ["hello world"]);
    assert_eq!(d.cmd("echo\t\tx\t"), ["\tx\t"]);
    // CR is ordinary data.
    assert_eq!(d.cmd("echo\tcr\r"), ["cr\r"]);
    assert!(d.cmd("echo").is_empty());
    assert!(d.cmd("echo\t").is_empty());
}

#[test]
fn replies_keep_command_order() {
    let mut d = Daemon::interactive(&[]);
    d.write_raw(b"echo\t1\necho\t2\nbogus\necho\t3\n").unwrap();
    let out = d.sync();
    assert_eq!(out, ["1", "2", "error\tUnknown command: bogus", "3"]);
}

#[test]
fn comments_and_blank_lines_are_ignored() {
    let mut d = Daemon::interactive(&[]);
    for line in ["#", "# comment", "#echo\tx", "", " ", "\t", " \t \r", "\r"] {
        assert!(d.cmd(line).is_empty(), "{line:?} should be ignored");
    }
}

#[test]
fn leading_whitespace_makes_an_unknown_command() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(d.cmd(" echo\tx"), ["error\tUnknown command:  echo"]);
    d.stderr_contains("error: controller[0] sent unknown command  echo\n");
}

#[test]
fn unknown_command() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(
        d.cmd("frobnicate\ta\tb"),
        ["error\tUnknown command: frobnicate"]
    );
    d.stderr_contains("error: controller[0] sent unknown command frobnicate\n");
    // Command names are case-sensitive.
    assert_eq!(d.cmd("ECHO\tx"), ["error\tUnknown command: ECHO"]);
    assert_eq!(d.cmd("echo\r"), ["error\tUnknown command: echo\r"]);
}

#[test]
fn failed_command_excerpt_rule() {
    let mut d = Daemon::interactive(&[]);
    // 29 bytes: shown whole.
    let l29 = "service.start\tabcdefghijklmno";
    assert_eq!(l29.len(), 29);
    assert_eq!(
        d.cmd(l29),
        ["error\tNo such service, for command \"service.start\tabcdefghijklmno\""]
    );
    // 30 bytes: shown whole plus "...".
    let l30 = "service.start\tabcdefghijklmnop";
    assert_eq!(l30.len(), 30);
    assert_eq!(
        d.cmd(l30),
        ["error\tNo such service, for command \"service.start\tabcdefghijklmnop...\""]
    );
    // Longer: cut to 30.
    let l40 = "service.start\tabcdefghijklmnopqrstuvwxyz";
    assert_eq!(
        d.cmd(l40),
        ["error\tNo such service, for command \"service.start\tabcdefghijklmnop...\""]
    );
    d.cmd_err("fd.delete\tnull", "File descriptor cannot be altered");
}

#[test]
fn failed_command_is_logged_with_90_byte_excerpt() {
    let mut d = Daemon::interactive(&[]);
    let short = "service.start\tnope";
    d.cmd_err(short, "No such service");
    d.stderr_contains(&format!(
        "error: controller[0] command failed: '{short}'\nerror:   with error: 'No such service'\n"
    ));
    let name = "n".repeat(31);
    let long = format!("service.signal\t{name}\tSIGTERM\t{}", "x".repeat(60));
    assert!(long.len() >= 90);
    d.cmd_err(&long, "No such service");
    d.stderr_contains(&format!(
        "error: controller[0] command failed: '{}'...\nerror:   with error: 'No such service'\n",
        &long[..90]
    ));
}

#[test]
fn integers_are_strict() {
    let mut d = Daemon::interactive(&[]);
    for bad in ["+1", " 1", "1 ", "1x", "", "-"] {
        let line = format!("conn.event_timeout\t{bad}\t5");
        d.cmd_err(&line, "Expected integer");
    }
    d.cmd_quiet("conn.event_timeout\t-0\t5");
}

#[test]
fn longest_line_is_1023_bytes() {
    let mut d = Daemon::interactive(&[]);
    let payload = "y".repeat(1023 - 5);
    let line = format!("echo\t{payload}");
    assert_eq!(line.len(), 1023);
    assert_eq!(d.cmd(&line), [payload]);
}

#[test]
fn line_too_long() {
    let mut d = Daemon::interactive(&[]);
    let line = format!("echo\t{}", "z".repeat(1024 - 5));
    assert_eq!(line.len(), 1024);
    assert_eq!(d.cmd(&line), ["error\tline too long"]);
    d.stderr_contains("error: controller[0] command exceeds buffer size\n");
    let line = format!("echo\t{}", "z".repeat(3000));
    assert_eq!(d.cmd(&line), ["error\tline too long"]);
    assert_eq!(d.cmd("echo\tstill works"), ["still works"]);
}

#[test]
fn overlong_comment_is_silent() {
    let mut d = Daemon::interactive(&[]);
    let line = format!("#{}", "c".repeat(2500));
    assert!(d.cmd(&line).is_empty());
    assert_eq!(d.cmd("echo\tafter"), ["after"]);
}

#[test]
fn overlong_line_debug_log() {
    let mut d = Daemon::interactive(&["-v"]);
    let line = format!("echo\t{}", "z".repeat(1500));
    assert_eq!(d.cmd(&line), ["error\tline too long"]);
    d.stderr_contains("debug: controller[0] command length exceeds 1024 bytes, discarding\n");
}

/// At `-v`, what is left of an over-long line (its first byte, kept in
/// case it starts a comment, and the bytes after the discarded ones) is
/// logged as a command, before the error, as the original logs it.
#[test]
fn overlong_line_remainder_is_logged_as_a_command() {
    let mut d = Daemon::interactive(&["-v"]);
    let line = format!("echo\t{}TAIL", "z".repeat(1500));
    assert_eq!(d.cmd(&line), ["error\tline too long"]);
    let err = d.stderr_contains("error: controller[0] command exceeds buffer size\n");
    let from = err
        .find("debug: controller[0] command length exceeds")
        .expect("overflow logged");
    let to = err.find("error: controller[0] command exceeds").unwrap();
    // The receive buffer took 1024 bytes of the line; the rest is 481 z
    // and TAIL.
    assert_eq!(
        &err[from..to],
        format!(
            "debug: controller[0] command length exceeds 1024 bytes, discarding\n\
             debug: controller[0] command: \"e{}TAIL\"\n\
             debug: client[0] event: \"error\tline too long\n\"\n",
            "z".repeat(481)
        )
    );
}

#[test]
fn unknown_flag_reply_is_two_lines() {
    let mut d = Daemon::interactive(&[]);
    let line = "fd.open\tx\tbogus\t/dev/null";
    assert_eq!(
        d.cmd(line),
        [
            "error\tunknown flag \"bogus\"",
            ", for command \"fd.open\tx\tbogus\t/dev/null\""
        ]
    );
    let line = "fd.pipe\tr\tw\tread";
    assert_eq!(
        d.cmd(line),
        [
            "error\tunknown flag \"read\"",
            ", for command \"fd.pipe\tr\tw\tread\""
        ]
    );
    let line = "fd.socket\ts\tunix,wat";
    assert_eq!(
        d.cmd(line),
        [
            "error\tunknown flag \"wat\"",
            ", for command \"fd.socket\ts\tunix,wat\""
        ]
    );
}

/// A `word=value` flag that is not known is named by its word alone, as
/// the original names it.
#[test]
fn unknown_keyed_flag_is_named_by_its_word() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(
        d.cmd("fd.socket\tf1\tunix,bogus=1\tx.sock"),
        [
            "error\tunknown flag \"bogus\"",
            ", for command \"fd.socket\tf1\tunix,bogus=1\tx.so...\""
        ]
    );
    assert_eq!(
        d.cmd("fd.socket\ts\t=5"),
        [
            "error\tunknown flag \"\"",
            ", for command \"fd.socket\ts\t=5\""
        ]
    );
    // fd.open and fd.pipe flags take no value: `=` is part of the word.
    assert_eq!(
        d.cmd("fd.pipe\tr\tw\tunix=1"),
        [
            "error\tunknown flag \"unix=1\"",
            ", for command \"fd.pipe\tr\tw\tunix=1\""
        ]
    );
}

#[test]
fn log_filter_replies() {
    let mut d = Daemon::interactive(&[]);
    assert_eq!(d.cmd("log.filter"), ["log.filter\tdebug"]);
    assert_eq!(d.cmd("log.filter\t-"), ["log.filter\ttrace"]);
    assert_eq!(d.cmd("log.filter\t-"), ["log.filter\tnone"]);
    assert_eq!(d.cmd("log.filter\t-"), ["log.filter\tnone"]);
    assert_eq!(d.cmd("log.filter\t+"), ["log.filter\ttrace"]);
    for level in [
        "none", "trace", "debug", "info", "warning", "error", "fatal",
    ] {
        assert_eq!(
            d.cmd(&format!("log.filter\t{level}")),
            [format!("log.filter\t{level}")]
        );
    }
    assert_eq!(d.cmd("log.filter\t+"), ["log.filter\tfatal"]);
    assert_eq!(d.cmd("log.filter\t-"), ["log.filter\terror"]);
    d.cmd_err("log.filter\tloud", "Invalid loglevel argument");
    d.cmd_err("log.filter\tDEBUG", "Invalid loglevel argument");
    assert_eq!(d.cmd("log.filter"), ["log.filter\terror"]);
    // Fields after the level are ignored (§3.5).
    assert_eq!(d.cmd("log.filter\tinfo\textra"), ["log.filter\tinfo"]);
    assert_eq!(d.cmd("log.filter\t-\textra"), ["log.filter\tdebug"]);
}

#[test]
fn conn_event_timeout_validation() {
    let mut d = Daemon::interactive(&[]);
    d.cmd_quiet("conn.event_timeout\t2\t8");
    d.cmd_quiet("conn.event_timeout\t0\t0");
    d.cmd_quiet("conn.event_timeout\t2147483647\t2147483647");
    d.cmd_err(
        "conn.event_timeout\t8\t2",
        "reset timeout is greater than close timeout",
    );
    d.cmd_err(
        "conn.event_timeout\t-1\t5",
        "invalid timeout (must be 0..7FFFFFFF)",
    );
    d.cmd_err(
        "conn.event_timeout\t1\t2147483648",
        "invalid timeout (must be 0..7FFFFFFF)",
    );
    d.cmd_err("conn.event_timeout\t1", "Expected integer");
    d.cmd_err("conn.event_timeout", "Expected integer");
    d.cmd_err("conn.event_timeout\tx\t1", "Expected integer");
}

#[test]
fn chdir_changes_relative_paths() {
    let mut d = Daemon::interactive(&[]);
    std::fs::create_dir(d.dir.path().join("sub")).unwrap();
    d.cmd_err("chdir", "missing path argument");
    d.cmd_err(
        "chdir\t/nonexistent/dir",
        "chdir failed: No such file or directory",
    );
    d.cmd_err("chdir\tsub\textra", "unexpected argument after path");
    d.cmd_quiet("chdir\tsub");
    let out = d.cmd("fd.open\tf\twrite,create\trel.txt");
    assert_eq!(out, ["fd.state\tf\tfile\twrite,create\trel.txt"]);
    assert!(d.dir.path().join("sub/rel.txt").exists());
    assert!(!d.dir.path().join("rel.txt").exists());
}

#[test]
fn exit_ends_interactive_session() {
    let mut d = Daemon::interactive(&[]);
    d.send("exit");
    d.exit_is(0);
    d.stderr_contains("info: interactive session ended\n");
}

#[test]
fn commands_are_logged_at_debug_level() {
    let mut d = Daemon::interactive(&["-v"]);
    d.cmd("statedump");
    d.cmd("# a comment");
    d.cmd("echo\tzork");
    d.stderr_contains("debug: controller[0] command: \"statedump\"\n");
    d.stderr_contains("debug: controller[0] command: \"# a comment\"\n");
    d.stderr_contains("debug: controller[0] command: \"echo\tzork\"\n");
    // Queued events are logged with their LF inside the quotes.
    d.stderr_contains("debug: client[0] event: \"zork\n\"\n");
}

#[test]
fn absent_and_empty_arguments() {
    let mut d = Daemon::interactive(&[]);
    // Both clear the value (§4.3).
    assert_eq!(d.cmd("service.args\ts"), ["service.args\ts\t"]);
    assert_eq!(d.cmd("service.args\ts\t"), ["service.args\ts\t"]);
    // Missing required arguments.
    d.cmd_err("service.args", "Expected service name");
    d.cmd_err("service.args\t", "Expected service name");
    d.cmd_err("fd.delete", "Expected file descriptor name");
    d.cmd_err("fd.delete\t", "Expected file descriptor name");
}
