//! Fixed-size names for services and descriptors.

use crate::proto::NAME_MAX;

/// A service or descriptor name of at most 31 bytes, stored inline: the
/// bytes, zeros after them, and the length in the last byte.
#[derive(Clone, Copy, Eq)]
pub struct Name {
    raw: [u8; NAME_MAX + 1],
}

zeroable!(Name { raw });

/// Four word compares (the derived compare calls musl's byte-loop memcmp,
/// which was an eighth of a lookup by name).
impl PartialEq for Name {
    #[inline(always)]
    fn eq(&self, other: &Name) -> bool {
        // Word by word: comparing the arrays would call memcmp again.
        let (a, b) = (self.words(), other.words());
        a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3]
    }
}

impl Name {
    /// The empty name (marks a free slot).
    pub const EMPTY: Name = Name {
        raw: [0; NAME_MAX + 1],
    };

    /// A name from bytes the caller validated; longer input is cut.
    pub fn new(b: &[u8]) -> Name {
        let mut n = Name::EMPTY;
        let l = b.len().min(NAME_MAX);
        crate::fmt::copy(&mut n.raw[..l], &b[..l]);
        n.raw[NAME_MAX] = l as u8;
        n
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw[..self.len()]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.raw[NAME_MAX]).min(NAME_MAX)
    }

    /// The padded bytes and length as big-endian words, which compare as
    /// the names do: a name holds no NUL and zeros follow it, so the padded
    /// bytes sort as the names do, and where they are equal so are the
    /// names (and their lengths).
    #[inline(always)]
    pub fn words(&self) -> [u64; 4] {
        let r = &self.raw;
        let w = |k: usize| {
            u64::from_be_bytes([
                r[k],
                r[k + 1],
                r[k + 2],
                r[k + 3],
                r[k + 4],
                r[k + 5],
                r[k + 6],
                r[k + 7],
            ])
        };
        [w(0), w(8), w(16), w(24)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_byte_order() {
        let names: [&[u8]; 9] = [
            b"a",
            b"a-b",
            b"a.",
            b"aa",
            b"ab",
            b"abcdefgh",
            b"abcdefgh0",
            b"abcdefghijklmnopqrstuvwxyz01234",
            b"b",
        ];
        for x in names {
            for y in names {
                let order = Name::new(x).words().cmp(&Name::new(y).words());
                assert_eq!(order, x.cmp(y), "{x:?} {y:?}");
            }
        }
        assert_eq!(Name::new(b"abc").len(), 3);
        assert_eq!(Name::EMPTY.as_bytes(), b"");
    }
}
