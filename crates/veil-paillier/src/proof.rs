//! A non-interactive proof that a Paillier modulus n satisfies gcd(n, phi(n)) = 1 (hence that n
//! is square-free), for a party that must trust a key it did not make.
//!
//! Construction: Goldberg, Reyzin, Sagga, Baldimtsi, "Efficient noninteractive certification of
//! RSA moduli and beyond" (ACNS 2019), sec. 3.2 (the "Ngcd" protocol, Fiat-Shamir form):
//!
//! - the challenges rho_1..rho_K are derived from n and a context string by SHA-256 (a random
//!   oracle), uniform in Z*_n;
//! - the prover sends sigma_i = rho_i^(n^-1 mod phi(n)) mod n, the unique n-th roots;
//! - the verifier checks that n has no prime factor below alpha = 2^16 and that
//!   sigma_i^n = rho_i (mod n) for every i.
//!
//! Soundness: if gcd(n, phi(n)) != 1, some prime p divides both n and phi(n); Z*_n then has an
//! element of order p, which x -> x^n sends to 1, so at most a 1/p fraction of Z*_n are n-th
//! powers, and p >= alpha since the verifier checked the small primes. With K = 8 independent
//! challenges the verifier accepts a bad n with probability at most (1/65537)^8 < 2^-128 per
//! candidate (n, context) the cheater tries (each try costs K hash evaluations). The proof is
//! zero-knowledge in the random-oracle model (a simulator picks sigma_i and programs
//! rho_i = sigma_i^n), so it reveals nothing about p and q.
//!
//! The prover's exponentiations use the secret exponent n^-1 mod (p - 1) (and mod q - 1) with
//! GMP's `mpz_powm_sec` (constant time for a given operand size). Deriving that exponent is one
//! `mpz_invert` per prime, variable time, as in key loading ([`PrivateKey::from_primes`]).

use core::fmt;
use std::sync::OnceLock;

use rug::Integer;
use rug::integer::Order;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};
use crate::secret::SecretInteger;

/// Number of challenges K: ceil(128 / log2(alpha)) for alpha = 2^16.
pub const MODULUS_PROOF_ROUNDS: usize = 8;
/// alpha: the verifier refuses a modulus with a prime factor below this bound.
pub const MODULUS_PROOF_SMALL_PRIME_BOUND: u32 = 1 << 16;
const DOMAIN: &[u8] = b"veil-paillier/modulus-proof/ngcd/v1";
const MAGIC: &[u8; 4] = b"VMP1";
/// Tries per challenge: each succeeds with probability > 1/2 for any n (the top bit of n is set,
/// and non-units are rarer than 2^-15 once the small primes are excluded), so an honest key
/// fails with probability below 2^-128.
const MAX_ATTEMPTS: u32 = 128;
/// Longest context string accepted (it is hashed, never stored).
pub const MAX_CONTEXT_BYTES: usize = 1024;

/// A proof that gcd(n, phi(n)) = 1 for one public key and one context string (see the module
/// documentation). Made once per key by the key holder ([`PrivateKey::prove_modulus`]), checked
/// by anyone ([`PublicKey::verify_modulus_proof`]).
///
/// ```
/// use veil_paillier::{KeyGenerator, ModulusProof};
///
/// let sk = KeyGenerator::new(1024).generate()?; // 2048 bits or more in practice
/// let proof = sk.prove_modulus(b"my protocol v1")?;
/// let bytes = proof.to_bytes(sk.public_key())?;
/// // The verifier has only the public key and the bytes.
/// let received = ModulusProof::from_bytes(sk.public_key(), &bytes)?;
/// sk.public_key().verify_modulus_proof(&received, b"my protocol v1")?;
/// assert!(sk.public_key().verify_modulus_proof(&received, b"another protocol").is_err());
/// # Ok::<(), veil_paillier::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ModulusProof {
    roots: Vec<Integer>,
}

impl fmt::Debug for ModulusProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModulusProof({} roots)", self.roots.len())
    }
}

impl ModulusProof {
    /// Wire format: "VMP1", u32 count (LE, must be [`MODULUS_PROOF_ROUNDS`]), then the roots as
    /// fixed-width big-endian integers of `ceil(bits(n) / 8)` bytes each.
    pub fn to_bytes(&self, pk: &PublicKey) -> Result<Vec<u8>> {
        let width = root_len(pk);
        let count = u32::try_from(self.roots.len())
            .map_err(|_| Error::malformed("modulus proof", "too many roots"))?;
        let mut out = Vec::with_capacity(8 + self.roots.len() * width);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&count.to_le_bytes());
        for r in &self.roots {
            let digits = r.to_digits::<u8>(Order::Msf);
            if digits.len() > width {
                return Err(Error::malformed("modulus proof", "a root is larger than n"));
            }
            out.resize(out.len() + width - digits.len(), 0);
            out.extend_from_slice(&digits);
        }
        Ok(out)
    }

    /// Parses a proof for `pk`: the count is checked against [`MODULUS_PROOF_ROUNDS`] and the
    /// length against the key before anything is allocated; every root must lie in [1, n).
    /// Parsing does not verify: call [`PublicKey::verify_modulus_proof`].
    pub fn from_bytes(pk: &PublicKey, bytes: &[u8]) -> Result<Self> {
        let bad = |reason: &str| Error::malformed("modulus proof", reason);
        let (head, body) = bytes
            .split_first_chunk::<8>()
            .ok_or_else(|| bad("shorter than the header"))?;
        if head[..4] != MAGIC[..] {
            return Err(bad("wrong magic"));
        }
        let count = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if count as usize != MODULUS_PROOF_ROUNDS {
            return Err(bad("wrong number of roots"));
        }
        let width = root_len(pk);
        if Some(body.len()) != MODULUS_PROOF_ROUNDS.checked_mul(width) {
            return Err(bad("length does not match the key"));
        }
        let roots = body
            .chunks_exact(width)
            .map(|c| {
                let r = Integer::from_digits(c, Order::Msf);
                if r > 0 && r < *pk.n() {
                    Ok(r)
                } else {
                    Err(bad("a root is not in [1, n)"))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ModulusProof { roots })
    }
}

fn root_len(pk: &PublicKey) -> usize {
    pk.bits().div_ceil(8) as usize
}

fn check_context(context: &[u8]) -> Result<()> {
    if context.len() > MAX_CONTEXT_BYTES {
        return Err(Error::malformed(
            "modulus proof context",
            "longer than MAX_CONTEXT_BYTES",
        ));
    }
    Ok(())
}

/// rho_index: SHA-256 in counter mode over (domain, context, n, index, attempt), cut to the bit
/// length of n, retried until it is a unit of Z_n (the same for prover and verifier).
pub(crate) fn challenge(n: &Integer, context: &[u8], index: u32) -> Result<Integer> {
    let bits = n.significant_bits();
    let len = bits.div_ceil(8) as usize;
    let mut prefix = Sha256::new();
    for part in [DOMAIN, context, &n.to_digits::<u8>(Order::Msf)] {
        prefix.update((part.len() as u64).to_le_bytes());
        prefix.update(part);
    }
    prefix.update(index.to_le_bytes());
    for attempt in 0..MAX_ATTEMPTS {
        let mut out = Vec::with_capacity(len.next_multiple_of(32));
        let mut block = 0_u32;
        while out.len() < len {
            let mut h = prefix.clone();
            h.update(attempt.to_le_bytes());
            h.update(block.to_le_bytes());
            out.extend_from_slice(&h.finalize());
            block += 1;
        }
        out.truncate(len);
        if let Some(top) = out.first_mut() {
            *top &= 0xff_u8 >> (len as u32 * 8 - bits);
        }
        let rho = Integer::from_digits(&out, Order::Msf);
        if rho > 0 && rho < *n && Integer::from(rho.gcd_ref(n)) == 1 {
            return Ok(rho);
        }
    }
    Err(Error::InvalidKey {
        key: "public",
        reason: "no modulus-proof challenge found (n has too many small factors)",
    })
}

/// The product of the primes below [`MODULUS_PROOF_SMALL_PRIME_BOUND`] (sieve of Eratosthenes,
/// computed once).
fn small_prime_product() -> &'static Integer {
    static PRODUCT: OnceLock<Integer> = OnceLock::new();
    PRODUCT.get_or_init(|| {
        let bound = MODULUS_PROOF_SMALL_PRIME_BOUND as usize;
        let mut composite = vec![false; bound];
        let mut product = Integer::from(1);
        for k in 2..bound {
            if composite.get(k).copied().unwrap_or(true) {
                continue;
            }
            product *= k as u32;
            for multiple in (k * k..bound).step_by(k) {
                if let Some(c) = composite.get_mut(multiple) {
                    *c = true;
                }
            }
        }
        product
    })
}

/// True when n has a prime factor below alpha.
pub(crate) fn has_small_factor(n: &Integer) -> bool {
    Integer::from(n.gcd_ref(small_prime_product())) != 1
}

/// The n-th root of `rho` modulo the prime `p` (n coprime to p - 1): rho^(n^-1 mod (p-1)) mod p
/// with a constant-time exponentiation. `p_minus_1` is p - 1.
pub(crate) fn root_mod_prime(
    rho: &Integer,
    n: &Integer,
    p: &SecretInteger,
    p_minus_1: &SecretInteger,
) -> Result<SecretInteger> {
    let not_coprime = || Error::InvalidKey {
        key: "private",
        reason: "gcd(n, phi(n)) != 1: no modulus proof exists",
    };
    let exponent = SecretInteger::new(Integer::from(
        n.invert_ref(p_minus_1).ok_or_else(not_coprime)?,
    ));
    let base = SecretInteger::new(Integer::from(rho % &**p));
    if *exponent <= 0 || *base == 0 || p.is_even() {
        return Err(not_coprime());
    }
    Ok(SecretInteger::new(Integer::from(
        base.secure_pow_mod_ref(&exponent, p),
    )))
}

impl PrivateKey {
    /// Proves that this key's modulus has gcd(n, phi(n)) = 1 (see the module documentation),
    /// bound to `context` (a label of the application, at most [`MAX_CONTEXT_BYTES`]): the
    /// verifier must pass the same context. Deterministic; costs 2 K half-size exponentiations.
    pub fn prove_modulus(&self, context: &[u8]) -> Result<ModulusProof> {
        check_context(context)?;
        let n = self.public_key().n();
        let mut roots = Vec::with_capacity(MODULUS_PROOF_ROUNDS);
        for i in 0..MODULUS_PROOF_ROUNDS as u32 {
            let rho = challenge(n, context, i)?;
            let sp = root_mod_prime(&rho, n, &self.p, &self.p_minus_1)?;
            let sq = root_mod_prime(&rho, n, &self.q, &self.q_minus_1)?;
            // CRT (Garner): sigma = s_p + p ((s_q - s_p) p^-1 mod q).
            let mut t = SecretInteger::new(Integer::from(&*sq - &*sp));
            t = SecretInteger::new(Integer::from(&*t * &*self.p_inv_q));
            t = SecretInteger::new(Integer::from(t.modulo_ref(&self.q)));
            roots.push(Integer::from(&*t * &*self.p) + &*sp);
        }
        Ok(ModulusProof { roots })
    }
}

impl PublicKey {
    /// Checks a [`ModulusProof`] for this key and `context`: n has no prime factor below
    /// [`MODULUS_PROOF_SMALL_PRIME_BOUND`], the proof has [`MODULUS_PROOF_ROUNDS`] roots, and
    /// each is an n-th root of its challenge. Accepting means gcd(n, phi(n)) = 1 except with
    /// probability below 2^-128. Variable time (everything here is public).
    pub fn verify_modulus_proof(&self, proof: &ModulusProof, context: &[u8]) -> Result<()> {
        check_context(context)?;
        let n = self.n();
        let refuse = |reason: &'static str| Error::InvalidKey {
            key: "public",
            reason,
        };
        if has_small_factor(n) {
            return Err(refuse("modulus has a prime factor below 2^16"));
        }
        if proof.roots.len() != MODULUS_PROOF_ROUNDS {
            return Err(refuse("modulus proof has the wrong number of roots"));
        }
        for (i, sigma) in (0_u32..).zip(&proof.roots) {
            if *sigma <= 0 || *sigma >= *n {
                return Err(refuse("modulus proof root out of range"));
            }
            let rho = challenge(n, context, i)?;
            let power = sigma
                .pow_mod_ref(n, n)
                .map(Integer::from)
                .ok_or_else(|| refuse("modulus proof root out of range"))?;
            if power != rho {
                return Err(refuse(
                    "modulus proof does not verify: gcd(n, phi(n)) = 1 not shown",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
