//! Bad lists, sources and outputs: a message naming the list and line, a
//! non-zero exit, and no output file, not even a partial one.

use std::fs;

use crate::util::*;

/// A good line, a comment, then the line under test: errors are on line 3.
fn list_with(bad: &str) -> String {
    format!("dir /ok 755 0 0\n# comment\n{bad}\nfile /later src.txt 644 0 0\n")
}

#[test]
fn bad_lines_name_the_list_and_line() {
    let cases = [
        ("fil /x src.txt 644 0 0", "unknown entry type 'fil'"),
        ("dir /x 755 0", "'dir' takes 4 fields, found 3"),
        ("dir /x 755 0 0 0", "'dir' takes 4 fields, found 5"),
        ("file /x 644 0 0", "'file' takes at least 5 fields, found 4"),
        ("nod /x 600 0 0 c 5", "'nod' takes 7 fields, found 6"),
        ("slink /x 777 0 0", "'slink' takes 5 fields, found 4"),
        (
            "file /x missing.txt 644 0 0",
            "cannot read source file 'missing.txt'",
        ),
        (
            "file /x ${NO_SUCH_VAR} 644 0 0",
            "cannot read source file '' (from '${NO_SUCH_VAR}')",
        ),
        ("file /x . 644 0 0", "source '.' is not a regular file"),
        ("dir /x 0x755 0 0", "bad mode '0x755'"),
        ("dir /x 755 0", "'dir' takes 4 fields"),
        ("pipe /x 8 0 0", "bad mode '8'"),
        ("sock /x 17777 0 0", "bad mode '17777'"),
        ("nod /x 600 0 0 x 5 1", "bad device type 'x'"),
        ("nod /x 600 0 0 c 4096 1", "bad major number '4096'"),
        ("nod /x 600 0 0 b 8 minor", "bad minor number 'minor'"),
        ("dir /x 755 -1 0", "bad uid '-1'"),
        ("dir /x 755 0 root", "bad gid 'root'"),
        ("dir /ok 700 0 0", "duplicate name 'ok' (first on line 1)"),
        (
            "file /y src.txt 644 0 0 /ok",
            "duplicate name 'ok' (first on line 1)",
        ),
        ("dir / 755 0 0", "empty name"),
    ];
    for (bad, message) in cases {
        let dir = TempDir::new();
        let list = dir.write("list", list_with(bad));
        dir.write("src.txt", b"data");
        let stderr = run(mkinitramfs(dir.path())
            .env_remove("NO_SUCH_VAR")
            .arg("-o")
            .arg(dir.join("out.cpio"))
            .arg(&list))
        .failed(1);
        let expected = format!("mkinitramfs: {}:3: {message}", list.display());
        assert!(
            stderr.starts_with(&expected),
            "{bad:?}\n  got: {stderr}  want: {expected}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_eq!(dir.entries(), ["list", "src.txt"], "{bad:?} left output");
    }
}

#[test]
fn every_bad_line_is_reported_in_one_run() {
    let dir = TempDir::new();
    dir.write(
        "list",
        "dir /a 755 0 0\nbogus /b\ndir /c 9 0 0\n\ndir /a 755 0 0\n",
    );
    let stderr = run_in(dir.path(), &["-o", "out.cpio", "list"]).failed(1);
    assert_eq!(
        stderr,
        "mkinitramfs: list:2: unknown entry type 'bogus' \
         (expected file, dir, nod, slink, pipe or sock)\n\
         mkinitramfs: list:3: bad mode '9': expected octal permission bits 0..7777\n\
         mkinitramfs: list:5: duplicate name 'a' (first on line 1)\n"
    );
    assert_eq!(dir.entries(), ["list"]);
}

#[test]
fn list_on_stdin_is_named_in_errors() {
    let dir = TempDir::new();
    let stderr = run_with_input(
        mkinitramfs(dir.path()).arg("-"),
        b"\n\nnod /c 600 0 0 c 5\n",
    )
    .failed(1);
    assert!(
        stderr.starts_with("mkinitramfs: <stdin>:3: 'nod' takes 7 fields"),
        "{stderr}"
    );
}

#[test]
fn failed_build_keeps_the_previous_output() {
    let dir = TempDir::new();
    dir.write("out.cpio", b"previous image");
    // A good entry is written before the missing source is found.
    dir.write("list", "dir /a 755 0 0\nfile /a/b gone.txt 644 0 0\n");
    let stderr = run_in(dir.path(), &["-o", "out.cpio", "list"]).failed(1);
    assert!(
        stderr.starts_with("mkinitramfs: list:2: cannot read source file 'gone.txt': "),
        "{stderr}"
    );
    assert_eq!(fs::read(dir.join("out.cpio")).unwrap(), b"previous image");
    assert_eq!(
        dir.entries(),
        ["list", "out.cpio"],
        "no temporary file left"
    );
}

#[test]
fn failed_rename_leaves_no_temporary_file() {
    let dir = TempDir::new();
    dir.write("list", "dir /a 755 0 0\n");
    fs::create_dir(dir.join("out.cpio")).unwrap();
    let stderr = run_in(dir.path(), &["-o", "out.cpio", "list"]).failed(1);
    assert!(
        stderr.starts_with("mkinitramfs: writing 'out.cpio': "),
        "{stderr}"
    );
    assert_eq!(dir.entries(), ["list", "out.cpio"]);
}

#[test]
fn unwritable_output_directory() {
    let dir = TempDir::new();
    dir.write("list", "dir /a 755 0 0\n");
    let stderr = run_in(dir.path(), &["-o", "no/such/dir/out.cpio", "list"]).failed(1);
    assert!(
        stderr.starts_with("mkinitramfs: cannot create 'no/such/dir/out.cpio': "),
        "{stderr}"
    );
    assert_eq!(dir.entries(), ["list"]);
}

#[test]
fn missing_list_file() {
    let dir = TempDir::new();
    let stderr = run_in(dir.path(), &["-o", "out.cpio", "nolist"]).failed(1);
    assert!(
        stderr.starts_with("mkinitramfs: cannot read list 'nolist': "),
        "{stderr}"
    );
    assert_eq!(dir.entries(), Vec::<String>::new());
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new();
    for (args, message) in [
        (&[][..], "no list file given"),
        (&["-x", "list"][..], "unknown option '-x'"),
        (&["-t", "soon", "list"][..], "bad timestamp 'soon'"),
        (
            &["-t", "4294967296", "list"][..],
            "bad timestamp '4294967296'",
        ),
        (&["a", "b"][..], "one list file only, extra 'b'"),
        (&["list", "-o"][..], "option -o needs a value"),
    ] {
        let stderr = run_in(dir.path(), args).failed(2);
        assert!(
            stderr.starts_with(&format!("mkinitramfs: {message}")),
            "{args:?}: {stderr}"
        );
        assert!(stderr.ends_with("Try 'mkinitramfs --help'.\n"), "{stderr}");
    }
    assert_eq!(dir.entries(), Vec::<String>::new());
}
