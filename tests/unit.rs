//! The daemon's unit tests (`cargo test --test unit`): src/main.rs, with
//! its modules and their `#[cfg(test)]` tests, built as a module of this
//! test harness.
//!
//! Not as the executable's own test harness (the bin target has
//! `test = false`): build.rs gives every link of the bin target the
//! daemon's linker script (link.ld), which drops the unwind tables. A test
//! harness needs them: without them a failing test's panic cannot unwind,
//! and the whole run aborts without naming it.

#[path = "../src/main.rs"]
mod daemon;

// The daemon's modules name one another from the crate root (`crate::sys`).
use daemon::*;
