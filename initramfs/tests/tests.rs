//! Integration tests: the real mkinitramfs binary on temporary lists, its
//! archives checked by an independent newc reader, by GNU cpio and against
//! an archive written by the kernel's own `usr/gen_init_cpio`.

mod util;

mod archive;
mod errors;
mod reproducible;
