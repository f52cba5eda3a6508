//! The approximate-arithmetic (CKKS) change of basis: Chebyshev nodes x_i = cos(pi (2i + 1) / 2p),
//! so that B\[k\]\[i\] = T_k(x_i) = cos(pi k (2i + 1) / 2p) is the DCT-II matrix (DESIGN.md, IVE,
//! "Approximate arithmetic"), and, for comparison, monomials at the same nodes (an ill-conditioned
//! Vandermonde matrix).
//!
//! Row j of M = E^T B^-1 is c = B^-T e (e column j of E): from B B^T = diag(p, p/2, ..., p/2),
//! c_k = (w_k / p) sum_i e_i cos(pi k (2i + 1) / 2p) with w_0 = 1 and w_k = 2 otherwise: the
//! unnormalized DCT-II of the column, computed by `rustdct` in O(p log p) per column.

use rustdct::DctPlanner;

use crate::error::{Error, Result};
use crate::lookup::IveTable;
use crate::power::PowerRule;
use crate::table::checked_shape;

/// A table of reals: `rows` rows of `cols` entries (row-major), for CKKS lookups.
#[derive(Clone, Debug, PartialEq)]
pub struct RealTable {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl RealTable {
    /// A table from its rows: 1..=65536 rows of the same length in 1..=4096, finite entries.
    pub fn new(rows: &[Vec<f64>]) -> Result<Self> {
        let cols = checked_shape(rows)?;
        let data = rows.concat();
        if data.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidConfig {
                reason: "table entries must be finite",
            });
        }
        Ok(RealTable {
            rows: rows.len(),
            cols,
            data,
        })
    }

    /// Number of rows p.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns d.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row i, or `None` past the end.
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        self.data.get(i * self.cols..(i + 1) * self.cols)
    }

    /// Column j as a vector of length p.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.rows)
            .map(|i| self.data.get(i * self.cols + j).copied().unwrap_or(0.0))
            .collect()
    }

    /// Largest |entry|.
    pub fn max_abs(&self) -> f64 {
        self.data.iter().fold(0.0, |m, v| m.max(v.abs()))
    }
}

/// The Chebyshev node of index i in a table of p rows: cos(pi (2i + 1) / 2p), in (-1, 1).
pub fn chebyshev_node(i: usize, p: usize) -> Result<f64> {
    if i >= p {
        return Err(Error::IndexOutOfRange { index: i, rows: p });
    }
    Ok((core::f64::consts::PI * (2 * i + 1) as f64 / (2 * p) as f64).cos())
}

/// M = E^T B^-1 for the DCT basis (module docs): row j holds the Chebyshev coefficients of the
/// polynomial of degree < p through (x_i, E\[i\]\[j\]).
pub fn dct_coefficients(table: &RealTable) -> Vec<Vec<f64>> {
    let p = table.rows();
    let dct = DctPlanner::new().plan_dct2(p);
    let (first, rest) = (1.0 / p as f64, 2.0 / p as f64);
    (0..table.cols())
        .map(|j| {
            let mut col = table.column(j);
            dct.process_dct2(&mut col);
            for (k, c) in col.iter_mut().enumerate() {
                *c *= if k == 0 { first } else { rest };
            }
            col
        })
        .collect()
}

/// M = E^T V^-1 for monomials at the same Chebyshev nodes (V\[k\]\[i\] = x_i^k), in f64: row j
/// holds the monomial coefficients of the interpolating polynomial, by Newton's divided
/// differences then expansion (the Björck-Pereyra order, O(p^2) per column). V is
/// ill-conditioned (condition about 1e5 at p = 16, 1e20 at p = 64): the coefficients grow like
/// 2^p and carry the rounding of f64, which is the point of the comparison.
pub fn monomial_coefficients(table: &RealTable) -> Result<Vec<Vec<f64>>> {
    let p = table.rows();
    let nodes = (0..p)
        .map(|i| chebyshev_node(i, p))
        .collect::<Result<Vec<_>>>()?;
    Ok((0..table.cols())
        .map(|j| newton_to_monomial(&nodes, table.column(j)))
        .collect())
}

/// Monomial coefficients of the polynomial through (x_i, y_i): divided differences in place, then
/// Horner-like expansion of the Newton form from the top.
fn newton_to_monomial(x: &[f64], mut c: Vec<f64>) -> Vec<f64> {
    let n = x.len();
    for k in 1..n {
        for i in (k..n).rev() {
            let (Some(&ci), Some(&cj), Some(&xi), Some(&xk)) =
                (c.get(i), c.get(i - 1), x.get(i), x.get(i - k))
            else {
                continue;
            };
            if let Some(slot) = c.get_mut(i) {
                *slot = (ci - cj) / (xi - xk);
            }
        }
    }
    // P(x) = c_0 + (x - x_0)(c_1 + (x - x_1)(c_2 + ...)): expand from the innermost factor.
    let mut poly = vec![0.0; n];
    for k in (0..n).rev() {
        // poly <- poly * (x - x_k) + c_k
        let xk = x.get(k).copied().unwrap_or(0.0);
        let mut carry = 0.0;
        for coef in poly.iter_mut() {
            let old = *coef;
            *coef = carry - xk * old;
            carry = old;
        }
        if let Some(c0) = poly.first_mut() {
            *c0 += c.get(k).copied().unwrap_or(0.0);
        }
    }
    poly
}

/// Evaluates sum_k c_k T_k(x) (Clenshaw), in f64: the plaintext reference of a DCT lookup.
pub fn evaluate_chebyshev_series(c: &[f64], x: f64) -> f64 {
    let (mut b1, mut b2) = (0.0, 0.0);
    for &ck in c.iter().skip(1).rev() {
        let b0 = 2.0 * x * b1 - b2 + ck;
        b2 = b1;
        b1 = b0;
    }
    x * b1 - b2 + c.first().copied().unwrap_or(0.0)
}

/// Evaluates sum_k c_k x^k (Horner), in f64.
pub fn evaluate_monomial_series(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ck| acc * x + ck)
}

impl IveTable<f64> {
    /// The CKKS preparation with the DCT basis: Chebyshev polynomials at the nodes
    /// [`chebyshev_node`], M by [`dct_coefficients`].
    pub fn dct(table: &RealTable) -> Result<Self> {
        Self::from_coefficients(dct_coefficients(table), PowerRule::Chebyshev)
    }

    /// Monomials at the same nodes, M by [`monomial_coefficients`]: the ill-conditioned
    /// comparison point.
    pub fn monomial_at_chebyshev_nodes(table: &RealTable) -> Result<Self> {
        Self::from_coefficients(monomial_coefficients(table)?, PowerRule::Monomial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(p: usize, d: usize, seed: u64) -> RealTable {
        let mut s = seed;
        let mut next = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        RealTable::new(
            &(0..p)
                .map(|_| (0..d).map(|_| next()).collect())
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn dct_matches_the_direct_sum() {
        let t = table(12, 3, 5);
        let m = dct_coefficients(&t);
        for (j, row) in m.iter().enumerate() {
            let col = t.column(j);
            for (k, &c) in row.iter().enumerate() {
                let direct: f64 = col
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        e * (core::f64::consts::PI * (k * (2 * i + 1)) as f64 / 24.0).cos()
                    })
                    .sum::<f64>()
                    * if k == 0 { 1.0 / 12.0 } else { 2.0 / 12.0 };
                assert!((c - direct).abs() < 1e-12, "{c} {direct}");
            }
        }
    }

    proptest! {
        /// The DCT coefficients reproduce every row at its node (well conditioned: 1e-11 at
        /// p = 256); monomial coefficients do at small p.
        #[test]
        fn both_bases_interpolate(p in 2usize..=256, seed in any::<u64>()) {
            let t = table(p, 2, seed);
            let m = dct_coefficients(&t);
            for i in 0..p {
                let x = chebyshev_node(i, p).unwrap();
                for (j, row) in m.iter().enumerate() {
                    let e = t.row(i).unwrap()[j];
                    prop_assert!((evaluate_chebyshev_series(row, x) - e).abs() < 1e-11);
                }
            }
            if p <= 12 {
                let mono = monomial_coefficients(&t).unwrap();
                for i in 0..p {
                    let x = chebyshev_node(i, p).unwrap();
                    let e = t.row(i).unwrap()[0];
                    prop_assert!((evaluate_monomial_series(&mono[0], x) - e).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(RealTable::new(&[]).is_err());
        assert!(RealTable::new(&[vec![1.0], vec![]]).is_err());
        assert!(RealTable::new(&[vec![f64::NAN]]).is_err());
        assert!(chebyshev_node(4, 4).is_err());
    }
}
