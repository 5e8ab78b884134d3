//! Macros shared by every module (declared early in the crate root; the
//! syscall layer's own, `cold!` and `zeroable!`, are in `sys::memory`).

/// A keyword table written once, one entry a line: `$names`, the words
/// space-separated (one string rather than a table of pointers), and
/// `$values`, what each word stands for, in the same order.
macro_rules! keyword_table {
    ($names:ident, $values:ident: [$t:ty] { $($word:literal => $value:expr,)* }) => {
        const $names: &[u8] = {
            const ALL: &str = concat!($($word, " "),*);
            ALL.as_bytes().split_at(ALL.len() - 1).0
        };
        const $values: [$t; [$($word),*].len()] = [$($value),*];
    };
}
