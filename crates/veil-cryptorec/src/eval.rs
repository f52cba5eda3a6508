//! The evaluation protocol of sec. 4: users split 80/20 at random; each held-out user's ratings
//! split 90% fed to the model (the client's data) and 10% to predict (the test set D); RMSE
//! over D, repeated with several seeds (mean and standard deviation).
//!
//! Early stopping needs a validation set that is not D: it is carved out of the training users
//! (`validation_fraction` of them, split 90/10 the same way) and never touches the test users.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

use crate::data::{Dataset, RatingScale};
use crate::model::{UserRatings, by_user, split_user};

/// A (fed ratings, ratings to predict) pair for one held-out user.
pub type FeedTest = (UserRatings, UserRatings);

/// One random split of a data set by the protocol of sec. 4.
#[derive(Clone, Debug)]
pub struct Split {
    /// Number of items m.
    pub items: usize,
    /// Training users (80% of users, minus the validation users).
    pub train: Vec<UserRatings>,
    /// Validation users taken from the 80%, as (feed, target) pairs, for early stopping.
    pub validation: Vec<FeedTest>,
    /// Held-out users (20%): (feed 90%, test 10%).
    pub test: Vec<FeedTest>,
    /// The rating scale every model's predictions are clipped to: the data's lowest to highest
    /// rating (half-star data: 0.5..5), or the one given to [`Split::with_scale`].
    pub scale: RatingScale,
}

impl Split {
    /// Splits `data` with `seed`: `test_fraction` of users held out (0.2 in the paper), each
    /// held-out user's ratings `feed_fraction` fed (0.9), and `validation_fraction` of all users
    /// taken from the training users for validation.
    pub fn new(
        data: &Dataset,
        seed: u64,
        test_fraction: f64,
        feed_fraction: f64,
        validation_fraction: f64,
    ) -> Self {
        let mut users = by_user(data.ratings(), data.users());
        users.retain(|u| !u.values.is_empty());
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        users.shuffle(&mut rng);
        let n = users.len();
        let n_test = ((n as f64) * test_fraction).round() as usize;
        let n_valid = ((n as f64) * validation_fraction).round() as usize;
        let test_users = users.split_off(n.saturating_sub(n_test));
        let valid_users = users.split_off(users.len().saturating_sub(n_valid));
        let test = test_users
            .iter()
            .map(|u| split_user(u, feed_fraction, &mut rng))
            .collect();
        let validation = valid_users
            .iter()
            .map(|u| split_user(u, feed_fraction, &mut rng))
            .collect();
        // The data's own range; a data set whose ratings are all equal clips to that value.
        let (lo, hi) = data
            .ratings()
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(r.value), hi.max(r.value))
            });
        let scale = if lo <= hi {
            RatingScale { min: lo, max: hi }
        } else {
            RatingScale::default()
        };
        Split {
            items: data.items(),
            train: users,
            validation,
            test,
            scale,
        }
    }

    /// The same split with predictions clipped to `scale` instead of the data's range.
    pub fn with_scale(mut self, scale: RatingScale) -> Self {
        self.scale = scale;
        self
    }

    /// The paper's split: 80/20 users, 90/10 ratings, and 5% of users for validation.
    pub fn paper(data: &Dataset, seed: u64) -> Self {
        Split::new(data, seed, 0.2, 0.9, 0.05)
    }

    /// Everything a from-scratch baseline may train on (sec. 4: "all baseline models are trained
    /// with all the user data"): the training users, the validation users' feeds, and the test
    /// users' feeds, one entry per user. The last `test.len()` entries are the test users, in
    /// the order of `test`.
    pub fn all_known(&self) -> Vec<UserRatings> {
        self.train
            .iter()
            .cloned()
            .chain(self.validation.iter().map(|(f, _)| f.clone()))
            .chain(self.test.iter().map(|(f, _)| f.clone()))
            .collect()
    }

    /// Index in [`Split::all_known`] of the first test user (the baselines' user numbering).
    pub fn first_test_user(&self) -> usize {
        self.train.len() + self.validation.len()
    }

    /// Number of ratings in the test set D.
    pub fn test_ratings(&self) -> usize {
        self.test.iter().map(|(_, t)| t.values.len()).sum()
    }
}

/// Mean and (sample) standard deviation of repeated measurements.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one measurement).
    pub std: f64,
}

impl MeanStd {
    /// Mean and standard deviation of `xs` (NaN mean for an empty slice).
    pub fn of(xs: &[f64]) -> Self {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = if xs.len() > 1 {
            xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        MeanStd {
            mean,
            std: var.sqrt(),
        }
    }
}

impl std::fmt::Display for MeanStd {
    /// `mean ± std` to 4 decimals; "undefined" (never NaN) when either is not finite (the mean
    /// of no values).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.mean.is_finite() && self.std.is_finite() {
            write!(f, "{:.4} ± {:.4}", self.mean, self.std)
        } else {
            write!(f, "undefined (no finite values)")
        }
    }
}

/// A figure over the repeats, or the reason it has none: tables print "undefined (reason)"
/// instead of NaN.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    /// Mean and standard deviation over the repeats.
    Measured(MeanStd),
    /// The figure is not defined on this data.
    Undefined {
        /// Why (the first repeat that had no value).
        reason: String,
    },
}

impl Default for Figure {
    /// Undefined: nothing measured yet.
    fn default() -> Self {
        Figure::Undefined {
            reason: "not measured".into(),
        }
    }
}

impl Figure {
    /// From one result per repeat: undefined if a repeat has none (its reason is kept), or a
    /// value that is not finite (a diverged model), or if there are no repeats.
    pub fn of(runs: &[std::result::Result<f64, String>]) -> Self {
        if runs.is_empty() {
            return Figure::Undefined {
                reason: "no repeats".into(),
            };
        }
        let mut values = Vec::with_capacity(runs.len());
        for (k, run) in runs.iter().enumerate() {
            match run {
                Ok(v) if v.is_finite() => values.push(*v),
                Ok(_) => {
                    return Figure::Undefined {
                        reason: format!("not finite in repeat {}", k + 1),
                    };
                }
                Err(reason) => {
                    return Figure::Undefined {
                        reason: format!("repeat {}: {reason}", k + 1),
                    };
                }
            }
        }
        Figure::Measured(MeanStd::of(&values))
    }

    /// The measured mean and standard deviation, if defined.
    pub fn measured(&self) -> Option<MeanStd> {
        match self {
            Figure::Measured(m) => Some(*m),
            Figure::Undefined { .. } => None,
        }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Figure::Measured(m) => write!(f, "{m}"),
            Figure::Undefined { reason } => write!(f, "undefined ({reason})"),
        }
    }
}

/// RMSE of predictions over pairs: `predict(k, feed)` returns the prediction vector (over all
/// items) for the k-th pair; predictions are clipped to [lo, hi].
pub fn rmse_with(
    pairs: &[FeedTest],
    lo: f32,
    hi: f32,
    predict: impl FnMut(usize, &UserRatings) -> Vec<f32>,
) -> f64 {
    PairErrors::with(pairs, lo, hi, predict).rmse()
}

/// Squared errors per pair (per user): what a paired comparison of two models needs
/// ([`PairErrors::improvement`]). Entry k is (sum of squared errors, number of ratings) of pair k.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PairErrors(pub Vec<(f64, usize)>);

impl PairErrors {
    /// The errors of `predict` (as in [`rmse_with`]) on `pairs`, clipped to [lo, hi].
    pub fn with(
        pairs: &[FeedTest],
        lo: f32,
        hi: f32,
        mut predict: impl FnMut(usize, &UserRatings) -> Vec<f32>,
    ) -> Self {
        PairErrors(
            pairs
                .iter()
                .enumerate()
                .map(|(k, (feed, target))| {
                    let pred = predict(k, feed);
                    let sq = target
                        .items
                        .iter()
                        .zip(&target.values)
                        .map(|(&i, &v)| {
                            // A missing prediction is a bug in `predict`: NaN makes it visible.
                            let p = pred
                                .get(i as usize)
                                .copied()
                                .unwrap_or(f32::NAN)
                                .clamp(lo, hi);
                            f64::from(p - v).powi(2)
                        })
                        .sum::<f64>();
                    (sq, target.values.len())
                })
                .collect(),
        )
    }

    /// The RMSE over all ratings (0 with none).
    pub fn rmse(&self) -> f64 {
        let (sq, n) = self
            .0
            .iter()
            .fold((0f64, 0usize), |(s, c), &(e, k)| (s + e, c + k));
        if n == 0 { 0.0 } else { (sq / n as f64).sqrt() }
    }

    /// The standard error of [`PairErrors::rmse`] from the sampling of users alone: how much the
    /// RMSE would move if the same model were scored on another set of as many users drawn from
    /// the same population. Users are the independent units (a user's ratings are correlated),
    /// so the mean squared error sum e_u / sum k_u is a ratio estimator with variance
    /// n / (n - 1) sum (e_u - MSE k_u)^2 / N^2 (n users, N ratings), and the RMSE's standard
    /// error is the MSE's over 2 RMSE (delta method). NaN with fewer than two users.
    pub fn rmse_standard_error(&self) -> f64 {
        let n = self.0.len() as f64;
        let ratings: usize = self.0.iter().map(|&(_, k)| k).sum();
        if self.0.len() < 2 || ratings == 0 {
            return f64::NAN;
        }
        let rmse = self.rmse();
        let mse = rmse * rmse;
        let ss: f64 = self
            .0
            .iter()
            .map(|&(e, k)| (e - mse * k as f64).powi(2))
            .sum();
        let se_mse = (n / (n - 1.0) * ss).sqrt() / ratings as f64;
        se_mse / (2.0 * rmse.max(1e-12))
    }

    /// How much lower `self`'s mean squared error is than `other`'s on the same pairs, and the
    /// standard error of that difference: users are the independent units, so with
    /// d_u = SSE_u(other) - SSE_u(self) over n users and N ratings the difference is
    /// D = sum d_u / N and its standard error sqrt(n / (n - 1) sum (d_u - D k_u)^2) / N (the
    /// ratio estimator, as in [`PairErrors::rmse_standard_error`]). `None` if the pairs differ
    /// in number or there are fewer than two, or a value is not finite.
    pub fn improvement(&self, other: &PairErrors) -> Option<(f64, f64)> {
        if self.0.len() != other.0.len() || self.0.len() < 2 {
            return None;
        }
        let ratings: usize = self.0.iter().map(|&(_, k)| k).sum();
        let d: Vec<f64> = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(&(mine, _), &(theirs, _))| theirs - mine)
            .collect();
        let n = d.len() as f64;
        let diff = d.iter().sum::<f64>() / ratings.max(1) as f64;
        let ss: f64 = d
            .iter()
            .zip(&self.0)
            .map(|(x, &(_, k))| (x - diff * k as f64).powi(2))
            .sum();
        let se = (n / (n - 1.0) * ss).sqrt() / ratings.max(1) as f64;
        (diff.is_finite() && se.is_finite()).then_some((diff, se))
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    use super::*;

    /// Squared errors of `users` users with 1 to 10 ratings each, per-user error level varying.
    fn draw(rng: &mut ChaCha20Rng, users: usize) -> PairErrors {
        PairErrors(
            (0..users)
                .map(|_| {
                    let k = rng.random_range(1..=10usize);
                    let level: f64 = rng.random_range(0.2..1.5);
                    let sq = (0..k)
                        .map(|_| {
                            let e: f64 = rng.random_range(-1.0..1.0) * level;
                            e * e
                        })
                        .sum();
                    (sq, k)
                })
                .collect(),
        )
    }

    #[test]
    fn rmse_standard_error_matches_the_spread_of_repeated_samples() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let rmses: Vec<f64> = (0..400).map(|_| draw(&mut rng, 100).rmse()).collect();
        let spread = MeanStd::of(&rmses).std;
        let predicted = MeanStd::of(
            &(0..50)
                .map(|_| draw(&mut rng, 100).rmse_standard_error())
                .collect::<Vec<_>>(),
        )
        .mean;
        assert!(
            (predicted / spread - 1.0).abs() < 0.15,
            "predicted {predicted}, measured {spread}"
        );
        assert!(PairErrors(vec![(1.0, 2)]).rmse_standard_error().is_nan());
    }
}
