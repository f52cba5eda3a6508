//! Relinearization: key switching from s^2 to s. The key switching itself (hybrid, with one
//! special prime P) is `veil_ring::keyswitch`, shared with the other RLWE schemes; this module
//! owns the keys (their sampling from the secret, seeds for the wire format) and the BFV
//! operations on them.

use std::sync::Arc;

use veil_ring::keys::SwitchingKey;
use veil_ring::sample::Sampler;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::SecretKey;
use crate::parameters::BfvParameters;

/// The relinearization key: a key-switching key from s^2 to s (`veil_ring::keys::SwitchingKey`,
/// one pair per prime of Q).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelinearizationKey {
    pub(crate) params: Arc<BfvParameters>,
    /// Shared (`Arc`) so that [`RelinearizationKey::with_parameters`] copies no key material.
    pub(crate) key: Arc<SwitchingKey>,
}

impl SecretKey {
    /// The relinearization key, with fresh randomness.
    pub fn relinearization_key(&self) -> Result<RelinearizationKey> {
        self.relinearization_key_with(&mut Sampler::from_entropy())
    }

    /// The relinearization key, with the caller's sampler.
    pub fn relinearization_key_with(&self, sampler: &mut Sampler) -> Result<RelinearizationKey> {
        let digits = self.params.ciphertext_moduli().len();
        Ok(RelinearizationKey {
            params: self.params.clone(),
            key: Arc::new(self.secret.relinearization_key(digits, sampler)?),
        })
    }
}

impl Ciphertext {
    /// Brings a three-polynomial ciphertext (a product) back to two polynomials.
    pub fn relinearize(&self, rk: &RelinearizationKey) -> Result<Ciphertext> {
        if *rk.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        match self.c.as_slice() {
            [_, _] => Ok(self.clone()),
            [c0, c1, c2] => {
                let rings = self.params.level(self.level)?.rings();
                let (c0, c1) = rk.key.switch(rings, c2, [Some(c0), Some(c1)])?;
                Ok(Ciphertext {
                    params: self.params.clone(),
                    level: self.level,
                    c: vec![c0, c1],
                })
            }
            _ => Err(Error::Mismatch {
                what: "ciphertext size",
            }),
        }
    }

    /// mul then relinearize.
    pub fn mul_relin(&self, other: &Ciphertext, rk: &RelinearizationKey) -> Result<Ciphertext> {
        self.mul(other)?.relinearize(rk)
    }
}
