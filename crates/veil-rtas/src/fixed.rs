//! Fixed-point encoding of reals into the ring Z_2^64 (two's complement).
//!
//! A real x is stored as round(x * 2^f) mod 2^64 and decoded by reading the word as an `i64` and
//! dividing by 2^f. The product of two encodings carries 2f fractional bits and is brought back to
//! f bits by truncation ([`crate::Share::truncate`]).
//!
//! **Default f = 16.** A product of two values of magnitude below 2^k is a word of about
//! l_x = 2f + k + 1 bits; it must stay far below 64 bits, because the local share truncation fails
//! with probability 2^(l_x + 1 - 64) per element (SecureML, Theorem 1). With f = 16 and |x| < 1
//! that is about 2^-30, with |x| < 16 about 2^-26, while the resolution 2^-16 ~ 1.5e-5 is two
//! orders of magnitude below the size of an SGD update at learning rate 0.1. f = 20 (DESIGN.md
//! allows 16-20) would make truncation failures 256 times likelier for little accuracy.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};

/// Default number of fractional bits.
pub const DEFAULT_FRAC_BITS: u32 = 16;
/// Largest number of fractional bits accepted: products (2f bits) must leave room for a sign and
/// an integer part.
pub const MAX_FRAC_BITS: u32 = 28;

/// A fixed-point encoding with `frac_bits` fractional bits in Z_2^64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FixedPoint {
    frac_bits: u32,
}

impl Default for FixedPoint {
    fn default() -> Self {
        FixedPoint {
            frac_bits: DEFAULT_FRAC_BITS,
        }
    }
}

impl FixedPoint {
    /// An encoding with `frac_bits` fractional bits (1..=[`MAX_FRAC_BITS`]).
    pub fn new(frac_bits: u32) -> Result<Self> {
        if frac_bits == 0 || frac_bits > MAX_FRAC_BITS {
            return Err(Error::InvalidFracBits {
                frac_bits,
                max: MAX_FRAC_BITS,
            });
        }
        Ok(FixedPoint { frac_bits })
    }

    /// Number of fractional bits f.
    pub fn frac_bits(self) -> u32 {
        self.frac_bits
    }

    /// The scale 2^f as a float.
    pub fn scale(self) -> f64 {
        pow2(self.frac_bits)
    }

    /// Largest magnitude that [`FixedPoint::encode`] accepts: 2^(63 - f).
    pub fn max_abs(self) -> f64 {
        pow2(63 - self.frac_bits)
    }

    /// Encodes `x` as round(x * 2^f) mod 2^64.
    pub fn encode(self, x: f64) -> Result<u64> {
        encode_at(x, self.frac_bits)
    }

    /// Decodes a ring element that carries f fractional bits.
    pub fn decode(self, v: u64) -> f64 {
        decode_at(v, self.frac_bits)
    }

    /// Encodes every entry of a matrix.
    pub fn encode_matrix(self, x: ArrayView2<'_, f64>) -> Result<Array2<u64>> {
        encode_matrix_at(x, self.frac_bits)
    }

    /// Decodes every entry of a matrix that carries f fractional bits.
    pub fn decode_matrix(self, v: ArrayView2<'_, u64>) -> Array2<f64> {
        decode_matrix_at(v, self.frac_bits)
    }
}

/// 2^e as a float (exact for the exponents used here).
pub(crate) fn pow2(e: u32) -> f64 {
    f64::powi(2.0, i32::try_from(e).unwrap_or(i32::MAX))
}

/// Encodes `x` with `frac_bits` fractional bits: round(x * 2^frac_bits) as a two's-complement word.
pub(crate) fn encode_at(x: f64, frac_bits: u32) -> Result<u64> {
    if !x.is_finite() {
        return Err(Error::NotFinite { value: x });
    }
    let max = pow2(63_u32.saturating_sub(frac_bits));
    let scaled = (x * pow2(frac_bits)).round();
    // i64 holds [-2^63, 2^63); refuse the boundary so that negation stays exact.
    if scaled.abs() >= pow2(63) {
        return Err(Error::OutOfRange { value: x, max });
    }
    // |scaled| < 2^63 was checked and it is an integer: the casts are exact.
    Ok(scaled as i64 as u64)
}

/// Decodes a two's-complement word with `frac_bits` fractional bits.
pub(crate) fn decode_at(v: u64, frac_bits: u32) -> f64 {
    (v as i64 as f64) / pow2(frac_bits)
}

pub(crate) fn encode_matrix_at(x: ArrayView2<'_, f64>, frac_bits: u32) -> Result<Array2<u64>> {
    let mut out = Array2::zeros(x.raw_dim());
    for (o, &v) in out.iter_mut().zip(x.iter()) {
        *o = encode_at(v, frac_bits)?;
    }
    Ok(out)
}

pub(crate) fn decode_matrix_at(v: ArrayView2<'_, u64>, frac_bits: u32) -> Array2<f64> {
    v.mapv(|w| decode_at(w, frac_bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rounding() {
        let fp = FixedPoint::default();
        for x in [0.0, 1.0, -1.0, 0.5, -3.25, 1234.5678, -0.000_01] {
            let back = fp.decode(fp.encode(x).unwrap());
            assert!((back - x).abs() <= 0.5 / fp.scale(), "{x} -> {back}");
        }
        assert_eq!(fp.encode(-1.0).unwrap(), (-65536_i64) as u64);
        assert_eq!(
            fp.encode(1.0 / 131_072.0).unwrap(),
            1,
            "0.5 ulp rounds away from zero"
        );
    }

    #[test]
    fn refuses_bad_values() {
        let fp = FixedPoint::new(16).unwrap();
        assert!(matches!(fp.encode(f64::NAN), Err(Error::NotFinite { .. })));
        assert!(matches!(
            fp.encode(f64::INFINITY),
            Err(Error::NotFinite { .. })
        ));
        assert!(matches!(fp.encode(pow2(47)), Err(Error::OutOfRange { .. })));
        assert!(fp.encode(pow2(46)).is_ok());
        assert!(matches!(
            FixedPoint::new(0),
            Err(Error::InvalidFracBits { .. })
        ));
        assert!(matches!(
            FixedPoint::new(29),
            Err(Error::InvalidFracBits { .. })
        ));
    }
}
