//! Command line: `mkinitramfs [-o FILE] [-t TIMESTAMP] [-C DIR] LIST`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The usage text printed by `--help`.
pub const HELP: &str = "\
Usage: mkinitramfs [-o FILE] [-t TIMESTAMP] [-C DIR] LIST

Writes the newc cpio archive (a Linux initramfs) that LIST describes. LIST
uses the syntax of the Linux kernel's usr/gen_init_cpio; '-' reads it from
standard input:

  # a comment
  file <name> <location> <mode> <uid> <gid> [<hard links>...]
  dir <name> <mode> <uid> <gid>
  nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>
  slink <name> <target> <mode> <uid> <gid>
  pipe <name> <mode> <uid> <gid>
  sock <name> <mode> <uid> <gid>

<name> is the path in the image (one leading '/' is dropped). <location> is
the source file on this machine; ${VAR} in it is replaced by the environment
variable VAR (by nothing if VAR is unset). <mode> is octal permission bits
(0..7777); <uid>, <gid>, <maj> and <min> are decimal; <dev_type> is b (block)
or c (character). Device nodes are written straight into the archive, so no
root privilege is needed. Hard links share the file's inode; its data is
stored with the last name.

Options:
  -o FILE       write the archive to FILE instead of standard output. It is
                written beside FILE under a temporary name and renamed over
                FILE when complete; on any error FILE is left untouched.
  -t TIMESTAMP  modification time of every entry, in seconds since the epoch
                (0..4294967295). Default: $SOURCE_DATE_EPOCH if set, else 0.
                Source files' own times, owners and modes never reach the
                archive, so the same inputs give the same bytes.
  -C DIR        resolve relative <location>s against DIR instead of the
                current directory (LIST and FILE are not affected)
  -h, --help    show this help
  -V, --version show the version

Exit status: 0 on success; 1 on a bad list, an unreadable source file or a
write error (list errors are reported as LIST:LINE: message); 2 on bad usage.
";

/// Where the list is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSource {
    /// `-`: standard input.
    Stdin,
    /// A list file.
    File(PathBuf),
}

/// What to build, from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-o`: the output file; standard output if absent.
    pub output: Option<PathBuf>,
    /// `-t`: the mtime of every entry.
    pub mtime: Option<u32>,
    /// `-C`: the directory relative locations are resolved against.
    pub base: Option<PathBuf>,
    /// The list.
    pub list: ListSource,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Build an archive.
    Build(Options),
    /// Print [`HELP`].
    Help,
    /// Print the version.
    Version,
}

/// A command line that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a timestamp: decimal seconds since the epoch that fit the format's
/// 32-bit mtime field.
pub fn parse_timestamp(text: &[u8]) -> Option<u32> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let mut output = None;
    let mut mtime = None;
    let mut base = None;
    let mut lists = Vec::new();
    let mut options_done = false;
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        if options_done || bytes == b"-" || !bytes.starts_with(b"-") {
            lists.push(arg);
            continue;
        }
        match bytes {
            b"--" => {
                options_done = true;
                continue;
            }
            b"-h" | b"--help" => return Ok(Command::Help),
            b"-V" | b"--version" => return Ok(Command::Version),
            _ => {}
        }
        let letter = bytes[1];
        if !matches!(letter, b'o' | b't' | b'C') {
            let shown = arg.to_string_lossy();
            return Err(UsageError(format!("unknown option '{shown}'")));
        }
        // The value is attached (-oFILE) or the next argument.
        let value = if bytes.len() > 2 {
            OsStr::from_bytes(&bytes[2..]).to_os_string()
        } else {
            args.next().ok_or_else(|| {
                UsageError(format!("option -{} needs a value", char::from(letter)))
            })?
        };
        match letter {
            b'o' => output = Some(PathBuf::from(value)),
            b'C' => base = Some(PathBuf::from(value)),
            _ => {
                let ts = parse_timestamp(value.as_bytes()).ok_or_else(|| {
                    UsageError(format!(
                        "bad timestamp '{}': expected seconds since the epoch, 0..{}",
                        value.to_string_lossy(),
                        u32::MAX
                    ))
                })?;
                mtime = Some(ts);
            }
        }
    }
    let list = match lists.as_slice() {
        [one] if one.as_bytes() == b"-" => ListSource::Stdin,
        [one] => ListSource::File(PathBuf::from(one)),
        [] => return Err(UsageError("no list file given".into())),
        [_, extra, ..] => {
            let shown = extra.to_string_lossy();
            return Err(UsageError(format!("one list file only, extra '{shown}'")));
        }
    };
    Ok(Command::Build(Options {
        output,
        mtime,
        base,
        list,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    fn build(args: &[&str]) -> Options {
        match parsed(args) {
            Ok(Command::Build(options)) => options,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn options_separate_and_attached() {
        assert_eq!(
            build(&["-o", "out.cpio", "-t", "42", "-C", "dir", "list"]),
            Options {
                output: Some(PathBuf::from("out.cpio")),
                mtime: Some(42),
                base: Some(PathBuf::from("dir")),
                list: ListSource::File(PathBuf::from("list")),
            }
        );
        assert_eq!(
            build(&["list", "-oout", "-t0", "-Cdir"]),
            Options {
                output: Some(PathBuf::from("out")),
                mtime: Some(0),
                base: Some(PathBuf::from("dir")),
                list: ListSource::File(PathBuf::from("list")),
            }
        );
        assert_eq!(
            build(&["list"]),
            Options {
                output: None,
                mtime: None,
                base: None,
                list: ListSource::File(PathBuf::from("list")),
            }
        );
        assert_eq!(build(&["-"]).list, ListSource::Stdin);
        assert_eq!(
            build(&["--", "-o"]).list,
            ListSource::File(PathBuf::from("-o"))
        );
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parsed(&["-h"]), Ok(Command::Help));
        assert_eq!(parsed(&["list", "--help"]), Ok(Command::Help));
        assert_eq!(parsed(&["-V"]), Ok(Command::Version));
        assert_eq!(parsed(&["--version"]), Ok(Command::Version));
    }

    #[test]
    fn usage_errors() {
        let message = |args: &[&str]| parsed(args).unwrap_err().0;
        assert_eq!(message(&[]), "no list file given");
        assert_eq!(message(&["a", "b"]), "one list file only, extra 'b'");
        assert_eq!(message(&["-x", "list"]), "unknown option '-x'");
        assert_eq!(message(&["--output", "list"]), "unknown option '--output'");
        assert_eq!(message(&["list", "-o"]), "option -o needs a value");
        assert_eq!(
            message(&["-t", "-1", "list"]),
            "bad timestamp '-1': expected seconds since the epoch, 0..4294967295"
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp(b"0"), Some(0));
        assert_eq!(parse_timestamp(b"1700000000"), Some(1_700_000_000));
        assert_eq!(parse_timestamp(b"4294967295"), Some(u32::MAX));
        for bad in [&b""[..], b"4294967296", b"-1", b"+1", b" 1", b"1.5", b"1e9"] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }
}
