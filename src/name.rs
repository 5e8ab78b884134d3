//! Fixed-size names for services and descriptors.

use crate::proto::NAME_MAX;

/// A service or descriptor name of at most 31 bytes, stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    len: u8,
    bytes: [u8; NAME_MAX],
}

// SAFETY: integers and a byte array.
unsafe impl crate::sys::Zeroable for Name {}

impl Name {
    /// The empty name (marks a free slot).
    pub const EMPTY: Name = Name {
        len: 0,
        bytes: [0; NAME_MAX],
    };

    /// A name from bytes the caller validated; longer input is cut.
    pub fn new(b: &[u8]) -> Name {
        let mut n = Name::EMPTY;
        let l = b.len().min(NAME_MAX);
        n.bytes[..l].copy_from_slice(&b[..l]);
        n.len = l as u8;
        n
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }
}
