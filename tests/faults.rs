//! Faults the CPU raises in the daemon (§11.3): a fault cannot be continued
//! from, so it never returns into the faulting code. These run the test
//! build, whose `test.fault` command raises a real SIGSEGV, a stack
//! overflow or a panic.

use crate::util::*;
use std::time::Duration;

/// CPU time (user + system, in clock ticks) the process has used.
fn cpu_ticks(pid: i32) -> u64 {
    let stat = proc_stat(pid);
    stat[13].parse::<u64>().unwrap() + stat[14].parse::<u64>().unwrap()
}

#[test]
fn fault_without_guard_exits_4() {
    for (what, msg) in [
        ("segv", "fatal: Received signal SIGSEGV (11)\n"),
        ("stack", "fatal: Received signal SIGSEGV (11)\n"),
        ("panic", "fatal: panic\n"),
    ] {
        let mut d = Spawn::new(&["-i"]).fault_build().start();
        d.sync();
        d.send(&format!("test.fault\t{what}"));
        d.exit_is(4);
        d.stderr_contains(msg);
    }
}

#[test]
fn fault_runs_exec_on_exit_and_lists_services() {
    let dir = TempDir::new();
    let out = dir.join("env.txt");
    let mut d = Spawn::new(&["-i", "-E", &exit_exec_recorder(&out)])
        .fault_build()
        .dir(dir)
        .start();
    d.sync();
    d.send("service.args\tlong\tsleep\t100");
    d.send("service.start\tlong");
    let up = d.recv_ok(Prefix("service.state\tlong\tup"));
    let pid = fields(&up)[4].to_string();
    d.send("test.fault\tsegv");
    d.exit_is(42);
    file_contains(
        std::path::Path::new(&out),
        "4:Received signal SIGSEGV (11)|",
    );
    d.stderr_contains("warning: daemonproxy exec_on_exit to '/bin/sh'\n");
    d.stderr_contains(&format!("warning: service 'long' running as pid {pid}\n"));
    kill(pid.parse().unwrap(), libc::SIGKILL);
}

/// Under the terminate guard the daemon cannot exit: after a fault it runs
/// itself again, as the same process, and reads its controller again.
#[test]
fn fault_with_guard_restarts_the_daemon() {
    for what in ["segv", "stack", "panic"] {
        let mut d = Spawn::new(&["-i", "--exit-guard", "7"])
            .fault_build()
            .start();
        d.sync();
        let pid = d.pid();
        d.send(&format!("test.fault\t{what}"));
        d.stderr_within("warning: daemonproxy restarting: ", Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{what}: no restart; stderr: {}", d.stderr_text()));
        // The same process answers the same controller again.
        d.recv_ok(Prefix("info\tInteractive mode."));
        d.sync();
        assert_eq!(d.pid(), pid);
        assert!(pid_alive(pid));
        // And it is idle, not running the faulting instruction again: CPU
        // use measured over time, which no event can stand for.
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            cpu_ticks(pid) - before <= 5,
            "{what}: the daemon uses CPU while idle"
        );
    }
}

/// A signal some process sends is not a fault: the guard lets the daemon
/// continue (§11.3), and it does not restart.
#[test]
fn sent_segv_with_guard_continues() {
    let mut d = Spawn::new(&["-i", "--exit-guard", "7"])
        .fault_build()
        .start();
    d.sync();
    d.signal(libc::SIGSEGV);
    d.stderr_within(
        "fatal: (attempting to continue) Received signal SIGSEGV (11)\n",
        Duration::from_secs(10),
    )
    .expect("no fatal line");
    d.sync();
    assert!(!d.stderr_text().contains("restarting"));
}
