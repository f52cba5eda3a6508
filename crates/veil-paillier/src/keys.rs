//! Public and private keys: validated construction, accessors, CRT precomputation.
//!
//! Paillier (Eurocrypt 1999) with g = n + 1, so that g^m = 1 + m*n (mod n^2).

use core::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use rug::Integer;
use rug::integer::IsPrime;

use crate::error::{Error, Result};
use crate::secret::SecretInteger;

/// Smallest modulus accepted anywhere in this crate (generation and loading).
pub const MIN_MODULUS_BITS: u32 = 1024;
/// Largest modulus accepted: bounds the work an untrusted key can make us do.
pub const MAX_MODULUS_BITS: u32 = 16384;
/// Default modulus size (about 112-bit security, NIST SP 800-57 Part 1 Table 2).
pub const DEFAULT_MODULUS_BITS: u32 = 2048;
/// Modulus size for 128-bit security (NIST SP 800-57 Part 1 Rev. 5, Table 2: 3072-bit IFC).
pub const SECURE_128_MODULUS_BITS: u32 = 3072;

/// Miller-Rabin repetitions passed to GMP (which runs Baillie-PSW first, then `reps - 24` MR rounds).
pub(crate) const PRIME_REPS: u32 = 30;

/// A Paillier public key: the modulus `n` and values derived from it. Cheap to clone (shared).
#[derive(Clone)]
pub struct PublicKey(Arc<PublicInner>);

struct PublicInner {
    n: Integer,
    n_squared: Integer,
    max_int: Integer,
    fingerprint: u64,
}

impl PublicKey {
    /// Builds a public key from its modulus, checking what can be checked without the factors:
    /// size in [`MIN_MODULUS_BITS`]..=[`MAX_MODULUS_BITS`], odd, not a perfect square, no prime
    /// factor below 1000.
    pub fn from_modulus(n: Integer) -> Result<Self> {
        let bits = n.significant_bits();
        if n <= 0 || !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
            return Err(Error::InvalidKeySize {
                bits,
                min: MIN_MODULUS_BITS,
                max: MAX_MODULUS_BITS,
            });
        }
        if n.is_even() || n.is_perfect_square() {
            return Err(Error::InvalidKey {
                key: "public",
                reason: "modulus is even or a perfect square",
            });
        }
        if (3u32..1000).step_by(2).any(|d| n.is_divisible_u(d)) {
            return Err(Error::InvalidKey {
                key: "public",
                reason: "modulus has a small prime factor",
            });
        }
        Ok(Self::from_modulus_unchecked(n))
    }

    pub(crate) fn from_modulus_unchecked(n: Integer) -> Self {
        let n_squared = Integer::from(n.square_ref());
        // Same bound as python-paillier: values above n/3 are reserved to detect overflow.
        let max_int = Integer::from(&n / 3u32) - 1u32;
        let mut h = DefaultHasher::new();
        n.hash(&mut h);
        let fingerprint = h.finish();
        PublicKey(Arc::new(PublicInner {
            n,
            n_squared,
            max_int,
            fingerprint,
        }))
    }

    /// The modulus n = pq.
    pub fn n(&self) -> &Integer {
        &self.0.n
    }

    /// n^2, the ciphertext modulus.
    pub fn n_squared(&self) -> &Integer {
        &self.0.n_squared
    }

    /// Size of n in bits.
    pub fn bits(&self) -> u32 {
        self.0.n.significant_bits()
    }

    /// Largest magnitude of a signed plaintext: floor(n/3) - 1, as in python-paillier. Decrypted
    /// values between `max_int` and `n - max_int` are reported as [`Error::Overflow`].
    pub fn max_int(&self) -> &Integer {
        &self.0.max_int
    }

    /// Length in bytes of a ciphertext in the fixed-width byte encoding.
    pub fn ciphertext_len(&self) -> usize {
        self.0.n_squared.significant_bits().div_ceil(8) as usize
    }

    /// A process-local identifier of this key, used to refuse mixing ciphertexts of two keys.
    pub(crate) fn fingerprint(&self) -> u64 {
        self.0.fingerprint
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.n == other.0.n
    }
}
impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey {{ bits: {}, fingerprint: {:016x} }}",
            self.bits(),
            self.fingerprint()
        )
    }
}

/// A Paillier private key: the primes p < q and the CRT constants for decryption and for fast
/// encryption by the key holder. Wiped on drop; `Debug` prints `<redacted>`.
#[derive(Clone)]
pub struct PrivateKey {
    public: PublicKey,
    pub(crate) p: SecretInteger,
    pub(crate) q: SecretInteger,
    pub(crate) p_squared: SecretInteger,
    pub(crate) q_squared: SecretInteger,
    pub(crate) p_minus_1: SecretInteger,
    pub(crate) q_minus_1: SecretInteger,
    /// h_p = L_p(g^(p-1) mod p^2)^-1 mod p (Paillier 1999, sec. 7 "decryption using CRT").
    pub(crate) hp: SecretInteger,
    pub(crate) hq: SecretInteger,
    /// p^-1 mod q, to recombine m_p and m_q.
    pub(crate) p_inv_q: SecretInteger,
    /// (p^2)^-1 mod q^2, to recombine key-holder randomness mod p^2 and q^2.
    pub(crate) p2_inv_q2: SecretInteger,
}

impl PrivateKey {
    /// Builds a private key from its primes (in either order), validating them: equal bit
    /// lengths, distinct, n = p q a valid public modulus ([`PublicKey::from_modulus`]), both
    /// probable primes, gcd(n, phi(n)) = 1. Cheap checks run first, so that a hostile key file
    /// costs at most two primality tests of half the largest modulus.
    pub fn from_primes(p: Integer, q: Integer) -> Result<Self> {
        Self::from_secret_primes(SecretInteger::new(p), SecretInteger::new(q))
    }

    /// [`PrivateKey::from_primes`] on primes already held as secrets: every early return drops
    /// (and so wipes) them, and the intermediate phi(n) is wiped too.
    fn from_secret_primes(p: SecretInteger, q: SecretInteger) -> Result<Self> {
        // Variable time in the primes (comparisons, primality tests, gcd): key loading only.
        let (p, q) = if *p <= *q { (p, q) } else { (q, p) };
        if p.significant_bits() != q.significant_bits() {
            return Err(Error::InvalidKey {
                key: "private",
                reason: "p and q differ in length",
            });
        }
        if *p == *q {
            return Err(Error::InvalidKey {
                key: "private",
                reason: "p and q are equal",
            });
        }
        let public = PublicKey::from_modulus(Integer::from(&*p * &*q))?;
        for x in [&p, &q] {
            if x.is_probably_prime(PRIME_REPS) == IsPrime::No {
                return Err(Error::InvalidKey {
                    key: "private",
                    reason: "p or q is not prime",
                });
            }
        }
        let phi = SecretInteger::new(Integer::from(&*p - 1u32) * Integer::from(&*q - 1u32));
        if Integer::from(public.n().gcd_ref(&phi)) != 1 {
            return Err(Error::InvalidKey {
                key: "private",
                reason: "gcd(n, phi(n)) != 1",
            });
        }
        Self::from_validated_primes(public, p, q)
    }

    /// Builds a private key for `public` from its primes, checking that they match it.
    pub fn from_public_and_primes(public: &PublicKey, p: Integer, q: Integer) -> Result<Self> {
        let (p, q) = (SecretInteger::new(p), SecretInteger::new(q));
        if Integer::from(&*p * &*q) != *public.n() {
            return Err(Error::InvalidKey {
                key: "private",
                reason: "p * q does not equal the public modulus",
            });
        }
        let mut key = Self::from_secret_primes(p, q)?;
        key.public = public.clone();
        Ok(key)
    }

    /// Precomputes the CRT constants; `p < q` are distinct primes with gcd(n, phi) = 1. Every
    /// intermediate is a [`SecretInteger`] from the start, so an error wipes it as well.
    pub(crate) fn from_validated_primes(
        public: PublicKey,
        p: SecretInteger,
        q: SecretInteger,
    ) -> Result<Self> {
        let bad = || Error::InvalidKey {
            key: "private",
            reason: "a CRT constant is not invertible",
        };
        let s = SecretInteger::new;
        let p_squared = s(Integer::from(p.square_ref()));
        let q_squared = s(Integer::from(q.square_ref()));
        let hp = s(h_constant(&p, &p_squared, public.n()).ok_or_else(bad)?);
        let hq = s(h_constant(&q, &q_squared, public.n()).ok_or_else(bad)?);
        let p_inv_q = s(Integer::from(p.invert_ref(&q).ok_or_else(bad)?));
        let p2_inv_q2 = s(Integer::from(
            p_squared.invert_ref(&q_squared).ok_or_else(bad)?,
        ));
        Ok(PrivateKey {
            public,
            p_minus_1: s(Integer::from(&*p - 1u32)),
            q_minus_1: s(Integer::from(&*q - 1u32)),
            p,
            q,
            p_squared,
            q_squared,
            hp,
            hq,
            p_inv_q,
            p2_inv_q2,
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

/// h_p = L_p(g^(p-1) mod p^2)^-1 mod p with g = n + 1 and L_p(x) = (x - 1) / p.
fn h_constant(p: &Integer, p_squared: &Integer, n: &Integer) -> Option<Integer> {
    let g = Integer::from(n + 1u32);
    let exponent = SecretInteger::new(Integer::from(p - 1u32));
    let x = SecretInteger::new(Integer::from(g.pow_mod_ref(&exponent, p_squared)?));
    let l = SecretInteger::new(Integer::from(&*x - 1u32) / p);
    l.invert_ref(p).map(Integer::from)
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey {{ public: {:?}, primes: <redacted> }}",
            self.public
        )
    }
}

/// Two private keys are equal when their public keys are: n = p q has one factorization with
/// p < q, and every constructor checks that the primes multiply to n, so the public keys decide.
/// No secret is compared, so equality takes the same time whatever the primes (the issue's
/// "constant-time equality or none").
impl PartialEq for PrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}
impl Eq for PrivateKey {}
