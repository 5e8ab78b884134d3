//! Records the build time and git revision for `--version` and the banner.
//! SOURCE_DATE_EPOCH, when set, fixes the timestamp for reproducible builds.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn main() {
    let ts: i64 = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    let (y, mo, d) = civil(ts.div_euclid(86_400));
    let s = ts.rem_euclid(86_400);
    let date = format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    let rev = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    println!("cargo:rustc-env=DP_BUILD_TS={ts}");
    println!("cargo:rustc-env=DP_BUILD_DATE={date}");
    println!("cargo:rustc-env=DP_GIT_REV={rev}");
    // `--version` notes a dirty tree after the revision, the banner with a
    // `+` after its first 8 characters.
    println!(
        "cargo:rustc-env=DP_GIT_DIRTY_NOTE={}",
        if dirty { " (dirty)" } else { "" }
    );
    println!(
        "cargo:rustc-env=DP_GIT_SHORT={}{}",
        rev.get(..8).unwrap_or(&rev),
        if dirty { "+" } else { "" }
    );
    // The daemon's own additions to the linker script (see link.ld). They
    // go to every link of the bin target, its test harness too, and drop
    // the unwind tables a test harness needs to report a failing test: the
    // bin has `test = false`, and the unit tests are the `unit` test target
    // (tests/unit.rs), which this does not reach. The
    // argument's form depends on the linker, not the target: an ld-style
    // linker (rust-lld, ld.lld, ld) takes -T itself, a compiler driver (cc,
    // the default) needs it passed on with -Wl.
    let script = format!("{}/link.ld", env!("CARGO_MANIFEST_DIR"));
    let linker = std::env::var("RUSTC_LINKER").unwrap_or_default();
    let linker_name = std::path::Path::new(&linker)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if linker_name == "rust-lld" || linker_name == "ld" || linker_name.ends_with("ld.lld") {
        println!("cargo:rustc-link-arg-bins=-T{script}");
    } else {
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{script}");
    }
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
}
