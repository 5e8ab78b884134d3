//! Turns parsed list entries into `newc` records the way the kernel's
//! `gen_init_cpio -t` does, so the same list gives the same bytes: inodes
//! count up from [`FIRST_INO`], every record claims device 3:1, hard links
//! share one inode and the data rides on the last of them.
//!
//! Only the list's mode, owner and the fixed mtime reach the archive; a
//! source file contributes its bytes and nothing else.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::list::{DeviceType, Kind, Line};
use crate::location;
use crate::newc::{self, Archive, Header};

/// The first inode number handed out, as in the kernel's tool.
pub const FIRST_INO: u32 = 721;
/// The device every record claims to live on, as in the kernel's tool.
const DEV_MAJOR: u32 = 3;
const DEV_MINOR: u32 = 1;

/// Fixed inputs of a build besides the list.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Modification time of every entry.
    pub mtime: u32,
    /// Directory relative locations are resolved against (`-C`).
    pub base: Option<PathBuf>,
}

/// Why the image could not be written.
#[derive(Debug)]
pub enum Error {
    /// A `file` entry's source could not be opened or read.
    Source {
        /// Line of the entry.
        line: usize,
        /// The location as written in the list.
        location: Vec<u8>,
        /// The path it expanded and resolved to.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// A `file` entry's source is a directory, device or other non-file.
    NotRegular {
        /// Line of the entry.
        line: usize,
        /// The path it expanded and resolved to.
        path: PathBuf,
    },
    /// A `file` entry's source does not fit the format's 32-bit size field.
    TooLarge {
        /// Line of the entry.
        line: usize,
        /// The path it expanded and resolved to.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
    },
    /// Writing the archive failed.
    Write(io::Error),
}

impl Error {
    /// The list line the error belongs to, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Source { line, .. }
            | Self::NotRegular { line, .. }
            | Self::TooLarge { line, .. } => Some(*line),
            Self::Write(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Source {
                location,
                path,
                error,
                ..
            } => {
                let written = String::from_utf8_lossy(location);
                write!(f, "cannot read source file '{}'", path.display())?;
                if Path::new(&*written) != path.as_path() {
                    write!(f, " (from '{written}')")?;
                }
                write!(f, ": {error}")
            }
            Self::NotRegular { path, .. } => {
                write!(f, "source '{}' is not a regular file", path.display())
            }
            Self::TooLarge { path, size, .. } => write!(
                f,
                "source file '{}' is {size} bytes, more than the format's limit of {}",
                path.display(),
                u32::MAX
            ),
            Self::Write(error) => write!(f, "{error}"),
        }
    }
}

/// A directory, pipe or socket: the kernel's tool gives these two links.
fn generic(header: Header, mode: u32) -> Header {
    Header {
        mode,
        nlink: 2,
        ..header
    }
}

/// Reads a whole source file, which must be a regular file.
fn read_source(line: usize, location: &[u8], path: PathBuf) -> Result<Vec<u8>, Error> {
    let source_error = |error| Error::Source {
        line,
        location: location.to_vec(),
        path: path.clone(),
        error,
    };
    let mut file = File::open(&path).map_err(source_error)?;
    let metadata = file.metadata().map_err(source_error)?;
    if !metadata.is_file() {
        return Err(Error::NotRegular { line, path });
    }
    if metadata.len() > u64::from(u32::MAX) {
        let size = metadata.len();
        return Err(Error::TooLarge { line, path, size });
    }
    let mut data = Vec::with_capacity(metadata.len() as usize);
    file.read_to_end(&mut data).map_err(source_error)?;
    // The file may have grown since the size check.
    if data.len() as u64 > u64::from(u32::MAX) {
        let size = data.len() as u64;
        return Err(Error::TooLarge { line, path, size });
    }
    Ok(data)
}

/// Writes the archive for `lines` to `out` and returns `out`.
/// `lookup` supplies the `${VAR}` values of `file` locations.
pub fn write<W: Write>(
    lines: &[Line],
    settings: &Settings,
    lookup: impl Fn(&[u8]) -> Option<Vec<u8>>,
    out: W,
) -> Result<W, Error> {
    let mut archive = Archive::new(out);
    for (ino, line) in (FIRST_INO..).zip(lines) {
        let entry = &line.entry;
        let header = Header {
            ino,
            mode: entry.mode,
            uid: entry.uid,
            gid: entry.gid,
            nlink: 1,
            mtime: settings.mtime,
            dev_major: DEV_MAJOR,
            dev_minor: DEV_MINOR,
            ..Header::default()
        };
        let (header, body) = match &entry.kind {
            Kind::File { location, links } => {
                let expanded = location::expand(location, &lookup);
                let path = location::resolve(&expanded, settings.base.as_deref());
                let data = read_source(line.number, location, path)?;
                let header = Header {
                    mode: newc::S_IFREG | entry.mode,
                    nlink: 1 + links.len() as u32,
                    ..header
                };
                // Every name but the last gets an empty body.
                for name in entry.names().take(links.len()) {
                    archive.append(header, name, &[]).map_err(Error::Write)?;
                }
                (header, data)
            }
            Kind::Dir => (generic(header, newc::S_IFDIR | entry.mode), Vec::new()),
            Kind::Pipe => (generic(header, newc::S_IFIFO | entry.mode), Vec::new()),
            Kind::Sock => (generic(header, newc::S_IFSOCK | entry.mode), Vec::new()),
            Kind::Nod {
                device,
                major,
                minor,
            } => {
                let file_type = match device {
                    DeviceType::Block => newc::S_IFBLK,
                    DeviceType::Char => newc::S_IFCHR,
                };
                let header = Header {
                    mode: file_type | entry.mode,
                    rdev_major: *major,
                    rdev_minor: *minor,
                    ..header
                };
                (header, Vec::new())
            }
            Kind::Slink { target } => {
                // The kernel's tool stores the target with its NUL.
                let mut body = target.clone();
                body.push(0);
                let header = Header {
                    mode: newc::S_IFLNK | entry.mode,
                    ..header
                };
                (header, body)
            }
        };
        let last_name = entry.names().last().unwrap_or(&entry.name);
        archive
            .append(header, last_name, &body)
            .map_err(Error::Write)?;
    }
    archive.finish().map_err(Error::Write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::parse_list;
    use std::os::unix::fs::PermissionsExt;

    /// (ino, mode, nlink, rdev major, rdev minor, mtime, name, body) per record.
    type Record = (u32, u32, u32, u32, u32, u32, String, Vec<u8>);

    fn hex(bytes: &[u8]) -> u32 {
        u32::from_str_radix(std::str::from_utf8(bytes).unwrap(), 16).unwrap()
    }

    fn records(mut bytes: &[u8]) -> Vec<Record> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let field = |i: usize| hex(&bytes[6 + 8 * i..][..8]);
            let (namesize, filesize) = (field(11) as usize, field(6) as usize);
            let name = &bytes[110..110 + namesize - 1];
            let body_at =
                110 + namesize + newc::padding((offset + 110 + namesize) as u64, 4) as usize;
            let body = bytes[body_at..body_at + filesize].to_vec();
            if name == newc::TRAILER {
                return out;
            }
            let name = String::from_utf8(name.to_vec()).unwrap();
            out.push((
                field(0),
                field(1),
                field(4),
                field(9),
                field(10),
                field(5),
                name,
                body,
            ));
            let next = body_at
                + filesize
                + newc::padding((offset + body_at + filesize) as u64, 4) as usize;
            offset += next;
            bytes = &bytes[next..];
        }
    }

    fn settings() -> Settings {
        Settings {
            mtime: 99,
            base: None,
        }
    }

    fn build(list: &str, lookup: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Result<Vec<u8>, Error> {
        let lines = parse_list(list.as_bytes()).unwrap();
        write(&lines, &settings(), lookup, Vec::new())
    }

    #[test]
    fn records_follow_the_kernel_tool() {
        let dir = std::env::temp_dir().join(format!("mkinitramfs-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("data");
        std::fs::write(&source, b"abc").unwrap();
        // The source's own mode must not leak into the archive.
        std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o777)).unwrap();
        let list = "dir /d 755 0 0\n\
                    file /d/f ${DIR}/data 640 0 0 /d/g /d/h\n\
                    nod /d/n 600 0 0 b 8 1\n\
                    slink /d/s f 777 0 0\n\
                    pipe /d/p 644 0 0\n\
                    sock /d/k 644 0 0\n";
        let lookup =
            |name: &[u8]| (name == b"DIR").then(|| dir.as_os_str().as_encoded_bytes().to_vec());
        let bytes = build(list, lookup).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let reg = newc::S_IFREG | 0o640;
        let s = |name: &str| name.to_string();
        assert_eq!(
            records(&bytes),
            [
                (721, newc::S_IFDIR | 0o755, 2, 0, 0, 99, s("d"), vec![]),
                (722, reg, 3, 0, 0, 99, s("d/f"), vec![]),
                (722, reg, 3, 0, 0, 99, s("d/g"), vec![]),
                (722, reg, 3, 0, 0, 99, s("d/h"), b"abc".to_vec()),
                (723, newc::S_IFBLK | 0o600, 1, 8, 1, 99, s("d/n"), vec![]),
                (
                    724,
                    newc::S_IFLNK | 0o777,
                    1,
                    0,
                    0,
                    99,
                    s("d/s"),
                    b"f\0".to_vec()
                ),
                (725, newc::S_IFIFO | 0o644, 2, 0, 0, 99, s("d/p"), vec![]),
                (726, newc::S_IFSOCK | 0o644, 2, 0, 0, 99, s("d/k"), vec![]),
            ]
        );
        assert_eq!(bytes.len() % newc::BLOCK as usize, 0);
    }

    #[test]
    fn source_errors_carry_the_line() {
        let missing = build("dir /a 755 0 0\nfile /a/b /nonexistent/x 644 0 0\n", |_| {
            None
        });
        match missing {
            Err(e @ Error::Source { line: 2, .. }) => assert_eq!(
                e.to_string(),
                "cannot read source file '/nonexistent/x': No such file or directory (os error 2)"
            ),
            other => panic!("{other:?}"),
        }
        let expanded = build("file /b ${NOPE}/x 644 0 0\n", |_| None).unwrap_err();
        assert_eq!(
            expanded.to_string(),
            "cannot read source file '/x' (from '${NOPE}/x'): No such file or directory (os error 2)"
        );
        let directory = build("\nfile /b / 644 0 0\n", |_| None).unwrap_err();
        assert_eq!(directory.line(), Some(2));
        assert_eq!(directory.to_string(), "source '/' is not a regular file");
    }
}
