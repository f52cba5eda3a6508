//! Ciphertexts, encryption and decryption (Fan and Vercauteren, eprint 2012/144, sec. 4).

use std::sync::Arc;

use rayon::prelude::*;
use veil_ring::sample::Sampler;
use veil_ring::{Coeff, Ntt, Poly, RnsBasis};

use crate::encoding::Plaintext;
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey, error_poly, uniform_ntt};
use crate::parameters::BfvParameters;

/// A BFV ciphertext: two (or three, after a product without relinearization) polynomials of R_Q in
/// coefficient form, decrypting to m through c_0 + c_1 s (+ c_2 s^2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ciphertext {
    pub(crate) params: Arc<BfvParameters>,
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

    /// The polynomials, in coefficient form over Q.
    pub fn polynomials(&self) -> &[Poly<Coeff>] {
        &self.c
    }
}

impl BfvParameters {
    /// Delta m = round(Q m / t) in R_Q, computed as floor(Q/t) m + round((Q mod t) m / t) per limb.
    pub(crate) fn scale_plaintext(&self, pt: &Plaintext) -> Result<Poly<Coeff>> {
        if *pt.params != *self {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let ctx = self.ciphertext_context();
        let n = ctx.degree();
        let t = u128::from(self.plaintext_modulus());
        let corrections: Vec<u64> = pt
            .coeffs
            .iter()
            .map(|&m| ((2 * u128::from(self.q_mod_t) * u128::from(m) + t) / (2 * t)) as u64)
            .collect();
        let mut out = Poly::<Coeff>::zero(ctx);
        out.as_mut_slice()
            .par_chunks_mut(n)
            .zip(ctx.moduli().par_iter().zip(&self.delta))
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
        let u = Poly::from_small(ctx, &sampler.ternary(ctx.degree()))?.into_ntt();
        let mut c0 = self.b.mul(&u)?.into_coeff();
        let mut c1 = self.a.mul(&u)?.into_coeff();
        c0.add_assign(&error_poly(ctx, sampler)?)?;
        c1.add_assign(&error_poly(ctx, sampler)?)?;
        c0.add_assign(&self.params.scale_plaintext(pt)?)?;
        Ok(Ciphertext {
            params: self.params.clone(),
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
        c0.add_assign(&self.params.scale_plaintext(pt)?)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            c: vec![c0, a.into_coeff()],
        })
    }

    /// c_0 + c_1 s + c_2 s^2 + ... in coefficient form over Q (Horner's rule in the NTT domain).
    fn phase(&self, ct: &Ciphertext) -> Result<Poly<Coeff>> {
        if *ct.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let (c0, rest) = ct.c.split_first().ok_or(Error::Mismatch {
            what: "empty ciphertext",
        })?;
        let mut acc: Option<Poly<Ntt>> = None;
        for ci in rest.iter().rev() {
            let mut term = ci.clone().into_ntt();
            if let Some(a) = acc {
                term.add_assign(&a)?;
            }
            term.mul_assign(&self.s_q)?;
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
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Plaintext> {
        let x = self.phase(ct)?;
        let n = self.params.degree();
        let k = self.params.ciphertext_moduli().len();
        let data = x.as_slice();
        let scaled: Vec<(u64, u64)> = (0..n)
            .into_par_iter()
            .with_min_len(256)
            .map(|j| {
                self.params
                    .scaler
                    .scale((0..k).map(|i| data.get(i * n + j).copied().unwrap_or(0)))
            })
            .collect();
        if scaled.iter().any(|&(_, v)| v > 1 << 62) {
            return Err(Error::NoiseBudgetExhausted);
        }
        Ok(Plaintext {
            params: self.params.clone(),
            coeffs: scaled.into_iter().map(|(m, _)| m).collect(),
        })
    }

    /// The invariant noise budget in bits, as SEAL defines it: log2(Q) - log2(||[t (c_0 + c_1 s)]_Q||)
    /// - 1, at least 0, computed exactly with big integers.
    ///
    /// A key-holder diagnostic: it needs the secret key and costs milliseconds. Do not expose it
    /// as a service on ciphertexts from untrusted parties (it is a decryption oracle on the noise).
    pub fn noise_budget(&self, ct: &Ciphertext) -> Result<u32> {
        let t = i64::try_from(self.params.plaintext_modulus()).map_err(|_| Error::Mismatch {
            what: "plaintext modulus",
        })?;
        let scaled = self.phase(ct)?.mul_scalar(t);
        let basis = RnsBasis::new(self.params.ciphertext_moduli())?;
        let values = basis.compose_poly_centered(scaled.as_slice(), self.params.degree())?;
        let norm_bits = values.iter().map(|v| v.bits()).max().unwrap_or(0);
        let q_bits = basis.product().bits();
        Ok(u32::try_from(q_bits.saturating_sub(norm_bits).saturating_sub(1)).unwrap_or(u32::MAX))
    }
}
