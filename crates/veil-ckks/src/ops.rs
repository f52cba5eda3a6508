//! Homomorphic arithmetic with scale bookkeeping (Cheon, Kim, Kim and Song, Asiacrypt 2017,
//! sec. 3.4: Add, Mult, RS; full-RNS rescaling: Cheon, Han, Kim, Kim and Song, SAC 2018, sec. 3.3).
//!
//! Rules: a product multiplies scales; [`Ciphertext::rescale`] divides the scale by the dropped
//! prime q_l; additions need one level and one scale. Between different levels, the higher operand
//! is brought down automatically: by dropping primes when the scales agree, else by one product
//! with the integer round(s_low q / s_high) followed by a rescale, which lands on the lower scale
//! up to a relative 2^-40 (the "scale adjustment" of flexible-scaling CKKS). At one level, scales
//! must agree within a relative 2^-32 ([`Error::ScaleMismatch`] otherwise).

use std::borrow::Cow;
use std::sync::Arc;

use rayon::prelude::*;
use veil_ring::{Ntt, Poly, keyswitch};

use crate::ciphertext::{Ciphertext, Plaintext};
use crate::error::{Error, Result};
use crate::keys::{RelinearizationKey, restrict};

/// Largest relative difference of two scales treated as equal.
const SCALE_TOLERANCE: f64 = 1.0 / 4_294_967_296.0;

fn same_scale(a: f64, b: f64) -> bool {
    ((a - b) / a.max(b)).abs() <= SCALE_TOLERANCE
}

/// round(x) mod q for a real x with |x| < 2^126.
fn residue_of_real(x: f64, q: &veil_ring::Modulus) -> Result<u64> {
    let r = x.round();
    if !r.is_finite() || r.abs() >= 2f64.powi(126) {
        return Err(Error::Encoding {
            reason: "a scaled constant reaches 2^126: lower the scale or the constant",
        });
    }
    let m = (r.abs() as u128 % u128::from(q.value())) as u64;
    Ok(if r < 0.0 { q.neg(m) } else { m })
}

impl Ciphertext {
    fn check_params(&self, other: &Arc<crate::CkksParameters>) -> Result<()> {
        if *self.params == **other {
            Ok(())
        } else {
            Err(Error::Mismatch { what: "parameters" })
        }
    }

    /// The same message at a lower level (primes dropped, scale unchanged).
    pub fn mod_drop_to(&self, level: usize) -> Result<Ciphertext> {
        if level == self.level {
            return Ok(self.clone());
        }
        if level > self.level {
            return Err(Error::Level {
                level,
                max: self.level,
            });
        }
        let ctx = &self.params.level(level)?.ctx;
        Ok(Ciphertext {
            params: self.params.clone(),
            level,
            scale: self.scale,
            c: self
                .c
                .iter()
                .map(|p| restrict(p, ctx))
                .collect::<Result<_>>()?,
        })
    }

    /// This ciphertext at `level` and `scale` (at most its own level; a lower level if the scale
    /// differs): see the module docs.
    pub fn align_to(&self, level: usize, scale: f64) -> Result<Ciphertext> {
        if same_scale(self.scale, scale) {
            let mut out = self.mod_drop_to(level)?;
            out.scale = scale;
            return Ok(out);
        }
        if level >= self.level {
            return Err(Error::ScaleMismatch {
                left: self.scale.log2(),
                right: scale.log2(),
            });
        }
        let high = self.mod_drop_to(level + 1)?;
        let q = self.params.prime(level + 1)?.value() as f64;
        let factor = (scale * q / self.scale).round();
        if !(1.0..4.6e18).contains(&factor) {
            return Err(Error::ScaleMismatch {
                left: self.scale.log2(),
                right: scale.log2(),
            });
        }
        let mut out = high.mul_integer(factor as i64).rescale()?;
        out.scale = scale;
        Ok(out)
    }

    /// Both operands at one level and scale (borrowed when they already are).
    fn aligned<'a>(
        &'a self,
        other: &'a Ciphertext,
    ) -> Result<(Cow<'a, Ciphertext>, Cow<'a, Ciphertext>)> {
        self.check_params(&other.params)?;
        match self.level.cmp(&other.level) {
            core::cmp::Ordering::Equal if same_scale(self.scale, other.scale) => {
                Ok((Cow::Borrowed(self), Cow::Borrowed(other)))
            }
            core::cmp::Ordering::Equal => Err(Error::ScaleMismatch {
                left: self.scale.log2(),
                right: other.scale.log2(),
            }),
            core::cmp::Ordering::Greater => Ok((
                Cow::Owned(self.align_to(other.level, other.scale)?),
                Cow::Borrowed(other),
            )),
            core::cmp::Ordering::Less => Ok((
                Cow::Borrowed(self),
                Cow::Owned(other.align_to(self.level, self.scale)?),
            )),
        }
    }

    fn zip_with(
        &self,
        other: &Ciphertext,
        f: impl Fn(&Poly<Ntt>, &Poly<Ntt>) -> veil_ring::Result<Poly<Ntt>>,
        g: impl Fn(&Poly<Ntt>) -> Poly<Ntt>,
    ) -> Result<Ciphertext> {
        let (a, b) = self.aligned(other)?;
        let len = a.c.len().max(b.c.len());
        let mut c = Vec::with_capacity(len);
        for i in 0..len {
            match (a.c.get(i), b.c.get(i)) {
                (Some(x), Some(y)) => c.push(f(x, y)?),
                (Some(x), None) => c.push(x.clone()),
                (None, Some(y)) => c.push(g(y)),
                (None, None) => {}
            }
        }
        Ok(Ciphertext {
            params: a.params.clone(),
            level: a.level,
            scale: a.scale,
            c,
        })
    }

    /// The sum (levels and scales aligned automatically).
    pub fn add(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.zip_with(other, Poly::add, Poly::clone)
    }

    /// The difference (levels and scales aligned automatically).
    pub fn sub(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.zip_with(other, Poly::sub, Poly::neg)
    }

    /// In-place sum, when both operands are at the same level and scale (else as [`Self::add`]).
    pub fn add_assign(&mut self, other: &Ciphertext) -> Result<()> {
        if self.level != other.level
            || !same_scale(self.scale, other.scale)
            || self.c.len() < other.c.len()
        {
            *self = self.add(other)?;
            return Ok(());
        }
        self.check_params(&other.params)?;
        for (x, y) in self.c.iter_mut().zip(&other.c) {
            x.add_assign(y)?;
        }
        Ok(())
    }

    /// The negation.
    pub fn neg(&self) -> Ciphertext {
        Ciphertext {
            params: self.params.clone(),
            level: self.level,
            scale: self.scale,
            c: self.c.iter().map(Poly::neg).collect(),
        }
    }

    fn plain_at_level<'a>(&self, pt: &'a Plaintext) -> Result<Cow<'a, Poly<Ntt>>> {
        self.check_params(&pt.params)?;
        match pt.level.cmp(&self.level) {
            core::cmp::Ordering::Less => Err(Error::Mismatch {
                what: "plaintext level below the ciphertext's",
            }),
            core::cmp::Ordering::Equal => Ok(Cow::Borrowed(&pt.poly)),
            core::cmp::Ordering::Greater => Ok(Cow::Owned(restrict(
                &pt.poly,
                &self.params.level(self.level)?.ctx,
            )?)),
        }
    }

    /// Adds a plaintext of the same scale (encoded at this level or above).
    pub fn add_plain(&self, pt: &Plaintext) -> Result<Ciphertext> {
        if !same_scale(self.scale, pt.scale) {
            return Err(Error::ScaleMismatch {
                left: self.scale.log2(),
                right: pt.scale.log2(),
            });
        }
        let p = self.plain_at_level(pt)?;
        let mut out = self.clone();
        if let Some(c0) = out.c.first_mut() {
            c0.add_assign(&p)?;
        }
        Ok(out)
    }

    /// Multiplies by a plaintext (encoded at this level or above): scales multiply.
    pub fn mul_plain(&self, pt: &Plaintext) -> Result<Ciphertext> {
        let p = self.plain_at_level(pt)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            scale: self.scale * pt.scale,
            c: self
                .c
                .iter()
                .map(|c| c.mul(&p))
                .collect::<veil_ring::Result<_>>()?,
        })
    }

    /// Multiplies by an integer: exact, scale unchanged.
    pub fn mul_integer(&self, k: i64) -> Ciphertext {
        Ciphertext {
            params: self.params.clone(),
            level: self.level,
            scale: self.scale,
            c: self.c.iter().map(|p| p.mul_scalar(k)).collect(),
        }
    }

    /// Multiplies every slot by the real `c`, encoded as round(c q_l) with q_l the prime the next
    /// rescale drops: the scale becomes scale q_l, and [`Ciphertext::rescale`] restores it
    /// exactly. Needs level >= 1.
    pub fn mul_const(&self, c: f64) -> Result<Ciphertext> {
        let q = self
            .params
            .prime(
                self.level
                    .checked_sub(1)
                    .map(|_| self.level)
                    .ok_or(Error::Level {
                        level: 0,
                        max: self.params.max_level(),
                    })?,
            )?;
        let factor = (c * q.value() as f64).round();
        if !factor.is_finite() || factor.abs() >= 4.6e18 {
            return Err(Error::Encoding {
                reason: "the constant times q_l does not fit 62 bits",
            });
        }
        let mut out = self.mul_integer(factor as i64);
        out.scale *= q.value() as f64;
        Ok(out)
    }

    /// [`mul_const`](Self::mul_const) then [`rescale`](Self::rescale): c times the message, same
    /// scale, one level lower.
    pub fn mul_const_rescale(&self, c: f64) -> Result<Ciphertext> {
        let mut out = self.mul_const(c)?.rescale()?;
        out.scale = self.scale;
        Ok(out)
    }

    /// Adds the real constant `c` to every slot (exact: round(c scale) on the constant term).
    pub fn add_const(&self, c: f64) -> Result<Ciphertext> {
        let mut out = self.clone();
        let v = c * self.scale;
        let n = self.params.degree();
        let ctx = self.params.level(self.level)?.ctx.clone();
        if let Some(c0) = out.c.first_mut() {
            for (limb, q) in c0.as_mut_slice().chunks_mut(n).zip(ctx.moduli()) {
                let r = residue_of_real(v, q)?;
                limb.iter_mut().for_each(|x| *x = q.add(*x, r));
            }
        }
        Ok(out)
    }

    /// The tensor product (three polynomials; relinearize next): scales multiply; the higher
    /// operand is first brought down to the lower level by dropping primes.
    pub fn mul(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.check_params(&other.params)?;
        let level = self.level.min(other.level);
        let dropped;
        let (a, b) = match self.level.cmp(&other.level) {
            core::cmp::Ordering::Equal => (self, other),
            core::cmp::Ordering::Greater => {
                dropped = self.mod_drop_to(level)?;
                (&dropped, other)
            }
            core::cmp::Ordering::Less => {
                dropped = other.mod_drop_to(level)?;
                (self, &dropped)
            }
        };
        let ([a0, a1], [b0, b1]) = (a.c.as_slice(), b.c.as_slice()) else {
            return Err(Error::Mismatch {
                what: "ciphertext size: relinearize before multiplying",
            });
        };
        let (c0, (c1, c2)) = rayon::join(
            || a0.mul(b0),
            || {
                rayon::join(
                    || Poly::sum_of_products(&[(a0, b1), (a1, b0)]),
                    || a1.mul(b1),
                )
            },
        );
        Ok(Ciphertext {
            params: self.params.clone(),
            level,
            scale: a.scale * b.scale,
            c: vec![c0?, c1?, c2?],
        })
    }

    /// The square (three polynomials): one product fewer than [`Ciphertext::mul`].
    pub fn square(&self) -> Result<Ciphertext> {
        let [a0, a1] = self.c.as_slice() else {
            return Err(Error::Mismatch {
                what: "ciphertext size: relinearize before multiplying",
            });
        };
        let (c0, (c1, c2)) = rayon::join(
            || a0.mul(a0),
            || rayon::join(|| a0.mul(a1).map(|p| p.mul_scalar(2)), || a1.mul(a1)),
        );
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            scale: self.scale * self.scale,
            c: vec![c0?, c1?, c2?],
        })
    }

    /// Back to two polynomials: c_2 is key-switched from s^2 to s.
    pub fn relinearize(&self, rk: &RelinearizationKey) -> Result<Ciphertext> {
        self.check_params(&rk.params)?;
        match self.c.as_slice() {
            [_, _] => Ok(self.clone()),
            [c0, c1, c2] => {
                let rings = self.params.level(self.level)?.rings();
                let (u0, u1) = rk
                    .key
                    .switch(rings, &c2.clone().into_coeff(), [None, None])?;
                let (u0, u1) = rayon::join(|| u0.into_ntt(), || u1.into_ntt());
                let (mut d0, mut d1) = (c0.clone(), c1.clone());
                d0.add_assign(&u0)?;
                d1.add_assign(&u1)?;
                Ok(Ciphertext {
                    params: self.params.clone(),
                    level: self.level,
                    scale: self.scale,
                    c: vec![d0, d1],
                })
            }
            _ => Err(Error::Mismatch {
                what: "ciphertext size",
            }),
        }
    }

    /// mul, relinearize, rescale.
    pub fn mul_relin_rescale(
        &self,
        other: &Ciphertext,
        rk: &RelinearizationKey,
    ) -> Result<Ciphertext> {
        self.mul(other)?.relinearize(rk)?.rescale()
    }

    /// Divides by the last prime q_l with rounding and drops it: level l - 1, scale / q_l.
    /// In NTT form: only the last limb is transformed back (full-RNS RS, SAC 2018 sec. 3.3;
    /// `veil_ring::keyswitch::divide_round_by_last_ntt`).
    pub fn rescale(&self) -> Result<Ciphertext> {
        let l = self.level;
        if l == 0 {
            return Err(Error::Level {
                level: 0,
                max: self.params.max_level(),
            });
        }
        let target = &self.params.level(l - 1)?.ctx;
        let ql = self.params.prime(l)?.value() as f64;
        let c = self
            .c
            .par_iter()
            .map(|p| keyswitch::divide_round_by_last_ntt(p, target))
            .collect::<veil_ring::Result<Vec<_>>>()?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: l - 1,
            scale: self.scale / ql,
            c,
        })
    }
}
