#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]

pub mod automorphism;
pub mod bsgs;
mod error;
pub mod isa;
pub mod kernels;
pub mod keys;
pub mod keyswitch;
pub mod ntt;
pub mod poly;
pub mod pool;
pub mod primes;
pub mod rlwe;
pub mod rns;
pub mod sample;
#[cfg(target_arch = "x86_64")]
mod simd;
pub mod stats;
pub mod wire;
pub mod zq;

pub use error::{Error, Result};
pub use isa::Isa;
pub use ntt::NttOperator;
pub use poly::{Coeff, Context, Ntt, Poly, Representation};
pub use rns::{BasisConverter, RnsBasis};
pub use zq::Modulus;
