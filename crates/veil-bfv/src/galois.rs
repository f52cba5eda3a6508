//! Galois automorphisms X -> X^g and slot rotations (Gentry, Halevi and Smart, "Fully homomorphic
//! encryption with polylog overhead", Eurocrypt 2012, sec. 4.2; SEAL's slot layout).
//!
//! With slot i of row 0 at psi^(3^i) and of row 1 at psi^(-3^i) (see `encoding.rs`), X -> X^(3^k)
//! rotates both rows left by k, and X -> X^(2N-1) swaps the rows. Applying sigma_g to (c_0, c_1)
//! gives a ciphertext under sigma_g(s); a key-switching key from sigma_g(s) to s brings it back.

use std::sync::Arc;

use veil_ring::keys::GaloisKeySet;
use veil_ring::keyswitch::Decomposition;
use veil_ring::sample::Sampler;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::SecretKey;
use crate::parameters::BfvParameters;

/// The generator of the row rotations: X -> X^(3^k) rotates both rows left by k.
pub(crate) const ROW_GENERATOR: u64 = 3;

/// Key-switching keys for a set of Galois elements (`veil_ring::keys::GaloisKeySet`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaloisKeys {
    pub(crate) params: Arc<BfvParameters>,
    /// Shared (`Arc`) so that [`GaloisKeys::with_parameters`] copies no key material.
    pub(crate) set: Arc<GaloisKeySet>,
}

impl SecretKey {
    /// Galois keys for left row rotations by every power of two in (0, N/2) (so any rotation is
    /// a product of at most log2(N/2) of them), and for the column swap.
    pub fn galois_keys(&self) -> Result<GaloisKeys> {
        let row = self.params.degree() / 2;
        let steps: Vec<i64> = (0..row.trailing_zeros()).map(|b| 1i64 << b).collect();
        self.galois_keys_for(&steps, true, &mut Sampler::from_entropy())
    }

    /// Galois keys for the given row-rotation steps (negative: right) and, if asked, the column swap.
    pub fn galois_keys_for(
        &self,
        steps: &[i64],
        column_swap: bool,
        sampler: &mut Sampler,
    ) -> Result<GaloisKeys> {
        let swap = 2 * self.params.degree() as u64 - 1;
        let extra: &[u64] = if column_swap { &[swap] } else { &[] };
        let digits = self.params.ciphertext_moduli().len();
        Ok(GaloisKeys {
            params: self.params.clone(),
            set: Arc::new(
                self.secret
                    .galois_keys(digits, ROW_GENERATOR, steps, extra, sampler)?,
            ),
        })
    }
}

impl GaloisKeys {
    /// The row-rotation steps (left, in (0, N/2)) that have a key.
    pub fn steps(&self) -> &[usize] {
        self.set.steps()
    }

    /// Whether the column swap has a key.
    pub fn has_column_swap(&self) -> bool {
        self.set.get(2 * self.params.degree() as u64 - 1).is_some()
    }

    /// How many key switchings a row rotation by `step` costs with these keys.
    pub fn rotation_cost(&self, step: i64) -> Option<usize> {
        self.set.plan(step).map(|p| p.len())
    }
}

impl Ciphertext {
    fn apply_galois(&self, g: u64, gk: &GaloisKeys) -> Result<Ciphertext> {
        let key = gk.set.get(g).ok_or(Error::Mismatch {
            what: "Galois key for this element",
        })?;
        let [c0, c1] = self.c.as_slice() else {
            return Err(Error::Mismatch {
                what: "ciphertext size: relinearize before rotating",
            });
        };
        let (s0, s1) = (c0.automorphism(g)?, c1.automorphism(g)?);
        let rings = self.params.level(self.level)?.rings();
        let (c0, c1) = key.switch(rings, &s1, [Some(&s0), None])?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            c: vec![c0, c1],
        })
    }

    /// Rotates both rows of slots left by `step` (right if negative), composing keyed steps when
    /// `step` itself has no key; see [`GaloisKeys::rotation_cost`].
    pub fn rotate_rows(&self, step: i64, gk: &GaloisKeys) -> Result<Ciphertext> {
        if *gk.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let mut ct = self.clone();
        for g in gk.set.plan_elements(step).ok_or(Error::Mismatch {
            what: "Galois keys for this rotation",
        })? {
            ct = ct.apply_galois(g, gk)?;
        }
        Ok(ct)
    }

    /// Row rotations of this ciphertext by each of `steps` (negative: right), in order.
    ///
    /// Steps with a key of their own share one key-switching decomposition of c_1 (hoisting:
    /// the digits are transformed once, and each rotation permutes their NTT slots instead of
    /// transforming again), so r such rotations cost k (k + 1) forward transforms in all instead of
    /// r k (k + 1). Other steps are composed from keyed ones as in [`Ciphertext::rotate_rows`].
    pub fn rotate_rows_many(&self, steps: &[i64], gk: &GaloisKeys) -> Result<Vec<Ciphertext>> {
        if *gk.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let [c0, c1] = self.c.as_slice() else {
            return Err(Error::Mismatch {
                what: "ciphertext size: relinearize before rotating",
            });
        };
        let n = self.params.degree();
        let row = (n / 2) as i64;
        let mut digits: Option<Decomposition> = None;
        let mut out = Vec::with_capacity(steps.len());
        for &step in steps {
            let k = step.rem_euclid(row);
            let g = gk.set.element(k);
            let Some(key) = gk.set.get(g).filter(|_| k != 0) else {
                out.push(self.rotate_rows(step, gk)?);
                continue;
            };
            if digits.is_none() {
                digits = Some(Decomposition::new(
                    self.params.level(self.level)?.rings(),
                    c1,
                )?);
            }
            let Some(d) = digits.as_ref() else { continue };
            let perm = veil_ring::automorphism::ntt_permutation(n, g)?;
            let s0 = c0.automorphism(g)?;
            let rings = self.params.level(self.level)?.rings();
            let (r0, r1) = key.switch_decomposed(rings, d, Some(&perm), [Some(&s0), None])?;
            out.push(Ciphertext {
                params: self.params.clone(),
                level: self.level,
                c: vec![r0, r1],
            });
        }
        Ok(out)
    }

    /// Swaps the two rows of slots.
    pub fn swap_columns(&self, gk: &GaloisKeys) -> Result<Ciphertext> {
        if *gk.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        self.apply_galois(2 * self.params.degree() as u64 - 1, gk)
    }
}
