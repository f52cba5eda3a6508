//! Training: mini-batch Adam (Kingma and Ba, ICLR 2015, Algorithm 1) on the hand-written
//! gradients of `model`, gradient clipping, early stopping on a validation split; seeded
//! repeats over train/test splits.

use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Standardizer, Task};
use crate::error::Result;
use crate::model::{Architecture, Dense, Network};

/// Optimiser and stopping settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Maximum passes over the training data.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Adam step size.
    pub learning_rate: f64,
    /// L2 penalty on weights.
    pub weight_decay: f64,
    /// Epochs without validation improvement before stopping.
    pub patience: usize,
    /// Fraction of the training data held out for early stopping.
    pub validation: f64,
    /// Global gradient-norm clip.
    pub clip: f64,
    /// Seed of initialisation, shuffles and the validation split.
    pub seed: u64,
    /// Label smoothing of the multi-class loss (Szegedy et al., CVPR 2016, sec. 7): the target
    /// distribution puts 1 - eps on the label and eps / k on every class. 0 disables it; the
    /// validation loss that early stopping watches is always the unsmoothed one.
    #[serde(default)]
    pub label_smoothing: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 300,
            batch: 32,
            learning_rate: 2e-3,
            weight_decay: 1e-4,
            patience: 25,
            validation: 0.15,
            clip: 5.0,
            seed: 1,
            label_smoothing: 0.0,
        }
    }
}

/// What training did.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The network with the best validation loss.
    pub network: Network,
    /// Epochs run.
    pub epochs: usize,
    /// Best validation loss.
    pub validation_loss: f64,
    /// True when the loss became non-finite (training stopped there).
    pub diverged: bool,
}

/// Mean loss and d(loss)/d(outputs) of a batch (targets in training units).
fn loss_and_gradient(task: Task, out: &Array2<f64>, y: &Array1<f64>) -> (f64, Array2<f64>) {
    smoothed_loss_and_gradient(task, out, y, 0.0)
}

/// [`loss_and_gradient`] with label smoothing `eps` on the multi-class loss.
fn smoothed_loss_and_gradient(
    task: Task,
    out: &Array2<f64>,
    y: &Array1<f64>,
    eps: f64,
) -> (f64, Array2<f64>) {
    let n = out.nrows().max(1) as f64;
    let mut grad = Array2::zeros(out.raw_dim());
    let mut loss = 0.0;
    for (i, row) in out.rows().into_iter().enumerate() {
        match task {
            Task::Binary => {
                let o = row[0];
                let p = 1.0 / (1.0 + (-o).exp());
                // BCE with logits, stable form.
                loss += o.max(0.0) - o * y[i] + (-o.abs()).exp().ln_1p();
                grad[[i, 0]] = (p - y[i]) / n;
            }
            Task::MultiClass(_) => {
                let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
                let s: f64 = e.iter().sum();
                let label = y[i] as usize;
                let k = row.len() as f64;
                for (j, ej) in e.iter().enumerate() {
                    let target = (1.0 - eps) * f64::from(u8::from(j == label)) + eps / k;
                    loss -= target * (row[j] - m - s.ln());
                    grad[[i, j]] = (ej / s - target) / n;
                }
            }
            Task::Regression => {
                let d = row[0] - y[i];
                loss += 0.5 * d * d;
                grad[[i, 0]] = d / n;
            }
        }
    }
    (loss / n, grad)
}

/// Adam state for one layer.
struct Moments {
    m: Dense,
    v: Dense,
}

fn zeros_like(d: &Dense) -> Dense {
    Dense {
        w: Array2::zeros(d.w.raw_dim()),
        b: Array1::zeros(d.b.raw_dim()),
    }
}

/// Trains `arch` on `data` (raw features; standardised here, and the target too for
/// regression).
pub fn train(arch: Architecture, data: &Dataset, config: &TrainConfig) -> Result<Trained> {
    if !(0.0..1.0).contains(&config.label_smoothing) {
        return Err(crate::error::Error::Config {
            reason: "label smoothing must be in [0, 1)".into(),
        });
    }
    let (fit, val) = data.split(config.validation, config.seed ^ 0x5eed);
    let standardizer = Standardizer::fit(&fit.x);
    let mut net = Network::new(
        arch,
        data.task,
        data.x.ncols(),
        standardizer.clone(),
        config.seed,
    )?;
    if data.task == Task::Regression {
        let mean = fit.y.mean().unwrap_or(0.0);
        let sd = fit.y.std(0.0).max(1e-12);
        net.target_scale = (mean, sd);
    }
    let (mean, sd) = net.target_scale;
    let target = |y: &Array1<f64>| match data.task {
        Task::Regression => y.mapv(|v| (v - mean) / sd),
        _ => y.clone(),
    };
    let (xf, yf) = (standardizer.transform(&fit.x), target(&fit.y));
    let (xv, yv) = (standardizer.transform(&val.x), target(&val.y));
    let val_loss = |n: &Network| loss_and_gradient(n.task, &n.forward_standardized(&xv), &yv).0;

    let mut moments: Vec<Moments> = net
        .layers_mut()
        .iter()
        .map(|d| Moments {
            m: zeros_like(d),
            v: zeros_like(d),
        })
        .collect();
    let (beta1, beta2, eps) = (0.9f64, 0.999f64, 1e-8);
    let mut step = 0i32;
    let mut best = (val_loss(&net), net.clone());
    let mut since_best = 0;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(17));
    let mut order: Vec<usize> = (0..xf.nrows()).collect();
    let mut epochs = 0;
    let mut diverged = !best.0.is_finite();
    while epochs < config.epochs && !diverged {
        epochs += 1;
        order.shuffle(&mut rng);
        for chunk in order.chunks(config.batch.max(1)) {
            let xb = xf.select(Axis(0), chunk);
            let yb = yf.select(Axis(0), chunk);
            let (trace, out) = net.trace(&xb);
            let (loss, d_out) =
                smoothed_loss_and_gradient(net.task, &out, &yb, config.label_smoothing);
            if !loss.is_finite() {
                diverged = true;
                break;
            }
            let g = net.backward(&xb, &trace, &d_out);
            let mut grads: Vec<Dense> = g.input.into_iter().collect();
            grads.extend(g.hidden);
            grads.push(g.head);
            let norm = grads
                .iter()
                .map(|d| d.w.mapv(|v| v * v).sum() + d.b.mapv(|v| v * v).sum())
                .sum::<f64>()
                .sqrt();
            if !norm.is_finite() {
                diverged = true;
                break;
            }
            let clip = if norm > config.clip {
                config.clip / norm
            } else {
                1.0
            };
            step += 1;
            let (c1, c2) = (1.0 - beta1.powi(step), 1.0 - beta2.powi(step));
            for ((layer, g), mo) in net.layers_mut().into_iter().zip(&grads).zip(&mut moments) {
                let gw = &g.w * clip + &layer.w * config.weight_decay;
                let gb = &g.b * clip;
                mo.m.w = &mo.m.w * beta1 + &gw * (1.0 - beta1);
                mo.v.w = &mo.v.w * beta2 + &gw.mapv(|v| v * v) * (1.0 - beta2);
                mo.m.b = &mo.m.b * beta1 + &gb * (1.0 - beta1);
                mo.v.b = &mo.v.b * beta2 + &gb.mapv(|v| v * v) * (1.0 - beta2);
                let lr = config.learning_rate;
                layer.w -= &((&mo.m.w / c1) / ((&mo.v.w / c2).mapv(f64::sqrt) + eps) * lr);
                layer.b -= &((&mo.m.b / c1) / ((&mo.v.b / c2).mapv(f64::sqrt) + eps) * lr);
            }
        }
        let v = val_loss(&net);
        if !v.is_finite() {
            diverged = true;
        } else if v < best.0 - 1e-6 {
            best = (v, net.clone());
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= config.patience {
                break;
            }
        }
    }
    Ok(Trained {
        network: best.1,
        epochs,
        validation_loss: best.0,
        diverged,
    })
}

/// Accuracy (classification) or RMSE in the target's units (regression) of `net` on `data`.
pub fn score(net: &Network, data: &Dataset) -> f64 {
    let pred = net.decide(&net.forward(&data.x));
    let n = data.len().max(1) as f64;
    match net.task {
        Task::Regression => (pred
            .iter()
            .zip(&data.y)
            .map(|(p, y)| (p - y).powi(2))
            .sum::<f64>()
            / n)
            .sqrt(),
        _ => pred.iter().zip(&data.y).filter(|(p, y)| p == y).count() as f64 / n,
    }
}

/// One repeat's outcome.
#[derive(Clone, Debug)]
pub struct RepeatResult {
    /// Test score ([`score`]).
    pub score: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Whether training diverged.
    pub diverged: bool,
}

/// `repeats` seeded 80/20 splits (seed 1..=repeats): trains on each and scores on its test part.
pub fn repeated(
    arch: Architecture,
    data: &Dataset,
    config: &TrainConfig,
    repeats: usize,
) -> Result<Vec<RepeatResult>> {
    (1..=repeats as u64)
        .map(|seed| {
            let (train_part, test_part) = data.split(0.2, seed);
            let cfg = TrainConfig { seed, ..*config };
            let t = train(arch, &train_part, &cfg)?;
            Ok(RepeatResult {
                score: score(&t.network, &test_part),
                epochs: t.epochs,
                diverged: t.diverged,
            })
        })
        .collect()
}

/// Mean and sample standard deviation.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, gaussian};

    /// A separable two-class problem: every architecture learns it.
    fn toy(n: usize) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x = Array2::from_shape_fn((n, 3), |_| gaussian(&mut rng));
        let y = x
            .rows()
            .into_iter()
            .map(|r| f64::from(u8::from(r[0] + 0.5 * r[1] > 0.0)))
            .collect();
        Dataset {
            x,
            y,
            task: Task::Binary,
        }
    }

    #[test]
    fn learns_a_separable_problem() -> Result<()> {
        let data = toy(300);
        let (tr, te) = data.split(0.3, 1);
        let cfg = TrainConfig {
            epochs: 60,
            ..TrainConfig::default()
        };
        for arch in [
            Architecture::reacthe(8, 2, 0.1),
            Architecture::plain(8, 2, Activation::Relu),
        ] {
            let t = train(arch, &tr, &cfg)?;
            let s = score(&t.network, &te);
            assert!(s > 0.9, "{arch:?}: accuracy {s}");
        }
        Ok(())
    }
}
