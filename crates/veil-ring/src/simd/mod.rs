//! x86-64 vector kernels (AVX-512, with or without IFMA52): the only `unsafe` code of the crate.
//!
//! The kernels are compiled with `#[target_feature]`. The rest of the crate reaches them only
//! through safe wrappers that take a `Cpu` token of their back-end, which exists only once CPUID
//! said yes ([`Isa::is_supported`]): that is the obligation behind each call. The only other
//! unsafe operations are unaligned loads and stores of exactly eight (or sixteen) words from
//! references to arrays of that length, in [`load`] and friends.
//!
//! Two back-ends share one NTT driver ([`ntt_driver!`]): they differ only in the lazy Shoup product
//! (Harvey 2014, Alg. 2) that the butterflies use:
//! - `ifma`: beta = 2^52, three IFMA instructions, for q < 2^50 (values up to 4q fit 52 bits);
//! - `avx512`: beta = 2^64, the high 64-bit product emulated with four 32x32-bit products.

#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m512i, _mm512_loadu_si512, _mm512_min_epu64, _mm512_permutex2var_epi64, _mm512_set1_epi64,
    _mm512_storeu_si512, _mm512_sub_epi64,
};

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod ifma;

use crate::isa::Isa;

/// Proof that this CPU has AVX-512 F and DQ.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512Cpu(());

impl Avx512Cpu {
    pub(crate) fn detect() -> Option<Self> {
        Isa::Avx512.is_supported().then_some(Avx512Cpu(()))
    }
}

/// Proof that this CPU has AVX-512 F, DQ and IFMA52.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IfmaCpu(());

impl IfmaCpu {
    pub(crate) fn detect() -> Option<Self> {
        Isa::Avx512Ifma.is_supported().then_some(IfmaCpu(()))
    }
}

/// Butterfly tables of one prime laid out for eight-lane kernels.
///
/// Stages whose butterflies are at least eight words apart broadcast one root per block; the last
/// three forward stages (and first three inverse ones), whose butterflies mix lanes of one vector,
/// read roots already expanded to one per lane: for half-width t in {4, 2, 1} and group g of sixteen
/// words, lane l uses root index n/(2t) + g (8/t) + l/t.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LaneTables {
    /// Shoup companions of the forward and inverse roots for this back-end's beta.
    pub(crate) fwd_shoup: Vec<u64>,
    pub(crate) inv_shoup: Vec<u64>,
    /// (roots, companions) expanded per lane for t = 4, 2, 1.
    pub(crate) fwd_small: [(Vec<u64>, Vec<u64>); 3],
    pub(crate) inv_small: [(Vec<u64>, Vec<u64>); 3],
    /// n^-1 and psi_inv[1] n^-1 with companions: the last inverse stage folds in the scaling.
    pub(crate) last: [(u64, u64); 2],
}

impl LaneTables {
    /// Tables for roots in bit-reversed order and `shoup(w)` computing this back-end's companion.
    pub(crate) fn new(
        psi: &[u64],
        psi_inv: &[u64],
        n_inv: u64,
        mul: impl Fn(u64, u64) -> u64,
        shoup: impl Fn(u64) -> u64,
    ) -> Self {
        let n = psi.len();
        let expand = |roots: &[u64], t: usize| -> (Vec<u64>, Vec<u64>) {
            let w: Vec<u64> = (0..n / 2)
                .map(|i| {
                    let (g, l) = (i / 8, i % 8);
                    roots
                        .get(n / (2 * t) + g * (8 / t) + l / t)
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            let ws = w.iter().map(|&x| shoup(x)).collect();
            (w, ws)
        };
        let w_last = mul(psi_inv.get(1).copied().unwrap_or(0), n_inv);
        LaneTables {
            fwd_shoup: psi.iter().map(|&w| shoup(w)).collect(),
            inv_shoup: psi_inv.iter().map(|&w| shoup(w)).collect(),
            fwd_small: [expand(psi, 4), expand(psi, 2), expand(psi, 1)],
            inv_small: [expand(psi_inv, 1), expand(psi_inv, 2), expand(psi_inv, 4)],
            last: [(n_inv, shoup(n_inv)), (w_last, shoup(w_last))],
        }
    }
}

/// Lane indices that gather the x (or, with `y`, the y) operands of the butterflies of half-width
/// t from sixteen words held in two vectors, for `_mm512_permutex2var_epi64`.
const fn gather(t: usize, y: bool) -> [u64; 8] {
    let mut idx = [0u64; 8];
    let mut l = 0;
    while l < 8 {
        idx[l] = ((l / t) * 2 * t + l % t + if y { t } else { 0 }) as u64;
        l += 1;
    }
    idx
}

/// The inverse of [`gather`]: words 0..8 (or, with `hi`, 8..16) back from the (x, y) vectors.
const fn scatter(t: usize, hi: bool) -> [u64; 8] {
    let mut idx = [0u64; 8];
    let mut i = 0;
    while i < 8 {
        let p = i + if hi { 8 } else { 0 };
        let (b, o) = (p / (2 * t), p % (2 * t));
        idx[i] = if o < t { b * t + o } else { 8 + b * t + o - t } as u64;
        i += 1;
    }
    idx
}

/// [gather x, gather y, scatter lo, scatter hi] for t = 4, 2, 1.
const PERMUTATIONS: [[[u64; 8]; 4]; 3] = {
    let mut out = [[[0u64; 8]; 4]; 3];
    let ts = [4usize, 2, 1];
    let mut s = 0;
    while s < 3 {
        out[s] = [
            gather(ts[s], false),
            gather(ts[s], true),
            scatter(ts[s], false),
            scatter(ts[s], true),
        ];
        s += 1;
    }
    out
};

#[inline]
#[target_feature(enable = "avx512f")]
fn load(src: &[u64; 8]) -> __m512i {
    // SAFETY: `src` is 64 readable bytes; the load has no alignment requirement.
    unsafe { _mm512_loadu_si512(src.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn store(dst: &mut [u64; 8], v: __m512i) {
    // SAFETY: `dst` is 64 writable bytes that nothing else borrows; no alignment requirement.
    unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), v) }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load2(src: &[u64; 16]) -> (__m512i, __m512i) {
    // SAFETY: `src` is 128 readable bytes, so both 64-byte halves are in bounds.
    unsafe {
        (
            _mm512_loadu_si512(src.as_ptr().cast()),
            _mm512_loadu_si512(src.as_ptr().add(8).cast()),
        )
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn store2(dst: &mut [u64; 16], lo: __m512i, hi: __m512i) {
    // SAFETY: `dst` is 128 writable bytes that nothing else borrows.
    unsafe {
        _mm512_storeu_si512(dst.as_mut_ptr().cast(), lo);
        _mm512_storeu_si512(dst.as_mut_ptr().add(8).cast(), hi);
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn splat(x: u64) -> __m512i {
    _mm512_set1_epi64(x as i64)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn permutation(idx: &[u64; 8]) -> __m512i {
    load(idx)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn permute(a: __m512i, idx: __m512i, b: __m512i) -> __m512i {
    _mm512_permutex2var_epi64(a, idx, b)
}

/// x - c if x >= c, else x (for x < 2^63 + c): the conditional subtraction, branch-free.
#[inline]
#[target_feature(enable = "avx512f")]
fn reduce_once(x: __m512i, c: __m512i) -> __m512i {
    _mm512_min_epu64(x, _mm512_sub_epi64(x, c))
}

/// The forward and inverse negacyclic NTT for one back-end, given its lazy Shoup product
/// `$shoup(y, w, w', q) -> y w mod q in [0, 2q)` for y < 4q. The butterflies, bounds and output
/// are those of the scalar `NttOperator` (Harvey 2014, Alg. 4 and 3), so results are identical.
macro_rules! ntt_driver {
    ($cpu:ty, $features:literal, $shoup:ident) => {
        /// In-place forward NTT, output in [0, q) in bit-reversed order (as the scalar one).
        pub(crate) fn forward(
            _: $cpu,
            a: &mut [u64],
            q: u64,
            roots: &[u64],
            t: &super::LaneTables,
        ) {
            // SAFETY: the token proves that the CPU has the features `forward_kernel` enables.
            unsafe { forward_kernel(a, q, roots, t) }
        }

        /// In-place inverse NTT (input in bit-reversed order, < q), output in [0, q).
        pub(crate) fn inverse(
            _: $cpu,
            a: &mut [u64],
            q: u64,
            roots: &[u64],
            t: &super::LaneTables,
        ) {
            // SAFETY: the token proves that the CPU has the features `inverse_kernel` enables.
            unsafe { inverse_kernel(a, q, roots, t) }
        }

        /// One butterfly on eight lanes: Cooley-Tukey with `FORWARD` (X, Y in [0, 4q) ->
        /// X + WY, X - WY in [0, 4q)), else Gentleman-Sande (X, Y in [0, 2q) -> X + Y,
        /// (X - Y) W in [0, 2q)).
        #[inline]
        #[target_feature(enable = $features)]
        fn butterfly<const FORWARD: bool>(
            x: core::arch::x86_64::__m512i,
            y: core::arch::x86_64::__m512i,
            w: core::arch::x86_64::__m512i,
            w_shoup: core::arch::x86_64::__m512i,
            vq: core::arch::x86_64::__m512i,
        ) -> (core::arch::x86_64::__m512i, core::arch::x86_64::__m512i) {
            use super::reduce_once;
            use core::arch::x86_64::{_mm512_add_epi64, _mm512_sub_epi64};
            let v2q = _mm512_add_epi64(vq, vq);
            if FORWARD {
                let x = reduce_once(x, v2q);
                let t = $shoup(y, w, w_shoup, vq);
                (
                    _mm512_add_epi64(x, t),
                    _mm512_sub_epi64(_mm512_add_epi64(x, v2q), t),
                )
            } else {
                let d = _mm512_sub_epi64(_mm512_add_epi64(x, v2q), y);
                (
                    reduce_once(_mm512_add_epi64(x, y), v2q),
                    $shoup(d, w, w_shoup, vq),
                )
            }
        }

        /// One stage whose butterflies are `half` >= 8 words apart, one root per block.
        #[inline]
        #[target_feature(enable = $features)]
        fn wide_stage<const FORWARD: bool>(
            a: &mut [u64],
            half: usize,
            ws: &[u64],
            wss: &[u64],
            vq: core::arch::x86_64::__m512i,
        ) {
            use super::{load, splat, store};
            for (block, (&w, &w_shoup)) in a.chunks_exact_mut(2 * half).zip(ws.iter().zip(wss)) {
                let (w, w_shoup) = (splat(w), splat(w_shoup));
                let (lo, hi) = block.split_at_mut(half);
                for (x, y) in lo
                    .as_chunks_mut::<8>()
                    .0
                    .iter_mut()
                    .zip(hi.as_chunks_mut::<8>().0)
                {
                    let (x2, y2) = butterfly::<FORWARD>(load(x), load(y), w, w_shoup, vq);
                    store(x, x2);
                    store(y, y2);
                }
            }
        }

        /// One in-register stage of half-width 4, 2 or 1 (`PERMUTATIONS[index]`), roots
        /// expanded per lane; with `last`, outputs are reduced to [0, q).
        #[inline]
        #[target_feature(enable = $features)]
        fn small_stage<const FORWARD: bool>(
            a: &mut [u64],
            index: usize,
            ws: &[u64],
            wss: &[u64],
            last: bool,
            vq: core::arch::x86_64::__m512i,
        ) {
            use super::{load, load2, permutation, permute, reduce_once, store2};
            use core::arch::x86_64::_mm512_add_epi64;
            let v2q = _mm512_add_epi64(vq, vq);
            let Some([gx, gy, s0, s1]) = super::PERMUTATIONS.get(index) else {
                return;
            };
            let (gx, gy, s0, s1) = (
                permutation(gx),
                permutation(gy),
                permutation(s0),
                permutation(s1),
            );
            for ((chunk, w), w_shoup) in a
                .as_chunks_mut::<16>()
                .0
                .iter_mut()
                .zip(ws.as_chunks::<8>().0)
                .zip(wss.as_chunks::<8>().0)
            {
                let (v0, v1) = load2(chunk);
                let (xv, yv) = (permute(v0, gx, v1), permute(v0, gy, v1));
                let (mut x2, mut y2) = butterfly::<FORWARD>(xv, yv, load(w), load(w_shoup), vq);
                if last {
                    // [0, 4q) -> [0, q) inside the last stage instead of another pass.
                    x2 = reduce_once(reduce_once(x2, v2q), vq);
                    y2 = reduce_once(reduce_once(y2, v2q), vq);
                }
                store2(chunk, permute(x2, s0, y2), permute(x2, s1, y2));
            }
        }

        #[target_feature(enable = $features)]
        fn forward_kernel(a: &mut [u64], q: u64, roots: &[u64], t: &super::LaneTables) {
            let n = a.len();
            let vq = super::splat(q);
            let (mut m, mut half) = (1usize, n / 2);
            while half >= 8 {
                let ws = roots.get(m..2 * m).unwrap_or(&[]);
                let wss = t.fwd_shoup.get(m..2 * m).unwrap_or(&[]);
                wide_stage::<true>(a, half, ws, wss, vq);
                m <<= 1;
                half >>= 1;
            }
            // Half-width 4, 2, 1; the last one also reduces to [0, q).
            for (stage, (ws, wss)) in t.fwd_small.iter().enumerate() {
                small_stage::<true>(a, stage, ws, wss, stage == 2, vq);
            }
        }

        #[target_feature(enable = $features)]
        fn inverse_kernel(a: &mut [u64], q: u64, roots: &[u64], t: &super::LaneTables) {
            use super::{load, reduce_once, splat, store};
            use core::arch::x86_64::{_mm512_add_epi64, _mm512_sub_epi64};
            let n = a.len();
            let (vq, v2q) = (splat(q), splat(2 * q));
            // Half-width 1, 2, 4 (the permutation tables are indexed by 4, 2, 1).
            for (stage, (ws, wss)) in t.inv_small.iter().enumerate() {
                small_stage::<false>(a, 2 - stage, ws, wss, false, vq);
            }
            let mut half = 8usize;
            while half < n / 2 {
                let m = n / (2 * half);
                let ws = roots.get(m..2 * m).unwrap_or(&[]);
                let wss = t.inv_shoup.get(m..2 * m).unwrap_or(&[]);
                wide_stage::<false>(a, half, ws, wss, vq);
                half <<= 1;
            }
            // Last stage with n^-1 folded in: X' = (X + Y) n^-1, Y' = (X - Y) (w n^-1).
            let [(ni, ni_shoup), (wl, wl_shoup)] = t.last;
            let (ni, ni_shoup, wl, wl_shoup) =
                (splat(ni), splat(ni_shoup), splat(wl), splat(wl_shoup));
            let (lo, hi) = a.split_at_mut(n / 2);
            for (x, y) in lo
                .as_chunks_mut::<8>()
                .0
                .iter_mut()
                .zip(hi.as_chunks_mut::<8>().0)
            {
                let (xv, yv) = (load(x), load(y));
                let s = _mm512_add_epi64(xv, yv);
                let d = _mm512_sub_epi64(_mm512_add_epi64(xv, v2q), yv);
                store(x, reduce_once($shoup(s, ni, ni_shoup, vq), vq));
                store(y, reduce_once($shoup(d, wl, wl_shoup, vq), vq));
            }
        }
    };
}
pub(crate) use ntt_driver;
