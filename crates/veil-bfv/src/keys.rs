//! Secret and public keys (Fan and Vercauteren, eprint 2012/144, sec. 4: SecretKeyGen, PublicKeyGen).

use core::fmt;
use std::sync::Arc;

use veil_ring::sample::Sampler;
use veil_ring::{Context, Ntt, Poly};
use zeroize::Zeroize;

use crate::error::Result;
use crate::parameters::BfvParameters;

/// A ternary secret s, kept in NTT form over Q P. Wiped on drop; never printed.
pub struct SecretKey {
    pub(crate) params: Arc<BfvParameters>,
    /// Coefficients of s in {-1, 0, 1}.
    pub(crate) coeffs: Vec<i64>,
    /// s in NTT form over Q (for decryption) and over Q P (for key switching).
    pub(crate) s_q: Poly<Ntt>,
    pub(crate) s_qp: Poly<Ntt>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.coeffs.zeroize();
        self.s_q.zeroize();
        self.s_qp.zeroize();
    }
}

/// The public key (b, a) = (-(a s + e), a) with a uniform, in NTT form over Q.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub(crate) params: Arc<BfvParameters>,
    pub(crate) b: Poly<Ntt>,
    pub(crate) a: Poly<Ntt>,
    /// The seed `a` was expanded from: serialized instead of `a`.
    pub(crate) seed: [u8; 32],
}

/// The RLWE sampling helpers live in `veil_ring::rlwe`, shared with the other schemes.
pub(crate) use veil_ring::rlwe::{expand_uniform, fresh_seed, uniform_ntt};

/// An error polynomial (discrete Gaussian, sigma 3.2) of `ctx`.
pub(crate) fn error_poly(
    ctx: &Arc<Context>,
    sampler: &mut Sampler,
) -> Result<Poly<veil_ring::Coeff>> {
    Ok(veil_ring::rlwe::error(ctx, sampler)?)
}

impl SecretKey {
    /// A fresh secret key from the operating system's entropy.
    pub fn generate(params: &Arc<BfvParameters>) -> Result<Self> {
        Self::generate_with(params, &mut Sampler::from_entropy())
    }

    /// A secret key from the caller's sampler (deterministic for a seeded sampler).
    pub fn generate_with(params: &Arc<BfvParameters>, sampler: &mut Sampler) -> Result<Self> {
        let coeffs = sampler.ternary(params.degree());
        let s_q = Poly::from_small(params.ciphertext_context(), &coeffs)?.into_ntt();
        let s_qp = Poly::from_small(params.key_context(), &coeffs)?.into_ntt();
        Ok(SecretKey {
            params: params.clone(),
            coeffs,
            s_q,
            s_qp,
        })
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<BfvParameters> {
        &self.params
    }

    /// The matching public key, with fresh randomness.
    pub fn public_key(&self) -> Result<PublicKey> {
        self.public_key_with(&mut Sampler::from_entropy())
    }

    /// The matching public key, with the caller's sampler.
    pub fn public_key_with(&self, sampler: &mut Sampler) -> Result<PublicKey> {
        let ctx = self.params.ciphertext_context();
        let seed = fresh_seed(sampler);
        let a = expand_uniform(ctx, &seed);
        let e = error_poly(ctx, sampler)?.into_ntt();
        // b = -(a s + e)
        let mut b = a.mul(&self.s_q)?;
        b.add_assign(&e)?;
        Ok(PublicKey {
            params: self.params.clone(),
            b: b.neg(),
            a,
            seed,
        })
    }
}
