//! AVX-512 IFMA52 kernels for q < 2^50: eight exact 52x52-bit products per instruction
//! (`vpmadd52luq` / `vpmadd52huq`), Shoup's multiplication with beta = 2^52.

use core::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_madd52hi_epu64, _mm512_madd52lo_epu64,
    _mm512_setzero_si512, _mm512_srli_epi64, _mm512_sub_epi64,
};

use super::{IfmaCpu, load, reduce_once, splat, store};
use crate::kernels::Factors;

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

/// out = x w mod q element-wise for a constant w < q < 2^50 and x < 2^52 (Shoup, beta = 2^52).
pub(crate) fn mul_constant(_: IfmaCpu, q: u64, w: u64, x: &[u64], out: &mut [u64]) {
    // SAFETY: the token proves that the CPU has AVX-512 F and IFMA52.
    unsafe { mul_constant_kernel(q, w, x, out) }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn mul_constant_kernel(q: u64, w: u64, x: &[u64], out: &mut [u64]) {
    let (vq, vw, vws) = (splat(q), splat(w), splat(shoup_companion(w, q)));
    for (o, xv) in out
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(x.as_chunks::<8>().0)
    {
        store(o, reduce_once(shoup(load(xv), vw, vws, vq), vq));
    }
}

/// Products summed in one pair of 52-bit accumulators before a fold: each adds below 2^52 to the
/// low word and below 2^48 to the high one, so fifteen (plus one folded value) stay below 2^52
/// in the high word after the low word's carry moves into it.
const PRODUCTS_PER_FOLD: usize = 15;

/// out = sum_i x_i f_i mod q element-wise (f_i a vector or a constant), for x_i, f_i < 2^50 and
/// q < 2^50 (whole chunks of eight): the products stay in registers, with one reduction per
/// fifteen terms.
pub(crate) fn lazy_sum(_: IfmaCpu, q: u64, xs: &[&[u64]], ys: Factors<'_>, out: &mut [u64]) {
    // SAFETY: the token proves that the CPU has AVX-512 F and IFMA52.
    unsafe { sum_kernel(q, xs, ys, out) }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn sum_kernel(q: u64, xs: &[&[u64]], ys: Factors<'_>, out: &mut [u64]) {
    let fold = Fold::new(q);
    let z = _mm512_setzero_si512();
    let mask = splat(MASK52);
    let xs: Vec<&[[u64; 8]]> = xs.iter().map(|x| x.as_chunks::<8>().0).collect();
    let vectors: Vec<&[[u64; 8]]> = match ys {
        Factors::Vectors(ys) => ys.iter().map(|y| y.as_chunks::<8>().0).collect(),
        Factors::Constants(_) => Vec::new(),
    };
    let constants: Vec<__m512i> = match ys {
        Factors::Constants(cs) => cs.iter().map(|&c| splat(c)).collect(),
        Factors::Vectors(_) => Vec::new(),
    };
    for (c, o) in out.as_chunks_mut::<8>().0.iter_mut().enumerate() {
        let (mut lo, mut hi) = (z, z);
        for (t, x) in xs.iter().enumerate() {
            if t > 0 && t % PRODUCTS_PER_FOLD == 0 {
                // Move lo's carry into hi, reduce, and restart from the reduced value.
                let h = _mm512_add_epi64(hi, _mm512_srli_epi64::<52>(lo));
                lo = fold.reduce(h, _mm512_and_si512(lo, mask));
                hi = z;
            }
            let Some(xv) = x.get(c) else { continue };
            let yv = match ys {
                Factors::Vectors(_) => match vectors.get(t).and_then(|y| y.get(c)) {
                    Some(y) => load(y),
                    None => continue,
                },
                Factors::Constants(_) => match constants.get(t) {
                    Some(&v) => v,
                    None => continue,
                },
            };
            let xv = load(xv);
            lo = _mm512_madd52lo_epu64(lo, xv, yv);
            hi = _mm512_madd52hi_epu64(hi, xv, yv);
        }
        let h = _mm512_add_epi64(hi, _mm512_srli_epi64::<52>(lo));
        store(o, fold.reduce(h, _mm512_and_si512(lo, mask)));
    }
}

/// out = round(X / p) mod q for the integer X with residues x mod q and x_p mod p (q, p < 2^50),
/// given p_inv = p^-1 mod q: u = (x_p + p/2) mod p, then (x + p/2 - u) p^-1 mod q, exactly as the
/// scalar reference does.
pub(crate) fn divide_round(
    _: IfmaCpu,
    (q, p, p_inv): (u64, u64, u64),
    x: &[u64],
    x_p: &[u64],
    out: &mut [u64],
) {
    // SAFETY: the token proves that the CPU has AVX-512 F and IFMA52.
    unsafe { divide_round_kernel(q, p, p_inv, x, x_p, out) }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn divide_round_kernel(q: u64, p: u64, p_inv: u64, x: &[u64], x_p: &[u64], out: &mut [u64]) {
    let half = p / 2;
    let (vq, vp, vhalf) = (splat(q), splat(p), splat(half));
    let (vhalf_q, vq_plus) = (splat(half % q), splat(q));
    let (w, ws) = (splat(p_inv), splat(shoup_companion(p_inv, q)));
    let (one, one_s) = (splat(1), splat(shoup_companion(1, q)));
    for ((o, xv), lv) in out
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(x.as_chunks::<8>().0)
        .zip(x_p.as_chunks::<8>().0)
    {
        let u = reduce_once(_mm512_add_epi64(load(lv), vhalf), vp);
        // u < p < 2^50: Shoup's multiplication by 1 reduces it mod q whatever the sizes.
        let u_mod = reduce_once(shoup(u, one, one_s, vq), vq);
        let v = _mm512_sub_epi64(
            _mm512_add_epi64(_mm512_add_epi64(load(xv), vhalf_q), vq_plus),
            u_mod,
        );
        store(o, reduce_once(shoup(v, w, ws, vq), vq));
    }
}
