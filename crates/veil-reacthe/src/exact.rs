//! The exact path over BFV (`veil-bfv`) for a one-block ReActHE network: the network is quantised
//! to an integer model whose every intermediate value has a tracked worst-case bound; the
//! plaintext modulus t is chosen above twice that bound, so nothing wraps modulo t and the
//! decrypted outputs equal the integer model's bit for bit (one sample per slot, as for CKKS).
//!
//! Integer model with scales 2^sx (inputs), 2^sw (weights), 2^sa (alpha):
//! h0 = Wi x + bi (scale s0 = 2^(sx+sw)); z = W1 h0 + b1 (scale s1 = 2^sw s0);
//! h1 = (2^sa s1^2 / s0) h0 + 2^sa s1 z + round(alpha 2^sa) z^2 (scale 2^sa s1^2);
//! out = Wo h1 + bo (scale 2^sw 2^sa s1^2). Weights and biases are rounded at their scale.

use std::sync::Arc;

use ndarray::Array2;
use veil_bfv::{BfvParameters, Ciphertext, Encoder, PublicKey, RelinearizationKey, SecretKey};

use crate::error::{Error, Result};
use crate::model::{Activation, Network};

/// Largest plaintext modulus used (bits): t must stay below every prime of the chain.
pub const MAX_PLAINTEXT_BITS: u32 = 57;

/// A quantised one-block residual network and its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedNetwork {
    /// Input clip: standardised inputs are clipped to [-clip, clip] before quantisation.
    pub clip: f64,
    /// Scale exponents (sx, sw, sa).
    pub bits: (u32, u32, u32),
    w_in: Vec<Vec<i64>>,
    b_in: Vec<i64>,
    w1: Vec<Vec<i64>>,
    b1: Vec<i64>,
    skip: i64,
    lin: i64,
    alpha: i64,
    w_out: Vec<Vec<i64>>,
    b_out: Vec<i64>,
    /// Worst-case |value| over every intermediate and output, for inputs within the clip.
    pub bound: i128,
}

fn quantize(m: &Array2<f64>, scale: f64) -> Vec<Vec<i64>> {
    m.rows()
        .into_iter()
        .map(|r| r.iter().map(|v| (v * scale).round() as i64).collect())
        .collect()
}

/// max_j sum_i |W_ji| B_i + |b_j| per output j.
fn linear_bound(w: &[Vec<i64>], b: &[i64], inputs: &[i128]) -> Vec<i128> {
    w.iter()
        .zip(b)
        .map(|(row, bj)| {
            row.iter()
                .zip(inputs)
                .map(|(wi, bi)| i128::from(*wi).abs() * bi)
                .sum::<i128>()
                + i128::from(*bj).abs()
        })
        .collect()
}

fn dense(w: &[Vec<i64>], b: &[i64], x: &[i128]) -> Vec<i128> {
    w.iter()
        .zip(b)
        .map(|(row, bj)| {
            row.iter()
                .zip(x)
                .map(|(wi, xi)| i128::from(*wi) * xi)
                .sum::<i128>()
                + i128::from(*bj)
        })
        .collect()
}

impl QuantizedNetwork {
    /// Quantises `net` (residual, one block, a(z) = z + alpha z^2) with scales 2^sx, 2^sw, 2^sa
    /// and inputs clipped to [-clip, clip].
    pub fn new(net: &Network, bits: (u32, u32, u32), clip: f64) -> Result<QuantizedNetwork> {
        let (Some(input), [block], Activation::Power { alpha, power: 2 }) =
            (&net.input, net.hidden.as_slice(), net.arch.activation)
        else {
            return Err(Error::Config {
                reason: "the exact path takes a residual network with one z + alpha z^2 block"
                    .into(),
            });
        };
        let (sx, sw, sa) = bits;
        if sx + sw > 20 || sa > 20 || !(clip > 0.0 && clip < 1e3) {
            return Err(Error::Config {
                reason: "scales up to 2^20 and a clip in (0, 1000)".into(),
            });
        }
        let (fx, fw, fa) = (
            2f64.powi(sx as i32),
            2f64.powi(sw as i32),
            2f64.powi(sa as i32),
        );
        let s0 = fx * fw;
        let s1 = fw * s0;
        let s2 = fa * s1 * s1;
        let q =
            |v: &ndarray::Array1<f64>, s: f64| v.iter().map(|b| (b * s).round() as i64).collect();
        let mut me = QuantizedNetwork {
            clip,
            bits,
            w_in: quantize(&input.w, fw),
            b_in: q(&input.b, s0),
            w1: quantize(&block.w, fw),
            b1: q(&block.b, s1),
            skip: (s2 / s0) as i64,
            lin: (fa * s1) as i64,
            alpha: (alpha * fa).round() as i64,
            w_out: quantize(&net.head.w, fw),
            b_out: q(&net.head.b, fw * s2),
            bound: 0,
        };
        // Tracked bounds, stage by stage.
        let x_max = (clip * fx).round() as i128;
        let bx = vec![x_max; input.w.ncols()];
        let b0 = linear_bound(&me.w_in, &me.b_in, &bx);
        let b1 = linear_bound(&me.w1, &me.b1, &b0);
        let bh: Vec<i128> = b0
            .iter()
            .zip(&b1)
            .map(|(h, z)| {
                i128::from(me.skip) * h
                    + i128::from(me.lin) * z
                    + i128::from(me.alpha).abs() * z * z
            })
            .collect();
        let bo = linear_bound(&me.w_out, &me.b_out, &bh);
        me.bound = [bx, b0, b1, bh, bo]
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(0);
        Ok(me)
    }

    /// log2 of the output scale.
    pub fn output_scale_bits(&self) -> u32 {
        let (sx, sw, sa) = self.bits;
        sw + sa + 2 * (sx + 2 * sw)
    }

    /// Plaintext-modulus bits that hold every value of the model without wrapping (t > 2 bound).
    pub fn plaintext_bits(&self) -> u32 {
        (128 - (2 * self.bound + 1).leading_zeros()) + 1
    }

    /// Standardised inputs clipped and rounded at scale 2^sx (rows = samples).
    pub fn quantize_inputs(&self, x: &Array2<f64>) -> Vec<Vec<i64>> {
        let f = 2f64.powi(self.bits.0 as i32);
        x.rows()
            .into_iter()
            .map(|r| {
                r.iter()
                    .map(|v| (v.clamp(-self.clip, self.clip) * f).round() as i64)
                    .collect()
            })
            .collect()
    }

    /// The integer model on quantised inputs (rows = samples): outputs at the output scale.
    pub fn forward(&self, xq: &[Vec<i64>]) -> Vec<Vec<i128>> {
        xq.iter()
            .map(|x| {
                let x: Vec<i128> = x.iter().map(|v| i128::from(*v)).collect();
                let h0 = dense(&self.w_in, &self.b_in, &x);
                let z = dense(&self.w1, &self.b1, &h0);
                let h1: Vec<i128> = h0
                    .iter()
                    .zip(&z)
                    .map(|(h, z)| {
                        i128::from(self.skip) * h
                            + i128::from(self.lin) * z
                            + i128::from(self.alpha) * z * z
                    })
                    .collect();
                dense(&self.w_out, &self.b_out, &h1)
            })
            .collect()
    }
}

/// BFV parameters for `q`: N = 16384, primes of 58 + 5 x 60 bits and a 60-bit special one (418 <= 438
/// bits: 128-bit security), a batching
/// plaintext prime of [`QuantizedNetwork::plaintext_bits`] bits.
pub fn bfv_parameters(q: &QuantizedNetwork) -> Result<Arc<BfvParameters>> {
    let bits = q.plaintext_bits().max(20);
    if bits > MAX_PLAINTEXT_BITS {
        return Err(Error::Config {
            reason: format!(
                "the bound needs a {bits}-bit plaintext modulus (> {MAX_PLAINTEXT_BITS}): lower the scales or use CRT over several moduli"
            ),
        });
    }
    Ok(veil_bfv::BfvParametersBuilder::new()
        .degree(16384)
        .batching_plaintext_bits(bits)
        .moduli_sizes(&[58, 60, 60, 60, 60, 60, 60])
        .build()?)
}

/// The server's evaluation of `q` on one ciphertext per quantised feature (samples in slots).
pub fn evaluate_bfv(
    q: &QuantizedNetwork,
    encoder: &Encoder,
    features: &[Ciphertext],
    rk: &RelinearizationKey,
) -> Result<Vec<Ciphertext>> {
    let dense = |w: &[Vec<i64>], b: &[i64], x: &[Ciphertext]| -> Result<Vec<Ciphertext>> {
        w.iter()
            .zip(b)
            .map(|(row, bj)| {
                let mut acc = x
                    .first()
                    .ok_or_else(|| Error::Config {
                        reason: "no inputs".into(),
                    })?
                    .mul_scalar(0);
                for (wi, xi) in row.iter().zip(x) {
                    if *wi != 0 {
                        acc = acc.add(&xi.mul_scalar(*wi))?;
                    }
                }
                Ok(acc.add_plain(&encoder.encode_scalar(*bj))?)
            })
            .collect()
    };
    let h0 = dense(&q.w_in, &q.b_in, features)?;
    let z = dense(&q.w1, &q.b1, &h0)?;
    let h1: Vec<Ciphertext> = h0
        .iter()
        .zip(&z)
        .map(|(h, zi)| {
            let square = zi.mul_relin(&zi.mul_scalar(q.alpha), rk)?;
            Ok(h.mul_scalar(q.skip)
                .add(&zi.mul_scalar(q.lin))?
                .add(&square)?)
        })
        .collect::<Result<_>>()?;
    dense(&q.w_out, &q.b_out, &h1)
}

/// Encrypts, evaluates and decrypts `x` (standardised rows, at most N/2) end to end; returns the
/// decrypted outputs (rows = samples) and the smallest noise budget left (bits).
pub fn run_exact(q: &QuantizedNetwork, x: &Array2<f64>) -> Result<(Vec<Vec<i64>>, u32)> {
    let params = bfv_parameters(q)?;
    let encoder = Encoder::new(&params)?;
    let sk = SecretKey::generate(&params)?;
    let pk: PublicKey = sk.public_key()?;
    let rk = sk.relinearization_key()?;
    let xq = q.quantize_inputs(x);
    if xq.len() > params.degree() {
        return Err(Error::Config {
            reason: "more samples than slots".into(),
        });
    }
    let cols = xq.first().map_or(0, Vec::len);
    let features = (0..cols)
        .map(|j| {
            let column: Vec<i64> = xq.iter().map(|r| r[j]).collect();
            Ok(pk.encrypt(&encoder.encode_signed(&column)?)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let out = evaluate_bfv(q, &encoder, &features, &rk)?;
    let mut budget = u32::MAX;
    let mut rows = vec![vec![0i64; out.len()]; xq.len()];
    for (k, ct) in out.iter().enumerate() {
        budget = budget.min(sk.noise_budget(ct)?);
        let slots = encoder.decode_signed(&sk.decrypt(ct)?)?;
        for (row, v) in rows.iter_mut().zip(slots) {
            row[k] = v;
        }
    }
    Ok((rows, budget))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Standardizer, Task};
    use crate::model::{Architecture, gaussian};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn decrypted_outputs_equal_the_integer_model() -> Result<()> {
        let std = Standardizer {
            mean: vec![0.0; 6],
            std: vec![1.0; 6],
        };
        let net = Network::new(
            Architecture::reacthe(5, 1, 0.1),
            Task::MultiClass(3),
            6,
            std,
            3,
        )?;
        let q = QuantizedNetwork::new(&net, (4, 6, 8), 4.0)?;
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let x = Array2::from_shape_fn((30, 6), |_| 2.0 * gaussian(&mut rng));
        let want = q.forward(&q.quantize_inputs(&x));
        // Every value within the tracked bound.
        assert!(want.iter().flatten().all(|v| v.abs() <= q.bound));
        let (got, budget) = run_exact(&q, &x)?;
        for (g, w) in got.iter().zip(&want) {
            let w: Vec<i64> = w.iter().map(|v| *v as i64).collect();
            assert_eq!(g, &w);
        }
        assert!(budget > 0);
        // The integer model approximates the float one.
        let f = net.forward_standardized(&x.mapv(|v| v.clamp(-4.0, 4.0)));
        let s = 2f64.powi(q.output_scale_bits() as i32);
        for (i, row) in want.iter().enumerate() {
            for (k, v) in row.iter().enumerate() {
                assert!(
                    (*v as f64 / s - f[[i, k]]).abs() < 0.2,
                    "{} vs {}",
                    *v as f64 / s,
                    f[[i, k]]
                );
            }
        }
        Ok(())
    }
}
