#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod encoding;
mod error;
mod parameters;

pub use encoding::{Encoder, Plaintext};
pub use error::{Error, Result};
pub use parameters::{BfvParameters, BfvParametersBuilder, ERROR_STD_DEV, Preset, max_log_qp_128};
