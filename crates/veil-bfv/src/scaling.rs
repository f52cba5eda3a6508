//! round(t x / Q) mod t from the RNS residues of x, without big integers: the decryption scaling of
//! Halevi, Polyakov and Shoup (eprint 2018/117, sec. 2.3), with 128-bit fixed-point fractions.
//!
//! Write x = sum_i x_i Qt_i (Q / q_i) - v Q with Qt_i = (Q/q_i)^-1 mod q_i. Then t x / Q equals
//! sum_i x_i (t Qt_i / q_i) minus the integer t v, so round(t x / Q) mod t is
//! (sum_i x_i w_i + round(sum_i x_i f_i)) mod t, where t Qt_i / q_i = w_i + f_i splits into an
//! integer and a fraction in [0, 1). Each f_i is stored as floor(f_i 2^128); the total rounding
//! error is below k 2^-62 for k limbs, so the result is exact unless t x / Q lies within k 2^-62 of
//! a half-integer.

use num_bigint::BigUint;
use num_traits::ToPrimitive;
use veil_ring::Modulus;

use crate::error::{Error, Result};

/// Precomputed constants of the scaling from base {q_i} to Z_t.
#[derive(Clone, Debug)]
pub(crate) struct DecryptionScaler {
    t: Modulus,
    /// w_i = floor(t Qt_i / q_i) mod t.
    whole: Vec<u64>,
    /// floor(f_i 2^128) as (high, low) words.
    frac: Vec<(u64, u64)>,
}

impl DecryptionScaler {
    pub(crate) fn new(moduli: &[Modulus], t: &Modulus) -> Result<Self> {
        let q_big: BigUint = moduli.iter().map(|q| BigUint::from(q.value())).product();
        let mut whole = Vec::with_capacity(moduli.len());
        let mut frac = Vec::with_capacity(moduli.len());
        for q in moduli {
            let qv = u128::from(q.value());
            let q_star = &q_big / q.value();
            let q_star_mod = (&q_star % q.value()).to_u64().unwrap_or(0);
            let q_tilde = q.inv(q_star_mod).ok_or(Error::InvalidParameters {
                reason: "moduli not coprime",
            })?;
            let num = u128::from(t.value()) * u128::from(q_tilde); // < 2^124
            whole.push(t.reduce_u128(num / qv));
            // f = r / q with r = num mod q; floor(r 2^128 / q) by two 64-bit long-division steps.
            let r = num % qv;
            let hi = (r << 64) / qv;
            let r2 = (r << 64) % qv;
            let lo = (r2 << 64) / qv;
            frac.push((hi as u64, lo as u64));
        }
        Ok(DecryptionScaler { t: *t, whole, frac })
    }

    /// round(t x / Q) mod t for x given by its residues (one per modulus, each < q_i), and the
    /// distance |v| of t x / Q from that integer in units of 2^-64 (the invariant noise of BFV).
    #[inline]
    pub(crate) fn scale(&self, residues: impl Iterator<Item = u64>) -> (u64, u64) {
        let mut int_acc: u128 = 0; // sum x_i w_i, reduced mod t at the end
        let mut frac_int: u64 = 0; // whole units carried out of the fraction sum
        let mut frac_acc: u128 = 0; // sum of the top 64 fractional bits, < k 2^64
        for ((x, &w), &(f_hi, f_lo)) in residues.zip(&self.whole).zip(&self.frac) {
            int_acc += u128::from(x) * u128::from(w);
            // x f = (x f_hi 2^64 + x f_lo) / 2^128: integer part and top 64 fraction bits.
            let low = u128::from(x) * u128::from(f_lo);
            let high = u128::from(x) * u128::from(f_hi) + (low >> 64);
            frac_int = frac_int.wrapping_add((high >> 64) as u64);
            frac_acc += u128::from(high as u64);
        }
        // Round: add one half (2^63 in units of 2^-64) and keep the whole part.
        let rounded = frac_acc + (1u128 << 63);
        let total = int_acc + u128::from(frac_int) + (rounded >> 64);
        let f = frac_acc as u64; // fractional part of t x / Q
        (self.t.reduce_u128(total), f.min(f.wrapping_neg()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use veil_ring::primes::ntt_primes;

    fn exact(x: &BigUint, q: &BigUint, t: u64) -> u64 {
        // round(t x / Q) mod t with big integers: floor((2 t x + Q) / 2Q).
        let num = BigUint::from(2u32) * x * t + q;
        ((num / (q * 2u32)) % t).to_u64().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn matches_big_integer_rounding(
            k in 1usize..6,
            bits in prop::sample::select(vec![36u32, 44, 55, 61]),
            limbs in proptest::collection::vec(any::<u64>(), 6),
            t_bits in 2u32..30,
        ) {
            let primes = ntt_primes(bits, 4096, k).unwrap();
            let moduli: Vec<Modulus> = primes.iter().map(|&q| Modulus::new(q).unwrap()).collect();
            let t = Modulus::new((1u64 << t_bits) - 1).unwrap();
            let scaler = DecryptionScaler::new(&moduli, &t).unwrap();
            let q_big: BigUint = primes.iter().map(|&q| BigUint::from(q)).product();
            let x = limbs.iter().fold(BigUint::from(0u32), |acc, &l| (acc << 64) + l) % &q_big;
            let residues = primes.iter().map(|&q| (&x % q).to_u64().unwrap());
            prop_assert_eq!(scaler.scale(residues).0, exact(&x, &q_big, t.value()));
        }
    }
}
