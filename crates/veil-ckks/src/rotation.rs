//! Slot rotations and conjugation (Cheon, Kim, Kim and Song, Asiacrypt 2017, sec. 4.3;
//! Gentry, Halevi and Smart, Eurocrypt 2012, sec. 4.2, for automorphisms of RLWE ciphertexts).
//!
//! Slot j sits at zeta^(5^j) (see `encoding.rs`), so X -> X^(5^k) rotates the slots left by k and
//! X -> X^(2N-1) conjugates them. Applying sigma_g to (c_0, c_1) gives a ciphertext under
//! sigma_g(s); the Galois key of g switches sigma_g(c_1) back to s. Many rotations of one
//! ciphertext share one decomposition of c_1 (hoisting: Halevi and Shoup, Crypto 2018, sec. 5).

use veil_ring::automorphism::ntt_permutation;
use veil_ring::keyswitch::Decomposition;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::GaloisKeys;

impl Ciphertext {
    fn two_parts(&self) -> Result<[&veil_ring::Poly<veil_ring::Ntt>; 2]> {
        match self.c.as_slice() {
            [c0, c1] => Ok([c0, c1]),
            _ => Err(Error::Mismatch {
                what: "ciphertext size: relinearize before rotating",
            }),
        }
    }

    fn check_keys(&self, gk: &GaloisKeys) -> Result<()> {
        if *gk.params == *self.params {
            Ok(())
        } else {
            Err(Error::Mismatch { what: "parameters" })
        }
    }

    /// sigma_g then key switching back to s.
    fn apply_galois(&self, g: u64, gk: &GaloisKeys) -> Result<Ciphertext> {
        let key = gk.set.get(g).ok_or(Error::Mismatch {
            what: "Galois key for this element",
        })?;
        let [c0, c1] = self.two_parts()?;
        let rings = self.params.level(self.level)?.rings();
        let s1 = c1.clone().into_coeff().automorphism(g)?;
        let s0 = c0.automorphism(g)?;
        let (d0, d1) = key.switch_ntt(rings, &s1, [Some(&s0), None])?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            scale: self.scale,
            c: vec![d0, d1],
        })
    }

    /// Rotates the slots left by `step` (right if negative), composing keyed steps when `step`
    /// has no key of its own (see [`GaloisKeys::rotation_cost`]).
    pub fn rotate(&self, step: i64, gk: &GaloisKeys) -> Result<Ciphertext> {
        self.check_keys(gk)?;
        let elements = gk.set.plan_elements(step);
        let missing = Error::Mismatch {
            what: "Galois keys for this rotation",
        };
        elements
            .ok_or(missing)?
            .into_iter()
            .try_fold(self.clone(), |ct, g| ct.apply_galois(g, gk))
    }

    /// Complex conjugation of every slot.
    pub fn conjugate(&self, gk: &GaloisKeys) -> Result<Ciphertext> {
        self.check_keys(gk)?;
        self.apply_galois(2 * self.params.degree() as u64 - 1, gk)
    }

    /// Rotations of this ciphertext by each of `steps`, in order. Steps with a key of their own
    /// share one decomposition of c_1 (hoisting): r rotations cost k (k + 1) digit transforms in
    /// all instead of r k (k + 1). Other steps are composed as in [`Ciphertext::rotate`].
    pub fn rotate_many(&self, steps: &[i64], gk: &GaloisKeys) -> Result<Vec<Ciphertext>> {
        self.check_keys(gk)?;
        let [c0, c1] = self.two_parts()?;
        let n = self.params.degree();
        let rings = self.params.level(self.level)?.rings();
        let mut digits: Option<Decomposition> = None;
        let mut out = Vec::with_capacity(steps.len());
        for &step in steps {
            let k = step.rem_euclid(self.params.slots() as i64);
            let g = gk.set.element(k);
            let Some(key) = gk.set.get(g).filter(|_| k != 0) else {
                out.push(self.rotate(step, gk)?);
                continue;
            };
            if digits.is_none() {
                digits = Some(Decomposition::new(rings, &c1.clone().into_coeff())?);
            }
            let Some(d) = digits.as_ref() else {
                continue;
            };
            let perm = ntt_permutation(n, g)?;
            let s0 = c0.permute_slots(&perm)?;
            let (d0, d1) = key.switch_decomposed_ntt(rings, d, Some(&perm), [Some(&s0), None])?;
            out.push(Ciphertext {
                params: self.params.clone(),
                level: self.level,
                scale: self.scale,
                c: vec![d0, d1],
            });
        }
        Ok(out)
    }
}
