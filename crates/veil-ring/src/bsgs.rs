//! The slot layout of plaintext-matrix x encrypted-vector products by the diagonal method with
//! baby-step giant-step (Halevi and Shoup, "Algorithms in HElib", CRYPTO 2014, sec. 4 and 4.1),
//! shared by the schemes: which matrix entry goes to which slot of which pre-rotated diagonal.
//!
//! A row of `row_len` slots holds the vector of length d replicated with period D (d rounded up to
//! a power of two), so a rotation by k rotates every period. For an m x d matrix M,
//! `y[i] = sum_{k < D} diag_k[i] v[(i + k) mod D]` with `diag_k[i] = M[i][(i + k) mod D]`, evaluated as
//! sum_j rot_{j b}( sum_i rot_{-j b}(diag_{j b + i}) rot_i(v) ): (b - 1) baby and
//! (ceil(D / b) - 1) giant rotations, D plaintext products.

use crate::error::{Error, Result};
use crate::poly::{Ntt, Poly};

/// The shape of one matrix product: matrix size, period, baby steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiagonalLayout {
    rows: usize,
    cols: usize,
    row_len: usize,
    period: usize,
    baby: usize,
}

impl DiagonalLayout {
    /// The layout of an m x d matrix on rows of `row_len` slots (m, d <= row_len); `baby_steps`
    /// defaults to about sqrt(D).
    pub fn new(
        rows: usize,
        cols: usize,
        row_len: usize,
        baby_steps: Option<usize>,
    ) -> Result<Self> {
        if rows == 0 || cols == 0 || rows > row_len || cols > row_len {
            return Err(Error::Mismatch {
                what: "matrix shape (need 1..=row length rows and columns)",
                left: rows.max(cols),
                right: row_len,
            });
        }
        let period = cols.next_power_of_two();
        let baby = baby_steps
            .unwrap_or_else(|| (period as f64).sqrt().ceil() as usize)
            .clamp(1, period);
        Ok(DiagonalLayout {
            rows,
            cols,
            row_len,
            period,
            baby,
        })
    }

    /// (m, d).
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// The period D of the replicated vector.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Baby steps b.
    pub fn baby(&self) -> usize {
        self.baby
    }

    /// Giant steps ceil(D / b).
    pub fn giant(&self) -> usize {
        self.period.div_ceil(self.baby)
    }

    /// The rotation steps a product uses: 1..b (baby) and multiples of b (giant).
    pub fn rotation_steps(&self) -> Vec<i64> {
        let mut steps: Vec<i64> = (1..self.baby as i64).collect();
        steps.extend((1..self.giant()).map(|j| (j * self.baby) as i64));
        steps
    }

    /// The slots of rot_{-j b}(diag_{j b + i}) for `matrix` (rows of length d), or `None` when it
    /// is all zero (or past the period).
    pub fn diagonal<T: Copy + Default + PartialEq>(
        &self,
        matrix: &[Vec<T>],
        j: usize,
        i: usize,
    ) -> Option<Vec<T>> {
        let k = j * self.baby + i;
        if k >= self.period {
            return None;
        }
        let shift = j * self.baby % self.row_len;
        let zero = T::default();
        let slots: Vec<T> = (0..self.row_len)
            .map(|s| {
                // rot_{-jb}: slot s takes diag[s - jb].
                let src = (s + self.row_len - shift) % self.row_len;
                let col = (src + k) % self.period;
                matrix
                    .get(src)
                    .filter(|_| src < self.rows)
                    .and_then(|r| r.get(col))
                    .copied()
                    .unwrap_or(zero)
            })
            .collect();
        slots.iter().any(|&v| v != zero).then_some(slots)
    }

    /// The vector of length d replicated with period D over the row.
    pub fn replicate<T: Copy + Default>(&self, v: &[T]) -> Result<Vec<T>> {
        if v.len() != self.cols {
            return Err(Error::Mismatch {
                what: "vector length and matrix columns",
                left: v.len(),
                right: self.cols,
            });
        }
        Ok((0..self.row_len)
            .map(|s| v.get(s % self.period).copied().unwrap_or_default())
            .collect())
    }
}

/// For giant step j: sum_i rot_i(v) diag_{j b + i} for each of the polynomials of the baby steps
/// (`baby[i]` holds the parts of rot_i(v), NTT form; `diagonals[j b + i]` the pre-rotated
/// diagonal or `None` when zero), one lazy reduction per part. `None` when every diagonal of this
/// giant step is zero.
pub fn giant_step_sum(
    baby: &[&[Poly<Ntt>]],
    diagonals: &[Option<Poly<Ntt>>],
    j: usize,
    baby_steps: usize,
) -> Result<Option<Vec<Poly<Ntt>>>> {
    let terms: Vec<(&[Poly<Ntt>], &Poly<Ntt>)> = baby
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match diagonals.get(j * baby_steps + i) {
            Some(Some(d)) => Some((*r, d)),
            _ => None,
        })
        .collect();
    let Some(parts) = terms.first().map(|(r, _)| r.len()) else {
        return Ok(None);
    };
    (0..parts)
        .map(|p| {
            let pairs: Vec<(&Poly<Ntt>, &Poly<Ntt>)> = terms
                .iter()
                .filter_map(|(r, d)| r.get(p).map(|x| (x, *d)))
                .collect();
            Poly::sum_of_products(&pairs)
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout computes M v in the clear with cyclic rotations of plain vectors.
    #[test]
    fn diagonals_reproduce_the_matrix_product() {
        let (m, d, row) = (5usize, 6usize, 16usize);
        let matrix: Vec<Vec<i64>> = (0..m)
            .map(|r| (0..d).map(|c| (r * 7 + c * 3) as i64 % 11 - 5).collect())
            .collect();
        let v: Vec<i64> = (0..d as i64).map(|x| x * x - 4).collect();
        for baby in [None, Some(1), Some(3), Some(8)] {
            let layout = DiagonalLayout::new(m, d, row, baby).unwrap();
            let x = layout.replicate(&v).unwrap();
            let rot =
                |a: &[i64], k: usize| -> Vec<i64> { (0..row).map(|s| a[(s + k) % row]).collect() };
            let mut y = vec![0i64; row];
            for j in 0..layout.giant() {
                let mut inner = vec![0i64; row];
                for i in 0..layout.baby() {
                    if let Some(diag) = layout.diagonal(&matrix, j, i) {
                        let r = rot(&x, i);
                        for s in 0..row {
                            inner[s] += diag[s] * r[s];
                        }
                    }
                }
                let shifted = rot(&inner, j * layout.baby());
                for s in 0..row {
                    y[s] += shifted[s];
                }
            }
            for r in 0..m {
                let want: i64 = (0..d).map(|c| matrix[r][c] * v[c]).sum();
                assert_eq!(y[r], want, "row {r}, baby {baby:?}");
            }
        }
        assert!(DiagonalLayout::new(0, 3, 16, None).is_err());
        assert!(DiagonalLayout::new(3, 17, 16, None).is_err());
    }
}
