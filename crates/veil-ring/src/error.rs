//! The one error type of `veil-ring`.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A modulus outside the supported range or without the needed structure.
    #[error("invalid modulus {q}: {reason}")]
    InvalidModulus {
        /// The modulus.
        q: u64,
        /// What is wrong.
        reason: &'static str,
    },
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
    /// Not enough primes of the requested shape exist.
    #[error("only {found} primes of {bits} bits with q = 1 mod {modulus}, {wanted} wanted")]
    NotEnoughPrimes {
        /// Bit size asked for.
        bits: u32,
        /// The congruence modulus 2N.
        modulus: u64,
        /// How many were asked for.
        wanted: usize,
        /// How many exist.
        found: usize,
    },
    /// Two values of different rings or bases were combined.
    #[error("mismatched {what}: {left} vs {right}")]
    Mismatch {
        /// What differs.
        what: &'static str,
        /// One side.
        left: usize,
        /// The other side.
        right: usize,
    },
    /// A Galois element that is not odd or not below 2N.
    #[error("invalid Galois element {g}: need an odd value below 2N = {two_n}")]
    InvalidGaloisElement {
        /// The element.
        g: u64,
        /// 2N.
        two_n: u64,
    },
    /// Bytes that are not a valid encoding (see [`crate::wire`]).
    #[error("malformed input: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// An object serialized under other parameters (its fingerprint differs).
    #[error("the object was made under other parameters")]
    ForeignParameters,
    /// An RNS basis that cannot be built (repeated or non-coprime moduli, empty).
    #[error("invalid RNS basis: {reason}")]
    InvalidBasis {
        /// What is wrong.
        reason: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
