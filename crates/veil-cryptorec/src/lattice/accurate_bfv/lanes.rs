//! The plaintext moduli of the exact accurate mode: k batching primes t_1 > ... > t_k of one size
//! (t_j = 1 mod 2N), whose product exceeds twice the result bound, and one ciphertext chain
//! shared by every lane (so one key set serves them all, `veil_bfv` `with_parameters`); and the
//! client's CRT recombination.
//!
//! **Noise plan** (bits of budget per step, at plaintext bits t, degree N, D diagonals; the
//! plaintext-product model of [`crate::lattice::NoisePlan`]): fresh t + 12, plaintext-matrix
//! product t + log2(N)/2 + log2(D)/2 + 4, ciphertext product (HPS, then relinearization)
//! t + log2 N + 11 (calibrated with `SecretKey::noise_budget` in `tests/lattice_accurate_bfv.rs`),
//! and the sanitization's reserve 42 + log2 N + log2(2k): veil-bfv's `sanitize` puts a ciphertext
//! with b bits of budget left within N 2^(2 - b) of one that depends only on its plaintext, so
//! each of the reply's 2k ciphertexts is then within 2^-40 / (2k), and the reply within 2^-40.
//! The deepest path of the circuit (X -> A' -> Q' -> x PHI -> Q'^T -> x P -> x E) has 3 plaintext
//! products and 3 ciphertext products ([`AccurateNoise::modulus_bits`]). At N = 16384 within
//! 128-bit security (Q P <= 438 bits, the special prime 50 bits) that allows t <= 26 bits; the
//! lane count is then about bits(2 R) / (t - 1).

use std::sync::Arc;

use num_bigint::{BigInt, BigUint};
use num_traits::Zero;
use veil_bfv::{BfvParameters, BfvParametersBuilder, max_log_qp_128};

use crate::error::{Error, Result};
use crate::lattice::params::{LatticeConfig, NoisePlan, sanitize_reserve_bits};

/// At most this many plaintext lanes.
pub const MAX_LANES: usize = 12;
/// Smallest lane prime size (enough batching primes exist at every degree up to 2^15).
const MIN_T_BITS: u32 = 20;

/// Noise budget per step of the accurate circuit (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccurateNoise {
    /// Fresh symmetric encryption.
    pub fresh: u32,
    /// One plaintext-matrix product.
    pub plain_product: u32,
    /// One ciphertext product with relinearization.
    pub ciphertext_product: u32,
    /// Left for the sanitization: 42 + log2 N + log2(2k) bits, so that each of the 2k reply
    /// ciphertexts is within 2^-40 / (2k) and the whole reply within 2^-40 (module docs).
    pub reserve: u32,
}

impl AccurateNoise {
    /// The plan at `degree`, lane prime bits `t_bits`, `diagonals` per product, `lanes` lanes.
    pub fn new(degree: usize, t_bits: u32, diagonals: usize, lanes: usize) -> Self {
        let plan = NoisePlan::new(degree, t_bits, diagonals);
        AccurateNoise {
            fresh: plan.fresh,
            plain_product: plan.per_product,
            ciphertext_product: t_bits + degree.trailing_zeros() + 11,
            reserve: sanitize_reserve_bits(degree)
                + (2 * lanes).next_power_of_two().trailing_zeros(),
        }
    }

    /// log2 Q for the deepest path (3 plaintext, 3 ciphertext products) and an 8-bit margin.
    pub fn modulus_bits(&self) -> u32 {
        self.fresh + 3 * self.plain_product + 3 * self.ciphertext_product + self.reserve + 8
    }
}

/// The lanes: one parameter set per plaintext prime, all over the same ciphertext chain.
#[derive(Clone, Debug)]
pub struct Lanes {
    /// Parameters of each lane (only t differs).
    pub params: Vec<Arc<BfvParameters>>,
    crt: Crt,
}

impl Lanes {
    /// Chooses k and t for results bounded by `bound` (|v| <= bound), minimizing k times the
    /// number of ciphertext primes (the server's work), within 128-bit security unless
    /// `cfg.allow_below_128_bit_security`.
    pub fn choose(cfg: &LatticeConfig, bound: &BigUint, diagonals: usize) -> Result<Self> {
        let n = cfg.degree;
        let need_bits = (bound * 2u32 + 1u32).bits() as u32;
        let max_qp = match max_log_qp_128(n) {
            Some(max) if !cfg.allow_below_128_bit_security => max,
            _ => u32::MAX,
        };
        // (lanes, t bits, primes of Q, bits of each prime of Q)
        let mut best: Option<(usize, u32, usize, u32)> = None;
        for k in 1..=MAX_LANES {
            let t_bits = (need_bits.div_ceil(k as u32) + 1).max(MIN_T_BITS);
            let q_bits = AccurateNoise::new(n, t_bits, diagonals, k).modulus_bits();
            // Q's primes of equal size at most prime_bits; the special prime has prime_bits.
            let primes = q_bits.div_ceil(cfg.prime_bits);
            let size = q_bits.div_ceil(primes);
            if t_bits + 12 > size || primes * size + cfg.prime_bits > max_qp || primes > 24 {
                continue;
            }
            let primes = primes as usize;
            if best.is_none_or(|(bk, _, bp, _)| k * primes < bk * bp) {
                best = Some((k, t_bits, primes, size));
            }
        }
        let (k, t_bits, primes, size) = best.ok_or(Error::Invalid {
            reason: "the exact accurate mode's bound needs more noise budget or lanes than this \
                     degree allows (use a larger degree or fewer weight bits)",
        })?;
        let ts = veil_ring::primes::ntt_primes(t_bits, n, k).map_err(|_| Error::Invalid {
            reason: "not enough batching primes of the lane size",
        })?;
        let mut sizes = vec![size; primes];
        sizes.push(cfg.prime_bits);
        let mut first = BfvParametersBuilder::new()
            .degree(n)
            .moduli_sizes(&sizes)
            .plaintext_modulus(ts[0]);
        if cfg.allow_below_128_bit_security {
            first = first.allow_below_128_bit_security();
        }
        let first = first.build()?;
        Self::from_first(first, &ts[1..], cfg.allow_below_128_bit_security)
    }

    /// Lanes from the first lane's parameters and the other plaintext primes (the client's
    /// reconstruction from the setup message). Checks batching, distinct primes.
    pub fn from_first(
        first: Arc<BfvParameters>,
        others: &[u64],
        allow_below_128_bit_security: bool,
    ) -> Result<Self> {
        let mut chain = first.ciphertext_moduli().to_vec();
        chain.push(first.special_modulus());
        let mut params = vec![first.clone()];
        for &t in others {
            let mut b = BfvParametersBuilder::new()
                .degree(first.degree())
                .moduli(&chain)
                .plaintext_modulus(t);
            if allow_below_128_bit_security {
                b = b.allow_below_128_bit_security();
            }
            params.push(b.build()?);
        }
        if params.len() > MAX_LANES || params.iter().any(|p| !p.supports_batching()) {
            return Err(Error::Invalid {
                reason: "lanes must be at most MAX_LANES batching plaintext primes",
            });
        }
        let ts: Vec<u64> = params.iter().map(|p| p.plaintext_modulus()).collect();
        let crt = Crt::new(&ts)?;
        Ok(Lanes { params, crt })
    }

    /// t_1, ..., t_k.
    pub fn primes(&self) -> Vec<u64> {
        self.params.iter().map(|p| p.plaintext_modulus()).collect()
    }

    /// Their product.
    pub fn modulus(&self) -> &BigUint {
        &self.crt.modulus
    }

    /// The CRT recombination.
    pub fn crt(&self) -> &Crt {
        &self.crt
    }
}

/// CRT over pairwise distinct primes: v = sum_j r_j M_j (M_j^-1 mod t_j) mod M, centered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crt {
    primes: Vec<u64>,
    modulus: BigUint,
    coefficients: Vec<BigUint>,
}

impl Crt {
    /// Precomputes M and the coefficients M_j (M_j^-1 mod t_j); the t_j must be distinct primes.
    pub fn new(primes: &[u64]) -> Result<Self> {
        let mut sorted = primes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if primes.is_empty()
            || sorted.len() != primes.len()
            || primes.iter().any(|&t| !veil_ring::primes::is_prime(t))
        {
            return Err(Error::Invalid {
                reason: "CRT needs distinct primes",
            });
        }
        let modulus: BigUint = primes.iter().map(|&t| BigUint::from(t)).product();
        let coefficients = primes
            .iter()
            .map(|&t| {
                let tj = BigUint::from(t);
                let mj = &modulus / &tj;
                // Fermat: (M_j mod t)^(t - 2) mod t.
                let inv = (&mj % &tj).modpow(&BigUint::from(t - 2), &tj);
                mj * inv
            })
            .collect();
        Ok(Crt {
            primes: primes.to_vec(),
            modulus,
            coefficients,
        })
    }

    /// The integer in (-M/2, M/2] with the given residues (one per prime, each below it).
    pub fn centered(&self, residues: &[u64]) -> Result<BigInt> {
        if residues.len() != self.primes.len()
            || residues.iter().zip(&self.primes).any(|(r, t)| r >= t)
        {
            return Err(Error::Invalid {
                reason: "one residue below each CRT prime is needed",
            });
        }
        let mut v = BigUint::zero();
        for (r, c) in residues.iter().zip(&self.coefficients) {
            v += c * BigUint::from(*r);
        }
        v %= &self.modulus;
        let half = &self.modulus >> 1u32;
        Ok(if v > half {
            BigInt::from(v) - BigInt::from(self.modulus.clone())
        } else {
            BigInt::from(v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::One;

    #[test]
    fn crt_recovers_centered_integers() {
        let ts = veil_ring::primes::ntt_primes(25, 4096, 4).unwrap();
        let crt = Crt::new(&ts).unwrap();
        let m = BigInt::from(crt.modulus.clone());
        for v in [
            BigInt::zero(),
            BigInt::one(),
            -BigInt::one(),
            BigInt::from(123456789012345678i64) * 1_000_003,
            BigInt::one() - &m / BigInt::from(2),
            &m / BigInt::from(2),
        ] {
            let residues: Vec<u64> = ts
                .iter()
                .map(|&t| {
                    let r = &v % BigInt::from(t);
                    let r = if r < BigInt::zero() {
                        r + BigInt::from(t)
                    } else {
                        r
                    };
                    u64::try_from(r).unwrap()
                })
                .collect();
            assert_eq!(crt.centered(&residues).unwrap(), v);
        }
        assert!(Crt::new(&[ts[0], ts[0]]).is_err());
        assert!(crt.centered(&[0, 0]).is_err());
    }

    #[test]
    fn lanes_hold_twice_the_bound() {
        let cfg = LatticeConfig {
            degree: 2048,
            allow_below_128_bit_security: true,
            ..LatticeConfig::default()
        };
        for bits in [30u32, 90, 140] {
            let bound = (BigUint::one() << bits) - 1u32;
            let lanes = Lanes::choose(&cfg, &bound, 8).unwrap();
            assert!(*lanes.modulus() > bound * 2u32, "{bits}");
            let first = &lanes.params[0];
            assert!(lanes.params.iter().all(|p| p.same_rings(first)));
        }
        // At N = 16384 within 128-bit security the plan fits the ML-1M bound of about 140 bits.
        let secure = LatticeConfig::default();
        let lanes = Lanes::choose(&secure, &(BigUint::one() << 140), 512).unwrap();
        assert!(lanes.params.len() <= 8);
    }
}
