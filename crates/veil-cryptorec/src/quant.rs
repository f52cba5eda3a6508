//! Integer quantization of a CryptoRec model for encrypted prediction (sec. 5.1, with the
//! sparse-quantization step of sec. 3.2).
//!
//! A, Q and the client's centred ratings become integers at scales s_A, s_Q and s_r:
//! x_j = round(s_r r~_j), A'_jc = round(s_A A_jc), Q'_ic = round(s_Q Q_ic), and the item biases
//! become B_i = round(S b_i) with S = s_r s_A s_Q. The encrypted protocol computes the integers
//! v_i = B_i + sum_c (sum_j x_j A'_jc) Q'_ic exactly, and the client predicts rbar_u + v_i / S.
//! [`QuantizedModel::predict_integers`] computes the same integers in the clear, so tests can
//! require equality, not closeness.

use ndarray::{Array1, Array2};

use crate::error::{Error, Result};
use crate::model::{MAX_DIM, Model, UserRatings, input_weight};

/// How to quantize a model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantConfig {
    /// Bits of |A'| and |Q'| including sign: entries lie in [-(2^(bits-1) - 1), 2^(bits-1) - 1],
    /// the largest |entry| of each matrix mapping to the top level.
    pub weight_bits: u32,
    /// Fractional bits of the centred ratings: s_r = 2^rating_frac_bits.
    pub rating_frac_bits: u32,
    /// Largest |r~_j| the client may send, at least: the model's rating-scale width is used when
    /// larger (4 for 1..5 stars, 4.5 for 0.5..5), since r - rbar_u can reach it. (A fixed 4 made
    /// every half-star user with a 0.5 among mostly 5s unservable, and the evaluation's RMSE of
    /// the integer model NaN: issue 16.)
    pub rating_span: f32,
    /// Fraction of each matrix's entries, smallest |w| first, set to zero before quantization
    /// (pruning, sec. 3.2). The paper prunes |w| < 5e-4 (7-29% of the weights, Table 2); a
    /// fraction carries over between models of different weight scales.
    pub prune_fraction: f64,
}

impl Default for QuantConfig {
    /// 4-bit weights (levels -7..7), no extra pruning, 1/16-star ratings. On MovieLens 100K
    /// over 5 splits (`veil cryptorec eval`) the RMSE moved by +0.0004 ± 0.0007 with 36% of the
    /// weights rounding to zero; 3 bits moved it by +0.0015 ± 0.0020 (over the 0.002 budget on
    /// some splits) with 66% zeros; 8 bits: 2% zeros and no measurable change. Zeros cost the
    /// server nothing, so the coarsest setting within budget is the fastest.
    fn default() -> Self {
        QuantConfig {
            weight_bits: 4,
            rating_frac_bits: 4,
            rating_span: 4.0,
            prune_fraction: 0.0,
        }
    }
}

/// What the client needs to know about the server's quantized model: no weights, only scales
/// and sizes (all public in the protocol).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PublicParams {
    /// Number of items m.
    pub items: usize,
    /// s_r = 2^rating_frac_bits.
    pub rating_frac_bits: u32,
    /// Largest |x_j| accepted, s_r times the rating span times the largest input weight.
    pub input_bound: i64,
    /// alpha of the model's input weight w_u = (10 / n_u)^alpha
    /// ([`crate::model::input_weight`]): the client sends x_j = round(s_r w_u (r_uj - rbar_u)).
    pub input_norm: f32,
    /// S = s_r s_A s_Q: predictions are v_i / S.
    pub output_scale: f64,
    /// Bound on every |v_i| for inputs within `input_bound`.
    pub output_bound: u128,
}

/// A CryptoRec model with integer weights.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedModel {
    /// A' (m x d), row-major.
    pub a: Array2<i64>,
    /// Q'^T (d x m), row-major: the layout of the second encrypted product.
    pub q_t: Array2<i64>,
    /// B_i = round(S b_i).
    pub bias: Array1<i64>,
    /// The public part.
    pub params: PublicParams,
}

/// round(s w) with the `prune` fraction of smallest |w| set to zero.
fn quantize(w: &Array2<f32>, bits: u32, prune: f64) -> (Array2<i64>, f64) {
    let mut mags: Vec<f32> = w.iter().map(|x| x.abs()).collect();
    let cut = ((mags.len() as f64) * prune.clamp(0.0, 1.0)) as usize;
    let prune = if cut == 0 {
        0.0
    } else {
        let (_, &mut t, _) = mags.select_nth_unstable_by(cut - 1, f32::total_cmp);
        // Strictly above the cut-th smallest magnitude survives.
        f32::from_bits(t.to_bits() + 1)
    };
    let max = w.iter().fold(0f32, |m, &x| m.max(x.abs()));
    let top = ((1i64 << (bits - 1)) - 1) as f64;
    let scale = if max > 0.0 { top / f64::from(max) } else { 1.0 };
    let q = w.mapv(|x| {
        if x.abs() < prune {
            0
        } else {
            (f64::from(x) * scale).round() as i64
        }
    });
    (q, scale)
}

impl QuantizedModel {
    /// Quantizes `model` (sec. 3.2: prune, then share values; here the shared values are the
    /// 2^weight_bits - 1 uniform levels).
    pub fn new(model: &Model, cfg: &QuantConfig) -> Result<Self> {
        // The fields of a `Model` are public, so its shape is checked here as well as on load:
        // m >= 1, 1 <= d <= MAX_DIM, A and Q of the same shape, one bias per item.
        let (m, d) = model.a.dim();
        if m == 0
            || !(1..=MAX_DIM).contains(&d)
            || model.q.dim() != (m, d)
            || model.item_bias.len() != m
        {
            return Err(Error::Invalid {
                reason: "the model needs m >= 1 items, 1 <= d <= MAX_DIM, and A, Q and the \
                         biases of one shape",
            });
        }
        if !(2..=16).contains(&cfg.weight_bits) || cfg.rating_frac_bits > 16 {
            return Err(Error::Invalid {
                reason: "weight_bits must be in 2..=16 and rating_frac_bits at most 16",
            });
        }
        if !(0.0..1.0).contains(&cfg.prune_fraction) {
            return Err(Error::Invalid {
                reason: "prune_fraction must be in [0, 1)",
            });
        }
        if !(cfg.rating_span.is_finite() && cfg.rating_span > 0.0) {
            return Err(Error::Invalid {
                reason: "rating_span must be positive",
            });
        }
        let (a, sa) = quantize(&model.a, cfg.weight_bits, cfg.prune_fraction);
        let (q, sq) = quantize(&model.q, cfg.weight_bits, cfg.prune_fraction);
        let sr = f64::from(1u32 << cfg.rating_frac_bits);
        let scale = sr * sa * sq;
        let bias = model
            .item_bias
            .mapv(|b| (f64::from(b) * scale).round() as i64);
        // The largest input weight is that of a user with one rating, 10^alpha.
        let span = f64::from(cfg.rating_span).max(f64::from(model.scale.max - model.scale.min))
            * f64::from(input_weight(model.input_norm, 1));
        // Bounded so that the output bound below cannot overflow u128 (2^40 x 2^15 x m d 2^15).
        if !span.is_finite() || span * sr > 2f64.powi(40) {
            return Err(Error::Invalid {
                reason: "the model's rating scale is too wide (or not finite) to quantize",
            });
        }
        let input_bound = (span * sr).ceil() as i64;
        // |y_c| <= X sum_j |A'_jc|; |v_i| <= |B_i| + sum_c |y_c|max |Q'_ic|.
        let y_bound: Vec<u128> = a
            .columns()
            .into_iter()
            .map(|col| {
                input_bound as u128 * col.iter().map(|w| w.unsigned_abs() as u128).sum::<u128>()
            })
            .collect();
        let output_bound = q
            .rows()
            .into_iter()
            .zip(&bias)
            .map(|(row, b)| {
                b.unsigned_abs() as u128
                    + row
                        .iter()
                        .zip(&y_bound)
                        .map(|(w, y)| w.unsigned_abs() as u128 * y)
                        .sum::<u128>()
            })
            .max()
            .unwrap_or(0);
        Ok(QuantizedModel {
            params: PublicParams {
                items: model.items(),
                rating_frac_bits: cfg.rating_frac_bits,
                input_bound,
                input_norm: model.input_norm,
                output_scale: scale,
                output_bound,
            },
            a,
            q_t: q.reversed_axes().as_standard_layout().to_owned(),
            bias,
        })
    }

    /// Latent dimension d.
    pub fn dim(&self) -> usize {
        self.a.ncols()
    }

    /// The integer inputs x_j = round(s_r w_u (r_uj - rbar_u)) of a user (0 where unrated).
    pub fn quantize_input(params: &PublicParams, user: &UserRatings) -> Result<Vec<i64>> {
        let mean = user.mean();
        let weight = f64::from(input_weight(params.input_norm, user.values.len()));
        let sr = f64::from(1u32 << params.rating_frac_bits);
        let mut x = vec![0i64; params.items];
        for (&i, &v) in user.items.iter().zip(&user.values) {
            let slot = x.get_mut(i as usize).ok_or(Error::Invalid {
                reason: "a rated item is outside the model",
            })?;
            let centred = (f64::from(v - mean) * weight * sr).round();
            // Checked as a float: a NaN or infinite rating (or mean) fails here instead of
            // saturating into the i64 range.
            if !centred.is_finite() || centred.abs() > params.input_bound as f64 {
                return Err(Error::Invalid {
                    reason: "a centred rating exceeds the model's rating span or is not finite",
                });
            }
            *slot = centred as i64;
        }
        Ok(x)
    }

    /// v_i = B_i + sum_c (sum_j x_j A'_jc) Q'_ic for every item, in exact integer arithmetic:
    /// what the encrypted protocol must return.
    pub fn predict_integers(&self, x: &[i64]) -> Vec<i128> {
        let y: Vec<i128> = (0..self.dim())
            .map(|c| {
                x.iter()
                    .zip(self.a.column(c))
                    .map(|(&xj, &w)| i128::from(xj) * i128::from(w))
                    .sum()
            })
            .collect();
        (0..self.params.items)
            .map(|i| {
                i128::from(self.bias[i])
                    + y.iter()
                        .zip(self.q_t.column(i))
                        .map(|(&yc, &w)| yc * i128::from(w))
                        .sum::<i128>()
            })
            .collect()
    }

    /// Predictions of the quantized model in the clear: rbar_u + v_i / S.
    pub fn predict(&self, user: &UserRatings) -> Result<Vec<f32>> {
        let x = Self::quantize_input(&self.params, user)?;
        Ok(dequantize(
            &self.params,
            &self.predict_integers(&x),
            user.mean(),
        ))
    }

    /// Fraction of A' and Q' entries that are zero (the pruning ratio of Table 2, after
    /// quantization).
    pub fn zero_fraction(&self) -> f64 {
        let zeros = self
            .a
            .iter()
            .chain(self.q_t.iter())
            .filter(|&&w| w == 0)
            .count();
        zeros as f64 / (self.a.len() + self.q_t.len()) as f64
    }
}

/// rbar_u + v_i / S for every item.
pub fn dequantize(params: &PublicParams, v: &[i128], mean: f32) -> Vec<f32> {
    v.iter()
        .map(|&vi| mean + (vi as f64 / params.output_scale) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::RatingScale;

    fn model(m: usize, d: usize) -> Model {
        Model {
            mu: 3.5,
            item_bias: Array1::zeros(m),
            a: Array2::zeros((m, d)),
            q: Array2::zeros((m, d)),
            scale: RatingScale::default(),
            input_norm: 0.0,
        }
    }

    #[test]
    fn empty_or_oversized_models_are_refused() {
        // Issue 14: m = 0 with d = 2^40 allocated d-sized bound vectors here.
        let cfg = QuantConfig::default();
        for (m, d) in [(0, 1 << 40), (0, 4), (3, 0), (1, MAX_DIM + 1)] {
            assert!(
                QuantizedModel::new(&model(m, d), &cfg).is_err(),
                "m = {m}, d = {d}"
            );
        }
        let mut skew = model(3, 4);
        skew.q = Array2::zeros((3, 5));
        assert!(QuantizedModel::new(&skew, &cfg).is_err());
        skew = model(3, 4);
        skew.item_bias = Array1::zeros(2);
        assert!(QuantizedModel::new(&skew, &cfg).is_err());
        assert!(QuantizedModel::new(&model(3, 4), &cfg).is_ok());
    }
}
