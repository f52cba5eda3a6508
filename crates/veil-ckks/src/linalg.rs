//! Linear algebra on encrypted slot vectors: sum of slots by rotate-and-sum, and plaintext
//! matrix x encrypted vector by the diagonal method with baby-step giant-step (Halevi and Shoup,
//! CRYPTO 2014, sec. 4 and 4.1; the slot layout is `veil_ring::bsgs`, shared with `veil-bfv`).
//!
//! The diagonals are encoded at the scale q_l of the level they are prepared for, so that the
//! single rescale at the end returns the vector's own scale exactly.

use std::sync::Arc;

use veil_ring::bsgs::{DiagonalLayout, giant_step_sum};
use veil_ring::{Ntt, Poly};

use crate::ciphertext::{Ciphertext, Plaintext};
use crate::error::{Error, Result};
use crate::keys::GaloisKeys;
use crate::parameters::CkksParameters;

impl Ciphertext {
    /// Every slot becomes the sum of all N/2 slots: log2(N/2) rotations by powers of two (the
    /// keys of [`crate::SecretKey::galois_keys`]).
    pub fn sum_slots(&self, gk: &GaloisKeys) -> Result<Ciphertext> {
        let slots = self.params.slots();
        let mut acc = self.clone();
        let mut step = 1;
        while step < slots {
            let rotated = acc.rotate(step as i64, gk)?;
            acc.add_assign(&rotated)?;
            step <<= 1;
        }
        Ok(acc)
    }
}

/// A real m x d matrix prepared for products with encrypted vectors at one level: its
/// pre-rotated diagonals, encoded at scale q_l in NTT form.
#[derive(Debug)]
pub struct PlainMatrix {
    params: Arc<CkksParameters>,
    layout: DiagonalLayout,
    level: usize,
    /// diagonals[j * baby + i] = rot_{-j b}(diag_{j b + i}), or `None` when it is all zero.
    diagonals: Vec<Option<Poly<Ntt>>>,
}

impl PlainMatrix {
    /// Prepares `matrix` (m rows of d reals, m, d <= N/2) for vectors at `level` (>= 1): the product
    /// consumes that level. `baby_steps` defaults to about sqrt(D).
    pub fn new(
        params: &Arc<CkksParameters>,
        matrix: &[Vec<f64>],
        level: usize,
        baby_steps: Option<usize>,
    ) -> Result<Self> {
        let cols = matrix.first().map_or(0, Vec::len);
        if matrix
            .iter()
            .any(|r| r.len() != cols || r.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::Encoding {
                reason: "the matrix must be rectangular with finite entries",
            });
        }
        let layout = DiagonalLayout::new(matrix.len(), cols, params.slots(), baby_steps)?;
        if level == 0 {
            return Err(Error::Level {
                level,
                max: params.max_level(),
            });
        }
        let scale = params.prime(level)?.value() as f64;
        let mut diagonals = Vec::with_capacity(layout.giant() * layout.baby());
        for j in 0..layout.giant() {
            for i in 0..layout.baby() {
                diagonals.push(match layout.diagonal(matrix, j, i) {
                    None => None,
                    Some(slots) => Some(Plaintext::encode_real(params, &slots, level, scale)?.poly),
                });
            }
        }
        Ok(PlainMatrix {
            params: params.clone(),
            layout,
            level,
            diagonals,
        })
    }

    /// Shape (m, d).
    pub fn shape(&self) -> (usize, usize) {
        self.layout.shape()
    }

    /// The level of the vectors this matrix multiplies.
    pub fn level(&self) -> usize {
        self.level
    }

    /// The rotation steps one product uses (Galois keys for exactly these make each rotation one
    /// key switching).
    pub fn rotation_steps(&self) -> Vec<i64> {
        self.layout.rotation_steps()
    }

    /// The vector of length d replicated with period D over the slots, ready to encrypt.
    pub fn replicate(&self, v: &[f64]) -> Result<Vec<f64>> {
        Ok(self.layout.replicate(v)?)
    }

    /// M v for an encrypted vector laid out by [`PlainMatrix::replicate`] (at this matrix's level or
    /// above): y = M v in the first m slots, one level lower, same scale.
    pub fn mul_vector(&self, ct: &Ciphertext, gk: &GaloisKeys) -> Result<Ciphertext> {
        if *ct.params != *self.params || ct.c.len() != 2 {
            return Err(Error::Mismatch {
                what: "ciphertext (parameters, two polynomials)",
            });
        }
        let ct = ct.mod_drop_to(self.level)?;
        let baby_steps = self.layout.baby();
        let steps: Vec<i64> = (1..baby_steps as i64).collect();
        let baby: Vec<Ciphertext> = core::iter::once(Ok(ct.clone()))
            .chain(ct.rotate_many(&steps, gk)?.into_iter().map(Ok))
            .collect::<Result<_>>()?;
        let mut result: Option<Ciphertext> = None;
        for j in 0..self.layout.giant() {
            let parts: Vec<&[Poly<Ntt>]> = baby.iter().map(|r| r.c.as_slice()).collect();
            let Some(c) = giant_step_sum(&parts, &self.diagonals, j, baby_steps)? else {
                continue;
            };
            let inner = Ciphertext {
                params: self.params.clone(),
                level: self.level,
                scale: ct.scale * self.params.prime(self.level)?.value() as f64,
                c,
            };
            let shifted = if j == 0 {
                inner
            } else {
                inner.rotate((j * baby_steps) as i64, gk)?
            };
            result = Some(match result {
                None => shifted,
                Some(mut r) => {
                    r.add_assign(&shifted)?;
                    r
                }
            });
        }
        let product = match result {
            Some(r) => r,
            None => {
                let mut z = ct.mul_integer(0);
                z.scale *= self.params.prime(self.level)?.value() as f64;
                z
            }
        };
        let mut out = product.rescale()?;
        out.scale = ct.scale;
        Ok(out)
    }
}
