//! No heap activity after startup: every pool is sized once (STYLE.md), so
//! once the daemon starts reading commands it must never call brk, mmap,
//! munmap or mremap, whatever the workload. Checked with `strace -o` (no -f,
//! so forked children are not traced).

use crate::util::*;
use std::os::fd::AsRawFd;

/// PID of the traced daemon: the only child of strace.
fn traced_pid(strace_pid: i32) -> i32 {
    let mut found = None;
    wait_for("the traced daemon to appear", || {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return false;
        };
        for e in dir.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
                let ppid = rest.split_whitespace().nth(1);
                if ppid == Some(&strace_pid.to_string()) {
                    found = Some(pid);
                    return true;
                }
            }
        }
        false
    });
    found.unwrap()
}

fn churn_services(d: &mut Daemon) {
    for i in 0..4 {
        d.cmd(&format!("service.args\tt{i}\t/bin/true"));
    }
    for _ in 0..40 {
        for i in 0..4 {
            d.send(&format!("service.start\tt{i}"));
        }
        // The four exit in any order.
        let mut down = [false; 4];
        while down.contains(&false) {
            let l = d.recv_ok(Where(|l: &str| {
                let f = fields(l);
                f.len() > 3 && f[0] == "service.state" && f[1].starts_with('t') && f[2] == "down"
            }));
            if let Ok(i) = fields(&l)[1][1..].parse::<usize>() {
                down[i.min(3)] = true;
            }
        }
    }
    d.cmd("service.args\tk\tsleep\t100");
    d.cmd("service.tags\tk\ta\tb\tc");
    for i in 0..30 {
        d.send("service.start\tk");
        d.recv_state("k", "up");
        let sig = ["TERM", "KILL", "9", "SIGINT"][i % 4];
        d.send(&format!("service.signal\tk\t{sig}"));
        d.recv_state("k", "down");
    }
    // Failing children: exec error and missing fd.
    d.cmd("service.args\tbad\t/nonexistent/prog");
    d.cmd("service.fds\tnofd\tnull\tmissing.fd\tnull");
    d.cmd("service.args\tnofd\t/bin/true");
    for _ in 0..10 {
        d.send("service.start\tbad");
        d.recv_state("bad", "down");
        d.send("service.start\tnofd");
        d.recv_state("nofd", "down");
    }
    // Create and delete many services.
    for i in 0..50 {
        d.cmd(&format!(
            "service.args\ttmp{i}\t/bin/true\t{}",
            "x".repeat(i * 10)
        ));
        d.cmd(&format!("service.fds\ttmp{i}\tnull\tstderr"));
        d.cmd(&format!("service.auto_up\ttmp{i}\t5\tHUP"));
    }
    for i in 0..50 {
        d.cmd(&format!("service.delete\ttmp{i}"));
    }
}

fn churn_fds(d: &mut Daemon) {
    for i in 0..100 {
        let p = d.path(&format!("f{}.txt", i % 7));
        d.cmd(&format!("fd.open\tf{i}\twrite,create,trunc\t{p}"));
        if i % 3 == 0 {
            d.cmd(&format!("fd.open\tf{i}\tread\t/dev/null"));
        }
        d.cmd(&format!("fd.delete\tf{i}"));
    }
    for i in 0..50 {
        let flags = ["", "nonblock", "unix", "dgram,nonblock", "inet"][i % 5];
        d.cmd(&format!("fd.pipe\tr{i}\tw{i}\t{flags}"));
        d.cmd(&format!("fd.delete\tr{i}"));
        d.cmd(&format!("fd.delete\tw{i}"));
    }
    for i in 0..20 {
        let p = d.path(&format!("s{i}/x.sock"));
        d.cmd(&format!("fd.socket\tsock{i}\tunix,listen,mkdir\t{p}"));
        let port = free_tcp_port();
        d.cmd(&format!("fd.socket\ttcp{i}\ttcp,listen\t127.0.0.1:{port}"));
        d.cmd(&format!("fd.socket\tudp{i}\tudp\t127.0.0.1:{port}"));
        d.cmd(&format!("fd.socket\tbad{i}\tinet\tnot-an-address"));
        d.cmd(&format!("fd.delete\tsock{i}"));
        d.cmd(&format!("fd.delete\ttcp{i}"));
        d.cmd(&format!("fd.delete\tudp{i}"));
    }
}

fn churn_protocol(d: &mut Daemon, daemon_pid: i32) {
    for i in 0..20 {
        d.statedump();
        let sig = [libc::SIGUSR1, libc::SIGHUP, libc::SIGUSR2, libc::SIGINT][i % 4];
        kill(daemon_pid, sig);
        d.recv_ok(Prefix("signal\t"));
        d.cmd("signal.clear\tSIGUSR1\t1");
        d.cmd("frobnicate\tx");
        d.cmd(&format!("echo\t{}", "e".repeat(i * 40)));
        d.cmd(&format!("echo\t{}", "l".repeat(1500)));
        d.cmd("log.filter\t-");
        d.cmd("log.filter\t+");
        d.cmd("conn.event_timeout\t15\t30");
        d.cmd("service.start\tnosuch");
        d.cmd("# comment");
    }
    let log = d.path("log.txt");
    d.cmd(&format!("fd.open\tlogf\twrite,create\t{log}"));
    d.cmd("log.dest\tfd\tlogf");
    d.cmd("log.filter\ttrace");
    for _ in 0..20 {
        d.statedump();
    }
    d.cmd("log.filter\tdebug");
    d.cmd("log.dest\tfd\tstderr");
    d.cmd("fd.delete\tlogf");
    d.cmd("chdir\t/");
    d.cmd(&format!("chdir\t{}", d.dir.path().display()));
}

fn churn_clients(d: &mut Daemon, sock: &str) {
    for i in 0..20 {
        let mut c = Client::connect(sock);
        c.cmd(&format!("service.tags\tk\tclient{i}"));
        if i % 4 == 0 {
            let (_r, w) = pipe();
            c.send_with_fds(&format!("fd.take\ttaken{i}"), &[w.as_raw_fd()]);
            c.recv_ok(Prefix(format!("fd.state\ttaken{i}\t")));
            c.cmd(&format!("fd.delete\ttaken{i}"));
        }
        if i % 5 == 0 {
            c.send("exit");
            c.out.drain_to_eof();
        }
    }
    d.sync();
    // An overflow episode on a client that does not read.
    let mut c = Client::connect_paused(sock);
    c.send("conn.event_timeout\t1\t30");
    let line = format!("service.args\tflood\t/bin/true\t{}", "x".repeat(900));
    for _ in 0..600 {
        c.send(&line);
    }
    // All 600 ran, so the client's overflow (its output gave up on) is
    // behind us.
    for _ in 0..600 {
        d.recv_ok(line.as_str());
    }
    c.resume();
    c.recv_ok("overflow");
    c.statedump();
    drop(c);
    d.sync();
}

fn churn_auto_up(d: &mut Daemon, daemon_pid: i32) {
    // A service controller that issues a few commands.
    d.cmd("service.fds\tctl\tcontrol.event\tcontrol.cmd\tnull");
    d.cmd(
        "service.args\tctl\t/bin/sh\t-c\tT=$(printf '\\t'); printf 'echo%sx\\nservice.tags%sctl%sran\\n' \"$T\" \"$T\" \"$T\"; read -r x; read -r y",
    );
    for _ in 0..5 {
        let mark = d.out.mark();
        d.send("service.start\tctl");
        d.recv_ok("service.tags\tctl\tran");
        d.recv_since(mark, Prefix("service.state\tctl\tdown\t"));
    }
    // auto_up restarts, by interval and by signal trigger.
    d.cmd("service.args\tauto\t/bin/true");
    d.cmd("service.auto_up\tauto\t1\talways");
    for _ in 0..3 {
        d.recv_state("auto", "up");
    }
    d.cmd("service.auto_up\tauto\t1");
    d.cmd("service.args\ttrig\t/bin/true");
    d.cmd("service.auto_up\ttrig\t1\tSIGUSR2");
    kill(daemon_pid, libc::SIGUSR2);
    d.recv_state("trig", "up");
    d.recv_state("trig", "up");
    d.cmd("signal.clear\tSIGUSR2\t1000");
    d.cmd("service.auto_up\ttrig\t1");
}

#[test]
fn no_heap_activity_after_startup() {
    let dir = TempDir::new();
    let trace = dir.path().join("strace.out");
    let sock = dir.join("ctl.sock");
    let mut d = Spawn::new(&["-i", "-S", &sock])
        .strace(&trace)
        .dir(dir)
        .start();
    d.sync();
    let daemon_pid = traced_pid(d.pid());
    churn_services(&mut d);
    churn_fds(&mut d);
    churn_protocol(&mut d, daemon_pid);
    churn_clients(&mut d, &sock);
    churn_auto_up(&mut d, daemon_pid);
    d.statedump();
    d.send("terminate\t0");
    d.exit_is(0);

    let text = std::fs::read_to_string(&trace).expect("strace output");
    let lines: Vec<&str> = text.lines().collect();
    let first_read = lines
        .iter()
        .position(|l| {
            ["read(0,", "readv(0,", "recvfrom(0,", "recvmsg(0,"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .expect("no read from fd 0 in the trace");
    let heap: Vec<&&str> = lines[first_read..]
        .iter()
        .filter(|l| {
            ["brk(", "mmap(", "munmap(", "mremap("]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    // The trace must cover the workload: a few hundred service forks.
    let forks = lines[first_read..]
        .iter()
        .filter(|l| {
            ["fork(", "vfork(", "clone(", "clone3("]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count();
    assert!(forks >= 200, "only {forks} forks traced after startup");
    assert!(
        heap.is_empty(),
        "{} memory-map calls after startup, e.g.:\n{}",
        heap.len(),
        heap.iter()
            .take(20)
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
}
