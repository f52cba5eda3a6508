//! Circuit privacy: a server's reply whose noise does not reveal the computation that made it
//! (noise flooding, Gentry's thesis sec. 21; the smudging lemma as in Asharov et al., Eurocrypt
//! 2012, Lemma 2.1), and ciphertexts built from polynomials.
//!
//! A reply r = (c_0, c_1) with phase c_0 + c_1 s = Delta m + e at level l becomes
//! r + Enc_pk(0) + (F, 0), F with coefficients uniform in [-B, B], B = floor(Q_l / (8 t)):
//! - the fresh encryption of zero makes c_1 a fresh RLWE sample, computationally independent of
//!   how r was computed;
//! - F hides e: per coefficient, F + e and F are within |e| / (2B + 1) in statistical distance.
//!   A noise budget of b bits (as [`SecretKey::noise_budget`](crate::SecretKey::noise_budget)
//!   measures it) means t |e| < Q_l 2^-b, so over the N coefficients the distance is at most
//!   N |e| / (2B + 1) <= N 2^(2 - b). With b >= [`sanitize_reserve_bits`] = 42 + log2 N, a
//!   sanitized reply is within 2^-40 of a reply that depends only on m.
//!
//! The noise after flooding is at most Q_l / (8 t) plus a fresh encryption's, far below the
//! Q_l / (2 t) that decryption tolerates; the reply is then switched down to the smallest level
//! whose modulus Q' still satisfies 3 Q' > 4 t (N + 1) + 8 t^2: switching adds at most
//! (N + 1) / 2 (rounding, ternary secret) plus t (the scaled message's rounding), which then stays
//! below the 3 Q' / (8 t) left after flooding. The shorter reply costs fewer bytes.

use std::sync::Arc;

use num_bigint::BigUint;

use veil_ring::sample::Sampler;
use veil_ring::{Coeff, Poly};

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PublicKey, error_poly};
use crate::parameters::BfvParameters;

/// Statistical distance exponent of [`PublicKey::sanitize`]: a sanitized reply is within 2^-40
/// of one that depends only on its plaintext, when its budget was at least
/// [`sanitize_reserve_bits`].
pub const SANITIZE_SECURITY_BITS: u32 = 40;

/// The noise budget (in bits) a ciphertext must have left when it is sanitized:
/// [`SANITIZE_SECURITY_BITS`] + 2 + log2 N (module docs). The server cannot measure the budget
/// without the secret key: its circuit's noise model must guarantee it (and tests should check
/// the model with `noise_budget`).
pub fn sanitize_reserve_bits(params: &BfvParameters) -> u32 {
    SANITIZE_SECURITY_BITS + 2 + params.degree().trailing_zeros()
}

impl Ciphertext {
    /// The ciphertext with polynomials `polys` (coefficient form) at `level`: each must be over
    /// the primes of that level (the first k - level primes of Q), and there must be 2 or 3 of
    /// them. Use it to build replies from polynomials computed outside this crate.
    pub fn from_polynomials(
        params: &Arc<BfvParameters>,
        level: usize,
        polys: Vec<Poly<Coeff>>,
    ) -> Result<Self> {
        let ctx = &params.level(level)?.ctx;
        if !(2..=3).contains(&polys.len()) {
            return Err(Error::Mismatch {
                what: "ciphertext size: need 2 or 3 polynomials",
            });
        }
        if polys.iter().any(|p| p.context() != ctx) {
            return Err(Error::Mismatch {
                what: "polynomial ring: not the level's primes",
            });
        }
        Ok(Ciphertext {
            params: params.clone(),
            level,
            c: polys,
        })
    }
}

impl PublicKey {
    /// The parameters this key was made for.
    pub fn parameters(&self) -> &Arc<BfvParameters> {
        &self.params
    }

    /// An encryption of zero at `level`: (b u + e_0, a u + e_1) over the level's primes.
    fn encrypt_zero_at(&self, level: usize, sampler: &mut Sampler) -> Result<Ciphertext> {
        let ctx = &self.params.level(level)?.ctx;
        let u = zeroize::Zeroizing::new(sampler.ternary(ctx.degree()));
        let u = Poly::from_small(ctx, &u)?.into_ntt();
        let mut c0 = self.key.b.prefix(ctx)?.mul(&u)?.into_coeff();
        let mut c1 = self.key.a.prefix(ctx)?.mul(&u)?.into_coeff();
        c0.add_assign(&error_poly(ctx, sampler)?)?;
        c1.add_assign(&error_poly(ctx, sampler)?)?;
        Ciphertext::from_polynomials(&self.params, level, vec![c0, c1])
    }

    /// Circuit privacy for a reply: re-randomizes `ct` with a fresh encryption of zero, floods
    /// its noise with uniform noise in [-Q_l / 8t, Q_l / 8t], and switches it down to the
    /// smallest level that still decrypts (module docs: the statistical argument and the
    /// condition on the remaining noise budget, [`sanitize_reserve_bits`]).
    ///
    /// `ct` must be relinearized (2 polynomials). Use a sampler seeded from the operating system
    /// ([`Sampler::from_entropy`]) in production: the flooding must be unpredictable to the client.
    pub fn sanitize(&self, ct: &Ciphertext, sampler: &mut Sampler) -> Result<Ciphertext> {
        if *ct.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        if ct.c.len() != 2 {
            return Err(Error::Mismatch {
                what: "ciphertext size: relinearize before sanitizing",
            });
        }
        let level = ct.level;
        let ctx = self.params.level(level)?.ctx.clone();
        let t = self.params.plaintext_modulus();
        let mut out = ct.add(&self.encrypt_zero_at(level, sampler)?)?;
        let flood = veil_ring::rlwe::flooding(&ctx, t.saturating_mul(8), sampler)?;
        out.c[0].add_assign(&flood)?;
        let target = self.lowest_safe_level(level)?;
        out.at_level(target).map(std::borrow::Cow::into_owned)
    }

    /// The highest level index j >= `from` whose modulus satisfies 3 Q_j > 4 t (N + 1) + 8 t^2
    /// (module docs).
    fn lowest_safe_level(&self, from: usize) -> Result<usize> {
        let t = BigUint::from(self.params.plaintext_modulus());
        let n = BigUint::from(self.params.degree());
        let need = BigUint::from(4u32) * &t * (n + 1u32) + BigUint::from(8u32) * &t * &t;
        let mut best = from;
        for j in from..=self.params.max_level() {
            let q: BigUint = self
                .params
                .level(j)?
                .ctx
                .moduli()
                .iter()
                .map(|q| q.value())
                .product();
            if q * 3u32 > need {
                best = j;
            }
        }
        Ok(best)
    }
}
