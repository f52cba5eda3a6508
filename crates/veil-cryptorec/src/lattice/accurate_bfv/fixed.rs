//! The fixed-point integer form of the accurate step (CryptoRec-a(1), DESIGN.md "Accurate mode,
//! one SGD step", with [`crate::finetune`]'s user step eta_p), evaluated exactly: every quantity
//! is an integer at a known scale with a tracked worst-case bound, so that the encrypted circuit
//! (modulo each plaintext prime t_j) and [`ExactModel::step_integers`] (in the clear) agree bit
//! for bit once the lanes are recombined by CRT. The derivation, one line per step, is in
//! `docs/cryptorec-lattice.md` ("Accurate mode, one step, exact over BFV").
//!
//! Integers, with their scales (A', Q', B, X as in [`crate::quant`]; S_u = s_r s_A s_Q):
//! - P_c = sum_j X_j A'_jc; scale S_p = s_r s_A
//! - U_i = B_i + sum_c Q'_ic P_c (the fast-mode predictions); scale S_u = S_p s_Q
//! - E_i = PHI_i U_i - C_i with C_i = round(S_u phi_i (r_i - rbar_u)); scale S_u
//! - G_c = sum_i Q'_ic E_i; scale s_Q S_u
//! - P'_c = A1 P_c - G_c with A1 = round(a1 s_Q^2 / eta_p); scale S_p' = s_Q S_u / eta_p
//! - T_i = sum_c Q'_ic P'_c; scale s_Q S_p'
//! - D = H sum_c P_c P'_c with H = round(eta 2^h); scale 2^h S_p S_p' / eta
//! - R_i = Bo_i + M1 T_i - E_i D with M1 = round(s 2^h S_p^2), Bo_i = round(b_i S_out);
//!   scale S_out = 2^h S_u S_p S_p'
//!
//! and the client predicts rbar_u + R_i / S_out (or rbar_u + U_i / S_u when the step raised its
//! loss, as [`crate::model::Model::fine_tune`] reverts). a1 = 1 - eta_p lambda, s = 1 - eta lambda.

use num_bigint::{BigInt, BigUint};
use num_traits::{FromPrimitive, ToPrimitive};

use crate::error::{Error, Result};
use crate::finetune::FineTune;
use crate::model::{Model, UserRatings};
use crate::quant::{QuantConfig, QuantizedModel};

/// How to quantize the model and the step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExactConfig {
    /// A', Q' and the client's ratings ([`QuantConfig`]; `weight_bits` sets the precision of the
    /// step as well as of the fast-mode part).
    pub quant: QuantConfig,
    /// h: eta is represented as H = round(eta 2^h).
    pub eta_bits: u32,
    /// The step (eta_p, eta, lambda; CryptoRec-a(1): [`FineTune::one_step`]).
    pub step: FineTune,
}

impl ExactConfig {
    /// 6-bit weights, 1/16-star ratings, h = 16, the a(1) step with the model's `lambda`
    /// (chosen on MovieLens 100K: `tests/lattice_accurate_bfv.rs` measures the RMSE against the
    /// float step).
    pub fn one_step(lambda: f32) -> Self {
        ExactConfig {
            quant: QuantConfig {
                weight_bits: 6,
                ..QuantConfig::default()
            },
            eta_bits: 16,
            step: FineTune::one_step(lambda),
        }
    }
}

/// What the client needs to quantize its input and read the result (no weights).
#[derive(Clone, Debug, PartialEq)]
pub struct ExactPublic {
    /// m.
    pub items: usize,
    /// d.
    pub dim: usize,
    /// s_r = 2^rating_frac_bits.
    pub rating_frac_bits: u32,
    /// alpha of the input weight.
    pub input_norm: f32,
    /// Largest |X_j|.
    pub input_bound: i64,
    /// Largest |C_i|.
    pub centred_bound: i64,
    /// S_u (scale of U and C).
    pub u_scale: f64,
    /// S_out (scale of R).
    pub out_scale: f64,
    /// Bound on |U_i|.
    pub u_bound: u128,
    /// Bound on |R_i|.
    pub r_bound: BigUint,
}

impl ExactPublic {
    /// max(|U|, |R|) bound: the CRT modulus must exceed twice it.
    pub fn result_bound(&self) -> BigUint {
        self.r_bound.clone().max(BigUint::from(self.u_bound))
    }
}

/// The quantized model with the step's integer constants and every tracked bound.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactModel {
    /// A', Q'^T, B (the fast mode's quantization).
    pub quantized: QuantizedModel,
    /// A1 = round(a1 s_Q^2 / eta_p).
    pub a1: i64,
    /// H = round(eta 2^h).
    pub h: i64,
    /// M1 = round(s 2^h S_p^2).
    pub m1: i128,
    /// Bo_i = round(b_i S_out).
    pub bias_out: Vec<BigInt>,
    /// The public part.
    pub public: ExactPublic,
    /// Tracked bounds of the intermediates (|P|, |E|, |G|, |P'|, |T|, |D|), for the docs and
    /// the noise tests.
    pub bounds: IntermediateBounds,
}

/// Worst-case magnitudes over every admissible input (largest over the vector's entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntermediateBounds {
    /// |P_c|.
    pub p: u128,
    /// |U_i|.
    pub u: u128,
    /// |E_i|.
    pub e: u128,
    /// |G_c|.
    pub g: u128,
    /// |P'_c|.
    pub p2: u128,
    /// |T_i|.
    pub t: u128,
    /// |D|.
    pub d: u128,
}

/// The client's integers: X (replicated later), PHI (0/1) and C.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExactInput {
    /// X_j.
    pub x: Vec<i64>,
    /// PHI_i.
    pub phi: Vec<i64>,
    /// C_i.
    pub c: Vec<i64>,
}

/// The exact result: U (fast-mode integers) and R (after the step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExactResult {
    /// U_i.
    pub u: Vec<BigInt>,
    /// R_i.
    pub r: Vec<BigInt>,
}

fn too_large() -> Error {
    Error::Invalid {
        reason: "the exact accurate mode's bounds overflow 128 bits (lower weight_bits, \
                 rating_frac_bits or eta_bits)",
    }
}

fn add(a: u128, b: u128) -> Result<u128> {
    a.checked_add(b).ok_or_else(too_large)
}
fn mul(a: u128, b: u128) -> Result<u128> {
    a.checked_mul(b).ok_or_else(too_large)
}

fn rounded(v: f64) -> Result<i128> {
    let r = v.round();
    if r.is_finite() && r.abs() < 2f64.powi(100) {
        Ok(r as i128)
    } else {
        Err(too_large())
    }
}

impl ExactModel {
    /// Quantizes `model` and the step of `cfg`, and tracks every bound (refuses settings whose
    /// intermediates could exceed 2^126 in the clear reference).
    pub fn new(model: &Model, cfg: &ExactConfig) -> Result<Self> {
        let quantized = QuantizedModel::new(model, &cfg.quant)?;
        let step = cfg.step;
        let valid = step.user_step > 0.0
            && step.item_step >= 0.0
            && step.lambda >= 0.0
            && step.user_step.is_finite()
            && step.item_step.is_finite()
            && step.lambda.is_finite()
            && cfg.eta_bits <= 40;
        if !valid {
            return Err(Error::Invalid {
                reason: "the step needs eta_p > 0, eta >= 0, lambda >= 0 and eta_bits <= 40",
            });
        }
        let pp = quantized.params;
        let (m, d) = (pp.items, quantized.dim());
        let s_r = f64::from(1u32 << pp.rating_frac_bits);
        let s_u = pp.output_scale;
        // s_A and s_Q from the quantizer: max |A'| / max |A|.
        let scale_of = |w: &ndarray::Array2<f32>| {
            let max = w.iter().fold(0f32, |mx, &x| mx.max(x.abs()));
            let top = ((1i64 << (cfg.quant.weight_bits - 1)) - 1) as f64;
            if max > 0.0 { top / f64::from(max) } else { 1.0 }
        };
        let (s_a, s_q) = (scale_of(&model.a), scale_of(&model.q));
        let s_p = s_r * s_a;
        let eta_p = f64::from(step.user_step);
        let a1f = 1.0 - eta_p * f64::from(step.lambda);
        let shrink = 1.0 - f64::from(step.item_step) * f64::from(step.lambda);
        let a1 = i64::try_from(rounded(a1f * s_q * s_q / eta_p)?).map_err(|_| too_large())?;
        let two_h = 2f64.powi(cfg.eta_bits as i32);
        let h =
            i64::try_from(rounded(f64::from(step.item_step) * two_h)?).map_err(|_| too_large())?;
        let m1 = rounded(shrink * two_h * s_p * s_p)?;
        let s_p2 = s_q * s_u / eta_p;
        let s_out = two_h * s_u * s_p * s_p2;
        if !s_out.is_finite() {
            return Err(too_large());
        }
        let bias_out: Vec<BigInt> = model
            .item_bias
            .iter()
            .map(|&b| BigInt::from_f64((f64::from(b) * s_out).round()))
            .collect::<Option<_>>()
            .ok_or_else(too_large)?;
        // Bounds.
        let span =
            f64::from(cfg.quant.rating_span).max(f64::from(model.scale.max - model.scale.min));
        let centred_bound =
            i64::try_from(rounded((span * s_u).ceil())?).map_err(|_| too_large())?;
        let x_bound = pp.input_bound.unsigned_abs() as u128;
        let col_abs = |c: usize| -> u128 {
            quantized
                .a
                .column(c)
                .iter()
                .map(|w| w.unsigned_abs() as u128)
                .sum()
        };
        let p_b: Vec<u128> = (0..d)
            .map(|c| mul(x_bound, col_abs(c)))
            .collect::<Result<_>>()?;
        let u_b = pp.output_bound;
        let e_b = add(u_b, centred_bound.unsigned_abs() as u128)?;
        // sum_i |Q'_ic| is a row sum of Q'^T.
        let q_col_abs: Vec<u128> = (0..d)
            .map(|c| {
                quantized
                    .q_t
                    .row(c)
                    .iter()
                    .map(|w| w.unsigned_abs() as u128)
                    .sum()
            })
            .collect();
        let g_b: Vec<u128> = q_col_abs
            .iter()
            .map(|&s| mul(e_b, s))
            .collect::<Result<_>>()?;
        let a1_abs = a1.unsigned_abs() as u128;
        let p2_b: Vec<u128> = p_b
            .iter()
            .zip(&g_b)
            .map(|(&p, &g)| add(mul(a1_abs, p)?, g))
            .collect::<Result<_>>()?;
        let mut t_b = 0u128;
        for i in 0..m {
            let mut s = 0u128;
            for (c, &p2) in p2_b.iter().enumerate() {
                s = add(s, mul(quantized.q_t[(c, i)].unsigned_abs() as u128, p2)?)?;
            }
            t_b = t_b.max(s);
        }
        let mut dot = 0u128;
        for (&p, &p2) in p_b.iter().zip(&p2_b) {
            dot = add(dot, mul(p, p2)?)?;
        }
        let d_b = mul(h.unsigned_abs() as u128, dot)?;
        // The clear reference keeps everything below D in i128 (with room for the sums).
        if d_b >= 1 << 125 || t_b >= 1 << 125 {
            return Err(too_large());
        }
        let max_bo = bias_out
            .iter()
            .map(|b| b.magnitude().clone())
            .max()
            .unwrap_or_default();
        let r_bound = max_bo
            + BigUint::from(m1.unsigned_abs()) * BigUint::from(t_b)
            + BigUint::from(e_b) * BigUint::from(d_b);
        let bounds = IntermediateBounds {
            p: p_b.iter().copied().max().unwrap_or(0),
            u: u_b,
            e: e_b,
            g: g_b.iter().copied().max().unwrap_or(0),
            p2: p2_b.iter().copied().max().unwrap_or(0),
            t: t_b,
            d: d_b,
        };
        Ok(ExactModel {
            public: ExactPublic {
                items: m,
                dim: d,
                rating_frac_bits: pp.rating_frac_bits,
                input_norm: pp.input_norm,
                input_bound: pp.input_bound,
                centred_bound,
                u_scale: s_u,
                out_scale: s_out,
                u_bound: u_b,
                r_bound,
            },
            quantized,
            a1,
            h,
            m1,
            bias_out,
            bounds,
        })
    }

    /// The exact integers of the step for the client's integers, in the clear (the reference the
    /// encrypted result must equal).
    pub fn step_integers(&self, input: &ExactInput) -> Result<ExactResult> {
        let q = &self.quantized;
        let (m, d) = (self.public.items, self.public.dim);
        check_input(&self.public, input)?;
        let p: Vec<i128> = (0..d)
            .map(|c| {
                input
                    .x
                    .iter()
                    .zip(q.a.column(c))
                    .map(|(&x, &w)| i128::from(x) * i128::from(w))
                    .sum()
            })
            .collect();
        let u = q.predict_integers(&input.x);
        let e: Vec<i128> = (0..m)
            .map(|i| i128::from(input.phi[i]) * u[i] - i128::from(input.c[i]))
            .collect();
        let p2: Vec<i128> = (0..d)
            .map(|c| {
                let g: i128 = q
                    .q_t
                    .row(c)
                    .iter()
                    .zip(&e)
                    .map(|(&w, &ei)| i128::from(w) * ei)
                    .sum();
                i128::from(self.a1) * p[c] - g
            })
            .collect();
        let dot = i128::from(self.h) * p.iter().zip(&p2).map(|(a, b)| a * b).sum::<i128>();
        let r = (0..m)
            .map(|i| {
                let t: i128 = q
                    .q_t
                    .column(i)
                    .iter()
                    .zip(&p2)
                    .map(|(&w, &v)| i128::from(w) * v)
                    .sum();
                &self.bias_out[i] + BigInt::from(self.m1) * BigInt::from(t)
                    - BigInt::from(e[i]) * BigInt::from(dot)
            })
            .collect();
        Ok(ExactResult {
            u: u.into_iter().map(BigInt::from).collect(),
            r,
        })
    }
}

/// Checks lengths, PHI in {0, 1}, |X| and |C| within their bounds, and C = 0 where PHI = 0.
pub(crate) fn check_input(public: &ExactPublic, input: &ExactInput) -> Result<()> {
    let m = public.items;
    if input.x.len() != m || input.phi.len() != m || input.c.len() != m {
        return Err(Error::Invalid {
            reason: "the exact input's vectors must have one entry per item",
        });
    }
    let ok = input
        .x
        .iter()
        .all(|x| x.unsigned_abs() <= public.input_bound.unsigned_abs())
        && input.phi.iter().all(|&f| f == 0 || f == 1)
        && input.c.iter().zip(&input.phi).all(|(c, &f)| {
            c.unsigned_abs() <= public.centred_bound.unsigned_abs() && (f == 1 || *c == 0)
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            reason: "an exact input is out of its bound (|X|, |C|, PHI in {0, 1})",
        })
    }
}

/// The client's integers for `user`: X as the fast mode quantizes it, PHI_i = 1 on rated items,
/// C_i = round(S_u (r_i - rbar_u)).
pub fn quantize_user(public: &ExactPublic, user: &UserRatings) -> Result<ExactInput> {
    let pp = crate::quant::PublicParams {
        items: public.items,
        rating_frac_bits: public.rating_frac_bits,
        input_bound: public.input_bound,
        input_norm: public.input_norm,
        output_scale: public.u_scale,
        output_bound: public.u_bound,
    };
    let x = QuantizedModel::quantize_input(&pp, user)?;
    let mean = f64::from(user.mean());
    let (mut phi, mut c) = (vec![0i64; public.items], vec![0i64; public.items]);
    for (&i, &v) in user.items.iter().zip(&user.values) {
        let i = i as usize;
        let centred = ((f64::from(v) - mean) * public.u_scale).round();
        if i >= public.items || !centred.is_finite() || centred.abs() > public.centred_bound as f64
        {
            return Err(Error::Invalid {
                reason: "a rating is outside the model's items or rating span",
            });
        }
        phi[i] = 1;
        c[i] = centred as i64;
    }
    let input = ExactInput { x, phi, c };
    check_input(public, &input)?;
    Ok(input)
}

/// Predictions from the exact result: rbar_u + R_i / S_out, or rbar_u + U_i / S_u when the step
/// raised the user's loss on its own ratings (the plaintext step's revert rule).
pub fn predictions(public: &ExactPublic, result: &ExactResult, user: &UserRatings) -> Vec<f32> {
    let mean = f64::from(user.mean());
    let to = |v: &BigInt, scale: f64| v.to_f64().unwrap_or(f64::NAN) / scale;
    let u: Vec<f64> = result.u.iter().map(|v| to(v, public.u_scale)).collect();
    let r: Vec<f64> = result.r.iter().map(|v| to(v, public.out_scale)).collect();
    let loss = |v: &[f64]| -> f64 {
        user.items
            .iter()
            .zip(&user.values)
            .map(|(&i, &y)| {
                let e = v.get(i as usize).copied().unwrap_or(0.0) + mean - f64::from(y);
                e * e
            })
            .sum()
    };
    let chosen = if loss(&r) > loss(&u) { &u } else { &r };
    chosen.iter().map(|&v| (v + mean) as f32).collect()
}
