#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod bfv;
pub mod ckks;
pub mod dct;
pub mod digit_lookup;
pub mod digits;
pub mod eef;
mod error;
pub mod exact;
pub mod fasttext;
pub mod lookup;
pub mod measure;
pub mod measure_ckks;
pub mod onehot;
pub mod power;
pub mod protocol;
pub mod scheme;
pub mod table;
pub mod wire;

pub use dct::RealTable;
pub use digit_lookup::{DigitTable, DigitTimings};
pub use digits::{DigitBasis, DigitCost};
pub use error::{Error, Result};
pub use lookup::{IveTable, LookupTimings};
pub use scheme::{CiphertextCodec, IveClient, IveScheme};
pub use table::{EmbeddingTable, ExactBasis};
pub use wire::{Query, Response};
