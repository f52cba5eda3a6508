//! Galois automorphisms X -> X^g and slot rotations (Gentry, Halevi and Smart, "Fully homomorphic
//! encryption with polylog overhead", Eurocrypt 2012, sec. 4.2; SEAL's slot layout).
//!
//! With slot i of row 0 at psi^(3^i) and of row 1 at psi^(-3^i) (see `encoding.rs`), X -> X^(3^k)
//! rotates both rows left by k, and X -> X^(2N-1) swaps the rows. Applying sigma_g to (c_0, c_1)
//! gives a ciphertext under sigma_g(s); a key-switching key from sigma_g(s) to s brings it back.

use std::collections::BTreeMap;
use std::sync::Arc;

use veil_ring::Poly;
use veil_ring::sample::Sampler;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::SecretKey;
use crate::parameters::BfvParameters;
use crate::relin::KeySwitchingKey;
use veil_ring::keyswitch::Decomposition;

/// The Galois element of a left row rotation by `step` (negative: right), 3^step mod 2N.
pub(crate) fn rotation_element(n: usize, step: i64) -> u64 {
    let two_n = 2 * n as u64;
    let row = (n / 2) as i64;
    let k = step.rem_euclid(row) as u64;
    (0..k).fold(1u64, |acc, _| acc * 3 % two_n)
}

/// Key-switching keys for a set of Galois elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaloisKeys {
    params: Arc<BfvParameters>,
    keys: BTreeMap<u64, KeySwitchingKey>,
    /// Row-rotation steps with a key, in (0, N/2).
    steps: Vec<usize>,
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
        let n = self.params.degree();
        let row = (n / 2) as i64;
        let mut keys = BTreeMap::new();
        let mut normalized = Vec::new();
        let mut elements: Vec<u64> = Vec::new();
        for &s in steps {
            let k = s.rem_euclid(row) as usize;
            if k != 0 && !normalized.contains(&k) {
                normalized.push(k);
                elements.push(rotation_element(n, s));
            }
        }
        if column_swap {
            elements.push(2 * n as u64 - 1);
        }
        let coeffs = Poly::from_small(self.params.key_context(), &self.coeffs)?;
        for g in elements {
            let target = coeffs.automorphism(g)?.into_ntt();
            keys.insert(g, KeySwitchingKey::new(self, &target, sampler)?);
        }
        normalized.sort_unstable();
        Ok(GaloisKeys {
            params: self.params.clone(),
            keys,
            steps: normalized,
        })
    }
}

impl GaloisKeys {
    /// The parameters.
    pub(crate) fn params(&self) -> &Arc<BfvParameters> {
        &self.params
    }

    /// The keys by Galois element.
    pub(crate) fn keys(&self) -> &BTreeMap<u64, KeySwitchingKey> {
        &self.keys
    }

    /// Rebuilds keys read from bytes: the row steps are recovered from the elements.
    pub(crate) fn from_parts(
        params: &Arc<BfvParameters>,
        keys: Vec<(u64, KeySwitchingKey)>,
    ) -> Self {
        let n = params.degree();
        let row = n / 2;
        let two_n = 2 * n as u64;
        let mut steps = Vec::new();
        let mut g = 1u64;
        for k in 1..row {
            g = g * 3 % two_n; // 3^k mod 2N
            if keys.iter().any(|(h, _)| *h == g) {
                steps.push(k);
            }
        }
        GaloisKeys {
            params: params.clone(),
            keys: keys.into_iter().collect(),
            steps,
        }
    }

    /// The row-rotation steps (left, in (0, N/2)) that have a key.
    pub fn steps(&self) -> &[usize] {
        &self.steps
    }

    /// Whether the column swap has a key.
    pub fn has_column_swap(&self) -> bool {
        self.keys
            .contains_key(&(2 * self.params.degree() as u64 - 1))
    }

    /// The keyed steps whose sum is `k` (mod N/2): the exact step if keyed, else the binary
    /// decomposition over keyed powers of two; `None` if some needed power has no key.
    fn plan(&self, k: usize) -> Option<Vec<usize>> {
        if k == 0 {
            return Some(Vec::new());
        }
        if self.steps.contains(&k) {
            return Some(vec![k]);
        }
        let mut out = Vec::new();
        for bit in 0..usize::BITS {
            let p = 1usize << bit;
            if k & p != 0 {
                if !self.steps.contains(&p) {
                    return None;
                }
                out.push(p);
            }
        }
        Some(out)
    }

    /// How many key switchings a row rotation by `step` costs with these keys.
    pub fn rotation_cost(&self, step: i64) -> Option<usize> {
        let row = (self.params.degree() / 2) as i64;
        self.plan(step.rem_euclid(row) as usize).map(|p| p.len())
    }
}

impl Ciphertext {
    fn apply_galois(&self, g: u64, gk: &GaloisKeys) -> Result<Ciphertext> {
        let ksk = gk.keys.get(&g).ok_or(Error::Mismatch {
            what: "Galois key for this element",
        })?;
        let [c0, c1] = self.c.as_slice() else {
            return Err(Error::Mismatch {
                what: "ciphertext size: relinearize before rotating",
            });
        };
        let (s0, s1) = (c0.automorphism(g)?, c1.automorphism(g)?);
        let (c0, c1) = ksk.switch(&s1, self.level, [Some(&s0), None])?;
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
        let n = self.params.degree();
        let row = (n / 2) as i64;
        let plan = gk
            .plan(step.rem_euclid(row) as usize)
            .ok_or(Error::Mismatch {
                what: "Galois keys for this rotation",
            })?;
        let mut ct = self.clone();
        for k in plan {
            ct = ct.apply_galois(rotation_element(n, k as i64), gk)?;
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
            let g = rotation_element(n, k);
            let Some(ksk) = gk.keys.get(&g).filter(|_| k != 0) else {
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
            let (r0, r1) = ksk.switch_decomposed(d, self.level, Some(&perm), [Some(&s0), None])?;
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
