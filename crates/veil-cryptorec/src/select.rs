//! Model selection on the data at hand (issue 16): the hyperparameters of CryptoRec, BiasedMF
//! and I-AutoRec, and the weight bits of the integer model, chosen by validation RMSE on users
//! carved out of the *training* users of a split (never its test users), within a time budget.
//!
//! The search is a seeded coordinate search over small grids: starting from the defaults, each
//! parameter in turn (most influential first) takes the grid value with the best validation
//! RMSE, the others held at their best so far, but only if it beats the incumbent by more than
//! [`MARGIN_STANDARD_ERRORS`] standard errors of the paired difference: on 60-100 validation
//! users the lowest RMSE alone chased noise (issue 16: BiasedMF 0.7155 with its defaults, 0.7293
//! "selected", 0.7157 with the margin, on 400 x 800 half-star data over 5 splits). Every trial trains to its own early stop. When
//! the budget runs out no new trial starts, and the best setting found so far is kept (the
//! report says so). The grids are in [`CRYPTOREC_GRID`], [`BIASED_MF_GRID`],
//! [`AUTOREC_GRID`] and [`WEIGHT_BITS`].

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::baselines::{BiasedMf, BiasedMfConfig, IAutoRec, IAutoRecConfig};
use crate::error::Result;
use crate::eval::{PairErrors, Split};
use crate::model::{Model, TrainConfig, split_user};
use crate::quant::{QuantConfig, QuantizedModel};

/// CryptoRec's grid, in search order: (name, values). lambda first (it decides between
/// over- and under-fitting), then the item-bias shrinkage beta and its prior mean delta, d and
/// the Adam step.
pub const CRYPTOREC_GRID: [(&str, &[f32]); 5] = [
    ("lambda", &[0.01, 0.05, 0.2]),
    ("beta", &[10.0, 50.0, 150.0]),
    ("delta", &[-0.5, 0.0]),
    ("d", &[50.0, 100.0, 200.0]),
    ("step", &[1e-3, 3e-3]),
];

/// BiasedMF's grid: lambda, then d.
pub const BIASED_MF_GRID: [(&str, &[f32]); 2] =
    [("lambda", &[0.03, 0.1, 0.3]), ("d", &[10.0, 50.0])];

/// I-AutoRec's grid: lambda as a multiple of 100 per 100,000 known ratings (hidden size 500 and
/// the Adam step stay). Its objective is a *sum* of squared errors plus lambda/2 ||W||^2, so the
/// same lambda regularises a small data set far more than MovieLens 100K, where 100 was chosen:
/// on 300 x 150 synthetic users x items (2,700 ratings) lambda 100 left I-AutoRec 0.065 RMSE
/// above the bias-only predictor.
pub const AUTOREC_GRID: [(&str, &[f32]); 1] =
    [("lambda x 100 per 1e5 ratings", &[0.1, 0.3, 1.0, 3.0])];

/// Known ratings (the baselines' training data) of a split.
fn known_ratings(split: &Split) -> usize {
    split.all_known().iter().map(|u| u.values.len()).sum()
}

/// Step sizes eta_p tried for CryptoRec-a(1) ([`crate::finetune::FineTune::one_step`]); no
/// training needed, so all are tried whatever the budget.
pub const A1_STEPS: [f32; 3] = [0.1, 0.3, 1.0];

/// Weight bits tried for the integer model, fewest first: the first whose validation RMSE is
/// within [`QUANT_TOLERANCE`] of the float model's is taken (fewer bits: more zero weights,
/// a faster server), else the last.
pub const WEIGHT_BITS: [u32; 5] = [4, 5, 6, 7, 8];

/// Largest validation-RMSE increase allowed to the integer model: half the 0.002 budget of the
/// test set, for the difference between validation and test users.
pub const QUANT_TOLERANCE: f64 = 0.001;

/// A candidate replaces the incumbent only if its validation mean squared error is lower by more
/// than this many standard errors of the paired difference ([`PairErrors::improvement`]): with
/// 60-100 validation users a grid's best value is often best by chance, and a default chosen on
/// more data is the better bet unless the evidence says otherwise.
pub const MARGIN_STANDARD_ERRORS: f64 = 1.0;

/// How to select.
#[derive(Clone, Debug)]
pub struct SelectOptions {
    /// Wall-clock budget in seconds for each model's search (per split): no trial starts after it.
    pub budget_seconds: f64,
    /// Fraction of the training users held out to validate the trials (0.2).
    pub validation_fraction: f64,
    /// Seed of the held-out users' choice.
    pub seed: u64,
    /// CryptoRec parameters held at their given value instead of searched, by grid name
    /// (`"lambda"`, `"beta"`, `"d"`, `"step"`): those the user set explicitly.
    pub keep: Vec<&'static str>,
    /// A candidate must beat the incumbent by this many standard errors
    /// ([`MARGIN_STANDARD_ERRORS`]; 0: the lowest validation RMSE wins, however small the gap).
    pub margin_standard_errors: f64,
}

impl Default for SelectOptions {
    fn default() -> Self {
        SelectOptions {
            budget_seconds: 60.0,
            validation_fraction: 0.2,
            seed: 7,
            keep: Vec::new(),
            margin_standard_errors: MARGIN_STANDARD_ERRORS,
        }
    }
}

/// One trained candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// Which model.
    pub model: &'static str,
    /// The setting, e.g. `lambda=0.05 d=100`.
    pub setting: String,
    /// Its validation RMSE.
    pub validation_rmse: f64,
}

/// What the selection chose for one split.
#[derive(Clone, Debug)]
pub struct Selection {
    /// CryptoRec's training settings.
    pub train: TrainConfig,
    /// BiasedMF's.
    pub biased_mf: BiasedMfConfig,
    /// I-AutoRec's.
    pub autorec: IAutoRecConfig,
    /// The integer model's.
    pub quant: QuantConfig,
    /// CryptoRec-a(1)'s step size eta_p.
    pub a1_step: f32,
    /// Every trial, in order.
    pub trials: Vec<Trial>,
    /// Models whose search the budget cut short.
    pub cut_short: Vec<&'static str>,
    /// Seconds spent.
    pub seconds: f64,
}

impl Selection {
    /// The chosen values in one line, e.g. `CryptoRec lambda=0.05 d=100 step=0.001 beta=50;`.
    pub fn summary(&self) -> String {
        let t = &self.train;
        let mut s = format!(
            "CryptoRec lambda={} d={} step={} beta={} delta={}; a(1) step {}; integer model {} bits",
            t.lambda,
            t.dim,
            t.learning_rate,
            t.bias_shrinkage,
            t.bias_prior,
            self.a1_step,
            self.quant.weight_bits
        );
        if self.trials.iter().any(|t| t.model == "BiasedMF") {
            s += &format!(
                "; BiasedMF lambda={} d={}",
                self.biased_mf.lambda, self.biased_mf.dim
            );
        }
        if self.trials.iter().any(|t| t.model == "I-AutoRec") {
            s += &format!("; I-AutoRec lambda={}", self.autorec.lambda);
        }
        if !self.cut_short.is_empty() {
            s += &format!(" (budget reached for {})", self.cut_short.join(", "));
        }
        s
    }
}

/// The training users of `split` divided for selection: `fraction` of them become validation
/// users (their ratings split 90/10 feed/target), the rest train; no test users.
pub fn selection_split(split: &Split, fraction: f64, seed: u64) -> Split {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut users = split.train.clone();
    rand::seq::SliceRandom::shuffle(users.as_mut_slice(), &mut rng);
    let n_valid = ((users.len() as f64) * fraction.clamp(0.0, 0.5)).round() as usize;
    let valid = users.split_off(users.len().saturating_sub(n_valid));
    Split {
        items: split.items,
        train: users,
        validation: valid.iter().map(|u| split_user(u, 0.9, &mut rng)).collect(),
        test: Vec::new(),
        scale: split.scale,
    }
}

/// Which model, its grid, when to stop starting trials, and the margin a candidate needs.
struct Search<'a> {
    model: &'static str,
    grid: &'a [(&'a str, &'a [f32])],
    deadline: Instant,
    margin: f64,
}

/// Whether `candidate` beats `incumbent` by more than `margin` standard errors of the paired
/// difference of their mean squared errors (a plain RMSE comparison if that is undefined).
fn wins(candidate: &PairErrors, incumbent: &PairErrors, margin: f64) -> bool {
    match candidate.improvement(incumbent) {
        Some((diff, se)) => diff > 0.0 && diff > margin * se,
        None => candidate.rmse() < incumbent.rmse(),
    }
}

/// Coordinate search: `apply(cfg, name, value)` sets one parameter, `score(cfg)` trains and
/// returns the validation errors. In each round (one parameter) the grid value with the lowest
/// validation RMSE replaces the incumbent only if it [`wins`] by the margin. Returns the chosen
/// configuration and whether the budget cut the search short.
fn coordinate_search<C: Clone>(
    search: Search<'_>,
    base: C,
    trials: &mut Vec<Trial>,
    describe: impl Fn(&C) -> String,
    apply: impl Fn(&mut C, &str, f32),
    mut score: impl FnMut(&C) -> Result<PairErrors>,
) -> Result<(C, bool)> {
    let Search {
        model,
        grid,
        deadline,
        margin,
    } = search;
    let mut seen: Vec<(String, PairErrors, f64)> = Vec::new();
    let mut try_one = |cfg: &C, trials: &mut Vec<Trial>| -> Result<Option<(PairErrors, f64)>> {
        let key = describe(cfg);
        if let Some((_, e, r)) = seen.iter().find(|(k, _, _)| *k == key) {
            return Ok(Some((e.clone(), *r)));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        let errors = score(cfg)?;
        let rmse = errors.rmse();
        let rmse = if rmse.is_finite() {
            rmse
        } else {
            f64::INFINITY
        };
        seen.push((key.clone(), errors.clone(), rmse));
        trials.push(Trial {
            model,
            setting: key,
            validation_rmse: rmse,
        });
        Ok(Some((errors, rmse)))
    };
    let mut best = base;
    let Some((mut best_errors, mut best_rmse)) = try_one(&best, trials)? else {
        return Ok((best, true));
    };
    for (name, values) in grid {
        let mut round: Option<(C, PairErrors, f64)> = None;
        let mut cut = false;
        for &v in *values {
            let mut cfg = best.clone();
            apply(&mut cfg, name, v);
            match try_one(&cfg, trials)? {
                Some((e, r)) => {
                    if round.as_ref().is_none_or(|(_, _, rr)| r < *rr) {
                        round = Some((cfg, e, r));
                    }
                }
                None => {
                    cut = true;
                    break;
                }
            }
        }
        if let Some((cfg, e, r)) = round
            && r < best_rmse
            && (!best_rmse.is_finite() || wins(&e, &best_errors, margin))
        {
            (best, best_errors, best_rmse) = (cfg, e, r);
        }
        if cut {
            return Ok((best, true));
        }
    }
    Ok((best, false))
}

/// Chooses CryptoRec's settings on `sel` (a [`selection_split`]).
pub fn select_cryptorec(
    sel: &Split,
    base: &TrainConfig,
    opts: &SelectOptions,
    trials: &mut Vec<Trial>,
) -> Result<(TrainConfig, bool)> {
    let (deadline, keep) = (deadline_after(opts.budget_seconds), &opts.keep);
    let grid: Vec<(&str, &[f32])> = CRYPTOREC_GRID
        .iter()
        .filter(|(name, _)| !keep.contains(name))
        .copied()
        .collect();
    coordinate_search(
        Search {
            model: "CryptoRec",
            grid: &grid,
            deadline,
            margin: opts.margin_standard_errors,
        },
        base.clone(),
        trials,
        |c| {
            format!(
                "lambda={} d={} step={} beta={} delta={}",
                c.lambda, c.dim, c.learning_rate, c.bias_shrinkage, c.bias_prior
            )
        },
        |c, name, v| match name {
            "lambda" => c.lambda = v,
            "d" => c.dim = v as usize,
            "step" => c.learning_rate = v,
            "delta" => c.bias_prior = v,
            _ => c.bias_shrinkage = v,
        },
        |c| {
            let model = Model::train(&sel.train, sel.items, c, &sel.validation)?;
            Ok(model_errors(&model, &sel.validation))
        },
    )
}

/// Chooses BiasedMF's settings on `sel`.
pub fn select_biased_mf(
    sel: &Split,
    base: &BiasedMfConfig,
    opts: &SelectOptions,
    trials: &mut Vec<Trial>,
) -> Result<(BiasedMfConfig, bool)> {
    coordinate_search(
        Search {
            model: "BiasedMF",
            grid: &BIASED_MF_GRID,
            deadline: deadline_after(opts.budget_seconds),
            margin: opts.margin_standard_errors,
        },
        base.clone(),
        trials,
        |c| format!("lambda={} d={}", c.lambda, c.dim),
        |c, name, v| match name {
            "lambda" => c.lambda = v,
            _ => c.dim = v as usize,
        },
        |c| Ok(BiasedMf::train(sel, c)?.validation_errors(sel)),
    )
}

/// Chooses I-AutoRec's settings on `sel`.
pub fn select_autorec(
    sel: &Split,
    base: &IAutoRecConfig,
    opts: &SelectOptions,
    trials: &mut Vec<Trial>,
) -> Result<(IAutoRecConfig, bool)> {
    let per_rating = known_ratings(sel) as f32 / 1e5;
    coordinate_search(
        Search {
            model: "I-AutoRec",
            grid: &AUTOREC_GRID,
            deadline: deadline_after(opts.budget_seconds),
            margin: opts.margin_standard_errors,
        },
        base.clone(),
        trials,
        |c| format!("lambda={}", c.lambda),
        |c, _, v| c.lambda = v * 100.0 * per_rating,
        |c| Ok(IAutoRec::train(sel, c)?.validation_errors(sel)),
    )
}

/// Validation errors of CryptoRec-f (`model`) on `pairs`, clipped to its scale.
fn model_errors(model: &Model, pairs: &[crate::eval::FeedTest]) -> PairErrors {
    PairErrors::with(pairs, model.scale.min, model.scale.max, |_, u| {
        model.predict(u).to_vec()
    })
}

/// The fewest [`WEIGHT_BITS`] whose integer model is within [`QUANT_TOLERANCE`] of `model` on
/// `validation` pairs *with one standard error to spare*: the RMSE increase plus the standard
/// error of the paired difference (as an RMSE, d RMSE = d MSE / (2 RMSE)) must stay within the
/// tolerance, so that a bit width is not taken because the validation users happened to favour
/// it. A user the integer model refuses counts as out of tolerance; if no width qualifies, the
/// largest is taken.
pub fn select_weight_bits(
    model: &Model,
    validation: &[crate::eval::FeedTest],
    base: &QuantConfig,
) -> Result<QuantConfig> {
    let float = model_errors(model, validation);
    let float_rmse = float.rmse();
    let mut last = *base;
    for bits in WEIGHT_BITS {
        let cfg = QuantConfig {
            weight_bits: bits,
            ..*base
        };
        let qm = QuantizedModel::new(model, &cfg)?;
        last = cfg;
        if validation.iter().any(|(feed, _)| qm.predict(feed).is_err()) {
            continue;
        }
        let integer = PairErrors::with(validation, model.scale.min, model.scale.max, |_, u| {
            qm.predict(u).map(|p| p.to_vec()).unwrap_or_default()
        });
        let loss = integer.rmse() - float_rmse;
        let se = float
            .improvement(&integer)
            .map_or(0.0, |(_, se)| se / (2.0 * float_rmse.max(1e-9)));
        if loss + se <= QUANT_TOLERANCE {
            return Ok(cfg);
        }
    }
    Ok(last)
}

/// The [`A1_STEPS`] value for CryptoRec-a(1) on `sel`: the default step
/// ([`crate::finetune::FineTune::one_step`]) unless another has a lower validation RMSE by more
/// than `margin` standard errors.
pub fn select_a1_step(
    model: &Model,
    lambda: f32,
    sel: &Split,
    margin: f64,
    trials: &mut Vec<Trial>,
) -> f32 {
    let default = crate::finetune::FineTune::one_step(lambda);
    let errors_at = |step: f32| {
        let ft = crate::finetune::FineTune {
            user_step: step,
            ..default
        };
        PairErrors::with(&sel.validation, sel.scale.min, sel.scale.max, |_, u| {
            model.fine_tune(u, &ft).predictions.to_vec()
        })
    };
    let incumbent = errors_at(default.user_step);
    let mut best: Option<(PairErrors, f32)> = None;
    for step in A1_STEPS {
        let errors = if step == default.user_step {
            incumbent.clone()
        } else {
            errors_at(step)
        };
        trials.push(Trial {
            model: "CryptoRec-a(1)",
            setting: format!("step={step}"),
            validation_rmse: errors.rmse(),
        });
        if best.as_ref().is_none_or(|(b, _)| errors.rmse() < b.rmse()) {
            best = Some((errors, step));
        }
    }
    match best {
        Some((errors, step)) if wins(&errors, &incumbent, margin) => step,
        _ => default.user_step,
    }
}

fn deadline_after(seconds: f64) -> Instant {
    let now = Instant::now();
    now.checked_add(std::time::Duration::from_secs_f64(seconds.clamp(0.0, 1e6)))
        .unwrap_or(now)
}

/// Selects everything for one split: CryptoRec, the integer model's bits, and (if `baselines`)
/// BiasedMF and I-AutoRec, each within `opts.budget_seconds`.
pub fn select_all(
    split: &Split,
    base_train: &TrainConfig,
    base_mf: &BiasedMfConfig,
    base_autorec: &IAutoRecConfig,
    base_quant: &QuantConfig,
    baselines: bool,
    opts: &SelectOptions,
) -> Result<Selection> {
    let start = Instant::now();
    let sel = selection_split(split, opts.validation_fraction, opts.seed);
    let mut trials = Vec::new();
    let mut cut_short = Vec::new();
    let (train, cut) = select_cryptorec(&sel, base_train, opts, &mut trials)?;
    if cut {
        cut_short.push("CryptoRec");
    }
    let model = Model::train(&sel.train, sel.items, &train, &sel.validation)?;
    let quant = select_weight_bits(&model, &sel.validation, base_quant)?;
    let a1_step = select_a1_step(
        &model,
        train.lambda,
        &sel,
        opts.margin_standard_errors,
        &mut trials,
    );
    let (mut biased_mf, mut autorec) = (base_mf.clone(), base_autorec.clone());
    if baselines {
        let (c, cut) = select_biased_mf(&sel, base_mf, opts, &mut trials)?;
        biased_mf = c;
        if cut {
            cut_short.push("BiasedMF");
        }
        let (c, cut) = select_autorec(&sel, base_autorec, opts, &mut trials)?;
        autorec = c;
        if cut {
            cut_short.push("I-AutoRec");
        }
    }
    Ok(Selection {
        train,
        biased_mf,
        autorec,
        quant,
        a1_step,
        trials,
        cut_short,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Errors of 50 users with 4 ratings each: squared error `base + wiggle(u)` per user.
    fn errors(base: f64, wiggle: impl Fn(usize) -> f64) -> PairErrors {
        PairErrors((0..50).map(|u| (base + wiggle(u), 4)).collect())
    }

    fn search(scores: &[(f32, PairErrors)], margin: f64) -> f32 {
        let grid: [(&str, &[f32]); 1] = [("x", &[1.0, 2.0, 3.0])];
        let (best, cut) = coordinate_search(
            Search {
                model: "test",
                grid: &grid,
                deadline: deadline_after(1e6),
                margin,
            },
            1.0f32,
            &mut Vec::new(),
            |c| c.to_string(),
            |c, _, v| *c = v,
            |c| {
                Ok(scores
                    .iter()
                    .find(|(x, _)| x == c)
                    .map(|(_, e)| e.clone())
                    .unwrap_or_default())
            },
        )
        .unwrap_or((0.0, true));
        assert!(!cut);
        best
    }

    #[test]
    fn improvement_matches_a_naive_paired_computation() {
        let a = errors(1.0, |u| (u % 7) as f64 * 0.1);
        let b = errors(1.2, |u| (u % 5) as f64 * 0.1);
        let Some((diff, se)) = a.improvement(&b) else {
            panic!("defined")
        };
        let d: Vec<f64> = a.0.iter().zip(&b.0).map(|(x, y)| y.0 - x.0).collect();
        let mean = d.iter().sum::<f64>() / 50.0;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 49.0;
        assert!((diff - d.iter().sum::<f64>() / 200.0).abs() < 1e-12);
        assert!((se - (50.0 * var).sqrt() / 200.0).abs() < 1e-12);
        assert!(a.improvement(&PairErrors(vec![(1.0, 1)])).is_none());
    }

    #[test]
    fn a_noisy_winner_does_not_replace_the_default() {
        // Value 2 is better on average by a little, with a large per-user spread.
        let default = errors(1.0, |_| 0.0);
        let noisy = errors(1.0, |u| if u % 2 == 0 { -0.5 } else { 0.49 });
        let worse = errors(1.3, |_| 0.0);
        let scores = [(1.0, default), (2.0, noisy), (3.0, worse)];
        assert_eq!(search(&scores, 1.0), 1.0);
        // Without a margin the lowest RMSE wins, however noisy.
        assert_eq!(search(&scores, 0.0), 2.0);
    }

    #[test]
    fn a_clear_winner_replaces_the_default() {
        let default = errors(1.0, |u| (u % 3) as f64 * 0.01);
        let clear = errors(0.8, |u| (u % 4) as f64 * 0.01);
        let scores = [(1.0, default), (2.0, errors(1.1, |_| 0.0)), (3.0, clear)];
        assert_eq!(search(&scores, 1.0), 3.0);
    }
}
