//! Fixed-point reals with an explicit base-16 exponent, the encoding of python-paillier
//! (`phe.EncodedNumber`): value = mantissa * 16^exponent, so that files interoperate exactly.

use rug::Integer;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};

/// Base of the exponent, as in python-paillier.
pub const BASE: u32 = 16;
const LOG2_BASE: i32 = 4;
const F64_MANTISSA_BITS: i32 = 53;

/// A plaintext number `mantissa * 16^exponent` with an integer mantissa.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedNumber {
    /// Signed integer mantissa.
    pub mantissa: Integer,
    /// Base-16 exponent: -8 means a scale of 16^8 = 2^32.
    pub exponent: i32,
}

/// A ciphertext of an [`EncodedNumber`]'s mantissa, with its public exponent.
#[derive(Clone, Debug)]
pub struct EncryptedNumber {
    /// Encryption of the mantissa.
    pub ciphertext: Ciphertext,
    /// Base-16 exponent of the encrypted value.
    pub exponent: i32,
}

/// Splits a finite f64 into (negative, m, e) with |x| = m * 2^e exactly.
fn decompose(x: f64) -> (bool, u64, i32) {
    let bits = x.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    if biased == 0 {
        (negative, fraction, -1074)
    } else {
        (negative, fraction | (1u64 << 52), biased - 1075)
    }
}

/// Round-half-to-even of m / 2^shift for a non-negative m (as Python's `round(Fraction)`).
fn shift_right_round_even(m: Integer, shift: u32) -> Integer {
    if shift == 0 {
        return m;
    }
    let remainder = Integer::from(m.keep_bits_ref(shift));
    let mut q = m >> shift;
    let half = Integer::from(1) << (shift - 1);
    if remainder > half || (remainder == half && q.is_odd()) {
        q += 1u32;
    }
    q
}

impl EncodedNumber {
    /// An integer, exponent 0.
    pub fn from_integer(value: impl Into<Integer>) -> Self {
        EncodedNumber {
            mantissa: value.into(),
            exponent: 0,
        }
    }

    /// `x` at the explicit scale 16^-exponent: mantissa = round(x * 16^-exponent), ties to even.
    pub fn from_f64(x: f64, exponent: i32) -> Result<Self> {
        if !x.is_finite() {
            return Err(Error::NotFinite { value: x });
        }
        let (negative, m, e2) = decompose(x);
        // x * 16^-exponent = m * 2^(e2 - 4 exponent)
        let shift = i64::from(e2) - i64::from(LOG2_BASE) * i64::from(exponent);
        let m = Integer::from(m);
        let magnitude = if shift >= 0 {
            // Past twice the largest modulus the mantissa could never be encrypted: refuse early.
            let shift = u32::try_from(shift)
                .ok()
                .filter(|&s| s <= 2 * crate::keys::MAX_MODULUS_BITS)
                .ok_or(Error::malformed("exponent", "scale too large"))?;
            m << shift
        } else {
            let shift = u32::try_from(-shift).unwrap_or(u32::MAX).min(2048);
            shift_right_round_even(m, shift)
        };
        Ok(EncodedNumber {
            mantissa: if negative { -magnitude } else { magnitude },
            exponent,
        })
    }

    /// `x` exactly, at the exponent python-paillier picks for a float: the largest exponent that
    /// keeps every bit of the 53-bit significand, floor((frexp(x).exp - 53) / 4).
    pub fn from_f64_exact(x: f64) -> Result<Self> {
        if !x.is_finite() {
            return Err(Error::NotFinite { value: x });
        }
        let frexp_exponent = if x == 0.0 {
            0
        } else {
            let (_, m, e2) = decompose(x);
            e2 + (64 - m.leading_zeros() as i32)
        };
        Self::from_f64(
            x,
            (frexp_exponent - F64_MANTISSA_BITS).div_euclid(LOG2_BASE),
        )
    }

    /// The same value at a smaller exponent (mantissa * 16^(exponent - new_exponent)).
    pub fn decrease_exponent_to(&self, new_exponent: i32) -> Result<Self> {
        let diff = exponent_gap(self.exponent, new_exponent, crate::keys::MAX_MODULUS_BITS)?;
        Ok(EncodedNumber {
            mantissa: Integer::from(&self.mantissa << (LOG2_BASE as u32 * diff)),
            exponent: new_exponent,
        })
    }

    /// The value as an f64, correctly rounded (ties to even), like Python's int / int.
    pub fn to_f64(&self) -> Result<f64> {
        scaled_to_f64(
            &self.mantissa,
            i64::from(LOG2_BASE) * i64::from(self.exponent),
        )
        .ok_or(Error::FloatOverflow)
    }

    /// The value as an integer when the exponent is non-negative (and 16^exponent has at most
    /// 4 * 16384 bits, unless the mantissa is zero).
    pub fn to_integer(&self) -> Option<Integer> {
        if self.exponent >= 0 && self.mantissa == 0 {
            return Some(Integer::new());
        }
        let e = u32::try_from(self.exponent)
            .ok()
            .filter(|&e| e <= crate::keys::MAX_MODULUS_BITS)?;
        Some(Integer::from(&self.mantissa << (LOG2_BASE as u32 * e)))
    }
}

/// How far `from` must come down to reach `to`, refusing to go up, or further than 16^gap could
/// multiply a mantissa without leaving a `bits`-bit plaintext space (every nonzero result would
/// overflow, and the exponentiation would cost more than an encryption).
fn exponent_gap(from: i32, to: i32, bits: u32) -> Result<u32> {
    let diff = i64::from(from) - i64::from(to);
    if diff < 0 {
        return Err(Error::malformed(
            "exponent",
            "can only decrease an exponent",
        ));
    }
    u32::try_from(diff)
        .ok()
        .filter(|&d| d <= bits / LOG2_BASE as u32)
        .ok_or(Error::malformed(
            "exponent",
            "exponents too far apart for this key",
        ))
}

/// m * 2^shift as the nearest f64 (ties to even), or `None` past f64::MAX.
pub(crate) fn scaled_to_f64(m: &Integer, shift: i64) -> Option<f64> {
    if *m == 0 {
        return Some(0.0);
    }
    let bits = i64::from(m.significant_bits());
    let top = bits - 1 + shift; // |value| in [2^top, 2^(top + 1))
    if top > 1023 {
        return None;
    }
    // Significand bits available at this magnitude: 53 for normals, fewer for subnormals.
    let keep = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    if keep < 0 {
        return Some(if *m < 0 { -0.0 } else { 0.0 });
    }
    let drop = bits - keep;
    let magnitude = Integer::from(m.abs_ref());
    let (q, scale) = if drop > 0 {
        (
            shift_right_round_even(magnitude, u32::try_from(drop).ok()?),
            shift + drop,
        )
    } else {
        (magnitude, shift)
    };
    let q = q.to_u64()? as f64; // at most 2^53: exact
    let value = ldexp(q, scale);
    if value.is_infinite() {
        return None;
    }
    Some(if *m < 0 { -value } else { value })
}

/// q * 2^k, exact when the result is representable (q < 2^54): scaled in steps that stay normal.
fn ldexp(mut q: f64, mut k: i64) -> f64 {
    let step = |k: i64| f64::from_bits(((k + 1023) as u64) << 52);
    while k > 1000 {
        q *= step(1000);
        k -= 1000;
    }
    while k < -1000 {
        q *= step(-1000);
        k += 1000;
    }
    q * step(k)
}

impl PublicKey {
    /// Encrypts an encoded number (|mantissa| <= max_int).
    pub fn encrypt_number(&self, x: &EncodedNumber) -> Result<EncryptedNumber> {
        Ok(EncryptedNumber {
            ciphertext: self.encrypt(x.mantissa.clone())?,
            exponent: x.exponent,
        })
    }

    /// The same encrypted value at a smaller exponent: E(m)^(16^diff).
    pub fn decrease_exponent_to(
        &self,
        a: &EncryptedNumber,
        new_exponent: i32,
    ) -> Result<EncryptedNumber> {
        let diff = exponent_gap(a.exponent, new_exponent, self.bits())?;
        let factor = Integer::from(1) << (LOG2_BASE as u32 * diff);
        Ok(EncryptedNumber {
            ciphertext: self.mul_scalar(&a.ciphertext, factor)?,
            exponent: new_exponent,
        })
    }

    /// Brings both to the smaller exponent, as python-paillier does before adding.
    fn align(&self, a: &EncryptedNumber, b_exponent: i32) -> Result<(EncryptedNumber, i32)> {
        let e = a.exponent.min(b_exponent);
        Ok((
            if a.exponent > e {
                self.decrease_exponent_to(a, e)?
            } else {
                a.clone()
            },
            e,
        ))
    }

    /// Encrypted sum of two encrypted numbers (exponents aligned to the smaller).
    pub fn add_numbers(&self, a: &EncryptedNumber, b: &EncryptedNumber) -> Result<EncryptedNumber> {
        let (a, e) = self.align(a, b.exponent)?;
        let (b, _) = self.align(b, e)?;
        Ok(EncryptedNumber {
            ciphertext: self.add(&a.ciphertext, &b.ciphertext)?,
            exponent: e,
        })
    }

    /// Encrypted a + b for a plaintext number b.
    pub fn add_plain_number(
        &self,
        a: &EncryptedNumber,
        b: &EncodedNumber,
    ) -> Result<EncryptedNumber> {
        let (a, e) = self.align(a, b.exponent)?;
        let b = if b.exponent > e {
            b.decrease_exponent_to(e)?
        } else {
            b.clone()
        };
        Ok(EncryptedNumber {
            ciphertext: self.add_plain(&a.ciphertext, b.mantissa)?,
            exponent: e,
        })
    }

    /// Encrypted a * b for a plaintext number b: exponents add. Variable time in b.
    pub fn mul_plain_number(
        &self,
        a: &EncryptedNumber,
        b: &EncodedNumber,
    ) -> Result<EncryptedNumber> {
        let exponent = a
            .exponent
            .checked_add(b.exponent)
            .ok_or(Error::malformed("exponent", "exponent overflow"))?;
        Ok(EncryptedNumber {
            ciphertext: self.mul_scalar(&a.ciphertext, b.mantissa.clone())?,
            exponent,
        })
    }
}

impl PrivateKey {
    /// Decrypts an encrypted number; [`Error::Overflow`] if its mantissa left the signed range.
    pub fn decrypt_number(&self, a: &EncryptedNumber) -> Result<EncodedNumber> {
        Ok(EncodedNumber {
            mantissa: self.decrypt(&a.ciphertext)?,
            exponent: a.exponent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phe_exponent_rule() {
        // Values from python-paillier 1.5.0 (EncodedNumber.encode of a float).
        for (x, e) in [
            (42.0, -12),
            (3.0, -13),
            (-4.0, -13),
            (0.5, -14),
            (0.0, -14),
            (1e-10, -22),
            (1e-30, -38),
        ] {
            let enc = EncodedNumber::from_f64_exact(x).unwrap();
            assert_eq!(enc.exponent, e, "{x}");
            assert_eq!(enc.to_f64().unwrap(), x);
        }
        assert_eq!(
            EncodedNumber::from_f64_exact(9007199254740992.0)
                .unwrap()
                .exponent,
            0
        );
    }

    #[test]
    fn rounding_ties_to_even_and_subnormals() {
        assert_eq!(EncodedNumber::from_f64(2.5, 0).unwrap().mantissa, 2);
        assert_eq!(EncodedNumber::from_f64(3.5, 0).unwrap().mantissa, 4);
        assert_eq!(EncodedNumber::from_f64(-2.5, 0).unwrap().mantissa, -2);
        // (2^53 + 1) / 1 rounds to 2^53 (even), (2^53 + 3) to 2^53 + 4.
        let big = |v: u64| {
            EncodedNumber {
                mantissa: Integer::from(v),
                exponent: 0,
            }
            .to_f64()
            .unwrap()
        };
        assert_eq!(big((1 << 53) + 1), 9007199254740992.0);
        assert_eq!(big((1 << 53) + 3), 9007199254740996.0);
        let tiny = EncodedNumber::from_f64_exact(f64::from_bits(1)).unwrap();
        assert_eq!(tiny.to_f64().unwrap(), f64::from_bits(1));
        let huge = EncodedNumber {
            mantissa: Integer::from(1) << 1030,
            exponent: 0,
        };
        assert!(matches!(huge.to_f64(), Err(Error::FloatOverflow)));
    }
}
