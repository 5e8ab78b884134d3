//! mkinitramfs: writes a reproducible `newc` cpio archive, the format the
//! Linux kernel unpacks as an initramfs, from a list in the kernel's
//! `usr/gen_init_cpio` syntax, without root privilege.

mod image;
mod list;
mod location;
mod newc;
mod options;
mod output;

use std::io::{self, IsTerminal, Read};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use options::{Command, ListSource, Options};
use output::{AtomicFile, Output};

/// Exit status for a bad list, source or write error.
const EXIT_FAILURE: u8 = 1;
/// Exit status for a bad command line.
const EXIT_USAGE: u8 = 2;

/// A failure already reported on stderr, with the exit status it calls for.
struct Failed(u8);

fn fail(message: impl std::fmt::Display) -> Failed {
    eprintln!("mkinitramfs: {message}");
    Failed(EXIT_FAILURE)
}

/// The mtime of every entry: `-t`, else `SOURCE_DATE_EPOCH`, else 0.
fn mtime(options: &Options) -> Result<u32, Failed> {
    if let Some(mtime) = options.mtime {
        return Ok(mtime);
    }
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        Some(value) if !value.is_empty() => {
            options::parse_timestamp(value.as_bytes()).ok_or_else(|| {
                fail(format_args!(
                    "bad SOURCE_DATE_EPOCH '{}': expected seconds since the epoch, 0..{}",
                    value.to_string_lossy(),
                    u32::MAX
                ))
            })
        }
        _ => Ok(0),
    }
}

fn build(options: &Options) -> Result<(), Failed> {
    let mtime = mtime(options)?;
    let (list_name, text) = match &options.list {
        ListSource::Stdin => {
            let mut text = Vec::new();
            io::stdin()
                .read_to_end(&mut text)
                .map_err(|e| fail(format_args!("cannot read the list from stdin: {e}")))?;
            ("<stdin>".to_string(), text)
        }
        ListSource::File(path) => {
            let name = path.display().to_string();
            let text = std::fs::read(path)
                .map_err(|e| fail(format_args!("cannot read list '{name}': {e}")))?;
            (name, text)
        }
    };
    let lines = list::parse_list(&text).map_err(|errors| {
        for e in &errors {
            eprintln!("mkinitramfs: {list_name}:{}: {}", e.number, e.error);
        }
        Failed(EXIT_FAILURE)
    })?;
    let mut output = match &options.output {
        Some(path) => Output::File(
            AtomicFile::create(path)
                .map_err(|e| fail(format_args!("cannot create '{}': {e}", path.display())))?,
        ),
        None if io::stdout().is_terminal() => {
            return Err(fail("will not write an archive to a terminal; use -o FILE"));
        }
        None => Output::Stdout(io::BufWriter::new(io::stdout())),
    };
    let output_name = match &options.output {
        Some(path) => path.display().to_string(),
        None => "<stdout>".to_string(),
    };
    let settings = image::Settings {
        mtime,
        base: options.base.clone(),
    };
    // On error `output` is dropped here, which removes the temporary file.
    image::write(
        &lines,
        &settings,
        location::from_environment,
        output.writer(),
    )
    .map_err(|e| match e.line() {
        Some(line) => fail(format_args!("{list_name}:{line}: {e}")),
        None => fail(format_args!("writing '{output_name}': {e}")),
    })?;
    output
        .finish()
        .map_err(|e| fail(format_args!("writing '{output_name}': {e}")))
}

fn main() -> ExitCode {
    let command = match options::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("mkinitramfs: {e}\nTry 'mkinitramfs --help'.");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = match command {
        Command::Help => {
            print!("{}", options::HELP);
            Ok(())
        }
        Command::Version => {
            println!("mkinitramfs {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Build(options) => build(&options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failed(code)) => ExitCode::from(code),
    }
}
