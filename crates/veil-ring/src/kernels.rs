//! Element-wise arithmetic mod q on slices of residues, dispatched at run time to the fastest
//! kernel this CPU has (see [`Isa`]), with the scalar code as the reference that the vector
//! kernels are tested against bit for bit.
//!
//! | function                       | scalar           | `Avx512`         | `Avx512Ifma` (q < 2^50) |
//! | ------------------------------ | ---------------- | ---------------- | ----------------------- |
//! | [`add`], [`sub`] (and assign)  | reference        | 8 lanes          | as `Avx512`             |
//! | [`mul`], [`mul_assign`]        | Barrett, 128-bit | scalar           | 8 lanes, 52-bit FMA     |
//! | [`ProductAccumulator`]         | u128 sums        | scalar           | 8 lanes, 52-bit FMA     |
//!
//! Inputs must be reduced (below q); outputs are reduced. None of these functions branch on the
//! values (the conditional subtractions are `min` instructions in the vector kernels, and
//! compiler-dependent in the scalar ones, as in [`Modulus`]).

use crate::error::{Error, Result};
use crate::isa::Isa;
use crate::zq::Modulus;

fn check_len(what: &'static str, left: usize, right: usize) -> Result<()> {
    if left == right {
        Ok(())
    } else {
        Err(Error::Mismatch { what, left, right })
    }
}

/// Length of the prefix that eight-lane kernels handle (the rest goes to the scalar loop).
#[cfg(target_arch = "x86_64")]
fn vector_len(len: usize) -> usize {
    len - len % 8
}

/// The instruction set to run for modulus q: `isa` if supported, else the best one that is.
fn effective(isa: Isa, q: &Modulus) -> Isa {
    isa.min(Isa::detected()).for_modulus(q.value())
}

/// a = (a + b) mod q element-wise.
pub fn add_assign(q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    add_assign_with(Isa::detected(), q, a, b)
}

/// [`add_assign`] on the given instruction set (or the best supported one below it).
pub fn add_assign_with(isa: Isa, q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    check_len("operand length", a.len(), b.len())?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(isa, q) >= Isa::Avx512 {
        done = vector_len(a.len());
        let (a, b) = (
            a.get_mut(..done).unwrap_or_default(),
            b.get(..done).unwrap_or_default(),
        );
        if let Some(cpu) = crate::simd::Avx512Cpu::detect() {
            crate::simd::avx512::add_assign(cpu, q.value(), a, b);
        }
    }
    let _ = isa;
    for (x, &y) in a.iter_mut().zip(b).skip(done) {
        *x = q.add(*x, y);
    }
    Ok(())
}

/// a = (a - b) mod q element-wise.
pub fn sub_assign(q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    sub_assign_with(Isa::detected(), q, a, b)
}

/// [`sub_assign`] on the given instruction set (or the best supported one below it).
pub fn sub_assign_with(isa: Isa, q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    check_len("operand length", a.len(), b.len())?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(isa, q) >= Isa::Avx512 {
        done = vector_len(a.len());
        let (a, b) = (
            a.get_mut(..done).unwrap_or_default(),
            b.get(..done).unwrap_or_default(),
        );
        if let Some(cpu) = crate::simd::Avx512Cpu::detect() {
            crate::simd::avx512::sub_assign(cpu, q.value(), a, b);
        }
    }
    let _ = isa;
    for (x, &y) in a.iter_mut().zip(b).skip(done) {
        *x = q.sub(*x, y);
    }
    Ok(())
}

/// out = (a + b) mod q element-wise.
pub fn add(q: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
    check_len("operand length", a.len(), b.len())?;
    check_len("output length", out.len(), a.len())?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(Isa::detected(), q) >= Isa::Avx512 {
        done = vector_len(a.len());
        let (a, b) = (
            a.get(..done).unwrap_or_default(),
            b.get(..done).unwrap_or_default(),
        );
        let o = out.get_mut(..done).unwrap_or_default();
        if let Some(cpu) = crate::simd::Avx512Cpu::detect() {
            crate::simd::avx512::add(cpu, q.value(), a, b, o);
        }
    }
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b).skip(done) {
        *o = q.add(x, y);
    }
    Ok(())
}

/// out = (a - b) mod q element-wise.
pub fn sub(q: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
    check_len("operand length", a.len(), b.len())?;
    check_len("output length", out.len(), a.len())?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(Isa::detected(), q) >= Isa::Avx512 {
        done = vector_len(a.len());
        let (a, b) = (
            a.get(..done).unwrap_or_default(),
            b.get(..done).unwrap_or_default(),
        );
        let o = out.get_mut(..done).unwrap_or_default();
        if let Some(cpu) = crate::simd::Avx512Cpu::detect() {
            crate::simd::avx512::sub(cpu, q.value(), a, b, o);
        }
    }
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b).skip(done) {
        *o = q.sub(x, y);
    }
    Ok(())
}

/// out = a b mod q element-wise.
pub fn mul(q: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
    mul_with(Isa::detected(), q, a, b, out)
}

/// [`mul`] on the given instruction set (or the best supported one below it).
pub fn mul_with(isa: Isa, q: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
    check_len("operand length", a.len(), b.len())?;
    check_len("output length", out.len(), a.len())?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(isa, q) == Isa::Avx512Ifma {
        done = vector_len(a.len());
        let (a, b) = (
            a.get(..done).unwrap_or_default(),
            b.get(..done).unwrap_or_default(),
        );
        let o = out.get_mut(..done).unwrap_or_default();
        if let Some(cpu) = crate::simd::IfmaCpu::detect() {
            crate::simd::ifma::mul(cpu, q.value(), a, b, o);
        }
    }
    let _ = isa;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b).skip(done) {
        *o = q.mul(x, y);
    }
    Ok(())
}

/// a = a b mod q element-wise.
pub fn mul_assign(q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    check_len("operand length", a.len(), b.len())?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(Isa::detected(), q) == Isa::Avx512Ifma {
        done = vector_len(a.len());
        let (a, b) = (
            a.get_mut(..done).unwrap_or_default(),
            b.get(..done).unwrap_or_default(),
        );
        if let Some(cpu) = crate::simd::IfmaCpu::detect() {
            crate::simd::ifma::mul_assign(cpu, q.value(), a, b);
        }
    }
    for (x, &y) in a.iter_mut().zip(b).skip(done) {
        *x = q.mul(*x, y);
    }
    Ok(())
}

/// Products to accumulate before a reduction: 15 products below 2^124 (scalar) or 2^100 (IFMA)
/// plus one reduced value stay within the accumulator.
const PRODUCTS_PER_FOLD: usize = 15;

/// Sums of element-wise products, sum_i x_i y_i mod q, reduced once at the end rather than per
/// product: the inner product of key switching (lazy reduction across the digits).
#[derive(Clone, Debug)]
pub struct ProductAccumulator {
    q: Modulus,
    isa: Isa,
    /// Scalar: the low and high words of a u128 sum. IFMA: the sum is hi 2^52 + lo.
    lo: Vec<u64>,
    hi: Vec<u64>,
    pending: usize,
}

impl ProductAccumulator {
    /// A zero accumulator of `len` sums modulo q.
    pub fn new(q: Modulus, len: usize) -> Self {
        Self::with_isa(Isa::detected(), q, len)
    }

    /// [`new`](Self::new) on the given instruction set (or the best supported one below it).
    pub fn with_isa(isa: Isa, q: Modulus, len: usize) -> Self {
        let isa = match effective(isa, &q) {
            Isa::Avx512Ifma => Isa::Avx512Ifma,
            _ => Isa::Scalar,
        };
        ProductAccumulator {
            q,
            isa,
            lo: vec![0; len],
            hi: vec![0; len],
            pending: 0,
        }
    }

    /// Number of sums.
    pub fn len(&self) -> usize {
        self.lo.len()
    }

    /// Whether there are no sums.
    pub fn is_empty(&self) -> bool {
        self.lo.is_empty()
    }

    /// Adds x_j y_j to sum j, for x_j, y_j < q.
    pub fn add_products(&mut self, x: &[u64], y: &[u64]) -> Result<()> {
        check_len("operand length", x.len(), self.len())?;
        check_len("operand length", y.len(), self.len())?;
        if self.pending == PRODUCTS_PER_FOLD {
            self.fold_in_place();
        }
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx512Ifma {
            done = vector_len(x.len());
            let (lo, hi) = (
                self.lo.get_mut(..done).unwrap_or_default(),
                self.hi.get_mut(..done).unwrap_or_default(),
            );
            let (xs, ys) = (
                x.get(..done).unwrap_or_default(),
                y.get(..done).unwrap_or_default(),
            );
            if let Some(cpu) = crate::simd::IfmaCpu::detect() {
                crate::simd::ifma::accumulate(cpu, lo, hi, xs, ys);
            }
        }
        let shift = self.split_bits();
        let mask = u128::MAX >> (128 - shift);
        for (((lo, hi), &a), &b) in self
            .lo
            .iter_mut()
            .zip(self.hi.iter_mut())
            .zip(x)
            .zip(y)
            .skip(done)
        {
            let s = (u128::from(*hi) << shift) + u128::from(*lo) + u128::from(a) * u128::from(b);
            (*lo, *hi) = ((s & mask) as u64, (s >> shift) as u64);
        }
        self.pending += 1;
        Ok(())
    }

    /// Writes every sum mod q into `out` and resets the accumulator to zero.
    pub fn finish_into(&mut self, out: &mut [u64]) -> Result<()> {
        check_len("output length", out.len(), self.len())?;
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx512Ifma {
            done = vector_len(out.len());
            let (lo, hi) = (
                self.lo.get(..done).unwrap_or_default(),
                self.hi.get(..done).unwrap_or_default(),
            );
            if let Some(cpu) = crate::simd::IfmaCpu::detect() {
                let o = out.get_mut(..done).unwrap_or_default();
                crate::simd::ifma::fold(cpu, self.q.value(), lo, hi, o);
            }
        }
        let shift = self.split_bits();
        for ((o, &lo), &hi) in out.iter_mut().zip(&self.lo).zip(&self.hi).skip(done) {
            *o = self
                .q
                .reduce_u128((u128::from(hi) << shift) + u128::from(lo));
        }
        self.lo.fill(0);
        self.hi.fill(0);
        self.pending = 0;
        Ok(())
    }

    /// Where a sum splits into its two words: hi 2^bits + lo.
    fn split_bits(&self) -> u32 {
        if self.isa == Isa::Avx512Ifma { 52 } else { 64 }
    }

    /// Reduces every sum to [0, q) in place, so that fifteen more products fit.
    fn fold_in_place(&mut self) {
        let mut reduced = vec![0u64; self.len()];
        let _ = self.finish_into(&mut reduced);
        self.lo = reduced;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;
    use proptest::prelude::*;

    fn moduli() -> impl Strategy<Value = Modulus> {
        prop::sample::select(vec![20u32, 36, 43, 49, 50, 55, 60, 61])
            .prop_map(|bits| Modulus::new(ntt_primes(bits, 1024, 1).unwrap()[0]).unwrap())
    }

    fn residues(q: Modulus, len: usize, seed: u64) -> Vec<u64> {
        let mut s = seed | 1;
        (0..len)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Edge values first: 0, 1, q - 1, q - 2, then random residues.
                match i {
                    0 => 0,
                    1 => 1,
                    2 => q.value() - 1,
                    3 => q.value() - 2,
                    _ => q.reduce(s >> 1),
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Every instruction set gives the scalar words, including for lengths that leave a tail.
        #[test]
        fn kernels_equal_scalar(q in moduli(), len in 0usize..80, seed in any::<u64>()) {
            let a = residues(q, len, seed);
            let b = residues(q, len, seed ^ 0x5555);
            let want_mul: Vec<u64> = a.iter().zip(&b).map(|(&x, &y)| q.mul(x, y)).collect();
            let want_add: Vec<u64> = a.iter().zip(&b).map(|(&x, &y)| q.add(x, y)).collect();
            let want_sub: Vec<u64> = a.iter().zip(&b).map(|(&x, &y)| q.sub(x, y)).collect();
            for isa in Isa::all_supported() {
                let mut out = vec![0u64; len];
                mul_with(isa, &q, &a, &b, &mut out)?;
                prop_assert_eq!(&out, &want_mul, "mul {:?}", isa);
                let mut x = a.clone();
                add_assign_with(isa, &q, &mut x, &b)?;
                prop_assert_eq!(&x, &want_add, "add {:?}", isa);
                sub_assign_with(isa, &q, &mut x, &b)?;
                prop_assert_eq!(&x, &a, "sub {:?}", isa);
                let mut x = a.clone();
                sub_assign_with(isa, &q, &mut x, &b)?;
                prop_assert_eq!(&x, &want_sub, "sub {:?}", isa);
            }
            let mut out = vec![0u64; len];
            add(&q, &a, &b, &mut out)?;
            prop_assert_eq!(&out, &want_add);
            sub(&q, &a, &b, &mut out)?;
            prop_assert_eq!(&out, &want_sub);
            let mut x = a.clone();
            mul_assign(&q, &mut x, &b)?;
            prop_assert_eq!(&x, &want_mul);
        }

        /// Sums of up to 40 products (several folds) equal the exact sums mod q.
        #[test]
        fn accumulator_equals_exact_sum(q in moduli(), terms in 1usize..40, seed in any::<u64>()) {
            let len = 21;
            let xs: Vec<Vec<u64>> = (0..terms).map(|i| residues(q, len, seed ^ i as u64)).collect();
            let mut want = vec![0u128; len];
            for (i, x) in xs.iter().enumerate() {
                let y = &xs[(i + 1) % terms];
                for ((w, &a), &b) in want.iter_mut().zip(x).zip(y) {
                    *w = (*w + u128::from(a) * u128::from(b)) % u128::from(q.value());
                }
            }
            let want: Vec<u64> = want.into_iter().map(|w| w as u64).collect();
            for isa in Isa::all_supported() {
                let mut acc = ProductAccumulator::with_isa(isa, q, len);
                for (i, x) in xs.iter().enumerate() {
                    acc.add_products(x, &xs[(i + 1) % terms])?;
                }
                let mut out = vec![0u64; len];
                acc.finish_into(&mut out)?;
                prop_assert_eq!(&out, &want, "{:?}", isa);
                // Reset to zero by finishing.
                acc.finish_into(&mut out)?;
                prop_assert!(out.iter().all(|&v| v == 0));
            }
        }
    }

    #[test]
    fn length_mismatches_are_errors() {
        let q = Modulus::new(97).unwrap();
        let mut a = vec![1u64; 3];
        assert!(add_assign(&q, &mut a, &[1, 2]).is_err());
        assert!(mul(&q, &[1], &[1], &mut [0, 0]).is_err());
        let mut acc = ProductAccumulator::new(q, 2);
        assert!(acc.add_products(&[1], &[1, 2]).is_err());
        assert!(acc.finish_into(&mut [0; 3]).is_err());
    }
}
