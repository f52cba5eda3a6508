//! Precomputed randomness: the r^n mod n^2 factors computed ahead, in parallel, so that online
//! encryption is one multiplication mod n^2.

use core::fmt;

use rand::rngs::ThreadRng;
use rayon::prelude::*;
use rug::Integer;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};
use crate::secret::SecretInteger;

/// A pool of randomizing factors for one public key. Each factor is used once and wiped.
///
/// ```
/// use veil_paillier::{KeyGenerator, RandomnessPool};
/// let sk = KeyGenerator::new(1024).generate()?;
/// let mut pool = RandomnessPool::new(sk.public_key());
/// pool.fill(8);                       // offline: 8 exponentiations on all cores
/// let ct = pool.encrypt(42)?;         // online: one multiplication
/// assert_eq!(sk.decrypt_i64(&ct)?, 42);
/// # Ok::<(), veil_paillier::Error>(())
/// ```
pub struct RandomnessPool {
    pk: PublicKey,
    factors: Vec<SecretInteger>,
}

impl fmt::Debug for RandomnessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RandomnessPool {{ key: {:?}, available: {} }}",
            self.pk,
            self.factors.len()
        )
    }
}

impl RandomnessPool {
    /// An empty pool for `pk`.
    pub fn new(pk: &PublicKey) -> Self {
        RandomnessPool {
            pk: pk.clone(),
            factors: Vec::new(),
        }
    }

    /// Adds `count` factors r^n mod n^2, computed on all rayon threads.
    pub fn fill(&mut self, count: usize) {
        let pk = self.pk.clone();
        self.extend_with(count, |rng| pk.fresh_randomness(rng));
    }

    /// Adds `count` factors computed by the key holder's CRT shortcut (about 3x cheaper).
    pub fn fill_with_private_key(&mut self, sk: &PrivateKey, count: usize) -> Result<()> {
        if *sk.public_key() != self.pk {
            return Err(Error::KeyMismatch);
        }
        self.extend_with(count, |rng| sk.fresh_randomness(rng));
        Ok(())
    }

    /// Computes `count` factors on all rayon threads, each thread with its own RNG.
    pub(crate) fn extend_with(
        &mut self,
        count: usize,
        factor: impl Fn(&mut ThreadRng) -> Integer + Sync,
    ) {
        let new: Vec<SecretInteger> = (0..count)
            .into_par_iter()
            .map_init(rand::rng, |rng, _| SecretInteger::new(factor(rng)))
            .collect();
        self.factors.extend(new);
    }

    /// The key the factors belong to.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }

    /// Factors left.
    pub fn len(&self) -> usize {
        self.factors.len()
    }

    /// Whether no factor is left.
    pub fn is_empty(&self) -> bool {
        self.factors.is_empty()
    }

    /// Encrypts a signed integer with a pooled factor: (1 + m n) r^n mod n^2.
    pub fn encrypt(&mut self, m: impl Into<Integer>) -> Result<Ciphertext> {
        let m = self.pk.encode_signed(&m.into())?;
        let rn = self.factors.pop().ok_or(Error::PoolEmpty)?;
        Ok(self.pk.encrypt_residue_with(&m, &rn))
    }

    /// Re-randomizes a ciphertext with a pooled factor: one multiplication.
    pub fn rerandomize(&mut self, ct: &Ciphertext) -> Result<Ciphertext> {
        self.pk.check_key(ct)?;
        let rn = self.factors.pop().ok_or(Error::PoolEmpty)?;
        Ok(self.pk.mul_by_randomness(ct, &rn))
    }
}
