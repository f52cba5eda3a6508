//! Keys (Cheon, Kim, Kim and Song, Asiacrypt 2017, sec. 3.4: KeyGen; Cheon, Han, Kim, Kim and Song,
//! SAC 2018, sec. 3 for the RNS form): a ternary secret, the public key, and the key-switching keys
//! of relinearization (s^2 -> s) and of the Galois automorphisms (rotations X -> X^(5^k) and
//! conjugation X -> X^(2N-1)). Key switching and its key objects are `veil_ring::keys`, shared
//! with `veil-bfv`.

use core::fmt;
use std::sync::Arc;

use veil_ring::keys::{GaloisKeySet, RlwePublicKey, RlweSecret, SwitchingKey};
use veil_ring::sample::Sampler;
use veil_ring::{Ntt, Poly};

use crate::error::Result;
use crate::parameters::CkksParameters;

/// The generator of slot rotations: X -> X^(5^k) rotates the slots left by k.
pub(crate) const ROTATION_GENERATOR: u64 = 5;

/// A ternary secret s (`veil_ring::keys::RlweSecret`: NTT form over Q P). Wiped on drop (by
/// the shared type); never printed.
pub struct SecretKey {
    pub(crate) params: Arc<CkksParameters>,
    pub(crate) secret: RlweSecret,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// The public key (b, a) = (-(a s + e), a) over Q P (the special prime included, so that
/// encryption can divide its noise by P), NTT form; a is expanded from a seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub(crate) params: Arc<CkksParameters>,
    pub(crate) key: RlwePublicKey,
}

/// The relinearization key: a key-switching key from s^2 to s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelinearizationKey {
    pub(crate) params: Arc<CkksParameters>,
    pub(crate) key: SwitchingKey,
}

/// Key-switching keys for slot rotations and, if generated, conjugation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaloisKeys {
    pub(crate) params: Arc<CkksParameters>,
    pub(crate) set: GaloisKeySet,
}

/// The first limbs of an NTT-form polynomial as a polynomial of `ctx` (whose primes are those
/// limbs' primes): how keys over Q P or Q are used at a lower level.
pub(crate) fn restrict(p: &Poly<Ntt>, ctx: &Arc<veil_ring::Context>) -> Result<Poly<Ntt>> {
    Ok(p.prefix(ctx)?)
}

/// The limbs `indices` of an NTT-form polynomial as a polynomial of `ctx` (whose primes are
/// those limbs' primes): a key over Q P restricted to R_{Q_l P}.
pub(crate) fn select_limbs(
    p: &Poly<Ntt>,
    indices: &[usize],
    ctx: &Arc<veil_ring::Context>,
) -> Result<Poly<Ntt>> {
    let mut data = Vec::with_capacity(indices.len() * ctx.degree());
    for &i in indices {
        if p.context().moduli().get(i) != ctx.moduli().get(data.len() / ctx.degree()) {
            return Err(crate::error::Error::Mismatch {
                what: "primes of the selected limbs",
            });
        }
        data.extend_from_slice(p.limb(i));
    }
    Ok(Poly::from_residues(ctx, data)?)
}

impl SecretKey {
    /// A fresh secret key from the operating system's entropy.
    pub fn generate(params: &Arc<CkksParameters>) -> Result<Self> {
        Self::generate_with(params, &mut Sampler::from_entropy())
    }

    /// A secret key from the caller's sampler (deterministic for a seeded sampler).
    pub fn generate_with(params: &Arc<CkksParameters>, sampler: &mut Sampler) -> Result<Self> {
        Ok(SecretKey {
            params: params.clone(),
            secret: RlweSecret::generate(params.key_context(), sampler)?,
        })
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<CkksParameters> {
        &self.params
    }

    /// s in NTT form at level `l`.
    pub(crate) fn at_level(&self, l: usize) -> Result<Poly<Ntt>> {
        Ok(self.secret.ntt_over(&self.params.level(l)?.ctx)?)
    }

    /// The matching public key, with fresh randomness.
    pub fn public_key(&self) -> Result<PublicKey> {
        self.public_key_with(&mut Sampler::from_entropy())
    }

    /// The matching public key, with the caller's sampler.
    pub fn public_key_with(&self, sampler: &mut Sampler) -> Result<PublicKey> {
        Ok(PublicKey {
            params: self.params.clone(),
            key: self.secret.public_key(self.params.key_context(), sampler)?,
        })
    }

    /// The relinearization key, with fresh randomness.
    pub fn relinearization_key(&self) -> Result<RelinearizationKey> {
        self.relinearization_key_with(&mut Sampler::from_entropy())
    }

    /// The relinearization key, with the caller's sampler.
    pub fn relinearization_key_with(&self, sampler: &mut Sampler) -> Result<RelinearizationKey> {
        Ok(RelinearizationKey {
            params: self.params.clone(),
            key: self
                .secret
                .relinearization_key(self.params.moduli().len(), sampler)?,
        })
    }

    /// Galois keys for left rotations by every power of two below N/2 (any rotation is then at
    /// most log2(N/2) key switchings) and for conjugation.
    pub fn galois_keys(&self) -> Result<GaloisKeys> {
        let slots = self.params.slots();
        let steps: Vec<i64> = (0..slots.trailing_zeros()).map(|b| 1i64 << b).collect();
        self.galois_keys_for(&steps, true, &mut Sampler::from_entropy())
    }

    /// Galois keys for the given rotation steps (negative: right) and, if asked, conjugation.
    pub fn galois_keys_for(
        &self,
        steps: &[i64],
        conjugation: bool,
        sampler: &mut Sampler,
    ) -> Result<GaloisKeys> {
        let conj = [2 * self.params.degree() as u64 - 1];
        let extra = if conjugation { &conj[..] } else { &[] };
        let digits = self.params.moduli().len();
        let set = (self.secret).galois_keys(digits, ROTATION_GENERATOR, steps, extra, sampler)?;
        Ok(GaloisKeys {
            params: self.params.clone(),
            set,
        })
    }
}

impl GaloisKeys {
    /// The rotation steps (left, in (0, N/2)) that have a key.
    pub fn steps(&self) -> &[usize] {
        self.set.steps()
    }

    /// Whether conjugation has a key.
    pub fn has_conjugation(&self) -> bool {
        self.set.get(2 * self.params.degree() as u64 - 1).is_some()
    }

    /// How many key switchings a rotation by `step` costs with these keys (`None`: impossible).
    pub fn rotation_cost(&self, step: i64) -> Option<usize> {
        self.set.plan(step).map(|p| p.len())
    }
}
