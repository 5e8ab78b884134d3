//! Where a `file` entry's data comes from: `${VAR}` expansion of the list's
//! `<location>` field, then resolution of a relative path.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Replaces each `${NAME}` in `location` with `lookup(NAME)`, or with nothing
/// when `lookup` has no value, as the kernel's `gen_init_cpio` does. An
/// unterminated `${` and the rest after it stay as written. Replacement text is
/// not scanned again, so a value holding `${...}` cannot recurse forever.
pub fn expand(location: &[u8], lookup: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut expanded = Vec::with_capacity(location.len());
    let mut rest = location;
    while let Some(start) = rest.windows(2).position(|w| w == b"${") {
        let after = &rest[start + 2..];
        let Some(end) = after.iter().position(|&b| b == b'}') else {
            break;
        };
        expanded.extend_from_slice(&rest[..start]);
        expanded.extend(lookup(&after[..end]).unwrap_or_default());
        rest = &after[end + 1..];
    }
    expanded.extend_from_slice(rest);
    expanded
}

/// Looks `name` up in the process environment.
pub fn from_environment(name: &[u8]) -> Option<Vec<u8>> {
    if name.is_empty() || name.contains(&b'=') {
        return None;
    }
    std::env::var_os(OsStr::from_bytes(name)).map(|v| v.as_bytes().to_vec())
}

/// The path to open for an expanded location: a relative one is taken
/// against `base` when given (`-C`), else against the current directory.
pub fn resolve(expanded: &[u8], base: Option<&Path>) -> PathBuf {
    let path = Path::new(OsStr::from_bytes(expanded));
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &[u8]) -> Option<Vec<u8>> {
        match name {
            b"BIN" => Some(b"/out/bin".to_vec()),
            b"EMPTY" => Some(Vec::new()),
            b"LOOP" => Some(b"${LOOP}".to_vec()),
            _ => None,
        }
    }

    fn expanded(location: &str) -> String {
        String::from_utf8(expand(location.as_bytes(), env)).unwrap()
    }

    #[test]
    fn expansion() {
        assert_eq!(expanded("plain/path"), "plain/path");
        assert_eq!(expanded("${BIN}/init"), "/out/bin/init");
        assert_eq!(expanded("a${BIN}b${BIN}c"), "a/out/binb/out/binc");
        assert_eq!(expanded("x${EMPTY}y"), "xy");
        assert_eq!(expanded("x${UNSET}y"), "xy", "unset expands to nothing");
        assert_eq!(expanded("x${}y"), "xy");
        assert_eq!(
            expanded("$BIN/${BIN"),
            "$BIN/${BIN",
            "only ${{...}} expands"
        );
        assert_eq!(expanded("${BIN}${BIN"), "/out/bin${BIN");
        assert_eq!(
            expanded("${LOOP}"),
            "${LOOP}",
            "values are not expanded again"
        );
    }

    #[test]
    fn environment_lookup() {
        assert_eq!(from_environment(b""), None);
        assert_eq!(from_environment(b"A=B"), None);
        let path = std::env::var_os("PATH").map(|p| p.as_bytes().to_vec());
        assert_eq!(from_environment(b"PATH"), path);
    }

    #[test]
    fn resolution() {
        let base = Path::new("/lists");
        assert_eq!(resolve(b"/abs/f", Some(base)), Path::new("/abs/f"));
        assert_eq!(resolve(b"rel/f", Some(base)), Path::new("/lists/rel/f"));
        assert_eq!(resolve(b"rel/f", None), Path::new("rel/f"));
    }
}
