//! Choosing the BFV parameters of the lattice modes from the model's tracked bounds.
//!
//! **Plaintext modulus.** Arithmetic in the slots is modulo t, and every step of the fast mode is
//! linear, so intermediate values may wrap freely: only the final integers v_i must lie in
//! (-t/2, t/2) to be decoded exactly. The quantizer tracks |v_i| <= V
//! ([`crate::quant::PublicParams::output_bound`], the worst case over every admissible input), so
//! t is the largest batching prime (t = 1 mod 2N) with bits(2V) + 1 bits: t >= 2^bits(2V) > 2V.
//!
//! **Ciphertext modulus.** A plaintext product by a diagonal (coefficients up to t/2 in the
//! coefficient domain) multiplies the invariant noise by about sqrt(N) t / (2 sqrt 3), and a
//! product sums D of them (sqrt(D) in the average case): a matrix product costs about
//! t_bits + log2(N)/2 + log2(D)/2 bits of noise budget ([`NoisePlan`]). The chain gets enough
//! primes for a fresh ciphertext, two products, the rotations, and the circuit-privacy reserve
//! that the sanitization needs left at the end (`docs/cryptorec-lattice.md`).

use std::sync::Arc;

use veil_bfv::{BfvParameters, BfvParametersBuilder, max_log_qp_128};

use crate::error::{Error, Result};

/// Settings of the lattice modes (both fast and accurate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatticeConfig {
    /// Ring degree N (a power of two, 2^10..=2^15). The slots form 2 rows of N/2: the model's
    /// items must fit in one row (m <= N/2).
    pub degree: usize,
    /// Size in bits of each ciphertext prime and of the special prime (below 50 so that the
    /// IFMA kernels of veil-ring apply).
    pub prime_bits: u32,
    /// Baby steps of the diagonal method (a power of two; `None`: about sqrt of the period).
    pub baby_steps: Option<usize>,
    /// Accept parameters below the 128-bit bound of the HE standard (tests only).
    pub allow_below_128_bit_security: bool,
    /// Sanitize replies (circuit privacy). Turning it off makes the reply's noise depend on the
    /// model: only for measuring what the sanitization costs and for the test that shows it.
    pub circuit_privacy: bool,
}

impl Default for LatticeConfig {
    /// N = 16384 (8192 slots per row: ML-1M's 3,952 items fit), 50-bit primes, circuit privacy.
    fn default() -> Self {
        LatticeConfig {
            degree: 16384,
            prime_bits: 50,
            baby_steps: None,
            allow_below_128_bit_security: false,
            circuit_privacy: true,
        }
    }
}

/// Bits of noise budget the reply must keep before sanitization: veil-bfv's
/// [`veil_bfv::sanitize_reserve_bits`], 40 (statistical distance) + 2 + log2 N, as a function of
/// the degree (the plan is made before the parameters exist).
pub fn sanitize_reserve_bits(degree: usize) -> u32 {
    veil_bfv::SANITIZE_SECURITY_BITS + 2 + degree.trailing_zeros()
}

/// The noise budget (bits) each step consumes, by the model of the module docs; calibrated against
/// `SecretKey::noise_budget` in `tests/lattice_fast.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoisePlan {
    /// A fresh symmetric encryption: t and the rounding of Delta m.
    pub fresh: u32,
    /// One plaintext-matrix product with D diagonals (rotations included).
    pub per_product: u32,
    /// Left for the sanitization.
    pub reserve: u32,
}

impl NoisePlan {
    /// The plan for `products` matrix products with `diagonals` diagonals at plaintext modulus
    /// bits `t_bits` and degree `degree`.
    pub fn new(degree: usize, t_bits: u32, diagonals: usize) -> Self {
        let log_n = degree.trailing_zeros();
        let log_d = diagonals.next_power_of_two().trailing_zeros();
        NoisePlan {
            fresh: t_bits + 12,
            per_product: t_bits + log_n.div_ceil(2) + log_d.div_ceil(2) + 4,
            reserve: sanitize_reserve_bits(degree),
        }
    }

    /// log2 Q needed for `products` products plus an 8-bit margin.
    pub fn modulus_bits(&self, products: u32) -> u32 {
        self.fresh + products * self.per_product + self.reserve + 8
    }
}

/// The batching plaintext modulus for integers bounded by `bound` in absolute value: a prime
/// t = 1 (mod 2N) with t > 2 bound, so that (-t/2, t/2) holds every value.
pub fn plaintext_bits_for(bound: u128) -> u32 {
    let two_v = bound.saturating_mul(2).max(1);
    (128 - two_v.leading_zeros()) + 1
}

/// BFV parameters for integers bounded by `bound` through `products` matrix products of
/// `diagonals` diagonals each.
pub fn choose_parameters(
    cfg: &LatticeConfig,
    bound: u128,
    products: u32,
    diagonals: usize,
) -> Result<Arc<BfvParameters>> {
    let t_bits = plaintext_bits_for(bound);
    // The last prime must hold t, the flooding (Q_l / 8t) and the rounding of the last modulus
    // switch (about 2^9 at these N): t_bits + 12 bits at least.
    if t_bits + 12 > cfg.prime_bits {
        return Err(Error::Invalid {
            reason: "the model's output bound needs a plaintext modulus too large for one \
                     ciphertext prime (lower the weight bits or the rating fraction bits)",
        });
    }
    let plan = NoisePlan::new(cfg.degree, t_bits, diagonals);
    let primes = plan.modulus_bits(products).div_ceil(cfg.prime_bits) as usize;
    let sizes = vec![cfg.prime_bits; primes + 1];
    let log_qp = cfg.prime_bits * (primes as u32 + 1);
    if !cfg.allow_below_128_bit_security
        && max_log_qp_128(cfg.degree).is_none_or(|max| log_qp > max)
    {
        return Err(Error::Invalid {
            reason: "the model needs a larger modulus than 128-bit security allows at this degree \
                     (use a larger degree)",
        });
    }
    let mut b = BfvParametersBuilder::new()
        .degree(cfg.degree)
        .moduli_sizes(&sizes)
        .batching_plaintext_bits(t_bits);
    if cfg.allow_below_128_bit_security {
        b = b.allow_below_128_bit_security();
    }
    let params = b.build()?;
    if u128::from(params.plaintext_modulus()) <= bound.saturating_mul(2) {
        return Err(Error::Invalid {
            reason: "no batching prime above twice the output bound",
        });
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_modulus_exceeds_twice_the_bound() {
        for bound in [1u128, 2, 3, 1000, (1 << 20) - 1, 1 << 20, (1 << 33) + 12345] {
            let bits = plaintext_bits_for(bound);
            // The smallest prime of `bits` bits is at least 2^(bits - 1) > 2 bound.
            assert!(1u128 << (bits - 1) > 2 * bound, "bound {bound}");
        }
    }

    #[test]
    fn chosen_parameters_hold_the_bound() {
        let cfg = LatticeConfig {
            degree: 4096,
            allow_below_128_bit_security: true,
            ..LatticeConfig::default()
        };
        let bound = (1u128 << 30) + 7;
        let p = choose_parameters(&cfg, bound, 2, 64).unwrap_or_else(|e| panic!("{e}"));
        assert!(u128::from(p.plaintext_modulus()) > 2 * bound);
        assert!(p.supports_batching());
        // Too large for one plaintext modulus below a 50-bit prime.
        assert!(choose_parameters(&cfg, 1u128 << 40, 2, 64).is_err());
    }
}
