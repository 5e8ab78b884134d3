//! The line protocol: pure parsing of command lines and argument fields.
//! No I/O happens here.

/// The 25 commands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmd {
    Echo,
    Statedump,
    Chdir,
    Exit,
    ServiceArgs,
    ServiceTags,
    ServiceFds,
    ServiceAutoUp,
    ServiceStart,
    ServiceSignal,
    ServiceDelete,
    FdOpen,
    FdPipe,
    FdSocket,
    FdTake,
    FdDelete,
    SocketCreate,
    SocketDelete,
    LogFilter,
    LogDest,
    ConnEventTimeout,
    SignalClear,
    Terminate,
    TerminateExecArgs,
    TerminateGuard,
}

// Command names and the commands they name.
keyword_table!(COMMAND_NAMES, COMMANDS: [Cmd] {
    "echo" => Cmd::Echo,
    "statedump" => Cmd::Statedump,
    "chdir" => Cmd::Chdir,
    "exit" => Cmd::Exit,
    "service.args" => Cmd::ServiceArgs,
    "service.tags" => Cmd::ServiceTags,
    "service.fds" => Cmd::ServiceFds,
    "service.auto_up" => Cmd::ServiceAutoUp,
    "service.start" => Cmd::ServiceStart,
    "service.signal" => Cmd::ServiceSignal,
    "service.delete" => Cmd::ServiceDelete,
    "fd.open" => Cmd::FdOpen,
    "fd.pipe" => Cmd::FdPipe,
    "fd.socket" => Cmd::FdSocket,
    "fd.take" => Cmd::FdTake,
    "fd.delete" => Cmd::FdDelete,
    "socket.create" => Cmd::SocketCreate,
    "socket.delete" => Cmd::SocketDelete,
    "log.filter" => Cmd::LogFilter,
    "log.dest" => Cmd::LogDest,
    "conn.event_timeout" => Cmd::ConnEventTimeout,
    "signal.clear" => Cmd::SignalClear,
    "terminate" => Cmd::Terminate,
    "terminate.exec_args" => Cmd::TerminateExecArgs,
    "terminate.guard" => Cmd::TerminateGuard,
});

/// Where each command's name starts in COMMAND_NAMES.
const COMMAND_STARTS: [u16; 25] = command_starts();
/// From the hash of a name to its command's position + 1 (0: none).
const COMMAND_HASHED: [u8; 64] = command_hashed();

/// The hash of a command name of 3 bytes or more: distinct for the 25
/// names, which the build checks, so a lookup is one compare.
const fn command_hash(name: &[u8]) -> usize {
    (7 * name.len() + name[1] as usize + 13 * name[name.len() - 3] as usize) % 64
}

const fn command_starts() -> [u16; 25] {
    let mut starts = [0; 25];
    let (mut i, mut k) = (0, 1);
    while i < COMMAND_NAMES.len() {
        if COMMAND_NAMES[i] == b' ' {
            starts[k] = i as u16 + 1;
            k += 1;
        }
        i += 1;
    }
    assert!(k == 25, "COMMAND_NAMES and COMMANDS differ");
    starts
}

const fn command_hashed() -> [u8; 64] {
    let mut table = [0; 64];
    let mut k = 0;
    while k < 25 {
        let rest = COMMAND_NAMES.split_at(COMMAND_STARTS[k] as usize).1;
        let mut len = 0;
        while len < rest.len() && rest[len] != b' ' {
            len += 1;
        }
        assert!(len >= 4 && len <= 24, "same_short cannot compare this name");
        let h = command_hash(rest.split_at(len).0);
        assert!(table[h] == 0, "two command names hash alike");
        table[h] = k as u8 + 1;
        k += 1;
    }
    table
}

/// Looks up a command by its exact (case-sensitive) name.
#[inline(never)]
pub fn command(name: &[u8]) -> Option<Cmd> {
    if name.len() < 3 {
        return None;
    }
    let k = usize::from(COMMAND_HASHED[command_hash(name)].checked_sub(1)?);
    let start = usize::from(COMMAND_STARTS[k]);
    let end = start + name.len();
    let candidate = COMMAND_NAMES.get(start..end)?;
    let whole = matches!(COMMAND_NAMES.get(end), None | Some(b' '));
    (whole && same_short(candidate, name)).then_some(COMMANDS[k])
}

/// `a == b` for two slices of 4 to 24 bytes (false for any other length:
/// no command name is that short or long, as the build checks). Two or
/// three overlapping word compares, rather than musl's byte-loop memcmp.
fn same_short(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    // n in 4..=24, as one compare (RangeInclusive::contains is a call).
    if n != b.len() || n.wrapping_sub(4) > 20 {
        return false;
    }
    // Two or three words of both, none past n: the first, the last, and
    // for a name of 9 bytes or more the one at 8 (or its last 8 bytes).
    if n < 8 {
        return word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4);
    }
    let mid = 8.min(n - 8);
    word8(a, 0) == word8(b, 0)
        && word8(a, mid) == word8(b, mid)
        && word8(a, n - 8) == word8(b, n - 8)
}

/// The 4 bytes of `s` at `at` (0 past its end).
#[inline(always)]
fn word4(s: &[u8], at: usize) -> u32 {
    s.get(at..)
        .and_then(<[u8]>::first_chunk)
        .map_or(0, |w| u32::from_ne_bytes(*w))
}

/// The 8 bytes of `s` at `at` (0 past its end).
#[inline(always)]
fn word8(s: &[u8], at: usize) -> u64 {
    s.get(at..)
        .and_then(<[u8]>::first_chunk)
        .map_or(0, |w| u64::from_ne_bytes(*w))
}

/// Position of `word` in a space-separated list of words. The one lookup
/// every keyword table shares, so none of them becomes a tree of compares.
#[inline(never)]
pub fn word_index(words: &[u8], word: &[u8]) -> Option<usize> {
    let mut rest = words;
    let mut i = 0;
    loop {
        let (w, next) = split_once(rest, b' ');
        if w == word {
            return Some(i);
        }
        rest = next?;
        i += 1;
    }
}

/// The `i`th word of a space-separated list.
#[inline(never)]
pub fn nth_word(words: &'static [u8], i: usize) -> Option<&'static [u8]> {
    split(words, b' ').nth(i)
}

/// The parts of `s` between the bytes `sep`: every separator shares one
/// copy of the splitting code.
pub fn split(s: &[u8], sep: u8) -> impl DoubleEndedIterator<Item = &[u8]> {
    s.split(move |&b| b == sep)
}

/// Position of the first `b` in `s`.
#[inline(never)]
pub fn find(s: &[u8], b: u8) -> Option<usize> {
    find_inline(s, b)
}

/// `find`, inlined where every line pays for it: the LF that ends a line
/// and the TAB after its name. Hand-written rather than `memchr`, which
/// is slower on searches this short (docs/size-crates.md). Eight bytes at
/// a time: the lowest byte of
/// `w` that is zero (`w` being the bytes XOR `b`) sets its top bit in
/// `(w - 0x01..) & !w & 0x80..`; a borrow can set higher ones too, but
/// never a lower one.
#[inline(always)]
pub fn find_inline(s: &[u8], b: u8) -> Option<usize> {
    const LO: u64 = u64::from_ne_bytes([1; 8]);
    let pattern = LO * u64::from(b);
    let mut at = 0;
    while let Some(&w) = s.get(at..at + 8).and_then(<[u8]>::first_chunk) {
        let w = u64::from_le_bytes(w) ^ pattern;
        let hit = w.wrapping_sub(LO) & !w & (LO << 7);
        if hit != 0 {
            return Some(at + hit.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    while at < s.len() {
        if s[at] == b {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// Splits at the first `sep`: the part before it and, if `sep` occurs, the
/// part after it.
#[inline(never)]
pub fn split_once(s: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    cut(s, find(s, sep))
}

/// `s` split around the separator at `at`, if there is one.
#[inline(always)]
fn cut(s: &[u8], at: Option<usize>) -> (&[u8], Option<&[u8]>) {
    match at {
        Some(i) => (&s[..i], s.get(i + 1..)),
        None => (s, None),
    }
}

/// True for lines that are ignored: `#` comments and lines made only of SP,
/// TAB and CR.
pub fn is_ignored(line: &[u8]) -> bool {
    line.first() == Some(&b'#') || line.iter().all(|&b| b == b' ' || b == b'\t' || b == b'\r')
}

/// Splits a line into the command name and the argument text (None when the
/// line has no TAB at all).
#[inline(always)]
pub fn split_command(line: &[u8]) -> (&[u8], Option<&[u8]>) {
    cut(line, find_inline(line, b'\t'))
}

/// TAB-separated fields of an argument text. An absent text has no fields;
/// an empty text has one empty field.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    /// Fields of `text`.
    pub fn new(text: Option<&'a [u8]>) -> Self {
        Fields { rest: text }
    }

    /// The unsplit remainder (None once every field was taken).
    pub fn rest(&self) -> Option<&'a [u8]> {
        self.rest
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let (field, rest) = split_once(self.rest?, b'\t');
        self.rest = rest;
        Some(field)
    }
}

/// An INT field: optional `-` then one or more decimal digits, 64-bit,
/// overflow wrapping as in the original.
pub fn parse_int(f: &[u8]) -> Option<i64> {
    let (neg, digits) = match f.first() {
        Some(b'-') => (true, &f[1..]),
        _ => (false, f),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits.iter().fold(0i64, |v, &d| {
        v.wrapping_mul(10).wrapping_add((d - b'0') as i64)
    });
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Longest service or fd name.
pub const NAME_MAX: usize = 31;

/// Service and fd names: 1–31 bytes of `[A-Za-z0-9._-]`.
pub fn valid_name(n: &[u8]) -> bool {
    !n.is_empty()
        && n.len() <= NAME_MAX
        && n.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// The items of a comma-separated flags field, each looked up in a
/// space-separated list of words: `Ok((index, value))`, or `Err(word)` for
/// an item whose word is not in the list. Empty items are skipped. With
/// `keyed`, an item may be `word=value` (an unknown one is named by its
/// word alone, as the original does); otherwise `=` is part of the word.
pub struct Flags<'a> {
    rest: Option<&'a [u8]>,
    words: &'static [u8],
    keyed: bool,
}

/// The flags of `field` (see `Flags`).
pub fn flags<'a>(field: &'a [u8], words: &'static [u8], keyed: bool) -> Flags<'a> {
    Flags {
        rest: Some(field),
        words,
        keyed,
    }
}

/// A flag's position in its word list and its `=value`, if any.
pub type Flag<'a> = (usize, Option<&'a [u8]>);

impl<'a> Iterator for Flags<'a> {
    type Item = Result<Flag<'a>, &'a [u8]>;
    #[inline(never)]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (item, rest) = split_once(self.rest?, b',');
            self.rest = rest;
            if item.is_empty() {
                continue;
            }
            let (word, value) = if self.keyed {
                split_once(item, b'=')
            } else {
                (item, None)
            };
            return Some(word_index(self.words, word).map(|i| (i, value)).ok_or(word));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_agrees_with_a_byte_scan() {
        // Every length to 40, the byte absent or at every position, with
        // near misses (b ^ 1, 0x80 | b, b - 1) around it.
        for len in 0..40 {
            for at in 0..=len {
                for fill in [0u8, b'\t' ^ 1, 0x80 | b'\t', b'\t' - 1, 0xff] {
                    let mut s = [fill; 40];
                    if at < len {
                        s[at] = b'\t';
                        if at + 3 < len {
                            s[at + 3] = b'\t';
                        }
                    }
                    let s = &s[..len];
                    let want = s.iter().position(|&c| c == b'\t');
                    assert_eq!(find(s, b'\t'), want, "len {len} at {at} fill {fill}");
                }
            }
        }
        assert_eq!(word_index(b"a bb ccc", b"ccc"), Some(2));
        assert_eq!(word_index(b"a bb ccc", b"cc"), None);
        assert_eq!(word_index(b"a bb ccc", b""), None);
    }

    #[test]
    fn commands_and_splitting() {
        assert_eq!(command(b""), None);
        assert_eq!(command(b"ech"), None);
        assert_eq!(command(b"echo"), Some(Cmd::Echo));
        assert_eq!(command(b"Echo"), None);
        assert_eq!(command(b" echo"), None);
        // Every name is found; a change to any one byte of it, or a byte
        // more or less, finds nothing.
        for (k, name) in COMMAND_NAMES.split(|&b| b == b' ').enumerate() {
            assert_eq!(command(name), Some(COMMANDS[k]));
            let mut buf = [0u8; 32];
            buf[..name.len()].copy_from_slice(name);
            for at in 0..name.len() {
                for flip in [1, 0x20, 0x80] {
                    buf[at] ^= flip;
                    assert_eq!(command(&buf[..name.len()]), None);
                    buf[at] ^= flip;
                }
            }
            assert_eq!(command(&buf[..name.len() - 1]), None);
            for more in [b's', b'x'] {
                buf[name.len()] = more;
                assert_eq!(command(&buf[..name.len() + 1]), None);
            }
        }
        assert_eq!(split_command(b"echo"), (&b"echo"[..], None));
        assert_eq!(split_command(b"echo\t"), (&b"echo"[..], Some(&b""[..])));
        let f: Vec<&[u8]> = Fields::new(Some(b"a\t\tb")).collect();
        assert_eq!(f, [&b"a"[..], b"", b"b"]);
        assert_eq!(Fields::new(None).count(), 0);
        assert_eq!(Fields::new(Some(b"")).count(), 1);
    }

    #[test]
    fn flag_lists() {
        let all = |f: &'static [u8], keyed| flags(f, b"a b listen", keyed).collect::<Vec<_>>();
        assert_eq!(all(b"b,,a", false), [Ok((1, None)), Ok((0, None))]);
        assert_eq!(all(b"", false), []);
        assert_eq!(all(b"a,x,b", false)[1], Err(&b"x"[..]));
        assert_eq!(all(b"listen=5", true), [Ok((2, Some(&b"5"[..])))]);
        assert_eq!(all(b"listen=5", false), [Err(&b"listen=5"[..])]);
        assert_eq!(all(b"bogus=1", true), [Err(&b"bogus"[..])]);
        assert_eq!(word_index(b"a b", b""), None);
        assert_eq!(nth_word(b"a b", 1), Some(&b"b"[..]));
    }

    #[test]
    fn ignored_lines() {
        assert!(is_ignored(b""));
        assert!(is_ignored(b" \t\r"));
        assert!(is_ignored(b"#x"));
        assert!(!is_ignored(b" echo"));
    }

    #[test]
    fn ints() {
        // Unlike a guard value (options::parse_strtol): no blanks, no `+`.
        for text in [&b"+1"[..], b"-", b"", b" 1", b"12a"] {
            assert_eq!(parse_int(text), None, "{text:?}");
        }
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-12"), Some(-12));
    }

    #[test]
    fn names() {
        assert!(valid_name(b"a.b-c_D9"));
        assert!(!valid_name(b""));
        assert!(!valid_name(b"a b"));
        assert!(!valid_name(&[b'a'; 32]));
        assert!(valid_name(&[b'a'; 31]));
    }
}
