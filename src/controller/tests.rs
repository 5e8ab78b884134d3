//! Unit tests of the controller module, driven by an injected clock.

use super::*;

fn controller() -> Controller {
    let recv: &'static mut [u8] = Box::leak(Box::new([0u8; RECV_BUF]));
    let send: &'static mut [u8] = Box::leak(Box::new([0u8; SEND_BUF]));
    Controller::new(recv, send)
}

/// Everything a pipe's read end holds now.
fn drain(r: Fd) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = sys::read(r, &mut buf) {
        all.extend_from_slice(&buf[..n]);
    }
    all
}

/// Puts `text` in the receive buffer as unread input.
fn receive(c: &mut Controller, text: &[u8]) {
    c.recv[..text.len()].copy_from_slice(text);
    (c.recv_at, c.recv_len) = (0, text.len());
}

/// A controller whose output is a pipe that is full: (it, the pipe's
/// read end, the bytes in the pipe).
fn blocked() -> (Controller, Fd, usize) {
    let (r, w) = sys::pipe(true).unwrap();
    let mut c = controller();
    c.open(Kind::Socket, None, Some(w));
    let mut filled = 0;
    while let Ok(k @ 1..) = sys::write(w, &[b'-'; 4096]) {
        filled += k;
    }
    (c, r, filled)
}

#[test]
fn overflow_then_overflow_line_and_echo_barrier() {
    let t0 = Mono::from_secs(1000);
    let (mut c, r, filled) = blocked();
    // 20 lines fill the send buffer; the 21st finds the pipe full too
    // and is dropped.
    let line = [b'x'; 99];
    for _ in 0..20 {
        c.send_line(&line, t0).unwrap();
    }
    assert!(!c.overflow && c.takes_output());
    c.send_line(&line, t0).unwrap();
    assert!(c.overflow);
    assert_eq!(c.blocked_since, t0);
    assert_eq!(c.send_len, 2000);
    // No more lines are taken while dropping; an echo waits for the
    // `overflow` line, other commands run on.
    assert!(!c.takes_output());
    receive(&mut c, b"echo\tbarrier\n");
    assert!(c.must_wait());
    receive(&mut c, b"service.start\tx\n");
    assert!(!c.must_wait());
    // The reader catches up: what was queued goes out, then `overflow`.
    let t1 = t0 + Dur::from_secs(1);
    assert_eq!(drain(r).len(), filled);
    c.flush(t1).unwrap();
    assert_eq!(c.blocked_since, Mono::ZERO);
    assert!(!c.overflow && c.takes_output());
    receive(&mut c, b"echo\tbarrier\n");
    assert!(!c.must_wait());
    c.flush(t1).unwrap();
    assert_eq!(c.send_len, 0);
    let got = drain(r);
    assert_eq!(got.len(), 20 * 100 + 9);
    assert!(got.ends_with(b"xxx\noverflow\n"));
    c.close();
    sys::close(r);
}

#[test]
fn blocked_output_warns_abandons_then_closes() {
    let t0 = Mono::from_secs(50);
    let (mut c, r, _) = blocked();
    c.set_timeouts(15, 30);
    c.send_line(b"blocked", t0).unwrap();
    assert_eq!(c.stall_wake_at(), None);
    c.flush(t0).unwrap();
    assert_eq!(c.blocked_since, t0);
    assert_eq!(c.stall_wake_at(), Some(t0 + Dur::from_secs(15)));
    assert_eq!(c.stall(t0 + Dur::from_ms(14_999)), Stall::None);
    // The input is not full: a warning, and the output is kept.
    assert_eq!(c.stall(t0 + Dur::from_secs(15)), Stall::Warn(15));
    assert!(!c.overflow);
    assert_eq!(c.stall(t0 + Dur::from_secs(16)), Stall::None);
    // With the input full too, the peer is not reading: abandoned.
    c.recv_len = RECV_BUF;
    assert_eq!(c.stall_wake_at(), Some(t0 + Dur::from_secs(30)));
    assert_eq!(c.stall(t0 + Dur::from_secs(29)), Stall::None);
    assert_eq!(c.stall(t0 + Dur::from_secs(30)), Stall::Close(30));
    c.warn_at = t0 + Dur::from_secs(20);
    assert_eq!(c.stall(t0 + Dur::from_secs(25)), Stall::Warn(25));
    assert!(c.overflow && c.abandoned);
    // An abandoned output does not hold back even an echo.
    receive(&mut c, b"echo\tx\n");
    assert!(!c.must_wait());
    c.close();
    sys::close(r);
}

#[test]
fn exit_drops_the_rest_of_the_input() {
    let mut c = controller();
    receive(&mut c, b"exit\nfd.delete\tx\n");
    c.consume(5);
    c.stop_input();
    assert!(c.in_eof);
    assert_eq!(c.line_len(), None);
}

#[test]
fn lines_are_taken_in_place_then_compacted() {
    let mut c = controller();
    let input = b"a\nbb\ncc";
    c.recv[..input.len()].copy_from_slice(input);
    c.recv_len = input.len();
    assert_eq!(c.line_len(), Some(1));
    c.consume(2);
    assert_eq!(c.line_len(), Some(2));
    assert_eq!(&c.recv[c.recv_at..c.recv_at + 2], b"bb");
    c.consume(3);
    assert_eq!(c.line_len(), None);
    c.compact();
    assert_eq!((c.recv_at, c.recv_len), (0, 2));
    assert_eq!(&c.recv[..2], b"cc");
}
