//! The tables of ciphertext products in full RNS (Halevi, Polyakov and Shoup, "An improved RNS
//! variant of the BFV homomorphic encryption scheme", eprint 2018/117, sec. 4): the auxiliary
//! basis P' (log P' >= log Q + log t + log N + 3), the exact extension Q -> Q P', and
//! round(t d / Q) computed directly in P' (their "ScaleAndRound", with 128-bit fixed-point
//! fractions) followed by P' -> Q. Built from a level's ring alone, so that this module depends on
//! no other module of the crate (the product itself is in `mul.rs`).

use std::sync::Arc;

use num_bigint::BigUint;
use num_traits::ToPrimitive;
use rayon::prelude::*;
use veil_ring::kernels;
use veil_ring::pool;
use veil_ring::primes::ntt_primes;
use veil_ring::{BasisConverter, Coeff, Context, Modulus, Ntt, Poly, RnsBasis};

use crate::error::{Error, Result};

/// Size of the auxiliary primes: below 2^50, so that the IFMA52 kernels apply to P' too.
const AUX_PRIME_BITS: u32 = 50;
/// Coefficients per task when rounding the fractions of the scaling.
const ROUND_BLOCK: usize = 2048;

/// Precomputed bases, converters and scaling tables for ciphertext products.
#[derive(Debug)]
pub(crate) struct MulContext {
    k: usize,
    /// R_{Q P'}: Q's primes first, then P''s.
    ctx_qp: Arc<Context>,
    q_to_p: BasisConverter,
    p_to_q: BasisConverter,
    p_moduli: Vec<Modulus>,
    /// Fraction of t [(QP'/q_i)^-1]_{q_i} P' / q_i as floor(f 2^128), per prime of Q.
    frac: Vec<(u64, u64)>,
    /// Integer part of the same, mod p_j: whole[j][i].
    whole: Vec<Vec<u64>>,
    /// t [(QP'/p_j)^-1]_{p_j} (P'/p_j) mod p_j, with its Shoup companion.
    own: Vec<(u64, u64)>,
}

/// floor(r 2^128 / q) for r < q < 2^62, as (high, low) words.
fn fraction_128(r: u128, q: u128) -> (u64, u64) {
    let hi = (r << 64) / q;
    let lo = (((r << 64) % q) << 64) / q;
    (hi as u64, lo as u64)
}

impl MulContext {
    /// Tables for products of ciphertexts over the ring `q_ctx` (one level) with plaintext
    /// modulus t; the auxiliary primes avoid every prime of `taken` (the whole chain and P).
    pub(crate) fn new(q_ctx: &Context, t: u64, taken: &[u64]) -> Result<Self> {
        let n = q_ctx.degree();
        let q_primes: Vec<u64> = q_ctx.moduli().iter().map(|q| q.value()).collect();
        let q_bits: u32 = q_ctx.modulus_bits();
        let needed = q_bits + (64 - t.leading_zeros()) + n.trailing_zeros() + 3;
        let count = needed.div_ceil(AUX_PRIME_BITS - 1) as usize;
        // The largest auxiliary-size NTT primes not already used by the chain or the special prime.
        let used = |p: &u64| taken.contains(p);
        let p_primes: Vec<u64> = ntt_primes(AUX_PRIME_BITS, n, count + taken.len())?
            .into_iter()
            .filter(|p| !used(p))
            .take(count)
            .collect();
        if p_primes.len() < count {
            return Err(Error::InvalidParameters {
                reason: "not enough auxiliary primes",
            });
        }
        let all: Vec<u64> = q_primes.iter().chain(&p_primes).copied().collect();
        let ctx_qp = Context::new(&all, n)?;
        let q_basis = RnsBasis::new(&q_primes)?;
        let p_basis = RnsBasis::new(&p_primes)?;
        let q_to_p = BasisConverter::new(&q_basis, &p_basis);
        let p_to_q = BasisConverter::new(&p_basis, &q_basis);
        let p_moduli: Vec<Modulus> = p_primes
            .iter()
            .map(|&p| Modulus::new(p))
            .collect::<veil_ring::Result<_>>()?;

        let big = |x: u64| BigUint::from(x);
        let p_prod: BigUint = p_primes.iter().map(|&p| big(p)).product();
        let qp: BigUint = all.iter().map(|&p| big(p)).product();
        let inv_mod = |m: &Modulus, x: &BigUint| m.inv((x % m.value()).to_u64().unwrap_or(0));
        let mut frac = Vec::with_capacity(q_primes.len());
        let mut whole = vec![Vec::with_capacity(q_primes.len()); p_primes.len()];
        for &qi in &q_primes {
            let m = Modulus::new(qi)?;
            let inv = inv_mod(&m, &(&qp / qi)).ok_or(Error::InvalidParameters {
                reason: "moduli not coprime",
            })?;
            let num = big(t) * big(inv) * &p_prod; // t [(QP'/q_i)^-1] P'
            let r = (&num % qi).to_u64().unwrap_or(0);
            frac.push(fraction_128(u128::from(r), u128::from(qi)));
            let w = &num / qi;
            for (row, &pj) in whole.iter_mut().zip(&p_primes) {
                row.push((&w % pj).to_u64().unwrap_or(0));
            }
        }
        let mut own = Vec::with_capacity(p_primes.len());
        for pm in &p_moduli {
            let pj = pm.value();
            let inv = inv_mod(pm, &(&qp / pj)).ok_or(Error::InvalidParameters {
                reason: "moduli not coprime",
            })?;
            let rest = ((&p_prod / pj) % pj).to_u64().unwrap_or(0);
            let v = pm.mul(pm.mul(pm.reduce(t), inv), rest);
            own.push((v, pm.shoup(v)));
        }
        Ok(MulContext {
            k: q_primes.len(),
            ctx_qp,
            q_to_p,
            p_to_q,
            p_moduli,
            frac,
            whole,
            own,
        })
    }

    /// Exact extension of a polynomial over Q to Q P' (centered representative), in NTT form.
    pub(crate) fn extend(&self, c: &Poly<Coeff>) -> Result<Poly<Ntt>> {
        let n = self.ctx_qp.degree();
        let mut data = pool::take_zeroed(n * (self.k + self.p_moduli.len()));
        let (q_part, p_part) = data.split_at_mut(n * self.k);
        q_part.copy_from_slice(c.as_slice());
        self.q_to_p.convert_poly_exact(c.as_slice(), n, p_part)?;
        Ok(Poly::<Coeff>::from_residues(&self.ctx_qp, data)?.into_ntt())
    }

    /// round(t d / Q) for d over Q P' (coefficient form), returned over Q.
    ///
    /// Limb-major: first r_c = round(sum_i x_i f_i) for every coefficient (integer parts plus the
    /// rounded 128-bit fractions), then each limb of P' at once as r + sum_i x_i w_ij + x_{k+j} o_j
    /// with one lazy reduction (vector kernels where the primes allow), then P' -> Q exactly.
    pub(crate) fn scale_down(&self, d: &Poly<Coeff>, q_ctx: &Arc<Context>) -> Result<Poly<Coeff>> {
        let n = self.ctx_qp.degree();
        let (k, kp) = (self.k, self.p_moduli.len());
        let src = d.as_slice();
        let limb = |i: usize| src.get(i * n..(i + 1) * n).unwrap_or(&[]);
        let mut r = pool::take_zeroed(n);
        r.par_chunks_mut(ROUND_BLOCK)
            .enumerate()
            .for_each(|(b, r)| {
                let start = b * ROUND_BLOCK;
                let mut frac_acc = vec![0u128; r.len()];
                for (i, &(f_hi, f_lo)) in self.frac.iter().enumerate() {
                    let x = limb(i).get(start..start + r.len()).unwrap_or(&[]);
                    for ((w, f), &x) in r.iter_mut().zip(frac_acc.iter_mut()).zip(x) {
                        let xi = u128::from(x);
                        let low = xi * u128::from(f_lo);
                        let high = xi * u128::from(f_hi) + (low >> 64);
                        *w = w.wrapping_add((high >> 64) as u64);
                        *f += u128::from(high as u64);
                    }
                }
                for (w, &f) in r.iter_mut().zip(&frac_acc) {
                    *w = w.wrapping_add(((f + (1u128 << 63)) >> 64) as u64);
                }
            });
        let bits = self
            .ctx_qp
            .moduli()
            .iter()
            .map(Modulus::bits)
            .max()
            .unwrap_or(62);
        let mut in_p = pool::take_zeroed(kp * n);
        in_p.par_chunks_mut(n)
            .zip(
                self.p_moduli
                    .par_iter()
                    .zip(self.whole.par_iter().zip(&self.own)),
            )
            .enumerate()
            .try_for_each(|(j, (out, (pm, (row, &(own, _)))))| {
                // Terms: x_i w_ij for the primes of Q, then x_{k+j} o_j.
                let xs: Vec<&[u64]> = (0..k).chain([k + j]).map(limb).collect();
                let cs: Vec<u64> = row.iter().copied().chain([own]).collect();
                kernels::sum_of_scaled(pm, &xs, &cs, bits, out)?;
                for (o, &rv) in out.iter_mut().zip(&r) {
                    *o = pm.add(*o, pm.reduce(rv));
                }
                Ok::<_, veil_ring::Error>(())
            })?;
        pool::recycle(r);
        let mut out = pool::take_zeroed(k * n);
        self.p_to_q.convert_poly_exact(&in_p, n, &mut out)?;
        pool::recycle(in_p);
        Ok(Poly::from_residues(q_ctx, out)?)
    }
}
