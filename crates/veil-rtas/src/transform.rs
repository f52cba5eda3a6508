//! The data owner's random transformations (sec. 3.2 and 4.2): random permutations of samples or
//! features and a random invertible linear map of the features, each with the inverse that brings
//! results back.
//!
//! Theorem 3.4: a random permutation of n entries has 1/n!-reconstructive privacy. Theorem 3.3: a
//! Gaussian linear map leaves an adversary without information in n - 1 dimensions. Neither hides
//! structure that survives the transformation (sec. 3.4: image neighbourhoods, graph degrees).

use ndarray::{Array2, ArrayView2, Axis};
use rand::Rng;

use crate::error::{Error, Result};
use crate::prg::{invert_permutation, random_permutation};

/// A random order of the rows (samples). Permute features and labels with the same one; per-row
/// results come back to the original order with [`RowPermutation::invert`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowPermutation {
    perm: Vec<usize>,
}

impl RowPermutation {
    /// A uniformly random permutation of `n` rows.
    pub fn random<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Self {
        RowPermutation {
            perm: random_permutation(rng, n),
        }
    }

    /// Row i of the result is row `perm[i]` of `x`.
    pub fn apply(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.check(x.nrows())?;
        Ok(x.select(Axis(0), &self.perm))
    }

    /// Undoes [`RowPermutation::apply`] on any per-row result (predictions, for example).
    pub fn invert(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.check(y.nrows())?;
        Ok(y.select(Axis(0), &invert_permutation(&self.perm)))
    }

    fn check(&self, n: usize) -> Result<()> {
        if n != self.perm.len() {
            return Err(Error::ShapeMismatch {
                op: "row permutation",
                left: (n, 0),
                right: (self.perm.len(), 0),
            });
        }
        Ok(())
    }
}

/// A random order of the columns (features). A linear model fitted on permuted features maps
/// back with [`ColumnPermutation::weights_back`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnPermutation {
    perm: Vec<usize>,
}

impl ColumnPermutation {
    /// A uniformly random permutation of `d` columns.
    pub fn random<R: Rng + ?Sized>(d: usize, rng: &mut R) -> Self {
        ColumnPermutation {
            perm: random_permutation(rng, d),
        }
    }

    /// Column j of the result is column `perm[j]` of `x`.
    pub fn apply(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.check(x.ncols())?;
        Ok(x.select(Axis(1), &self.perm))
    }

    /// Undoes [`ColumnPermutation::apply`].
    pub fn invert(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.check(y.ncols())?;
        Ok(y.select(Axis(1), &invert_permutation(&self.perm)))
    }

    /// Weights (d x k) fitted on permuted features, as weights on the original features.
    pub fn weights_back(&self, w: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.check(w.nrows())?;
        Ok(w.select(Axis(0), &invert_permutation(&self.perm)))
    }

    fn check(&self, d: usize) -> Result<()> {
        if d != self.perm.len() {
            return Err(Error::ShapeMismatch {
                op: "column permutation",
                left: (0, d),
                right: (0, self.perm.len()),
            });
        }
        Ok(())
    }
}

/// A random invertible linear map of the features, X -> X A with A (d x d) Gaussian
/// (entries N(0, 1/d), so that the scale of the data is kept; Theorem 3.3 uses N(0, 1)).
#[derive(Clone, Debug)]
pub struct LinearTransform {
    a: Array2<f64>,
    a_inv: Array2<f64>,
}

/// Largest condition estimate (max row sum norm of A times that of A^-1) accepted.
const MAX_CONDITION: f64 = 1e6;

impl LinearTransform {
    /// A random well-conditioned map of `d` features (redrawn until its condition is below 1e6).
    pub fn random<R: Rng + ?Sized>(d: usize, rng: &mut R) -> Result<Self> {
        let scale = 1.0 / (d.max(1) as f64).sqrt();
        for _ in 0..32 {
            let a = Array2::from_shape_fn((d, d), |_| gaussian(rng) * scale);
            if let Ok(t) = LinearTransform::from_matrix(a) {
                return Ok(t);
            }
        }
        Err(Error::Singular)
    }

    /// The map of a given square matrix (fails if it is singular or too ill-conditioned).
    pub fn from_matrix(a: Array2<f64>) -> Result<Self> {
        let a_inv = invert(a.view())?;
        let norm = |m: &Array2<f64>| {
            m.rows()
                .into_iter()
                .map(|r| r.iter().map(|v| v.abs()).sum::<f64>())
                .fold(0.0, f64::max)
        };
        if norm(&a) * norm(&a_inv) > MAX_CONDITION {
            return Err(Error::Singular);
        }
        Ok(LinearTransform { a, a_inv })
    }

    /// The matrix A.
    pub fn matrix(&self) -> ArrayView2<'_, f64> {
        self.a.view()
    }

    /// X A.
    pub fn apply(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_mul("linear transform", x.dim(), self.a.dim())?;
        Ok(x.dot(&self.a))
    }

    /// Y A^-1 (undoes [`LinearTransform::apply`]).
    pub fn invert(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_mul("inverse transform", y.dim(), self.a_inv.dim())?;
        Ok(y.dot(&self.a_inv))
    }

    /// Weights W' (d x k) of a linear model fitted on X A, as weights on X: (X A) W' = X (A W').
    pub fn weights_back(&self, w: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_mul("weights back", self.a.dim(), w.dim())?;
        Ok(self.a.dot(&w))
    }
}

fn check_mul(op: &'static str, a: (usize, usize), b: (usize, usize)) -> Result<()> {
    if a.1 != b.0 {
        return Err(Error::ShapeMismatch {
            op,
            left: a,
            right: b,
        });
    }
    Ok(())
}

/// A standard normal sample (Box-Muller).
pub(crate) fn gaussian<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Gauss-Jordan inversion with partial pivoting.
fn invert(a: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let (n, m) = a.dim();
    if n != m || n == 0 {
        return Err(Error::Singular);
    }
    let mut w = a.to_owned();
    let mut inv = Array2::eye(n);
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| w[[i, col]].abs().total_cmp(&w[[j, col]].abs()))
            .unwrap_or(col);
        let p = w[[pivot, col]];
        if !p.is_finite() || p.abs() < 1e-12 {
            return Err(Error::Singular);
        }
        if pivot != col {
            for j in 0..n {
                w.swap([pivot, j], [col, j]);
                inv.swap([pivot, j], [col, j]);
            }
        }
        for j in 0..n {
            w[[col, j]] /= p;
            inv[[col, j]] /= p;
        }
        for i in (0..n).filter(|&i| i != col) {
            let factor = w[[i, col]];
            if factor != 0.0 {
                for j in 0..n {
                    w[[i, j]] -= factor * w[[col, j]];
                    inv[[i, j]] -= factor * inv[[col, j]];
                }
            }
        }
    }
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn permutations_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let x = Array2::from_shape_fn((6, 4), |(i, j)| (i * 4 + j) as f64);
        let rp = RowPermutation::random(6, &mut rng);
        assert_eq!(rp.invert(rp.apply(x.view()).unwrap().view()).unwrap(), x);
        let cp = ColumnPermutation::random(4, &mut rng);
        let xp = cp.apply(x.view()).unwrap();
        assert_eq!(cp.invert(xp.view()).unwrap(), x);
        let w = Array2::from_shape_fn((4, 2), |(i, j)| (i + 10 * j) as f64);
        // A model on permuted features, mapped back, predicts the same.
        let wp = cp.apply(w.t()).unwrap().t().to_owned();
        assert_eq!(xp.dot(&wp), x.dot(&cp.weights_back(wp.view()).unwrap()));
        assert!(rp.apply(Array2::<f64>::zeros((5, 4)).view()).is_err());
    }

    #[test]
    fn linear_transform_inverts_and_maps_weights_back() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let t = LinearTransform::random(16, &mut rng).unwrap();
        let x = Array2::from_shape_fn((5, 16), |(i, j)| ((i * 16 + j) as f64).sin());
        let y = t.apply(x.view()).unwrap();
        let back = t.invert(y.view()).unwrap();
        assert!((back - &x).iter().all(|v| v.abs() < 1e-9));
        let w = Array2::from_shape_fn((16, 3), |(i, j)| (i as f64 - j as f64) * 0.1);
        let pred = y.dot(&w);
        let pred2 = x.dot(&t.weights_back(w.view()).unwrap());
        assert!((pred - pred2).iter().all(|v| v.abs() < 1e-9));
        assert!(LinearTransform::from_matrix(Array2::zeros((3, 3))).is_err());
    }
}
