//! Integration tests for daemonproxy: the real binary, real pipes, sockets,
//! files and child processes. One module per area of docs/protocol.md,
//! whose section numbers (§N.M) the tests cite.
//!
//! This is the only integration test target (the other test target,
//! `unit`, is the daemon's unit tests: tests/unit.rs). Cargo.toml needs
//! `autotests = false` and a `[[test]] name = "tests", path =
//! "tests/tests.rs"` entry, otherwise cargo also builds every area file as
//! a test crate of its own (ripgrep's layout).

mod util;

mod cli;
mod config;
mod controllers;
mod dpctl;
mod faults;
mod fds;
mod logging;
mod noheap;
mod proto;
mod services;
mod signals;
mod terminate;
