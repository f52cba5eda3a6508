//! Plaintexts and ciphertexts, encryption and decryption (Cheon, Kim, Kim and Song, Asiacrypt 2017,
//! sec. 3.4: Enc, Dec; full-RNS form of Cheon, Han, Kim, Kim and Song, SAC 2018, sec. 3).
//!
//! Both live in NTT form over R_{Q_l} at a level l (l + 1 primes) and carry their scale as an
//! `f64`: a plaintext m encodes the slots z as round(scale * z) through the canonical embedding,
//! and (c_0, c_1) decrypts to c_0 + c_1 s = m + e. Decoding lifts m + e from its residues to a
//! centred real number by mixed-radix conversion (Garner), exact up to the final rounding to f64.

use std::sync::Arc;

use num_complex::Complex64;
use rayon::prelude::*;
use veil_ring::rlwe::{error, expand_uniform, fresh_seed};
use veil_ring::sample::Sampler;
use veil_ring::{Modulus, Ntt, Poly, keyswitch};

use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey, select_limbs};
use crate::parameters::CkksParameters;

/// An encoded message: round(scale * m) for the polynomial m of the slots, NTT form at a level.
#[derive(Clone, Debug, PartialEq)]
pub struct Plaintext {
    pub(crate) params: Arc<CkksParameters>,
    pub(crate) level: usize,
    pub(crate) scale: f64,
    pub(crate) poly: Poly<Ntt>,
}

/// A CKKS ciphertext: two polynomials (three after a product, before relinearization).
#[derive(Clone, Debug, PartialEq)]
pub struct Ciphertext {
    pub(crate) params: Arc<CkksParameters>,
    pub(crate) level: usize,
    pub(crate) scale: f64,
    pub(crate) c: Vec<Poly<Ntt>>,
}

impl Plaintext {
    /// Encodes up to N/2 complex slots (missing ones are zero) at `level` and `scale`.
    pub fn encode(
        params: &Arc<CkksParameters>,
        values: &[Complex64],
        level: usize,
        scale: f64,
    ) -> Result<Self> {
        let coeffs = params.encoder.encode(values, scale)?;
        Self::from_coefficients(params, &coeffs, level, scale)
    }

    /// Encodes up to N/2 real slots at `level` and `scale`.
    pub fn encode_real(
        params: &Arc<CkksParameters>,
        values: &[f64],
        level: usize,
        scale: f64,
    ) -> Result<Self> {
        let coeffs = params.encoder.encode_real(values, scale)?;
        Self::from_coefficients(params, &coeffs, level, scale)
    }

    /// The plaintext of integer coefficients (already scaled).
    pub(crate) fn from_coefficients(
        params: &Arc<CkksParameters>,
        coeffs: &[i64],
        level: usize,
        scale: f64,
    ) -> Result<Self> {
        let ctx = &params.level(level)?.ctx;
        Ok(Plaintext {
            params: params.clone(),
            level,
            scale,
            poly: Poly::from_small(ctx, coeffs)?.into_ntt(),
        })
    }

    /// The level.
    pub fn level(&self) -> usize {
        self.level
    }

    /// The scale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The slots: m / scale through the canonical embedding.
    pub fn decode(&self) -> Result<Vec<Complex64>> {
        let coeffs = centered_coefficients(&self.poly)?;
        self.params.encoder.decode_f64(&coeffs, self.scale)
    }

    /// The real parts of the slots.
    pub fn decode_real(&self) -> Result<Vec<f64>> {
        Ok(self.decode()?.into_iter().map(|z| z.re).collect())
    }
}

/// The centred coefficients of `p` (NTT form) as reals: mixed-radix digits of each coefficient
/// (Garner), of x or of Q - x, whichever is smaller, evaluated from the top digit.
fn centered_coefficients(p: &Poly<Ntt>) -> Result<Vec<f64>> {
    let coeff = p.clone().into_coeff();
    let ctx = coeff.context();
    let n = ctx.degree();
    let moduli = ctx.moduli();
    let k = moduli.len();
    // inv[i][j] = q_j^-1 mod q_i for j < i, with its Shoup companion.
    let inv: Vec<Vec<(u64, u64)>> = moduli
        .iter()
        .enumerate()
        .map(|(i, qi)| {
            moduli[..i]
                .iter()
                .map(|qj| {
                    let w = qi.inv(qi.reduce(qj.value())).unwrap_or(0);
                    (w, qi.shoup(w))
                })
                .collect()
        })
        .collect();
    let mut out = vec![0f64; n];
    out.par_chunks_mut(1024).enumerate().for_each(|(chunk, o)| {
        let mut pos = vec![0u64; k];
        let mut neg = vec![0u64; k];
        for (t, x) in o.iter_mut().enumerate() {
            let idx = chunk * 1024 + t;
            for (i, q) in moduli.iter().enumerate() {
                let r = coeff.limb(i).get(idx).copied().unwrap_or(0);
                pos[i] = r;
                neg[i] = q.neg(r);
            }
            garner(moduli, &inv, &mut pos);
            garner(moduli, &inv, &mut neg);
            // Mixed-radix digits compare lexicographically from the top.
            let positive = pos.iter().rev().cmp(neg.iter().rev()) != core::cmp::Ordering::Greater;
            let digits = if positive { &pos } else { &neg };
            let magnitude = digits
                .iter()
                .zip(moduli)
                .rev()
                .fold(0f64, |acc, (&d, q)| acc * q.value() as f64 + d as f64);
            *x = if positive { magnitude } else { -magnitude };
        }
    });
    Ok(out)
}

/// Residues -> mixed-radix digits in place: x = d_0 + d_1 q_0 + d_2 q_0 q_1 + ...
fn garner(moduli: &[Modulus], inv: &[Vec<(u64, u64)>], r: &mut [u64]) {
    for i in 1..r.len() {
        let (lower, upper) = r.split_at_mut(i);
        let (Some(ri), Some(q), Some(inv_i)) = (upper.first_mut(), moduli.get(i), inv.get(i))
        else {
            return;
        };
        let qv = q.value();
        let mut t = *ri;
        for (&d, &(w, ws)) in lower.iter().zip(inv_i) {
            // t + q - d < 2^64: Shoup's multiplication takes any word.
            let d = if d >= qv { q.reduce(d) } else { d };
            t = q.mul_shoup(t + qv - d, w, ws);
        }
        *ri = t;
    }
}

impl Ciphertext {
    /// The parameters.
    pub fn parameters(&self) -> &Arc<CkksParameters> {
        &self.params
    }

    /// The level (the number of rescalings left).
    pub fn level(&self) -> usize {
        self.level
    }

    /// The scale of the encrypted message.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Number of polynomials (2, or 3 after a product before relinearization).
    pub fn size(&self) -> usize {
        self.c.len()
    }
}

impl PublicKey {
    /// Encrypts a plaintext with fresh randomness.
    pub fn encrypt(&self, pt: &Plaintext) -> Result<Ciphertext> {
        self.encrypt_with(pt, &mut Sampler::from_entropy())
    }

    /// Encrypts with the caller's sampler: (b u + e_0, a u + e_1) over R_{Q_l P} for a ternary
    /// u, divided by P with rounding, then m added. The division shrinks the noise u e + e_0 +
    /// e_1 s from about N sigma to the rounding error (about sqrt(N)), as SEAL does.
    pub fn encrypt_with(&self, pt: &Plaintext, sampler: &mut Sampler) -> Result<Ciphertext> {
        if *pt.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let lv = self.params.level(pt.level)?;
        let ctx = &lv.ctx_qp;
        let mut u_coeffs = sampler.ternary(ctx.degree());
        let u = Poly::from_small(ctx, &u_coeffs)?.into_ntt();
        zeroize::Zeroize::zeroize(&mut u_coeffs);
        let mut c0 = select_limbs(&self.key.b, &lv.key_limbs, ctx)?.mul(&u)?;
        c0.add_assign(&error(ctx, sampler)?.into_ntt())?;
        let mut c1 = select_limbs(&self.key.a, &lv.key_limbs, ctx)?.mul(&u)?;
        c1.add_assign(&error(ctx, sampler)?.into_ntt())?;
        let (c0, c1) = rayon::join(
            || keyswitch::divide_round_by_last_ntt(&c0, &lv.ctx),
            || keyswitch::divide_round_by_last_ntt(&c1, &lv.ctx),
        );
        let mut c0 = c0?;
        c0.add_assign(&pt.poly)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: pt.level,
            scale: pt.scale,
            c: vec![c0, c1?],
        })
    }
}

impl SecretKey {
    /// Encrypts with the secret key and fresh randomness.
    pub fn encrypt(&self, pt: &Plaintext) -> Result<Ciphertext> {
        self.encrypt_with(pt, &mut Sampler::from_entropy())
    }

    /// Encrypts with the secret key: (-(a s + e) + m, a) for a uniform a.
    pub fn encrypt_with(&self, pt: &Plaintext, sampler: &mut Sampler) -> Result<Ciphertext> {
        if *pt.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let ctx = &self.params.level(pt.level)?.ctx;
        let a = expand_uniform(ctx, &fresh_seed(sampler));
        let mut c0 = a.mul(&self.at_level(pt.level)?)?;
        c0.add_assign(&error(ctx, sampler)?.into_ntt())?;
        let mut c0 = c0.neg();
        c0.add_assign(&pt.poly)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: pt.level,
            scale: pt.scale,
            c: vec![c0, a],
        })
    }

    /// Decrypts to a plaintext: c_0 + c_1 s (+ c_2 s^2).
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Plaintext> {
        if *ct.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let s = self.at_level(ct.level)?;
        let mut acc = ct.c.first().cloned().ok_or(Error::Mismatch {
            what: "empty ciphertext",
        })?;
        let mut power = s.clone();
        for (i, ci) in ct.c.iter().enumerate().skip(1) {
            if i > 1 {
                power.mul_assign(&s)?;
            }
            acc.add_assign(&ci.mul(&power)?)?;
        }
        Ok(Plaintext {
            params: self.params.clone(),
            level: ct.level,
            scale: ct.scale,
            poly: acc,
        })
    }

    /// Decrypts and decodes the slots.
    pub fn decrypt_complex(&self, ct: &Ciphertext) -> Result<Vec<Complex64>> {
        self.decrypt(ct)?.decode()
    }

    /// Decrypts and decodes the real parts of the slots.
    pub fn decrypt_real(&self, ct: &Ciphertext) -> Result<Vec<f64>> {
        self.decrypt(ct)?.decode_real()
    }
}
