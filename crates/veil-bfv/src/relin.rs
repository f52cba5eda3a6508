//! Relinearization by hybrid key switching with one special prime P (the RNS-digit variant used by
//! SEAL; Bajard, Eynard, Hasan and Zucca, SAC 2016, sec. 4, and Gentry, Halevi and Smart, "Homomorphic
//! evaluation of the AES circuit", sec. 3.1.1, for the special modulus).
//!
//! Key for s' (here s^2): for each prime q_i of Q, (b_i, a_i) over Q P with a_i uniform and
//! b_i = -(a_i s + e_i) + P g_i s', where g_i = (Q/q_i) [(Q/q_i)^-1]_{q_i} is 1 mod q_i and 0 mod the
//! other primes and P. Switching d: with digits d_i = [d]_{q_i}, sum_i d_i (b_i, a_i) decrypts to
//! P d s' + small mod Q P; dividing by P (rounding) leaves d s' plus noise sum_i d_i e_i / P.

use std::sync::Arc;

use rayon::prelude::*;
use veil_ring::kernels;
use veil_ring::pool;
use veil_ring::sample::Sampler;
use veil_ring::{Coeff, Context, Modulus, Ntt, Poly};

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{SecretKey, error_poly, expand_uniform, fresh_seed};
use crate::parameters::BfvParameters;

/// A key-switching key from s' to s: one pair (b_i, a_i) over Q P per prime of Q, in NTT form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeySwitchingKey {
    pub(crate) params: Arc<BfvParameters>,
    pub(crate) pairs: Vec<(Poly<Ntt>, Poly<Ntt>)>,
    /// The seed each a_i was expanded from: serialized instead of a_i.
    pub(crate) seeds: Vec<[u8; 32]>,
}

/// The relinearization key: a key-switching key from s^2 to s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelinearizationKey {
    pub(crate) ksk: KeySwitchingKey,
}

impl KeySwitchingKey {
    /// Key switching from `target` (s' in NTT form over Q P) to the secret `sk`.
    pub(crate) fn new(sk: &SecretKey, target: &Poly<Ntt>, sampler: &mut Sampler) -> Result<Self> {
        let params = &sk.params;
        let ctx = params.key_context();
        let n = ctx.degree();
        let p = params.special_modulus();
        let mut pairs = Vec::with_capacity(params.ciphertext_moduli().len());
        let mut seeds = Vec::with_capacity(params.ciphertext_moduli().len());
        for i in 0..params.ciphertext_moduli().len() {
            let seed = fresh_seed(sampler);
            let a = expand_uniform(ctx, &seed);
            seeds.push(seed);
            let e = error_poly(ctx, sampler)?.into_ntt();
            let mut b = a.mul(&sk.s_qp)?;
            b.add_assign(&e)?;
            let mut b = b.neg();
            // + P g_i s': only limb i is nonzero, where it is (P mod q_i) s'.
            let qi = ctx.moduli().get(i).ok_or(Error::Mismatch {
                what: "modulus index",
            })?;
            let p_mod = qi.reduce(p);
            let (w, ws) = (p_mod, qi.shoup(p_mod));
            let target_limb = target.limb(i);
            if let Some(limb) = b.as_mut_slice().get_mut(i * n..(i + 1) * n) {
                for (x, &s) in limb.iter_mut().zip(target_limb) {
                    *x = qi.add(*x, qi.mul_shoup(s, w, ws));
                }
            }
            pairs.push((b, a));
        }
        Ok(KeySwitchingKey {
            params: params.clone(),
            pairs,
            seeds,
        })
    }

    /// (u_0, u_1) over Q_l with u_0 + u_1 s = d s' + small, for d over Q_l (level `level`) in
    /// coefficient form.
    ///
    /// `addends` are added to (u_0, u_1) in the same pass as the final division by P (for
    /// example c_0 and c_1 when relinearizing), which saves a pass and a parallel region.
    pub(crate) fn switch(
        &self,
        d: &Poly<Coeff>,
        level: usize,
        addends: [Option<&Poly<Coeff>>; 2],
    ) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
        let lv = self.params.level(level)?;
        let ctx = &lv.ctx_qp;
        let n = ctx.degree();
        let digit_moduli = lv.ctx.moduli();
        if d.context().moduli() != digit_moduli {
            return Err(Error::Mismatch {
                what: "level of the switched polynomial",
            });
        }
        let k = digit_moduli.len();
        // With few limbs per thread, one task per limb would leave a core idle: split the digit
        // transforms into k (k + 1) tasks instead (at the cost of a shared decomposition buffer).
        if ctx.moduli().len() < 2 * rayon::current_num_threads() + 1 {
            let digits = Decomposition::new(&self.params, d, level)?;
            return self.switch_decomposed(&digits, None, addends);
        }
        let pairs = self
            .pairs
            .get(..k)
            .ok_or(Error::Mismatch { what: "key size" })?;
        // One task per target limb: its k digits (transformed into a scratch buffer that stays in
        // that core's cache), both inner products, both inverse transforms.
        let mut out = pool::take_zeroed(2 * ctx.moduli().len() * n);
        out.par_chunks_mut(2 * n)
            .enumerate()
            .try_for_each(|(t, o)| {
                let (qt, ntt) = ctx
                    .moduli()
                    .get(t)
                    .zip(ctx.ntt_operators().get(t))
                    .ok_or(Error::Mismatch { what: "limb" })?;
                let j = *lv
                    .key_limbs
                    .get(t)
                    .ok_or(Error::Mismatch { what: "key limb" })?;
                let mut scratch = pool::take_zeroed(k * n);
                for (i, (digit, qi)) in scratch.chunks_mut(n).zip(digit_moduli).enumerate() {
                    lift_digit(d.limb(i), qi, qt, digit);
                    ntt.forward(digit);
                }
                let xs: Vec<&[u64]> = scratch.chunks(n).collect();
                let (o0, o1) = o.split_at_mut(n);
                let bs: Vec<&[u64]> = pairs.iter().map(|(b, _)| b.limb(j)).collect();
                let as_: Vec<&[u64]> = pairs.iter().map(|(_, a)| a.limb(j)).collect();
                kernels::sum_of_products(qt, &xs, &bs, o0)?;
                kernels::sum_of_products(qt, &xs, &as_, o1)?;
                drop(xs);
                pool::recycle(scratch);
                ntt.inverse(o0);
                ntt.inverse(o1);
                Ok::<_, Error>(())
            })?;
        self.mod_down(level, out, addends)
    }

    /// Key switching of a decomposition made once (see [`Decomposition`]), optionally composed
    /// with the automorphism whose NTT-domain permutation is `perm`: the products run on
    /// sigma(d_i), which is how several rotations of one ciphertext share one decomposition.
    ///
    /// Work is split by (target limb, output polynomial): each sums the digits times the key's
    /// limb with one lazy reduction (IFMA kernels where the primes allow), then one inverse NTT;
    /// the division by P rounds last.
    pub(crate) fn switch_decomposed(
        &self,
        digits: &Decomposition,
        perm: Option<&[usize]>,
        addends: [Option<&Poly<Coeff>>; 2],
    ) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
        let lv = self.params.level(digits.level)?;
        let ctx = &lv.ctx_qp;
        let n = ctx.degree();
        let k = digits.k;
        let pairs = self
            .pairs
            .get(..k)
            .ok_or(Error::Mismatch { what: "key size" })?;
        let limbs = ctx.moduli().len();
        let mut out = pool::take_zeroed(2 * limbs * n);
        out.par_chunks_mut(n)
            .enumerate()
            .try_for_each(|(task, o)| {
                // Both outputs of one limb are neighbours, so that one thread reads that limb's
                // digits twice while they are in its cache.
                let (t, which) = (task / 2, task % 2);
                let (qt, ntt) = ctx
                    .moduli()
                    .get(t)
                    .zip(ctx.ntt_operators().get(t))
                    .ok_or(Error::Mismatch { what: "limb" })?;
                let j = *lv
                    .key_limbs
                    .get(t)
                    .ok_or(Error::Mismatch { what: "key limb" })?;
                let keys: Vec<&[u64]> = pairs
                    .iter()
                    .map(|(b, a)| if which == 0 { b.limb(j) } else { a.limb(j) })
                    .collect();
                let permuted: Vec<Vec<u64>>;
                let xs: Vec<&[u64]> = match perm {
                    None => (0..k).map(|i| digits.digit(t, i)).collect(),
                    Some(perm) => {
                        permuted = (0..k)
                            .map(|i| {
                                let src = digits.digit(t, i);
                                perm.iter()
                                    .map(|&p| src.get(p).copied().unwrap_or(0))
                                    .collect()
                            })
                            .collect();
                        permuted.iter().map(Vec::as_slice).collect()
                    }
                };
                kernels::sum_of_products(qt, &xs, &keys, o)?;
                ntt.inverse(o);
                Ok::<_, Error>(())
            })?;
        self.mod_down(digits.level, out, addends)
    }

    /// The last step of key switching: both accumulated polynomials over Q_l P (limb-major, the
    /// two outputs of each limb side by side in `out`) divided by P with rounding, and the
    /// addends added, in one parallel pass over the 2 k limbs of Q_l.
    fn mod_down(
        &self,
        level: usize,
        out: Vec<u64>,
        addends: [Option<&Poly<Coeff>>; 2],
    ) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
        let lv = self.params.level(level)?;
        let ctx = &lv.ctx_qp;
        let n = ctx.degree();
        let target = &lv.ctx;
        let k_out = target.moduli().len();
        let p = ctx.moduli().get(k_out).ok_or(Error::Mismatch {
            what: "special prime",
        })?;
        let (mut r0, mut r1) = (pool::take_zeroed(k_out * n), pool::take_zeroed(k_out * n));
        r0.par_chunks_mut(n)
            .chain(r1.par_chunks_mut(n))
            .enumerate()
            .try_for_each(|(task, o)| {
                let (which, j) = (task / k_out, task % k_out);
                let src = |l: usize| out.get((2 * l + which) * n..(2 * l + which + 1) * n);
                let (Some(x), Some(last), Some(q)) = (src(j), src(k_out), target.moduli().get(j))
                else {
                    return Err(Error::Mismatch { what: "limb" });
                };
                let addend = addends.get(which).copied().flatten().map(|a| a.limb(j));
                divide_round_limb(x, last, p, q, addend, o)
            })?;
        pool::recycle(out);
        Ok((
            Poly::from_residues(target, r0)?,
            Poly::from_residues(target, r1)?,
        ))
    }
}

/// The RNS digits [d]_{q_i} of a polynomial over Q_l, each lifted to every prime of Q_l P and
/// transformed: the part of key switching that does not depend on the key, computed once and
/// shared by several key switchings of the same polynomial (hoisting; Halevi and Shoup, "Faster
/// homomorphic linear transformations in HElib", Crypto 2018, sec. 5).
pub(crate) struct Decomposition {
    level: usize,
    k: usize,
    n: usize,
    /// Digit i mod target limb t, NTT form, at (t k + i) n.
    data: Vec<u64>,
}

impl Drop for Decomposition {
    fn drop(&mut self) {
        pool::recycle(core::mem::take(&mut self.data));
    }
}

impl Decomposition {
    pub(crate) fn new(params: &BfvParameters, d: &Poly<Coeff>, level: usize) -> Result<Self> {
        let lv = params.level(level)?;
        let ctx = &lv.ctx_qp;
        let n = ctx.degree();
        let digit_moduli = lv.ctx.moduli();
        if d.context().moduli() != digit_moduli {
            return Err(Error::Mismatch {
                what: "level of the switched polynomial",
            });
        }
        let k = digit_moduli.len();
        let mut data = pool::take_zeroed(ctx.moduli().len() * k * n);
        // One task per (target limb, digit): k (k + 1) transforms, balanced over the cores.
        data.par_chunks_mut(n)
            .enumerate()
            .for_each(|(task, digit)| {
                let (t, i) = (task / k, task % k);
                let (Some(qt), Some(ntt), Some(qi)) = (
                    ctx.moduli().get(t),
                    ctx.ntt_operators().get(t),
                    digit_moduli.get(i),
                ) else {
                    return;
                };
                lift_digit(d.limb(i), qi, qt, digit);
                ntt.forward(digit);
            });
        Ok(Decomposition { level, k, n, data })
    }

    /// Digit i mod target limb t, in NTT form.
    fn digit(&self, t: usize, i: usize) -> &[u64] {
        let at = (t * self.k + i) * self.n;
        self.data.get(at..at + self.n).unwrap_or(&[])
    }
}

/// [d]_{q_i} (residues in [0, q_i)) reduced mod q_t into `digit`: one conditional subtraction when
/// q_i < 2 q_t, as for primes of similar sizes.
fn lift_digit(src: &[u64], qi: &Modulus, qt: &Modulus, digit: &mut [u64]) {
    let q = qt.value();
    if qi.value() < 2 * q {
        for (x, &v) in digit.iter_mut().zip(src) {
            *x = if v >= q { v - q } else { v };
        }
    } else {
        for (x, &v) in digit.iter_mut().zip(src) {
            *x = qt.reduce(v);
        }
    }
}

/// round(x / p) over `target` for x over (`target`'s primes, then p): the division by the special
/// prime after key switching, and modulus switching (dropping a level's last prime).
pub(crate) fn divide_round_by_last(x: &Poly<Coeff>, target: &Arc<Context>) -> Result<Poly<Coeff>> {
    let n = target.degree();
    let k = target.moduli().len();
    let p = x.context().moduli().get(k).ok_or(Error::Mismatch {
        what: "limb to divide by",
    })?;
    if x.context().moduli().len() != k + 1 || x.context().moduli().get(..k) != Some(target.moduli())
    {
        return Err(Error::Mismatch {
            what: "rings of the rounding division",
        });
    }
    let mut out = pool::take_zeroed(k * n);
    out.par_chunks_mut(n)
        .zip(target.moduli().par_iter())
        .enumerate()
        .try_for_each(|(j, (limb, q))| divide_round_limb(x.limb(j), x.limb(k), p, q, None, limb))?;
    Ok(Poly::from_residues(target, out)?)
}

/// Limb j of round(x / p) (plus `addend`'s limb j) mod q_j, from x's limb j and its limb mod p.
fn divide_round_limb(
    x: &[u64],
    last: &[u64],
    p: &Modulus,
    q: &Modulus,
    addend: Option<&[u64]>,
    out: &mut [u64],
) -> Result<()> {
    kernels::divide_round(q, p, x, last, out)?;
    if let Some(a) = addend {
        kernels::add_assign(q, out, a)?;
    }
    Ok(())
}

impl SecretKey {
    /// The relinearization key, with fresh randomness.
    pub fn relinearization_key(&self) -> Result<RelinearizationKey> {
        self.relinearization_key_with(&mut Sampler::from_entropy())
    }

    /// The relinearization key, with the caller's sampler.
    pub fn relinearization_key_with(&self, sampler: &mut Sampler) -> Result<RelinearizationKey> {
        let s2 = self.s_qp.mul(&self.s_qp)?;
        Ok(RelinearizationKey {
            ksk: KeySwitchingKey::new(self, &s2, sampler)?,
        })
    }
}

impl Ciphertext {
    /// Brings a three-polynomial ciphertext (a product) back to two polynomials.
    pub fn relinearize(&self, rk: &RelinearizationKey) -> Result<Ciphertext> {
        if *rk.ksk.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        match self.c.as_slice() {
            [_, _] => Ok(self.clone()),
            [c0, c1, c2] => {
                let (c0, c1) = rk.ksk.switch(c2, self.level, [Some(c0), Some(c1)])?;
                Ok(Ciphertext {
                    params: self.params.clone(),
                    level: self.level,
                    c: vec![c0, c1],
                })
            }
            _ => Err(Error::Mismatch {
                what: "ciphertext size",
            }),
        }
    }

    /// mul then relinearize.
    pub fn mul_relin(&self, other: &Ciphertext, rk: &RelinearizationKey) -> Result<Ciphertext> {
        self.mul(other)?.relinearize(rk)
    }
}
