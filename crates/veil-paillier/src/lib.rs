#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod batch;
mod ciphertext;
mod crypt;
mod encoding;
mod error;
mod fixed_base;
mod keygen;
mod keys;
mod matvec;
mod multiexp;
mod ops;
mod packing;
pub mod phe;
mod pool;
mod proof;
mod random;
mod secret;
mod serde_int;
mod serde_keys;

pub use ciphertext::{Ciphertext, UncheckedCiphertext};
pub use encoding::{BASE, EncodedNumber, EncryptedNumber};
pub use error::{Error, Result};
pub use fixed_base::FixedBaseRandomness;
pub use keygen::KeyGenerator;
pub use keys::{
    DEFAULT_MODULUS_BITS, MAX_MODULUS_BITS, MIN_MODULUS_BITS, PrivateKey, PublicKey,
    SECURE_128_MODULUS_BITS,
};
pub use matvec::MATVEC_MAX_WEIGHT;
pub use multiexp::PrecomputedCiphertext;
pub use packing::{PackedCiphertext, PackingLayout};
pub use pool::RandomnessPool;
pub use proof::{
    MAX_CONTEXT_BYTES, MODULUS_PROOF_ROUNDS, MODULUS_PROOF_SMALL_PRIME_BOUND, ModulusProof,
};
