//! The benchmark runs: every workload once against the daemon, with the
//! limit and bound programs beside it. Nothing about speed is asserted
//! (that is `make bench`'s table); this catches a harness, a helper program
//! or a daemon change that breaks a workload.

use std::path::PathBuf;
use std::process::Command;

/// The daemon: `$DAEMONPROXY_BIN`, else the release build beside the bench.
fn daemon() -> PathBuf {
    if let Some(p) = std::env::var_os("DAEMONPROXY_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_bench"));
    let p = bench.with_file_name("daemonproxy");
    assert!(
        p.exists(),
        "no daemon at {} (make build, or set DAEMONPROXY_BIN)",
        p.display()
    );
    p
}

#[test]
fn every_workload_runs_once() {
    let out = std::env::temp_dir().join(format!("bench-smoke-{}.jsonl", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--daemon")
        .arg(daemon())
        .args(["--runs", "1", "--out"])
        .arg(&out)
        .output()
        .expect("bench runs");
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "bench failed:\n{table}");
    assert!(!table.contains("failed:"), "{table}");
    let results = std::fs::read_to_string(&out).expect("results written");
    std::fs::remove_file(&out).unwrap();
    let has = |id: &str, who: &str| {
        let (id, who) = (format!("\"id\":\"{id}\""), format!("\"impl\":\"{who}\""));
        results.lines().any(|l| l.contains(&id) && l.contains(&who))
    };
    for id in [
        "pipelined",
        "round_trip",
        "spawn",
        "restart",
        "statedump",
        "scaling_10",
        "scaling_1000",
        "mem_idle_rss",
        "mem_1000_dirty",
        "size_x86_64",
    ] {
        assert!(has(id, "ours"), "no figure {id} in\n{results}");
    }
    for id in ["pipelined", "round_trip", "spawn"] {
        assert!(has(id, "limit"), "no limit for {id} in\n{results}");
    }
    for id in ["pipelined", "round_trip"] {
        assert!(has(id, "bound"), "no bound for {id} in\n{results}");
    }
}
