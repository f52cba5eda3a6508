//! AVX-512 IFMA52 kernels for q < 2^50: eight exact 52x52-bit products per instruction
//! (`vpmadd52luq` / `vpmadd52huq`), Shoup's multiplication with beta = 2^52.

use core::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_madd52hi_epu64, _mm512_madd52lo_epu64,
    _mm512_setzero_si512, _mm512_srli_epi64, _mm512_sub_epi64,
};

use super::{IfmaCpu, load, reduce_once, splat, store};

const MASK52: u64 = (1 << 52) - 1;
const BETA: u128 = 1 << 52;

/// y w mod q in [0, 2q) for y < 2^52, w < q < 2^50, w' = floor(w 2^52 / q) (Harvey 2014, Alg. 2
/// with beta = 2^52): the estimate floor(y w' / 2^52) of the quotient is short by at most one.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn shoup(y: __m512i, w: __m512i, w_shoup: __m512i, q: __m512i) -> __m512i {
    let z = _mm512_setzero_si512();
    let quotient = _mm512_madd52hi_epu64(z, y, w_shoup);
    let yw = _mm512_madd52lo_epu64(z, y, w);
    let qq = _mm512_madd52lo_epu64(z, quotient, q);
    // The true y w - quotient q is in [0, 2q), below 2^52: the low 52 bits determine it.
    _mm512_and_si512(_mm512_sub_epi64(yw, qq), splat(MASK52))
}

super::ntt_driver!(super::IfmaCpu, "avx512f,avx512dq,avx512ifma", shoup);

/// floor(w 2^52 / q): the Shoup companion of w for these kernels.
pub(crate) fn shoup_companion(w: u64, q: u64) -> u64 {
    ((u128::from(w) * BETA) / u128::from(q)) as u64
}

/// Constants that reduce hi 2^52 + lo mod q: 2^52 mod q and the companions of it and of 1.
#[derive(Clone, Copy)]
struct Fold {
    q: u64,
    beta_mod: u64,
    beta_shoup: u64,
    one_shoup: u64,
}

impl Fold {
    fn new(q: u64) -> Self {
        let beta_mod = (BETA % u128::from(q)) as u64;
        Fold {
            q,
            beta_mod,
            beta_shoup: shoup_companion(beta_mod, q),
            one_shoup: shoup_companion(1, q),
        }
    }

    /// (hi 2^52 + lo) mod q in [0, q), for hi, lo < 2^52.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn reduce(&self, hi: __m512i, lo: __m512i) -> __m512i {
        let vq = splat(self.q);
        let a = shoup(hi, splat(self.beta_mod), splat(self.beta_shoup), vq);
        let b = shoup(lo, splat(1), splat(self.one_shoup), vq);
        reduce_once(reduce_once(_mm512_add_epi64(a, b), splat(2 * self.q)), vq)
    }
}

/// out = a b mod q element-wise, for a, b < q < 2^50 (all slices of one length, a multiple of 8;
/// the caller handles any tail).
pub(crate) fn mul(_: IfmaCpu, q: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    // SAFETY: the token proves that the CPU has AVX-512 F and IFMA52.
    unsafe { mul_kernel(q, a, b, out) }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn mul_kernel(q: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    let fold = Fold::new(q);
    let z = _mm512_setzero_si512();
    for ((o, x), y) in out
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(a.as_chunks::<8>().0)
        .zip(b.as_chunks::<8>().0)
    {
        let (x, y) = (load(x), load(y));
        // x y < 2^100 = hi 2^52 + lo with hi < 2^48.
        let hi = _mm512_madd52hi_epu64(z, x, y);
        let lo = _mm512_madd52lo_epu64(z, x, y);
        store(o, fold.reduce(hi, lo));
    }
}

/// a = a b mod q element-wise (as [`mul`], in place).
pub(crate) fn mul_assign(_: IfmaCpu, q: u64, a: &mut [u64], b: &[u64]) {
    // SAFETY: the token proves that the CPU has AVX-512 F and IFMA52.
    unsafe { mul_assign_kernel(q, a, b) }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn mul_assign_kernel(q: u64, a: &mut [u64], b: &[u64]) {
    let fold = Fold::new(q);
    let z = _mm512_setzero_si512();
    for (x, y) in a
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(b.as_chunks::<8>().0)
    {
        let (xv, yv) = (load(x), load(y));
        let hi = _mm512_madd52hi_epu64(z, xv, yv);
        let lo = _mm512_madd52lo_epu64(z, xv, yv);
        store(x, fold.reduce(hi, lo));
    }
}

/// hi 2^52 + lo += x y element-wise, for x, y < 2^50: each product adds below 2^52 to `lo` and
/// below 2^48 to `hi`, so fifteen products fit before [`fold`] must run.
pub(crate) fn accumulate(_: IfmaCpu, lo: &mut [u64], hi: &mut [u64], x: &[u64], y: &[u64]) {
    // SAFETY: the token proves that the CPU has AVX-512 F and IFMA52.
    unsafe { accumulate_kernel(lo, hi, x, y) }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn accumulate_kernel(lo: &mut [u64], hi: &mut [u64], x: &[u64], y: &[u64]) {
    for (((l, h), xv), yv) in lo
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(hi.as_chunks_mut::<8>().0)
        .zip(x.as_chunks::<8>().0)
        .zip(y.as_chunks::<8>().0)
    {
        let (xv, yv) = (load(xv), load(yv));
        store(l, _mm512_madd52lo_epu64(load(l), xv, yv));
        store(h, _mm512_madd52hi_epu64(load(h), xv, yv));
    }
}

/// out = (hi 2^52 + lo) mod q, for sums of at most fifteen products from [`accumulate`].
pub(crate) fn fold(_: IfmaCpu, q: u64, lo: &[u64], hi: &[u64], out: &mut [u64]) {
    // SAFETY: the token proves that the CPU has AVX-512 F and IFMA52.
    unsafe { fold_kernel(q, lo, hi, out) }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn fold_kernel(q: u64, lo: &[u64], hi: &[u64], out: &mut [u64]) {
    let fold = Fold::new(q);
    let mask = splat(MASK52);
    for ((o, l), h) in out
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(lo.as_chunks::<8>().0)
        .zip(hi.as_chunks::<8>().0)
    {
        let (l, h) = (load(l), load(h));
        // lo < 15 2^52: move its carry into hi (< 15 2^48 + 15 < 2^52).
        let h = _mm512_add_epi64(h, _mm512_srli_epi64::<52>(l));
        store(o, fold.reduce(h, _mm512_and_si512(l, mask)));
    }
}
