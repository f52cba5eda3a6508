//! Model selection on the data at hand (issue 16): the hyperparameters of CryptoRec, BiasedMF
//! and I-AutoRec, and the weight bits of the integer model, chosen by validation RMSE on users
//! carved out of the *training* users of a split (never its test users), within a time budget.
//!
//! The search is a seeded coordinate search over small grids: starting from the defaults, each
//! parameter in turn (most influential first) takes the grid value with the best validation
//! RMSE, the others held at their best so far. Every trial trains to its own early stop. When
//! the budget runs out no new trial starts, and the best setting found so far is kept (the
//! report says so). The grids are in [`CRYPTOREC_GRID`], [`BIASED_MF_GRID`],
//! [`AUTOREC_GRID`] and [`WEIGHT_BITS`].

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::baselines::{BiasedMf, BiasedMfConfig, IAutoRec, IAutoRecConfig};
use crate::error::Result;
use crate::eval::Split;
use crate::model::{Model, TrainConfig, split_user};
use crate::quant::{QuantConfig, QuantizedModel};

/// CryptoRec's grid, in search order: (name, values). lambda first (it decides between
/// over- and under-fitting), then the item-bias shrinkage beta, d and the Adam step.
pub const CRYPTOREC_GRID: [(&str, &[f32]); 4] = [
    ("lambda", &[0.01, 0.05, 0.2]),
    ("beta", &[10.0, 50.0, 150.0]),
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
}

impl Default for SelectOptions {
    fn default() -> Self {
        SelectOptions {
            budget_seconds: 60.0,
            validation_fraction: 0.2,
            seed: 7,
            keep: Vec::new(),
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
            "CryptoRec lambda={} d={} step={} beta={}; a(1) step {}; integer model {} bits",
            t.lambda,
            t.dim,
            t.learning_rate,
            t.bias_shrinkage,
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

/// Coordinate search: `apply(cfg, name, value)` sets one parameter, `score(cfg)` trains and
/// returns the validation RMSE. Returns the best configuration and whether the budget cut the
/// search short.
/// Which model, its grid, and when to stop starting trials.
struct Search<'a> {
    model: &'static str,
    grid: &'a [(&'a str, &'a [f32])],
    deadline: Instant,
}

fn coordinate_search<C: Clone>(
    search: Search<'_>,
    base: C,
    trials: &mut Vec<Trial>,
    describe: impl Fn(&C) -> String,
    apply: impl Fn(&mut C, &str, f32),
    mut score: impl FnMut(&C) -> Result<f64>,
) -> Result<(C, bool)> {
    let Search {
        model,
        grid,
        deadline,
    } = search;
    let mut best = base;
    let mut seen: Vec<(String, f64)> = Vec::new();
    let mut try_one = |cfg: &C, trials: &mut Vec<Trial>| -> Result<Option<f64>> {
        let key = describe(cfg);
        if let Some((_, r)) = seen.iter().find(|(k, _)| *k == key) {
            return Ok(Some(*r));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        let rmse = score(cfg)?;
        let rmse = if rmse.is_finite() {
            rmse
        } else {
            f64::INFINITY
        };
        seen.push((key.clone(), rmse));
        trials.push(Trial {
            model,
            setting: key,
            validation_rmse: rmse,
        });
        Ok(Some(rmse))
    };
    let mut best_rmse = match try_one(&best, trials)? {
        Some(r) => r,
        None => return Ok((best, true)),
    };
    for (name, values) in grid {
        let mut round_best = best.clone();
        for &v in *values {
            let mut cfg = best.clone();
            apply(&mut cfg, name, v);
            match try_one(&cfg, trials)? {
                Some(r) if r < best_rmse => (round_best, best_rmse) = (cfg, r),
                Some(_) => {}
                None => return Ok((round_best, true)),
            }
        }
        best = round_best;
    }
    Ok((best, false))
}

/// Chooses CryptoRec's settings on `sel` (a [`selection_split`]).
pub fn select_cryptorec(
    sel: &Split,
    base: &TrainConfig,
    budget_seconds: f64,
    keep: &[&str],
    trials: &mut Vec<Trial>,
) -> Result<(TrainConfig, bool)> {
    let deadline = deadline_after(budget_seconds);
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
        },
        base.clone(),
        trials,
        |c| {
            format!(
                "lambda={} d={} step={} beta={}",
                c.lambda, c.dim, c.learning_rate, c.bias_shrinkage
            )
        },
        |c, name, v| match name {
            "lambda" => c.lambda = v,
            "d" => c.dim = v as usize,
            "step" => c.learning_rate = v,
            _ => c.bias_shrinkage = v,
        },
        |c| Ok(Model::train(&sel.train, sel.items, c, &sel.validation)?.rmse(&sel.validation)),
    )
}

/// Chooses BiasedMF's settings on `sel`.
pub fn select_biased_mf(
    sel: &Split,
    base: &BiasedMfConfig,
    budget_seconds: f64,
    trials: &mut Vec<Trial>,
) -> Result<(BiasedMfConfig, bool)> {
    coordinate_search(
        Search {
            model: "BiasedMF",
            grid: &BIASED_MF_GRID,
            deadline: deadline_after(budget_seconds),
        },
        base.clone(),
        trials,
        |c| format!("lambda={} d={}", c.lambda, c.dim),
        |c, name, v| match name {
            "lambda" => c.lambda = v,
            _ => c.dim = v as usize,
        },
        |c| Ok(BiasedMf::train(sel, c)?.validation_rmse(sel)),
    )
}

/// Chooses I-AutoRec's settings on `sel`.
pub fn select_autorec(
    sel: &Split,
    base: &IAutoRecConfig,
    budget_seconds: f64,
    trials: &mut Vec<Trial>,
) -> Result<(IAutoRecConfig, bool)> {
    let per_rating = known_ratings(sel) as f32 / 1e5;
    coordinate_search(
        Search {
            model: "I-AutoRec",
            grid: &AUTOREC_GRID,
            deadline: deadline_after(budget_seconds),
        },
        base.clone(),
        trials,
        |c| format!("lambda={}", c.lambda),
        |c, _, v| c.lambda = v * 100.0 * per_rating,
        |c| Ok(IAutoRec::train(sel, c)?.validation_rmse(sel)),
    )
}

/// The fewest [`WEIGHT_BITS`] whose integer model is within [`QUANT_TOLERANCE`] of `model` on
/// `validation` pairs (a user it refuses counts as out of tolerance).
pub fn select_weight_bits(
    model: &Model,
    validation: &[crate::eval::FeedTest],
    base: &QuantConfig,
) -> Result<QuantConfig> {
    let float = model.rmse(validation);
    let mut last = *base;
    for bits in WEIGHT_BITS {
        let cfg = QuantConfig {
            weight_bits: bits,
            ..*base
        };
        let qm = QuantizedModel::new(model, &cfg)?;
        last = cfg;
        let (mut sq, mut n, mut refused) = (0f64, 0usize, false);
        for (feed, target) in validation {
            let Ok(pred) = qm.predict(feed) else {
                refused = true;
                break;
            };
            for (&i, &v) in target.items.iter().zip(&target.values) {
                let p = pred.get(i as usize).copied().unwrap_or(f32::NAN);
                sq += f64::from(model.scale.clamp(p) - v).powi(2);
                n += 1;
            }
        }
        let rmse = if n == 0 { 0.0 } else { (sq / n as f64).sqrt() };
        if !refused && rmse - float <= QUANT_TOLERANCE {
            return Ok(cfg);
        }
    }
    Ok(last)
}

/// The [`A1_STEPS`] value with the best CryptoRec-a(1) validation RMSE on `sel`.
pub fn select_a1_step(model: &Model, lambda: f32, sel: &Split, trials: &mut Vec<Trial>) -> f32 {
    let mut best = (
        f64::INFINITY,
        crate::finetune::FineTune::one_step(0.0).user_step,
    );
    for step in A1_STEPS {
        let ft = crate::finetune::FineTune {
            user_step: step,
            ..crate::finetune::FineTune::one_step(lambda)
        };
        let rmse = crate::eval::rmse_with(&sel.validation, sel.scale.min, sel.scale.max, |_, u| {
            model.fine_tune(u, &ft).predictions.to_vec()
        });
        trials.push(Trial {
            model: "CryptoRec-a(1)",
            setting: format!("step={step}"),
            validation_rmse: rmse,
        });
        if rmse < best.0 {
            best = (rmse, step);
        }
    }
    best.1
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
    let (train, cut) = select_cryptorec(
        &sel,
        base_train,
        opts.budget_seconds,
        &opts.keep,
        &mut trials,
    )?;
    if cut {
        cut_short.push("CryptoRec");
    }
    let model = Model::train(&sel.train, sel.items, &train, &sel.validation)?;
    let quant = select_weight_bits(&model, &sel.validation, base_quant)?;
    let a1_step = select_a1_step(&model, train.lambda, &sel, &mut trials);
    let (mut biased_mf, mut autorec) = (base_mf.clone(), base_autorec.clone());
    if baselines {
        let (c, cut) = select_biased_mf(&sel, base_mf, opts.budget_seconds, &mut trials)?;
        biased_mf = c;
        if cut {
            cut_short.push("BiasedMF");
        }
        let (c, cut) = select_autorec(&sel, base_autorec, opts.budget_seconds, &mut trials)?;
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
