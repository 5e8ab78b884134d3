//! The texts of errno values, as the protocol quotes them in error events
//! and log records.

use crate::sys::Errno;

/// The errno texts the protocol quotes, worded as glibc's strerror (musl
/// words some differently), keyed by rustix's per-architecture errno
/// values (MIPS numbers many of them differently): the values, and the
/// texts in the same order, each ended by a NUL (one string rather than a
/// table of pointers).
macro_rules! errno_texts {
    ($($name:ident => $text:literal,)*) => {
        const ERRNO_CODES: &[Errno] = &[$(Errno::$name),*];
        const ERRNO_TEXTS: &[u8] = concat!($($text, "\0"),*).as_bytes();
    };
}

errno_texts! {
    PERM => "Operation not permitted",
    NOENT => "No such file or directory",
    SRCH => "No such process",
    INTR => "Interrupted system call",
    IO => "Input/output error",
    NXIO => "No such device or address",
    TOOBIG => "Argument list too long",
    NOEXEC => "Exec format error",
    BADF => "Bad file descriptor",
    CHILD => "No child processes",
    AGAIN => "Resource temporarily unavailable",
    NOMEM => "Cannot allocate memory",
    ACCESS => "Permission denied",
    FAULT => "Bad address",
    NOTBLK => "Block device required",
    BUSY => "Device or resource busy",
    EXIST => "File exists",
    XDEV => "Invalid cross-device link",
    NODEV => "No such device",
    NOTDIR => "Not a directory",
    ISDIR => "Is a directory",
    INVAL => "Invalid argument",
    NFILE => "Too many open files in system",
    MFILE => "Too many open files",
    NOTTY => "Inappropriate ioctl for device",
    TXTBSY => "Text file busy",
    FBIG => "File too large",
    NOSPC => "No space left on device",
    SPIPE => "Illegal seek",
    ROFS => "Read-only file system",
    MLINK => "Too many links",
    PIPE => "Broken pipe",
    DOM => "Numerical argument out of domain",
    RANGE => "Numerical result out of range",
    DEADLK => "Resource deadlock avoided",
    NAMETOOLONG => "File name too long",
    NOLCK => "No locks available",
    NOSYS => "Function not implemented",
    NOTEMPTY => "Directory not empty",
    LOOP => "Too many levels of symbolic links",
    NOMSG => "No message of desired type",
    IDRM => "Identifier removed",
    NODATA => "No data available",
    TIME => "Timer expired",
    PROTO => "Protocol error",
    BADMSG => "Bad message",
    OVERFLOW => "Value too large for defined data type",
    ILSEQ => "Invalid or incomplete multibyte or wide character",
    NOTSOCK => "Socket operation on non-socket",
    DESTADDRREQ => "Destination address required",
    MSGSIZE => "Message too long",
    PROTOTYPE => "Protocol wrong type for socket",
    NOPROTOOPT => "Protocol not available",
    PROTONOSUPPORT => "Protocol not supported",
    SOCKTNOSUPPORT => "Socket type not supported",
    OPNOTSUPP => "Operation not supported",
    PFNOSUPPORT => "Protocol family not supported",
    AFNOSUPPORT => "Address family not supported by protocol",
    ADDRINUSE => "Address already in use",
    ADDRNOTAVAIL => "Cannot assign requested address",
    NETDOWN => "Network is down",
    NETUNREACH => "Network is unreachable",
    NETRESET => "Network dropped connection on reset",
    CONNABORTED => "Software caused connection abort",
    CONNRESET => "Connection reset by peer",
    NOBUFS => "No buffer space available",
    ISCONN => "Transport endpoint is already connected",
    NOTCONN => "Transport endpoint is not connected",
    SHUTDOWN => "Cannot send after transport endpoint shutdown",
    TIMEDOUT => "Connection timed out",
    CONNREFUSED => "Connection refused",
    HOSTDOWN => "Host is down",
    HOSTUNREACH => "No route to host",
    ALREADY => "Operation already in progress",
    INPROGRESS => "Operation now in progress",
    STALE => "Stale file handle",
    DQUOT => "Disk quota exceeded",
    CANCELED => "Operation canceled",
}

/// The text of an errno, worded as glibc's strerror(3).
pub fn strerror(e: Errno) -> &'static [u8] {
    ERRNO_CODES
        .iter()
        .position(|&k| k == e)
        .and_then(|i| crate::proto::split(ERRNO_TEXTS, 0).nth(i))
        .unwrap_or(b"Unknown error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_texts() {
        assert_eq!(strerror(Errno::PERM), b"Operation not permitted");
        assert_eq!(strerror(Errno::NOENT), b"No such file or directory");
        assert_eq!(
            strerror(Errno::ILSEQ),
            b"Invalid or incomplete multibyte or wide character"
        );
        assert_eq!(strerror(Errno::CANCELED), b"Operation canceled");
        assert_eq!(strerror(Errno::from_raw_os_error(41)), b"Unknown error");
    }
}
