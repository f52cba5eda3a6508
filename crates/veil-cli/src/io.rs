//! Input and output of the command line: file arguments where `-` means stdin or stdout (as in
//! `pheutil`, click.File), stdout writes that end quietly on a closed pipe, private files
//! written 0600, and the one error type every command returns.

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;

/// Errors of the command-line layer; `main` prints each as one `error: ...` line.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// Stdout was closed by its reader (`veil demo | head -1`): not an error for the user.
    #[error("stdout closed")]
    ClosedPipe,
    #[error(transparent)]
    Paillier(#[from] veil_paillier::Error),
    #[error(transparent)]
    Cryptorec(#[from] veil_cryptorec::Error),
    #[error("{0}")]
    Input(String),
    #[error("self-check failed: {0}")]
    Check(&'static str),
}

pub(crate) type CliResult<T> = Result<T, CliError>;

/// Largest input file read (keys and ciphertexts are a few KB).
const MAX_INPUT: u64 = 1 << 20;

fn stdout_err(source: std::io::Error) -> CliError {
    if source.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::ClosedPipe
    } else {
        CliError::Io {
            path: "<stdout>".into(),
            source,
        }
    }
}

/// Writes one line to stdout; a closed pipe is returned as [`CliError::ClosedPipe`] instead of
/// the panic of `println!`. Used through `say!`.
pub(crate) fn say_line(args: fmt::Arguments<'_>) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(stdout_err)
}

/// `println!` that returns a [`CliResult`] (to be followed by `?`).
macro_rules! say {
    () => { $crate::io::say_line(format_args!("")) };
    ($($t:tt)*) => { $crate::io::say_line(format_args!($($t)*)) };
}

pub(crate) fn read_input(path: &Path) -> CliResult<String> {
    let io_err = |source| CliError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_INPUT)
            .read_to_string(&mut text)
            .map_err(io_err)?;
    } else {
        fs::File::open(path)
            .and_then(|f| f.take(MAX_INPUT).read_to_string(&mut text))
            .map_err(io_err)?;
    }
    Ok(text)
}

/// Writes `text` and a newline to `path` (`-` or `None` for stdout).
pub(crate) fn write_output(path: Option<&Path>, text: &str) -> CliResult<()> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            fs::write(p, format!("{text}\n")).map_err(|source| CliError::Io {
                path: p.display().to_string(),
                source,
            })
        }
        _ => say!("{text}"),
    }
}

/// Writes a secret (a private key) to `path`: created with mode 0600 on Unix, and an existing
/// file is refused unless `force` (then replaced, never left readable by others).
pub(crate) fn write_secret(path: &Path, text: &str, force: bool) -> CliResult<()> {
    if path.as_os_str() == "-" {
        return write_output(None, text);
    }
    let io_err = |source| CliError::Io {
        path: path.display().to_string(),
        source,
    };
    if path.exists() {
        if !force {
            return Err(CliError::Input(format!(
                "{}: exists; pass --force to overwrite it",
                path.display()
            )));
        }
        // Removed first, so that the new file gets mode 0600 whatever the old one had.
        fs::remove_file(path).map_err(io_err)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_err)?;
    file.write_all(format!("{text}\n").as_bytes())
        .map_err(io_err)
}
