#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod conv;
mod error;
mod fixed;
mod func;
mod helper;
mod local;
pub mod model;
mod prg;
mod ring;
mod role;
mod session;
mod share;
mod transform;
pub mod transport;
mod triple;
mod truncation;
mod wire;

pub use conv::Conv2d;
pub use error::{Error, Result};
pub use fixed::{DEFAULT_FRAC_BITS, FixedPoint, MAX_FRAC_BITS};
pub use func::{Function, MAX_FUNCTIONS_PER_CALL, sigmoid};
pub use helper::Helper;
pub use local::{LocalRun, run_local};
pub use prg::{Prg, Seed, Stream, invert_permutation, random_permutation};
pub use role::Role;
pub use session::{MAX_TRIPLE_WORDS, Product, ProtocolConfig, Session};
pub use share::{Party, Public, Share, reconstruct, share, share_f64};
pub use transform::{ColumnPermutation, LinearTransform, RowPermutation};
pub use triple::{TripleShape, TripleShare};
pub use truncation::EXACT_TRUNCATION_BITS;
