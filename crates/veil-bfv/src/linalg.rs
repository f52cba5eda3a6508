//! Linear algebra on encrypted slot vectors: sum of slots and inner products by rotate-and-sum,
//! and plaintext matrix x encrypted vector by the diagonal method (Halevi and Shoup, "Algorithms
//! in HElib", CRYPTO 2014, sec. 4) with baby-step giant-step (sec. 4.1 of the same paper).
//!
//! Matrices act on the first row of slots (N/2 slots). The vector of length d is stored replicated
//! with period D (d rounded up to a power of two): slot s holds v[s mod D] (zero past d), so a row
//! rotation by k is a cyclic rotation by k of every period. Then for an m x d matrix M (m <= N/2),
//! y[i] = sum_{k < D} diag_k[i] v[(i + k) mod D] with diag_k[i] = M[i][(i + k) mod D]: D diagonals,
//! evaluated as sum_j rot_{j b}( sum_i rot_{-j b}(diag_{j b + i}) * rot_i(v) ) with b baby steps and
//! ceil(D / b) giant steps: (b - 1) + (ceil(D / b) - 1) rotations and D plaintext products.

use std::sync::Arc;

use veil_ring::bsgs::{DiagonalLayout, giant_step_sum};
use veil_ring::{Ntt, Poly};

use crate::ciphertext::Ciphertext;
use crate::encoding::{Encoder, Plaintext};
use crate::error::{Error, Result};
use crate::galois::GaloisKeys;
use crate::parameters::BfvParameters;
use crate::relin::RelinearizationKey;

impl Ciphertext {
    /// Every slot becomes the sum of all N slots: log2(N/2) row rotations by powers of two, then
    /// one column swap (needs the keys of [`crate::SecretKey::galois_keys`]).
    pub fn sum_slots(&self, gk: &GaloisKeys) -> Result<Ciphertext> {
        let row = self.params.degree() / 2;
        let mut acc = self.clone();
        let mut step = 1;
        while step < row {
            acc = acc.add(&acc.rotate_rows(step as i64, gk)?)?;
            step <<= 1;
        }
        acc.add(&acc.swap_columns(gk)?)
    }

    /// The inner product of two encrypted slot vectors, in every slot: one product, one
    /// relinearization, log2(N/2) + 1 rotations.
    pub fn inner_product(
        &self,
        other: &Ciphertext,
        rk: &RelinearizationKey,
        gk: &GaloisKeys,
    ) -> Result<Ciphertext> {
        self.mul_relin(other, rk)?.sum_slots(gk)
    }

    /// The inner product with a plaintext slot vector, in every slot: one plaintext product and
    /// log2(N/2) + 1 rotations.
    pub fn inner_product_plain(&self, pt: &Plaintext, gk: &GaloisKeys) -> Result<Ciphertext> {
        self.mul_plain(pt)?.sum_slots(gk)
    }
}

/// A plaintext m x d matrix prepared for products with encrypted vectors (diagonals pre-rotated,
/// encoded, and lifted to NTT form at level 0; layout: `veil_ring::bsgs`).
#[derive(Debug)]
pub struct PlainMatrix {
    params: Arc<BfvParameters>,
    layout: DiagonalLayout,
    /// diagonals[j * baby + i] = rot_{-j b}(diag_{j b + i}), or `None` when it is all zero.
    diagonals: Vec<Option<Poly<Ntt>>>,
}

impl PlainMatrix {
    /// Prepares `matrix` (rows of equal length d, entries reduced mod t as signed values) for
    /// products with vectors encoded by [`PlainMatrix::encode_vector`]. Needs m <= N/2 and
    /// d <= N/2. `baby_steps` defaults to about sqrt(D).
    pub fn new(encoder: &Encoder, matrix: &[Vec<i64>], baby_steps: Option<usize>) -> Result<Self> {
        let params = encoder.parameters().clone();
        let row_len = params.degree() / 2;
        let cols = matrix.first().map_or(0, Vec::len);
        if matrix.iter().any(|r| r.len() != cols) {
            return Err(Error::Plaintext {
                reason: "matrix must be non-empty, rectangular, at most N/2 x N/2",
            });
        }
        let layout =
            DiagonalLayout::new(matrix.len(), cols, row_len, baby_steps).map_err(|_| {
                Error::Plaintext {
                    reason: "matrix must be non-empty, rectangular, at most N/2 x N/2",
                }
            })?;
        let t = params.plaintext();
        let reduced: Vec<Vec<i64>> = matrix
            .iter()
            .map(|r| r.iter().map(|&v| t.center(t.reduce_i64(v))).collect())
            .collect();
        let ctx = params.ciphertext_context();
        let mut diagonals = Vec::with_capacity(layout.giant() * layout.baby());
        for j in 0..layout.giant() {
            for i in 0..layout.baby() {
                let Some(mut slots) = layout.diagonal(&reduced, j, i) else {
                    diagonals.push(None);
                    continue;
                };
                slots.resize(params.degree(), 0);
                let pt = encoder.encode_signed(&slots)?;
                let centered: Vec<i64> = pt.coefficients().iter().map(|&c| t.center(c)).collect();
                diagonals.push(Some(Poly::from_small(ctx, &centered)?.into_ntt()));
            }
        }
        Ok(PlainMatrix {
            params,
            layout,
            diagonals,
        })
    }

    /// Shape (m, d).
    pub fn shape(&self) -> (usize, usize) {
        self.layout.shape()
    }

    /// The rotation steps the product uses: 1..b (baby) and multiples of b (giant). Galois keys for
    /// exactly these make every rotation a single key switching.
    pub fn rotation_steps(&self) -> Vec<i64> {
        self.layout.rotation_steps()
    }

    /// Key switchings one product costs with the keys `gk` (composed rotations count each step).
    pub fn rotation_count(&self, gk: &GaloisKeys) -> Option<usize> {
        self.rotation_steps()
            .iter()
            .map(|&s| gk.rotation_cost(s))
            .sum()
    }

    /// Encodes a vector of length d for products with this matrix: replicated with period D along
    /// the first row of slots (the second row is left zero).
    pub fn encode_vector(&self, encoder: &Encoder, v: &[i64]) -> Result<Plaintext> {
        let slots = self.layout.replicate(v).map_err(|_| Error::Plaintext {
            reason: "vector length differs from the matrix's columns",
        })?;
        encoder.encode_signed(&slots)
    }

    /// M v for an encrypted vector prepared by [`PlainMatrix::encode_vector`]; the result holds
    /// y = M v in the first m slots. The input must be at level 0 with two polynomials.
    pub fn mul_vector(&self, ct: &Ciphertext, gk: &GaloisKeys) -> Result<Ciphertext> {
        if *ct.params != *self.params || ct.level != 0 || ct.c.len() != 2 {
            return Err(Error::Mismatch {
                what: "ciphertext (parameters, level 0, two polynomials)",
            });
        }
        // Baby steps: rot_i(v) in NTT form, rotations hoisted (one decomposition for all).
        let baby_steps = self.layout.baby();
        let steps: Vec<i64> = (1..baby_steps as i64).collect();
        let rotated = ct.rotate_rows_many(&steps, gk)?;
        let baby: Vec<Vec<Poly<Ntt>>> = core::iter::once(ct.clone())
            .chain(rotated)
            .map(|r| r.c.into_iter().map(|p| p.into_ntt()).collect())
            .collect();
        let giant = self.layout.giant();
        let mut result: Option<Ciphertext> = None;
        for j in 0..giant {
            // sum_i rot_i(v) * diag_{j b + i}, per polynomial and limb with one lazy reduction.
            let parts: Vec<&[Poly<Ntt>]> = baby.iter().map(Vec::as_slice).collect();
            let Some(acc) = giant_step_sum(&parts, &self.diagonals, j, baby_steps)? else {
                continue;
            };
            let inner = Ciphertext {
                params: self.params.clone(),
                level: 0,
                c: acc.into_iter().map(|p| p.into_coeff()).collect(),
            };
            let shifted = if j == 0 {
                inner
            } else {
                inner.rotate_rows((j * baby_steps) as i64, gk)?
            };
            result = Some(match result {
                None => shifted,
                Some(r) => r.add(&shifted)?,
            });
        }
        // An all-zero matrix: return an encryption-free zero ciphertext of the right shape.
        Ok(result.unwrap_or_else(|| ct.mul_scalar(0)))
    }
}
