//! AVX-512 F/DQ kernels with 64-bit lanes, for any q < 2^62: Shoup's multiplication with
//! beta = 2^64, whose high product is emulated with four 32x32-bit products; and the
//! additions and subtractions mod q, which need no products.

use core::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_mul_epu32, _mm512_mullo_epi64,
    _mm512_srli_epi64, _mm512_sub_epi64,
};

use super::{Avx512Cpu, load, reduce_once, splat, store};

/// floor(a b / 2^64) per lane, from the four 32x32-bit partial products.
#[inline]
#[target_feature(enable = "avx512f")]
fn mul_hi(a: __m512i, b: __m512i) -> __m512i {
    let mask = splat(u64::from(u32::MAX));
    let (a_hi, b_hi) = (_mm512_srli_epi64::<32>(a), _mm512_srli_epi64::<32>(b));
    let ll = _mm512_mul_epu32(a, b);
    let lh = _mm512_mul_epu32(a, b_hi);
    let hl = _mm512_mul_epu32(a_hi, b);
    let hh = _mm512_mul_epu32(a_hi, b_hi);
    // Middle column: below 3 2^32, so its carry is at most 2.
    let mid = _mm512_add_epi64(
        _mm512_add_epi64(_mm512_srli_epi64::<32>(ll), _mm512_and_si512(lh, mask)),
        _mm512_and_si512(hl, mask),
    );
    _mm512_add_epi64(
        _mm512_add_epi64(hh, _mm512_srli_epi64::<32>(lh)),
        _mm512_add_epi64(_mm512_srli_epi64::<32>(hl), _mm512_srli_epi64::<32>(mid)),
    )
}

/// y w mod q in [0, 2q) for any y, w < q < 2^63, w' = floor(w 2^64 / q) (Harvey 2014, Alg. 2).
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
fn shoup(y: __m512i, w: __m512i, w_shoup: __m512i, q: __m512i) -> __m512i {
    let quotient = mul_hi(y, w_shoup);
    _mm512_sub_epi64(_mm512_mullo_epi64(y, w), _mm512_mullo_epi64(quotient, q))
}

super::ntt_driver!(super::Avx512Cpu, "avx512f,avx512dq", shoup);

/// a = (a + b) mod q, or (a - b) mod q with `SUB`, element-wise for a, b < q < 2^63 (whole
/// chunks of eight).
pub(crate) fn add_sub_assign<const SUB: bool>(_: Avx512Cpu, q: u64, a: &mut [u64], b: &[u64]) {
    // SAFETY: the token proves that the CPU has AVX-512 F.
    unsafe { add_sub_assign_kernel::<SUB>(q, a, b) }
}

/// out = (a + b) mod q, or (a - b) mod q with `SUB`, element-wise (whole chunks of eight).
pub(crate) fn add_sub<const SUB: bool>(
    _: Avx512Cpu,
    q: u64,
    a: &[u64],
    b: &[u64],
    out: &mut [u64],
) {
    // SAFETY: the token proves that the CPU has AVX-512 F.
    unsafe { add_sub_kernel::<SUB>(q, a, b, out) }
}

/// x + y or x - y mod q in [0, q) for x, y < q.
#[inline]
#[target_feature(enable = "avx512f")]
fn add_sub_one<const SUB: bool>(x: __m512i, y: __m512i, vq: __m512i) -> __m512i {
    let r = if SUB {
        _mm512_sub_epi64(_mm512_add_epi64(x, vq), y)
    } else {
        _mm512_add_epi64(x, y)
    };
    reduce_once(r, vq)
}

#[target_feature(enable = "avx512f")]
fn add_sub_assign_kernel<const SUB: bool>(q: u64, a: &mut [u64], b: &[u64]) {
    let vq = splat(q);
    for (x, y) in a
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(b.as_chunks::<8>().0)
    {
        store(x, add_sub_one::<SUB>(load(x), load(y), vq));
    }
}

#[target_feature(enable = "avx512f")]
fn add_sub_kernel<const SUB: bool>(q: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    let vq = splat(q);
    for ((o, x), y) in out
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(a.as_chunks::<8>().0)
        .zip(b.as_chunks::<8>().0)
    {
        store(o, add_sub_one::<SUB>(load(x), load(y), vq));
    }
}
