//! Archives built from good lists: byte-compared with the kernel's own tool,
//! read back header by header, and listed and extracted by GNU cpio.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::time::{Duration, SystemTime};

use crate::util::*;

/// An mtime for the archives here (2020-09-13 UTC).
const TS: u32 = 1_600_000_000;

/// One of everything; `file` entries read `payload.bin` through `${SRC}` and
/// `src/script` relative to the directory the tool runs in.
const LIST: &str = "\
# one of every entry type
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/loop0 0660 0 6 b 7 0
dir /bin 0755 0 0
file /bin/payload ${SRC}/payload.bin 4755 0 0
file /bin/a src/script 0750 1000 100 /bin/b /bin/c
slink /bin/sh a 0777 0 0
slink /abs /bin/payload 0777 0 0

dir /run 0755 0 0
pipe /run/fifo 0620 0 0
sock /run/sock 0600 0 0
dir /tmp 1777 0 0
";

fn payload() -> Vec<u8> {
    (0..1001u32).map(|i| (i * 7 % 256) as u8).collect()
}

const SCRIPT: &[u8] = b"#!/bin/sh\necho hi\n";

/// Writes the list and its sources into `dir`; the sources get a mode, an
/// mtime and (as root) an owner that must not reach the archive.
fn setup(dir: &TempDir) {
    dir.write("list", LIST);
    for (name, data) in [("payload.bin", payload()), ("src/script", SCRIPT.to_vec())] {
        let path = dir.write(name, data);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let file = fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(12_345))
            .unwrap();
    }
}

/// Builds the archive for [`LIST`] in `dir` as `out.cpio`.
fn build(dir: &TempDir) -> Vec<u8> {
    setup(dir);
    run(mkinitramfs(dir.path()).env("SRC", dir.path()).args([
        "-o",
        "out.cpio",
        "-t",
        &TS.to_string(),
        "list",
    ]))
    .ok();
    fs::read(dir.join("out.cpio")).unwrap()
}

#[test]
fn matches_the_kernels_gen_init_cpio() {
    let data = data_dir();
    let expected = fs::read(data.join("kernel.cpio")).unwrap();
    let dir = TempDir::new();
    // Relative locations through -C, from another directory.
    run(mkinitramfs(dir.path())
        .env("FIXTURE_DIR", &data)
        .args(["-t", "1700000000", "-o", "out.cpio", "-C"])
        .arg(&data)
        .arg(data.join("kernel.list")))
    .ok();
    assert!(fs::read(dir.join("out.cpio")).unwrap() == expected);
    // Relative locations from the current directory, to stdout.
    let out =
        run(mkinitramfs(&data)
            .env("FIXTURE_DIR", ".")
            .args(["-t", "1700000000", "kernel.list"]))
        .ok();
    assert!(out.stdout == expected);
}

#[test]
fn records_are_newc_as_the_kernel_reads_it() {
    let dir = TempDir::new();
    let records = read_newc(&build(&dir));
    let summary: Vec<(u32, u32, u32, &str)> = records
        .iter()
        .map(|r| (r.ino, r.mode, r.nlink, r.name.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (721, 0o040755, 2, "dev"),
            (722, 0o020600, 1, "dev/console"),
            (723, 0o060660, 1, "dev/loop0"),
            (724, 0o040755, 2, "bin"),
            (725, 0o104755, 1, "bin/payload"),
            (726, 0o100750, 3, "bin/a"),
            (726, 0o100750, 3, "bin/b"),
            (726, 0o100750, 3, "bin/c"),
            (727, 0o120777, 1, "bin/sh"),
            (728, 0o120777, 1, "abs"),
            (729, 0o040755, 2, "run"),
            (730, 0o010620, 2, "run/fifo"),
            (731, 0o140600, 2, "run/sock"),
            (732, 0o041777, 2, "tmp"),
            (0, 0, 1, "TRAILER!!!"),
        ]
    );
    let (entries, trailer) = records.split_at(records.len() - 1);
    for r in entries {
        assert_eq!(r.mtime, TS, "{}: the fixed mtime, not the source's", r.name);
        assert_eq!((r.dev_major, r.dev_minor), (3, 1), "{}", r.name);
        assert_eq!(r.check, 0, "{}", r.name);
    }
    assert_eq!(trailer[0].mtime, 0);
    let by_name = |name: &str| entries.iter().find(|r| r.name == name).unwrap();
    let console = by_name("dev/console");
    assert_eq!((console.rdev_major, console.rdev_minor), (5, 1));
    let loop0 = by_name("dev/loop0");
    assert_eq!((loop0.rdev_major, loop0.rdev_minor, loop0.gid), (7, 0, 6));
    assert_eq!(by_name("bin/payload").body, payload());
    // Hard links: the data rides on the last name only.
    assert!(by_name("bin/a").body.is_empty());
    assert!(by_name("bin/b").body.is_empty());
    assert_eq!(by_name("bin/c").body, SCRIPT);
    assert_eq!((by_name("bin/a").uid, by_name("bin/a").gid), (1000, 100));
    // The kernel's tool keeps the target's NUL in the body.
    assert_eq!(by_name("bin/sh").body, b"a\0");
    assert_eq!(by_name("abs").body, b"/bin/payload\0");
}

#[test]
fn gnu_cpio_lists_every_entry() {
    let dir = TempDir::new();
    build(&dir);
    assert_eq!(
        cpio_listing(&dir.join("out.cpio")),
        [
            "drwxr-xr-x 2 0 0 0 dev",
            "crw------- 1 0 0 5, 1 dev/console",
            "brw-rw---- 1 0 6 7, 0 dev/loop0",
            "drwxr-xr-x 2 0 0 0 bin",
            "-rwsr-xr-x 1 0 0 1001 bin/payload",
            "-rwxr-x--- 3 1000 100 0 bin/a",
            "-rwxr-x--- 3 1000 100 0 bin/b",
            "-rwxr-x--- 3 1000 100 18 bin/c",
            "lrwxrwxrwx 1 0 0 2 bin/sh -> a",
            "lrwxrwxrwx 1 0 0 13 abs -> /bin/payload",
            "drwxr-xr-x 2 0 0 0 run",
            "prw--w---- 2 0 0 0 run/fifo",
            "srw------- 2 0 0 0 run/sock",
            "drwxrwxrwt 2 0 0 0 tmp",
        ]
    );
}

#[test]
fn gnu_cpio_extracts_what_the_list_says() {
    let dir = TempDir::new();
    build(&dir);
    let root = dir.join("root");
    // Device nodes need privilege to extract; the listing covers them.
    cpio_extract(&dir.join("out.cpio"), &root, "dev/*");
    let meta = |name: &str| fs::symlink_metadata(root.join(name)).unwrap();
    let mode = |name: &str| meta(name).mode() & 0o7777;

    assert_eq!(fs::read(root.join("bin/payload")).unwrap(), payload());
    assert_eq!(mode("bin/payload"), 0o4755);
    assert_eq!(meta("bin/payload").mtime(), i64::from(TS));

    let a = meta("bin/a");
    assert_eq!(a.nlink(), 3);
    for link in ["bin/b", "bin/c"] {
        assert_eq!(meta(link).ino(), a.ino(), "{link} is a hard link of bin/a");
    }
    assert_eq!(fs::read(root.join("bin/a")).unwrap(), SCRIPT);
    assert_eq!(mode("bin/a"), 0o750);
    if running_as_root(&dir) {
        assert_eq!((a.uid(), a.gid()), (1000, 100));
    }

    assert_eq!(fs::read_link(root.join("bin/sh")).unwrap().as_os_str(), "a");
    assert_eq!(
        fs::read_link(root.join("abs")).unwrap().as_os_str(),
        "/bin/payload"
    );
    assert!(meta("run/fifo").file_type().is_fifo());
    assert_eq!(mode("run/fifo"), 0o620);
    assert!(meta("run/sock").file_type().is_socket());
    assert!(meta("tmp").is_dir());
    assert_eq!(mode("tmp"), 0o1777);
    assert!(meta("dev").is_dir());
}

#[test]
fn list_on_stdin_archive_on_stdout() {
    let dir = TempDir::new();
    let list = b"dir /etc 755 0 0\nslink /etc/mtab /proc/mounts 777 0 0\n";
    let out = run_with_input(mkinitramfs(dir.path()).args(["-t", "5", "-"]), list).ok();
    let names: Vec<String> = read_newc(&out.stdout).into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["etc", "etc/mtab", "TRAILER!!!"]);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert_eq!(dir.entries(), Vec::<String>::new(), "no file written");
}

#[test]
fn relative_locations_resolve_against_c_dir() {
    let dir = TempDir::new();
    dir.write("here/data", b"from cwd");
    dir.write("there/data", b"from -C");
    let absolute = dir.write("abs", b"absolute");
    let list = format!(
        "file /a data 644 0 0\nfile /b {} 644 0 0\n",
        absolute.display()
    );
    dir.write("list", &list);
    let body = |args: &[&str]| {
        let out = run(mkinitramfs(&dir.join("here")).args(args)).ok();
        let records = read_newc(&out.stdout);
        (records[0].body.clone(), records[1].body.clone())
    };
    assert_eq!(
        body(&["../list"]),
        (b"from cwd".to_vec(), b"absolute".to_vec())
    );
    assert_eq!(
        body(&["-C", "../there", "../list"]),
        (b"from -C".to_vec(), b"absolute".to_vec())
    );
}

#[test]
fn help_and_version() {
    let dir = TempDir::new();
    let help = run_in(dir.path(), &["--help"]).ok();
    let help = String::from_utf8(help.stdout).unwrap();
    for needle in [
        "Usage: mkinitramfs [-o FILE] [-t TIMESTAMP] [-C DIR] LIST",
        "nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>",
        "SOURCE_DATE_EPOCH",
        "-C DIR",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}");
    }
    let version = run_in(dir.path(), &["-V"]).ok();
    let version = String::from_utf8(version.stdout).unwrap();
    assert!(version.starts_with("mkinitramfs "), "{version}");
}
