//! Hybrid key switching with one special prime P, shared by the RLWE schemes built on this crate
//! (the RNS-digit variant used by SEAL; Bajard, Eynard, Hasan and Zucca, SAC 2016, sec. 4, and
//! Gentry, Halevi and Smart, "Homomorphic evaluation of the AES circuit", sec. 3.1.1, for the
//! special modulus).
//!
//! A key from s' to s has, for each prime q_i of Q, a pair (b_i, a_i) over Q P with a_i uniform and
//! b_i = -(a_i s + e_i) + P g_i s', where g_i = (Q/q_i) `[(Q/q_i)^-1]_{q_i}` is 1 mod q_i and 0 mod the
//! other primes and P ([`key_body`]). Switching d: with digits d_i = `[d]_{q_i}`, sum_i d_i (b_i, a_i)
//! decrypts to P d s' + small mod Q P; dividing by P with rounding ([`divide_round_by_last`])
//! leaves d s' plus noise sum_i d_i e_i / P.
//!
//! [`switch`] does one key switching; [`Decomposition`] and [`switch_decomposed`] share the digit
//! transforms among several key switchings of one polynomial, composed with automorphisms in the
//! NTT domain (hoisting; Halevi and Shoup, "Faster homomorphic linear transformations in HElib",
//! Crypto 2018, sec. 5).

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernels;
use crate::poly::{Coeff, Context, Ntt, Poly, Representation};
use crate::pool;
use crate::zq::Modulus;

/// The rings of key switching at one level: R_{Q_l} (where the switched polynomial lives),
/// R_{Q_l P} (its primes, then P) and, for each limb of R_{Q_l P}, its index among the limbs of
/// the key's R_{QP}.
#[derive(Clone, Copy, Debug)]
pub struct SwitchRings<'a> {
    /// R_{Q_l}.
    pub q: &'a Arc<Context>,
    /// R_{Q_l P}.
    pub qp: &'a Arc<Context>,
    /// Limb t of R_{Q_l P} is limb `key_limbs[t]` of the key.
    pub key_limbs: &'a [usize],
}

/// b_i = -(a s + e) + P g_i s' over R_{QP} (NTT form, P the last prime of `a`'s ring), the body of
/// the i-th pair of a key from s' (`target`) to s (`s`).
pub fn key_body(
    i: usize,
    s: &Poly<Ntt>,
    target: &Poly<Ntt>,
    a: &Poly<Ntt>,
    e: &Poly<Ntt>,
) -> Result<Poly<Ntt>> {
    let ctx = a.context();
    let n = ctx.degree();
    let limbs = ctx.moduli().len();
    let p = ctx
        .moduli()
        .get(limbs.wrapping_sub(1))
        .ok_or(Error::Mismatch {
            what: "limbs of the key ring",
            left: limbs,
            right: 2,
        })?;
    let qi = ctx
        .moduli()
        .get(i)
        .filter(|_| i + 1 < limbs)
        .ok_or(Error::Mismatch {
            what: "digit index",
            left: i,
            right: limbs - 1,
        })?;
    let mut b = a.mul(s)?;
    b.add_assign(e)?;
    let mut b = b.neg();
    // + P g_i s': only limb i is nonzero, where it is (P mod q_i) s'.
    let p_mod = qi.reduce(p.value());
    let (w, ws) = (p_mod, qi.shoup(p_mod));
    let target_limb = target.limb(i);
    if let Some(limb) = b.as_mut_slice().get_mut(i * n..(i + 1) * n) {
        for (x, &t) in limb.iter_mut().zip(target_limb) {
            *x = qi.add(*x, qi.mul_shoup(t, w, ws));
        }
    }
    Ok(b)
}

fn check_input(rings: SwitchRings<'_>, d: &Poly<Coeff>) -> Result<()> {
    let (got, want) = (d.context().moduli(), rings.q.moduli());
    if got == want && rings.qp.moduli().get(..want.len()) == Some(want) {
        Ok(())
    } else {
        Err(Error::Mismatch {
            what: "ring of the switched polynomial",
            left: got.len(),
            right: want.len(),
        })
    }
}

/// The key's pairs for the digits of `rings`, or an error if the key has too few.
fn pairs_for<'a>(
    pairs: &'a [(Poly<Ntt>, Poly<Ntt>)],
    rings: SwitchRings<'_>,
) -> Result<&'a [(Poly<Ntt>, Poly<Ntt>)]> {
    let k = rings.q.moduli().len();
    pairs.get(..k).ok_or(Error::Mismatch {
        what: "pairs of the key",
        left: pairs.len(),
        right: k,
    })
}

/// The key's limb `j` of every pair's b (`which` = 0) or a (`which` = 1).
fn key_limbs_of(pairs: &[(Poly<Ntt>, Poly<Ntt>)], which: usize, j: usize) -> Vec<&[u64]> {
    pairs
        .iter()
        .map(|(b, a)| if which == 0 { b.limb(j) } else { a.limb(j) })
        .collect()
}

/// (u_0, u_1) over R_{Q_l} with u_0 + u_1 s = d s' + small, for d over R_{Q_l} in coefficient
/// form, with the key's `pairs` (b_i, a_i) from s' to s. `addends` are added to (u_0, u_1) in the
/// same pass as the final division by P (for example c_0 and c_1 when relinearizing).
///
/// With at least two limbs per thread plus one, each task is one target limb: its k digit
/// transforms in a scratch buffer that stays in cache, both inner products (one lazy reduction
/// each), both inverse transforms. With fewer, the k (k + 1) digit transforms are split as
/// separate tasks ([`Decomposition`]) so that no core idles.
pub fn switch(
    pairs: &[(Poly<Ntt>, Poly<Ntt>)],
    rings: SwitchRings<'_>,
    d: &Poly<Coeff>,
    addends: [Option<&Poly<Coeff>>; 2],
) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
    if rings.qp.moduli().len() < 2 * rayon::current_num_threads() + 1 {
        let digits = Decomposition::new(rings, d)?;
        return switch_decomposed(pairs, rings, &digits, None, addends);
    }
    let out = accumulate(pairs, rings, d, Form::Coeff)?;
    mod_down(rings, out, addends, Form::Coeff)
}

/// [`switch`] for schemes that keep ciphertexts in NTT form (CKKS): the result and the addends
/// are in NTT form, and only the special prime's limb is transformed back, so the division by P
/// costs two inverse transforms instead of 2 (k + 1) (as SEAL's `switch_key_inplace`).
pub fn switch_ntt(
    pairs: &[(Poly<Ntt>, Poly<Ntt>)],
    rings: SwitchRings<'_>,
    d: &Poly<Coeff>,
    addends: [Option<&Poly<Ntt>>; 2],
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    if rings.qp.moduli().len() < 2 * rayon::current_num_threads() + 1 {
        let digits = Decomposition::new(rings, d)?;
        return switch_decomposed_ntt(pairs, rings, &digits, None, addends);
    }
    let out = accumulate(pairs, rings, d, Form::Ntt)?;
    mod_down(rings, out, addends, Form::Ntt)
}

/// The form of key-switching outputs: which accumulated limbs are transformed back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Every limb (coefficient-form results).
    Coeff,
    /// Only the special prime's limb (NTT-form results).
    Ntt,
}

impl Form {
    fn inverse_limb(self, t: usize, rings: SwitchRings<'_>) -> bool {
        self == Form::Coeff || t == rings.q.moduli().len()
    }
}

/// Both inner products of key switching over R_{Q_l P}, one task per target limb, limb-major with
/// the two outputs of each limb side by side.
fn accumulate(
    pairs: &[(Poly<Ntt>, Poly<Ntt>)],
    rings: SwitchRings<'_>,
    d: &Poly<Coeff>,
    form: Form,
) -> Result<Vec<u64>> {
    check_input(rings, d)?;
    let ctx = rings.qp;
    let n = ctx.degree();
    let digit_moduli = rings.q.moduli();
    let k = digit_moduli.len();
    let pairs = pairs_for(pairs, rings)?;
    let mut out = pool::take_zeroed(2 * ctx.moduli().len() * n);
    out.par_chunks_mut(2 * n)
        .enumerate()
        .try_for_each(|(t, o)| {
            let (qt, ntt) = limb_tables(ctx, t)?;
            let j = key_limb(rings, t)?;
            let mut scratch = pool::take_zeroed(k * n);
            for (i, (digit, qi)) in scratch.chunks_mut(n).zip(digit_moduli).enumerate() {
                lift_digit(d.limb(i), qi, qt, digit);
                ntt.forward(digit);
            }
            let xs: Vec<&[u64]> = scratch.chunks(n).collect();
            let (o0, o1) = o.split_at_mut(n);
            kernels::sum_of_products(qt, &xs, &key_limbs_of(pairs, 0, j), o0)?;
            kernels::sum_of_products(qt, &xs, &key_limbs_of(pairs, 1, j), o1)?;
            drop(xs);
            pool::recycle(scratch);
            if form.inverse_limb(t, rings) {
                ntt.inverse(o0);
                ntt.inverse(o1);
            }
            Ok(())
        })?;
    Ok(out)
}

/// Key switching of a decomposition made once, optionally composed with the automorphism whose
/// NTT-domain permutation is `perm` (see [`crate::automorphism::ntt_permutation`]): the products
/// run on sigma(d_i), which is how several rotations of one ciphertext share one decomposition.
/// Sigma permutes a digit's coefficients and negates some, so |sigma(d_i)| < q_i still and the
/// noise bound is unchanged.
pub fn switch_decomposed(
    pairs: &[(Poly<Ntt>, Poly<Ntt>)],
    rings: SwitchRings<'_>,
    digits: &Decomposition,
    perm: Option<&[usize]>,
    addends: [Option<&Poly<Coeff>>; 2],
) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
    let out = accumulate_decomposed(pairs, rings, digits, perm, Form::Coeff)?;
    mod_down(rings, out, addends, Form::Coeff)
}

/// [`switch_decomposed`] with NTT-form results and addends (see [`switch_ntt`]).
pub fn switch_decomposed_ntt(
    pairs: &[(Poly<Ntt>, Poly<Ntt>)],
    rings: SwitchRings<'_>,
    digits: &Decomposition,
    perm: Option<&[usize]>,
    addends: [Option<&Poly<Ntt>>; 2],
) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
    let out = accumulate_decomposed(pairs, rings, digits, perm, Form::Ntt)?;
    mod_down(rings, out, addends, Form::Ntt)
}

fn accumulate_decomposed(
    pairs: &[(Poly<Ntt>, Poly<Ntt>)],
    rings: SwitchRings<'_>,
    digits: &Decomposition,
    perm: Option<&[usize]>,
    form: Form,
) -> Result<Vec<u64>> {
    let ctx = rings.qp;
    let n = ctx.degree();
    let k = rings.q.moduli().len();
    if (digits.k, digits.n, digits.limbs) != (k, n, ctx.moduli().len()) {
        return Err(Error::Mismatch {
            what: "decomposition of another ring",
            left: digits.k,
            right: k,
        });
    }
    if let Some(perm) = perm {
        check_permutation(perm, n)?;
    }
    let pairs = pairs_for(pairs, rings)?;
    let mut out = pool::take_zeroed(2 * ctx.moduli().len() * n);
    out.par_chunks_mut(n)
        .enumerate()
        .try_for_each(|(task, o)| {
            // Both outputs of one limb are neighbours, so that one thread reads that limb's
            // digits twice while they are in its cache.
            let (t, which) = (task / 2, task % 2);
            let (qt, ntt) = limb_tables(ctx, t)?;
            let keys = key_limbs_of(pairs, which, key_limb(rings, t)?);
            let permuted: Vec<Vec<u64>>;
            let xs: Vec<&[u64]> = match perm {
                None => (0..k).map(|i| digits.digit(t, i)).collect(),
                Some(perm) => {
                    permuted = (0..k)
                        .map(|i| {
                            let src = digits.digit(t, i);
                            perm.iter().map(|&p| src[p]).collect()
                        })
                        .collect();
                    permuted.iter().map(Vec::as_slice).collect()
                }
            };
            kernels::sum_of_products(qt, &xs, &keys, o)?;
            if form.inverse_limb(t, rings) {
                ntt.inverse(o);
            }
            Ok(())
        })?;
    Ok(out)
}

/// A permutation of the N NTT slots: length N, every entry below N (so indexing by it is safe).
fn check_permutation(perm: &[usize], n: usize) -> Result<()> {
    if perm.len() == n && perm.iter().all(|&p| p < n) {
        Ok(())
    } else {
        Err(Error::Mismatch {
            what: "NTT-slot permutation",
            left: perm.len(),
            right: n,
        })
    }
}

fn limb_tables(ctx: &Context, t: usize) -> Result<(&Modulus, &crate::NttOperator)> {
    let limbs = ctx.moduli().len();
    ctx.moduli()
        .get(t)
        .zip(ctx.ntt_operators().get(t))
        .map(|(q, op)| (q, op.as_ref()))
        .ok_or(Error::Mismatch {
            what: "limb",
            left: t,
            right: limbs,
        })
}

fn key_limb(rings: SwitchRings<'_>, t: usize) -> Result<usize> {
    rings.key_limbs.get(t).copied().ok_or(Error::Mismatch {
        what: "key limb",
        left: t,
        right: rings.key_limbs.len(),
    })
}

/// The last step of key switching: both accumulated polynomials over R_{Q_l P} (limb-major, the
/// two outputs of each limb side by side in `out`) divided by P with rounding, and the addends
/// added, in one parallel pass over the 2 k limbs of R_{Q_l}. In `Form::Ntt`, the special prime's
/// limbs are in coefficient form (the only ones transformed back) and every other limb, the
/// addends and the results are in NTT form.
fn mod_down<R: Representation>(
    rings: SwitchRings<'_>,
    out: Vec<u64>,
    addends: [Option<&Poly<R>>; 2],
    form: Form,
) -> Result<(Poly<R>, Poly<R>)> {
    let n = rings.qp.degree();
    let target = rings.q;
    let k_out = target.moduli().len();
    let p = rings.qp.moduli().get(k_out).ok_or(Error::Mismatch {
        what: "special prime",
        left: k_out,
        right: rings.qp.moduli().len(),
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
                return Err(Error::Mismatch {
                    what: "limb",
                    left: j,
                    right: k_out,
                });
            };
            let addend = addends.get(which).copied().flatten().map(|a| a.limb(j));
            match form {
                Form::Coeff => divide_round_limb(x, last, p, q, addend, o),
                Form::Ntt => divide_round_limb_ntt(target, j, x, last, p, addend, o),
            }
        })?;
    pool::recycle(out);
    Ok((
        Poly::from_reduced(target, r0)?,
        Poly::from_reduced(target, r1)?,
    ))
}

/// Limb j of round(x / p) (plus `addend`'s limb j) mod q_j in NTT form, from x's limb j in NTT
/// form and its limb mod p in coefficient form: with h = floor(p/2) and u = (x_p + h) mod p per
/// coefficient, u - h is lifted to q_j and transformed, then out = (x - (u - h)) p^-1.
fn divide_round_limb_ntt(
    target: &Context,
    j: usize,
    x: &[u64],
    last: &[u64],
    p: &Modulus,
    addend: Option<&[u64]>,
    out: &mut [u64],
) -> Result<()> {
    let (q, ntt) = limb_tables(target, j)?;
    let (pv, half) = (p.value(), p.value() / 2);
    let half_q = q.reduce(half);
    for (o, &v) in out.iter_mut().zip(last) {
        let s = v + half;
        let u = if s >= pv { s - pv } else { s };
        *o = q.sub(q.reduce(u), half_q);
    }
    ntt.forward(out);
    let p_inv = q.inv(q.reduce(pv)).ok_or(Error::InvalidModulus {
        q: pv,
        reason: "p not invertible mod q",
    })?;
    let (w, ws) = (p_inv, q.shoup(p_inv));
    let qv = q.value();
    // x - (u - h) + q lies in (0, 2q): Shoup's multiplication takes any word.
    for (o, &xv) in out.iter_mut().zip(x) {
        *o = q.mul_shoup(xv + qv - *o, w, ws);
    }
    if let Some(a) = addend {
        kernels::add_assign(q, out, a)?;
    }
    Ok(())
}

/// round(x / p) over `target` for x in NTT form over (`target`'s primes, then p): CKKS rescaling
/// in NTT form (Cheon, Han, Kim, Kim and Song, SAC 2018, sec. 3.3). Only the last limb is
/// transformed back; the result is in NTT form.
pub fn divide_round_by_last_ntt(x: &Poly<Ntt>, target: &Arc<Context>) -> Result<Poly<Ntt>> {
    let n = target.degree();
    let k = target.moduli().len();
    let ctx = x.context();
    let moduli = ctx.moduli();
    let p = moduli.get(k).filter(|_| moduli.len() == k + 1);
    let (Some(p), Some(true)) = (p, moduli.get(..k).map(|m| m == target.moduli())) else {
        return Err(Error::Mismatch {
            what: "rings of the rounding division",
            left: moduli.len(),
            right: k + 1,
        });
    };
    let (_, last_ntt) = limb_tables(ctx, k)?;
    let mut last = pool::take_zeroed(n);
    last.copy_from_slice(x.limb(k));
    last_ntt.inverse(&mut last);
    let mut out = pool::take_zeroed(k * n);
    out.par_chunks_mut(n)
        .enumerate()
        .try_for_each(|(j, limb)| {
            divide_round_limb_ntt(target, j, x.limb(j), &last, p, None, limb)
        })?;
    pool::recycle(last);
    Poly::from_reduced(target, out)
}

/// The RNS digits `[d]_{q_i}` of a polynomial over R_{Q_l}, each lifted to every prime of R_{Q_l P}
/// and transformed: the part of key switching that does not depend on the key, computed once and
/// shared by several key switchings of the same polynomial (hoisting).
pub struct Decomposition {
    k: usize,
    n: usize,
    limbs: usize,
    /// Digit i mod target limb t, NTT form, at (t k + i) n.
    data: Vec<u64>,
}

impl Drop for Decomposition {
    fn drop(&mut self) {
        pool::recycle(core::mem::take(&mut self.data));
    }
}

impl Decomposition {
    /// The digits of d (over R_{Q_l}, coefficient form): one task per (target limb, digit), so the
    /// k (k + 1) transforms balance over the cores.
    pub fn new(rings: SwitchRings<'_>, d: &Poly<Coeff>) -> Result<Self> {
        check_input(rings, d)?;
        let ctx = rings.qp;
        let n = ctx.degree();
        let digit_moduli = rings.q.moduli();
        let k = digit_moduli.len();
        let limbs = ctx.moduli().len();
        let mut data = pool::take_zeroed(limbs * k * n);
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
        Ok(Decomposition { k, n, limbs, data })
    }

    /// Digit i mod target limb t, in NTT form.
    fn digit(&self, t: usize, i: usize) -> &[u64] {
        let at = (t * self.k + i) * self.n;
        // t < limbs and i < k at every call site (checked against the rings first).
        &self.data[at..at + self.n]
    }
}

/// `[d]_{q_i}` (residues in `[0, q_i)`) reduced mod q_t into `digit`: one conditional subtraction when
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
/// prime after key switching, modulus switching (dropping a level's last prime), and rescaling.
pub fn divide_round_by_last(x: &Poly<Coeff>, target: &Arc<Context>) -> Result<Poly<Coeff>> {
    let n = target.degree();
    let k = target.moduli().len();
    let moduli = x.context().moduli();
    let p = moduli.get(k).filter(|_| moduli.len() == k + 1);
    let (Some(p), Some(true)) = (p, moduli.get(..k).map(|m| m == target.moduli())) else {
        return Err(Error::Mismatch {
            what: "rings of the rounding division",
            left: moduli.len(),
            right: k + 1,
        });
    };
    let mut out = pool::take_zeroed(k * n);
    out.par_chunks_mut(n)
        .zip(target.moduli().par_iter())
        .enumerate()
        .try_for_each(|(j, (limb, q))| divide_round_limb(x.limb(j), x.limb(k), p, q, None, limb))?;
    Poly::from_residues(target, out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automorphism::ntt_permutation;
    use crate::primes::ntt_primes;
    use crate::sample::Sampler;
    use proptest::prelude::*;

    struct Setup {
        qp: Arc<Context>,
        q: Arc<Context>,
        key_limbs: Vec<usize>,
        s_coeffs: Vec<i64>,
    }

    fn setup(n: usize, k: usize) -> Setup {
        let mut primes = ntt_primes(40, n, k).unwrap();
        primes.push(ntt_primes(41, n, 1).unwrap()[0]);
        let qp = Context::new(&primes, n).unwrap();
        let q = qp.select(&(0..k).collect::<Vec<_>>()).unwrap();
        let mut sampler = Sampler::from_seed([3; 32]);
        Setup {
            key_limbs: (0..=k).collect(),
            s_coeffs: sampler.ternary(n),
            qp,
            q,
        }
    }

    fn rings(s: &Setup) -> SwitchRings<'_> {
        SwitchRings {
            q: &s.q,
            qp: &s.qp,
            key_limbs: &s.key_limbs,
        }
    }

    /// A key from `target` (over QP, NTT) to s, with fresh a_i and small e_i.
    fn key(s: &Setup, target: &Poly<Ntt>, sampler: &mut Sampler) -> Vec<(Poly<Ntt>, Poly<Ntt>)> {
        let s_qp = Poly::from_small(&s.qp, &s.s_coeffs).unwrap().into_ntt();
        (0..s.q.moduli().len())
            .map(|i| {
                let data: Vec<u64> =
                    s.qp.moduli()
                        .iter()
                        .flat_map(|m| sampler.uniform(m, s.qp.degree()))
                        .collect();
                let a = Poly::<Ntt>::from_residues(&s.qp, data).unwrap();
                let e_coeffs = sampler.gaussian(s.qp.degree(), 3.2).unwrap();
                let e = Poly::from_small(&s.qp, &e_coeffs).unwrap().into_ntt();
                (key_body(i, &s_qp, target, &a, &e).unwrap(), a)
            })
            .collect()
    }

    /// Largest |c| of the centered coefficients of u0 + u1 s - expected, over Q (limb 0 suffices
    /// for a bound far below q_0 / 2).
    fn error_bits(s: &Setup, u: &(Poly<Coeff>, Poly<Coeff>), expected: &Poly<Coeff>) -> u32 {
        let s_q = Poly::from_small(&s.q, &s.s_coeffs).unwrap().into_ntt();
        let mut x = u.1.clone().into_ntt();
        x.mul_assign(&s_q).unwrap();
        let mut x = x.into_coeff();
        x.add_assign(&u.0).unwrap();
        x.sub_assign(expected).unwrap();
        let q0 = s.q.moduli()[0];
        x.limb(0)
            .iter()
            .map(|&c| 64 - q0.center(c).unsigned_abs().leading_zeros())
            .max()
            .unwrap_or(0)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

        /// u0 + u1 s = d s^2 + small, on the per-limb path (one thread) and the decomposed path
        /// (many threads), and sigma_g(d) sigma_g(s) through a hoisted decomposition of d.
        #[test]
        fn switching_leaves_small_noise(seed in any::<[u8; 32]>(), g in 0u64..1024) {
            let s = setup(1024, 3);
            let mut sampler = Sampler::from_seed(seed);
            let s_qp = Poly::from_small(&s.qp, &s.s_coeffs).unwrap().into_ntt();
            let s2 = s_qp.mul(&s_qp).unwrap();
            let pairs = key(&s, &s2, &mut sampler);
            let data: Vec<u64> = s.q.moduli().iter().flat_map(|m| sampler.uniform(m, 1024)).collect();
            let d = Poly::<Coeff>::from_residues(&s.q, data).unwrap();
            let s_q = Poly::from_small(&s.q, &s.s_coeffs).unwrap().into_ntt();
            let expected = d.clone().into_ntt().mul(&s_q.mul(&s_q).unwrap()).unwrap().into_coeff();
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            let per_limb = one.install(|| switch(&pairs, rings(&s), &d, [None, None])).unwrap();
            let digits = Decomposition::new(rings(&s), &d).unwrap();
            let decomposed = switch_decomposed(&pairs, rings(&s), &digits, None, [None, None]).unwrap();
            // Both paths compute the same thing.
            prop_assert_eq!(&per_limb.0, &decomposed.0);
            prop_assert_eq!(&per_limb.1, &decomposed.1);
            // Noise about sum_i d_i e_i / P + rounding: far below 2^20 for these sizes.
            prop_assert!(error_bits(&s, &per_limb, &expected) < 20);
            // The NTT-form variants give the NTT of the same results, addends included.
            let add0 = Poly::<Coeff>::from_residues(
                &s.q,
                s.q.moduli().iter().flat_map(|m| sampler.uniform(m, 1024)).collect(),
            ).unwrap();
            let with_add = one.install(|| switch(&pairs, rings(&s), &d, [Some(&add0), None])).unwrap();
            let add0_ntt = add0.clone().into_ntt();
            let ntt = one.install(|| switch_ntt(&pairs, rings(&s), &d, [Some(&add0_ntt), None])).unwrap();
            prop_assert_eq!(&ntt.0, &with_add.0.clone().into_ntt());
            prop_assert_eq!(&ntt.1, &with_add.1.clone().into_ntt());
            let ntt_dec = switch_decomposed_ntt(&pairs, rings(&s), &digits, None, [Some(&add0_ntt), None]).unwrap();
            prop_assert_eq!(&ntt_dec.0, &ntt.0);
            prop_assert_eq!(&ntt_dec.1, &ntt.1);
            // Rounding division by the last prime, in NTT form, against the coefficient one.
            let x = Poly::<Coeff>::from_residues(
                &s.qp,
                s.qp.moduli().iter().flat_map(|m| sampler.uniform(m, 1024)).collect(),
            ).unwrap();
            let want = divide_round_by_last(&x, &s.q).unwrap().into_ntt();
            prop_assert_eq!(divide_round_by_last_ntt(&x.into_ntt(), &s.q).unwrap(), want);

            // Hoisted: a key from sigma_g(s) to s, applied to the permuted digits of d.
            let g = 2 * g + 1;
            let sg = Poly::from_small(&s.qp, &s.s_coeffs).unwrap().automorphism(g).unwrap().into_ntt();
            let pairs_g = key(&s, &sg, &mut sampler);
            let perm = ntt_permutation(1024, g).unwrap();
            let rotated = switch_decomposed(&pairs_g, rings(&s), &digits, Some(&perm), [None, None]).unwrap();
            let sg_q = Poly::from_small(&s.q, &s.s_coeffs).unwrap().automorphism(g).unwrap().into_ntt();
            let expected_g = d.automorphism(g).unwrap().into_ntt().mul(&sg_q).unwrap().into_coeff();
            prop_assert!(error_bits(&s, &rotated, &expected_g) < 20);
        }
    }

    #[test]
    fn mismatched_rings_are_errors() {
        let s = setup(1024, 2);
        let other = Context::new(&ntt_primes(30, 1024, 2).unwrap(), 1024).unwrap();
        let d = Poly::<Coeff>::zero(&other);
        assert!(Decomposition::new(rings(&s), &d).is_err());
        assert!(switch(&[], rings(&s), &Poly::<Coeff>::zero(&s.q), [None, None]).is_err());
        assert!(divide_round_by_last(&Poly::<Coeff>::zero(&s.q), &s.q).is_err());
        let a = Poly::<Ntt>::zero(&s.qp);
        assert!(key_body(2, &a, &a, &a, &a).is_err()); // index 2 is P's limb
    }
}
