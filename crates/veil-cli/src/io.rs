//! File arguments where `-` means stdin or stdout, as in `pheutil` (click.File).

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

/// Errors of the command-line layer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
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
        _ => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}").map_err(|source| CliError::Io {
                path: "<stdout>".into(),
                source,
            })
        }
    }
}
