//! The same list and source contents give the same bytes, whatever the
//! sources' metadata, and every mtime is the fixed one.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use crate::util::*;

const LIST: &str = "\
dir /bin 755 0 0
file /bin/tool tool 755 0 0 /bin/alias
nod /dev-console 600 0 0 c 5 1
slink /sh bin/tool 777 0 0
";

fn touch(path: &std::path::Path, secs: u64, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn mtimes(archive: &[u8]) -> Vec<u32> {
    read_newc(archive).iter().map(|r| r.mtime).collect()
}

#[test]
fn two_builds_are_byte_identical() {
    let dir = TempDir::new();
    dir.write("list", LIST);
    let tool = dir.write("tool", b"\x7fELF not really");
    touch(&tool, 1_000, 0o600);
    run_in(dir.path(), &["-o", "first.cpio", "list"]).ok();
    // New metadata on the source, same contents.
    touch(&tool, 2_000_000_000, 0o755);
    run_in(dir.path(), &["-o", "second.cpio", "list"]).ok();
    let first = fs::read(dir.join("first.cpio")).unwrap();
    assert!(first == fs::read(dir.join("second.cpio")).unwrap());
    let out = run_in(dir.path(), &["list"]).ok();
    assert!(out.stdout == first, "stdout and -o give the same bytes");
}

#[test]
fn timestamp_defaults_to_zero_then_source_date_epoch() {
    let dir = TempDir::new();
    dir.write("list", LIST);
    let tool = dir.write("tool", b"x");
    touch(&tool, 1_234, 0o644);

    let plain = run_in(dir.path(), &["list"]).ok();
    assert_eq!(mtimes(&plain.stdout), [0, 0, 0, 0, 0, 0]);

    let epoch = run(mkinitramfs(dir.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("list"))
    .ok();
    let ts = 1_700_000_000;
    assert_eq!(mtimes(&epoch.stdout), [ts, ts, ts, ts, ts, 0]);

    let flag = run(mkinitramfs(dir.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["-t", "4294967295", "list"]))
    .ok();
    let max = u32::MAX;
    assert_eq!(mtimes(&flag.stdout), [max, max, max, max, max, 0]);

    let empty = run(mkinitramfs(dir.path())
        .env("SOURCE_DATE_EPOCH", "")
        .arg("list"))
    .ok();
    assert!(
        empty.stdout == plain.stdout,
        "an empty SOURCE_DATE_EPOCH is unset"
    );
}

#[test]
fn bad_source_date_epoch_is_an_error() {
    let dir = TempDir::new();
    dir.write("list", "dir /a 755 0 0\n");
    let stderr = run(mkinitramfs(dir.path())
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .args(["-o", "out", "list"]))
    .failed(1);
    assert_eq!(
        stderr,
        "mkinitramfs: bad SOURCE_DATE_EPOCH 'yesterday': \
         expected seconds since the epoch, 0..4294967295\n"
    );
    assert_eq!(dir.entries(), ["list"]);
}
