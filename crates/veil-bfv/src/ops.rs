//! Homomorphic operations that need no key: add, subtract, negate, the plaintext-operand versions
//! (Fan and Vercauteren, eprint 2012/144, sec. 4), and modulus switching. Operands at different
//! levels are brought to the lower one first. Ciphertext products are in `mul.rs`.

use std::borrow::Cow;

use rayon::prelude::*;
use veil_ring::{Coeff, Poly};

use crate::ciphertext::Ciphertext;
use crate::encoding::Plaintext;
use crate::error::{Error, Result};
use veil_ring::keyswitch::divide_round_by_last;

impl Ciphertext {
    fn check(&self, other: &Ciphertext) -> Result<()> {
        if *self.params == *other.params {
            Ok(())
        } else {
            Err(Error::Mismatch { what: "parameters" })
        }
    }

    /// Both operands at the lower of their two levels (modulus switching the other one down).
    pub(crate) fn aligned<'a>(
        &'a self,
        other: &'a Ciphertext,
    ) -> Result<(Cow<'a, Ciphertext>, Cow<'a, Ciphertext>)> {
        self.check(other)?;
        let level = self.level.max(other.level);
        Ok((self.at_level(level)?, other.at_level(level)?))
    }

    /// This ciphertext switched down to `level` (itself when already there).
    pub(crate) fn at_level(&self, level: usize) -> Result<Cow<'_, Ciphertext>> {
        if level < self.level {
            return Err(Error::Mismatch {
                what: "level: cannot switch a ciphertext back up",
            });
        }
        let mut ct = Cow::Borrowed(self);
        while ct.level < level {
            ct = Cow::Owned(ct.mod_switch_to_next()?);
        }
        Ok(ct)
    }

    /// Modulus switching (Brakerski, Gentry, Vaikuntanathan, ITCS 2012, sec. 4): divides every
    /// polynomial by the level's last prime with rounding, dropping that prime. The plaintext is
    /// unchanged; the ciphertext gets smaller and every later operation cheaper. The noise budget
    /// shrinks by about the prime's size minus the noise it removes.
    pub fn mod_switch_to_next(&self) -> Result<Ciphertext> {
        if self.level >= self.params.max_level() {
            return Err(Error::Mismatch {
                what: "level: already at the last prime",
            });
        }
        let next = &self.params.level(self.level + 1)?.ctx;
        let c = self
            .c
            .par_iter()
            .map(|ci| Ok(divide_round_by_last(ci, next)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level + 1,
            c,
        })
    }

    /// Switches down to the last level, to make a result as small as possible before sending it.
    pub fn mod_switch_to_last(&self) -> Result<Ciphertext> {
        Ok(self.at_level(self.params.max_level())?.into_owned())
    }

    /// self + other (slot-wise sum of the plaintexts); sizes may differ (2 and 3 polynomials).
    pub fn add(&self, other: &Ciphertext) -> Result<Ciphertext> {
        let (a, b) = self.aligned(other)?;
        let (long, short) = if a.c.len() >= b.c.len() {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let mut c = Vec::with_capacity(long.c.len());
        for (i, x) in long.c.iter().enumerate() {
            c.push(match short.c.get(i) {
                Some(y) => x.add(y)?,
                None => x.clone(),
            });
        }
        Ok(Ciphertext {
            params: self.params.clone(),
            level: a.level,
            c,
        })
    }

    /// -self.
    pub fn neg(&self) -> Ciphertext {
        Ciphertext {
            params: self.params.clone(),
            level: self.level,
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
        let dm = self.params.scale_plaintext(pt, self.level)?;
        let mut c = self.c.clone();
        f(
            c.first_mut().ok_or(Error::Mismatch {
                what: "empty ciphertext",
            })?,
            &dm,
        )?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            c,
        })
    }

    /// self * pt (slot-wise product): every polynomial times the plaintext lifted to R_Q_l with
    /// centered coefficients in (-t/2, t/2], which halves the noise growth of a [0, t) lift.
    pub fn mul_plain(&self, pt: &Plaintext) -> Result<Ciphertext> {
        if *pt.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let t = self.params.plaintext();
        let centered: Vec<i64> = pt.coeffs.iter().map(|&m| t.center(m)).collect();
        let ctx = &self.params.level(self.level)?.ctx;
        let m = Poly::<Coeff>::from_small(ctx, &centered)?.into_ntt();
        let c = self
            .c
            .par_iter()
            .map(|ci| Ok(ci.clone().into_ntt().mul(&m)?.into_coeff()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            c,
        })
    }

    /// self * k for an integer k (every slot times k mod t), reduced to (-t/2, t/2] first.
    pub fn mul_scalar(&self, k: i64) -> Ciphertext {
        let t = self.params.plaintext();
        let k = t.center(t.reduce_i64(k));
        Ciphertext {
            params: self.params.clone(),
            level: self.level,
            c: self.c.iter().map(|ci| ci.mul_scalar(k)).collect(),
        }
    }
}
