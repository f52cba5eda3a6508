//! Amortized scalar multiplication: a fixed-base table for many scalars of one ciphertext, and
//! bucketed multi-exponentiation for sum_i k_i E(x_i) (an encrypted dot product).

use rayon::prelude::*;
use rug::Integer;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::PublicKey;

/// Window width of the fixed-base table.
const FIXED_WINDOW: u32 = 4;

/// Powers E(x)^(d 16^j) of one ciphertext, so that E(k x) for any |k| < 2^max_bits costs at
/// most ceil(max_bits / 4) multiplications instead of an exponentiation (fixed-base windowing,
/// Handbook of Applied Cryptography, Alg. 14.109 with h = 16).
#[derive(Clone, Debug)]
pub struct PrecomputedCiphertext {
    pk: PublicKey,
    max_bits: u32,
    /// table[j][d - 1] = c^(d 16^j) mod n^2, d in 1..16.
    table: Vec<Vec<Integer>>,
}

impl PublicKey {
    /// Builds the fixed-base table of `ct` for scalars below 2^max_bits (at most 64).
    pub fn precompute(&self, ct: &Ciphertext, max_bits: u32) -> Result<PrecomputedCiphertext> {
        self.check_key(ct)?;
        if max_bits == 0 || max_bits > 64 {
            return Err(Error::malformed("max_bits", "need 1..=64"));
        }
        let windows = max_bits.div_ceil(FIXED_WINDOW);
        let m = self.n_squared();
        let mut table = Vec::with_capacity(windows as usize);
        let mut base = ct.c.clone();
        for _ in 0..windows {
            let mut row = Vec::with_capacity(15);
            let mut acc = base.clone();
            row.push(acc.clone());
            for _ in 2..16 {
                acc *= &base;
                acc %= m;
                row.push(acc.clone());
            }
            // next base = base^16 = row[14] * base
            base = Integer::from(&acc * &base) % m;
            table.push(row);
        }
        Ok(PrecomputedCiphertext {
            pk: self.clone(),
            max_bits,
            table,
        })
    }

    /// sum_i k_i E(x_i) = prod_i E(x_i)^(k_i) by Pippenger's bucket method: per 'w'-bit window,
    /// multiply each ciphertext into the bucket of its digit, then combine buckets with running
    /// products. About (b / w)(m + 2^(w+1)) multiplications and b squarings for m terms of b-bit
    /// scalars, against m exponentiations of b bits done one by one. Runs on all rayon threads.
    /// Variable time in the scalars.
    pub fn linear_combination(&self, cts: &[Ciphertext], scalars: &[i64]) -> Result<Ciphertext> {
        if cts.len() != scalars.len() {
            return Err(Error::malformed(
                "linear combination",
                "as many scalars as ciphertexts needed",
            ));
        }
        for c in cts {
            self.check_key(c)?;
        }
        let threads = rayon::current_num_threads().max(1);
        let chunk = cts.len().div_ceil(threads).max(1);
        let parts: Vec<(Integer, Integer)> = cts
            .par_chunks(chunk)
            .zip(scalars.par_chunks(chunk))
            .map(|(c, k)| {
                let pos: Vec<(&Integer, u64)> = c
                    .iter()
                    .zip(k)
                    .filter(|(_, k)| **k > 0)
                    .map(|(c, k)| (&c.c, k.unsigned_abs()))
                    .collect();
                let neg: Vec<(&Integer, u64)> = c
                    .iter()
                    .zip(k)
                    .filter(|(_, k)| **k < 0)
                    .map(|(c, k)| (&c.c, k.unsigned_abs()))
                    .collect();
                (self.bucket_multiexp(&pos), self.bucket_multiexp(&neg))
            })
            .collect();
        let m = self.n_squared();
        let (mut pos, mut neg) = (Integer::from(1), Integer::from(1));
        for (p, q) in parts {
            pos = pos * p % m;
            neg = neg * q % m;
        }
        let neg_inv = neg.invert(m).map_err(|_| Error::InvalidCiphertext {
            reason: "not invertible mod n^2",
        })?;
        Ok(Ciphertext::new(pos * neg_inv % m, self))
    }

    /// prod_i c_i^(k_i) mod n^2 for non-negative k_i (Pippenger / bucket method).
    pub(crate) fn bucket_multiexp(&self, terms: &[(&Integer, u64)]) -> Integer {
        let m = self.n_squared();
        let bits = terms
            .iter()
            .map(|(_, k)| 64 - k.leading_zeros())
            .max()
            .unwrap_or(0);
        if bits == 0 {
            return Integer::from(1);
        }
        // Pick the window minimising (bits / w)(terms + 2^(w+1)).
        let w = (1..=16u32)
            .min_by_key(|&w| u64::from(bits.div_ceil(w)) * (terms.len() as u64 + (1u64 << (w + 1))))
            .unwrap_or(1);
        let windows = bits.div_ceil(w);
        let mut result = Integer::from(1);
        for j in (0..windows).rev() {
            for _ in 0..w {
                result.square_mut();
                result %= m;
            }
            let mut buckets: Vec<Option<Integer>> = vec![None; (1usize << w) - 1];
            for (c, k) in terms {
                let digit = ((k >> (j * w)) & ((1u64 << w) - 1)) as usize;
                if let Some(slot) = digit.checked_sub(1).and_then(|d| buckets.get_mut(d)) {
                    match slot {
                        Some(b) => {
                            *b *= *c;
                            *b %= m;
                        }
                        None => *slot = Some((*c).clone()),
                    }
                }
            }
            // sum_d d * bucket_d as a running product from the top digit down.
            let (mut running, mut window_sum) = (Integer::from(1), Integer::from(1));
            for b in buckets.iter().rev() {
                if let Some(b) = b {
                    running *= b;
                    running %= m;
                }
                if running != 1 {
                    window_sum *= &running;
                    window_sum %= m;
                }
            }
            result *= window_sum;
            result %= m;
        }
        result
    }
}

impl PrecomputedCiphertext {
    /// E(k x) for a signed k with |k| < 2^max_bits: at most ceil(max_bits / 4) multiplications
    /// (plus one inversion when k < 0). Variable time in k.
    pub fn mul_scalar(&self, k: i64) -> Result<Ciphertext> {
        let mag = k.unsigned_abs();
        if 64 - mag.leading_zeros() > self.max_bits {
            return Err(Error::malformed(
                "scalar",
                "larger than the precomputed table allows",
            ));
        }
        let m = self.pk.n_squared();
        let mut acc = Integer::from(1);
        for (j, row) in self.table.iter().enumerate() {
            let digit = ((u128::from(mag) >> (4 * j)) & 15) as usize;
            if let Some(p) = digit.checked_sub(1).and_then(|d| row.get(d)) {
                acc *= p;
                acc %= m;
            }
        }
        let c = if k < 0 {
            acc.invert(m).map_err(|_| Error::InvalidCiphertext {
                reason: "not invertible mod n^2",
            })?
        } else {
            acc
        };
        Ok(Ciphertext::new(c, &self.pk))
    }
}
