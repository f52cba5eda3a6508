//! The crate's error type.

/// Everything that can go wrong in `veil-reacthe`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A data file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A data file is malformed.
    #[error("{path}, line {line}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Shapes or settings that do not fit together.
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// A model file could not be decoded.
    #[error("model: {reason}")]
    Model {
        /// What is wrong.
        reason: String,
    },
    /// The network needs more levels than the parameters have.
    #[error("the network needs depth {needed}, the parameters give {available}")]
    Depth {
        /// Levels the circuit consumes.
        needed: usize,
        /// Levels available (max level).
        available: usize,
    },
    /// An error of the BFV layer (exact path).
    #[error(transparent)]
    Bfv(#[from] veil_bfv::Error),
    /// An error of the CKKS layer.
    #[error(transparent)]
    Ckks(#[from] veil_ckks::Error),
}

/// Result with [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
