//! Macros shared by every module (declared first in the crate root).

/// A byte string only startup and the exit paths use, kept with the cold
/// code (link.ld gathers `.text.unlikely.*`), so the running daemon's
/// resident pages do not hold it.
macro_rules! cold {
    ($s:expr) => {{
        const BYTES: &[u8] = $s;
        #[unsafe(link_section = ".text.unlikely.strings")]
        static TEXT: [u8; BYTES.len()] = match BYTES.first_chunk() {
            Some(bytes) => *bytes,
            None => unreachable!(),
        };
        &TEXT
    }};
}
