//! Circuit privacy for CKKS replies by noise flooding (the smudging lemma, Asharov et al.,
//! Eurocrypt 2012, Lemma 2.1), and the scale bookkeeping a server sometimes needs.
//!
//! A reply r = (c_0, c_1) with phase c_0 + c_1 s = m + e becomes r + Enc_pk(0) + (F, 0), F with
//! coefficients uniform in [-B, B]. The encryption of zero makes c_1 a fresh RLWE sample; F hides
//! e: if every coefficient of e is below 2^b in magnitude (`error_bits` = b), the distance
//! between F + e and F is at most N 2^b / (2B + 1) over the N coefficients, so
//! B = 2^(b + log2 N + 39) gives 2^-40 ([`SANITIZE_SECURITY_BITS`]).
//!
//! **The price is precision, and in CKKS it is steep.** Each slot then carries an extra error of
//! about B sqrt(N / 3) / scale (the canonical embedding sums N uniform coefficients), i.e. about
//! 2^(b + 1.5 log2 N + 39) / scale. With the usual 2^40 scale and b around 5-20 after a
//! rescaling, that is far more than the message: 2^-40 statistical hiding needs a reply scale of
//! at least 2^(b + 1.5 log2 N + 40 + p) for p bits of output precision. A circuit that cannot
//! afford that must use a smaller `error_bits`-to-bound margin and state the weaker guarantee.
//! [`flooding_bits`] gives B's size and [`SecretKey::error_bits_vartime`] measures b with the key
//! (for calibrating a server's noise model in tests).

use num_bigint::BigUint;
use veil_ring::sample::Sampler;
use veil_ring::{Ntt, Poly, RnsBasis};

use crate::ciphertext::{Ciphertext, Plaintext};
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey};

/// Statistical distance exponent of [`PublicKey::sanitize`]: 2^-40 when the caller's error bound
/// holds.
pub const SANITIZE_SECURITY_BITS: u32 = 40;

/// log2 of the flooding bound B that [`PublicKey::sanitize`] uses for coefficient errors below
/// 2^`error_bits` in ring degree `n`: `error_bits` + log2 n + 39.
pub fn flooding_bits(n: usize, error_bits: u32) -> u32 {
    error_bits + n.trailing_zeros() + SANITIZE_SECURITY_BITS - 1
}

impl Ciphertext {
    /// Declares that the ciphertext's message is held at `scale` (reinterprets, no arithmetic):
    /// for protocols that track scales themselves, e.g. after an exact integer multiplication.
    /// The scale must be finite and positive.
    pub fn set_scale(&mut self, scale: f64) -> Result<()> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::InvalidParameters {
                reason: "scale must be finite and positive",
            });
        }
        self.scale = scale;
        Ok(())
    }
}

impl PublicKey {
    /// Circuit privacy for a reply: re-randomizes `ct` with a fresh encryption of zero and floods
    /// its coefficients with uniform noise in [-B, B], log2 B = [`flooding_bits`] (module docs:
    /// the guarantee and its cost in precision). `error_bits` bounds the computation's error in
    /// every coefficient (2^error_bits); the level and scale are kept.
    ///
    /// `ct` must be relinearized (2 polynomials), and B must be below a quarter of the level's
    /// modulus. Use a sampler from the operating system ([`Sampler::from_entropy`]) in production.
    pub fn sanitize(
        &self,
        ct: &Ciphertext,
        error_bits: u32,
        sampler: &mut Sampler,
    ) -> Result<Ciphertext> {
        if *ct.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        if ct.c.len() != 2 {
            return Err(Error::Mismatch {
                what: "ciphertext size: relinearize before sanitizing",
            });
        }
        let ctx = self.params.level(ct.level)?.ctx.clone();
        let bits = flooding_bits(self.params.degree(), error_bits);
        if bits + 2 >= ctx.modulus_bits() {
            return Err(Error::InvalidParameters {
                reason: "flooding noise does not fit the reply's modulus: use a higher level",
            });
        }
        let zero = Plaintext {
            params: self.params.clone(),
            level: ct.level,
            scale: ct.scale,
            poly: Poly::<Ntt>::zero(&ctx),
        };
        let mut out = ct.add(&self.encrypt_with(&zero, sampler)?)?;
        let bound = BigUint::from(1u8) << bits;
        let flood = veil_ring::rlwe::uniform_symmetric(&ctx, &bound, sampler)?.into_ntt();
        out.c[0].add_assign(&flood)?;
        Ok(out)
    }
}

impl SecretKey {
    /// log2 of the largest coefficient of the error of `ct` against the plaintext it should hold
    /// (rounded up): the `error_bits` to give [`PublicKey::sanitize`]. A key-holder diagnostic
    /// for calibrating a server's noise model in tests; variable time.
    pub fn error_bits_vartime(&self, ct: &Ciphertext, expected: &Plaintext) -> Result<u32> {
        let values = self.error_coefficients(ct, expected)?;
        Ok(values.iter().map(|v| v.bits()).max().unwrap_or(0) as u32)
    }

    /// The error's coefficients (decryption minus `expected`) as floats: for studies of the
    /// noise distribution (circuit privacy tests). A key-holder diagnostic; variable time.
    pub fn error_vartime(&self, ct: &Ciphertext, expected: &Plaintext) -> Result<Vec<f64>> {
        use num_traits::ToPrimitive;
        let values = self.error_coefficients(ct, expected)?;
        Ok(values
            .iter()
            .map(|v| v.to_f64().unwrap_or(f64::NAN))
            .collect())
    }

    fn error_coefficients(
        &self,
        ct: &Ciphertext,
        expected: &Plaintext,
    ) -> Result<Vec<num_bigint::BigInt>> {
        let mut diff = self.decrypt(ct)?;
        if expected.level != diff.level || *expected.params != *self.params {
            return Err(Error::Mismatch {
                what: "plaintext level or parameters",
            });
        }
        diff.poly.sub_assign(&expected.poly)?;
        let coeffs = diff.poly.clone().into_coeff();
        let primes: Vec<u64> = coeffs
            .context()
            .moduli()
            .iter()
            .map(|q| q.value())
            .collect();
        let basis = RnsBasis::new(&primes)?;
        Ok(basis.compose_poly_centered(coeffs.as_slice(), self.params.degree())?)
    }
}
