//! The float model, its SGD training (binary cross-entropy), the integer model, and metrics.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::{Error, Result};
use crate::table::EmbeddingTable;

/// Training settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// Buckets p (row 0 is padding).
    pub buckets: usize,
    /// Embedding dimension d.
    pub dim: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// SGD learning rate (decays linearly to 0, as fastText).
    pub learning_rate: f32,
    /// Seed of the initialization and the shuffles.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            buckets: 256,
            dim: 16,
            epochs: 20,
            learning_rate: 0.5,
            seed: 1,
        }
    }
}

/// z = w . mean(E\[tokens\]) + b; spam when z > 0.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatModel {
    /// p x d, row-major; row 0 stays zero (padding).
    pub embedding: Vec<f32>,
    /// Linear weights, d.
    pub weights: Vec<f32>,
    /// Bias.
    pub bias: f32,
    /// d.
    pub dim: usize,
}

/// mean over `tokens` of the rows of the p x d `embedding`.
fn mean_of(embedding: &[f32], dim: usize, tokens: &[usize]) -> Vec<f32> {
    let mut h = vec![0f32; dim];
    for &tok in tokens {
        for (hj, e) in h.iter_mut().zip(embedding.iter().skip(tok * dim)) {
            *hj += e;
        }
    }
    let l = tokens.len().max(1) as f32;
    h.iter_mut().for_each(|x| *x /= l);
    h
}

impl FloatModel {
    /// The logit z.
    pub fn logit(&self, tokens: &[usize]) -> f32 {
        let h = mean_of(&self.embedding, self.dim, tokens);
        h.iter().zip(&self.weights).map(|(a, b)| a * b).sum::<f32>() + self.bias
    }

    /// Trains on `(tokens, spam)` examples by SGD on the cross-entropy of sigmoid(z).
    pub fn train(examples: &[(Vec<usize>, bool)], cfg: &TrainConfig) -> Result<Self> {
        if cfg.buckets < 2 || cfg.dim == 0 || examples.is_empty() {
            return Err(Error::InvalidConfig {
                reason: "training needs p >= 2 buckets, d >= 1 and examples",
            });
        }
        let mut rng = ChaCha20Rng::seed_from_u64(cfg.seed);
        let d = cfg.dim;
        let scale = 1.0 / d as f32;
        let embedding: Vec<f32> = (0..cfg.buckets * d)
            .map(|i| {
                if i < d {
                    0.0
                } else {
                    rng.random_range(-scale..scale)
                }
            })
            .collect();
        let w_scale = 1.0 / (d as f32).sqrt();
        let weights: Vec<f32> = (0..d)
            .map(|_| rng.random_range(-w_scale..w_scale))
            .collect();
        let mut m = FloatModel {
            embedding,
            weights,
            bias: 0.0,
            dim: d,
        };
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let total = (cfg.epochs * examples.len()).max(1) as f32;
        let mut step = 0f32;
        for _ in 0..cfg.epochs {
            order.shuffle(&mut rng);
            for &i in &order {
                let Some((tokens, spam)) = examples.get(i) else {
                    continue;
                };
                if tokens.is_empty() {
                    continue;
                }
                let lr = cfg.learning_rate * (1.0 - step / total);
                step += 1.0;
                let h = mean_of(&m.embedding, d, tokens);
                let z = h.iter().zip(&m.weights).map(|(a, b)| a * b).sum::<f32>() + m.bias;
                // d(loss)/dz for loss = cross-entropy of sigmoid(z).
                let g = 1.0 / (1.0 + (-z).exp()) - f32::from(u8::from(*spam));
                let per_token = lr * g / tokens.len() as f32;
                for &tok in tokens {
                    if tok == 0 {
                        continue; // padding stays zero
                    }
                    for (e, w) in m.embedding.iter_mut().skip(tok * d).take(d).zip(&m.weights) {
                        *e -= per_token * w;
                    }
                }
                for (w, hj) in m.weights.iter_mut().zip(&h) {
                    *w -= lr * g * hj;
                }
                m.bias -= lr * g;
            }
        }
        Ok(m)
    }

    /// The integer model with `bits`-bit signed embeddings and weights (symmetric scales).
    pub fn quantize(&self, bits: u32) -> QuantizedModel {
        let top = ((1i64 << (bits - 1)) - 1) as f32;
        let max_e = self
            .embedding
            .iter()
            .fold(0f32, |m, x| m.max(x.abs()))
            .max(f32::MIN_POSITIVE);
        let max_w = self
            .weights
            .iter()
            .fold(0f32, |m, x| m.max(x.abs()))
            .max(f32::MIN_POSITIVE);
        let (se, sw) = (top / max_e, top / max_w);
        QuantizedModel {
            embedding: self
                .embedding
                .iter()
                .map(|x| (x * se).round() as i64)
                .collect(),
            weights: self
                .weights
                .iter()
                .map(|x| (x * sw).round() as i64)
                .collect(),
            bias: (f64::from(self.bias) * f64::from(se) * f64::from(sw)).round() as i64,
            dim: self.dim,
            rows: self.embedding.len() / self.dim.max(1),
        }
    }
}

/// The integer model: z_q = sum over tokens of (w_q . E_q\[token\] + b_q); spam when z_q > 0
/// (the same sign as w . mean + b up to quantization, since the token count is positive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantizedModel {
    /// p x d, row-major.
    pub embedding: Vec<i64>,
    /// d.
    pub weights: Vec<i64>,
    /// Bias in the product scale.
    pub bias: i64,
    /// d.
    pub dim: usize,
    /// p.
    pub rows: usize,
}

impl QuantizedModel {
    /// z_q for a message's tokens.
    pub fn score(&self, tokens: &[usize]) -> i64 {
        tokens
            .iter()
            .map(|&tok| {
                self.embedding
                    .iter()
                    .skip(tok * self.dim)
                    .take(self.dim)
                    .zip(&self.weights)
                    .map(|(e, w)| e * w)
                    .sum::<i64>()
                    + self.bias
            })
            .sum()
    }

    /// The server's lookup table: the d embedding columns and a last column that is 1 for every
    /// token bucket and 0 for the padding row (so that the bias is added once per real token).
    pub fn lookup_table(&self) -> Result<EmbeddingTable> {
        let rows: Vec<Vec<i64>> = (0..self.rows)
            .map(|r| {
                let mut row: Vec<i64> = self
                    .embedding
                    .iter()
                    .skip(r * self.dim)
                    .take(self.dim)
                    .copied()
                    .collect();
                row.push(i64::from(r != 0));
                row
            })
            .collect();
        EmbeddingTable::new(&rows)
    }

    /// The linear layer over the lookup table's columns: the weights, then the bias.
    pub fn linear_layer(&self) -> Vec<i64> {
        self.weights.iter().copied().chain([self.bias]).collect()
    }

    /// The largest |z_q| any message of at most `tokens` tokens can reach.
    pub fn score_bound(&self, tokens: usize) -> u64 {
        let per_token = (0..self.rows)
            .map(|r| {
                self.embedding
                    .iter()
                    .skip(r * self.dim)
                    .take(self.dim)
                    .zip(&self.weights)
                    .map(|(e, w)| (e * w).unsigned_abs())
                    .sum::<u64>()
                    + self.bias.unsigned_abs()
            })
            .max()
            .unwrap_or(0);
        per_token * tokens as u64
    }
}

/// Accuracy and F1 (spam is the positive class).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// Share of correct predictions.
    pub accuracy: f64,
    /// Harmonic mean of precision and recall of the spam class.
    pub f1: f64,
}

/// Metrics of `predicted` against `actual`.
pub fn metrics(predicted: &[bool], actual: &[bool]) -> Metrics {
    let (mut tp, mut fp, mut fn_, mut correct) = (0f64, 0f64, 0f64, 0usize);
    for (&p, &a) in predicted.iter().zip(actual) {
        correct += usize::from(p == a);
        match (p, a) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fn_ += 1.0,
            _ => {}
        }
    }
    let f1 = if tp == 0.0 {
        0.0
    } else {
        2.0 * tp / (2.0 * tp + fp + fn_)
    };
    Metrics {
        accuracy: correct as f64 / actual.len().max(1) as f64,
        f1,
    }
}
