#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod conv;
mod error;
mod fixed;
mod prg;
mod ring;
mod role;
mod share;
#[allow(
    dead_code,
    reason = "the dealer and Beaver steps are driven by the protocol layer"
)]
mod triple;

pub use conv::Conv2d;
pub use error::{Error, Result};
pub use fixed::{DEFAULT_FRAC_BITS, FixedPoint, MAX_FRAC_BITS};
pub use prg::{Prg, Seed, Stream, invert_permutation, random_permutation};
pub use role::Role;
pub use share::{Party, Public, Share, reconstruct, share, share_f64};
pub use triple::{TripleShape, TripleShare};
