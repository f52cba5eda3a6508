//! The one error type of `veil-ckks`.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A ring degree that is not a supported power of two.
    #[error("invalid degree {n}: need a power of two in {min}..={max}")]
    InvalidDegree {
        /// The degree.
        n: usize,
        /// Smallest supported degree.
        min: usize,
        /// Largest supported degree.
        max: usize,
    },
    /// Inputs that cannot be encoded or decoded.
    #[error("cannot encode: {reason}")]
    Encoding {
        /// What is wrong.
        reason: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
