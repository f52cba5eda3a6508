//! Wrapping arithmetic on matrices over Z_2^64: the local kernels behind shares and triples.

use std::borrow::Cow;

use ndarray::{Array2, ArrayView2, Zip};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Work (multiply-adds) below which a matrix product runs on one thread.
const PARALLEL_WORK: usize = 1 << 16;

/// The entries of `v` in row-major order, borrowed when `v` already is row-major.
fn row_major<'a>(v: &'a ArrayView2<'_, u64>) -> Cow<'a, [u64]> {
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

/// The matrix product `a * b` in Z_2^64 (the caller has checked the shapes). Rows of the result
/// are computed in parallel for large products; each row is an axpy over rows of `b`, so the
/// inner loop runs over contiguous memory.
pub(crate) fn matmul(a: ArrayView2<'_, u64>, b: ArrayView2<'_, u64>) -> Array2<u64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    let mut out = vec![0_u64; m * n];
    if m == 0 || n == 0 {
        return Array2::from_shape_vec((m, n), out).unwrap_or_else(|_| Array2::zeros((m, n)));
    }
    let a = row_major(&a);
    let b = row_major(&b);
    let row = |(i, c_row): (usize, &mut [u64])| {
        let a_row = &a[i * k..(i + 1) * k];
        for (p, &av) in a_row.iter().enumerate() {
            let b_row = &b[p * n..(p + 1) * n];
            for (c, &bv) in c_row.iter_mut().zip(b_row) {
                *c = c.wrapping_add(av.wrapping_mul(bv));
            }
        }
    };
    if m * k * n >= PARALLEL_WORK && m > 1 {
        out.par_chunks_mut(n).enumerate().for_each(row);
    } else {
        out.chunks_mut(n).enumerate().for_each(row);
    }
    Array2::from_shape_vec((m, n), out).unwrap_or_else(|_| Array2::zeros((m, n)))
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
