#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod ciphertext;
mod encoding;
mod error;
mod keys;
mod ops;
mod parameters;
mod rotation;

pub use ciphertext::{Ciphertext, Plaintext};
pub use encoding::SlotEncoder;
pub use error::{Error, Result};
pub use keys::{GaloisKeys, PublicKey, RelinearizationKey, SecretKey};
/// The complex numbers of the slots (`num-complex`'s `Complex<f64>`).
pub use num_complex::Complex64;
pub use parameters::{CkksParameters, CkksParametersBuilder, Preset};
/// The sampler of all randomness (seed it for reproducible keys and ciphertexts).
pub use veil_ring::sample::Sampler;
