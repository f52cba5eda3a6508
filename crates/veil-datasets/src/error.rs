//! The one error type of `veil-datasets`.

/// Everything that can go wrong while reading a data set. Files are untrusted: every malformed,
/// truncated or oversized input ends in one of these variants, never in a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a file (or decompressing it) failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The bytes are not the expected IDX layout (magic, type code, dimensions or length).
    #[error("{what}: {reason}")]
    Format {
        /// The file (or "input" for bytes in memory).
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The input, or the size its header announces, exceeds the configured limit.
    #[error("{what}: {size} bytes exceed the limit of {limit} bytes (Limits::max_bytes)")]
    TooLarge {
        /// The file (or "input").
        what: String,
        /// The size found or announced (saturated at `u64::MAX`).
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// An image file and a label file that do not describe the same samples.
    #[error("{images} images but {labels} labels")]
    CountMismatch {
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A label outside the classes of the data set (MNIST: 0-9).
    #[error("label {value} of sample {index} is not below {classes}")]
    BadLabel {
        /// Sample index.
        index: usize,
        /// The label read.
        value: u8,
        /// Number of classes.
        classes: u8,
    },
    /// No file of the expected name in a directory.
    #[error("no {name} (or {name}.gz) in {dir}")]
    Missing {
        /// The file name looked for.
        name: String,
        /// The directory.
        dir: String,
    },
}

impl Error {
    pub(crate) fn format(what: &str, reason: impl Into<String>) -> Self {
        Error::Format {
            what: what.to_owned(),
            reason: reason.into(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
