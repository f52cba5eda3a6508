//! Encryption, decryption and re-randomization (Paillier 1999, sec. 3 and sec. 7).

use rand::{CryptoRng, RngCore};
use rug::Integer;

use crate::secret::SecretInteger;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};
use crate::random::{random_nonzero_below, random_unit};

impl PublicKey {
    /// Maps a signed plaintext with |m| <= max_int into Z_n.
    pub(crate) fn encode_signed(&self, m: &Integer) -> Result<Integer> {
        if m.as_abs().cmp(self.max_int()).is_gt() {
            return Err(Error::PlaintextOutOfRange {
                bits: m.significant_bits(),
                max_bits: self.max_int().significant_bits(),
            });
        }
        Ok(if *m < 0 {
            Integer::from(m + self.n())
        } else {
            m.clone()
        })
    }

    /// Maps a residue in [0, n) back to a signed value; the band between max_int and n - max_int
    /// is an overflow.
    pub(crate) fn decode_signed(&self, v: Integer) -> Result<Integer> {
        if v <= *self.max_int() {
            Ok(v)
        } else if Integer::from(self.n() - &v) <= *self.max_int() {
            Ok(v - self.n())
        } else {
            Err(Error::Overflow)
        }
    }

    /// Encrypts a signed integer (|m| <= [`Self::max_int`]) with fresh randomness from the thread
    /// RNG: one exponentiation r^n mod n^2.
    pub fn encrypt(&self, m: impl Into<Integer>) -> Result<Ciphertext> {
        self.encrypt_with_rng(m, &mut rand::rng())
    }

    /// [`Self::encrypt`] with the caller's RNG.
    pub fn encrypt_with_rng<R: RngCore + CryptoRng + ?Sized>(
        &self,
        m: impl Into<Integer>,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        // The encoded message and the randomizing factor are wiped on drop.
        let m = SecretInteger::new(self.encode_signed(&m.into())?);
        let rn = SecretInteger::new(self.fresh_randomness(rng));
        Ok(self.encrypt_residue_with(&m, &rn))
    }

    /// r^n mod n^2 for a uniform unit r of Z_n: the randomizing factor of one encryption (r is
    /// wiped; the caller owns the result and wipes it).
    pub(crate) fn fresh_randomness<R: RngCore + CryptoRng + ?Sized>(&self, rng: &mut R) -> Integer {
        let r = SecretInteger::new(random_unit(self.n(), rng));
        // The exponent n is public: GMP's ordinary (faster) exponentiation is fine here.
        r.pow_mod_ref(self.n(), self.n_squared())
            .map(Integer::from)
            .unwrap_or_default()
    }

    /// (1 + m n) * rn mod n^2 for m in [0, n): the online part of encryption, one multiplication.
    pub(crate) fn encrypt_residue_with(&self, m: &Integer, rn: &Integer) -> Ciphertext {
        let mut c = Integer::from(m * self.n());
        c += 1u32;
        c *= rn;
        c %= self.n_squared();
        Ciphertext::new(c, self)
    }

    /// Multiplies a ciphertext by a fresh encryption of zero, so that it cannot be linked to the
    /// ciphertexts it was computed from. Do this before sending a homomorphic result to a party
    /// that saw its inputs.
    pub fn rerandomize(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        self.rerandomize_with_rng(ct, &mut rand::rng())
    }

    /// [`Self::rerandomize`] with the caller's RNG.
    pub fn rerandomize_with_rng<R: RngCore + CryptoRng + ?Sized>(
        &self,
        ct: &Ciphertext,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        self.check_key(ct)?;
        let rn = SecretInteger::new(self.fresh_randomness(rng));
        Ok(self.mul_by_randomness(ct, &rn))
    }

    pub(crate) fn mul_by_randomness(&self, ct: &Ciphertext, rn: &Integer) -> Ciphertext {
        let mut c = Integer::from(&ct.c * rn);
        c %= self.n_squared();
        Ciphertext::new(c, self)
    }
}

impl PrivateKey {
    /// Encrypts as the key holder: the randomizing factor is built mod p^2 and q^2 with
    /// half-length exponents, about 3x faster than [`PublicKey::encrypt`] at 2048 bits.
    ///
    /// The factor has the same distribution as r^n mod n^2 (derivation in `docs/paillier.md`), so the
    /// ciphertext is indistinguishable from a public-key encryption.
    pub fn encrypt(&self, m: impl Into<Integer>) -> Result<Ciphertext> {
        self.encrypt_with_rng(m, &mut rand::rng())
    }

    /// [`Self::encrypt`] with the caller's RNG.
    pub fn encrypt_with_rng<R: RngCore + CryptoRng + ?Sized>(
        &self,
        m: impl Into<Integer>,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        let pk = self.public_key();
        let m = SecretInteger::new(pk.encode_signed(&m.into())?);
        let rho = SecretInteger::new(self.fresh_randomness(rng));
        Ok(pk.encrypt_residue_with(&m, &rho))
    }

    /// A uniform element of the subgroup of n-th residues mod n^2, computed by CRT.
    ///
    /// Mod p^2 the n-th residues form the subgroup T_p of order p - 1, and x -> x^p maps
    /// Z_p^* = {1..p-1} bijectively onto T_p (x^p depends only on x mod p, since the kernel
    /// 1 + pZ has order p). So rho_p = r^p mod p^2 for uniform r < p is uniform on T_p, exactly as
    /// r^n mod p^2 is; likewise mod q^2, and the two halves are independent. Exponents are |p|
    /// bits instead of |n|, moduli p^2 instead of n^2. Exponent p is secret: constant-time pow.
    pub(crate) fn fresh_randomness<R: RngCore + CryptoRng + ?Sized>(&self, rng: &mut R) -> Integer {
        let rp = SecretInteger::new(random_nonzero_below(&self.p, rng));
        let rq = SecretInteger::new(random_nonzero_below(&self.q, rng));
        let (rho_p, rho_q) = rayon::join(
            || {
                SecretInteger::new(Integer::from(
                    rp.secure_pow_mod_ref(&self.p, &self.p_squared),
                ))
            },
            || {
                SecretInteger::new(Integer::from(
                    rq.secure_pow_mod_ref(&self.q, &self.q_squared),
                ))
            },
        );
        crt_combine(
            &rho_p,
            &rho_q,
            &self.p_squared,
            &self.q_squared,
            &self.p2_inv_q2,
        )
    }

    /// Decrypts to the signed plaintext in [-max_int, max_int]; [`Error::Overflow`] if the
    /// residue lies in the band reserved for overflow detection.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Integer> {
        let v = self.decrypt_residue(ct)?;
        self.public_key().decode_signed(v)
    }

    /// Decrypts to an `i64`, or [`Error::DoesNotFit`].
    pub fn decrypt_i64(&self, ct: &Ciphertext) -> Result<i64> {
        self.decrypt(ct)?
            .to_i64()
            .ok_or(Error::DoesNotFit { target: "i64" })
    }

    /// Decrypts to the raw residue m in [0, n).
    ///
    /// CRT decryption (Paillier 1999, sec. 7): m_p = L_p(c^(p-1) mod p^2) h_p mod p, likewise for
    /// q, then m = m_p + p ((m_q - m_p) p^-1 mod q). The exponentiations take the secret exponents
    /// p - 1, q - 1 and run in constant time (`mpz_powm_sec`); the two halves run in parallel.
    pub fn decrypt_residue(&self, ct: &Ciphertext) -> Result<Integer> {
        self.public_key().check_key(ct)?;
        let half = |prime: &Integer, square: &Integer, exponent: &Integer, h: &Integer| {
            let base = Integer::from(&ct.c % square);
            let x = base.secure_pow_mod(exponent, square);
            let l = (x - 1u32) / prime;
            (l * h).modulo(prime)
        };
        let (mp, mq) = rayon::join(
            || half(&self.p, &self.p_squared, &self.p_minus_1, &self.hp),
            || half(&self.q, &self.q_squared, &self.q_minus_1, &self.hq),
        );
        Ok(crt_combine(&mp, &mq, &self.p, &self.q, &self.p_inv_q))
    }
}

/// The x in [0, a b) with x = xa mod a and x = xb mod b, given a^-1 mod b (Garner).
pub(crate) fn crt_combine(
    xa: &Integer,
    xb: &Integer,
    a: &Integer,
    b: &Integer,
    a_inv_b: &Integer,
) -> Integer {
    let t = (Integer::from(xb - xa) * a_inv_b).modulo(b);
    t * a + xa
}
