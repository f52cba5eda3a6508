//! Relinearization: key switching from s^2 to s. The key switching itself (hybrid, with one
//! special prime P) is `veil_ring::keyswitch`, shared with the other RLWE schemes; this module
//! owns the keys (their sampling from the secret, seeds for the wire format) and the BFV
//! operations on them.

use std::sync::Arc;

use veil_ring::keyswitch::{self, Decomposition};
use veil_ring::sample::Sampler;
use veil_ring::{Coeff, Ntt, Poly};

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{SecretKey, error_poly, expand_uniform, fresh_seed};
use crate::parameters::BfvParameters;

/// A key-switching key from s' to s: one pair (b_i, a_i) over Q P per prime of Q, in NTT form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeySwitchingKey {
    pub(crate) params: Arc<BfvParameters>,
    pub(crate) pairs: Vec<(Poly<Ntt>, Poly<Ntt>)>,
    /// The seed each a_i was expanded from: serialized instead of a_i.
    pub(crate) seeds: Vec<[u8; 32]>,
}

/// The relinearization key: a key-switching key from s^2 to s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelinearizationKey {
    pub(crate) ksk: KeySwitchingKey,
}

impl KeySwitchingKey {
    /// Key switching from `target` (s' in NTT form over Q P) to the secret `sk`.
    pub(crate) fn new(sk: &SecretKey, target: &Poly<Ntt>, sampler: &mut Sampler) -> Result<Self> {
        let params = &sk.params;
        let ctx = params.key_context();
        let mut pairs = Vec::with_capacity(params.ciphertext_moduli().len());
        let mut seeds = Vec::with_capacity(params.ciphertext_moduli().len());
        for i in 0..params.ciphertext_moduli().len() {
            let seed = fresh_seed(sampler);
            let a = expand_uniform(ctx, &seed);
            seeds.push(seed);
            let e = error_poly(ctx, sampler)?.into_ntt();
            let b = keyswitch::key_body(i, &sk.s_qp, target, &a, &e)?;
            pairs.push((b, a));
        }
        Ok(KeySwitchingKey {
            params: params.clone(),
            pairs,
            seeds,
        })
    }

    /// (u_0, u_1) over Q_l with u_0 + u_1 s = d s' + small, for d over Q_l (level `level`) in
    /// coefficient form, plus `addends` (see `veil_ring::keyswitch::switch`).
    pub(crate) fn switch(
        &self,
        d: &Poly<Coeff>,
        level: usize,
        addends: [Option<&Poly<Coeff>>; 2],
    ) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
        let lv = self.params.level(level)?;
        Ok(keyswitch::switch(&self.pairs, lv.rings(), d, addends)?)
    }

    /// Key switching of a decomposition made once, composed with the automorphism of NTT-domain
    /// permutation `perm` (hoisted rotations; see `veil_ring::keyswitch::switch_decomposed`).
    pub(crate) fn switch_decomposed(
        &self,
        digits: &Decomposition,
        level: usize,
        perm: Option<&[usize]>,
        addends: [Option<&Poly<Coeff>>; 2],
    ) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
        let lv = self.params.level(level)?;
        Ok(keyswitch::switch_decomposed(
            &self.pairs,
            lv.rings(),
            digits,
            perm,
            addends,
        )?)
    }
}

impl SecretKey {
    /// The relinearization key, with fresh randomness.
    pub fn relinearization_key(&self) -> Result<RelinearizationKey> {
        self.relinearization_key_with(&mut Sampler::from_entropy())
    }

    /// The relinearization key, with the caller's sampler.
    pub fn relinearization_key_with(&self, sampler: &mut Sampler) -> Result<RelinearizationKey> {
        let s2 = self.s_qp.mul(&self.s_qp)?;
        Ok(RelinearizationKey {
            ksk: KeySwitchingKey::new(self, &s2, sampler)?,
        })
    }
}

impl Ciphertext {
    /// Brings a three-polynomial ciphertext (a product) back to two polynomials.
    pub fn relinearize(&self, rk: &RelinearizationKey) -> Result<Ciphertext> {
        if *rk.ksk.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        match self.c.as_slice() {
            [_, _] => Ok(self.clone()),
            [c0, c1, c2] => {
                let (c0, c1) = rk.ksk.switch(c2, self.level, [Some(c0), Some(c1)])?;
                Ok(Ciphertext {
                    params: self.params.clone(),
                    level: self.level,
                    c: vec![c0, c1],
                })
            }
            _ => Err(Error::Mismatch {
                what: "ciphertext size",
            }),
        }
    }

    /// mul then relinearize.
    pub fn mul_relin(&self, other: &Ciphertext, rk: &RelinearizationKey) -> Result<Ciphertext> {
        self.mul(other)?.relinearize(rk)
    }
}
