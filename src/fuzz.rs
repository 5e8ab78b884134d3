//! A fuzz harness over the command dispatcher: a stream of lines in, the
//! replies and events out, against real (small) pools (see `harness`).
//! The unit tests run it over the seed corpus (`fuzz/corpus/dispatcher`)
//! and a fixed-seed series of mutations of it (`make test`); cargo-fuzz
//! runs it for as long as asked (`make fuzz`, see fuzz/).
//!
//! Lines that would act on the machine rather than on the daemon's tables
//! are not run (see `allowed`): a path to open, bind, unlink or change to,
//! the log's destination, the exec-on-exit program. Services are started
//! only as far as the tables go: launching is the loop's work, which the
//! harness does not run.

use crate::controller::{Controller, RECV_BUF};
use crate::harness::Harness;
use crate::{exit, proto, sys};

/// Runs every line of `data` as controller 0's commands, checking what
/// comes out, and frees what the run made. Returns the bytes of output.
pub fn run(data: &[u8]) -> usize {
    exit::set_guard(0);
    let out = sys::open_dev_null().expect("/dev/null");
    let mut sup = Harness::new(None, Some(out));
    let mut output = 0;
    for line in data.split(|&b| b == b'\n') {
        let line = &line[..line.len().min(RECV_BUF - 1)];
        if allowed(line) {
            // As the loop counts a line's steps before running it.
            sup.ctl[0].step(3);
            sup.execute(0, line);
            sup.loop_due = false;
        }
        while sup.ctl[0].dump.is_some() {
            sup.continue_dump(0);
            output += drain(&mut sup.ctl[0]);
        }
        output += drain(&mut sup.ctl[0]);
    }
    output
}

/// Takes what a reader would from the send buffer, checking that only
/// whole lines were queued; returns how much.
fn drain(c: &mut Controller) -> usize {
    let pending = c.take_output();
    assert!(
        pending.is_empty() || pending.ends_with(b"\n"),
        "a partial line was queued: {:?}",
        String::from_utf8_lossy(pending)
    );
    pending.len()
}

/// Is the line safe to run here? Commands acting on paths, the log's
/// destination or the exec-on-exit program are left out; `fd.open` runs
/// on /dev/null only, and `fd.socket` without an address.
pub fn allowed(line: &[u8]) -> bool {
    let (name, args) = proto::split_command(line);
    let args = args.unwrap_or_default();
    let has = |w: &[u8]| args.windows(w.len()).any(|x| x == w);
    match name {
        b"chdir"
        | b"socket.create"
        | b"socket.delete"
        | b"log.dest"
        | b"log.filter"
        | b"terminate.exec_args" => false,
        b"fd.open" => args.ends_with(b"\t/dev/null"),
        b"fd.socket" => {
            args.iter().filter(|&&b| b == b'\t').count() < 2
                && !has(b"bind")
                && !has(b"listen")
                && !has(b"mkdir")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/dispatcher");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("the seed corpus")
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// The seeds name every command.
    #[test]
    fn corpus_covers_every_command() {
        let all: Vec<u8> = corpus().join(&b'\n');
        let names = "echo statedump chdir exit service.args service.tags service.fds \
            service.auto_up service.start service.signal service.delete fd.open fd.pipe \
            fd.socket fd.take fd.delete socket.create socket.delete log.filter log.dest \
            conn.event_timeout signal.clear terminate terminate.exec_args terminate.guard";
        for name in names.split_whitespace().map(str::as_bytes) {
            assert!(proto::command(name).is_some());
            let seen = all
                .split(|&b| b == b'\n')
                .any(|l| proto::split_command(l).0 == name);
            assert!(seen, "no seed runs {}", String::from_utf8_lossy(name));
        }
    }

    /// The harness runs commands: replies and dumps come out.
    #[test]
    fn harness_sees_output() {
        assert_eq!(run(b"echo\thi\n"), 3);
        assert!(run(b"service.args\ta\t/bin/true\nstatedump\n") > 200);
        assert_eq!(run(b"chdir\t/\n"), 0, "chdir is not run");
    }

    /// A short deterministic pass: every seed, then mutated and spliced
    /// streams from a fixed seed.
    #[test]
    fn dispatcher_survives_a_fixed_seed_pass() {
        let seeds = corpus();
        for s in &seeds {
            run(s);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let bytes = b"\t\n\0-,=x1 #/";
        for _ in 0..3000 {
            let mut stream = Vec::new();
            for _ in 0..1 + next() % 6 {
                let s = &seeds[next() as usize % seeds.len()];
                let lines: Vec<&[u8]> = s.split(|&b| b == b'\n').collect();
                let mut l = lines[next() as usize % lines.len()].to_vec();
                for _ in 0..next() % 4 {
                    let at = next() as usize % (l.len() + 1);
                    match next() % 3 {
                        0 if at < l.len() => {
                            l.remove(at);
                        }
                        1 => l.insert(at, bytes[next() as usize % bytes.len()]),
                        _ if at < l.len() => l[at] = next() as u8,
                        _ => {}
                    }
                }
                stream.extend_from_slice(&l);
                stream.push(b'\n');
            }
            run(&stream);
        }
    }
}
