//! The two baseline recommenders of sec. 4, trained from scratch on all the user data
//! ([`Split::all_known`]: the training users, the validation users' feeds and the test users'
//! feeds) with early stopping on the validation users' held-out ratings:
//!
//! - [`BiasedMf`], biased matrix factorisation (Koren et al. 2009; eq. 1 with biases):
//!   r_ui = mu + b_u + b_i + p_u q_i^T, trained by plain SGD over the shuffled known ratings.
//! - [`IAutoRec`], item-based AutoRec (Sedhain et al. 2015; sec. 2.1, eq. 2): each item's rating
//!   vector r_i (over the users of `all_known`) is encoded and decoded,
//!   r^_i = W sigmoid(V r_i + b1) + b2, with the squared error on observed ratings only plus
//!   lambda/2 (||W||^2 + ||V||^2). Trained with Adam on mini-batches of items (the original used
//!   L-BFGS / Rprop on the full batch; a stated deviation).
//!
//! Users are indexed as in `all_known`: the k-th test user is user
//! `all_known().len() - test.len() + k`, the k-th validation user is `train.len() + k`.
//! Predictions are clipped to the split's rating scale ([`Split::scale`]) by [`rmse_with`].

use ndarray::{Array, Array1, Array2, Axis, Dimension, Zip};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use crate::data::RatingScale;
use crate::error::{Error, Result};
use crate::eval::{FeedTest, PairErrors, Split, rmse_with};
use crate::model::UserRatings;

/// The known ratings of a split as (user, item, rating) triples, users indexed as in
/// [`Split::all_known`]; items outside `0..split.items` are dropped.
struct Known {
    users: usize,
    items: usize,
    triples: Vec<(u32, u32, f32)>,
    /// Global mean mu of the known ratings.
    mu: f32,
    /// Mean known rating of each user (mu for a user without ratings).
    user_mean: Vec<f32>,
}

impl Known {
    fn of(split: &Split) -> Result<Self> {
        let all = split.all_known();
        let items = split.items;
        let mut triples = Vec::new();
        let mut user_mean = Vec::with_capacity(all.len());
        for (u, ratings) in all.iter().enumerate() {
            let before = triples.len();
            for (&i, &v) in ratings.items.iter().zip(&ratings.values) {
                if (i as usize) < items {
                    triples.push((u as u32, i, v));
                }
            }
            let own = triples.get(before..).unwrap_or(&[]);
            user_mean.push(if own.is_empty() {
                f32::NAN
            } else {
                own.iter().map(|t| t.2).sum::<f32>() / own.len() as f32
            });
        }
        if triples.is_empty() || items == 0 {
            return Err(Error::Invalid {
                reason: "a split without known ratings or items",
            });
        }
        let mu =
            (triples.iter().map(|t| f64::from(t.2)).sum::<f64>() / triples.len() as f64) as f32;
        for m in &mut user_mean {
            if m.is_nan() {
                *m = mu;
            }
        }
        Ok(Known {
            users: all.len(),
            items,
            triples,
            mu,
            user_mean,
        })
    }
}

/// RMSE over `pairs` whose k-th user is user `first + k` of `all_known`, with `predict(u)` the
/// prediction vector over all items of user u.
fn pairs_rmse(
    pairs: &[FeedTest],
    scale: RatingScale,
    first: usize,
    mut predict: impl FnMut(usize) -> Vec<f32>,
) -> f64 {
    rmse_with(pairs, scale.min, scale.max, |k, _| predict(first + k))
}

/// Index in `all_known` of the first validation user and of the first test user.
fn first_users(split: &Split) -> (usize, usize) {
    let first_valid = split.train.len();
    (first_valid, first_valid + split.validation.len())
}

/// A standard normal sample (Box-Muller).
fn normal(rng: &mut ChaCha20Rng) -> f32 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// RMSE of the bias-only predictor rbar_u + rbar_i - mu on the test pairs of `split`: mu and
/// rbar_i over all known ratings ([`Split::all_known`]), rbar_u over the user's feed. The floor
/// a recommender must beat.
pub fn bias_only_rmse(split: &Split) -> f64 {
    let all = split.all_known();
    let (mut sums, mut counts) = (vec![0f64; split.items], vec![0u32; split.items]);
    let (mut total, mut n) = (0f64, 0usize);
    for u in &all {
        for (&i, &v) in u.items.iter().zip(&u.values) {
            if let (Some(s), Some(c)) = (sums.get_mut(i as usize), counts.get_mut(i as usize)) {
                *s += f64::from(v);
                *c += 1;
                total += f64::from(v);
                n += 1;
            }
        }
    }
    let mu = if n == 0 { 0.0 } else { total / n as f64 };
    let item_dev: Vec<f32> = sums
        .iter()
        .zip(&counts)
        .map(|(&s, &c)| {
            if c == 0 {
                0.0
            } else {
                (s / f64::from(c) - mu) as f32
            }
        })
        .collect();
    rmse_with(
        &split.test,
        split.scale.min,
        split.scale.max,
        |_, feed: &UserRatings| {
            let mean = if feed.values.is_empty() {
                mu as f32
            } else {
                feed.mean()
            };
            item_dev.iter().map(|d| mean + d).collect()
        },
    )
}

// ---------------------------------------------------------------------------------------------
// BiasedMF
// ---------------------------------------------------------------------------------------------

/// Hyperparameters of [`BiasedMf`].
#[derive(Clone, Debug)]
pub struct BiasedMfConfig {
    /// Latent dimension d.
    pub dim: usize,
    /// SGD step size.
    pub learning_rate: f32,
    /// Regularisation lambda of the factors p_u, q_i.
    pub lambda: f32,
    /// Regularisation of the biases b_u, b_i.
    pub bias_lambda: f32,
    /// Step size multiplier applied after every epoch (1 = constant step).
    pub decay: f32,
    /// Standard deviation of the normal initialisation of the factors.
    pub init_std: f32,
    /// Largest number of epochs.
    pub epochs: usize,
    /// Stop after this many epochs without a better validation RMSE.
    pub patience: usize,
    /// Seed of the initialisation and of the shuffling.
    pub seed: u64,
}

impl Default for BiasedMfConfig {
    /// Chosen by grid search around Koren et al.'s settings on the *validation* users of
    /// MovieLens 100K (never the test users): `examples/baselines.rs --grid-mf`, mean validation
    /// RMSE over three splits with 20% of the users for validation (seeds 101-103, disjoint
    /// from the evaluation seeds 1-5).
    ///
    /// - First pass (patience 5): d in {10, 50, 100}, step in {0.005, 0.01}, lambda in
    ///   {0.02, 0.05, 0.1, 0.2}, step decay per epoch in {1, 0.97}: decay never helped; lambda
    ///   0.2 shrinks the factors to zero (0.948, bias-only level); best lambda 0.1.
    /// - Final pass (patience 20, no decay): d in {10, 50, 100}, step in {0.005, 0.01},
    ///   lambda in {0.05, 0.08, 0.1, 0.12, 0.15}. Best: d = 50, step 0.01, lambda 0.1 with
    ///   0.9135 (d = 100: 0.9138, d = 10: 0.9170; lambda 0.05: 0.921, 0.15: 0.922; step 0.005
    ///   gives the same RMSE in twice the epochs, best epoch about 55 at 0.01).
    ///
    /// `bias_lambda` and `init_std` (Surprise/Koren-style defaults) were not tuned.
    fn default() -> Self {
        BiasedMfConfig {
            dim: 50,
            learning_rate: 0.01,
            lambda: 0.1,
            bias_lambda: 0.01,
            decay: 1.0,
            init_std: 0.1,
            epochs: 200,
            patience: 20,
            seed: 1,
        }
    }
}

/// Biased matrix factorisation r_ui = mu + b_u + b_i + p_u q_i^T, users indexed as in
/// [`Split::all_known`].
#[derive(Clone, Debug, PartialEq)]
pub struct BiasedMf {
    /// Global mean mu of the known ratings (fixed, not learned).
    pub mu: f32,
    /// User biases b_u.
    pub user_bias: Array1<f32>,
    /// Item biases b_i.
    pub item_bias: Array1<f32>,
    /// User factors P (users x d).
    pub p: Array2<f32>,
    /// Item factors Q (items x d).
    pub q: Array2<f32>,
    /// Epochs run before stopping.
    pub epochs_run: usize,
    /// The epoch (1-based) whose parameters were kept (best validation RMSE).
    pub best_epoch: usize,
}

impl BiasedMf {
    /// Trains by SGD on all known ratings of `split` (each epoch one pass in a fresh random
    /// order), keeping the parameters of the epoch with the best validation RMSE (the last
    /// epoch if the split has no validation users).
    pub fn train(split: &Split, cfg: &BiasedMfConfig) -> Result<Self> {
        if cfg.dim == 0 || cfg.epochs == 0 {
            return Err(Error::Invalid {
                reason: "BiasedMF needs a positive dimension and number of epochs",
            });
        }
        let known = Known::of(split)?;
        let (first_valid, _) = first_users(split);
        let mut rng = ChaCha20Rng::seed_from_u64(cfg.seed);
        let d = cfg.dim;
        let std = cfg.init_std;
        let mut model = BiasedMf {
            mu: known.mu,
            user_bias: Array1::zeros(known.users),
            item_bias: Array1::zeros(known.items),
            p: Array2::from_shape_simple_fn((known.users, d), || normal(&mut rng) * std),
            q: Array2::from_shape_simple_fn((known.items, d), || normal(&mut rng) * std),
            epochs_run: 0,
            best_epoch: 0,
        };
        // An item without known ratings is never updated: predict it as mu + b_u.
        let mut rated = vec![false; known.items];
        for &(_, i, _) in &known.triples {
            if let Some(r) = rated.get_mut(i as usize) {
                *r = true;
            }
        }
        for (mut q_i, &r) in model.q.outer_iter_mut().zip(&rated) {
            if !r {
                q_i.fill(0.0);
            }
        }
        let mut order = known.triples.clone();
        let width = split.scale.max - split.scale.min;
        let (mut best, mut best_rmse, mut stale) = (model.clone(), f64::INFINITY, 0);
        let mut lr = cfg.learning_rate;
        for epoch in 1..=cfg.epochs {
            order.shuffle(&mut rng);
            for &(u, i, r) in &order {
                let (u, i) = (u as usize, i as usize);
                let (Some(bu), Some(bi)) = (model.user_bias.get(u), model.item_bias.get(i)) else {
                    continue;
                };
                let (bu, bi) = (*bu, *bi);
                let mut pu = model.p.row_mut(u);
                let mut qi = model.q.row_mut(i);
                let dot: f32 = pu.iter().zip(qi.iter()).map(|(a, b)| a * b).sum();
                // Clipped to the scale's width: one wild prediction cannot blow the factors up
                // (the gradient-clipping guard against divergence, issue 16).
                let e = (r - (model.mu + bu + bi + dot)).clamp(-width, width);
                Zip::from(&mut pu).and(&mut qi).for_each(|p, q| {
                    let (p0, q0) = (*p, *q);
                    *p += lr * (e * q0 - cfg.lambda * p0);
                    *q += lr * (e * p0 - cfg.lambda * q0);
                });
                if let Some(b) = model.user_bias.get_mut(u) {
                    *b += lr * (e - cfg.bias_lambda * bu);
                }
                if let Some(b) = model.item_bias.get_mut(i) {
                    *b += lr * (e - cfg.bias_lambda * bi);
                }
            }
            lr *= cfg.decay;
            model.epochs_run = epoch;
            if split.validation.is_empty() {
                model.best_epoch = epoch;
                best = model.clone();
                continue;
            }
            let rmse = pairs_rmse(&split.validation, split.scale, first_valid, |u| {
                model.predict(u)
            });
            if !rmse.is_finite() {
                break; // diverged: keep the best epoch so far
            }
            if rmse < best_rmse {
                model.best_epoch = epoch;
                (best, best_rmse, stale) = (model.clone(), rmse, 0);
            } else {
                stale += 1;
                if stale >= cfg.patience {
                    break;
                }
            }
        }
        best.epochs_run = model.epochs_run;
        Ok(best)
    }

    /// Predictions of user `user` (index in [`Split::all_known`]) for every item; empty for an
    /// unknown user.
    pub fn predict(&self, user: usize) -> Vec<f32> {
        let Some(bu) = self.user_bias.get(user).filter(|_| user < self.p.nrows()) else {
            return Vec::new();
        };
        let pu = self.p.row(user);
        let mut out = self.q.dot(&pu);
        out += &self.item_bias;
        out += self.mu + bu;
        out.to_vec()
    }

    /// RMSE on the validation users' held-out ratings.
    pub fn validation_rmse(&self, split: &Split) -> f64 {
        pairs_rmse(&split.validation, split.scale, first_users(split).0, |u| {
            self.predict(u)
        })
    }

    /// Squared errors per validation user (for paired comparisons in [`crate::select`]).
    pub fn validation_errors(&self, split: &Split) -> PairErrors {
        let first = first_users(split).0;
        PairErrors::with(
            &split.validation,
            split.scale.min,
            split.scale.max,
            |k, _| self.predict(first + k),
        )
    }

    /// Squared errors per test user (for the standard error of the test RMSE).
    pub fn test_errors(&self, split: &Split) -> PairErrors {
        let first = first_users(split).1;
        PairErrors::with(&split.test, split.scale.min, split.scale.max, |k, _| {
            self.predict(first + k)
        })
    }

    /// RMSE on the test set D (the test users' held-out ratings).
    pub fn test_rmse(&self, split: &Split) -> f64 {
        pairs_rmse(&split.test, split.scale, first_users(split).1, |u| {
            self.predict(u)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// I-AutoRec
// ---------------------------------------------------------------------------------------------

/// Hyperparameters of [`IAutoRec`].
#[derive(Clone, Debug)]
pub struct IAutoRecConfig {
    /// Hidden size d (500 in Sedhain et al.).
    pub hidden: usize,
    /// Regularisation lambda of eq. 2 (the objective is the *sum* of squared errors over
    /// observed ratings plus lambda/2 (||W||^2 + ||V||^2)).
    pub lambda: f32,
    /// Adam step size.
    pub learning_rate: f32,
    /// Items per mini-batch.
    pub batch: usize,
    /// Largest number of epochs (passes over the items).
    pub epochs: usize,
    /// Stop after this many epochs without a better validation RMSE.
    pub patience: usize,
    /// Seed of the initialisation and of the shuffling.
    pub seed: u64,
    /// Half-width of the uniform initialisation of the decoder W; `None`: Glorot's
    /// sqrt(6 / (users + hidden)), as the encoder. (0.01 was tried against the test-RMSE spread
    /// on sparse half-star data, issue 16: 0.7764 vs 0.7795 on one split, no real change, so the
    /// default stays.)
    pub decoder_init: Option<f32>,
}

impl Default for IAutoRecConfig {
    /// Chosen by grid search on the *validation* users of MovieLens 100K (never the test
    /// users): `examples/baselines.rs --grid-autorec`, mean validation RMSE over three splits
    /// with 20% of the users for validation (seeds 101-103, disjoint from the evaluation seeds
    /// 1-5).
    ///
    /// - First pass (batch 128, patience 10): hidden in {300, 500}, step in {1e-3, 3e-3},
    ///   lambda in {3, 10, 30, 100, 300, 1000}: lambda 100 best for both sizes and steps
    ///   (0.893-0.899; lambda 10: 0.904-0.912, 300: 0.921-0.933, 1000: 0.97); step 3e-3
    ///   overfits within 5-10 epochs and is never better.
    /// - Final pass (step 1e-3, patience 20): hidden in {300, 500}, batch in {128, 256, 512},
    ///   lambda in {50, 100, 150}: all within 0.892-0.902. Best with hidden 500 (Sedhain et
    ///   al.'s size): batch 256, lambda 100, 0.8941. Hidden 300 reached 0.8921 (batch 512,
    ///   lambda 100), a difference below the split-to-split noise, so the paper's 500 is kept.
    fn default() -> Self {
        IAutoRecConfig {
            hidden: 500,
            lambda: 100.0,
            learning_rate: 1e-3,
            batch: 256,
            epochs: 200,
            patience: 20,
            seed: 1,
            decoder_init: None,
        }
    }
}

/// Item-based AutoRec, users (the input and output coordinates) indexed as in
/// [`Split::all_known`].
#[derive(Clone, Debug, PartialEq)]
pub struct IAutoRec {
    /// Encoder V, stored transposed (users x hidden).
    pub v_t: Array2<f32>,
    /// Encoder bias b1 (hidden).
    pub b1: Array1<f32>,
    /// Decoder W (users x hidden).
    pub w: Array2<f32>,
    /// Decoder bias b2 (users).
    pub b2: Array1<f32>,
    /// Hidden codes g(V r_i + b1) of every item, computed from the known ratings (items x
    /// hidden).
    pub codes: Array2<f32>,
    /// Whether each item has a known rating; an item without one is predicted as the user's
    /// mean known rating (Sedhain et al. use a default rating for such items).
    pub item_known: Vec<bool>,
    /// Mean known rating of each user.
    pub user_mean: Array1<f32>,
    /// Epochs run before stopping.
    pub epochs_run: usize,
    /// The epoch (1-based) whose parameters were kept (best validation RMSE).
    pub best_epoch: usize,
}

/// Adam state for one parameter array (Kingma and Ba 2015).
struct Adam<D: Dimension> {
    m: Array<f32, D>,
    v: Array<f32, D>,
    t: i32,
}

impl<D: Dimension> Adam<D> {
    fn new(shape: D) -> Self {
        Adam {
            m: Array::zeros(shape.clone()),
            v: Array::zeros(shape),
            t: 0,
        }
    }

    fn step(&mut self, param: &mut Array<f32, D>, grad: &Array<f32, D>, lr: f32) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        Zip::from(param)
            .and(&mut self.m)
            .and(&mut self.v)
            .and(grad)
            .par_for_each(|p, m, v, &g| {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
            });
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Gradients of the data term of eq. 2 for a group of items.
struct Grads {
    v_t: Array2<f32>,
    b1: Array1<f32>,
    w: Array2<f32>,
    b2: Array1<f32>,
}

/// Items a group of mini-batch rows is split into, each group's gradient computed on its own
/// thread and the groups summed in a fixed order (deterministic whatever the thread count).
const GROUP: usize = 32;

/// The parameters being trained.
struct Params {
    v_t: Array2<f32>,
    b1: Array1<f32>,
    w: Array2<f32>,
    b2: Array1<f32>,
}

impl Params {
    /// Dense inputs of a group of items: ratings X (items x users) and mask M.
    fn inputs(
        by_item: &[Vec<(u32, f32)>],
        items: &[usize],
        users: usize,
    ) -> (Array2<f32>, Array2<f32>) {
        let mut x = Array2::zeros((items.len(), users));
        let mut mask = Array2::zeros((items.len(), users));
        for (row, &i) in items.iter().enumerate() {
            for &(u, r) in by_item.get(i).map_or(&[][..], Vec::as_slice) {
                if let (Some(xv), Some(mv)) = (
                    x.get_mut((row, u as usize)),
                    mask.get_mut((row, u as usize)),
                ) {
                    *xv = r;
                    *mv = 1.0;
                }
            }
        }
        (x, mask)
    }

    /// Hidden codes g(X V^T + b1).
    fn encode(&self, x: &Array2<f32>) -> Array2<f32> {
        let mut h = x.dot(&self.v_t);
        h += &self.b1.view().insert_axis(Axis(0));
        h.mapv_inplace(sigmoid);
        h
    }

    /// Gradient of 1/2 sum over observed (r^ - r)^2 for the items `items`.
    fn grads(&self, by_item: &[Vec<(u32, f32)>], items: &[usize]) -> Grads {
        let users = self.w.nrows();
        let (x, mask) = Self::inputs(by_item, items, users);
        let h = self.encode(&x);
        let mut e = h.dot(&self.w.t());
        e += &self.b2.view().insert_axis(Axis(0));
        e -= &x;
        e *= &mask;
        let w = e.t().dot(&h);
        let b2 = e.sum_axis(Axis(0));
        let mut dz = e.dot(&self.w);
        Zip::from(&mut dz)
            .and(&h)
            .for_each(|d, &h| *d *= h * (1.0 - h));
        Grads {
            v_t: x.t().dot(&dz),
            b1: dz.sum_axis(Axis(0)),
            w,
            b2,
        }
    }
}

impl IAutoRec {
    /// Trains with Adam on mini-batches of items (each epoch one pass over the items with
    /// known ratings in a fresh random order), keeping the parameters of the epoch with the
    /// best validation RMSE (the last epoch if the split has no validation users).
    ///
    /// Initialisation: V and W uniform in +-sqrt(6 / (users + hidden)) (Glorot), b1 = 0, and
    /// b2 (the output bias of each user) the user's mean known rating.
    pub fn train(split: &Split, cfg: &IAutoRecConfig) -> Result<Self> {
        if cfg.hidden == 0 || cfg.batch == 0 || cfg.epochs == 0 {
            return Err(Error::Invalid {
                reason: "I-AutoRec needs a positive hidden size, batch and number of epochs",
            });
        }
        let known = Known::of(split)?;
        let (first_valid, _) = first_users(split);
        let (n, m, d) = (known.users, known.items, cfg.hidden);
        let mut by_item: Vec<Vec<(u32, f32)>> = vec![Vec::new(); m];
        for &(u, i, r) in &known.triples {
            if let Some(list) = by_item.get_mut(i as usize) {
                list.push((u, r));
            }
        }
        let item_known: Vec<bool> = by_item.iter().map(|l| !l.is_empty()).collect();
        let mut rng = ChaCha20Rng::seed_from_u64(cfg.seed);
        let scale = (6.0 / (n + d) as f32).sqrt();
        let mut uniform = |shape: (usize, usize)| {
            Array2::from_shape_simple_fn(shape, || (rng.random::<f32>() * 2.0 - 1.0) * scale)
        };
        let mut params = Params {
            v_t: uniform((n, d)),
            b1: Array1::zeros(d),
            w: match cfg.decoder_init {
                Some(half_width) => uniform((n, d)).mapv(|x| x * half_width / scale),
                None => uniform((n, d)),
            },
            b2: Array1::from(known.user_mean.clone()),
        };
        let mut adam = (
            Adam::new(params.v_t.raw_dim()),
            Adam::new(params.b1.raw_dim()),
            Adam::new(params.w.raw_dim()),
            Adam::new(params.b2.raw_dim()),
        );
        let mut order: Vec<usize> = (0..m)
            .filter(|&i| item_known.get(i) == Some(&true))
            .collect();
        let all_items: Vec<usize> = (0..m).collect();
        let user_mean = Array1::from(known.user_mean.clone());
        let snapshot = |params: &Params, epochs_run: usize, best_epoch: usize| IAutoRec {
            v_t: params.v_t.clone(),
            b1: params.b1.clone(),
            w: params.w.clone(),
            b2: params.b2.clone(),
            codes: Array2::zeros((0, d)),
            item_known: item_known.clone(),
            user_mean: user_mean.clone(),
            epochs_run,
            best_epoch,
        };
        let codes_of = |params: &Params| -> Array2<f32> {
            let groups: Vec<Array2<f32>> = all_items
                .par_chunks(256)
                .map(|chunk| params.encode(&Params::inputs(&by_item, chunk, n).0))
                .collect();
            let views: Vec<_> = groups.iter().map(Array2::view).collect();
            ndarray::concatenate(Axis(0), &views).unwrap_or_else(|_| Array2::zeros((0, d)))
        };
        let (mut best, mut best_rmse, mut stale) = (None, f64::INFINITY, 0);
        let mut epochs_run = 0;
        for epoch in 1..=cfg.epochs {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.batch) {
                let parts: Vec<Grads> = batch
                    .par_chunks(GROUP)
                    .map(|group| params.grads(&by_item, group))
                    .collect();
                let mut parts = parts.into_iter();
                let Some(mut g) = parts.next() else { continue };
                for p in parts {
                    g.v_t += &p.v_t;
                    g.b1 += &p.b1;
                    g.w += &p.w;
                    g.b2 += &p.b2;
                }
                // The regulariser of eq. 2, spread over the batches of an epoch.
                let reg = cfg.lambda * batch.len() as f32 / order.len() as f32;
                g.v_t.scaled_add(reg, &params.v_t);
                g.w.scaled_add(reg, &params.w);
                adam.0.step(&mut params.v_t, &g.v_t, cfg.learning_rate);
                adam.1.step(&mut params.b1, &g.b1, cfg.learning_rate);
                adam.2.step(&mut params.w, &g.w, cfg.learning_rate);
                adam.3.step(&mut params.b2, &g.b2, cfg.learning_rate);
            }
            epochs_run = epoch;
            if split.validation.is_empty() {
                best = Some(snapshot(&params, epoch, epoch));
                continue;
            }
            let mut candidate = snapshot(&params, epoch, epoch);
            candidate.codes = codes_of(&params);
            let rmse = pairs_rmse(&split.validation, split.scale, first_valid, |u| {
                candidate.predict(u)
            });
            if !rmse.is_finite() {
                break; // diverged: keep the best epoch so far
            }
            if rmse < best_rmse {
                (best, best_rmse, stale) = (Some(candidate), rmse, 0);
            } else {
                stale += 1;
                if stale >= cfg.patience {
                    break;
                }
            }
        }
        let mut best = best.ok_or(Error::Invalid {
            reason: "I-AutoRec trained no epoch",
        })?;
        if best.codes.nrows() != m {
            best.codes = codes_of(&Params {
                v_t: best.v_t.clone(),
                b1: best.b1.clone(),
                w: best.w.clone(),
                b2: best.b2.clone(),
            });
        }
        best.epochs_run = epochs_run;
        Ok(best)
    }

    /// Predictions of user `user` (index in [`Split::all_known`]) for every item: entry `user`
    /// of r^_i for each item i; empty for an unknown user.
    pub fn predict(&self, user: usize) -> Vec<f32> {
        let (Some(b2), Some(mean)) = (self.b2.get(user), self.user_mean.get(user)) else {
            return Vec::new();
        };
        if user >= self.w.nrows() {
            return Vec::new();
        }
        let w_u = self.w.row(user);
        let out: Array1<f32> = self.codes.dot(&w_u) + *b2;
        out.iter()
            .zip(&self.item_known)
            .map(|(&p, &k)| if k { p } else { *mean })
            .collect()
    }

    /// Prediction of `user` for one item (as [`IAutoRec::predict`]); `None` for an unknown user
    /// or item.
    pub fn predict_one(&self, user: usize, item: usize) -> Option<f32> {
        if user >= self.w.nrows() || item >= self.codes.nrows() {
            return None;
        }
        if *self.item_known.get(item)? {
            Some(self.codes.row(item).dot(&self.w.row(user)) + self.b2.get(user)?)
        } else {
            self.user_mean.get(user).copied()
        }
    }

    /// RMSE on the validation users' held-out ratings.
    pub fn validation_rmse(&self, split: &Split) -> f64 {
        pairs_rmse(&split.validation, split.scale, first_users(split).0, |u| {
            self.predict(u)
        })
    }

    /// Squared errors per validation user (for paired comparisons in [`crate::select`]).
    pub fn validation_errors(&self, split: &Split) -> PairErrors {
        let first = first_users(split).0;
        PairErrors::with(
            &split.validation,
            split.scale.min,
            split.scale.max,
            |k, _| self.predict(first + k),
        )
    }

    /// Squared errors per test user (for the standard error of the test RMSE).
    pub fn test_errors(&self, split: &Split) -> PairErrors {
        let first = first_users(split).1;
        PairErrors::with(&split.test, split.scale.min, split.scale.max, |k, _| {
            self.predict(first + k)
        })
    }

    /// RMSE on the test set D (the test users' held-out ratings).
    pub fn test_rmse(&self, split: &Split) -> f64 {
        pairs_rmse(&split.test, split.scale, first_users(split).1, |u| {
            self.predict(u)
        })
    }
}
