//! Key-holder randomness from a fixed generator, for keys with safe primes: rho_p = G_p^a mod p^2
//! by fixed-base windowing (Handbook of Applied Cryptography, Alg. 14.109, h = 1024), about 103
//! multiplications mod p^2 instead of a 1024-bit exponentiation.
//!
//! Mod p^2 the n-th residues form the cyclic group T_p of order p - 1, the image of Z_p^* under
//! x -> x^p. If g generates Z_p^*, G_p = g^p mod p^2 generates T_p, and G_p^a for a uniform in
//! [0, p - 1) is uniform on T_p: the same distribution as r^n mod p^2 (see
//! [`crate::PrivateKey::encrypt`]). Finding g needs the factors of p - 1, known for a safe prime
//! p = 2p' + 1: g generates Z_p^* iff g^2 != 1 and g^p' != 1. So this needs
//! [`crate::KeyGenerator::safe_primes`].
//!
//! Variable time: the table is indexed by the secret digits of a, so a co-located attacker
//! watching the cache could learn a and with it the plaintext of that ciphertext. Use it where
//! that threat does not apply, or use [`crate::PrivateKey::encrypt`].

use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use rug::Integer;

use crate::ciphertext::Ciphertext;
use crate::crypt::crt_combine;
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};
use crate::pool::RandomnessPool;
use crate::random::random_nonzero_below;
use crate::secret::SecretInteger;

const WINDOW: u32 = 10;

/// Precomputed powers of generators of T_p and T_q (about 27 MB each at 2048 bits). Wiped on drop.
pub struct FixedBaseRandomness {
    pk: PublicKey,
    p: Half,
    q: Half,
    p_squared: SecretInteger,
    p2_inv_q2: SecretInteger,
}

/// One prime's half: the modulus p^2, the order p - 1, and table[i][d - 1] = G^(d 1024^i).
struct Half {
    modulus: SecretInteger,
    order: SecretInteger,
    table: Vec<Vec<SecretInteger>>,
}

impl core::fmt::Debug for FixedBaseRandomness {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "FixedBaseRandomness {{ key: {:?}, tables: <redacted> }}",
            self.pk
        )
    }
}

impl Half {
    fn new(prime: &Integer, modulus: &Integer) -> Result<Self> {
        let order = Integer::from(prime - 1u32);
        let half = Integer::from(&order >> 1u32);
        if !half.is_odd() || half.is_probably_prime(30) == rug::integer::IsPrime::No {
            return Err(Error::InvalidKey {
                key: "private",
                reason: "fixed-base randomness needs safe primes (KeyGenerator::safe_primes)",
            });
        }
        // The smallest generator of Z_p^*: order p - 1 = 2 p' iff g^2 != 1 and g^p' != 1.
        let mut g = Integer::from(2);
        while Integer::from(g.square_ref()) % prime == 1
            || g.pow_mod_ref(&half, prime).map(Integer::from) == Some(Integer::from(1))
        {
            g += 1;
        }
        let big = g.pow_mod(prime, modulus).map_err(|_| Error::InvalidKey {
            key: "private",
            reason: "generator",
        })?;
        let windows = order.significant_bits().div_ceil(WINDOW);
        let mut table = Vec::with_capacity(windows as usize);
        let mut base = big;
        for _ in 0..windows {
            let mut row = Vec::with_capacity((1 << WINDOW) - 1);
            let mut acc = base.clone();
            for _ in 1..(1 << WINDOW) {
                row.push(SecretInteger::new(acc.clone()));
                acc *= &base;
                acc %= modulus;
            }
            // acc = base^(2^WINDOW) now.
            base = acc;
            table.push(row);
        }
        Ok(Half {
            modulus: SecretInteger::new(modulus.clone()),
            order: SecretInteger::new(order),
            table,
        })
    }

    /// G^a mod p^2 for a uniform in [1, p - 1).
    fn sample<R: RngCore + CryptoRng + ?Sized>(&self, rng: &mut R) -> Integer {
        let a = SecretInteger::new(random_nonzero_below(&self.order, rng));
        let mut acc = Integer::from(1);
        for (i, row) in self.table.iter().enumerate() {
            let digit = a.get_bits(i as u32 * WINDOW, WINDOW);
            if let Some(t) = (digit as usize).checked_sub(1).and_then(|d| row.get(d)) {
                acc *= &**t;
                acc %= &*self.modulus;
            }
        }
        acc
    }
}

/// The `WINDOW` bits of x starting at bit `start`.
trait Bits {
    fn get_bits(&self, start: u32, len: u32) -> u32;
}

impl Bits for Integer {
    fn get_bits(&self, start: u32, len: u32) -> u32 {
        (0..len).fold(0, |acc, k| acc | (u32::from(self.get_bit(start + k)) << k))
    }
}

impl PrivateKey {
    /// Builds the fixed-base tables (about 210,000 multiplications, 0.2 s on one core at 2048 bits). Fails with
    /// [`Error::InvalidKey`] unless both primes are safe primes. Variable time: see the module
    /// docs.
    pub fn fixed_base_randomness_vartime(&self) -> Result<FixedBaseRandomness> {
        let (p, q) = rayon::join(
            || Half::new(&self.p, &self.p_squared),
            || Half::new(&self.q, &self.q_squared),
        );
        Ok(FixedBaseRandomness {
            pk: self.public_key().clone(),
            p: p?,
            q: q?,
            p_squared: self.p_squared.clone(),
            p2_inv_q2: self.p2_inv_q2.clone(),
        })
    }

    /// Encrypts every value with fixed-base randomness, in parallel. Variable time.
    pub fn encrypt_batch_fixed_base_vartime(
        &self,
        fb: &FixedBaseRandomness,
        values: &[i64],
    ) -> Result<Vec<Ciphertext>> {
        if fb.pk != *self.public_key() {
            return Err(Error::KeyMismatch);
        }
        let pk = self.public_key();
        values
            .par_iter()
            .map_init(rand::rng, |rng, &v| {
                let m = pk.encode_signed(&Integer::from(v))?;
                Ok(pk.encrypt_residue_with(&m, &fb.sample(rng)))
            })
            .collect()
    }
}

impl FixedBaseRandomness {
    /// A uniform n-th residue mod n^2 (as r^n mod n^2 for uniform r), by CRT.
    pub(crate) fn sample<R: RngCore + CryptoRng + ?Sized>(&self, rng: &mut R) -> Integer {
        let rp = SecretInteger::new(self.p.sample(rng));
        let rq = SecretInteger::new(self.q.sample(rng));
        crt_combine(&rp, &rq, &self.p_squared, &self.q.modulus, &self.p2_inv_q2)
    }
}

impl RandomnessPool {
    /// Adds `count` factors from fixed-base tables (safe-prime keys; variable time).
    pub fn fill_fixed_base_vartime(
        &mut self,
        fb: &FixedBaseRandomness,
        count: usize,
    ) -> Result<()> {
        if fb.pk != *self.public_key() {
            return Err(Error::KeyMismatch);
        }
        self.extend_with(count, |rng| fb.sample(rng));
        Ok(())
    }
}
