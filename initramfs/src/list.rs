//! The list file: one entry per line, in the syntax of the Linux kernel's
//! `usr/gen_init_cpio`. Parsing is pure: bytes in, entries or errors out.
//!
//! Stricter than the kernel's tool where it would silently write a broken
//! image: field counts are exact, modes are permission bits only, ids and
//! device numbers must fit the kernel's encoding, and a name may appear once.

use std::collections::HashMap;
use std::fmt;

/// Longest name or symlink target the kernel unpacks (`PATH_MAX` less the NUL).
pub const MAX_PATH: usize = 4095;
/// Highest device major number Linux encodes (12 bits).
pub const MAX_MAJOR: u32 = 0xfff;
/// Highest device minor number Linux encodes (20 bits).
pub const MAX_MINOR: u32 = 0xf_ffff;
/// Highest mode a list may give: setuid, setgid, sticky and `rwx` bits.
pub const MAX_MODE: u32 = 0o7777;

/// The device type of a `nod` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceType {
    /// `b`: a block device.
    Block,
    /// `c`: a character device.
    Char,
}

/// What an entry is, with the fields only that type has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `file`: a regular file copied from `location`, also reachable under
    /// each of `links` (archive names, like [`Entry::name`]).
    File {
        /// Source path as written, before `${VAR}` expansion.
        location: Vec<u8>,
        /// Further names of the same inode.
        links: Vec<Vec<u8>>,
    },
    /// `dir`: a directory.
    Dir,
    /// `nod`: a device node, written into the archive without `mknod`.
    Nod {
        /// Block or character device.
        device: DeviceType,
        /// Major number, at most [`MAX_MAJOR`].
        major: u32,
        /// Minor number, at most [`MAX_MINOR`].
        minor: u32,
    },
    /// `slink`: a symbolic link.
    Slink {
        /// Link target, stored as written.
        target: Vec<u8>,
    },
    /// `pipe`: a named pipe.
    Pipe,
    /// `sock`: a unix socket node.
    Sock,
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path in the archive: as written, less one leading `/`.
    pub name: Vec<u8>,
    /// Type and type-specific fields.
    pub kind: Kind,
    /// Permission bits, at most [`MAX_MODE`]; the file type comes from `kind`.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

impl Entry {
    /// Every archive name of this entry: its name, then any hard links.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        let links: &[Vec<u8>] = match &self.kind {
            Kind::File { links, .. } => links,
            _ => &[],
        };
        std::iter::once(self.name.as_slice()).chain(links.iter().map(Vec::as_slice))
    }
}

/// A parsed line of the list, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the list file.
    pub number: usize,
    /// The entry on that line.
    pub entry: Entry,
}

/// The entry types of the list, one per type word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    /// `file`
    File,
    /// `dir`
    Dir,
    /// `nod`
    Nod,
    /// `slink`
    Slink,
    /// `pipe`
    Pipe,
    /// `sock`
    Sock,
}

/// The syntax of one entry type, for parsing and for error messages.
#[derive(Debug, PartialEq, Eq)]
pub struct Syntax {
    /// Which type this is.
    pub entry_type: EntryType,
    /// The entry type word.
    pub word: &'static str,
    /// Number of fields after the type word (the least, if `open_ended`).
    pub fields: usize,
    /// Whether more fields may follow (hard link names, for `file`).
    pub open_ended: bool,
    /// The usage line, as the kernel's tool prints it.
    pub usage: &'static str,
}

const FILE: Syntax = Syntax {
    entry_type: EntryType::File,
    word: "file",
    fields: 5,
    open_ended: true,
    usage: "file <name> <location> <mode> <uid> <gid> [<hard links>...]",
};
const DIR: Syntax = Syntax {
    entry_type: EntryType::Dir,
    word: "dir",
    fields: 4,
    open_ended: false,
    usage: "dir <name> <mode> <uid> <gid>",
};
const NOD: Syntax = Syntax {
    entry_type: EntryType::Nod,
    word: "nod",
    fields: 7,
    open_ended: false,
    usage: "nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>",
};
const SLINK: Syntax = Syntax {
    entry_type: EntryType::Slink,
    word: "slink",
    fields: 5,
    open_ended: false,
    usage: "slink <name> <target> <mode> <uid> <gid>",
};
const PIPE: Syntax = Syntax {
    entry_type: EntryType::Pipe,
    word: "pipe",
    fields: 4,
    open_ended: false,
    usage: "pipe <name> <mode> <uid> <gid>",
};
const SOCK: Syntax = Syntax {
    entry_type: EntryType::Sock,
    word: "sock",
    fields: 4,
    open_ended: false,
    usage: "sock <name> <mode> <uid> <gid>",
};

/// Every entry type, in the kernel tool's order.
pub const SYNTAXES: [&Syntax; 6] = [&FILE, &NOD, &DIR, &SLINK, &PIPE, &SOCK];

/// Why a line could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The first word is no entry type.
    UnknownType(Vec<u8>),
    /// Too few or too many fields for the entry type.
    FieldCount {
        /// The entry type's syntax.
        syntax: &'static Syntax,
        /// Fields found after the type word.
        found: usize,
    },
    /// The mode is not octal or has bits beyond [`MAX_MODE`].
    BadMode(Vec<u8>),
    /// A uid or gid is not a decimal `u32`.
    BadId {
        /// `uid` or `gid`.
        field: &'static str,
        /// The field as written.
        value: Vec<u8>,
    },
    /// The device type is neither `b` nor `c`.
    BadDeviceType(Vec<u8>),
    /// A device number is not decimal or is out of range.
    BadDeviceNumber {
        /// `major` or `minor`.
        field: &'static str,
        /// The field as written.
        value: Vec<u8>,
        /// The highest number allowed.
        max: u32,
    },
    /// The name is `/` alone, which leaves nothing to store.
    EmptyName,
    /// A name or symlink target is longer than [`MAX_PATH`].
    TooLong {
        /// `name` or `symlink target`.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The line holds a NUL byte, which no archive name can.
    NulByte,
    /// The name was already used by an earlier entry.
    Duplicate {
        /// The archive name.
        name: Vec<u8>,
        /// The line that used it first.
        first_line: usize,
    },
}

/// A [`ParseError`] with the 1-based line number it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the list file.
    pub number: usize,
    /// What is wrong with that line.
    pub error: ParseError,
}

/// Shows bytes from the list as text, invalid UTF-8 replaced.
struct Shown<'a>(&'a [u8]);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'", String::from_utf8_lossy(self.0))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownType(word) => write!(
                f,
                "unknown entry type {} (expected file, dir, nod, slink, pipe or sock)",
                Shown(word)
            ),
            Self::FieldCount { syntax, found } => {
                let at_least = if syntax.open_ended { "at least " } else { "" };
                write!(
                    f,
                    "'{}' takes {at_least}{} fields, found {found}: {}",
                    syntax.word, syntax.fields, syntax.usage
                )
            }
            Self::BadMode(value) => write!(
                f,
                "bad mode {}: expected octal permission bits 0..{MAX_MODE:o}",
                Shown(value)
            ),
            Self::BadId { field, value } => write!(
                f,
                "bad {field} {}: expected a decimal number 0..{}",
                Shown(value),
                u32::MAX
            ),
            Self::BadDeviceType(value) => write!(
                f,
                "bad device type {}: expected b (block) or c (character)",
                Shown(value)
            ),
            Self::BadDeviceNumber { field, value, max } => write!(
                f,
                "bad {field} number {}: expected a decimal number 0..{max}",
                Shown(value)
            ),
            Self::EmptyName => write!(f, "empty name: '/' is the image root and needs no entry"),
            Self::TooLong { field, len } => write!(
                f,
                "{field} is {len} bytes, longer than the kernel's limit of {MAX_PATH}"
            ),
            Self::NulByte => write!(f, "NUL byte in line"),
            Self::Duplicate { name, first_line } => {
                write!(
                    f,
                    "duplicate name {} (first on line {first_line})",
                    Shown(name)
                )
            }
        }
    }
}

/// Field separators: what `sscanf`'s `%s` stops at on a line.
fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

fn parse_octal(field: &[u8]) -> Option<u32> {
    if field.is_empty() {
        return None;
    }
    field.iter().try_fold(0u32, |acc, &b| match b {
        b'0'..=b'7' => acc.checked_mul(8)?.checked_add(u32::from(b - b'0')),
        _ => None,
    })
}

fn parse_decimal(field: &[u8]) -> Option<u32> {
    if field.is_empty() {
        return None;
    }
    field.iter().try_fold(0u32, |acc, &b| match b {
        b'0'..=b'9' => acc.checked_mul(10)?.checked_add(u32::from(b - b'0')),
        _ => None,
    })
}

fn parse_mode(field: &[u8]) -> Result<u32, ParseError> {
    parse_octal(field)
        .filter(|&mode| mode <= MAX_MODE)
        .ok_or_else(|| ParseError::BadMode(field.to_vec()))
}

fn parse_id(field: &[u8], name: &'static str) -> Result<u32, ParseError> {
    parse_decimal(field).ok_or_else(|| ParseError::BadId {
        field: name,
        value: field.to_vec(),
    })
}

fn parse_device_number(field: &[u8], name: &'static str, max: u32) -> Result<u32, ParseError> {
    parse_decimal(field)
        .filter(|&n| n <= max)
        .ok_or_else(|| ParseError::BadDeviceNumber {
            field: name,
            value: field.to_vec(),
            max,
        })
}

/// The archive name for a list name: one leading `/` dropped, as the kernel's
/// tool does, so the kernel unpacks it relative to the root.
fn archive_name(field: &[u8]) -> Result<Vec<u8>, ParseError> {
    let name = field.strip_prefix(b"/").unwrap_or(field);
    if name.is_empty() {
        return Err(ParseError::EmptyName);
    }
    if name.len() > MAX_PATH {
        return Err(ParseError::TooLong {
            field: "name",
            len: name.len(),
        });
    }
    Ok(name.to_vec())
}

/// Parses one line (without its newline). Blank lines and lines whose first
/// non-blank byte is `#` give `Ok(None)`.
pub fn parse_line(line: &[u8]) -> Result<Option<Entry>, ParseError> {
    let mut words = line.split(|&b| is_blank(b)).filter(|w| !w.is_empty());
    let Some(word) = words.next() else {
        return Ok(None);
    };
    if word.starts_with(b"#") {
        return Ok(None);
    }
    if line.contains(&0) {
        return Err(ParseError::NulByte);
    }
    let syntax = SYNTAXES
        .into_iter()
        .find(|s| s.word.as_bytes() == word)
        .ok_or_else(|| ParseError::UnknownType(word.to_vec()))?;
    let fields: Vec<&[u8]> = words.collect();
    let count_ok = if syntax.open_ended {
        fields.len() >= syntax.fields
    } else {
        fields.len() == syntax.fields
    };
    if !count_ok {
        return Err(ParseError::FieldCount {
            syntax,
            found: fields.len(),
        });
    }
    let name = archive_name(fields[0])?;
    // file and slink have a location or target between name and mode.
    let mode_at = match syntax.entry_type {
        EntryType::File | EntryType::Slink => 2,
        EntryType::Dir | EntryType::Nod | EntryType::Pipe | EntryType::Sock => 1,
    };
    let mode = parse_mode(fields[mode_at])?;
    let uid = parse_id(fields[mode_at + 1], "uid")?;
    let gid = parse_id(fields[mode_at + 2], "gid")?;
    let kind = match syntax.entry_type {
        EntryType::File => Kind::File {
            location: fields[1].to_vec(),
            links: fields[5..]
                .iter()
                .map(|f| archive_name(f))
                .collect::<Result<_, _>>()?,
        },
        EntryType::Slink => {
            let target = fields[1];
            if target.len() > MAX_PATH {
                return Err(ParseError::TooLong {
                    field: "symlink target",
                    len: target.len(),
                });
            }
            Kind::Slink {
                target: target.to_vec(),
            }
        }
        EntryType::Nod => Kind::Nod {
            device: match fields[4] {
                b"b" => DeviceType::Block,
                b"c" => DeviceType::Char,
                other => return Err(ParseError::BadDeviceType(other.to_vec())),
            },
            major: parse_device_number(fields[5], "major", MAX_MAJOR)?,
            minor: parse_device_number(fields[6], "minor", MAX_MINOR)?,
        },
        EntryType::Dir => Kind::Dir,
        EntryType::Pipe => Kind::Pipe,
        EntryType::Sock => Kind::Sock,
    };
    Ok(Some(Entry {
        name,
        kind,
        mode,
        uid,
        gid,
    }))
}

/// Parses a whole list. Returns every entry with its line number, or every
/// error found (all lines are checked, so one run reports them all).
pub fn parse_list(text: &[u8]) -> Result<Vec<Line>, Vec<LineError>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut first_use: HashMap<Vec<u8>, usize> = HashMap::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        match parse_line(line) {
            Ok(None) => {}
            Ok(Some(entry)) => {
                for name in entry.names() {
                    if let Some(&first_line) = first_use.get(name) {
                        let name = name.to_vec();
                        let error = ParseError::Duplicate { name, first_line };
                        errors.push(LineError { number, error });
                    } else {
                        first_use.insert(name.to_vec(), number);
                    }
                }
                lines.push(Line { number, entry });
            }
            Err(error) => errors.push(LineError { number, error }),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: &str) -> Entry {
        match parse_line(line.as_bytes()) {
            Ok(Some(entry)) => entry,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn error(line: &str) -> ParseError {
        match parse_line(line.as_bytes()) {
            Err(e) => e,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn every_entry_type() {
        assert_eq!(
            entry("file /bin/init ${BIN}/init 0755 0 0"),
            Entry {
                name: b"bin/init".to_vec(),
                kind: Kind::File {
                    location: b"${BIN}/init".to_vec(),
                    links: vec![],
                },
                mode: 0o755,
                uid: 0,
                gid: 0,
            }
        );
        assert_eq!(
            entry("dir /dev 755 1 2"),
            Entry {
                name: b"dev".to_vec(),
                kind: Kind::Dir,
                mode: 0o755,
                uid: 1,
                gid: 2,
            }
        );
        assert_eq!(
            entry("nod /dev/console 0600 0 5 c 5 1"),
            Entry {
                name: b"dev/console".to_vec(),
                kind: Kind::Nod {
                    device: DeviceType::Char,
                    major: 5,
                    minor: 1,
                },
                mode: 0o600,
                uid: 0,
                gid: 5,
            }
        );
        assert_eq!(
            entry("nod /dev/sda 0660 0 6 b 8 0").kind,
            Kind::Nod {
                device: DeviceType::Block,
                major: 8,
                minor: 0,
            }
        );
        assert_eq!(
            entry("slink /bin/sh busybox 0777 0 0"),
            Entry {
                name: b"bin/sh".to_vec(),
                kind: Kind::Slink {
                    target: b"busybox".to_vec(),
                },
                mode: 0o777,
                uid: 0,
                gid: 0,
            }
        );
        assert_eq!(entry("pipe /run/fifo 0600 0 0").kind, Kind::Pipe);
        assert_eq!(entry("sock /run/sock 0600 0 0").kind, Kind::Sock);
    }

    #[test]
    fn hard_links_follow_the_file_fields() {
        let e = entry("file /bin/a src 0755 0 0 /bin/b bin/c");
        assert_eq!(
            e.kind,
            Kind::File {
                location: b"src".to_vec(),
                links: vec![b"bin/b".to_vec(), b"bin/c".to_vec()],
            }
        );
        let names: Vec<&[u8]> = e.names().collect();
        assert_eq!(names, [&b"bin/a"[..], b"bin/b", b"bin/c"]);
    }

    #[test]
    fn one_leading_slash_is_dropped() {
        assert_eq!(entry("dir /a 755 0 0").name, b"a");
        assert_eq!(entry("dir a 755 0 0").name, b"a");
        assert_eq!(entry("dir //a 755 0 0").name, b"/a");
        assert_eq!(error("dir / 755 0 0"), ParseError::EmptyName);
    }

    #[test]
    fn blanks_comments_and_separators() {
        for line in [
            "",
            "   ",
            "\t",
            "\r",
            "# comment",
            "  # indented",
            "#dir /x 755 0 0",
        ] {
            assert_eq!(parse_line(line.as_bytes()), Ok(None), "{line:?}");
        }
        let e = entry("  dir\t/x \t 0700  0\t0\r");
        assert_eq!((e.name.as_slice(), e.mode), (&b"x"[..], 0o700));
    }

    #[test]
    fn numbers_and_their_limits() {
        assert_eq!(entry("dir /x 7777 0 0").mode, 0o7777);
        assert_eq!(entry("dir /x 0000 0 0").mode, 0);
        let e = entry("dir /x 0 4294967295 007");
        assert_eq!((e.uid, e.gid), (u32::MAX, 7));
        for mode in ["10000", "0x755", "8", "-755", "+755", "75a", "077777777777"] {
            assert_eq!(
                error(&format!("dir /x {mode} 0 0")),
                ParseError::BadMode(mode.as_bytes().to_vec())
            );
        }
        for uid in ["-1", "4294967296", "root", "1.0", "+1"] {
            assert_eq!(
                error(&format!("dir /x 755 {uid} 0")),
                ParseError::BadId {
                    field: "uid",
                    value: uid.as_bytes().to_vec()
                }
            );
        }
        assert!(matches!(
            error("pipe /x 755 0 -1"),
            ParseError::BadId { field: "gid", .. }
        ));
    }

    #[test]
    fn device_fields() {
        assert_eq!(
            entry("nod /d 600 0 0 b 4095 1048575").kind,
            Kind::Nod {
                device: DeviceType::Block,
                major: MAX_MAJOR,
                minor: MAX_MINOR,
            }
        );
        for dev_type in ["x", "B", "bc", "1"] {
            assert_eq!(
                error(&format!("nod /d 600 0 0 {dev_type} 1 1")),
                ParseError::BadDeviceType(dev_type.as_bytes().to_vec())
            );
        }
        assert_eq!(
            error("nod /d 600 0 0 c 4096 0"),
            ParseError::BadDeviceNumber {
                field: "major",
                value: b"4096".to_vec(),
                max: MAX_MAJOR
            }
        );
        assert_eq!(
            error("nod /d 600 0 0 c 1 1048576"),
            ParseError::BadDeviceNumber {
                field: "minor",
                value: b"1048576".to_vec(),
                max: MAX_MINOR
            }
        );
        assert!(matches!(
            error("nod /d 600 0 0 c -1 0"),
            ParseError::BadDeviceNumber { field: "major", .. }
        ));
    }

    #[test]
    fn field_counts() {
        let cases = [
            ("file /a src 755 0", "file", 4),
            ("dir /a 755 0", "dir", 3),
            ("dir /a 755 0 0 extra", "dir", 5),
            ("nod /a 600 0 0 c 5", "nod", 6),
            ("nod /a 600 0 0 c 5 1 2", "nod", 8),
            ("slink /a 777 0 0", "slink", 4),
            ("slink /a b 777 0 0 c", "slink", 6),
            ("pipe /a", "pipe", 1),
            ("sock", "sock", 0),
        ];
        for (line, word, found) in cases {
            match error(line) {
                ParseError::FieldCount { syntax, found: n } => {
                    assert_eq!((syntax.word, n), (word, found), "{line}");
                }
                other => panic!("{line:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn other_errors() {
        assert_eq!(error("fil /a"), ParseError::UnknownType(b"fil".to_vec()));
        assert_eq!(error("FILE /a"), ParseError::UnknownType(b"FILE".to_vec()));
        assert_eq!(error("dir /a\0b 755 0 0"), ParseError::NulByte);
        let long = "a".repeat(MAX_PATH);
        assert_eq!(entry(&format!("dir /{long} 755 0 0")).name.len(), MAX_PATH);
        assert_eq!(
            error(&format!("dir /{long}b 755 0 0")),
            ParseError::TooLong {
                field: "name",
                len: MAX_PATH + 1
            }
        );
        assert_eq!(
            error(&format!("slink /a {long}b 777 0 0")),
            ParseError::TooLong {
                field: "symlink target",
                len: MAX_PATH + 1
            }
        );
        assert_eq!(
            error("file /a src 755 0 0 /"),
            ParseError::EmptyName,
            "hard link names are checked too"
        );
    }

    #[test]
    fn messages_name_the_problem() {
        let shown = |line: &str| error(line).to_string();
        assert_eq!(
            shown("fil /a"),
            "unknown entry type 'fil' (expected file, dir, nod, slink, pipe or sock)"
        );
        assert_eq!(
            shown("dir /a 755"),
            "'dir' takes 4 fields, found 2: dir <name> <mode> <uid> <gid>"
        );
        assert_eq!(
            shown("file /a b"),
            "'file' takes at least 5 fields, found 2: \
             file <name> <location> <mode> <uid> <gid> [<hard links>...]"
        );
        assert_eq!(
            shown("dir /a 0x1 0 0"),
            "bad mode '0x1': expected octal permission bits 0..7777"
        );
        assert_eq!(
            shown("dir /a 1 -2 0"),
            "bad uid '-2': expected a decimal number 0..4294967295"
        );
        assert_eq!(
            shown("nod /a 1 0 0 x 1 1"),
            "bad device type 'x': expected b (block) or c (character)"
        );
        assert_eq!(
            shown("nod /a 1 0 0 c 1 x"),
            "bad minor number 'x': expected a decimal number 0..1048575"
        );
    }

    #[test]
    fn list_numbers_lines_and_reports_every_error() {
        let text = b"# header\n\ndir /a 755 0 0\nslink /a/b c 777 0 0\n";
        let lines = parse_list(text).unwrap();
        let numbers: Vec<usize> = lines.iter().map(|l| l.number).collect();
        assert_eq!(numbers, [3, 4]);

        let text = b"dir /a 755 0 0\nbogus\ndir /b 9 0 0\ndir /c 755 0 0";
        let errors = parse_list(text).unwrap_err();
        let numbers: Vec<usize> = errors.iter().map(|e| e.number).collect();
        assert_eq!(numbers, [2, 3]);
    }

    #[test]
    fn list_rejects_duplicate_names() {
        let text =
            b"dir /a 755 0 0\ndir a 700 0 0\nfile /f src 644 0 0 /g /f\nfile /h src 644 0 0 /g";
        let errors = parse_list(text).unwrap_err();
        assert_eq!(
            errors,
            [
                LineError {
                    number: 2,
                    error: ParseError::Duplicate {
                        name: b"a".to_vec(),
                        first_line: 1
                    }
                },
                LineError {
                    number: 3,
                    error: ParseError::Duplicate {
                        name: b"f".to_vec(),
                        first_line: 3
                    }
                },
                LineError {
                    number: 4,
                    error: ParseError::Duplicate {
                        name: b"g".to_vec(),
                        first_line: 3
                    }
                },
            ]
        );
        assert_eq!(
            errors[0].error.to_string(),
            "duplicate name 'a' (first on line 1)"
        );
    }
}
