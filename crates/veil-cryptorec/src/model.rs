//! The CryptoRec model (sec. 3.1, eq. 6) and its training (eq. 7-8, Alg. 1).
//!
//! r_ui = mu + b_u + b_i + ((r_u - rbar_u) . phi_u) A q_i^T, with b_u = rbar_u - mu and
//! b_i = rbar_i - mu taken from the data, and Theta = {A, Q} (m x d each) learned by minimising
//! sum_u ||(rhat_u - r_u) . phi_u||^2 + lambda (||A||^2 + ||Q||^2). For a batch of users with
//! centred ratings R~ (zero where unrated), P = R~ A, E = (Rhat - R) . Phi, and the gradients of
//! eq. 8 are dA = R~^T (E Q) + lambda A and dQ = E^T P + lambda Q. Steps use Adam (Kingma and Ba
//! 2015) instead of plain SGD: it reaches the same optimum in fewer epochs.

use ndarray::{Array1, Array2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::data::{Rating, RatingScale};
use crate::error::{Error, Result};

/// One user's ratings: item indices and values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserRatings {
    /// Rated item indices.
    pub items: Vec<u32>,
    /// The ratings, in the same order.
    pub values: Vec<f32>,
}

impl UserRatings {
    /// rbar_u, the user's mean rating (0 for a user without ratings).
    pub fn mean(&self) -> f32 {
        if self.values.is_empty() {
            0.0
        } else {
            self.values.iter().sum::<f32>() / self.values.len() as f32
        }
    }
}

impl UserRatings {
    /// Parses one user's ratings as the CLI reads them: `item,rating` lines (commas or tabs,
    /// `#` comments, blank lines skipped), item identifiers mapped through `item_ids` (dense
    /// indices below `items` when it is empty). Refuses unknown items, ratings outside `scale`
    /// or not finite, an item rated twice, lines without exactly two fields, and a file without
    /// ratings. Work and memory are linear in the text (one hash map of the identifiers).
    pub fn parse_lines(
        text: &str,
        item_ids: &[u64],
        items: usize,
        scale: &RatingScale,
    ) -> Result<Self> {
        let index_of: std::collections::HashMap<u64, usize> = item_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i))
            .collect();
        let mut user = UserRatings::default();
        let mut seen = std::collections::HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: String| Error::Parse {
                line: n + 1,
                reason,
            };
            let parts: Vec<&str> = line.split([',', '\t']).map(str::trim).collect();
            let [id, value] = parts[..] else {
                return Err(bad(format!(
                    "expected two fields, item,rating; found {}",
                    parts.len()
                )));
            };
            let id: u64 = id
                .parse()
                .map_err(|_| bad("expected an item identifier".into()))?;
            let value: f32 = value
                .parse()
                .ok()
                .filter(|v: &f32| v.is_finite())
                .ok_or_else(|| bad("expected a rating".into()))?;
            if !scale.contains(value) {
                return Err(bad(format!(
                    "rating {value} is outside the model's rating scale {scale}"
                )));
            }
            let index = if item_ids.is_empty() {
                usize::try_from(id).ok().filter(|&i| i < items)
            } else {
                index_of.get(&id).copied()
            }
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| bad("unknown item".into()))?;
            if !seen.insert(index) {
                return Err(bad(format!("item {id} is rated twice")));
            }
            user.items.push(index);
            user.values.push(value);
        }
        if user.items.is_empty() {
            return Err(Error::Parse {
                line: 0,
                reason: "no ratings".into(),
            });
        }
        Ok(user)
    }
}

/// Groups ratings by user (dense indices, `users` of them).
pub fn by_user(ratings: &[Rating], users: usize) -> Vec<UserRatings> {
    let mut out = vec![UserRatings::default(); users];
    for r in ratings {
        if let Some(u) = out.get_mut(r.user as usize) {
            u.items.push(r.item);
            u.values.push(r.value);
        }
    }
    out
}

/// Largest latent dimension d a model may have (the paper uses 500): a bound on what a model file
/// or a training configuration can make this crate allocate per item.
pub const MAX_DIM: usize = 4096;

/// The number of ratings at which [`input_weight`] is 1.
pub const INPUT_NORM_REFERENCE: f32 = 10.0;

/// w_u = (10 / n_u)^alpha, the weight of a user's centred ratings in the model's input
/// (1 for alpha = 0, the paper's eq. 6, or a user without ratings). With alpha = 0.5 the
/// user's code r~_u A no longer grows with the number of ratings, as in SVD++'s |N(u)|^-1/2
/// (Koren, KDD 2008, eq. 15); the client knows n_u and scales its own input, so the encrypted
/// protocol is unchanged. The largest weight is 10^alpha (one rating).
pub fn input_weight(alpha: f32, ratings: usize) -> f32 {
    if ratings == 0 || alpha == 0.0 {
        1.0
    } else {
        (INPUT_NORM_REFERENCE / ratings as f32).powf(alpha)
    }
}

/// Hyperparameters of training.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Latent dimension d (the paper uses 500).
    pub dim: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// Regularization lambda.
    pub lambda: f32,
    /// Users per mini-batch.
    pub batch: usize,
    /// Largest number of epochs.
    pub epochs: usize,
    /// Stop after this many epochs without a better validation RMSE.
    pub patience: usize,
    /// Fraction of each training user's ratings left out of the model's input (but kept as
    /// targets) in every batch. Training then matches prediction, where the items to predict are
    /// never in the input; without it the model learns to copy a rating into its own prediction.
    /// A deviation from the paper's eq. 7 (as in denoising autoencoders), stated in the docs.
    pub input_dropout: f64,
    /// Half-width of the uniform initialisation of A and Q (too small a start stalls at the
    /// saddle point A = Q = 0, where each gradient is proportional to the other factor).
    pub init_scale: f32,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
    /// beta of the shrunk item biases b_i = sum_u (r_ui - mu) / (beta + n_i): an item rated
    /// by few users gets a bias near 0 instead of its few ratings' mean (Koren, "Factor in the
    /// neighbors", TKDD 2010, sec. 2.1, which uses 25). 0 gives the paper's b_i = rbar_i - mu.
    /// (beta, delta) = (50, -0.5) had the best CryptoRec-f RMSE on MovieLens 100K splits 5 and 6
    /// (not among the reported 0-4) over beta in {25, 50, 100} x delta in {0, -0.25, ..., -1}
    /// (0.9268; 0.9322 at (100, 0), 0.9362 at (25, 0)); docs/cryptorec.md has the grid.
    pub bias_shrinkage: f32,
    /// delta, the prior mean of an item's bias that [`TrainConfig::bias_shrinkage`] pulls toward:
    /// b_i = (sum_u (r_ui - mu) + beta delta) / (beta + n_i). Below 0 because rarely rated items
    /// are rated lower than the mean (ratings are missing not at random: Marlin et al., UAI 2007;
    /// Steck, KDD 2010), so an item's few ratings are weak evidence that it is average.
    pub bias_prior: f32,
    /// The rating scale; `None` infers it from the training ratings (lowest to highest).
    pub scale: Option<RatingScale>,
    /// alpha of the input weight (10 / n_u)^alpha ([`input_weight`]), in [0, 2]. 0.5 (issue
    /// 16) lowered CryptoRec-f's test RMSE over 5 splits on MovieLens 100K (0.9173 -> 0.9092),
    /// sparse half-star synthetic data (300 x 4500 at 1%: 0.7957 -> 0.7782) and 400 x 800 at
    /// 3% (0.8197 -> 0.8014), on every split; alpha = 1 was worse than 0.5 on all three.
    pub input_norm: f32,
}

impl Default for TrainConfig {
    /// Chosen on MovieLens 100K validation users (5 seeds, `examples/movielens_rmse.rs`):
    /// a small initialisation mattered most (init 0.1: 0.955 on seed 0, init 0.01: 0.908); with
    /// it, input dropout no longer helped (0.926 with 0, 0.928 with 0.25, 0.939 with 0.5), and
    /// lambda in [0.02, 0.2], d in {100, 500} and step sizes in [3e-4, 1e-3] agreed within noise.
    fn default() -> Self {
        TrainConfig {
            dim: 100,
            learning_rate: 1e-3,
            lambda: 5e-2,
            batch: 64,
            epochs: 200,
            patience: 5,
            input_dropout: 0.0,
            init_scale: 0.01,
            seed: 1,
            bias_shrinkage: 50.0,
            bias_prior: -0.5,
            scale: None,
            input_norm: 0.5,
        }
    }
}

/// What [`Model::train_with`] reports after each epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// 0-based epoch number.
    pub epoch: usize,
    /// RMSE on the validation pairs (None without validation data).
    pub validation_rmse: Option<f64>,
}

/// A trained CryptoRec model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Global mean rating mu.
    pub mu: f32,
    /// Item biases b_i, shrunk toward 0 by their support ([`TrainConfig::bias_shrinkage`]; 0 for
    /// items without training ratings).
    pub item_bias: Array1<f32>,
    /// A (m x d): maps centred ratings to user features.
    pub a: Array2<f32>,
    /// Q (m x d): item features.
    pub q: Array2<f32>,
    /// The rating scale of the training data: predictions are clamped to it.
    pub scale: RatingScale,
    /// alpha of the input weight [`input_weight`] (0: the paper's unweighted r~_u).
    pub input_norm: f32,
}

/// Dense batch rows: centred input ratings R~ (each rating left out with probability `dropout`),
/// ratings R, mask Phi and the user means.
fn batch_matrices(
    users: &[&UserRatings],
    items: usize,
    alpha: f32,
    dropout: f64,
    rng: &mut ChaCha20Rng,
) -> (Array2<f32>, Array2<f32>, Array2<f32>, Array1<f32>) {
    let b = users.len();
    let (mut centred, mut ratings, mut mask) = (
        Array2::zeros((b, items)),
        Array2::zeros((b, items)),
        Array2::zeros((b, items)),
    );
    let mut means = Array1::zeros(b);
    for (row, u) in users.iter().enumerate() {
        let mean = u.mean();
        let weight = input_weight(alpha, u.values.len());
        means[row] = mean;
        for (&i, &v) in u.items.iter().zip(&u.values) {
            let i = i as usize;
            if i < items {
                if dropout <= 0.0 || rng.random::<f64>() >= dropout {
                    centred[[row, i]] = (v - mean) * weight;
                }
                ratings[[row, i]] = v;
                mask[[row, i]] = 1.0;
            }
        }
    }
    (centred, ratings, mask, means)
}

/// Adam state for one parameter matrix.
struct Adam {
    m: Array2<f32>,
    v: Array2<f32>,
    t: i32,
}

impl Adam {
    fn new(shape: (usize, usize)) -> Self {
        Adam {
            m: Array2::zeros(shape),
            v: Array2::zeros(shape),
            t: 0,
        }
    }
    fn step(&mut self, param: &mut Array2<f32>, grad: &Array2<f32>, lr: f32) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        self.t += 1;
        self.m
            .zip_mut_with(grad, |m, &g| *m = b1 * *m + (1.0 - b1) * g);
        self.v
            .zip_mut_with(grad, |v, &g| *v = b2 * *v + (1.0 - b2) * g * g);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        ndarray::Zip::from(param)
            .and(&self.m)
            .and(&self.v)
            .for_each(|p, &m, &v| *p -= lr * (m / c1) / ((v / c2).sqrt() + eps));
    }
}

impl Model {
    /// Trains on `train` users (their ratings over `items` items); early stopping on the RMSE of
    /// `validation` pairs (each: ratings fed to the model, ratings to predict), if given.
    pub fn train(
        train: &[UserRatings],
        items: usize,
        cfg: &TrainConfig,
        validation: &[(UserRatings, UserRatings)],
    ) -> Result<Self> {
        Self::train_with(train, items, cfg, validation, |_| {})
    }

    /// [`Model::train`] that reports each finished epoch to `on_epoch` (for progress bars and
    /// learning curves).
    pub fn train_with(
        train: &[UserRatings],
        items: usize,
        cfg: &TrainConfig,
        validation: &[(UserRatings, UserRatings)],
        on_epoch: impl FnMut(EpochReport),
    ) -> Result<Self> {
        Self::train_inner(None, train, items, cfg, validation, on_epoch)
    }

    /// [`Model::train_with`] starting from another model's A and Q instead of a random
    /// initialisation: transfer between user populations that share the items (sec. 3.3).
    /// mu and the item biases are recomputed from `train`; `cfg.dim` must equal `init`'s d.
    pub fn train_from(
        init: &Model,
        train: &[UserRatings],
        cfg: &TrainConfig,
        validation: &[(UserRatings, UserRatings)],
        on_epoch: impl FnMut(EpochReport),
    ) -> Result<Self> {
        if init.a.ncols() != cfg.dim {
            return Err(Error::Invalid {
                reason: "the initial model's dimension differs from cfg.dim",
            });
        }
        Self::train_inner(Some(init), train, init.items(), cfg, validation, on_epoch)
    }

    fn train_inner(
        init: Option<&Model>,
        train: &[UserRatings],
        items: usize,
        cfg: &TrainConfig,
        validation: &[(UserRatings, UserRatings)],
        mut on_epoch: impl FnMut(EpochReport),
    ) -> Result<Self> {
        let count: usize = train.iter().map(|u| u.values.len()).sum();
        if count == 0 || items == 0 || cfg.dim == 0 || cfg.batch == 0 || cfg.epochs == 0 {
            return Err(Error::Invalid {
                reason: "no training ratings, items, dimension, batch or epochs",
            });
        }
        if cfg.dim > MAX_DIM {
            return Err(Error::Invalid {
                reason: "the latent dimension is above MAX_DIM",
            });
        }
        if !(cfg.bias_shrinkage.is_finite()
            && cfg.bias_shrinkage >= 0.0
            && cfg.bias_prior.is_finite())
        {
            return Err(Error::Invalid {
                reason: "the bias shrinkage must be finite and not negative, its prior finite",
            });
        }
        if !(0.0..=2.0).contains(&cfg.input_norm) {
            return Err(Error::Invalid {
                reason: "the input normalisation exponent must be in [0, 2]",
            });
        }
        if init.is_some_and(|m| m.input_norm != cfg.input_norm) {
            return Err(Error::Invalid {
                reason: "the initial model's input normalisation differs from cfg.input_norm",
            });
        }
        let rating_scale = train_scale(train, cfg.scale)?;
        let mu = train.iter().flat_map(|u| u.values.iter()).sum::<f32>() / count as f32;
        let (mut sums, mut counts) = (vec![0f32; items], vec![0u32; items]);
        for u in train {
            for (&i, &v) in u.items.iter().zip(&u.values) {
                if let (Some(s), Some(c)) = (sums.get_mut(i as usize), counts.get_mut(i as usize)) {
                    *s += v;
                    *c += 1;
                }
            }
        }
        // (sum_u (r_ui - mu) + beta delta) / (beta + n_i): the posterior mean of an item's bias
        // under a prior of mean delta worth beta ratings; with beta = 0, rbar_i - mu.
        let item_bias = Array1::from_iter(sums.iter().zip(&counts).map(|(&s, &c)| {
            let denominator = cfg.bias_shrinkage + c as f32;
            if denominator > 0.0 {
                (s - mu * c as f32 + cfg.bias_shrinkage * cfg.bias_prior) / denominator
            } else {
                0.0
            }
        }));
        let mut rng = ChaCha20Rng::seed_from_u64(cfg.seed);
        let scale = cfg.init_scale;
        let init_matrix = |rng: &mut ChaCha20Rng| {
            Array2::from_shape_fn((items, cfg.dim), |_| {
                (rng.random::<f32>() * 2.0 - 1.0) * scale
            })
        };
        let (a, q) = match init {
            Some(m) => (m.a.clone(), m.q.clone()),
            None => (init_matrix(&mut rng), init_matrix(&mut rng)),
        };
        let mut model = Model {
            mu,
            item_bias,
            a,
            q,
            scale: rating_scale,
            input_norm: cfg.input_norm,
        };
        let (mut adam_a, mut adam_q) = (Adam::new((items, cfg.dim)), Adam::new((items, cfg.dim)));
        let mut order: Vec<usize> = (0..train.len())
            .filter(|&u| train.get(u).is_some_and(|r| !r.values.is_empty()))
            .collect();
        let (mut best, mut best_rmse, mut stale) = (model.clone(), f64::INFINITY, 0);
        for epoch in 0..cfg.epochs {
            order.shuffle(&mut rng);
            for chunk in order.chunks(cfg.batch) {
                let users: Vec<&UserRatings> = chunk.iter().filter_map(|&u| train.get(u)).collect();
                let (centred, ratings, mask, means) =
                    batch_matrices(&users, items, cfg.input_norm, cfg.input_dropout, &mut rng);
                let p = centred.dot(&model.a); // b x d
                let mut pred = p.dot(&model.q.t()); // b x m
                pred += &model.item_bias.view().insert_axis(Axis(0));
                pred += &means.view().insert_axis(Axis(1));
                let e = (pred - &ratings) * &mask; // masked errors
                let n = users.len() as f32;
                let grad_a = centred.t().dot(&e.dot(&model.q)) / n + &model.a * cfg.lambda;
                let grad_q = e.t().dot(&p) / n + &model.q * cfg.lambda;
                adam_a.step(&mut model.a, &grad_a, cfg.learning_rate);
                adam_q.step(&mut model.q, &grad_q, cfg.learning_rate);
            }
            if validation.is_empty() {
                best = model.clone();
                on_epoch(EpochReport {
                    epoch,
                    validation_rmse: None,
                });
                continue;
            }
            let rmse = model.rmse(validation);
            on_epoch(EpochReport {
                epoch,
                validation_rmse: Some(rmse),
            });
            if !rmse.is_finite() {
                break; // diverged: keep the best epoch so far
            }
            if rmse < best_rmse {
                (best, best_rmse, stale) = (model.clone(), rmse, 0);
            } else {
                stale += 1;
                if stale >= cfg.patience {
                    break;
                }
            }
        }
        Ok(best)
    }

    /// Number of items m.
    pub fn items(&self) -> usize {
        self.item_bias.len()
    }

    /// The model's input for a user: w_u (r_u - rbar_u) . phi_u over all items, w_u the
    /// [`input_weight`] (0 where unrated or outside the model).
    pub fn input(&self, user: &UserRatings) -> Array1<f32> {
        let mean = user.mean();
        let weight = input_weight(self.input_norm, user.values.len());
        let mut centred = Array1::zeros(self.items());
        for (&i, &v) in user.items.iter().zip(&user.values) {
            if let Some(c) = centred.get_mut(i as usize) {
                *c = (v - mean) * weight;
            }
        }
        centred
    }

    /// Predictions for every item from a user's ratings (eq. 6, with the input weight w_u):
    /// rbar_u + b_i + (w_u r~_u A) q_i^T.
    pub fn predict(&self, user: &UserRatings) -> Array1<f32> {
        let mean = user.mean();
        let p = self.input(user).dot(&self.a);
        self.q.dot(&p) + &self.item_bias + mean
    }

    /// [`Model::predict`] clamped to the rating scale: the scores a user is shown.
    pub fn predict_clamped(&self, user: &UserRatings) -> Array1<f32> {
        self.predict(user).mapv(|x| self.scale.clamp(x))
    }

    /// RMSE over (fed ratings, ratings to predict) pairs, predictions clamped to the scale.
    pub fn rmse(&self, pairs: &[(UserRatings, UserRatings)]) -> f64 {
        let (mut sq, mut n) = (0f64, 0usize);
        for (feed, target) in pairs {
            let pred = self.predict(feed);
            for (&i, &v) in target.items.iter().zip(&target.values) {
                let p = pred.get(i as usize).copied().unwrap_or(self.mu);
                let p = self.scale.clamp(p);
                sq += f64::from(p - v).powi(2);
                n += 1;
            }
        }
        if n == 0 { 0.0 } else { (sq / n as f64).sqrt() }
    }

    /// The RMSE of the bias-only predictor rbar_u + b_i on the same pairs (a floor any useful
    /// interaction term must beat).
    pub fn bias_only_rmse(&self, pairs: &[(UserRatings, UserRatings)]) -> f64 {
        let (mut sq, mut n) = (0f64, 0usize);
        for (feed, target) in pairs {
            let mean = feed.mean();
            for (&i, &v) in target.items.iter().zip(&target.values) {
                let p = self
                    .scale
                    .clamp(mean + self.item_bias.get(i as usize).copied().unwrap_or(0.0));
                sq += f64::from(p - v).powi(2);
                n += 1;
            }
        }
        if n == 0 { 0.0 } else { (sq / n as f64).sqrt() }
    }
}

/// The given scale, checked against the training ratings, or the one they span.
fn train_scale(train: &[UserRatings], given: Option<RatingScale>) -> Result<RatingScale> {
    let values = train.iter().flat_map(|u| u.values.iter().copied());
    match given {
        Some(scale) => match values.clone().find(|v| !scale.contains(*v)) {
            None => Ok(scale),
            Some(value) => Err(Error::Scale {
                value,
                scale,
                context: "a training rating".into(),
            }),
        },
        None => {
            let (lo, hi) = values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            RatingScale::new(lo, hi).map_err(|_| Error::Invalid {
                reason: "all training ratings are equal: give the rating scale",
            })
        }
    }
}

/// Splits each held-out user's ratings into fed (fraction `feed`) and target parts, at random.
pub fn split_user(user: &UserRatings, feed: f64, rng: &mut impl Rng) -> (UserRatings, UserRatings) {
    let mut idx: Vec<usize> = (0..user.items.len()).collect();
    idx.shuffle(rng);
    let cut = ((user.items.len() as f64) * feed).round() as usize;
    let pick = |ids: &[usize]| UserRatings {
        items: ids
            .iter()
            .filter_map(|&k| user.items.get(k).copied())
            .collect(),
        values: ids
            .iter()
            .filter_map(|&k| user.values.get(k).copied())
            .collect(),
    };
    (
        pick(idx.get(..cut).unwrap_or(&[])),
        pick(idx.get(cut..).unwrap_or(&[])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ratings_lines_parse_and_refuse_what_they_should() {
        let scale = RatingScale::default();
        let ids = [10_u64, 20, u64::MAX];
        let user = UserRatings::parse_lines("# mine\n20, 4\n\n10\t1.5\n", &ids, 3, &scale).unwrap();
        assert_eq!((user.items, user.values), (vec![1, 0], vec![4.0, 1.5]));
        let dense = UserRatings::parse_lines("2,5", &[], 3, &scale).unwrap();
        assert_eq!(dense.items, vec![2]);
        for bad in [
            "",
            "# nothing\n",
            "30,4",
            "10,4\n10,3",
            "10,4,5",
            "10",
            "10,NaN",
            "10,inf",
            "10,9",
            "x,4",
        ] {
            assert!(
                UserRatings::parse_lines(bad, &ids, 3, &scale).is_err(),
                "{bad:?}"
            );
        }
        assert!(UserRatings::parse_lines("3,4", &[], 3, &scale).is_err());
    }
}
