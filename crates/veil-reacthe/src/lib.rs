#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod data;
pub mod encrypted;
mod error;
pub mod exact;
pub mod experiment;
pub mod model;
pub mod train;

/// The `ndarray` version of this crate's matrices.
pub use ndarray;

pub use data::{Dataset, Standardizer, Task};
pub use encrypted::{Client, Server, depth_needed};
pub use error::{Error, Result};
pub use model::{Activation, Architecture, Dense, Network};
pub use train::{TrainConfig, Trained, repeated, score, train};
