//! The version texts the daemon's options module expects, fixed: the fuzz
//! target never prints them.

fn main() {
    for (k, v) in [
        ("DP_BUILD_TS", "0"),
        ("DP_BUILD_DATE", "1970-01-01 00:00:00 UTC"),
        ("DP_GIT_REV", "fuzz"),
        ("DP_GIT_DIRTY_NOTE", ""),
        ("DP_GIT_SHORT", "fuzz"),
    ] {
        println!("cargo:rustc-env={k}={v}");
    }
}
