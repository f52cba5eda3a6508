#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod encoding;
mod error;

pub use encoding::SlotEncoder;
pub use error::{Error, Result};
/// The complex numbers of the slots (`num-complex`'s `Complex<f64>`).
pub use num_complex::Complex64;
