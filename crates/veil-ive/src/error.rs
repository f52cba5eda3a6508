//! The one error type of `veil-ive`.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A table, basis or parameter choice that cannot work (for example p not dividing t - 1).
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
    /// Two sizes that must agree do not.
    #[error("mismatched {what}: {got} against {expected}")]
    Mismatch {
        /// What differs.
        what: &'static str,
        /// The value found.
        got: usize,
        /// The value expected.
        expected: usize,
    },
    /// An index outside the table.
    #[error("index {index} outside a table of {rows} rows")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// Rows in the table.
        rows: usize,
    },
    /// The parameters leave too little noise budget for the requested circuit.
    #[error("not enough modulus for {what}: {needed} bits needed, {available} available")]
    InsufficientModulus {
        /// Which part of the computation does not fit.
        what: &'static str,
        /// Bits the circuit needs.
        needed: u32,
        /// Bits the parameters offer.
        available: u32,
    },
    /// Bytes that are not a valid query or response.
    #[error("malformed input: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// A data file that could not be read or parsed.
    #[error("data: {reason}")]
    Data {
        /// What is wrong.
        reason: String,
    },
    /// An error of the BFV layer.
    #[error(transparent)]
    Bfv(#[from] veil_bfv::Error),
    /// An error of the CKKS layer.
    #[error(transparent)]
    Ckks(#[from] veil_ckks::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl From<veil_ring::Error> for Error {
    fn from(e: veil_ring::Error) -> Self {
        match e {
            veil_ring::Error::Malformed { reason } => Error::Malformed { reason },
            other => Error::Bfv(veil_bfv::Error::Ring(other)),
        }
    }
}
