#![doc = include_str!("../README.md")]

mod error;
pub mod idx;
pub mod mnist;

pub use error::{Error, Result};
pub use idx::{Images, Limits};
pub use mnist::Mnist;
