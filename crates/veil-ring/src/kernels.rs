//! Element-wise arithmetic mod q on slices of residues, dispatched at run time to the fastest
//! kernel this CPU has (see [`Isa`]), with the scalar code as the reference that the vector
//! kernels are tested against bit for bit.
//!
//! | function                                 | scalar           | `Avx2`, `Avx512` | `Avx512Ifma` (q < 2^50) |
//! | ---------------------------------------- | ---------------- | ---------------- | ----------------------- |
//! | [`add`], [`sub`] (and assign)            | reference        | scalar, 8 lanes  | as `Avx512`             |
//! | [`mul`], [`mul_assign`], [`mul_constant`] | Barrett / Shoup | scalar           | 8 lanes, 52-bit FMA     |
//! | [`sum_of_products`], [`sum_of_scaled`]   | u128 sums        | scalar           | 8 lanes, 52-bit FMA     |
//! | [`divide_round`]                         | reference        | scalar           | 8 lanes, 52-bit FMA     |
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
    add_sub_assign::<false>(Isa::detected(), q, a, b)
}

/// [`add_assign`] on the given instruction set (or the best supported one below it).
pub fn add_assign_with(isa: Isa, q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    add_sub_assign::<false>(isa, q, a, b)
}

/// a = (a - b) mod q element-wise.
pub fn sub_assign(q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    add_sub_assign::<true>(Isa::detected(), q, a, b)
}

/// [`sub_assign`] on the given instruction set (or the best supported one below it).
pub fn sub_assign_with(isa: Isa, q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    add_sub_assign::<true>(isa, q, a, b)
}

/// out = (a + b) mod q element-wise.
pub fn add(q: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
    add_sub::<false>(q, a, b, out)
}

/// out = (a - b) mod q element-wise.
pub fn sub(q: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
    add_sub::<true>(q, a, b, out)
}

/// x + y, or x - y with `SUB`, mod q for x, y < q.
fn add_sub_scalar<const SUB: bool>(q: &Modulus, x: u64, y: u64) -> u64 {
    if SUB { q.sub(x, y) } else { q.add(x, y) }
}

fn add_sub_assign<const SUB: bool>(isa: Isa, q: &Modulus, a: &mut [u64], b: &[u64]) -> Result<()> {
    check_len("operand length", a.len(), b.len())?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(isa, q) >= Isa::Avx512
        && let Some(cpu) = crate::simd::Avx512Cpu::detect()
    {
        done = vector_len(a.len());
        let (a, b) = (
            a.get_mut(..done).unwrap_or_default(),
            b.get(..done).unwrap_or_default(),
        );
        crate::simd::avx512::add_sub_assign::<SUB>(cpu, q.value(), a, b);
    }
    let _ = isa;
    for (x, &y) in a.iter_mut().zip(b).skip(done) {
        *x = add_sub_scalar::<SUB>(q, *x, y);
    }
    Ok(())
}

fn add_sub<const SUB: bool>(q: &Modulus, a: &[u64], b: &[u64], out: &mut [u64]) -> Result<()> {
    check_len("operand length", a.len(), b.len())?;
    check_len("output length", out.len(), a.len())?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(Isa::detected(), q) >= Isa::Avx512
        && let Some(cpu) = crate::simd::Avx512Cpu::detect()
    {
        done = vector_len(a.len());
        let (a, b) = (
            a.get(..done).unwrap_or_default(),
            b.get(..done).unwrap_or_default(),
        );
        let o = out.get_mut(..done).unwrap_or_default();
        crate::simd::avx512::add_sub::<SUB>(cpu, q.value(), a, b, o);
    }
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b).skip(done) {
        *o = add_sub_scalar::<SUB>(q, x, y);
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

/// out = x w mod q element-wise for a constant w < q and x < q (Shoup's multiplication).
pub fn mul_constant(q: &Modulus, w: u64, x: &[u64], out: &mut [u64]) -> Result<()> {
    mul_constant_with(Isa::detected(), q, w, x, out)
}

/// [`mul_constant`] on the given instruction set (or the best supported one below it).
pub fn mul_constant_with(isa: Isa, q: &Modulus, w: u64, x: &[u64], out: &mut [u64]) -> Result<()> {
    check_len("output length", out.len(), x.len())?;
    let w = q.reduce(w);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(isa, q) == Isa::Avx512Ifma {
        done = vector_len(x.len());
        if let Some(cpu) = crate::simd::IfmaCpu::detect() {
            let (xs, o) = (
                x.get(..done).unwrap_or_default(),
                out.get_mut(..done).unwrap_or_default(),
            );
            crate::simd::ifma::mul_constant(cpu, q.value(), w, xs, o);
        }
    }
    let _ = isa;
    let ws = q.shoup(w);
    for (o, &v) in out.iter_mut().zip(x).skip(done) {
        *o = q.mul_shoup(v, w, ws);
    }
    Ok(())
}

/// out = round(X / p) mod q element-wise, for the integer X whose residues are x mod q and
/// x_p mod p (q and p distinct primes, inputs reduced): how a last prime p is dropped with
/// rounding (modulus switching, CKKS rescaling, the division by the special prime after key
/// switching). Computed as (x + floor(p/2) - u) p^-1 mod q with u = (x_p + floor(p/2)) mod p,
/// which is floor((X + floor(p/2)) / p).
pub fn divide_round(
    q: &Modulus,
    p: &Modulus,
    x: &[u64],
    x_p: &[u64],
    out: &mut [u64],
) -> Result<()> {
    divide_round_with(Isa::detected(), q, p, x, x_p, out)
}

/// [`divide_round`] on the given instruction set (or the best supported one below it).
pub fn divide_round_with(
    isa: Isa,
    q: &Modulus,
    p: &Modulus,
    x: &[u64],
    x_p: &[u64],
    out: &mut [u64],
) -> Result<()> {
    check_len("operand length", x.len(), x_p.len())?;
    check_len("output length", out.len(), x.len())?;
    let (pv, qv) = (p.value(), q.value());
    let p_inv = q.inv(q.reduce(pv)).ok_or(Error::InvalidModulus {
        q: pv,
        reason: "p not invertible mod q",
    })?;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(isa, q) == Isa::Avx512Ifma && effective(isa, p) == Isa::Avx512Ifma {
        done = vector_len(x.len());
        if let Some(cpu) = crate::simd::IfmaCpu::detect() {
            let (xs, ps) = (
                x.get(..done).unwrap_or_default(),
                x_p.get(..done).unwrap_or_default(),
            );
            let o = out.get_mut(..done).unwrap_or_default();
            crate::simd::ifma::divide_round(cpu, (qv, pv, p_inv), xs, ps, o);
        }
    }
    let _ = isa;
    let half = pv / 2;
    let (w, ws) = (p_inv, q.shoup(p_inv));
    let half_q = q.reduce(half);
    for ((o, &xv), &lv) in out.iter_mut().zip(x).zip(x_p).skip(done) {
        let s = lv + half;
        let u = if s >= pv { s - pv } else { s };
        // x + p/2 - u + q lies in (0, 3q): Shoup's multiplication takes any word.
        *o = q.mul_shoup(xv + half_q + qv - q.reduce(u), w, ws);
    }
    Ok(())
}

/// Products summed in a u128 before a reduction: fifteen products below 2^124 plus one reduced
/// value stay below 2^128.
const PRODUCTS_PER_FOLD: usize = 15;

/// out = sum_i x_i y_i mod q element-wise, for x_i, y_i < q: the inner product of key switching,
/// reduced once per fifteen terms instead of per product (lazy reduction).
pub fn sum_of_products(q: &Modulus, xs: &[&[u64]], ys: &[&[u64]], out: &mut [u64]) -> Result<()> {
    sum_of_products_with(Isa::detected(), q, xs, ys, out)
}

/// [`sum_of_products`] on the given instruction set (or the best supported one below it).
pub fn sum_of_products_with(
    isa: Isa,
    q: &Modulus,
    xs: &[&[u64]],
    ys: &[&[u64]],
    out: &mut [u64],
) -> Result<()> {
    for y in ys {
        check_len("operand length", y.len(), out.len())?;
    }
    lazy_sum(isa, q, xs, Factors::Vectors(ys), q.bits(), out)
}

/// out = sum_i x_i c_i mod q element-wise, for constants c_i < q and x_i < 2^`x_bits` (at most
/// 62): residues of other moduli brought to q (base conversion).
pub fn sum_of_scaled(
    q: &Modulus,
    xs: &[&[u64]],
    cs: &[u64],
    x_bits: u32,
    out: &mut [u64],
) -> Result<()> {
    sum_of_scaled_with(Isa::detected(), q, xs, cs, x_bits, out)
}

/// [`sum_of_scaled`] on the given instruction set (or the best supported one below it).
pub fn sum_of_scaled_with(
    isa: Isa,
    q: &Modulus,
    xs: &[&[u64]],
    cs: &[u64],
    x_bits: u32,
    out: &mut [u64],
) -> Result<()> {
    lazy_sum(isa, q, xs, Factors::Constants(cs), x_bits, out)
}

/// The second factor of each product of a lazy sum: a vector or a constant per term.
#[derive(Clone, Copy)]
pub(crate) enum Factors<'a> {
    Vectors(&'a [&'a [u64]]),
    Constants(&'a [u64]),
}

impl Factors<'_> {
    fn len(self) -> usize {
        match self {
            Factors::Vectors(ys) => ys.len(),
            Factors::Constants(cs) => cs.len(),
        }
    }

    /// The factor of term t at position c.
    fn get(self, t: usize, c: usize) -> u64 {
        match self {
            Factors::Vectors(ys) => ys.get(t).and_then(|y| y.get(c)).copied().unwrap_or(0),
            Factors::Constants(cs) => cs.get(t).copied().unwrap_or(0),
        }
    }
}

/// out = sum_t x_t f_t mod q, on IFMA when q and the x_t fit 50 bits, else in u128 sums.
fn lazy_sum(
    isa: Isa,
    q: &Modulus,
    xs: &[&[u64]],
    factors: Factors<'_>,
    x_bits: u32,
    out: &mut [u64],
) -> Result<()> {
    check_len("number of terms", xs.len(), factors.len())?;
    for x in xs {
        check_len("operand length", x.len(), out.len())?;
    }
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if effective(isa, q) == Isa::Avx512Ifma && x_bits <= 50 {
        done = vector_len(out.len());
        if let Some(cpu) = crate::simd::IfmaCpu::detect() {
            let o = out.get_mut(..done).unwrap_or_default();
            crate::simd::ifma::lazy_sum(cpu, q.value(), xs, factors, o);
        }
    }
    let _ = (isa, x_bits);
    scalar_sums(q, out, done, xs.len(), |t, c| {
        let x = xs.get(t).and_then(|x| x.get(c)).copied().unwrap_or(0);
        u128::from(x) * u128::from(factors.get(t, c))
    });
    Ok(())
}

/// out[c] = sum_t product(t, c) mod q for c >= `from`, reducing every [`PRODUCTS_PER_FOLD`] terms.
/// Terms outer, coefficients inner: each term's operands are read in order.
fn scalar_sums(
    q: &Modulus,
    out: &mut [u64],
    from: usize,
    terms: usize,
    product: impl Fn(usize, usize) -> u128,
) {
    let Some(out) = out.get_mut(from..) else {
        return;
    };
    let mut acc = vec![0u128; out.len()];
    for t in 0..terms {
        if t > 0 && t % PRODUCTS_PER_FOLD == 0 {
            acc.iter_mut()
                .for_each(|a| *a = u128::from(q.reduce_u128(*a)));
        }
        for (c, a) in acc.iter_mut().enumerate() {
            *a += product(t, from + c);
        }
    }
    for (o, &a) in out.iter_mut().zip(&acc) {
        *o = q.reduce_u128(a);
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
        fn sums_of_products_equal_exact_sums(q in moduli(), terms in 0usize..40, len in 0usize..30, seed in any::<u64>()) {
            let xs: Vec<Vec<u64>> = (0..terms).map(|i| residues(q, len, seed ^ i as u64)).collect();
            let ys: Vec<Vec<u64>> = (0..terms).map(|i| residues(q, len, seed ^ (i as u64 + 99))).collect();
            let mut want = vec![0u128; len];
            for (x, y) in xs.iter().zip(&ys) {
                for ((w, &a), &b) in want.iter_mut().zip(x).zip(y) {
                    *w = (*w + u128::from(a) * u128::from(b)) % u128::from(q.value());
                }
            }
            let want: Vec<u64> = want.into_iter().map(|w| w as u64).collect();
            let xr: Vec<&[u64]> = xs.iter().map(Vec::as_slice).collect();
            let yr: Vec<&[u64]> = ys.iter().map(Vec::as_slice).collect();
            for isa in Isa::all_supported() {
                let mut out = vec![7u64; len];
                sum_of_products_with(isa, &q, &xr, &yr, &mut out)?;
                prop_assert_eq!(&out, &want, "{:?}", isa);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Constant products, and sums of scaled residues of another (possibly larger) modulus.
        #[test]
        fn constant_and_scaled_sums_equal_scalar(
            q in moduli(), p in moduli(), len in 0usize..70, terms in 1usize..34, seed in any::<u64>(),
        ) {
            let x = residues(q, len, seed);
            let w = q.reduce(seed.rotate_left(17));
            let want: Vec<u64> = x.iter().map(|&v| q.mul(v, w)).collect();
            let xs: Vec<Vec<u64>> = (0..terms).map(|i| residues(p, len, seed ^ (i as u64 + 1))).collect();
            let cs: Vec<u64> = (0..terms).map(|i| q.reduce(seed.wrapping_mul(i as u64 + 3))).collect();
            let mut want_sum = vec![0u128; len];
            for (xi, &c) in xs.iter().zip(&cs) {
                for (s, &v) in want_sum.iter_mut().zip(xi) {
                    *s = (*s + u128::from(v) * u128::from(c)) % u128::from(q.value());
                }
            }
            let want_sum: Vec<u64> = want_sum.into_iter().map(|v| v as u64).collect();
            let xr: Vec<&[u64]> = xs.iter().map(Vec::as_slice).collect();
            for isa in Isa::all_supported() {
                let mut out = vec![0u64; len];
                mul_constant_with(isa, &q, w, &x, &mut out)?;
                prop_assert_eq!(&out, &want, "{:?}", isa);
                sum_of_scaled_with(isa, &q, &xr, &cs, p.bits(), &mut out)?;
                prop_assert_eq!(&out, &want_sum, "scaled sums {:?}", isa);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// The rounded division by a dropped prime equals round(X / p) computed on the integers.
        #[test]
        fn divide_round_equals_integer_rounding(q in moduli(), p in moduli(), len in 0usize..40, seed in any::<u64>()) {
            prop_assume!(q != p);
            let xq = residues(q, len, seed);
            let xp = residues(p, len, seed ^ 0xabc);
            let (qv, pv) = (u128::from(q.value()), u128::from(p.value()));
            // X = CRT(xq, xp) in [0, q p).
            let p_inv_q = u128::from(q.inv(q.reduce(p.value())).unwrap());
            let want: Vec<u64> = xq.iter().zip(&xp).map(|(&a, &b)| {
                let t = ((u128::from(a) + qv - u128::from(b) % qv) % qv) * p_inv_q % qv;
                let big = u128::from(b) + pv * t; // < p q < 2^124
                (((big + pv / 2) / pv) % qv) as u64
            }).collect();
            for isa in Isa::all_supported() {
                let mut out = vec![0u64; len];
                divide_round_with(isa, &q, &p, &xq, &xp, &mut out)?;
                prop_assert_eq!(&out, &want, "{:?}", isa);
            }
        }
    }

    #[test]
    fn length_mismatches_are_errors() {
        let q = Modulus::new(97).unwrap();
        let mut a = vec![1u64; 3];
        assert!(add_assign(&q, &mut a, &[1, 2]).is_err());
        assert!(mul(&q, &[1], &[1], &mut [0, 0]).is_err());
        assert!(sum_of_products(&q, &[&[1]], &[&[1, 2]], &mut [0]).is_err());
        assert!(sum_of_products(&q, &[&[1]], &[], &mut [0]).is_err());
        assert!(sum_of_scaled(&q, &[&[1, 2]], &[1], 7, &mut [0]).is_err());
    }
}
