//! Polynomials of R_Q = `Z_Q[X]/(X^N + 1)` in RNS form (one limb of N residues per prime q_i),
//! whose representation is part of their type: [`Coeff`] (coefficients) or [`Ntt`] (evaluations).
//! Only NTT-form polynomials multiply, so a product can never silently be taken in the wrong basis.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use rayon::prelude::*;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::kernels;
use crate::ntt::{NttOperator, check_degree};
use crate::pool;
use crate::zq::Modulus;

mod sealed {
    pub trait Sealed {}
}

/// Marker of a polynomial's representation.
pub trait Representation: sealed::Sealed + Send + Sync + 'static {
    /// Name for `Debug` output.
    const NAME: &'static str;
}

/// Coefficient representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coeff;
/// NTT (evaluation) representation, in the bit-reversed order of [`NttOperator::forward`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ntt;

impl sealed::Sealed for Coeff {}
impl sealed::Sealed for Ntt {}
impl Representation for Coeff {
    const NAME: &'static str = "Coeff";
}
impl Representation for Ntt {
    const NAME: &'static str = "Ntt";
}

/// A ring R_Q = `Z_Q[X]/(X^N + 1)` with Q = q_0 ... q_{k-1}: the degree, the primes and their
/// NTT tables. Validated once, shared by `Arc`.
pub struct Context {
    n: usize,
    moduli: Vec<Modulus>,
    /// Shared with the sub-rings made by [`Context::select`].
    ntt: Vec<Arc<NttOperator>>,
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n && self.moduli == other.moduli
    }
}
impl Eq for Context {}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let moduli: Vec<u64> = self.moduli.iter().map(Modulus::value).collect();
        write!(f, "Context {{ n: {}, moduli: {moduli:?} }}", self.n)
    }
}

impl Context {
    /// A ring of degree `n` (power of two, 2^10..=2^15) over distinct primes q_i = 1 (mod 2n).
    pub fn new(moduli: &[u64], n: usize) -> Result<Arc<Self>> {
        check_degree(n)?;
        if moduli.is_empty() {
            return Err(Error::InvalidBasis {
                reason: "no modulus",
            });
        }
        for (i, q) in moduli.iter().enumerate() {
            if moduli.iter().skip(i + 1).any(|p| p == q) {
                return Err(Error::InvalidBasis {
                    reason: "repeated modulus",
                });
            }
        }
        let moduli: Vec<Modulus> = moduli
            .iter()
            .map(|&q| Modulus::new(q))
            .collect::<Result<_>>()?;
        let ntt = moduli
            .iter()
            .map(|&q| NttOperator::new(q, n).map(Arc::new))
            .collect::<Result<_>>()?;
        Ok(Arc::new(Context { n, moduli, ntt }))
    }

    /// The ring over the primes at `indices` (in that order), sharing this ring's NTT tables:
    /// how a modulus chain gets one ring per level without recomputing or copying tables.
    pub fn select(&self, indices: &[usize]) -> Result<Arc<Self>> {
        if indices.is_empty() {
            return Err(Error::InvalidBasis {
                reason: "no modulus",
            });
        }
        let mut moduli = Vec::with_capacity(indices.len());
        let mut ntt = Vec::with_capacity(indices.len());
        for (pos, &i) in indices.iter().enumerate() {
            if indices.iter().take(pos).any(|&j| j == i) {
                return Err(Error::InvalidBasis {
                    reason: "repeated modulus",
                });
            }
            let (q, op) = self
                .moduli
                .get(i)
                .zip(self.ntt.get(i))
                .ok_or(Error::Mismatch {
                    what: "modulus index",
                    left: i,
                    right: self.moduli.len(),
                })?;
            moduli.push(*q);
            ntt.push(op.clone());
        }
        Ok(Arc::new(Context {
            n: self.n,
            moduli,
            ntt,
        }))
    }

    /// The degree N.
    pub fn degree(&self) -> usize {
        self.n
    }

    /// The primes q_i.
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// The NTT tables, one per prime.
    pub fn ntt_operators(&self) -> &[Arc<NttOperator>] {
        &self.ntt
    }

    /// Bits of Q = prod q_i.
    pub fn modulus_bits(&self) -> u32 {
        let log2: f64 = self.moduli.iter().map(|q| (q.value() as f64).log2()).sum();
        log2.ceil() as u32
    }
}

/// An element of R_Q in representation `R`: limb i holds the N residues mod q_i.
pub struct Poly<R: Representation> {
    ctx: Arc<Context>,
    data: Vec<u64>,
    _repr: PhantomData<R>,
}

impl<R: Representation> Clone for Poly<R> {
    fn clone(&self) -> Self {
        let mut data = pool::take_zeroed(self.data.len());
        data.copy_from_slice(&self.data);
        Poly {
            ctx: self.ctx.clone(),
            data,
            _repr: PhantomData,
        }
    }
}

impl<R: Representation> PartialEq for Poly<R> {
    fn eq(&self, other: &Self) -> bool {
        *self.ctx == *other.ctx && self.data == other.data
    }
}
impl<R: Representation> Eq for Poly<R> {}

impl<R: Representation> fmt::Debug for Poly<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Poly<{}> {{ n: {}, limbs: {} }}",
            R::NAME,
            self.ctx.n,
            self.ctx.moduli.len()
        )
    }
}

/// The residues are wiped and their buffer goes back to the [`pool`] for reuse.
impl<R: Representation> Drop for Poly<R> {
    fn drop(&mut self) {
        pool::recycle(core::mem::take(&mut self.data));
    }
}

impl<R: Representation> Zeroize for Poly<R> {
    fn zeroize(&mut self) {
        self.data.zeroize();
    }
}

/// A slice kernel `out = f(x, y)` mod q (see [`kernels`]).
type MapKernel = fn(&Modulus, &[u64], &[u64], &mut [u64]) -> Result<()>;
/// A slice kernel `x = f(x, y)` mod q.
type ZipKernel = fn(&Modulus, &mut [u64], &[u64]) -> Result<()>;

/// A new limb-major buffer with `f` applied limb by limb, limbs in parallel.
fn map_limbs(ctx: &Context, a: &[u64], b: &[u64], f: MapKernel) -> Result<Vec<u64>> {
    let mut out = pool::take_zeroed(a.len());
    out.par_chunks_mut(ctx.n)
        .zip(a.par_chunks(ctx.n).zip(b.par_chunks(ctx.n)))
        .zip(ctx.moduli.par_iter())
        .try_for_each(|((o, (x, y)), q)| f(q, x, y, o))?;
    Ok(out)
}

/// `f` applied in place limb by limb over two limb-major buffers, limbs in parallel.
fn zip_limbs(ctx: &Context, out: &mut [u64], other: &[u64], f: ZipKernel) -> Result<()> {
    out.par_chunks_mut(ctx.n)
        .zip(other.par_chunks(ctx.n))
        .zip(ctx.moduli.par_iter())
        .try_for_each(|((a, b), q)| f(q, a, b))
}

impl<R: Representation> Poly<R> {
    /// The zero polynomial.
    pub fn zero(ctx: &Arc<Context>) -> Self {
        Poly {
            ctx: ctx.clone(),
            data: pool::take_zeroed(ctx.n * ctx.moduli.len()),
            _repr: PhantomData,
        }
    }

    /// A polynomial from limb-major residues (`k * N` values, limb i reduced mod q_i), validated.
    pub fn from_residues(ctx: &Arc<Context>, data: Vec<u64>) -> Result<Self> {
        let expected = ctx.n * ctx.moduli.len();
        if data.len() != expected {
            return Err(Error::Mismatch {
                what: "residue count",
                left: data.len(),
                right: expected,
            });
        }
        for (limb, q) in data.chunks(ctx.n).zip(&ctx.moduli) {
            if limb.iter().any(|&x| x >= q.value()) {
                return Err(Error::InvalidModulus {
                    q: q.value(),
                    reason: "residue not reduced",
                });
            }
        }
        Ok(Poly {
            ctx: ctx.clone(),
            data,
            _repr: PhantomData,
        })
    }

    /// Limb-major residues that this crate's kernels produced (already reduced): no validation.
    pub(crate) fn from_reduced(ctx: &Arc<Context>, data: Vec<u64>) -> Result<Self> {
        let expected = ctx.n * ctx.moduli.len();
        if data.len() != expected {
            return Err(Error::Mismatch {
                what: "residue count",
                left: data.len(),
                right: expected,
            });
        }
        Ok(Poly {
            ctx: ctx.clone(),
            data,
            _repr: PhantomData,
        })
    }

    /// The first limbs of this polynomial as a polynomial of `ctx`, whose primes must be the first
    /// primes of this one's (dropping the last primes of an RNS polynomial, in either form).
    pub fn prefix(&self, ctx: &Arc<Context>) -> Result<Self> {
        let k = ctx.moduli.len();
        if ctx.n != self.ctx.n || self.ctx.moduli.get(..k) != Some(&ctx.moduli[..]) {
            return Err(Error::Mismatch {
                what: "primes of the prefix ring",
                left: k,
                right: self.ctx.moduli.len(),
            });
        }
        let mut data = pool::take_zeroed(k * ctx.n);
        // k limbs exist: their primes were compared above.
        data.copy_from_slice(&self.data[..k * ctx.n]);
        Ok(Poly {
            ctx: ctx.clone(),
            data,
            _repr: PhantomData,
        })
    }

    /// The ring.
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// Limb i: the N residues mod q_i (empty past the last limb).
    pub fn limb(&self, i: usize) -> &[u64] {
        self.data
            .get(i * self.ctx.n..(i + 1) * self.ctx.n)
            .unwrap_or(&[])
    }

    /// All residues, limb-major.
    pub fn as_slice(&self) -> &[u64] {
        &self.data
    }

    /// All residues, limb-major, mutable: the caller keeps limb i below q_i.
    pub fn as_mut_slice(&mut self) -> &mut [u64] {
        &mut self.data
    }

    /// A new polynomial with the slice kernel `f` limb by limb, after checking both share the ring.
    fn combine(&self, other: &Self, f: MapKernel) -> Result<Self> {
        self.check_same_ring(other)?;
        let data = map_limbs(&self.ctx, &self.data, &other.data, f)?;
        Ok(Poly {
            ctx: self.ctx.clone(),
            data,
            _repr: PhantomData,
        })
    }

    /// `self = f(self, other)` limb by limb, after checking both share the ring.
    fn combine_assign(&mut self, other: &Self, f: ZipKernel) -> Result<()> {
        self.check_same_ring(other)?;
        zip_limbs(&self.ctx.clone(), &mut self.data, &other.data, f)
    }

    fn check_same_ring(&self, other: &Self) -> Result<()> {
        if Arc::ptr_eq(&self.ctx, &other.ctx) || *self.ctx == *other.ctx {
            Ok(())
        } else {
            Err(Error::Mismatch {
                what: "ring",
                left: self.ctx.moduli.len(),
                right: other.ctx.moduli.len(),
            })
        }
    }

    /// self += other.
    pub fn add_assign(&mut self, other: &Self) -> Result<()> {
        self.combine_assign(other, kernels::add_assign)
    }

    /// self -= other.
    pub fn sub_assign(&mut self, other: &Self) -> Result<()> {
        self.combine_assign(other, kernels::sub_assign)
    }

    /// self + other.
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.combine(other, kernels::add)
    }

    /// self - other.
    pub fn sub(&self, other: &Self) -> Result<Self> {
        self.combine(other, kernels::sub)
    }

    /// -self.
    pub fn neg(&self) -> Self {
        let mut r = self.clone();
        let ctx = r.ctx.clone();
        r.data
            .par_chunks_mut(ctx.n)
            .zip(ctx.moduli.par_iter())
            .for_each(|(a, q)| a.iter_mut().for_each(|x| *x = q.neg(*x)));
        r
    }

    /// self * c for a small signed scalar c (the same in every limb).
    pub fn mul_scalar(&self, c: i64) -> Self {
        let mut r = self.clone();
        let ctx = r.ctx.clone();
        r.data
            .par_chunks_mut(ctx.n)
            .zip(ctx.moduli.par_iter())
            .for_each(|(a, q)| {
                let (w, ws) = (q.reduce_i64(c), q.shoup(q.reduce_i64(c)));
                a.iter_mut().for_each(|x| *x = q.mul_shoup(*x, w, ws));
            });
        r
    }
}

impl Poly<Coeff> {
    /// A polynomial with small signed coefficients (|c| < min q_i / 2), the same in every limb:
    /// how secrets, errors and encoded messages enter the ring.
    pub fn from_small(ctx: &Arc<Context>, coeffs: &[i64]) -> Result<Self> {
        if coeffs.len() != ctx.n {
            return Err(Error::Mismatch {
                what: "coefficient count",
                left: coeffs.len(),
                right: ctx.n,
            });
        }
        let mut data = pool::take_zeroed(ctx.n * ctx.moduli.len());
        data.par_chunks_mut(ctx.n)
            .zip(ctx.moduli.par_iter())
            .for_each(|(limb, q)| {
                for (x, &c) in limb.iter_mut().zip(coeffs) {
                    *x = q.reduce_i64(c);
                }
            });
        Ok(Poly {
            ctx: ctx.clone(),
            data,
            _repr: PhantomData,
        })
    }

    /// The forward NTT of every limb, in parallel.
    pub fn into_ntt(mut self) -> Poly<Ntt> {
        let ctx = self.ctx.clone();
        self.data
            .par_chunks_mut(ctx.n)
            .zip(ctx.ntt.par_iter())
            .for_each(|(limb, op)| op.forward(limb));
        Poly {
            ctx,
            data: core::mem::take(&mut self.data),
            _repr: PhantomData,
        }
    }
}

impl Poly<Ntt> {
    /// The inverse NTT of every limb, in parallel.
    pub fn into_coeff(mut self) -> Poly<Coeff> {
        let ctx = self.ctx.clone();
        self.data
            .par_chunks_mut(ctx.n)
            .zip(ctx.ntt.par_iter())
            .for_each(|(limb, op)| op.inverse(limb));
        Poly {
            ctx,
            data: core::mem::take(&mut self.data),
            _repr: PhantomData,
        }
    }

    /// self *= other (point-wise in the NTT domain: the product in R_Q).
    pub fn mul_assign(&mut self, other: &Self) -> Result<()> {
        self.combine_assign(other, kernels::mul_assign)
    }

    /// self * other in R_Q.
    pub fn mul(&self, other: &Self) -> Result<Self> {
        self.combine(other, kernels::mul)
    }

    /// sum_i a_i b_i in R_Q for pairs (a_i, b_i) of one ring, reduced once per limb and fifteen
    /// terms rather than per product (see [`kernels::sum_of_products`]). Needs at least one pair.
    pub fn sum_of_products(pairs: &[(&Self, &Self)]) -> Result<Self> {
        let Some(((first, _), _)) = pairs.split_first() else {
            return Err(Error::Mismatch {
                what: "number of products",
                left: 0,
                right: 1,
            });
        };
        for (a, b) in pairs {
            first.check_same_ring(a)?;
            first.check_same_ring(b)?;
        }
        let ctx = first.ctx.clone();
        let n = ctx.n;
        let mut data = pool::take_zeroed(first.data.len());
        data.par_chunks_mut(n)
            .zip(ctx.moduli.par_iter())
            .enumerate()
            .try_for_each(|(i, (out, q))| {
                let xs: Vec<&[u64]> = pairs.iter().map(|(a, _)| a.limb(i)).collect();
                let ys: Vec<&[u64]> = pairs.iter().map(|(_, b)| b.limb(i)).collect();
                kernels::sum_of_products(q, &xs, &ys, out)
            })?;
        Ok(Poly {
            ctx,
            data,
            _repr: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;
    use proptest::prelude::*;

    fn ring(n: usize, k: usize) -> Arc<Context> {
        Context::new(&ntt_primes(40, n, k).unwrap(), n).unwrap()
    }

    /// Schoolbook negacyclic product of small signed polynomials over the integers.
    fn schoolbook(a: &[i64], b: &[i64]) -> Vec<i128> {
        let n = a.len();
        let mut c = vec![0i128; n];
        for (i, &x) in a.iter().enumerate() {
            for (j, &y) in b.iter().enumerate() {
                let p = i128::from(x) * i128::from(y);
                if i + j < n {
                    c[i + j] += p
                } else {
                    c[i + j - n] -= p
                }
            }
        }
        c
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

        #[test]
        fn ring_product_matches_integer_schoolbook(
            a in proptest::collection::vec(-1000i64..1000, 1024),
            b in proptest::collection::vec(-1000i64..1000, 1024),
        ) {
            let ctx = ring(1024, 3);
            let pa = Poly::from_small(&ctx, &a)?.into_ntt();
            let pb = Poly::from_small(&ctx, &b)?.into_ntt();
            let c = pa.mul(&pb)?.into_coeff();
            let expected = schoolbook(&a, &b);
            for (limb, q) in (0..3).map(|i| c.limb(i)).zip(ctx.moduli()) {
                for (&got, &want) in limb.iter().zip(&expected) {
                    prop_assert_eq!(got, (want.rem_euclid(i128::from(q.value()))) as u64);
                }
            }
            // add, sub, neg, scalar agree with the integers too.
            let sum = Poly::from_small(&ctx, &a)?.add(&Poly::from_small(&ctx, &b)?)?;
            let diff = sum.sub(&Poly::from_small(&ctx, &b)?)?;
            prop_assert_eq!(&diff, &Poly::from_small(&ctx, &a)?);
            prop_assert_eq!(diff.neg().add(&diff)?, Poly::zero(&ctx));
            let scaled: Vec<i64> = a.iter().map(|x| x * -7).collect();
            prop_assert_eq!(Poly::from_small(&ctx, &a)?.mul_scalar(-7), Poly::from_small(&ctx, &scaled)?);
        }
    }

    #[test]
    fn mismatches_are_errors() {
        let (r1, r2) = (ring(1024, 2), ring(2048, 2));
        let a = Poly::<Coeff>::zero(&r1);
        let b = Poly::<Coeff>::zero(&r2);
        assert!(a.add(&b).is_err());
        assert!(Poly::<Coeff>::from_small(&r1, &[1, 2, 3]).is_err());
        assert!(Poly::<Coeff>::from_residues(&r1, vec![0; 5]).is_err());
        let q0 = r1.moduli()[0].value();
        let mut bad = vec![0u64; 2048];
        bad[3] = q0;
        assert!(Poly::<Coeff>::from_residues(&r1, bad).is_err());
        assert!(Context::new(&[], 1024).is_err());
        let p = ntt_primes(40, 1024, 1).unwrap()[0];
        assert!(Context::new(&[p, p], 1024).is_err());
        assert!(Context::new(&[97], 1024).is_err());
        assert!(Context::new(&[p], 1000).is_err());
        let three = ring(1024, 3);
        let sub = three.select(&[2, 0]).unwrap();
        assert_eq!(sub.moduli(), &[three.moduli()[2], three.moduli()[0]]);
        assert!(Arc::ptr_eq(
            &sub.ntt_operators()[0],
            &three.ntt_operators()[2]
        ));
        assert!(three.select(&[0, 0]).is_err());
        assert!(three.select(&[3]).is_err());
        assert!(three.select(&[]).is_err());
    }

    #[test]
    fn x_to_the_n_is_minus_one() {
        let ctx = ring(1024, 2);
        let mut x = vec![0i64; 1024];
        x[1023] = 1; // X^(N-1)
        let mut y = vec![0i64; 1024];
        y[1] = 1; // X
        let prod = Poly::from_small(&ctx, &x)
            .unwrap()
            .into_ntt()
            .mul(&Poly::from_small(&ctx, &y).unwrap().into_ntt())
            .unwrap()
            .into_coeff();
        let mut minus_one = vec![0i64; 1024];
        minus_one[0] = -1;
        assert_eq!(prod, Poly::from_small(&ctx, &minus_one).unwrap());
    }
}
