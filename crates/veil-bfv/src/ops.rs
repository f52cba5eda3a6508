//! Homomorphic operations that need no key: add, subtract, negate, and the plaintext-operand
//! versions (Fan and Vercauteren, eprint 2012/144, sec. 4). Ciphertext products are in `mul.rs`.

use rayon::prelude::*;
use veil_ring::{Coeff, Poly};

use crate::ciphertext::Ciphertext;
use crate::encoding::Plaintext;
use crate::error::{Error, Result};

impl Ciphertext {
    fn check(&self, other: &Ciphertext) -> Result<()> {
        if *self.params == *other.params {
            Ok(())
        } else {
            Err(Error::Mismatch { what: "parameters" })
        }
    }

    /// self + other (slot-wise sum of the plaintexts); sizes may differ (2 and 3 polynomials).
    pub fn add(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.check(other)?;
        let (long, short) = if self.c.len() >= other.c.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut c = long.c.clone();
        for (x, y) in c.iter_mut().zip(&short.c) {
            x.add_assign(y)?;
        }
        Ok(Ciphertext {
            params: self.params.clone(),
            c,
        })
    }

    /// -self.
    pub fn neg(&self) -> Ciphertext {
        Ciphertext {
            params: self.params.clone(),
            c: self.c.iter().map(Poly::neg).collect(),
        }
    }

    /// self - other.
    pub fn sub(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.add(&other.neg())
    }

    /// self + pt: adds Delta m to c_0.
    pub fn add_plain(&self, pt: &Plaintext) -> Result<Ciphertext> {
        self.with_scaled_plaintext(pt, |c0, dm| c0.add_assign(dm))
    }

    /// self - pt: subtracts Delta m from c_0.
    pub fn sub_plain(&self, pt: &Plaintext) -> Result<Ciphertext> {
        self.with_scaled_plaintext(pt, |c0, dm| c0.sub_assign(dm))
    }

    /// A copy whose c_0 is combined with Delta m by `f`.
    fn with_scaled_plaintext(
        &self,
        pt: &Plaintext,
        f: impl FnOnce(&mut Poly<Coeff>, &Poly<Coeff>) -> veil_ring::Result<()>,
    ) -> Result<Ciphertext> {
        let dm = self.params.scale_plaintext(pt)?;
        let mut c = self.c.clone();
        f(
            c.first_mut().ok_or(Error::Mismatch {
                what: "empty ciphertext",
            })?,
            &dm,
        )?;
        Ok(Ciphertext {
            params: self.params.clone(),
            c,
        })
    }

    /// self * pt (slot-wise product): every polynomial times the plaintext lifted to R_Q with
    /// centered coefficients in (-t/2, t/2], which halves the noise growth of a [0, t) lift.
    pub fn mul_plain(&self, pt: &Plaintext) -> Result<Ciphertext> {
        if *pt.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let t = self.params.plaintext();
        let centered: Vec<i64> = pt.coeffs.iter().map(|&m| t.center(m)).collect();
        let m = Poly::<Coeff>::from_small(self.params.ciphertext_context(), &centered)?.into_ntt();
        let c = self
            .c
            .par_iter()
            .map(|ci| Ok(ci.clone().into_ntt().mul(&m)?.into_coeff()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            params: self.params.clone(),
            c,
        })
    }

    /// self * k for an integer k (every slot times k mod t), reduced to (-t/2, t/2] first.
    pub fn mul_scalar(&self, k: i64) -> Ciphertext {
        let t = self.params.plaintext();
        let k = t.center(t.reduce_i64(k));
        Ciphertext {
            params: self.params.clone(),
            c: self.c.iter().map(|ci| ci.mul_scalar(k)).collect(),
        }
    }
}
