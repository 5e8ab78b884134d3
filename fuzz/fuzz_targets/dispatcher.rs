//! Fuzzes the command dispatcher: the daemon's modules, built from ../src
//! as they are, with src/fuzz.rs's harness (a stream of command lines in,
//! replies and events out, against real pools).

#![no_main]
#![allow(dead_code, unused_imports)]

// The same modules as src/main.rs, in its order: `sys` first, for its
// macros (`cold!`, `zeroable!`).
#[macro_use]
#[path = "../../src/sys/mod.rs"]
mod sys;
#[macro_use]
#[path = "../../src/macros.rs"]
mod macros;

#[path = "../../src/commands/mod.rs"]
mod commands;
#[path = "../../src/control_socket.rs"]
mod control_socket;
#[path = "../../src/controller.rs"]
mod controller;
#[path = "../../src/errtext.rs"]
mod errtext;
#[path = "../../src/event_loop.rs"]
mod event_loop;
#[path = "../../src/exit.rs"]
mod exit;
#[path = "../../src/fd_table.rs"]
mod fd_table;
#[path = "../../src/fmt.rs"]
mod fmt;
#[path = "../../src/fuzz.rs"]
mod fuzz;
#[path = "../../src/harness.rs"]
mod harness;
#[path = "../../src/log.rs"]
mod log;
#[path = "../../src/name.rs"]
mod name;
#[path = "../../src/options.rs"]
mod options;
#[path = "../../src/pid1.rs"]
mod pid1;
#[path = "../../src/pool/mod.rs"]
mod pool;
#[path = "../../src/proto.rs"]
mod proto;
#[path = "../../src/service.rs"]
mod service;
#[path = "../../src/signal.rs"]
mod signal;
#[path = "../../src/spawn.rs"]
mod spawn;
#[path = "../../src/supervisor.rs"]
mod supervisor;
#[path = "../../src/time.rs"]
mod time;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz::run(data);
});
