//! The one error type of `veil-bfv`.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Parameters that do not define a usable scheme.
    #[error("invalid parameters: {reason}")]
    InvalidParameters {
        /// What is wrong.
        reason: &'static str,
    },
    /// Parameters below 128-bit security that the caller did not explicitly allow.
    #[error(
        "insecure parameters: log2(QP) = {log_qp} exceeds {max_log_qp} for N = {n} at 128-bit security \
         (HomomorphicEncryption.org standard); call allow_below_128_bit_security() to use them anyway"
    )]
    Insecure {
        /// Ring degree.
        n: usize,
        /// Bits of the whole modulus, special primes included.
        log_qp: u32,
        /// Largest log2(QP) at 128-bit security for this N.
        max_log_qp: u32,
    },
    /// A plaintext value outside the plaintext space, or too many values for the slots.
    #[error("plaintext does not fit: {reason}")]
    Plaintext {
        /// What is wrong.
        reason: &'static str,
    },
    /// Values made under different parameters or keys were combined.
    #[error("mismatched {what}")]
    Mismatch {
        /// What differs.
        what: &'static str,
    },
    /// A result whose noise has used up the budget: decryption would be wrong.
    #[error("noise budget exhausted: the result cannot be decrypted correctly")]
    NoiseBudgetExhausted,
    /// Bytes that are not a valid serialized object for these parameters.
    #[error("malformed input: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// An error of the ring layer.
    #[error(transparent)]
    Ring(veil_ring::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// Ring errors pass through as [`Error::Ring`], except malformed bytes, which are this crate's
/// [`Error::Malformed`] whichever layer found them.
impl From<veil_ring::Error> for Error {
    fn from(e: veil_ring::Error) -> Self {
        match e {
            veil_ring::Error::Malformed { reason } => Error::Malformed { reason },
            veil_ring::Error::ForeignParameters => Error::Mismatch {
                what: "parameters of serialized object",
            },
            other => Error::Ring(other),
        }
    }
}
