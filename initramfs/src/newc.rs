//! The `newc` cpio format the kernel unpacks as an initramfs
//! (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte
//! ASCII header, the NUL-terminated name and the body, each padded to 4 bytes,
//! closed by a `TRAILER!!!` entry and padded to 512 bytes.

use std::io::{self, Write};

/// Magic of a `newc` header without checksums.
pub const MAGIC: &[u8; 6] = b"070701";
/// Length of an encoded header.
pub const HEADER_LEN: usize = 110;
/// Name of the entry that ends an archive.
pub const TRAILER: &[u8] = b"TRAILER!!!";
/// The archive's length is padded to a multiple of this.
pub const BLOCK: u64 = 512;

/// File type bits of `mode`, as in `<sys/stat.h>`.
pub const S_IFSOCK: u32 = 0o140000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Block device.
pub const S_IFBLK: u32 = 0o060000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// Named pipe.
pub const S_IFIFO: u32 = 0o010000;

/// The thirteen numeric fields of a `newc` header, in file order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header {
    /// Inode number; entries sharing one are hard links.
    pub ino: u32,
    /// File type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count.
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Length of the body.
    pub filesize: u32,
    /// Major number of the device holding the file.
    pub dev_major: u32,
    /// Minor number of the device holding the file.
    pub dev_minor: u32,
    /// Major number of a device node.
    pub rdev_major: u32,
    /// Minor number of a device node.
    pub rdev_minor: u32,
    /// Length of the name including its NUL.
    pub namesize: u32,
    /// Checksum; always 0 with [`MAGIC`].
    pub check: u32,
}

impl Header {
    /// Encodes the header: the magic, then each field as 8 upper-case hex
    /// digits, as the kernel's `gen_init_cpio` writes them.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let fields = [
            self.ino,
            self.mode,
            self.uid,
            self.gid,
            self.nlink,
            self.mtime,
            self.filesize,
            self.dev_major,
            self.dev_minor,
            self.rdev_major,
            self.rdev_minor,
            self.namesize,
            self.check,
        ];
        let mut out = [0u8; HEADER_LEN];
        out[..MAGIC.len()].copy_from_slice(MAGIC);
        for (i, value) in fields.into_iter().enumerate() {
            let field = &mut out[MAGIC.len() + 8 * i..][..8];
            for (j, digit) in field.iter_mut().enumerate() {
                *digit = HEX[(value >> (28 - 4 * j) & 0xf) as usize];
            }
        }
        out
    }
}

/// Bytes of padding that bring `offset` to a multiple of `align`.
pub fn padding(offset: u64, align: u64) -> u64 {
    (align - offset % align) % align
}

/// Writes entries to `out`, keeping the offset the padding depends on.
pub struct Archive<W: Write> {
    out: W,
    offset: u64,
}

impl<W: Write> Archive<W> {
    /// Starts an archive at offset 0 of `out`.
    pub fn new(out: W) -> Self {
        Self { out, offset: 0 }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self, align: u64) -> io::Result<()> {
        const ZEROS: [u8; BLOCK as usize] = [0; BLOCK as usize];
        let len = padding(self.offset, align) as usize;
        self.write(&ZEROS[..len])
    }

    /// Appends one entry. `namesize` and `filesize` are taken from `name` and
    /// `body`, whatever `header` holds; `name` must not contain NUL.
    pub fn append(&mut self, header: Header, name: &[u8], body: &[u8]) -> io::Result<()> {
        let too_long = |what| io::Error::new(io::ErrorKind::InvalidInput, what);
        let header = Header {
            namesize: u32::try_from(name.len() + 1).map_err(|_| too_long("name too long"))?,
            filesize: u32::try_from(body.len()).map_err(|_| too_long("body too long"))?,
            ..header
        };
        self.write(&header.encode())?;
        self.write(name)?;
        self.write(&[0])?;
        self.pad(4)?;
        self.write(body)?;
        self.pad(4)
    }

    /// Appends the trailer, pads the archive to [`BLOCK`] bytes and returns
    /// the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let trailer = Header {
            nlink: 1,
            ..Header::default()
        };
        self.append(trailer, TRAILER, &[])?;
        self.pad(BLOCK)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_encoding() {
        let header = Header {
            ino: 721,
            mode: S_IFCHR | 0o600,
            uid: 0,
            gid: 5,
            nlink: 1,
            mtime: 1_700_000_000,
            filesize: 0,
            dev_major: 3,
            dev_minor: 1,
            rdev_major: 5,
            rdev_minor: 1,
            namesize: 12,
            check: 0xdead_beef,
        };
        let expected = concat!(
            "070701", "000002D1", "00002180", "00000000", "00000005", "00000001", "6553F100",
            "00000000", "00000003", "00000001", "00000005", "00000001", "0000000C", "DEADBEEF",
        );
        assert_eq!(expected.len(), HEADER_LEN);
        assert_eq!(header.encode(), expected.as_bytes());
        let max = Header {
            ino: u32::MAX,
            ..Header::default()
        };
        assert_eq!(&max.encode()[6..14], b"FFFFFFFF");
    }

    #[test]
    fn padding_to_alignment() {
        assert_eq!(padding(0, 4), 0);
        assert_eq!(padding(1, 4), 3);
        assert_eq!(padding(114, 4), 2);
        assert_eq!(padding(116, 4), 0);
        assert_eq!(padding(1, BLOCK), 511);
        assert_eq!(padding(1024, BLOCK), 0);
    }

    #[test]
    fn entry_layout() {
        let mut archive = Archive::new(Vec::new());
        // 110 + 2 (name "a" and NUL) pads to 112, the 5-byte body to 120.
        archive.append(Header::default(), b"a", b"hello").unwrap();
        // 110 + 4 pads to 116 from 120: the next header starts at 120.
        archive.append(Header::default(), b"abc", b"").unwrap();
        let bytes = archive.finish().unwrap();
        assert_eq!(&bytes[..6], MAGIC);
        assert_eq!(&bytes[94..102], b"00000002", "namesize counts the NUL");
        assert_eq!(&bytes[54..62], b"00000005", "filesize from the body");
        assert_eq!(&bytes[110..112], b"a\0");
        assert_eq!(&bytes[112..120], b"hello\0\0\0");
        assert_eq!(&bytes[120..126], MAGIC);
        assert_eq!(&bytes[230..236], b"abc\0\0\0");
        let trailer = &bytes[236..];
        assert_eq!(&trailer[..6], MAGIC);
        assert_eq!(&trailer[38..46], b"00000001", "the trailer's nlink");
        assert_eq!(&trailer[110..121], b"TRAILER!!!\0");
        assert_eq!(bytes.len(), 512);
        assert!(bytes[236 + 121..].iter().all(|&b| b == 0));
    }

    #[test]
    fn finish_pads_to_whole_blocks() {
        let mut archive = Archive::new(Vec::new());
        archive
            .append(Header::default(), b"big", &[7; 600])
            .unwrap();
        let bytes = archive.finish().unwrap();
        assert_eq!(bytes.len(), 1024);
    }
}
