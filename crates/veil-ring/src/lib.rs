#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
pub mod ntt;
pub mod poly;
pub mod primes;
pub mod rns;
pub mod sample;
pub mod zq;

pub use error::{Error, Result};
pub use ntt::NttOperator;
pub use poly::{Coeff, Context, Ntt, Poly, Representation};
pub use rns::{BasisConverter, RnsBasis};
pub use zq::Modulus;
