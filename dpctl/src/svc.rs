//! What dpctl knows of one service: the last `service.state`,
//! `service.tags` and `service.auto_up` lines about it (from a statedump,
//! then from the events that follow), and the tags of the stop convention.
//!
//! The convention (docs/controllers.md), carried by service.tags:
//! - `down`: the service is held down; controllers never start it.
//! - `auto_up=TRIGGERS`: the daemon's auto_up triggers (comma-separated),
//!   switched off while the service is held down, given back by start.
//! - `restarts=N` and `last=exit:CODE` / `last=signal:SIGNAME`: set by a
//!   controller that restarts the service after it died.

/// Iterates the TAB-separated fields of a line.
pub fn fields(line: &[u8]) -> core::slice::Split<'_, u8, impl FnMut(&u8) -> bool> {
    line.split(|&b| b == b'\t')
}

/// Field `i` of a line (0 is the event name).
pub fn field(line: &[u8], i: usize) -> &[u8] {
    fields(line).nth(i).unwrap_or(b"")
}

/// Everything after field `i` (the rest of the line after its i+1-th TAB).
pub fn after(line: &[u8], i: usize) -> &[u8] {
    let mut rest = line;
    for _ in 0..=i {
        match rest.iter().position(|&b| b == b'\t') {
            Some(p) => rest = &rest[p + 1..],
            None => return b"",
        }
    }
    rest
}

/// Is `name` a valid service name (§3.5)?
pub fn valid_name(name: &[u8]) -> bool {
    (1..=31).contains(&name.len())
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// A copy of one protocol line (the daemon writes at most 2048 bytes).
pub struct Line {
    buf: [u8; 2048],
    len: usize,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Line {
        Line {
            buf: [0; 2048],
            len: 0,
        }
    }

    /// Replaces the text (cut at 2048 bytes).
    pub fn set(&mut self, b: &[u8]) {
        self.len = b.len().min(self.buf.len());
        self.buf[..self.len].copy_from_slice(&b[..self.len]);
    }

    /// The text.
    pub fn get(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// One service, as the lines about it tell.
pub struct View<'a> {
    /// The service's name.
    pub name: &'a [u8],
    /// Its last `service.state`, `service.tags` and `service.auto_up`
    /// lines (empty until seen).
    pub state: Line,
    pub tags: Line,
    pub auto_up: Line,
    /// How many `up` lines were seen (a start is complete when it grows).
    pub ups: u32,
}

impl<'a> View<'a> {
    /// Nothing known yet about `name`.
    pub fn new(name: &'a [u8]) -> View<'a> {
        View {
            name,
            state: Line::new(),
            tags: Line::new(),
            auto_up: Line::new(),
            ups: 0,
        }
    }

    /// Takes in a line if it is about this service.
    pub fn apply(&mut self, line: &[u8]) {
        if field(line, 1) != self.name {
            return;
        }
        match field(line, 0) {
            b"service.state" => {
                if field(line, 2) == b"up" {
                    self.ups += 1;
                }
                self.state.set(line)
            }
            b"service.tags" => self.tags.set(line),
            b"service.auto_up" => self.auto_up.set(line),
            _ => {}
        }
    }

    /// Known to the daemon (seen, and not deleted since)?
    pub fn exists(&self) -> bool {
        !matches!(self.state(), b"" | b"deleted")
    }

    /// `down`, `start`, `up`, `deleted`, or empty when unknown.
    pub fn state(&self) -> &[u8] {
        field(self.state.get(), 2)
    }

    /// The PID field of the state line.
    pub fn pid(&self) -> &[u8] {
        field(self.state.get(), 4)
    }

    /// The stored tags (TAB-separated).
    pub fn tag_text(&self) -> &[u8] {
        after(self.tags.get(), 1)
    }

    /// Does it have the tag `tag`?
    pub fn has_tag(&self, tag: &[u8]) -> bool {
        has_tag(self.tag_text(), tag)
    }

    /// The daemon's auto_up triggers (TAB-separated), empty when off.
    pub fn triggers(&self) -> &[u8] {
        match after(self.auto_up.get(), 1) {
            b"-" => b"",
            rest => after(rest, 0),
        }
    }
}

/// Is `tag` one of the TAB-separated `tags`?
pub fn has_tag(tags: &[u8], tag: &[u8]) -> bool {
    fields(tags).any(|t| t == tag)
}

/// The value of the first tag `KEY=VALUE` (`key` includes the `=`).
pub fn tag_value<'t>(tags: &'t [u8], key: &[u8]) -> Option<&'t [u8]> {
    fields(tags).find_map(|t| t.strip_prefix(key))
}

/// Builds a tag list: the tags of `old` that `drop` does not reject, then
/// `add` (each added once, skipped when empty). Returns the length written
/// to `out`, or None if it does not fit.
pub fn edit_tags(
    old: &[u8],
    drop: impl Fn(&[u8]) -> bool,
    add: &[&[&[u8]]],
    out: &mut [u8],
) -> Option<usize> {
    let mut len = 0;
    let mut push = |parts: &[&[u8]], len: &mut usize| -> Option<()> {
        let n: usize = parts.iter().map(|p| p.len()).sum();
        let sep = usize::from(*len > 0);
        if *len + sep + n > out.len() {
            return None;
        }
        if sep == 1 {
            out[*len] = b'\t';
        }
        *len += sep;
        for p in parts {
            out[*len..*len + p.len()].copy_from_slice(p);
            *len += p.len();
        }
        Some(())
    };
    for t in fields(old) {
        if !t.is_empty() && !drop(t) {
            push(&[t], &mut len)?;
        }
    }
    for parts in add {
        if parts.iter().any(|p| !p.is_empty()) {
            push(parts, &mut len)?;
        }
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_follows_lines_about_its_service() {
        let mut v = View::new(b"web");
        v.apply(b"service.state\tweb\tup\t5\t42\t-\t-\t3\t-");
        v.apply(b"service.state\tweb2\tdown\t-\t-\t-\t-\t-\t-");
        v.apply(b"service.tags\tweb\tx\tdown");
        v.apply(b"service.auto_up\tweb\t1\talways\tSIGHUP");
        assert!(v.exists());
        assert_eq!(v.state(), b"up");
        assert_eq!(v.pid(), b"42");
        assert_eq!(v.ups, 1);
        assert!(v.has_tag(b"down"));
        assert!(!v.has_tag(b"dow"));
        assert_eq!(v.triggers(), b"always\tSIGHUP");
        v.apply(b"service.auto_up\tweb\t-");
        assert_eq!(v.triggers(), b"");
        v.apply(b"service.state\tweb\tdeleted\t-\t-\t-\t-\t-\t-");
        assert!(!v.exists());
    }

    #[test]
    fn tags_are_edited_in_place() {
        let mut out = [0u8; 64];
        let n = edit_tags(
            b"a\tauto_up=x\t\tb",
            |t| t.starts_with(b"auto_up="),
            &[&[b"down"], &[b"auto_up=", b"always"]],
            &mut out,
        )
        .unwrap();
        assert_eq!(&out[..n], b"a\tb\tdown\tauto_up=always");
        let n = edit_tags(b"", |_| false, &[&[b"down"]], &mut out).unwrap();
        assert_eq!(&out[..n], b"down");
        assert_eq!(edit_tags(b"abc", |_| false, &[], &mut out[..2]), None);
        assert_eq!(
            tag_value(b"a\tauto_up=always,SIGHUP", b"auto_up="),
            Some(&b"always,SIGHUP"[..])
        );
    }

    #[test]
    fn names() {
        assert!(valid_name(b"web-1.x_y"));
        assert!(!valid_name(b""));
        assert!(!valid_name(b"a b"));
        assert!(!valid_name(&[b'a'; 32]));
    }
}
