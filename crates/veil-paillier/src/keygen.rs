//! Key generation: equal-length distinct primes, optionally safe primes, searched on all cores.

use std::sync::LazyLock;

use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use rug::Integer;
use rug::integer::IsPrime;

use crate::error::{Error, Result};
use crate::keys::{
    DEFAULT_MODULUS_BITS, MAX_MODULUS_BITS, MIN_MODULUS_BITS, PRIME_REPS, PrivateKey, PublicKey,
};
use crate::random::random_bits;
use crate::secret::SecretInteger;

/// Odd primes below 2048, for sieving safe-prime candidates before any exponentiation.
static SMALL_PRIMES: LazyLock<Vec<u32>> = LazyLock::new(|| {
    (3u32..2048)
        .step_by(2)
        .filter(|&k| {
            (3u32..)
                .step_by(2)
                .take_while(|d| d * d <= k)
                .all(|d| k % d != 0)
        })
        .collect()
});

/// Builder for Paillier key pairs.
///
/// ```
/// use veil_paillier::KeyGenerator;
/// let sk = KeyGenerator::new(1024).generate()?;
/// assert_eq!(sk.public_key().bits(), 1024);
/// # Ok::<(), veil_paillier::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeyGenerator {
    bits: u32,
    safe_primes: bool,
    parallel: bool,
}

impl Default for KeyGenerator {
    fn default() -> Self {
        Self::new(DEFAULT_MODULUS_BITS)
    }
}

impl KeyGenerator {
    /// A generator of `bits`-bit moduli (even, at least [`MIN_MODULUS_BITS`]).
    pub fn new(bits: u32) -> Self {
        KeyGenerator {
            bits,
            safe_primes: false,
            parallel: true,
        }
    }

    /// Use safe primes (p = 2p' + 1 with p' prime). Much slower; not needed for Paillier's
    /// security, offered for protocols that want it.
    pub fn safe_primes(mut self, yes: bool) -> Self {
        self.safe_primes = yes;
        self
    }

    /// Search primes on all rayon threads (default) or on the calling thread only.
    pub fn parallel(mut self, yes: bool) -> Self {
        self.parallel = yes;
        self
    }

    fn check_size(&self) -> Result<()> {
        if self.bits < MIN_MODULUS_BITS || self.bits > MAX_MODULUS_BITS || self.bits % 2 != 0 {
            return Err(Error::InvalidKeySize {
                bits: self.bits,
                min: MIN_MODULUS_BITS,
                max: MAX_MODULUS_BITS,
            });
        }
        Ok(())
    }

    /// Generates a key pair from the operating system's entropy (through `rand`'s thread RNG).
    pub fn generate(&self) -> Result<PrivateKey> {
        self.check_size()?;
        if !self.parallel {
            return self.generate_with_rng(&mut rand::rng());
        }
        let half = self.bits / 2;
        self.assemble(|| {
            rayon::iter::repeat(())
                .map_init(rand::rng, |rng, ()| self.try_prime(half, rng))
                .find_map_any(|p| p)
                .unwrap_or_default()
        })
    }

    /// Generates a key pair from `rng`, sequentially: the same seed gives the same key.
    pub fn generate_with_rng<R: RngCore + CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<PrivateKey> {
        self.check_size()?;
        let half = self.bits / 2;
        self.assemble(|| {
            loop {
                if let Some(p) = self.try_prime(half, rng) {
                    return p;
                }
            }
        })
    }

    fn assemble(&self, mut prime: impl FnMut() -> Integer) -> Result<PrivateKey> {
        let half = self.bits / 2;
        let p = prime();
        let mut q = prime();
        while !far_apart(&p, &q, half) {
            q = prime();
        }
        self.finish(p, q)
    }

    fn finish(&self, p: Integer, q: Integer) -> Result<PrivateKey> {
        let n = Integer::from(&p * &q);
        debug_assert_eq!(n.significant_bits(), self.bits);
        let phi = Integer::from(&p - 1u32) * Integer::from(&q - 1u32);
        if Integer::from(n.gcd_ref(&phi)) != 1 {
            // Impossible for distinct primes of equal length; checked anyway.
            return Err(Error::InvalidKey {
                key: "private",
                reason: "gcd(n, phi(n)) != 1",
            });
        }
        let (p, q) = if p < q { (p, q) } else { (q, p) };
        PrivateKey::from_validated_primes(
            PublicKey::from_modulus_unchecked(n),
            SecretInteger::new(p),
            SecretInteger::new(q),
        )
    }

    /// Draws one random `half`-bit candidate with its two top bits set (so that the product of
    /// two has exactly `2 * half` bits) and returns it if it is prime (a safe prime if asked).
    fn try_prime<R: RngCore + CryptoRng + ?Sized>(
        &self,
        half: u32,
        rng: &mut R,
    ) -> Option<Integer> {
        let bits = if self.safe_primes { half - 1 } else { half };
        let mut c = random_bits(bits, rng);
        c.set_bit(bits - 1, true);
        c.set_bit(bits - 2, true);
        c.set_bit(0, true);
        if !self.safe_primes {
            return (c.is_probably_prime(PRIME_REPS) != IsPrime::No).then_some(c);
        }
        // c is p' of p = 2p' + 1. Sieve: c = 0 or (s - 1) / 2 mod s makes c or p divisible by s.
        if SMALL_PRIMES.iter().any(|&s| {
            let r = c.mod_u(s);
            r == 0 || r == (s - 1) / 2
        }) {
            return None;
        }
        let p = Integer::from(&c << 1u32) + 1u32;
        // Fermat base 2 on p: the cheapest filter that needs an exponentiation.
        let e = Integer::from(&p - 1u32);
        if Integer::from(2).pow_mod(&e, &p).map_or(true, |x| x != 1) {
            return None;
        }
        let prime = |x: &Integer| x.is_probably_prime(PRIME_REPS) != IsPrime::No;
        (prime(&c) && prime(&p)).then_some(p)
    }
}

/// |p - q| > 2^(half - 100): guards against Fermat factoring (FIPS 186-5, B.3.1 uses the same bound).
fn far_apart(p: &Integer, q: &Integer, half: u32) -> bool {
    Integer::from(p - q).abs().significant_bits() > half.saturating_sub(100)
}
