//! AVX2 kernels with four 64-bit lanes, for q < 2^61 (`Isa::for_modulus`; 4q must stay below 2^63): Shoup's multiplication with beta = 2^64, its
//! high and low 64-bit products emulated with 32x32-bit ones (AVX2 has neither), and conditional
//! subtractions by signed comparison (lazy values stay below 4q < 2^63).
//!
//! The NTT follows the same butterflies as the scalar one. Stages whose butterflies are four or
//! more words apart broadcast one root per block; the last two forward stages (first two inverse
//! ones) mix lanes of two registers: half-width 2 by exchanging 128-bit halves, half-width 1 by
//! unpacking even and odd words, with roots pre-expanded in that lane order.

use core::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_and_si256, _mm256_cmpgt_epi64, _mm256_loadu_si256,
    _mm256_mul_epu32, _mm256_permute2x128_si256, _mm256_set1_epi64x, _mm256_setzero_si256,
    _mm256_slli_epi64, _mm256_srli_epi64, _mm256_storeu_si256, _mm256_sub_epi64,
    _mm256_unpackhi_epi64, _mm256_unpacklo_epi64,
};

use crate::isa::Isa;

/// Proof that this CPU has AVX2.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2Cpu(());

impl Avx2Cpu {
    pub(crate) fn detect() -> Option<Self> {
        Isa::Avx2.is_supported().then_some(Avx2Cpu(()))
    }
}

/// Roots of the last two forward (first two inverse) stages in the lane order of the kernels,
/// with Shoup companions: for half-width 2, group g of 8 words uses roots m + 2g, m + 2g, m + 2g + 1,
/// m + 2g + 1; for half-width 1, group g uses m + 4g + (0, 2, 1, 3); m = n / (2 t).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Avx2Tables {
    fwd: [(Vec<u64>, Vec<u64>); 2],
    inv: [(Vec<u64>, Vec<u64>); 2],
    fwd_shoup: Vec<u64>,
    inv_shoup: Vec<u64>,
}

impl Avx2Tables {
    pub(crate) fn new(psi: &[u64], psi_inv: &[u64], shoup: impl Fn(u64) -> u64) -> Self {
        let n = psi.len();
        let expand = |roots: &[u64], t: usize| -> (Vec<u64>, Vec<u64>) {
            let m = n / (2 * t);
            let w: Vec<u64> = (0..n / 2)
                .map(|i| {
                    let (g, l) = (i / 4, i % 4);
                    let idx = if t == 2 {
                        m + 2 * g + l / 2
                    } else {
                        m + 4 * g + [0, 2, 1, 3][l]
                    };
                    roots.get(idx).copied().unwrap_or(0)
                })
                .collect();
            let ws = w.iter().map(|&x| shoup(x)).collect();
            (w, ws)
        };
        Avx2Tables {
            fwd: [expand(psi, 2), expand(psi, 1)],
            inv: [expand(psi_inv, 1), expand(psi_inv, 2)],
            fwd_shoup: psi.iter().map(|&w| shoup(w)).collect(),
            inv_shoup: psi_inv.iter().map(|&w| shoup(w)).collect(),
        }
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn load(src: &[u64; 4]) -> __m256i {
    // SAFETY: `src` is 32 readable bytes; the load has no alignment requirement.
    unsafe { _mm256_loadu_si256(src.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn store(dst: &mut [u64; 4], v: __m256i) {
    // SAFETY: `dst` is 32 writable bytes that nothing else borrows; no alignment requirement.
    unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), v) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn splat(x: u64) -> __m256i {
    _mm256_set1_epi64x(x as i64)
}

/// x - c if x >= c, else x, for x, c < 2^63.
#[inline]
#[target_feature(enable = "avx2")]
fn reduce_once(x: __m256i, c: __m256i) -> __m256i {
    let d = _mm256_sub_epi64(x, c);
    let negative = _mm256_cmpgt_epi64(_mm256_setzero_si256(), d);
    _mm256_add_epi64(d, _mm256_and_si256(negative, c))
}

/// floor(a b / 2^64) per lane, from the four 32x32-bit partial products.
#[inline]
#[target_feature(enable = "avx2")]
fn mul_hi(a: __m256i, b: __m256i) -> __m256i {
    let mask = splat(u64::from(u32::MAX));
    let (a_hi, b_hi) = (_mm256_srli_epi64::<32>(a), _mm256_srli_epi64::<32>(b));
    let ll = _mm256_mul_epu32(a, b);
    let lh = _mm256_mul_epu32(a, b_hi);
    let hl = _mm256_mul_epu32(a_hi, b);
    let hh = _mm256_mul_epu32(a_hi, b_hi);
    let mid = _mm256_add_epi64(
        _mm256_add_epi64(_mm256_srli_epi64::<32>(ll), _mm256_and_si256(lh, mask)),
        _mm256_and_si256(hl, mask),
    );
    _mm256_add_epi64(
        _mm256_add_epi64(hh, _mm256_srli_epi64::<32>(lh)),
        _mm256_add_epi64(_mm256_srli_epi64::<32>(hl), _mm256_srli_epi64::<32>(mid)),
    )
}

/// a b mod 2^64 per lane, from three 32x32-bit products.
#[inline]
#[target_feature(enable = "avx2")]
fn mul_lo(a: __m256i, b: __m256i) -> __m256i {
    let cross = _mm256_add_epi64(
        _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), b),
        _mm256_mul_epu32(a, _mm256_srli_epi64::<32>(b)),
    );
    _mm256_add_epi64(_mm256_mul_epu32(a, b), _mm256_slli_epi64::<32>(cross))
}

/// y w mod q in [0, 2q) for y < 2^64, w < q, w' = floor(w 2^64 / q) (Harvey 2014, Alg. 2).
#[inline]
#[target_feature(enable = "avx2")]
fn shoup(y: __m256i, w: __m256i, w_shoup: __m256i, q: __m256i) -> __m256i {
    let quotient = mul_hi(y, w_shoup);
    _mm256_sub_epi64(mul_lo(y, w), mul_lo(quotient, q))
}

/// In-place forward NTT, output in [0, q) in bit-reversed order (as the scalar one), q < 2^61.
pub(crate) fn forward(_: Avx2Cpu, a: &mut [u64], q: u64, roots: &[u64], t: &Avx2Tables) {
    // SAFETY: the token proves that the CPU has AVX2.
    unsafe { forward_kernel(a, q, roots, t) }
}

/// In-place inverse NTT (input in bit-reversed order, < q), output in [0, q), q < 2^61.
pub(crate) fn inverse(
    _: Avx2Cpu,
    a: &mut [u64],
    q: u64,
    roots: &[u64],
    t: &Avx2Tables,
    n_inv: (u64, u64),
) {
    // SAFETY: the token proves that the CPU has AVX2.
    unsafe { inverse_kernel(a, q, roots, t, n_inv) }
}

/// The two registers of lanes 0..4 and 4..8 of a group, split into (x, y) operands for
/// half-width `t` (2 or 1), and back.
#[inline]
#[target_feature(enable = "avx2")]
fn split(v0: __m256i, v1: __m256i, t: usize) -> (__m256i, __m256i) {
    if t == 2 {
        (
            _mm256_permute2x128_si256::<0x20>(v0, v1),
            _mm256_permute2x128_si256::<0x31>(v0, v1),
        )
    } else {
        (_mm256_unpacklo_epi64(v0, v1), _mm256_unpackhi_epi64(v0, v1))
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn join(x: __m256i, y: __m256i, t: usize) -> (__m256i, __m256i) {
    // Both splits are their own inverse with (x, y) in place of (v0, v1).
    split(x, y, t)
}

#[target_feature(enable = "avx2")]
fn forward_kernel(a: &mut [u64], q: u64, roots: &[u64], t: &Avx2Tables) {
    let n = a.len();
    let (mut m, mut half) = (1usize, n / 2);
    while half >= 4 {
        let ws = roots.get(m..2 * m).unwrap_or(&[]);
        let wss = t.fwd_shoup.get(m..2 * m).unwrap_or(&[]);
        wide_stage::<true>(a, half, ws, wss, q);
        m <<= 1;
        half >>= 1;
    }
    for (stage, (ws, wss)) in t.fwd.iter().enumerate() {
        // Half-width 2, then 1; the last stage also reduces to [0, q).
        small_stage::<true>(a, ws, wss, 2 - stage, stage == 1, q);
    }
}

/// One butterfly on four lanes: Cooley-Tukey with `FORWARD` (X, Y in [0, 4q) -> X + WY, X - WY in
/// [0, 4q)), else Gentleman-Sande (X, Y in [0, 2q) -> X + Y, (X - Y) W in [0, 2q)).
#[inline]
#[target_feature(enable = "avx2")]
fn butterfly<const FORWARD: bool>(
    x: __m256i,
    y: __m256i,
    w: __m256i,
    w_shoup: __m256i,
    vq: __m256i,
) -> (__m256i, __m256i) {
    let v2q = _mm256_add_epi64(vq, vq);
    if FORWARD {
        let x = reduce_once(x, v2q);
        let t = shoup(y, w, w_shoup, vq);
        (
            _mm256_add_epi64(x, t),
            _mm256_sub_epi64(_mm256_add_epi64(x, v2q), t),
        )
    } else {
        let d = _mm256_sub_epi64(_mm256_add_epi64(x, v2q), y);
        (
            reduce_once(_mm256_add_epi64(x, y), v2q),
            shoup(d, w, w_shoup, vq),
        )
    }
}

/// One stage whose butterflies are `half` >= 4 words apart, one root per block.
#[inline]
#[target_feature(enable = "avx2")]
fn wide_stage<const FORWARD: bool>(a: &mut [u64], half: usize, ws: &[u64], wss: &[u64], q: u64) {
    let vq = splat(q);
    for (block, (&w, &w_shoup)) in a.chunks_exact_mut(2 * half).zip(ws.iter().zip(wss)) {
        let (w, w_shoup) = (splat(w), splat(w_shoup));
        let (lo, hi) = block.split_at_mut(half);
        for (x, y) in lo
            .as_chunks_mut::<4>()
            .0
            .iter_mut()
            .zip(hi.as_chunks_mut::<4>().0)
        {
            let (x2, y2) = butterfly::<FORWARD>(load(x), load(y), w, w_shoup, vq);
            store(x, x2);
            store(y, y2);
        }
    }
}

/// One of the in-register stages over groups of eight words: Cooley-Tukey (`FORWARD`) or
/// Gentleman-Sande butterflies of half-width `width` (2 or 1), roots expanded per lane.
#[inline]
#[target_feature(enable = "avx2")]
fn small_stage<const FORWARD: bool>(
    a: &mut [u64],
    ws: &[u64],
    wss: &[u64],
    width: usize,
    last: bool,
    q: u64,
) {
    let (vq, v2q) = (splat(q), splat(2 * q));
    for ((pair, w), w_shoup) in a
        .as_chunks_mut::<4>()
        .0
        .chunks_exact_mut(2)
        .zip(ws.as_chunks::<4>().0)
        .zip(wss.as_chunks::<4>().0)
    {
        let [g0, g1] = pair else { continue };
        let (xv, yv) = split(load(g0), load(g1), width);
        let (mut x2, mut y2) = butterfly::<FORWARD>(xv, yv, load(w), load(w_shoup), vq);
        if last {
            x2 = reduce_once(reduce_once(x2, v2q), vq);
            y2 = reduce_once(reduce_once(y2, v2q), vq);
        }
        let (o0, o1) = join(x2, y2, width);
        store(g0, o0);
        store(g1, o1);
    }
}

#[target_feature(enable = "avx2")]
fn inverse_kernel(a: &mut [u64], q: u64, roots: &[u64], t: &Avx2Tables, n_inv: (u64, u64)) {
    let n = a.len();
    let vq = splat(q);
    for (stage, (ws, wss)) in t.inv.iter().enumerate() {
        small_stage::<false>(a, ws, wss, stage + 1, false, q); // half-width 1, then 2
    }
    let mut half = 4usize;
    while half < n {
        let m = n / (2 * half);
        let ws = roots.get(m..2 * m).unwrap_or(&[]);
        let wss = t.inv_shoup.get(m..2 * m).unwrap_or(&[]);
        wide_stage::<false>(a, half, ws, wss, q);
        half <<= 1;
    }
    let (ni, ni_shoup) = (splat(n_inv.0), splat(n_inv.1));
    for x in a.as_chunks_mut::<4>().0 {
        store(x, reduce_once(shoup(load(x), ni, ni_shoup, vq), vq));
    }
}
