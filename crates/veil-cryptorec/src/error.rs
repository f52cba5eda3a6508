//! The one error type of `veil-cryptorec`.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A line of a ratings file that cannot be read.
    #[error("line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A file that cannot be read at all.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A Paillier operation failed (bad key, bad ciphertext, slot overflow, ...).
    #[error("paillier: {0}")]
    Paillier(#[from] veil_paillier::Error),
    /// A BFV operation failed (bad parameters, keys or ciphertext bytes, noise budget exhausted, ...).
    #[error("bfv: {0}")]
    Bfv(#[from] veil_bfv::Error),
    /// A CKKS operation failed (the lattice accurate mode).
    #[error("ckks: {0}")]
    Ckks(#[from] veil_ckks::Error),
    /// A protocol message that does not fit the model (wrong length, wrong header, ...).
    #[error("malformed message: {reason}")]
    Message {
        /// What is wrong.
        reason: String,
    },
    /// A rating outside the rating scale (of the training data, or given).
    #[error("rating {value} of {context} is outside the rating scale {scale}")]
    Scale {
        /// The rating.
        value: f32,
        /// The scale it should be in.
        scale: crate::data::RatingScale,
        /// Which rating (item and user).
        context: String,
    },
    /// A request that cannot be satisfied (empty data, impossible density, ...).
    #[error("invalid request: {reason}")]
    Invalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// A network peer announced or sent more bytes than the configured limit (`service`).
    #[error("{what}: {len} bytes, over the limit of {max}")]
    TooLarge {
        /// Which message or field.
        what: &'static str,
        /// The size announced or reached.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A network peer did not complete a message in time (`service`).
    #[error("{what}: no complete message within {after:?}")]
    Timeout {
        /// What was being read or written.
        what: &'static str,
        /// The deadline that passed.
        after: std::time::Duration,
    },
    /// The CryptoRec server answered with an error message (`service`).
    #[error("the server refused the request ({code}): {reason}")]
    Refused {
        /// The error code of the server's message.
        code: crate::service::ErrorCode,
        /// The server's explanation.
        reason: String,
    },
    /// A mode or scheme that this build or this server does not offer (`service`).
    #[error("{what} is not available {reason}")]
    Unavailable {
        /// The mode and scheme asked for.
        what: &'static str,
        /// Why (in this build, on this server).
        reason: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
