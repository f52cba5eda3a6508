//! Ciphertexts, encryption and decryption (Fan and Vercauteren, eprint 2012/144, sec. 4), at any
//! level of the modulus chain.

use std::sync::Arc;

use num_bigint::BigInt;
use num_traits::{Euclid, ToPrimitive};
use rayon::prelude::*;
use veil_ring::sample::Sampler;
use veil_ring::{Coeff, Ntt, Poly, RnsBasis};

use crate::encoding::Plaintext;
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey, error_poly, uniform_ntt};
use crate::parameters::BfvParameters;

/// A BFV ciphertext: two (or three, after a product without relinearization) polynomials of R_Q_l
/// in coefficient form, decrypting to m through c_0 + c_1 s (+ c_2 s^2). Level l uses the first
/// k - l primes of Q; encryption gives level 0, modulus switching raises the level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ciphertext {
    pub(crate) params: Arc<BfvParameters>,
    pub(crate) level: usize,
    pub(crate) c: Vec<Poly<Coeff>>,
}

impl Ciphertext {
    /// Number of polynomials (2 after encryption or relinearization, 3 after a product).
    pub fn len(&self) -> usize {
        self.c.len()
    }

    /// Whether the ciphertext has no polynomial (never true for a valid ciphertext).
    pub fn is_empty(&self) -> bool {
        self.c.is_empty()
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<BfvParameters> {
        &self.params
    }

    /// The level: how many primes of Q have been dropped by modulus switching.
    pub fn level(&self) -> usize {
        self.level
    }

    /// The polynomials, in coefficient form over the level's primes.
    pub fn polynomials(&self) -> &[Poly<Coeff>] {
        &self.c
    }
}

impl BfvParameters {
    /// Delta m = round(Q_l m / t) in R_Q_l, computed as floor(Q_l/t) m + round((Q_l mod t) m / t).
    pub(crate) fn scale_plaintext(&self, pt: &Plaintext, level: usize) -> Result<Poly<Coeff>> {
        if *pt.params != *self {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let lv = self.level(level)?;
        let n = lv.ctx.degree();
        let t = u128::from(self.plaintext_modulus());
        let corrections: Vec<u64> = pt
            .coeffs
            .iter()
            .map(|&m| ((2 * u128::from(lv.q_mod_t) * u128::from(m) + t) / (2 * t)) as u64)
            .collect();
        let mut out = Poly::<Coeff>::zero(&lv.ctx);
        out.as_mut_slice()
            .par_chunks_mut(n)
            .zip(lv.ctx.moduli().par_iter().zip(&lv.delta))
            .for_each(|(limb, (q, &d))| {
                let ds = q.shoup(d);
                for ((x, &m), &corr) in limb.iter_mut().zip(&pt.coeffs).zip(&corrections) {
                    *x = q.add(q.mul_shoup(m, d, ds), q.reduce(corr));
                }
            });
        Ok(out)
    }
}

impl PublicKey {
    /// Encrypts with fresh randomness from the operating system.
    pub fn encrypt(&self, pt: &Plaintext) -> Result<Ciphertext> {
        self.encrypt_with(pt, &mut Sampler::from_entropy())
    }

    /// Encrypts with the caller's sampler: c = (b u + e_0 + Delta m, a u + e_1), u ternary.
    pub fn encrypt_with(&self, pt: &Plaintext, sampler: &mut Sampler) -> Result<Ciphertext> {
        let ctx = self.params.ciphertext_context();
        let u = zeroize::Zeroizing::new(sampler.ternary(ctx.degree()));
        let u = Poly::from_small(ctx, &u)?.into_ntt();
        let mut c0 = self.key.b.mul(&u)?.into_coeff();
        let mut c1 = self.key.a.mul(&u)?.into_coeff();
        c0.add_assign(&error_poly(ctx, sampler)?)?;
        c1.add_assign(&error_poly(ctx, sampler)?)?;
        c0.add_assign(&self.params.scale_plaintext(pt, 0)?)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: 0,
            c: vec![c0, c1],
        })
    }
}

impl SecretKey {
    /// Symmetric encryption: c = (-(a s + e) + Delta m, a) with a uniform.
    pub fn encrypt(&self, pt: &Plaintext) -> Result<Ciphertext> {
        self.encrypt_with(pt, &mut Sampler::from_entropy())
    }

    /// Symmetric encryption with the caller's sampler.
    pub fn encrypt_with(&self, pt: &Plaintext, sampler: &mut Sampler) -> Result<Ciphertext> {
        let ctx = self.params.ciphertext_context();
        let a = uniform_ntt(ctx, sampler);
        let mut c0 = a.mul(&self.s_q)?.into_coeff().neg();
        c0.sub_assign(&error_poly(ctx, sampler)?)?;
        c0.add_assign(&self.params.scale_plaintext(pt, 0)?)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: 0,
            c: vec![c0, a.into_coeff()],
        })
    }

    /// s in NTT form over the primes of `level` (the first limbs of s over Q).
    fn secret_at(&self, level: usize) -> Result<Poly<Ntt>> {
        if level == 0 {
            return Ok(self.s_q.clone());
        }
        Ok(self.s_q.prefix(&self.params.level(level)?.ctx)?)
    }

    /// c_0 + c_1 s + c_2 s^2 + ... in coefficient form (Horner's rule in the NTT domain).
    fn phase(&self, ct: &Ciphertext) -> Result<Poly<Coeff>> {
        if *ct.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let s = self.secret_at(ct.level)?;
        let (c0, rest) = ct.c.split_first().ok_or(Error::Mismatch {
            what: "empty ciphertext",
        })?;
        let mut acc: Option<Poly<Ntt>> = None;
        for ci in rest.iter().rev() {
            let mut term = ci.clone().into_ntt();
            if let Some(a) = acc {
                term.add_assign(&a)?;
            }
            term.mul_assign(&s)?;
            acc = Some(term);
        }
        let mut x = c0.clone();
        if let Some(a) = acc {
            x.add_assign(&a.into_coeff())?;
        }
        Ok(x)
    }

    /// Decrypts; [`Error::NoiseBudgetExhausted`] when the invariant noise exceeds 1/4 in some
    /// coefficient (noise budget 0), beyond which decryption is not reliable.
    ///
    /// **Decryption-failure oracle.** Whether this returns an error tells whether some
    /// coefficient's noise crossed 1/4. A party that submits crafted ciphertexts and learns
    /// success or failure (or the decrypted value) can recover the secret key (key-recovery
    /// attacks from decryption oracles, Chenal and Tang, Latincrypt 2014). Decrypt only ciphertexts
    /// you computed or validated yourself, and never return the outcome of decrypting an untrusted
    /// ciphertext to its sender. The check itself runs in time independent of where (or whether)
    /// the noise is too large: every coefficient is examined.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Plaintext> {
        let x = self.phase(ct)?;
        let scaler = &self.params.level(ct.level)?.scaler;
        let n = self.params.degree();
        let k = x.context().moduli().len();
        let data = x.as_slice();
        let scaled: Vec<(u64, u64)> = (0..n)
            .into_par_iter()
            .with_min_len(256)
            .map(|j| scaler.scale((0..k).map(|i| data[i * n + j])))
            .collect();
        let scaled = zeroize::Zeroizing::new(scaled);
        // Branch-free over every coefficient: v > 2^62 exactly when 2^62 - v wraps (v <= 2^63).
        let exhausted = scaled.iter().fold(0u64, |acc, &(_, v)| {
            acc | ((1u64 << 62).wrapping_sub(v) >> 63)
        });
        if exhausted != 0 {
            return Err(Error::NoiseBudgetExhausted);
        }
        Ok(Plaintext {
            params: self.params.clone(),
            coeffs: scaled.iter().map(|&(m, _)| m).collect(),
        })
    }

    /// [t (c_0 + c_1 s)]_Q_l as centered integers, and the level's basis (variable time).
    fn scaled_phase(&self, ct: &Ciphertext) -> Result<(Vec<BigInt>, RnsBasis)> {
        let t = i64::try_from(self.params.plaintext_modulus()).map_err(|_| Error::Mismatch {
            what: "plaintext modulus",
        })?;
        let scaled = self.phase(ct)?.mul_scalar(t);
        let primes: Vec<u64> = scaled
            .context()
            .moduli()
            .iter()
            .map(|q| q.value())
            .collect();
        let basis = RnsBasis::new(&primes)?;
        let values = basis.compose_poly_centered(scaled.as_slice(), self.params.degree())?;
        Ok((values, basis))
    }

    /// The noise of each coefficient as a fraction of the decryption threshold's scale: t e / Q_l,
    /// where the phase is c_0 + c_1 s = Delta m + e (mod Q_l) with Delta = floor(Q_l / t), m the
    /// decrypted coefficient and e centered. Decryption is correct while every |t e / Q_l| is
    /// below 1/2 (and [`decrypt`] refuses from about 1/4, its noise check).
    ///
    /// [`decrypt`]: SecretKey::decrypt
    ///
    /// A key-holder diagnostic for tests and noise studies (circuit privacy: compare the noise of
    /// replies made by different models), variable time, with the same caveats as
    /// [`SecretKey::noise_budget`]. Exact up to the final conversion to f64.
    pub fn invariant_noise_vartime(&self, ct: &Ciphertext) -> Result<Vec<f64>> {
        let x = self.phase(ct)?;
        let primes: Vec<u64> = x.context().moduli().iter().map(|q| q.value()).collect();
        let basis = RnsBasis::new(&primes)?;
        let phases = basis.compose_poly_centered(x.as_slice(), self.params.degree())?;
        let q = BigInt::from(basis.product().clone());
        let t = BigInt::from(self.params.plaintext_modulus());
        let delta = &q / &t;
        let half = &q / 2;
        // t e / Q in f64 (53-bit precision, tiny values kept); moduli beyond f64's range are
        // shifted down first.
        let shift = basis.product().bits().saturating_sub(1000);
        let q_f = (&q >> shift).to_f64().unwrap_or(f64::INFINITY);
        Ok(phases
            .iter()
            .map(|x| {
                // m = round(t x / Q) mod t, e = [x - Delta m]_Q centered.
                let m = (BigInt::from(2) * &t * x + &q).div_euclid(&(BigInt::from(2) * &q));
                let m = m.rem_euclid(&t);
                let mut e = (x - &delta * &m).rem_euclid(&q);
                if e > half {
                    e -= &q;
                }
                ((&t * e) >> shift).to_f64().unwrap_or(0.0) / q_f
            })
            .collect())
    }

    /// The invariant noise budget in bits, as SEAL defines it: log2(Q_l) minus
    /// log2(||[t (c_0 + c_1 s)]_Q_l||) minus 1, at least 0, computed exactly with big integers.
    ///
    /// A key-holder diagnostic: it needs the secret key and costs milliseconds. Do not expose it
    /// as a service on ciphertexts from untrusted parties (it is a decryption oracle on the noise;
    /// see [`SecretKey::decrypt`] on decryption-failure oracles). Unlike `decrypt`, it is not
    /// constant time: it composes big integers.
    pub fn noise_budget(&self, ct: &Ciphertext) -> Result<u32> {
        let (values, basis) = self.scaled_phase(ct)?;
        let norm_bits = values.iter().map(|v| v.bits()).max().unwrap_or(0);
        let q_bits = basis.product().bits();
        Ok(u32::try_from(q_bits.saturating_sub(norm_bits).saturating_sub(1)).unwrap_or(u32::MAX))
    }
}
