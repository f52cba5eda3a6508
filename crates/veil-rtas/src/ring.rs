//! Wrapping arithmetic on matrices over Z_2^64: the local kernels behind shares and triples.

use std::borrow::Cow;

use ndarray::{Array2, ArrayView2, Zip};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Work (multiply-adds) below which a matrix product runs on one thread.
const PARALLEL_WORK: usize = 1 << 16;
/// Rows of C that share each row of B in the wide kernel (loads of B from L2 amortised 4 times).
const ROW_BLOCK: usize = 4;
/// Rows of C per block of the narrow kernel (one 512-bit vector of u64 along the rows).
const NARROW_ROWS: usize = 8;
/// Widest product (columns of B) that the narrow kernel handles.
const NARROW_COLS: usize = 8;
/// Rows of C per parallel task.
const TASK_ROWS: usize = 64;

/// The entries of `v` in row-major order, borrowed when `v` already is row-major.
pub(crate) fn row_major<'a>(v: &'a ArrayView2<'_, u64>) -> Cow<'a, [u64]> {
    match v.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(v.iter().copied().collect()),
    }
}

/// Checks that `a * b` is defined.
pub(crate) fn check_matmul(op: &'static str, a: (usize, usize), b: (usize, usize)) -> Result<()> {
    if a.1 != b.0 {
        return Err(Error::ShapeMismatch {
            op,
            left: a,
            right: b,
        });
    }
    Ok(())
}

/// Checks that two shapes are equal.
pub(crate) fn check_same(op: &'static str, a: (usize, usize), b: (usize, usize)) -> Result<()> {
    if a != b {
        return Err(Error::ShapeMismatch {
            op,
            left: a,
            right: b,
        });
    }
    Ok(())
}

/// The matrix product `a * b` in Z_2^64 (the caller has checked the shapes; see
/// [`matmul_add_slice`] for the kernel).
pub(crate) fn matmul(a: ArrayView2<'_, u64>, b: ArrayView2<'_, u64>) -> Array2<u64> {
    let (m, n) = (a.nrows(), b.ncols());
    let mut out = vec![0_u64; m * n];
    matmul_add_slice(&mut out, &row_major(&a), &row_major(&b), a.ncols(), n);
    Array2::from_shape_vec((m, n), out).unwrap_or_else(|_| Array2::zeros((m, n)))
}

/// `c += a * b` in Z_2^64 (the caller has checked the shapes).
pub(crate) fn matmul_add(c: &mut Array2<u64>, a: ArrayView2<'_, u64>, b: ArrayView2<'_, u64>) {
    let (k, n) = b.dim();
    let (a, b) = (row_major(&a), row_major(&b));
    match c.as_slice_mut() {
        Some(out) => matmul_add_slice(out, &a, &b, k, n),
        None => {
            let mut tmp = Array2::zeros(c.raw_dim());
            if let Some(out) = tmp.as_slice_mut() {
                matmul_add_slice(out, &a, &b, k, n);
            }
            add_assign(c, tmp.view());
        }
    }
}

/// `out += a * b` on row-major slices: `a` is m x k, `b` is k x n, `out` is m x n. Large products
/// are split into tasks of [`TASK_ROWS`] rows of `out` for rayon; each task runs the kernel
/// compiled for the best instruction set of the machine ([`pulp::Arch`] dispatch: AVX-512 has a
/// 64-bit vector multiply, `vpmullq`, which the baseline x86-64 target lacks).
pub(crate) fn matmul_add_slice(out: &mut [u64], a: &[u64], b: &[u64], k: usize, n: usize) {
    // An empty inner dimension adds nothing (and the kernels chunk by k).
    if n == 0 || k == 0 || out.is_empty() {
        return;
    }
    let m = out.len() / n;
    let task = |(t, c): (usize, &mut [u64])| {
        let first = t * TASK_ROWS;
        let rows = c.len() / n;
        let a = a.get(first * k..(first + rows) * k).unwrap_or(&[]);
        matmul_add_serial(c, a, b, k, n);
    };
    if m * k * n >= PARALLEL_WORK && m > TASK_ROWS {
        out.par_chunks_mut(TASK_ROWS * n).enumerate().for_each(task);
    } else {
        task((0, out));
    }
}

/// [`matmul_add_slice`] on the calling thread only (for callers that parallelise themselves).
pub(crate) fn matmul_add_serial(out: &mut [u64], a: &[u64], b: &[u64], k: usize, n: usize) {
    if n == 0 || k == 0 || out.is_empty() {
        return;
    }
    pulp::Arch::new().dispatch(Kernel { a, b, c: out, k, n });
}

/// One task of [`matmul_add_slice`]: `c += a * b` with `c` of `c.len() / n` rows.
struct Kernel<'a> {
    a: &'a [u64],
    b: &'a [u64],
    c: &'a mut [u64],
    k: usize,
    n: usize,
}

impl pulp::WithSimd for Kernel<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        // Plain loops, inlined into pulp's function for the detected instruction set, where
        // LLVM vectorises them.
        if self.n <= NARROW_COLS {
            narrow_kernel(self.a, self.b, self.c, self.k, self.n);
        } else {
            wide_kernel(self.a, self.b, self.c, self.k, self.n);
        }
    }
}

/// `c += a b` for wide `b`: blocks of [`ROW_BLOCK`] rows of `c` are updated together by axpys
/// over each row of `b` (vectorised along the columns), so that every row of `b` is read once
/// per block instead of once per row.
#[inline(always)]
fn wide_kernel(a: &[u64], b: &[u64], c: &mut [u64], k: usize, n: usize) {
    for (blk, cb) in c.chunks_mut(ROW_BLOCK * n).enumerate() {
        let i = blk * ROW_BLOCK;
        let ab = a.get(i * k..(i + cb.len() / n) * k).unwrap_or(&[]);
        if cb.len() == ROW_BLOCK * n && ab.len() == ROW_BLOCK * k {
            let (c0, rest) = cb.split_at_mut(n);
            let (c1, rest) = rest.split_at_mut(n);
            let (c2, c3) = rest.split_at_mut(n);
            let (a0, rest) = ab.split_at(k);
            let (a1, rest) = rest.split_at(k);
            let (a2, a3) = rest.split_at(k);
            for (p, br) in b.chunks_exact(n).enumerate().take(k) {
                let (x0, x1, x2, x3) = (a0[p], a1[p], a2[p], a3[p]);
                for ((((&bv, y0), y1), y2), y3) in br
                    .iter()
                    .zip(c0.iter_mut())
                    .zip(c1.iter_mut())
                    .zip(c2.iter_mut())
                    .zip(c3.iter_mut())
                {
                    *y0 = y0.wrapping_add(x0.wrapping_mul(bv));
                    *y1 = y1.wrapping_add(x1.wrapping_mul(bv));
                    *y2 = y2.wrapping_add(x2.wrapping_mul(bv));
                    *y3 = y3.wrapping_add(x3.wrapping_mul(bv));
                }
            }
        } else {
            for (cr, ar) in cb.chunks_exact_mut(n).zip(ab.chunks_exact(k)) {
                for (&x, br) in ar.iter().zip(b.chunks_exact(n)) {
                    for (y, &bv) in cr.iter_mut().zip(br) {
                        *y = y.wrapping_add(x.wrapping_mul(bv));
                    }
                }
            }
        }
    }
}

/// `c += a b` for narrow `b` (at most [`NARROW_COLS`] columns, as in a convolution with few
/// filters): blocks of [`NARROW_ROWS`] rows of `a` are transposed into a small buffer and the
/// products are vectorised along the rows, with every entry of `b` broadcast.
#[inline(always)]
fn narrow_kernel(a: &[u64], b: &[u64], c: &mut [u64], k: usize, n: usize) {
    let mut at = vec![[0_u64; NARROW_ROWS]; k];
    for (blk, cb) in c.chunks_mut(NARROW_ROWS * n).enumerate() {
        let rows = cb.len() / n;
        let i = blk * NARROW_ROWS;
        let ab = a.get(i * k..(i + rows) * k).unwrap_or(&[]);
        for col in at.iter_mut() {
            *col = [0; NARROW_ROWS];
        }
        for (r, ar) in ab.chunks_exact(k).enumerate() {
            for (col, &x) in at.iter_mut().zip(ar) {
                col[r % NARROW_ROWS] = x;
            }
        }
        let mut acc = [[0_u64; NARROW_ROWS]; NARROW_COLS];
        for (col, br) in at.iter().zip(b.chunks_exact(n)) {
            for (accj, &bv) in acc.iter_mut().zip(br) {
                for (y, &x) in accj.iter_mut().zip(col) {
                    *y = y.wrapping_add(x.wrapping_mul(bv));
                }
            }
        }
        for (r, cr) in cb.chunks_exact_mut(n).enumerate() {
            for (y, accj) in cr.iter_mut().zip(&acc) {
                *y = y.wrapping_add(accj[r % NARROW_ROWS]);
            }
        }
    }
}

/// `a += b` entry-wise (shapes checked by the caller).
pub(crate) fn add_assign(a: &mut Array2<u64>, b: ArrayView2<'_, u64>) {
    Zip::from(a).and(b).for_each(|x, &y| *x = x.wrapping_add(y));
}

/// `a -= b` entry-wise (shapes checked by the caller).
pub(crate) fn sub_assign(a: &mut Array2<u64>, b: ArrayView2<'_, u64>) {
    Zip::from(a).and(b).for_each(|x, &y| *x = x.wrapping_sub(y));
}

/// `a - b` entry-wise (shapes checked by the caller).
pub(crate) fn sub(a: ArrayView2<'_, u64>, b: ArrayView2<'_, u64>) -> Array2<u64> {
    let mut out = a.to_owned();
    sub_assign(&mut out, b);
    out
}

/// `a + b` entry-wise (shapes checked by the caller).
pub(crate) fn add(a: ArrayView2<'_, u64>, b: ArrayView2<'_, u64>) -> Array2<u64> {
    let mut out = a.to_owned();
    add_assign(&mut out, b);
    out
}

/// `c += a * b` entry-wise (shapes checked by the caller).
pub(crate) fn hadamard_add(c: &mut Array2<u64>, a: ArrayView2<'_, u64>, b: ArrayView2<'_, u64>) {
    Zip::from(c)
        .and(a)
        .and(b)
        .for_each(|z, &x, &y| *z = z.wrapping_add(x.wrapping_mul(y)));
}

/// `a * b` entry-wise (shapes checked by the caller).
pub(crate) fn hadamard(a: ArrayView2<'_, u64>, b: ArrayView2<'_, u64>) -> Array2<u64> {
    let mut out = a.to_owned();
    Zip::from(&mut out)
        .and(b)
        .for_each(|x, &y| *x = x.wrapping_mul(y));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matmul_wraps_and_matches_naive() {
        let a = array![[u64::MAX, 2, 3], [4, 5, 1 << 63]];
        let b = array![[1, 2], [3, u64::MAX], [5, 2]];
        let c = matmul(a.view(), b.view());
        for i in 0..2 {
            for j in 0..2 {
                let mut s = 0_u64;
                for p in 0..3 {
                    s = s.wrapping_add(a[[i, p]].wrapping_mul(b[[p, j]]));
                }
                assert_eq!(c[[i, j]], s);
            }
        }
        // Transposed (non-contiguous) operands give the same product.
        let ct = matmul(b.t(), a.t());
        assert_eq!(ct, c.t());
    }

    fn naive(a: &Array2<u64>, b: &Array2<u64>) -> Array2<u64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).fold(0_u64, |s, p| {
                s.wrapping_add(a[[i, p]].wrapping_mul(b[[p, j]]))
            })
        })
    }

    #[test]
    fn kernels_match_naive_on_every_shape_class() {
        // Narrow (n <= 8) and wide kernels, full and partial row blocks, serial and parallel.
        for &m in &[1, 3, 4, 5, 8, 9, 64, 65, 131] {
            for &k in &[1, 7, 16, 33] {
                for &n in &[1, 4, 8, 9, 17, 100] {
                    let a = Array2::from_shape_fn((m, k), |(i, j)| {
                        ((i * 131 + j * 7 + 1) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    });
                    let b = Array2::from_shape_fn((k, n), |(i, j)| {
                        ((i * 17 + j + 3) as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
                    });
                    let want = naive(&a, &b);
                    assert_eq!(matmul(a.view(), b.view()), want, "{m}x{k}x{n}");
                    let mut acc = want.clone();
                    matmul_add(&mut acc, a.view(), b.view());
                    assert_eq!(acc, want.mapv(|x| x.wrapping_mul(2)), "{m}x{k}x{n} add");
                }
            }
        }
    }

    #[test]
    fn large_product_runs_in_parallel_and_agrees() {
        let a = Array2::from_shape_fn((70, 40), |(i, j)| (i * 31 + j * 7) as u64 * 0x9e37_79b9);
        let b = Array2::from_shape_fn((40, 30), |(i, j)| (i * 3 + j) as u64 ^ 0xdead_beef);
        let c = matmul(a.view(), b.view());
        let c1 = matmul(a.slice(ndarray::s![0..1, ..]), b.view());
        assert_eq!(c.row(0), c1.row(0));
        let empty = matmul(
            Array2::<u64>::zeros((0, 3)).view(),
            b.slice(ndarray::s![0..3, ..]),
        );
        assert_eq!(empty.dim(), (0, 30));
    }
}
