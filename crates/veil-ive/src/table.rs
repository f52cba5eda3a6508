//! The server's table E (p rows, d columns), the basis of the index encoding, and the
//! precomputed change of basis M = E^T B^-1 (DESIGN.md, IVE).

use veil_ring::Modulus;

use crate::error::{Error, Result};
use crate::exact::{dft, interpolate, primitive_root_of_unity};

/// Largest table height accepted anywhere (queries, tables): bounds every allocation.
pub const MAX_ROWS: usize = 1 << 16;
/// Largest embedding dimension accepted anywhere.
pub const MAX_COLS: usize = 4096;

/// The column count of `rows` after checking the shape every table needs: 1..=[`MAX_ROWS`] rows
/// of one length in 1..=[`MAX_COLS`].
pub(crate) fn checked_shape<T>(rows: &[Vec<T>]) -> Result<usize> {
    let cols = rows.first().map_or(0, Vec::len);
    if rows.is_empty() || rows.len() > MAX_ROWS || cols == 0 || cols > MAX_COLS {
        return Err(Error::InvalidConfig {
            reason: "a table needs 1..=65536 rows of 1..=4096 entries",
        });
    }
    if let Some(bad) = rows.iter().find(|r| r.len() != cols) {
        return Err(Error::Mismatch {
            what: "row length",
            got: bad.len(),
            expected: cols,
        });
    }
    Ok(cols)
}

/// An embedding table of integers: `rows` rows of `cols` entries (row-major).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbeddingTable {
    rows: usize,
    cols: usize,
    data: Vec<i64>,
}

impl EmbeddingTable {
    /// A table from its rows; all rows must have the same non-zero length.
    pub fn new(rows: &[Vec<i64>]) -> Result<Self> {
        let cols = checked_shape(rows)?;
        Ok(EmbeddingTable {
            rows: rows.len(),
            cols,
            data: rows.concat(),
        })
    }

    /// Number of rows p (the vocabulary size).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns d (the embedding dimension).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row i, or `None` past the end.
    pub fn row(&self, i: usize) -> Option<&[i64]> {
        self.data.get(i * self.cols..(i + 1) * self.cols)
    }

    /// Column j as a vector of length p.
    pub fn column(&self, j: usize) -> Vec<i64> {
        (0..self.rows)
            .map(|i| self.data.get(i * self.cols + j).copied().unwrap_or(0))
            .collect()
    }

    /// Largest |entry|.
    pub fn max_abs(&self) -> u64 {
        self.data
            .iter()
            .map(|v| v.unsigned_abs())
            .max()
            .unwrap_or(0)
    }
}

/// How an index i is encoded as a node x_i modulo t, public and shared by client and server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExactBasis {
    /// x_i = w^i for a primitive p-th root of unity w (p | t - 1): B is the DFT matrix and B^-1
    /// is applied by a number-theoretic transform.
    RootsOfUnity {
        /// The table height p.
        p: usize,
        /// The root w of order p.
        root: u64,
    },
    /// Arbitrary distinct nodes: B^-1 by exact interpolation (the Vandermonde inverse).
    Nodes(Vec<u64>),
}

impl ExactBasis {
    /// The DFT basis of size p modulo t (the deterministic root of [`primitive_root_of_unity`]).
    pub fn roots_of_unity(p: usize, t: &Modulus) -> Result<Self> {
        Ok(ExactBasis::RootsOfUnity {
            p,
            root: primitive_root_of_unity(t, p)?,
        })
    }

    /// The basis with nodes x_i = i + 1 (any p < t): the general fallback when p does not divide
    /// t - 1.
    pub fn consecutive(p: usize, t: &Modulus) -> Result<Self> {
        if p as u64 >= t.value() || p == 0 {
            return Err(Error::InvalidConfig {
                reason: "need 0 < p < t distinct nodes",
            });
        }
        Ok(ExactBasis::Nodes((1..=p as u64).collect()))
    }

    /// The table height this basis serves.
    pub fn size(&self) -> usize {
        match self {
            ExactBasis::RootsOfUnity { p, .. } => *p,
            ExactBasis::Nodes(n) => n.len(),
        }
    }

    /// The node x_i of index i (what the client encrypts).
    pub fn node(&self, i: usize, t: &Modulus) -> Result<u64> {
        if i >= self.size() {
            return Err(Error::IndexOutOfRange {
                index: i,
                rows: self.size(),
            });
        }
        match self {
            ExactBasis::RootsOfUnity { root, .. } => Ok(t.pow(*root, i as u64)),
            ExactBasis::Nodes(n) => n.get(i).copied().ok_or(Error::IndexOutOfRange {
                index: i,
                rows: n.len(),
            }),
        }
    }
}

/// M = E^T B^-1 for an exact basis: row j holds the monomial coefficients of the polynomial
/// P_j of degree < p with P_j(x_i) = E\[i\]\[j\] mod t, so that sum_k M\[j\]\[k\] x_i^k = E\[i\]\[j\].
/// Roots of unity: M\[j\] = p^-1 DFT_(w^-1)(column j), O(d p log p) for p a power of two.
pub fn change_of_basis(
    table: &EmbeddingTable,
    basis: &ExactBasis,
    t: &Modulus,
) -> Result<Vec<Vec<u64>>> {
    let p = table.rows();
    if basis.size() != p {
        return Err(Error::Mismatch {
            what: "basis size against table rows",
            got: basis.size(),
            expected: p,
        });
    }
    let half = (t.value() / 2) as i64;
    if table.max_abs() > half as u64 {
        return Err(Error::InvalidConfig {
            reason: "table entries must lie in (-t/2, t/2]",
        });
    }
    let reduced =
        |j: usize| -> Vec<u64> { table.column(j).iter().map(|&v| t.reduce_i64(v)).collect() };
    match basis {
        ExactBasis::RootsOfUnity { root, .. } => {
            let inv_root = t.inv(*root).ok_or(Error::InvalidConfig {
                reason: "root of unity not invertible",
            })?;
            let inv_p = t.inv(t.reduce(p as u64)).ok_or(Error::InvalidConfig {
                reason: "p not invertible mod t",
            })?;
            Ok((0..table.cols())
                .map(|j| {
                    let mut col = reduced(j);
                    dft(&mut col, inv_root, t);
                    col.iter_mut().for_each(|c| *c = t.mul(*c, inv_p));
                    col
                })
                .collect())
        }
        ExactBasis::Nodes(nodes) => (0..table.cols())
            .map(|j| interpolate(nodes, &reduced(j), t))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bases_give_polynomials_through_the_rows() {
        let t = Modulus::new(12289).unwrap();
        let rows: Vec<Vec<i64>> = (0..16).map(|i| vec![i * 3 - 20, 100 - i * i, 7]).collect();
        let table = EmbeddingTable::new(&rows).unwrap();
        let dft_basis = ExactBasis::roots_of_unity(16, &t).unwrap();
        let ExactBasis::RootsOfUnity { root, .. } = dft_basis else {
            unreachable!()
        };
        let nodes: Vec<u64> = (0..16).map(|i| t.pow(root, i)).collect();
        let fast = change_of_basis(&table, &dft_basis, &t).unwrap();
        let slow = change_of_basis(&table, &ExactBasis::Nodes(nodes), &t).unwrap();
        assert_eq!(fast, slow);
        let general =
            change_of_basis(&table, &ExactBasis::consecutive(16, &t).unwrap(), &t).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let x = (i + 1) as u64;
            for (j, &e) in row.iter().enumerate() {
                let v = general[j]
                    .iter()
                    .rev()
                    .fold(0, |acc, &c| t.add(t.mul(acc, x), c));
                assert_eq!(t.center(v), e);
            }
        }
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(EmbeddingTable::new(&[]).is_err());
        assert!(EmbeddingTable::new(&[vec![1, 2], vec![3]]).is_err());
        let t = Modulus::new(12289).unwrap();
        let table = EmbeddingTable::new(&[vec![7000], vec![0]]).unwrap();
        let basis = ExactBasis::roots_of_unity(2, &t).unwrap();
        assert!(change_of_basis(&table, &basis, &t).is_err());
        assert!(basis.node(2, &t).is_err());
    }
}
