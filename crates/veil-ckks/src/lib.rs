#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod ciphertext;
mod encoding;
mod error;
mod keys;
mod linalg;
mod ops;
mod parameters;
mod polynomial;
mod rotation;
mod sanitize;
mod seeded;
mod serialization;

pub use ciphertext::{Ciphertext, Plaintext};
pub use encoding::SlotEncoder;
pub use error::{Error, Result};
pub use keys::{GaloisKeys, PublicKey, RelinearizationKey, SecretKey};
pub use linalg::PlainMatrix;
/// The complex numbers of the slots (`num-complex`'s `Complex<f64>`).
pub use num_complex::Complex64;
pub use parameters::{CkksParameters, CkksParametersBuilder, Preset};
pub use polynomial::{
    chebyshev_basis, evaluate_chebyshev, linear_combination, linear_combination_to,
};
pub use sanitize::{SANITIZE_SECURITY_BITS, flooding_bits};
pub use seeded::SeededCiphertext;
/// The sampler of all randomness (seed it for reproducible keys and ciphertexts).
pub use veil_ring::sample::Sampler;
