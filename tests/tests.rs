//! Integration tests for daemonproxy: the real binary, real pipes, sockets,
//! files and child processes. One module per area of PROTOCOL.md.

mod util;

mod cli;
mod controllers;
mod fds;
mod logging;
mod noheap;
mod proto;
mod services;
mod signals;
mod terminate;
