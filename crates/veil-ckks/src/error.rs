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
    /// Parameters that do not fit together.
    #[error("invalid parameters: {reason}")]
    InvalidParameters {
        /// What is wrong.
        reason: &'static str,
    },
    /// A modulus above the 128-bit bound without the explicit opt-in.
    #[error("log2(QP) = {log_qp} exceeds the 128-bit bound {max_log_qp} for N = {n}")]
    Insecure {
        /// Ring degree.
        n: usize,
        /// log2(QP) asked for.
        log_qp: u32,
        /// The bound.
        max_log_qp: u32,
    },
    /// A level outside the chain, or an operation that needs a level the ciphertext has used up.
    #[error("level {level} is not available (top level {max})")]
    Level {
        /// The level asked for.
        level: usize,
        /// The top level of the parameters.
        max: usize,
    },
    /// Objects that do not belong together (other parameters, sizes, missing keys).
    #[error("mismatched {what}")]
    Mismatch {
        /// What differs.
        what: &'static str,
    },
    /// Two ciphertexts at the same level whose scales differ: align them first.
    #[error("scales differ at the same level: 2^{left:.3} vs 2^{right:.3}")]
    ScaleMismatch {
        /// log2 of one scale.
        left: f64,
        /// log2 of the other.
        right: f64,
    },
    /// Bytes that are not a valid encoding of the expected object.
    #[error("malformed input: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// An error of the ring layer.
    #[error(transparent)]
    Ring(veil_ring::Error),
}

impl From<veil_ring::Error> for Error {
    fn from(e: veil_ring::Error) -> Self {
        use veil_ring::Error as Ring;
        match e {
            Ring::InvalidDegree { n, min, max } => Error::InvalidDegree { n, min, max },
            Ring::ForeignParameters => Error::Mismatch {
                what: "parameters of serialized object",
            },
            Ring::Malformed { reason } => Error::Malformed { reason },
            other => Error::Ring(other),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
