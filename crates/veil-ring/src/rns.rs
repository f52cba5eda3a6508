//! RNS bases: CRT decomposition and composition, and conversion of residues between bases.
//!
//! A basis q_0..q_{k-1} of pairwise coprime word-size moduli represents integers mod Q = prod q_i by
//! their residues. Fast base conversion (Bajard, Eynard, Hasan, Zucca, "A full RNS variant of FV like
//! somewhat homomorphic encryption schemes", SAC 2016, sec. 3.1) maps the residues of x mod Q to those
//! of x + alpha Q mod each p_j, with 0 <= alpha < k; the exact variant (Halevi, Polyakov, Shoup, "An
//! improved RNS variant of the BFV homomorphic encryption scheme", eprint 2018/117, sec. 2.2)
//! estimates alpha and removes it, here with a 64-bit fixed-point sum instead of floating point.
//! Polynomials are limb-major: limb i of a polynomial of n coefficients is `slice[i * n..(i + 1) * n]`.

use crate::error::{Error, Result};
use crate::kernels;
use crate::zq::Modulus;
use num_bigint::{BigInt, BigUint, Sign};
use rayon::prelude::*;

/// Largest number of moduli in a basis.
pub const MAX_BASIS_LEN: usize = 64;

/// Products of two values < 2^62 summed in a u128 before a reduction: the running sum is < 2^62 and
/// 2^62 + 16 (2^62 - 1)^2 < 2^128.
const LAZY_TERMS: usize = 16;
/// Coefficients per task in the polynomial conversions.
const BLOCK: usize = 1024;
/// Polynomial operations on at least this many input words run in parallel.
const PAR_THRESHOLD: usize = 1 << 15;

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// x mod m for a big x.
fn big_mod(x: &BigUint, m: u64) -> u64 {
    (x % m).iter_u64_digits().next().unwrap_or(0)
}

fn check_len(what: &'static str, len: usize, per_limb: usize, limbs: usize) -> Result<()> {
    match per_limb.checked_mul(limbs) {
        Some(expected) if expected == len => Ok(()),
        expected => Err(Error::Mismatch {
            what,
            left: len,
            right: expected.unwrap_or(usize::MAX),
        }),
    }
}

/// A basis of k distinct, pairwise coprime moduli q_i < 2^62 (1 <= k <= 64) with the CRT constants
/// of Q = prod q_i: Q / q_i and (Q / q_i)^-1 mod q_i.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RnsBasis {
    moduli: Vec<Modulus>,
    product: BigUint,
    /// floor(Q / 2), the largest centered representative.
    half: BigUint,
    bits: u32,
    /// Q / q_i.
    q_star: Vec<BigUint>,
    /// (Q / q_i)^-1 mod q_i and its Shoup companion.
    q_star_inv: Vec<u64>,
    q_star_inv_shoup: Vec<u64>,
}

impl RnsBasis {
    /// A basis of the given moduli, in that order: non-empty, at most [`MAX_BASIS_LEN`], each a valid
    /// [`Modulus`], pairwise coprime.
    pub fn new(moduli: &[u64]) -> Result<Self> {
        let invalid = |reason| Err(Error::InvalidBasis { reason });
        if moduli.is_empty() || moduli.len() > MAX_BASIS_LEN {
            return invalid("need 1 to 64 moduli");
        }
        let moduli = moduli
            .iter()
            .map(|&q| Modulus::new(q))
            .collect::<Result<Vec<_>>>()?;
        for (i, a) in moduli.iter().enumerate() {
            for b in &moduli[i + 1..] {
                if gcd(a.value(), b.value()) != 1 {
                    return invalid("repeated or not pairwise coprime moduli");
                }
            }
        }
        let product: BigUint = moduli.iter().map(|q| BigUint::from(q.value())).product();
        let q_star: Vec<BigUint> = moduli.iter().map(|q| &product / q.value()).collect();
        let (mut q_star_inv, mut q_star_inv_shoup) = (Vec::new(), Vec::new());
        for (q, s) in moduli.iter().zip(&q_star) {
            let Some(inv) = q.inv(big_mod(s, q.value())) else {
                return invalid("Q / q_i not invertible mod q_i");
            };
            q_star_inv.push(inv);
            q_star_inv_shoup.push(q.shoup(inv));
        }
        Ok(RnsBasis {
            half: &product >> 1u32,
            bits: product.bits() as u32,
            moduli,
            product,
            q_star,
            q_star_inv,
            q_star_inv_shoup,
        })
    }

    /// The moduli q_i.
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// The number k of moduli.
    pub fn len(&self) -> usize {
        self.moduli.len()
    }

    /// Always false: a basis has at least one modulus.
    pub fn is_empty(&self) -> bool {
        self.moduli.is_empty()
    }

    /// The product Q of the moduli.
    pub fn product(&self) -> &BigUint {
        &self.product
    }

    /// The size of Q in bits.
    pub fn modulus_bits(&self) -> u32 {
        self.bits
    }

    /// y_i = x_i (Q / q_i)^-1 mod q_i, in [0, q_i), for any x_i < 2^64.
    #[inline(always)]
    fn scaled(&self, i: usize, x: u64) -> u64 {
        self.moduli[i].mul_shoup(x, self.q_star_inv[i], self.q_star_inv_shoup[i])
    }

    /// The residues x mod q_i.
    pub fn decompose(&self, x: &BigUint) -> Vec<u64> {
        self.moduli.iter().map(|q| big_mod(x, q.value())).collect()
    }

    /// The residues x mod q_i of a signed x, each in [0, q_i).
    pub fn decompose_signed(&self, x: &BigInt) -> Vec<u64> {
        let r = self.decompose(x.magnitude());
        match x.sign() {
            Sign::Minus => r.iter().zip(&self.moduli).map(|(&r, q)| q.neg(r)).collect(),
            _ => r,
        }
    }

    /// The x in [0, Q) with x = `residues[i]` mod q_i (residues need not be reduced), as
    /// sum_i [x_i (Q/q_i)^-1]_{q_i} Q/q_i mod Q (CRT; Bajard et al., SAC 2016, sec. 2.2).
    pub fn compose(&self, residues: &[u64]) -> Result<BigUint> {
        check_len("number of residues", residues.len(), 1, self.len())?;
        let mut sum = BigUint::default();
        for (i, (&x, q_star)) in residues.iter().zip(&self.q_star).enumerate() {
            sum += q_star * self.scaled(i, x);
        }
        Ok(sum % &self.product)
    }

    /// The centered representative in (-Q/2, Q/2] of the value of `residues`.
    pub fn compose_centered(&self, residues: &[u64]) -> Result<BigInt> {
        self.compose(residues).map(|x| self.center(x))
    }

    fn center(&self, x: BigUint) -> BigInt {
        if x > self.half {
            BigInt::from(x) - BigInt::from(self.product.clone())
        } else {
            BigInt::from(x)
        }
    }

    /// The limb-major residues of the coefficients `coeffs` (k * coeffs.len() words).
    pub fn decompose_poly(&self, coeffs: &[BigUint]) -> Vec<u64> {
        let n = coeffs.len();
        let mut out = vec![0u64; n * self.len()];
        if n > 0 {
            out.par_chunks_mut(n)
                .zip(&self.moduli)
                .for_each(|(limb, q)| {
                    for (o, c) in limb.iter_mut().zip(coeffs) {
                        *o = big_mod(c, q.value());
                    }
                });
        }
        out
    }

    /// [`Self::compose`] for each of the n coefficients of a limb-major polynomial.
    pub fn compose_poly(&self, residues: &[u64], n: usize) -> Result<Vec<BigUint>> {
        check_len("limb-major length", residues.len(), n, self.len())?;
        let coefficient = |c: usize| {
            let x: Vec<u64> = (0..self.len()).map(|i| residues[i * n + c]).collect();
            self.compose(&x)
        };
        if residues.len() >= PAR_THRESHOLD {
            (0..n).into_par_iter().map(coefficient).collect()
        } else {
            (0..n).map(coefficient).collect()
        }
    }

    /// [`Self::compose_centered`] for each of the n coefficients of a limb-major polynomial.
    pub fn compose_poly_centered(&self, residues: &[u64], n: usize) -> Result<Vec<BigInt>> {
        let coeffs = self.compose_poly(residues, n)?;
        Ok(coeffs.into_iter().map(|x| self.center(x)).collect())
    }
}

/// Precomputed tables to convert residues mod Q = prod q_i (the source basis) to residues mod each
/// p_j of a target basis (Bajard et al., SAC 2016, sec. 3.1; Halevi et al., eprint 2018/117, sec. 2.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasisConverter {
    from: RnsBasis,
    to: RnsBasis,
    /// (Q / q_i) mod p_j at j * k + i.
    q_star_mod_p: Vec<u64>,
    /// -a Q mod p_j at j * (k + 1) + a, for a in 0..=k.
    neg_alpha_q: Vec<u64>,
    /// floor((2^128 - 1) / q_i): floor(y ratio / 2^64) ~ y 2^64 / q_i.
    ratio: Vec<u128>,
}

impl BasisConverter {
    /// The tables for conversions from `from` to `to` (the bases may share moduli).
    pub fn new(from: &RnsBasis, to: &RnsBasis) -> Self {
        let k = from.len();
        let mut q_star_mod_p = Vec::with_capacity(k * to.len());
        let mut neg_alpha_q = Vec::with_capacity((k + 1) * to.len());
        for p in to.moduli() {
            q_star_mod_p.extend(from.q_star.iter().map(|s| big_mod(s, p.value())));
            let q_mod_p = big_mod(&from.product, p.value());
            neg_alpha_q.extend((0..=k as u64).map(|a| p.neg(p.mul(p.reduce(a), q_mod_p))));
        }
        let ratio = from
            .moduli
            .iter()
            .map(|q| u128::MAX / u128::from(q.value()));
        BasisConverter {
            from: from.clone(),
            to: to.clone(),
            q_star_mod_p,
            neg_alpha_q,
            ratio: ratio.collect(),
        }
    }

    /// The source basis q_0..q_{k-1}.
    pub fn source(&self) -> &RnsBasis {
        &self.from
    }

    /// The target basis p_0..p_{m-1}.
    pub fn target(&self) -> &RnsBasis {
        &self.to
    }

    /// Fills `y` with y_i = x_i (Q/q_i)^-1 mod q_i; with `exact`, also returns alpha = round(sum y_i / q_i)
    /// from a 64-bit fixed-point sum (Halevi et al., eprint 2018/117, sec. 2.2), else 0.
    #[inline(always)]
    fn scale(&self, x: impl Iterator<Item = u64>, y: &mut [u64], exact: bool) -> usize {
        let mut frac = 0u128;
        for (i, (x, y)) in x.zip(y.iter_mut()).enumerate() {
            *y = self.from.scaled(i, x);
            if exact {
                // floor(y ratio / 2^64) = floor(y 2^64 / q_i) - e with e in [0, 1.5), and < 2^64.
                let (hi, lo) = (self.ratio[i] >> 64, self.ratio[i] & u128::from(u64::MAX));
                frac += u128::from(*y) * hi + ((u128::from(*y) * lo) >> 64);
            }
        }
        if exact {
            // Adding k centers the truncation error: |2^64 sum y_i / q_i - (frac + k)| <= k.
            ((frac + y.len() as u128 + (1 << 63)) >> 64) as usize
        } else {
            0
        }
    }

    /// (start + sum_i y_i [(Q/q_i) mod p_j]) mod p_j, reducing every [`LAZY_TERMS`] products.
    #[inline(always)]
    fn dot(&self, y: &[u64], j: usize, start: u64) -> u64 {
        let k = y.len();
        let p = &self.to.moduli[j];
        let row = &self.q_star_mod_p[j * k..(j + 1) * k];
        let mut acc = start;
        for (ys, ts) in y.chunks(LAZY_TERMS).zip(row.chunks(LAZY_TERMS)) {
            let s = ys.iter().zip(ts).fold(u128::from(acc), |s, (&a, &b)| {
                s + u128::from(a) * u128::from(b)
            });
            acc = p.reduce_u128(s);
        }
        acc
    }

    #[inline(always)]
    fn convert_one(
        &self,
        x: impl Iterator<Item = u64>,
        y: &mut [u64],
        exact: bool,
        mut out: impl FnMut(usize, u64),
    ) {
        let alpha = self.scale(x, y, exact);
        let k = y.len();
        for j in 0..self.to.len() {
            // alpha = 0 in the fast variant, and -0 Q = 0.
            out(j, self.dot(y, j, self.neg_alpha_q[j * (k + 1) + alpha]));
        }
    }

    fn convert(&self, input: &[u64], out: &mut [u64], exact: bool) -> Result<()> {
        check_len("number of input residues", input.len(), 1, self.from.len())?;
        check_len("number of output residues", out.len(), 1, self.to.len())?;
        let mut y = [0u64; MAX_BASIS_LEN];
        let y = &mut y[..input.len()];
        self.convert_one(input.iter().copied(), y, exact, |j, v| out[j] = v);
        Ok(())
    }

    /// FastBConv (Bajard et al., SAC 2016, sec. 3.1): from the k residues of x in [0, Q), writes
    /// (x + alpha Q) mod p_j for each target modulus p_j, with the same unknown 0 <= alpha < k for all j.
    pub fn fast_convert(&self, input: &[u64], out: &mut [u64]) -> Result<()> {
        self.convert(input, out, false)
    }

    /// Exact conversion (Halevi et al., eprint 2018/117, sec. 2.2): writes x_c mod p_j, where x_c in
    /// (-Q/2, Q/2] is the centered value of the input. The estimate of alpha is exact whenever
    /// |x_c| < (Q/2)(1 - k 2^-63); closer to +-Q/2 the output may be x_c -+ Q instead.
    pub fn exact_convert(&self, input: &[u64], out: &mut [u64]) -> Result<()> {
        self.convert(input, out, true)
    }

    /// [`Self::fast_convert`] of each of the n coefficients of a limb-major polynomial (k n words in,
    /// m n words out), in parallel for large inputs.
    pub fn convert_poly_fast(&self, input: &[u64], n: usize, out: &mut [u64]) -> Result<()> {
        self.convert_poly(input, n, out, false)
    }

    /// [`Self::exact_convert`] of each of the n coefficients of a limb-major polynomial.
    pub fn convert_poly_exact(&self, input: &[u64], n: usize, out: &mut [u64]) -> Result<()> {
        self.convert_poly(input, n, out, true)
    }

    fn convert_poly(&self, input: &[u64], n: usize, out: &mut [u64], exact: bool) -> Result<()> {
        let k = self.from.len();
        check_len("input limb-major length", input.len(), n, k)?;
        check_len("output limb-major length", out.len(), n, self.to.len())?;
        if n == 0 {
            return Ok(());
        }
        // Block b gathers coefficients b * BLOCK.. of every output limb, so blocks are disjoint.
        let mut blocks: Vec<Vec<&mut [u64]>> = (0..n.div_ceil(BLOCK)).map(|_| Vec::new()).collect();
        for limb in out.chunks_mut(n) {
            for (block, piece) in blocks.iter_mut().zip(limb.chunks_mut(BLOCK)) {
                block.push(piece);
            }
        }
        let run = |(b, limbs): (usize, Vec<&mut [u64]>)| {
            let start = b * BLOCK;
            let len = BLOCK.min(n - start);
            let source = |i: usize| input.get(i * n + start..i * n + start + len).unwrap_or(&[]);
            self.convert_block(source, len, limbs, exact)
        };
        if input.len() >= PAR_THRESHOLD {
            blocks.into_par_iter().enumerate().try_for_each(run)
        } else {
            blocks.into_iter().enumerate().try_for_each(run)
        }
    }

    /// One block of `len` coefficients, limb-major (`source(i)` is limb i's slice): the scaled
    /// residues y_i for every limb, alpha per coefficient (exact variant), then each target limb as
    /// a lazily reduced sum of scaled limbs (vector kernels where the moduli allow).
    fn convert_block<'a>(
        &self,
        source: impl Fn(usize) -> &'a [u64],
        len: usize,
        mut limbs: Vec<&mut [u64]>,
        exact: bool,
    ) -> Result<()> {
        let k = self.from.len();
        let mut y = vec![0u64; k * len];
        for (i, (yi, q)) in y.chunks_mut(len).zip(&self.from.moduli).enumerate() {
            let w = self.from.q_star_inv.get(i).copied().unwrap_or(0);
            kernels::mul_constant(q, w, source(i), yi)?;
        }
        let mut alpha = Vec::new();
        if exact {
            // sum_i y_i / q_i in 64-bit fixed point; see `scale` for the error bound.
            let mut frac = vec![0u128; len];
            for (yi, &ratio) in y.chunks(len).zip(&self.ratio) {
                let (hi, lo) = (ratio >> 64, ratio & u128::from(u64::MAX));
                for (f, &v) in frac.iter_mut().zip(yi) {
                    *f += u128::from(v) * hi + ((u128::from(v) * lo) >> 64);
                }
            }
            alpha = frac
                .iter()
                .map(|&f| ((f + k as u128 + (1 << 63)) >> 64) as usize)
                .collect();
        }
        let bits = self
            .from
            .moduli
            .iter()
            .map(Modulus::bits)
            .max()
            .unwrap_or(62);
        let ys: Vec<&[u64]> = y.chunks(len).collect();
        for (j, (limb, p)) in limbs.iter_mut().zip(&self.to.moduli).enumerate() {
            let row = self.q_star_mod_p.get(j * k..(j + 1) * k).unwrap_or(&[]);
            kernels::sum_of_scaled(p, &ys, row, bits, limb)?;
            if exact {
                let table = self
                    .neg_alpha_q
                    .get(j * (k + 1)..(j + 1) * (k + 1))
                    .unwrap_or(&[]);
                for (o, &a) in limb.iter_mut().zip(&alpha) {
                    *o = p.add(*o, table.get(a).copied().unwrap_or(0));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;
    use proptest::prelude::*;

    fn basis(bits: u32, k: usize) -> RnsBasis {
        RnsBasis::new(&ntt_primes(bits, 4096, k).unwrap()).unwrap()
    }

    fn mod_big(x: &BigInt, p: u64) -> u64 {
        let p = BigInt::from(p);
        let r = ((x % &p) + &p) % &p;
        r.magnitude().iter_u64_digits().next().unwrap_or(0)
    }

    fn params() -> impl Strategy<Value = (u32, usize, u32, usize, Vec<u8>)> {
        (
            30u32..=61,
            1usize..=6,
            30u32..=61,
            1usize..=6,
            prop::collection::vec(any::<u8>(), 48),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn crt_round_trip((bits, k, _, _, bytes) in params()) {
            let b = basis(bits, k);
            let x = BigUint::from_bytes_le(&bytes) % b.product();
            let r = b.decompose(&x);
            for (ri, q) in r.iter().zip(b.moduli()) {
                prop_assert_eq!(BigUint::from(*ri), &x % q.value());
            }
            prop_assert_eq!(&b.compose(&r).unwrap(), &x);
            let xc = b.compose_centered(&r).unwrap();
            let expected = if x > (b.product() >> 1u32) {
                BigInt::from(x.clone()) - BigInt::from(b.product().clone())
            } else {
                BigInt::from(x.clone())
            };
            prop_assert_eq!(&b.decompose_signed(&xc), &r);
            prop_assert_eq!(xc, expected);
        }

        #[test]
        fn fast_convert_adds_small_multiple((bits, k, pbits, m, bytes) in params()) {
            let (from, to) = (basis(bits, k), basis(pbits, m));
            let conv = BasisConverter::new(&from, &to);
            let x = BigUint::from_bytes_le(&bytes) % from.product();
            let mut out = vec![0u64; m];
            conv.fast_convert(&from.decompose(&x), &mut out).unwrap();
            let found = (0..k as u64).any(|a| {
                let v = &x + from.product() * a;
                to.moduli().iter().zip(&out).all(|(p, &o)| big_mod(&v, p.value()) == o)
            });
            prop_assert!(found);
        }

        #[test]
        fn exact_convert_is_centered_value((bits, k, pbits, m, bytes) in params()) {
            let (from, to) = (basis(bits, k), basis(pbits, m));
            let conv = BasisConverter::new(&from, &to);
            let x = BigUint::from_bytes_le(&bytes) % from.product();
            let mut xc = from.center(x);
            let limit = BigInt::from(from.product() >> 1u32) - BigInt::from(from.product() >> 41u32);
            if xc > limit || xc < -limit.clone() {
                xc /= 2;
            }
            for v in [xc, limit.clone(), -limit] {
                let mut out = vec![0u64; m];
                conv.exact_convert(&from.decompose_signed(&v), &mut out).unwrap();
                for (p, &o) in to.moduli().iter().zip(&out) {
                    prop_assert_eq!(o, mod_big(&v, p.value()));
                }
            }
        }
    }

    #[test]
    fn polynomial_conversions_match_single_values() {
        // 6 * 8200 words: takes the parallel path, with a partial last block. Sizes on both sides
        // of the IFMA bound (2^50), so that vector and scalar sums are both checked.
        for (from_bits, to_bits) in [(50, 40), (61, 45), (36, 60), (49, 50)] {
            check_polynomial_conversions(basis(from_bits, 6), basis(to_bits, 3));
        }
    }

    fn check_polynomial_conversions(from: RnsBasis, to: RnsBasis) {
        let conv = BasisConverter::new(&from, &to);
        let n = 8200;
        let coeffs: Vec<BigUint> = (0..n as u64)
            .map(|i| BigUint::from(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).pow(5) % from.product())
            .collect();
        let input = from.decompose_poly(&coeffs);
        assert_eq!(from.compose_poly(&input, n).unwrap(), coeffs);
        let centered = from.compose_poly_centered(&input, n).unwrap();
        let (mut fast, mut exact) = (vec![0u64; 3 * n], vec![0u64; 3 * n]);
        conv.convert_poly_fast(&input, n, &mut fast).unwrap();
        conv.convert_poly_exact(&input, n, &mut exact).unwrap();
        for (c, xc) in centered.iter().enumerate() {
            let x: Vec<u64> = (0..6).map(|i| input[i * n + c]).collect();
            let mut one = [0u64; 3];
            conv.fast_convert(&x, &mut one).unwrap();
            assert!((0..3).all(|j| fast[j * n + c] == one[j]));
            assert!((0..3).all(|j| exact[j * n + c] == mod_big(xc, to.moduli()[j].value())));
        }
    }

    #[test]
    fn wide_bases_reduce_lazily() {
        // 40 moduli of 62 bits: the u128 sums are reduced every LAZY_TERMS products.
        let (from, to) = (basis(62, 40), RnsBasis::new(&[(1 << 62) - 57, 3]).unwrap());
        let conv = BasisConverter::new(&from, &to);
        // x = -sum_i Q/q_i mod Q has every y_i = q_i - 1, the largest products.
        let worst = from.product() - from.q_star.iter().sum::<BigUint>() % from.product();
        let random = (1..20u64).map(|s| BigUint::from(0xdead_beef * s).pow(80) % from.product());
        for x in random.chain([worst]) {
            let (mut fast, mut exact) = ([0u64; 2], [0u64; 2]);
            conv.fast_convert(&from.decompose(&x), &mut fast).unwrap();
            conv.exact_convert(&from.decompose(&x), &mut exact).unwrap();
            let y = (0..40).map(|i| from.scaled(i, from.decompose(&x)[i]));
            let v: BigUint = y.zip(&from.q_star).map(|(y, s)| s * y).sum();
            let xc = from.center(x);
            for (j, p) in to.moduli().iter().enumerate() {
                assert_eq!(fast[j], big_mod(&v, p.value()));
                assert_eq!(exact[j], mod_big(&xc, p.value()));
            }
        }
    }

    #[test]
    fn rejects_bad_bases_and_lengths() {
        let bad: [&[u64]; 6] = [&[], &[6, 9], &[7, 7], &[1], &[1 << 62], &[3; 65]];
        for moduli in bad {
            assert!(RnsBasis::new(moduli).is_err(), "{moduli:?}");
        }
        assert!(matches!(
            RnsBasis::new(&[6, 9]),
            Err(Error::InvalidBasis { .. })
        ));
        let b = RnsBasis::new(&[6, 35, 11]).unwrap();
        assert_eq!((b.len(), b.modulus_bits()), (3, 12));
        assert_eq!(b.product(), &BigUint::from(2310u32));
        assert!(matches!(b.compose(&[1, 2]), Err(Error::Mismatch { .. })));
        assert!(b.compose_poly(&[0; 7], 2).is_err());
        let conv = BasisConverter::new(&b, &basis(30, 2));
        let mut out = [0u64; 2];
        assert!(conv.fast_convert(&[1, 2], &mut out).is_err());
        assert!(conv.exact_convert(&[1, 2, 3], &mut out[..1]).is_err());
        assert!(conv.convert_poly_fast(&[0; 6], 3, &mut [0; 4]).is_err());
        let huge = conv.convert_poly_exact(&[0; 6], usize::MAX, &mut [0; 4]);
        assert!(matches!(huge, Err(Error::Mismatch { .. })));
        assert!(conv.convert_poly_exact(&[], 0, &mut []).is_ok());
    }
}
