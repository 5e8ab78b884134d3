//! Config files (`-c FILE`): errors name `FILE:LINE`, a line with spaces
//! where TABs belong gets a hint, and `--check` runs a file's commands
//! without effects, exiting non-zero on any error.

use crate::util::*;

const HINT: &str = " (fields are separated by TABs, not spaces)";

/// A config file whose errors sit on known lines: comments, blank and
/// whitespace-only lines count as lines too.
fn bad_config(dir: &TempDir) -> String {
    let cfg = dir.join("bad.conf");
    let long = format!("echo\t{}", "x".repeat(1100));
    std::fs::write(
        &cfg,
        format!(
            "# line 1\n\
             service.args web /bin/sleep 100\n\
             \n\
             \x20\x20\n\
             service.args\tweb /bin/sleep\t100\n\
             fd.open\tf\tread,bogus\t/dev/null\n\
             {long}\n\
             service.start\tnosuchservice\n\
             echo\tfine\n\
             bogus-command"
        ),
    )
    .unwrap();
    cfg
}

fn bad_config_errors(cfg: &str) -> Vec<String> {
    vec![
        format!("error: {cfg}:2: Unknown command: service.args web /bin/sleep 100{HINT}"),
        format!("error: {cfg}:5: service.args: Invalid service name{HINT}"),
        format!("error: {cfg}:6: fd.open: unknown flag \"bogus\""),
        format!("error: {cfg}:7: line too long"),
        format!("error: {cfg}:8: service.start: No such service"),
        format!("error: {cfg}:10: Unknown command: bogus-command"),
    ]
}

#[test]
fn config_errors_name_file_and_line() {
    let dir = TempDir::new();
    let cfg = bad_config(&dir);
    let sock = dir.join("ctl.sock");
    let d = Spawn::new(&["-c", &cfg, "-S", &sock]).dir(dir).start();
    let want = bad_config_errors(&cfg);
    let text = d.stderr_contains(want.last().unwrap());
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors, want, "{text}");
    assert!(!text.contains("controller["), "{text}");
}

#[test]
fn controller_errors_keep_the_original_log_and_replies() {
    // The same mistakes from a controller: replies and log as before, no
    // FILE:LINE and no hint.
    let mut d = Daemon::interactive(&[]);
    d.send("service.args web /bin/sleep 100");
    d.recv_ok("error\tUnknown command: service.args web /bin/sleep 100");
    d.send("service.args\tweb /bin/sleep\t100");
    d.recv_ok("error\tInvalid service name, for command \"service.args\tweb /bin/sleep\t10...\"");
    d.sync();
    let text = d.stderr_contains(
        "error: controller[0] sent unknown command service.args web /bin/sleep 100\n",
    );
    d.stderr_contains(
        "error: controller[0] command failed: 'service.args\tweb /bin/sleep\t100'\n\
         error:   with error: 'Invalid service name'\n",
    );
    assert!(!text.contains("TABs"), "{text}");
}

#[test]
fn check_reports_every_error_and_exits_1() {
    let dir = TempDir::new();
    let cfg = bad_config(&dir);
    let f = run_in(dir, &["--check", "-c", &cfg]);
    f.assert_code(1);
    // Every error, and nothing else but the warning for the last line's
    // missing LF.
    let errors: Vec<&str> = f
        .stderr
        .lines()
        .filter(|l| !l.starts_with("warning: Command ends with EOF"))
        .collect();
    assert_eq!(errors, bad_config_errors(&cfg), "{}", f.stderr);
    assert_eq!(f.stdout, "");
}

#[test]
fn check_of_a_good_file_exits_0_and_runs_nothing() {
    let dir = TempDir::new();
    let cfg = dir.join("good.conf");
    let ran = dir.join("ran");
    let created = dir.join("created");
    let sock = dir.join("listen.sock");
    let ctl = dir.join("ctl.sock");
    std::fs::write(
        &cfg,
        format!(
            "# a good file\n\
             fd.open\tout\twrite,create\t{created}\n\
             fd.socket\tl\tunix,listen\t{sock}\n\
             fd.pipe\tlog.r\tlog.w\n\
             service.args\tmark\t/bin/sh\t-c\ttouch {ran}\n\
             service.fds\tmark\tnull\tout\tstderr\n\
             service.start\tmark\n\
             service.auto_up\tmark\t1\talways\n\
             service.signal\tmark\tHUP\n\
             fd.delete\tstderr\n\
             log.dest\tfd\tlog.w\n\
             log.filter\tfatal\n\
             socket.create\t-\t{ctl}\n\
             chdir\t/nonexistent-dir\n\
             terminate\t0\n\
             echo\tafter terminate\n"
        ),
    )
    .unwrap();
    let f = run_in(dir, &["--check", "-c", &cfg]);
    f.assert_code(0);
    assert_eq!(f.stderr, "");
    assert_eq!(f.stdout, "");
    for path in [&ran, &created, &sock, &ctl] {
        assert!(!std::path::Path::new(path).exists(), "{path} exists");
    }
}

#[test]
fn check_reports_the_log_it_started_with() {
    // `log.filter fatal` and `fd.delete stderr` in the file do not hide the
    // errors after them.
    let dir = TempDir::new();
    let cfg = dir.join("quiet.conf");
    std::fs::write(&cfg, "log.filter\tfatal\nfd.delete\tstderr\nbogus\n").unwrap();
    let f = run_in(dir, &["--check", "-c", &cfg]);
    f.assert_code(1);
    assert_eq!(
        f.stderr,
        format!("error: {cfg}:3: Unknown command: bogus\n")
    );
}

#[test]
fn check_reads_stdin_with_dash() {
    let dir = TempDir::new();
    let mut d = Spawn::new(&["--check", "-c", "-"]).dir(dir).start();
    d.write_raw(b"echo\tok\nservice.start\tnone\n").unwrap();
    d.close_stdin();
    d.exit_is(1);
    d.stderr_contains("error: -:2: service.start: No such service\n");
}

#[test]
fn check_needs_a_config_file() {
    let f = run(&["--check", "-i"]);
    f.assert_code(2);
    assert!(
        f.stderr
            .contains("fatal: --check needs a config file (-c FILE)\n"),
        "{}",
        f.stderr
    );
    // A file that cannot be read is an error too.
    let dir = TempDir::new();
    let sub = dir.join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    let f = run_in(dir, &["--check", "-c", &sub]);
    assert_ne!(f.code(), Some(0), "{}", f.stderr);
}

#[test]
fn check_of_a_file_that_cannot_be_opened_exits_3() {
    // open(2) of a unix socket fails (ENXIO), even for root.
    let dir = TempDir::new();
    let sock = dir.join("not-a-file");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    for guard in ["0", "5"] {
        let f = run(&["--exit-guard", guard, "--check", "-c", &sock]);
        f.assert_code(3);
        assert!(
            f.stderr
                .contains(&format!("error: Failed to open config file \"{sock}\"")),
            "{}",
            f.stderr
        );
    }
}
