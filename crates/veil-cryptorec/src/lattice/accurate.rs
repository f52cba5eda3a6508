//! CryptoRec-a(1) under HE: one fine-tuning step for a new user on encrypted ratings, by the
//! closed form of DESIGN.md (CryptoRec, accurate mode), over CKKS (`veil-ckks`).
//!
//! With x = w_u (r - rbar_u) phi (the client's input), the plaintext step of
//! [`crate::finetune`] is, for the fixed steps eta_p (user), eta (items) and lambda:
//! p = x A, u_i = b_i + q_i . p, e_i = phi_i (rbar_u + u_i - r_i), g = sum_i e_i q_i,
//! p' = a1 p'' with a1 = 1 - eta_p lambda and p'' = p - (eta_p / a1) g, and the predictions
//! r'_i = rbar_u + b_i + s a1 (q_i . p'') - eta a1 e_i (p . p''), s = 1 - eta lambda (the rated
//! rows of Q moved by -eta e_i p; e_i = 0 for the others). The server evaluates that with four
//! plaintext-matrix products (two wide by the hybrid method of [`FastLayout`], two tall), three
//! ciphertext products and log2 D_d rotations for p . p''; the client sends Enc(x), Enc(phi) and
//! Enc(phi (r - rbar_u)) and gets back Enc(u) (the fast-mode predictions) and Enc(r' - rbar_u).
//! It applies the plaintext step's rule itself: if the step raised its loss on its own ratings,
//! it keeps u (as `Model::fine_tune` reverts).
//!
//! **Why CKKS, and what the reply hides.** Exact BFV would need about 133 bits of plaintext
//! modulus for the worst-case fixed-point bounds of this depth-3 circuit (so four or five CRT
//! lanes, each with its own Galois and relinearization keys in veil-bfv's API), beyond this
//! issue's budget. Under CKKS the result is approximate (measured against the plaintext step in
//! `tests/lattice_accurate.rs`). The reply is re-randomized with a fresh public-key encryption of
//! zero (c_1 is then a fresh RLWE sample) and its error grows by that encryption's, but it is
//! **not** flooded to 2^-40: with the computation's error at 2^-30 or so of the scale, smudging
//! at 2^-40 needs noise 2^(40 + 1.5 log2 N) times larger, which leaves no bit of precision
//! (`docs/cryptorec-lattice.md`). The low-order bits of the reply's error may therefore carry
//! information about A and Q beyond the predictions.

use std::sync::Arc;

use veil_ckks::{
    Ciphertext, CkksParameters, GaloisKeys, PlainMatrix, Plaintext, Preset, PublicKey,
    RelinearizationKey, Sampler, SecretKey,
};

use crate::error::{Error, Result};
use crate::finetune::FineTune;
use crate::lattice::layout::FastLayout;
use crate::lattice::wire::{Reader, Writer, bad};
use crate::model::{Model, UserRatings, input_weight};

const SETUP_MAGIC: &[u8; 4] = b"VCAS";
const KEYS_MAGIC: &[u8; 4] = b"VCAK";
const QUERY_MAGIC: &[u8; 4] = b"VCAQ";
const REPLY_MAGIC: &[u8; 4] = b"VCAR";
const MAX_PARAMETER_BYTES: usize = 4096;

/// Settings of the accurate mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccurateConfig {
    /// CKKS parameters (N16384: 8192 slots, depth 8; the circuit uses 6 levels).
    pub preset: Preset,
    /// The step (CryptoRec-a(1): [`FineTune::one_step`]).
    pub step: FineTune,
    /// Baby steps of the diagonal method (`None`: about sqrt(D_d)).
    pub baby_steps: Option<usize>,
}

impl AccurateConfig {
    /// N = 16384 and the a(1) step with the model's `lambda`.
    pub fn one_step(lambda: f32) -> Self {
        AccurateConfig {
            preset: Preset::N16384,
            step: FineTune::one_step(lambda),
            baby_steps: None,
        }
    }
}

/// What the client needs: CKKS parameters, shape, input weighting.
#[derive(Clone, Debug, PartialEq)]
pub struct AccurateSetup {
    /// CKKS parameters.
    pub params: Arc<CkksParameters>,
    /// Slot layout (m, d, baby steps).
    pub layout: FastLayout,
    /// alpha of the input weight.
    pub input_norm: f32,
}

/// The level at which each step runs (the circuit's depth is 6).
const DEPTH: usize = 6;

impl AccurateSetup {
    /// `VCAS`, version, m, d, b, alpha, then the CKKS parameters (length-prefixed).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new(SETUP_MAGIC);
        w.u32(u32::try_from(self.layout.items).map_err(|_| bad("items"))?);
        w.u32(u32::try_from(self.layout.dim).map_err(|_| bad("dimension"))?);
        w.u32(u32::try_from(self.layout.baby).map_err(|_| bad("baby steps"))?);
        w.u32(self.input_norm.to_bits());
        w.object(&self.params.to_bytes())?;
        Ok(w.into_bytes())
    }

    /// Parses and validates a setup (parameters through veil-ckks's validating reader).
    pub fn from_bytes(bytes: &[u8], allow_below_128_bit_security: bool) -> Result<Self> {
        let mut r = Reader::new(bytes, SETUP_MAGIC, "accurate setup")?;
        let items = r.u32()? as usize;
        let dim = r.u32()? as usize;
        let baby = r.u32()? as usize;
        let input_norm = f32::from_bits(r.u32()?);
        let params = CkksParameters::from_bytes(
            r.object(MAX_PARAMETER_BYTES, "CKKS parameters")?,
            allow_below_128_bit_security,
        )?;
        r.finish()?;
        if !(input_norm.is_finite() && (0.0..=4.0).contains(&input_norm)) {
            return Err(bad("accurate setup: input weight out of range"));
        }
        if params.max_level() < DEPTH {
            return Err(bad("accurate setup: the parameters are too shallow"));
        }
        let layout = FastLayout::new(items, dim, params.degree(), Some(baby))?;
        Ok(AccurateSetup {
            params,
            layout,
            input_norm,
        })
    }

    /// Rotations: the fast mode's, plus 1, 2, ..., D_d / 2 (the sum over a period).
    pub fn rotation_steps(&self) -> Vec<i64> {
        self.layout.rotation_steps_with_period_sum()
    }

    fn top(&self) -> usize {
        self.params.max_level()
    }
}

/// A client's evaluation keys for the accurate mode.
#[derive(Debug)]
pub struct AccurateKeys {
    /// Re-randomization of replies.
    pub public: PublicKey,
    /// The three ciphertext products.
    pub relin: RelinearizationKey,
    /// Rotations ([`AccurateSetup::rotation_steps`]).
    pub galois: GaloisKeys,
}

impl AccurateKeys {
    /// `VCAK`, version, public, relinearization and Galois keys (length-prefixed).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new(KEYS_MAGIC);
        w.object(&self.public.to_bytes())?;
        w.object(&self.relin.to_bytes())?;
        w.object(&self.galois.to_bytes())?;
        Ok(w.into_bytes())
    }

    /// Parses keys, each bounded by the largest it can be under `setup` before it is read.
    pub fn from_bytes(setup: &AccurateSetup, bytes: &[u8]) -> Result<Self> {
        let p = &setup.params;
        let (n, k) = (p.degree(), p.moduli().len());
        let per_key = 2 * k * (k + 1) * n * 8 + 256;
        let steps = setup.rotation_steps();
        let mut r = Reader::new(bytes, KEYS_MAGIC, "accurate keys")?;
        let public = PublicKey::from_bytes(p, r.object(2 * (k + 1) * n * 8 + 256, "public key")?)?;
        let relin = RelinearizationKey::from_bytes(p, r.object(per_key, "relinearization key")?)?;
        let galois =
            GaloisKeys::from_bytes(p, r.object((steps.len() + 1) * per_key, "Galois keys")?)?;
        r.finish()?;
        if steps.iter().any(|&s| galois.rotation_cost(s).is_none()) {
            return Err(bad(
                "the Galois keys do not cover every rotation of this server",
            ));
        }
        Ok(AccurateKeys {
            public,
            relin,
            galois,
        })
    }
}

/// The accurate-mode server: the model's matrices prepared at the levels the circuit uses.
#[derive(Debug)]
pub struct AccurateServer {
    setup: AccurateSetup,
    /// p = x A (band of A).
    band_a: PlainMatrix,
    /// u = Q p (tall).
    tall_q: PlainMatrix,
    /// -(eta_p / a1) Q^T e (band of Q).
    band_q: PlainMatrix,
    /// s a1 Q p'' (tall).
    tall_w: PlainMatrix,
    /// b_i (first m slots).
    bias: Vec<f64>,
    /// eta a1 (scales p before p . p'').
    correction: f64,
}

fn replicate_and_fold(
    mut z: Ciphertext,
    layout: &FastLayout,
    gk: &GaloisKeys,
) -> Result<Ciphertext> {
    let mut step = layout.item_period();
    while step < layout.row {
        z = z.add(&z.rotate(step as i64, gk)?)?;
        step *= 2;
    }
    let mut step = layout.dim_period();
    while step < layout.item_period() {
        z = z.add(&z.rotate(step as i64, gk)?)?;
        step *= 2;
    }
    Ok(z)
}

fn replicate(mut z: Ciphertext, layout: &FastLayout, gk: &GaloisKeys) -> Result<Ciphertext> {
    let mut step = layout.item_period();
    while step < layout.row {
        z = z.add(&z.rotate(step as i64, gk)?)?;
        step *= 2;
    }
    Ok(z)
}

impl AccurateServer {
    /// Prepares `model` for the step `cfg.step`.
    pub fn new(model: &Model, cfg: &AccurateConfig) -> Result<Self> {
        let params = CkksParameters::preset(cfg.preset)?;
        let (m, d) = (model.items(), model.a.ncols());
        let layout = FastLayout::new(m, d, params.degree(), cfg.baby_steps)?;
        let setup = AccurateSetup {
            params: params.clone(),
            layout,
            input_norm: model.input_norm,
        };
        let top = setup.top();
        if top < DEPTH {
            return Err(Error::Invalid {
                reason: "the accurate mode needs CKKS parameters of depth 6 at least",
            });
        }
        let step = cfg.step;
        let a1 = f64::from(1.0 - step.user_step * step.lambda);
        let shrink = f64::from(1.0 - step.item_step * step.lambda);
        let k = f64::from(step.user_step) / a1;
        let (a, q) = (&model.a, &model.q);
        let b = Some(layout.baby);
        let band_a = PlainMatrix::new(
            &params,
            &layout.band_matrix(|j, c| f64::from(a[(j, c)])),
            top,
            b,
        )?;
        let q_rows: Vec<Vec<f64>> = (0..m)
            .map(|i| q.row(i).iter().map(|&v| f64::from(v)).collect())
            .collect();
        let tall_q = PlainMatrix::new(&params, &q_rows, top - 1, b)?;
        let band_q = PlainMatrix::new(
            &params,
            &layout.band_matrix(|j, c| -k * f64::from(q[(j, c)])),
            top - 3,
            b,
        )?;
        let w_rows: Vec<Vec<f64>> = q_rows
            .iter()
            .map(|r| r.iter().map(|v| v * shrink * a1).collect())
            .collect();
        let tall_w = PlainMatrix::new(&params, &w_rows, top - 4, b)?;
        Ok(AccurateServer {
            setup,
            band_a,
            tall_q,
            band_q,
            tall_w,
            bias: model.item_bias.iter().map(|&v| f64::from(v)).collect(),
            correction: f64::from(step.item_step) * a1,
        })
    }

    /// The public setup.
    pub fn setup(&self) -> &AccurateSetup {
        &self.setup
    }

    /// [`AccurateSetup::to_bytes`].
    pub fn setup_bytes(&self) -> Result<Vec<u8>> {
        self.setup.to_bytes()
    }

    /// Parses a client's keys (once per client).
    pub fn client_keys(&self, bytes: &[u8]) -> Result<AccurateKeys> {
        AccurateKeys::from_bytes(&self.setup, bytes)
    }

    /// Answers one query: Enc(u) and Enc(r' - rbar_u), re-randomized.
    pub fn answer(&self, keys: &AccurateKeys, query: &[u8]) -> Result<Vec<u8>> {
        let p = &self.setup.params;
        let limit = query.len();
        let mut r = Reader::new(query, QUERY_MAGIC, "accurate query")?;
        let x = Ciphertext::from_bytes(p, r.object(limit, "input")?)?;
        let phi = Ciphertext::from_bytes(p, r.object(limit, "mask")?)?;
        let c = Ciphertext::from_bytes(p, r.object(limit, "centred ratings")?)?;
        r.finish()?;
        let (u, out) = self.evaluate(keys, &x, &phi, &c)?;
        // Both at the lower level (fewer bytes; u needs no more precision than r').
        let level = u.level().min(out.level());
        let mut w = Writer::new(REPLY_MAGIC);
        for ct in [u, out] {
            let ct = rerandomize(&keys.public, &ct.mod_drop_to(level)?)?;
            w.object(&ct.to_bytes())?;
        }
        Ok(w.into_bytes())
    }

    /// (Enc(u), Enc(r' - rbar_u)) before re-randomization.
    pub fn evaluate(
        &self,
        keys: &AccurateKeys,
        x: &Ciphertext,
        phi: &Ciphertext,
        c: &Ciphertext,
    ) -> Result<(Ciphertext, Ciphertext)> {
        let (layout, gk, rk) = (&self.setup.layout, &keys.galois, &keys.relin);
        let p = &self.setup.params;
        let top = self.setup.top();
        if x.level() != top || phi.level() != top - 2 || c.level() != top - 3 {
            return Err(bad("accurate query: ciphertexts at unexpected levels"));
        }
        // p = x A (replicated with period D_d), level top - 1.
        let pv = replicate_and_fold(self.band_a.mul_vector(x, gk)?, layout, gk)?;
        // u = Q p + b, level top - 2.
        let qp = self.tall_q.mul_vector(&pv, gk)?;
        let u = qp.add_plain(&Plaintext::encode_real(
            p,
            &self.bias,
            qp.level(),
            qp.scale(),
        )?)?;
        // e = phi u - phi (r - rbar), level top - 3.
        let e = phi.mul_relin_rescale(&u, rk)?;
        let e = e.sub(&c.align_to(e.level(), e.scale())?)?;
        // -(eta_p / a1) g, replicated; p'' = p - (eta_p / a1) g, level top - 4.
        let g = replicate_and_fold(
            self.band_q
                .mul_vector(&replicate(e.clone(), layout, gk)?, gk)?,
            layout,
            gk,
        )?;
        let p2 = g.add(&pv.align_to(g.level(), g.scale())?)?;
        // w = s a1 Q p'' + b, level top - 5.
        let wq = self.tall_w.mul_vector(&p2, gk)?;
        let w = wq.add_plain(&Plaintext::encode_real(
            p,
            &self.bias,
            wq.level(),
            wq.scale(),
        )?)?;
        // sigma = eta a1 (p . p'') in every slot, level top - 5.
        let scaled_p = pv.mul_const_rescale(self.correction)?;
        let mut dot = scaled_p.mul_relin_rescale(&p2, rk)?;
        let mut s = 1;
        while s < layout.dim_period() {
            dot = dot.add(&dot.rotate(s as i64, gk)?)?;
            s *= 2;
        }
        // r' - rbar = w - e sigma, level top - 6.
        let corr = e.mul_relin_rescale(&dot, rk)?;
        let out = w.align_to(corr.level(), corr.scale())?.sub(&corr)?;
        Ok((u, out))
    }
}

/// ct + Enc_pk(0) at its level and scale.
fn rerandomize(pk: &PublicKey, ct: &Ciphertext) -> Result<Ciphertext> {
    let zero = Plaintext::encode_real(ct.parameters(), &[], ct.level(), ct.scale())?;
    Ok(ct.add(&pk.encrypt_with(&zero, &mut Sampler::from_entropy())?)?)
}

/// What the client keeps between a query and its reply.
#[derive(Clone, Debug, PartialEq)]
pub struct AccurateState {
    /// rbar_u.
    pub mean: f32,
    /// The user's ratings (for the loss comparison of the revert rule).
    pub ratings: UserRatings,
}

/// The accurate-mode client.
#[derive(Debug)]
pub struct AccurateClient {
    setup: AccurateSetup,
    secret: SecretKey,
}

impl AccurateClient {
    /// A client for the server whose setup bytes are `setup_bytes`, with a fresh secret key.
    pub fn new(setup_bytes: &[u8], allow_below_128_bit_security: bool) -> Result<Self> {
        let setup = AccurateSetup::from_bytes(setup_bytes, allow_below_128_bit_security)?;
        Self::with_secret(setup, &mut Sampler::from_entropy())
    }

    /// A client with a secret key drawn from `sampler`.
    pub fn with_secret(setup: AccurateSetup, sampler: &mut Sampler) -> Result<Self> {
        let secret = SecretKey::generate_with(&setup.params, sampler)?;
        Ok(AccurateClient { setup, secret })
    }

    /// The setup.
    pub fn setup(&self) -> &AccurateSetup {
        &self.setup
    }

    /// The secret key (stays with the client).
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }

    /// Evaluation keys for the server (public, relinearization, Galois), sent once.
    pub fn key_bytes(&self) -> Result<Vec<u8>> {
        let mut sampler = Sampler::from_entropy();
        AccurateKeys {
            public: self.secret.public_key_with(&mut sampler)?,
            relin: self.secret.relinearization_key_with(&mut sampler)?,
            galois: self.secret.galois_keys_for(
                &self.setup.rotation_steps(),
                false,
                &mut sampler,
            )?,
        }
        .to_bytes()
    }

    /// Enc(x) at the top level, Enc(phi) two levels down at scale q (so that phi u keeps u's
    /// scale), Enc(phi (r - rbar)) three levels down.
    pub fn query(&self, user: &UserRatings) -> Result<(Vec<u8>, AccurateState)> {
        let (params, layout) = (&self.setup.params, &self.setup.layout);
        let m = layout.items;
        let mean = user.mean();
        let weight = f64::from(input_weight(self.setup.input_norm, user.values.len()));
        let (mut x, mut phi, mut c) = (vec![0f64; m], vec![0f64; m], vec![0f64; m]);
        for (&i, &v) in user.items.iter().zip(&user.values) {
            let i = i as usize;
            if i >= m || !v.is_finite() {
                return Err(Error::Invalid {
                    reason: "a rated item is outside the model, or a rating is not finite",
                });
            }
            let centred = f64::from(v - mean);
            x[i] = centred * weight;
            phi[i] = 1.0;
            c[i] = centred;
        }
        let top = self.setup.top();
        let scale = params.scale();
        let dm = layout.item_period();
        let x_slots: Vec<f64> = (0..layout.row)
            .map(|s| x.get(s % dm).copied().unwrap_or(0.0))
            .collect();
        let mut sampler = Sampler::from_entropy();
        let mut enc = |v: &[f64], level: usize, scale: f64| -> Result<Vec<u8>> {
            let pt = Plaintext::encode_real(params, v, level, scale)?;
            Ok(self.secret.encrypt_with(&pt, &mut sampler)?.to_bytes())
        };
        // phi u is rescaled by the prime of level top - 2: encoding phi at that prime keeps u's
        // scale; c is subtracted one level lower at the scale of u.
        let phi_scale = *params.moduli().get(top - 2).ok_or(Error::Invalid {
            reason: "the parameters are too shallow",
        })? as f64;
        let mut w = Writer::new(QUERY_MAGIC);
        w.object(&enc(&x_slots, top, scale)?)?;
        w.object(&enc(&phi, top - 2, phi_scale)?)?;
        w.object(&enc(&c, top - 3, scale)?)?;
        Ok((
            w.into_bytes(),
            AccurateState {
                mean,
                ratings: user.clone(),
            },
        ))
    }

    /// The predictions after the step (or the fast-mode ones when the step raised the user's
    /// loss on its own ratings, as the plaintext step reverts).
    pub fn decode(&self, state: &AccurateState, reply: &[u8]) -> Result<Vec<f32>> {
        let (u, stepped) = self.decode_both(reply)?;
        let loss = |v: &[f64]| -> f64 {
            state
                .ratings
                .items
                .iter()
                .zip(&state.ratings.values)
                .map(|(&i, &r)| {
                    let e = v.get(i as usize).copied().unwrap_or(0.0) + f64::from(state.mean)
                        - f64::from(r);
                    e * e
                })
                .sum()
        };
        let chosen = if loss(&stepped) > loss(&u) {
            &u
        } else {
            &stepped
        };
        Ok(chosen
            .iter()
            .map(|&v| (v + f64::from(state.mean)) as f32)
            .collect())
    }

    /// (u, r' - rbar) for the m items, decrypted.
    pub fn decode_both(&self, reply: &[u8]) -> Result<(Vec<f64>, Vec<f64>)> {
        let p = &self.setup.params;
        let m = self.setup.layout.items;
        let mut r = Reader::new(reply, REPLY_MAGIC, "accurate reply")?;
        let u = Ciphertext::from_bytes(p, r.object(reply.len(), "fast predictions")?)?;
        let s = Ciphertext::from_bytes(p, r.object(reply.len(), "stepped predictions")?)?;
        r.finish()?;
        let dec = |ct: &Ciphertext| -> Result<Vec<f64>> {
            let mut v = self.secret.decrypt_real(ct)?;
            v.truncate(m);
            Ok(v)
        };
        Ok((dec(&u)?, dec(&s)?))
    }
}
