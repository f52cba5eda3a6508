//! One level of the modulus chain and what it needs: its rings, the scaling Delta, the decryption
//! scaler, and the product tables (built on first use). Level l uses the first k - l primes of Q.
//!
//! This module sits between `parameters.rs` (which builds the levels) and the modules that use a
//! level (`hps.rs` for the tables, `mul.rs`, `relin.rs`, `ciphertext.rs`), so that no two modules
//! import each other.

use std::sync::{Arc, OnceLock};

use num_bigint::BigUint;
use num_traits::ToPrimitive;
use veil_ring::keyswitch::SwitchRings;
use veil_ring::{Context, Modulus};

use crate::error::Result;
use crate::hps::MulContext;
use crate::scaling::DecryptionScaler;

/// What a ciphertext level needs: its rings, Delta, the decryption scaler and product tables.
#[derive(Debug)]
pub(crate) struct Level {
    /// R_{Q_l}.
    pub(crate) ctx: Arc<Context>,
    /// R_{Q_l P} (the level's primes, then P): where key switching works at this level.
    pub(crate) ctx_qp: Arc<Context>,
    /// Indices of `ctx_qp`'s limbs in the full R_{QP}, to pick the key's limbs.
    pub(crate) key_limbs: Vec<usize>,
    /// floor(Q_l / t) mod q_i: the scaling Delta of messages.
    pub(crate) delta: Vec<u64>,
    /// Q_l mod t, for the rounding correction of Delta m.
    pub(crate) q_mod_t: u64,
    /// round(t x / Q_l) mod t from residues.
    pub(crate) scaler: DecryptionScaler,
    /// The plaintext modulus t.
    plaintext: Modulus,
    /// Every prime of the chain and P: the product tables' auxiliary primes must avoid them.
    taken: Vec<u64>,
    /// Tables of ciphertext products, built on first use.
    mul: OnceLock<MulContext>,
}

impl Level {
    /// The level whose ring is the first `primes` primes of `ctx_qp` (the full R_{QP}, whose
    /// last prime is the special prime P), for plaintext modulus t.
    pub(crate) fn new(
        ctx_qp: &Arc<Context>,
        primes: usize,
        plaintext: &Modulus,
        taken: &[u64],
    ) -> Result<Self> {
        let special = ctx_qp.moduli().len() - 1;
        let indices: Vec<usize> = (0..primes).collect();
        let key_limbs: Vec<usize> = indices.iter().copied().chain([special]).collect();
        let ctx = ctx_qp.select(&indices)?;
        let t = plaintext.value();
        let q_big: BigUint = ctx
            .moduli()
            .iter()
            .map(|q| BigUint::from(q.value()))
            .product();
        let delta_big = &q_big / t;
        Ok(Level {
            scaler: DecryptionScaler::new(ctx.moduli(), plaintext)?,
            delta: ctx
                .moduli()
                .iter()
                .map(|q| (&delta_big % q.value()).to_u64().unwrap_or(0))
                .collect(),
            ctx,
            ctx_qp: ctx_qp.select(&key_limbs)?,
            key_limbs,
            q_mod_t: (&q_big % t).to_u64().unwrap_or(0),
            plaintext: *plaintext,
            taken: taken.to_vec(),
            mul: OnceLock::new(),
        })
    }

    /// The rings of key switching at this level.
    pub(crate) fn rings(&self) -> SwitchRings<'_> {
        SwitchRings {
            q: &self.ctx,
            qp: &self.ctx_qp,
            key_limbs: &self.key_limbs,
        }
    }

    /// The product tables of this level, built once.
    pub(crate) fn mul_context(&self) -> Result<&MulContext> {
        if let Some(mc) = self.mul.get() {
            return Ok(mc);
        }
        let mc = MulContext::new(&self.ctx, self.plaintext.value(), &self.taken)?;
        Ok(self.mul.get_or_init(|| mc))
    }
}
