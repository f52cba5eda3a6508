//! Where the fast mode's vectors sit in the slots, and which rotations it needs.
//!
//! N/2 slots per row (the second row stays zero). With m items and latent dimension d, let
//! D_m = m and D_d = d rounded up to powers of two (D_d <= D_m <= N/2).
//! - The query holds x replicated with period D_m along the row.
//! - **y = x A'** (d outputs from m inputs) is a *wide* product: the hybrid diagonal method
//!   (Juvekar, Vaikuntanathan and Chandrakasan, "GAZELLE", USENIX Security 2018, sec. 5.3)
//!   multiplies by only D_d extended diagonals, z[s] = sum_{k < D_d} A'[(s + k) mod D_m][s mod D_d]
//!   x[(s + k) mod D_m], evaluated by veil-bfv's BSGS product on a D_m x m band matrix whose other
//!   diagonals are zero (skipped); then z is replicated over the row (rotations by D_m, 2 D_m, ...)
//!   and folded (rotations by D_d, 2 D_d, ... < D_m): slot s then holds
//!   sum_{t < D_m/D_d} z[s + t D_d] = y[s mod D_d], y replicated with period D_d, as the second
//!   product needs.
//! - **v = Q' y + b** is a *tall* m x d product: D_d diagonals, output in the first m slots.

use crate::error::{Error, Result};

/// The slot layout of one model shape at one ring degree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastLayout {
    /// Items m.
    pub items: usize,
    /// Latent dimension d.
    pub dim: usize,
    /// N/2.
    pub row: usize,
    /// Baby steps b (a power of two, at most D_d).
    pub baby: usize,
}

impl FastLayout {
    /// Checks 1 <= d <= m <= N/2 and chooses b (default: sqrt(D_d) rounded up to a power of two).
    pub fn new(items: usize, dim: usize, degree: usize, baby: Option<usize>) -> Result<Self> {
        let row = degree / 2;
        if dim == 0 || items == 0 || dim > items || items > row {
            return Err(Error::Invalid {
                reason: "the lattice fast mode needs 1 <= d <= m <= N/2",
            });
        }
        let dd = dim.next_power_of_two();
        let default = 1usize << dd.trailing_zeros().div_ceil(2);
        let baby = baby.unwrap_or(default);
        if !baby.is_power_of_two() || baby > dd {
            return Err(Error::Invalid {
                reason: "baby steps must be a power of two of at most d rounded up",
            });
        }
        Ok(FastLayout {
            items,
            dim,
            row,
            baby,
        })
    }

    /// D_m.
    pub fn item_period(&self) -> usize {
        self.items.next_power_of_two()
    }

    /// D_d.
    pub fn dim_period(&self) -> usize {
        self.dim.next_power_of_two()
    }

    /// The rotation steps the server uses: baby steps 1..b, giant steps j b < D_d, then the
    /// replication (D_m 2^i < N/2) and the fold (D_d 2^i < D_m).
    pub fn rotation_steps(&self) -> Vec<i64> {
        let dd = self.dim_period();
        let mut steps: Vec<i64> = (1..self.baby as i64).collect();
        steps.extend((1..dd / self.baby).map(|j| (j * self.baby) as i64));
        let mut s = self.item_period();
        while s < self.row {
            steps.push(s as i64);
            s *= 2;
        }
        let mut s = dd;
        while s < self.item_period() {
            steps.push(s as i64);
            s *= 2;
        }
        steps.sort_unstable();
        steps.dedup();
        steps
    }

    /// [`Self::rotation_steps`] plus 1, 2, ..., D_d / 2: what the accurate modes also need to
    /// sum a product over one period of the dimension (p . p').
    pub fn rotation_steps_with_period_sum(&self) -> Vec<i64> {
        let mut steps = self.rotation_steps();
        let mut s = 1;
        while s < self.dim_period() {
            steps.push(s as i64);
            s *= 2;
        }
        steps.sort_unstable();
        steps.dedup();
        steps
    }

    /// The query's slots: x replicated with period D_m over the first row.
    pub fn query_slots(&self, x: &[i64]) -> Result<Vec<i64>> {
        if x.len() != self.items {
            return Err(Error::Invalid {
                reason: "the input vector's length differs from the model's items",
            });
        }
        let dm = self.item_period();
        Ok((0..self.row)
            .map(|s| x.get(s % dm).copied().unwrap_or(0))
            .collect())
    }

    /// The D_m x m band matrix of the first product (row s, column c: A'[c][s mod D_d] when
    /// (c - s) mod D_m < D_d and s mod D_d < d, else 0); `a(j, c)` reads A'.
    pub fn band_matrix<T: Copy + Default>(&self, a: impl Fn(usize, usize) -> T) -> Vec<Vec<T>> {
        let (dm, dd) = (self.item_period(), self.dim_period());
        (0..dm)
            .map(|s| {
                let col = s % dd;
                (0..self.items)
                    .map(|c| {
                        if col < self.dim && (c + dm - s) % dm < dd {
                            a(c, col)
                        } else {
                            T::default()
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::needless_range_loop)]
    /// The band product, replication and fold give y = x A' replicated with period D_d, in the
    /// clear (cyclic rotations of plain vectors, as the slots rotate).
    #[test]
    fn band_replicate_fold_reproduces_the_wide_product() {
        for (m, d, n) in [
            (13usize, 3usize, 64usize),
            (16, 16, 64),
            (30, 5, 128),
            (7, 1, 16),
        ] {
            let layout = FastLayout::new(m, d, n, None).unwrap();
            let a = |j: usize, c: usize| ((j * 7 + c * 3) % 11) as i64 - 5;
            let x: Vec<i64> = (0..m as i64).map(|j| j * j % 9 - 4).collect();
            let row = layout.row;
            let (dm, dd) = (layout.item_period(), layout.dim_period());
            let band = layout.band_matrix(a);
            let slots = layout.query_slots(&x).unwrap();
            // z[s] = sum_k band[s][(s + k) mod D_m] slots[s + k] for rows s < D_m, zero beyond.
            let mut z = vec![0i64; row];
            for s in 0..dm {
                for k in 0..dm {
                    let c = (s + k) % dm;
                    if c < m {
                        z[s] += band[s][c] * slots[(s + k) % row];
                    }
                }
            }
            let rot =
                |v: &[i64], k: usize| -> Vec<i64> { (0..row).map(|s| v[(s + k) % row]).collect() };
            let mut step = dm;
            while step < row {
                let r = rot(&z, step);
                z.iter_mut().zip(r).for_each(|(a, b)| *a += b);
                step *= 2;
            }
            let mut step = dd;
            while step < dm {
                let r = rot(&z, step);
                z.iter_mut().zip(r).for_each(|(a, b)| *a += b);
                step *= 2;
            }
            for s in 0..row {
                let c = s % dd;
                let want: i64 = if c < d {
                    (0..m).map(|j| x[j] * a(j, c)).sum()
                } else {
                    0
                };
                assert_eq!(z[s], want, "m {m} d {d} slot {s}");
            }
        }
    }

    #[test]
    fn shapes_are_checked() {
        assert!(FastLayout::new(10, 11, 64, None).is_err());
        assert!(FastLayout::new(33, 4, 64, None).is_err());
        assert!(FastLayout::new(10, 4, 64, Some(3)).is_err());
        assert!(FastLayout::new(10, 4, 64, Some(8)).is_err());
        let l = FastLayout::new(3952, 500, 16384, None).unwrap();
        assert_eq!((l.item_period(), l.dim_period(), l.baby), (4096, 512, 32));
        // 31 baby + 15 giant + 1 replication + 3 folds.
        assert_eq!(l.rotation_steps().len(), 50);
    }
}
