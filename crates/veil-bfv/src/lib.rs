#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod ciphertext;
mod encoding;
mod error;
mod galois;
mod hps;
mod keys;
mod level;
mod linalg;
mod mul;
mod ops;
mod parameters;
mod relin;
mod retarget;
mod sanitize;
mod scaling;
mod serialization;

pub use ciphertext::Ciphertext;
pub use encoding::{Encoder, Plaintext};
pub use error::{Error, Result};
pub use galois::GaloisKeys;
pub use keys::{PublicKey, SecretKey};
pub use linalg::PlainMatrix;
pub use parameters::{BfvParameters, BfvParametersBuilder, ERROR_STD_DEV, Preset, max_log_qp_128};
pub use relin::RelinearizationKey;
pub use sanitize::{SANITIZE_SECURITY_BITS, sanitize_reserve_bits};
pub use serialization::SeededCiphertext;
