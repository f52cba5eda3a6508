//! The one error type of `veil-paillier`.

/// Everything that can go wrong in this crate. Untrusted input (keys, ciphertexts, JSON) always
/// ends in one of these variants, never in a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A modulus size that this crate refuses (too small to be safe, odd, or absurdly large).
    #[error("modulus of {bits} bits is not supported: need an even size in {min}..={max} bits")]
    InvalidKeySize {
        /// The size that was asked for or found.
        bits: u32,
        /// Smallest size accepted.
        min: u32,
        /// Largest size accepted.
        max: u32,
    },
    /// Key material that does not describe a valid Paillier key.
    #[error("invalid {key} key: {reason}")]
    InvalidKey {
        /// `"public"` or `"private"`.
        key: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A ciphertext that is not an element of Z*_{n^2} for this key.
    #[error("invalid ciphertext: {reason}")]
    InvalidCiphertext {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two values encrypted under different public keys were combined.
    #[error("ciphertexts belong to different public keys")]
    KeyMismatch,
    /// A plaintext too large in magnitude for the key's message space.
    #[error(
        "plaintext of {bits} bits is outside the representable range (|m| <= max_int, {max_bits} bits)"
    )]
    PlaintextOutOfRange {
        /// Significant bits of the offending value's magnitude.
        bits: u32,
        /// Significant bits of the largest representable magnitude.
        max_bits: u32,
    },
    /// A decrypted value fell in the band between the positive and negative ranges: a homomorphic
    /// result left the representable range.
    #[error(
        "overflow: the decrypted value lies outside the signed range (a result left +/- max_int)"
    )]
    Overflow,
    /// A decrypted value does not fit the requested Rust type.
    #[error("decrypted value does not fit in {target}")]
    DoesNotFit {
        /// The requested type.
        target: &'static str,
    },
    /// A real number that cannot be encoded (NaN or infinite).
    #[error("cannot encode a non-finite number ({value})")]
    NotFinite {
        /// The value.
        value: f64,
    },
    /// A decoded real number whose magnitude exceeds `f64::MAX`.
    #[error("decoded value is too large for an f64")]
    FloatOverflow,
    /// A packing layout or a packed operation that cannot be carried out exactly.
    #[error("packing: {reason}")]
    Packing {
        /// What is wrong.
        reason: &'static str,
    },
    /// A packed result whose slot bound would exceed the slot capacity: refused before it wraps.
    #[error(
        "packed slot overflow: bound of {bound_bits} bits exceeds the {capacity_bits}-bit slot capacity"
    )]
    SlotOverflow {
        /// Significant bits of the tracked slot bound.
        bound_bits: u32,
        /// Largest magnitude bits a slot holds exactly.
        capacity_bits: u32,
    },
    /// The precomputed-randomness pool has no values left.
    #[error("randomness pool is empty: fill it before encrypting")]
    PoolEmpty,
    /// Input bytes or text in a wrong format.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// JSON that does not parse.
    #[error("malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Malformed {
            what,
            reason: reason.into(),
        }
    }
}
