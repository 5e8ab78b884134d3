//! The `-o` output file, replaced only by a complete archive: data goes to a
//! temporary file beside it that is renamed over it on success and removed
//! on any failure.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A temporary file that becomes `dest` on [`commit`](Self::commit) and is
/// removed if dropped before that.
pub struct AtomicFile {
    dest: PathBuf,
    temp: PathBuf,
    writer: BufWriter<File>,
}

impl AtomicFile {
    /// Creates the temporary file in `dest`'s directory, so the final rename
    /// stays within one filesystem.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let dir = match dest.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let base = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let pid = std::process::id();
        let mut attempt = 0;
        loop {
            let mut name = std::ffi::OsString::from(".");
            name.push(base);
            name.push(format!(".{pid}.{attempt}.tmp"));
            let temp = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    return Ok(Self {
                        dest: dest.to_path_buf(),
                        temp,
                        writer: BufWriter::new(file),
                    });
                }
                // A leftover of a killed run with the same pid.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The writer for the archive.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.writer
    }

    /// Flushes and syncs the data, then renames it over the destination.
    pub fn commit(mut self) -> io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        fs::rename(&self.temp, &self.dest)?;
        // Nothing left to clean up.
        self.temp = PathBuf::new();
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Where the archive goes: standard output or an [`AtomicFile`].
pub enum Output {
    /// Standard output, buffered.
    Stdout(BufWriter<io::Stdout>),
    /// The `-o` file.
    File(AtomicFile),
}

impl Output {
    /// The writer for the archive.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Self::Stdout(out) => out,
            Self::File(file) => file.writer(),
        }
    }

    /// Makes the archive final: flushes standard output, or commits the file.
    pub fn finish(self) -> io::Result<()> {
        match self {
            Self::Stdout(mut out) => out.flush(),
            Self::File(file) => file.commit(),
        }
    }
}
