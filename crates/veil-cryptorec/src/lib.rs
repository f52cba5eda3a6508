#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod baselines;
pub mod catalogue;
pub mod data;
mod error;
pub mod eval;
pub mod fast;
pub mod finetune;
pub mod lattice;
pub mod model;
mod persist;
pub mod quant;
pub mod report;
pub mod select;
pub mod service;
pub mod sqr;
pub mod topn;

pub use error::{Error, Result};
