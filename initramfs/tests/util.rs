//! Test harness: runs the real mkinitramfs binary in temporary directories
//! and reads its archives back, with a newc reader of its own (sharing no
//! code with the tool) and with GNU cpio.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// The tool under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mkinitramfs"))
}

/// The checked-in fixtures: a list, its sources, and the kernel tool's archive.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory named after the running test.
    pub fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let test = thread::current()
            .name()
            .unwrap_or("test")
            .rsplit("::")
            .next()
            .unwrap_or("test")
            .to_string();
        let path = std::env::temp_dir().join(format!(
            "mkinitramfs-{}-{}-{test}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Self { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `contents` to `name` inside the directory, making parents.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    /// Names in the directory, sorted, hidden ones included.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// What a run of the tool did.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr, as text.
    pub stderr: String,
}

impl Run {
    /// Panics with the run's stderr unless it exited 0.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        self
    }

    /// Panics unless the run exited with `code`; returns its stderr.
    pub fn failed(self, code: i32) -> String {
        assert_eq!(self.code, Some(code), "stderr: {}", self.stderr);
        self.stderr
    }
}

/// A command for the tool, run in `dir`, with no `SOURCE_DATE_EPOCH`.
pub fn mkinitramfs(dir: &Path) -> Command {
    let mut command = Command::new(bin());
    command.current_dir(dir).env_remove("SOURCE_DATE_EPOCH");
    command
}

/// Runs `command` with `stdin` as its standard input.
pub fn run_with_input(command: &mut Command, stdin: &[u8]) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code(),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `command` with an empty standard input.
pub fn run(command: &mut Command) -> Run {
    run_with_input(command, b"")
}

/// Runs the tool in `dir` with `args`.
pub fn run_in(dir: &Path, args: &[impl AsRef<OsStr>]) -> Run {
    run(mkinitramfs(dir).args(args))
}

/// One record of a newc archive, as read back by [`read_newc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Byte offset of the header in the archive.
    pub offset: usize,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub check: u32,
    pub name: String,
    pub body: Vec<u8>,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Reads a whole newc archive, checking the framing on the way: magic,
/// 8-digit hex fields, NUL-terminated names, 4-byte alignment, a trailer,
/// and zero padding to a multiple of 512 bytes after it. The trailer is the
/// last record returned.
pub fn read_newc(bytes: &[u8]) -> Vec<Record> {
    let mut records = Vec::new();
    let mut at = 0;
    loop {
        assert_eq!(at % 4, 0, "header at {at} is not 4-byte aligned");
        let header = &bytes[at..at + 110];
        assert_eq!(&header[..6], b"070701", "magic at {at}");
        let field = |i: usize| {
            let digits = std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i]).unwrap();
            assert!(
                digits
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
                "field {i} at {at}: {digits:?}"
            );
            u32::from_str_radix(digits, 16).unwrap()
        };
        let filesize = field(6) as usize;
        let namesize = field(11) as usize;
        let name_at = at + 110;
        let name = &bytes[name_at..name_at + namesize];
        assert_eq!(name.last(), Some(&0), "name at {name_at} lacks its NUL");
        assert!(!name[..namesize - 1].contains(&0));
        let body_at = align4(name_at + namesize);
        assert!(bytes[name_at + namesize..body_at].iter().all(|&b| b == 0));
        let body_end = body_at + filesize;
        let next = align4(body_end);
        assert!(bytes[body_end..next].iter().all(|&b| b == 0));
        let record = Record {
            offset: at,
            ino: field(0),
            mode: field(1),
            uid: field(2),
            gid: field(3),
            nlink: field(4),
            mtime: field(5),
            dev_major: field(7),
            dev_minor: field(8),
            rdev_major: field(9),
            rdev_minor: field(10),
            check: field(12),
            name: String::from_utf8(name[..namesize - 1].to_vec()).unwrap(),
            body: bytes[body_at..body_end].to_vec(),
        };
        let done = record.name == "TRAILER!!!";
        records.push(record);
        at = next;
        if done {
            break;
        }
    }
    assert_eq!(bytes.len() % 512, 0, "archive not padded to 512 bytes");
    assert!(
        bytes[at..].iter().all(|&b| b == 0),
        "junk after the trailer"
    );
    records
}

/// `cpio -itvn` of an archive, one line per entry with runs of blanks
/// squeezed and the date columns dropped, e.g. `crw------- 1 0 0 5, 1
/// dev/console` or `lrwxrwxrwx 1 0 0 2 bin/sh -> a`.
pub fn cpio_listing(archive: &Path) -> Vec<String> {
    let output = Command::new("cpio")
        .args(["-itvn", "--quiet", "-F"])
        .arg(archive)
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .output()
        .expect("GNU cpio is needed (ci/deps.sh installs it)");
    assert!(
        output.status.success(),
        "cpio -t: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            // Month, day and year (or time) sit before the name; a device
            // shows "maj, min" where others show one size.
            let date_at = if words[4].ends_with(',') { 6 } else { 5 };
            words.drain(date_at..date_at + 3);
            words.join(" ")
        })
        .collect()
}

/// Extracts an archive into `dest` with `cpio -idm --no-absolute-filenames`,
/// skipping names that match the shell pattern `skip`.
pub fn cpio_extract(archive: &Path, dest: &Path, skip: &str) {
    fs::create_dir_all(dest).unwrap();
    let output = Command::new("cpio")
        .args(["-idm", "--quiet", "--no-absolute-filenames", "-f", "-F"])
        .arg(archive)
        .arg(skip)
        .current_dir(dest)
        .env("LC_ALL", "C")
        .output()
        .expect("GNU cpio is needed (ci/deps.sh installs it)");
    assert!(
        output.status.success(),
        "cpio -i: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether the tests run as root (files they create are owned by uid 0).
pub fn running_as_root(dir: &TempDir) -> bool {
    let probe = dir.write(".probe", b"");
    let root = fs::metadata(&probe).unwrap().uid() == 0;
    fs::remove_file(probe).unwrap();
    root
}
