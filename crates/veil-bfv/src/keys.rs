//! Secret and public keys (Fan and Vercauteren, eprint 2012/144, sec. 4: SecretKeyGen, PublicKeyGen).

use core::fmt;
use std::sync::Arc;

use veil_ring::keys::{RlwePublicKey, RlweSecret};
use veil_ring::sample::Sampler;
use veil_ring::{Context, Ntt, Poly};
use zeroize::Zeroize;

use crate::error::Result;
use crate::parameters::BfvParameters;

/// A ternary secret s (`veil_ring::keys::RlweSecret`, NTT form over Q P for key switching), and
/// its NTT form over Q for decryption. Wiped on drop; never printed.
pub struct SecretKey {
    pub(crate) params: Arc<BfvParameters>,
    pub(crate) secret: RlweSecret,
    pub(crate) s_q: Poly<Ntt>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.s_q.zeroize();
    }
}

/// The public key (b, a) = (-(a s + e), a) with a uniform, in NTT form over Q.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub(crate) params: Arc<BfvParameters>,
    pub(crate) key: RlwePublicKey,
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
        let secret = RlweSecret::generate(params.key_context(), sampler)?;
        let s_q = secret.ntt_over(params.ciphertext_context())?;
        Ok(SecretKey {
            params: params.clone(),
            secret,
            s_q,
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
        Ok(PublicKey {
            params: self.params.clone(),
            key: self
                .secret
                .public_key(self.params.ciphertext_context(), sampler)?,
        })
    }
}
