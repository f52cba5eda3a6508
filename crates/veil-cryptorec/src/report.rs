//! The tables of sec. 4: RMSE of CryptoRec-f, -a(1), -a(n) against BiasedMF and I-AutoRec over
//! repeated random splits (Fig. 2), Sparse-Quantization-Reuse (Table 2), the integer model of
//! the encrypted protocol, and transferability between user populations (Table 4).

use std::fmt;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

use crate::baselines::{BiasedMf, BiasedMfConfig, IAutoRec, IAutoRecConfig};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::{Figure, MeanStd, PairErrors, Split};
use crate::finetune::FineTune;
use crate::model::{EpochReport, Model, TrainConfig, by_user, split_user};
use crate::quant::{QuantConfig, QuantizedModel};
use crate::select::{SelectOptions, Selection, select_all};
use crate::sqr::{SqrConfig, compress};
use crate::topn::{TopN, liked_threshold, popularity, top_n_with};

/// Length of the recommended lists of the top-N table.
pub const TOP_N: usize = 10;

/// What to evaluate.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Number of random splits (the paper: 5); seeds first_seed..first_seed + repeats.
    pub repeats: usize,
    /// Seed of the first split (splits other than the reported 0..5 serve to choose settings).
    pub first_seed: u64,
    /// CryptoRec training.
    pub train: TrainConfig,
    /// Train the baselines too (I-AutoRec takes most of the time).
    pub baselines: bool,
    /// BiasedMF hyperparameters.
    pub biased_mf: BiasedMfConfig,
    /// I-AutoRec hyperparameters.
    pub autorec: IAutoRecConfig,
    /// Sparse-Quantization-Reuse settings.
    pub sqr: SqrConfig,
    /// Quantization of the encrypted protocol.
    pub quant: QuantConfig,
    /// Choose the hyperparameters of every model on validation users of each split's training
    /// users ([`crate::select`]) starting from the settings above; `None` (the CLI's `--fast`)
    /// keeps them as given.
    pub select: Option<SelectOptions>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            repeats: 5,
            first_seed: 0,
            train: TrainConfig::default(),
            baselines: true,
            biased_mf: BiasedMfConfig::default(),
            autorec: IAutoRecConfig::default(),
            sqr: SqrConfig::default(),
            quant: QuantConfig::default(),
            select: None,
        }
    }
}

/// Results over the repeats.
#[derive(Clone, Debug, Default)]
pub struct EvalReport {
    /// (model name, test RMSE) in table order; undefined (with the reason) where a repeat had no
    /// finite RMSE.
    pub rmse: Vec<(&'static str, Figure)>,
    /// Per-repeat RMSE of each model, same order (NaN where a repeat had none).
    pub runs: Vec<Vec<f64>>,
    /// Per model (same order), the standard error of each repeat's test RMSE from the sampling
    /// of test users alone ([`PairErrors::rmse_standard_error`]), as mean and std over the
    /// repeats: the spread across splits to expect even from a perfectly stable model.
    pub test_standard_error: Vec<MeanStd>,
    /// Table 2: pruning ratio, reuse ratio, and RMSE change of CryptoRec-f after SQR.
    pub sqr_pruning: MeanStd,
    /// Reuse ratio after SQR.
    pub sqr_reuse: MeanStd,
    /// RMSE after SQR minus RMSE before.
    pub sqr_change: Figure,
    /// RMSE of the integer model of the encrypted protocol minus the float model's; undefined
    /// (with the reason) if the integer model could not serve a test user.
    pub quant_change: Figure,
    /// Fraction of zero integer weights.
    pub quant_zeros: MeanStd,
    /// Epochs CryptoRec trained (up to its best validation RMSE).
    pub epochs: MeanStd,
    /// Top-[`TOP_N`] metrics of each model ([`crate::topn`]), in table order.
    pub top_n: Vec<TopNRow>,
    /// What the model selection chose in each repeat (empty without selection).
    pub selections: Vec<Selection>,
}

/// One model's top-N metrics over the repeats.
#[derive(Clone, Debug, Default)]
pub struct TopNRow {
    /// Model name.
    pub name: &'static str,
    /// precision@N.
    pub precision: MeanStd,
    /// recall@N.
    pub recall: MeanStd,
    /// NDCG@N.
    pub ndcg: MeanStd,
    /// Per-repeat results.
    pub runs: Vec<TopN>,
}

impl TopNRow {
    fn of(name: &'static str, runs: Vec<TopN>) -> Self {
        let stat = |f: fn(&TopN) -> f64| MeanStd::of(&runs.iter().map(f).collect::<Vec<_>>());
        TopNRow {
            name,
            precision: stat(|t| t.precision),
            recall: stat(|t| t.recall),
            ndcg: stat(|t| t.ndcg),
            runs,
        }
    }
}

/// The epoch of the best validation RMSE (1-based) from a training run's reports.
fn best_epoch(reports: &[EpochReport]) -> f64 {
    reports
        .iter()
        .filter_map(|r| r.validation_rmse.map(|v| (r.epoch, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(reports.len() as f64, |(e, _)| (e + 1) as f64)
}

/// An RMSE (or a difference of two), or why there is none: a value that is not finite means a
/// model whose predictions are not (training diverged).
fn finite_rmse(value: f64) -> std::result::Result<f64, String> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err("a prediction was not finite (training diverged)".into())
    }
}

/// RMSE of the integer model minus the float model's RMSE `float_rmse` on the test pairs, or the
/// reason there is none (a test user the integer model refuses: a centred rating outside its
/// input range). Predictions are clipped to the split's scale, as the float model's are.
fn integer_model_change(
    qm: &QuantizedModel,
    split: &Split,
    float_rmse: f64,
) -> std::result::Result<f64, String> {
    let (mut sq, mut n) = (0f64, 0usize);
    for (feed, target) in &split.test {
        let pred = qm
            .predict(feed)
            .map_err(|e| format!("the integer model refused a test user: {e}"))?;
        for (&i, &v) in target.items.iter().zip(&target.values) {
            let p = pred
                .get(i as usize)
                .copied()
                .ok_or_else(|| "the integer model has fewer items than the data".to_string())?;
            sq += f64::from(split.scale.clamp(p) - v).powi(2);
            n += 1;
        }
    }
    if n == 0 {
        return Err("no test ratings".into());
    }
    finite_rmse((sq / n as f64).sqrt() - float_rmse)
}

/// Runs the protocol of sec. 4 `opts.repeats` times. `progress` receives a line per stage and
/// every epoch report of CryptoRec's training.
pub fn evaluate(
    data: &Dataset,
    opts: &EvalOptions,
    mut progress: impl FnMut(&str, Option<EpochReport>),
) -> Result<EvalReport> {
    if opts.repeats == 0 {
        return Err(Error::Invalid {
            reason: "at least one repeat is needed",
        });
    }
    let scale = match opts.train.scale {
        Some(s) => {
            data.check_scale(&s)?;
            s
        }
        None => data.scale()?,
    };
    let liked = liked_threshold(&scale);
    let top_names: Vec<&'static str> = if opts.baselines {
        vec![
            "I-AutoRec",
            "BiasedMF",
            "CryptoRec-f",
            "CryptoRec-a(1)",
            "most popular",
        ]
    } else {
        vec!["CryptoRec-f", "CryptoRec-a(1)", "most popular"]
    };
    let mut top_runs = vec![Vec::new(); top_names.len()];
    let names: Vec<&'static str> = if opts.baselines {
        vec![
            "I-AutoRec",
            "BiasedMF",
            "CryptoRec-f",
            "CryptoRec-a(1)",
            "CryptoRec-a(n)",
            "bias only",
        ]
    } else {
        vec![
            "CryptoRec-f",
            "CryptoRec-a(1)",
            "CryptoRec-a(n)",
            "bias only",
        ]
    };
    let mut runs: Vec<Vec<std::result::Result<f64, String>>> = vec![Vec::new(); names.len()];
    let mut standard_errors: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let (mut pruning, mut reuse, mut sqr_change) = (vec![], vec![], vec![]);
    let (mut quant_change, mut zeros, mut epochs) = (vec![], vec![], vec![]);
    let mut selections = Vec::new();
    for seed in opts.first_seed..opts.first_seed + opts.repeats as u64 {
        let split = Split::paper(data, seed).with_scale(scale);
        if split.test_ratings() == 0 || split.train.is_empty() {
            return Err(Error::Invalid {
                reason: "too few users or ratings: a split has no training users or no test ratings",
            });
        }
        let mut row = Vec::new();
        let mut top = Vec::new();
        let first = split.first_test_user();
        let mut a1_step = FineTune::one_step(0.0).user_step;
        let (mut train_cfg, mut mf_cfg, mut ar_cfg, mut quant_cfg) = (
            opts.train.clone(),
            opts.biased_mf.clone(),
            opts.autorec.clone(),
            opts.quant,
        );
        if let Some(sel) = &opts.select {
            progress(&format!("repeat {}: model selection", seed + 1), None);
            let chosen = select_all(
                &split,
                &opts.train,
                &opts.biased_mf,
                &opts.autorec,
                &opts.quant,
                opts.baselines,
                sel,
            )?;
            progress(
                &format!("repeat {}: chose {}", seed + 1, chosen.summary()),
                None,
            );
            (train_cfg, mf_cfg, ar_cfg, quant_cfg) = (
                chosen.train.clone(),
                chosen.biased_mf.clone(),
                chosen.autorec.clone(),
                chosen.quant,
            );
            a1_step = chosen.a1_step;
            selections.push(chosen);
        }
        if opts.baselines {
            progress(&format!("repeat {}: I-AutoRec", seed + 1), None);
            let m = IAutoRec::train(&split, &ar_cfg)?;
            row.push(m.test_errors(&split));
            top.push(top_n_with(&split.test, TOP_N, liked, |k, _| {
                m.predict(first + k)
            }));
            progress(&format!("repeat {}: BiasedMF", seed + 1), None);
            let m = BiasedMf::train(&split, &mf_cfg)?;
            row.push(m.test_errors(&split));
            top.push(top_n_with(&split.test, TOP_N, liked, |k, _| {
                m.predict(first + k)
            }));
        }
        progress(&format!("repeat {}: CryptoRec", seed + 1), None);
        let mut reports = Vec::new();
        let model = Model::train_with(
            &split.train,
            split.items,
            &train_cfg,
            &split.validation,
            |r| {
                reports.push(r);
                progress("", Some(r));
            },
        )?;
        epochs.push(best_epoch(&reports));
        let (lo, hi) = (model.scale.min, model.scale.max);
        let f_errors = PairErrors::with(&split.test, lo, hi, |_, u| model.predict(u).to_vec());
        let f = f_errors.rmse();
        row.push(f_errors);
        // Lists are ranked by the unclamped scores: clamping would tie every item above the
        // top of the scale.
        top.push(top_n_with(&split.test, TOP_N, liked, |_, u| {
            model.predict(u).to_vec()
        }));
        for (k, ft) in [
            FineTune {
                user_step: a1_step,
                ..FineTune::one_step(train_cfg.lambda)
            },
            FineTune::until_converged(train_cfg.lambda),
        ]
        .iter()
        .enumerate()
        {
            row.push(PairErrors::with(&split.test, lo, hi, |_, u| {
                model.fine_tune(u, ft).predictions.to_vec()
            }));
            if k == 0 {
                top.push(top_n_with(&split.test, TOP_N, liked, |_, u| {
                    model.fine_tune(u, ft).predictions.to_vec()
                }));
            }
        }
        let popular = popularity(&split);
        top.push(top_n_with(&split.test, TOP_N, liked, |_, _| {
            popular.clone()
        }));
        for (r, v) in top_runs.iter_mut().zip(top) {
            r.push(v);
        }
        // The bias-only predictor of `Model::bias_only_rmse`: the user's mean plus b_i.
        row.push(PairErrors::with(&split.test, lo, hi, |_, u| {
            let mean = u.mean();
            model.item_bias.iter().map(|b| mean + b).collect()
        }));
        for ((r, se), v) in runs.iter_mut().zip(&mut standard_errors).zip(row) {
            r.push(finite_rmse(v.rmse()));
            se.push(v.rmse_standard_error());
        }
        let (compressed, rep) = compress(&model, &opts.sqr);
        pruning.push(rep.pruning_ratio);
        reuse.push(rep.reuse_ratio);
        sqr_change.push(finite_rmse(compressed.rmse(&split.test) - f));
        let qm = QuantizedModel::new(&model, &quant_cfg)?;
        quant_change.push(integer_model_change(&qm, &split, f));
        zeros.push(qm.zero_fraction());
    }
    Ok(EvalReport {
        rmse: names
            .iter()
            .zip(&runs)
            .map(|(n, r)| (*n, Figure::of(r)))
            .collect(),
        runs: runs
            .iter()
            .map(|r| r.iter().map(|v| v.clone().unwrap_or(f64::NAN)).collect())
            .collect(),
        test_standard_error: standard_errors.iter().map(|s| MeanStd::of(s)).collect(),
        sqr_pruning: MeanStd::of(&pruning),
        sqr_reuse: MeanStd::of(&reuse),
        sqr_change: Figure::of(&sqr_change),
        quant_change: Figure::of(&quant_change),
        quant_zeros: MeanStd::of(&zeros),
        epochs: MeanStd::of(&epochs),
        top_n: top_names
            .into_iter()
            .zip(top_runs)
            .map(|(n, r)| TopNRow::of(n, r))
            .collect(),
        selections,
    })
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reference = self
            .rmse
            .iter()
            .find(|(n, _)| *n == "I-AutoRec")
            .and_then(|(_, r)| r.measured())
            .map(|r| r.mean);
        writeln!(
            f,
            "| model | RMSE (mean ± std) | / I-AutoRec | test-set standard error |"
        )?;
        writeln!(f, "|---|---:|---:|---:|")?;
        for (k, (name, r)) in self.rmse.iter().enumerate() {
            let ratio = match (reference, r.measured()) {
                (Some(x), Some(m)) => format!("{:.3}", m.mean / x),
                _ => "—".to_string(),
            };
            let se = self
                .test_standard_error
                .get(k)
                .filter(|s| s.mean.is_finite())
                .map_or("—".to_string(), |s| format!("{:.4}", s.mean));
            writeln!(f, "| {name} | {r} | {ratio} | {se} |")?;
        }
        writeln!(
            f,
            "\n(The test-set standard error is that of one split's RMSE from the sampling of its \
             test users alone, mean over the splits: the spread across splits to expect from a \
             model that is perfectly stable.)"
        )?;
        writeln!(f)?;
        writeln!(f, "| Sparse-Quantization-Reuse | value |")?;
        writeln!(f, "|---|---:|")?;
        writeln!(f, "| pruning ratio | {} |", self.sqr_pruning)?;
        writeln!(f, "| reuse ratio | {} |", self.sqr_reuse)?;
        writeln!(f, "| RMSE change after SQR | {} |", self.sqr_change)?;
        writeln!(
            f,
            "| RMSE change of the integer model (encrypted protocol) | {} |",
            self.quant_change
        )?;
        writeln!(f, "| zero integer weights | {} |", self.quant_zeros)?;
        writeln!(
            f,
            "| CryptoRec epochs to best validation RMSE | {:.1} ± {:.1} |",
            self.epochs.mean, self.epochs.std
        )?;
        if !self.selections.is_empty() {
            writeln!(
                f,
                "\nChosen on validation users of each split's training users (crate::select):\n"
            )?;
            for (k, s) in self.selections.iter().enumerate() {
                writeln!(
                    f,
                    "- split {}: {} ({} trials, {:.0} s)",
                    k + 1,
                    s.summary(),
                    s.trials.len(),
                    s.seconds
                )?;
            }
        }
        if let Some(first) = self.top_n.first() {
            let users = first.runs.first().map_or(0, |t| t.users);
            writeln!(
                f,
                "\nTop {TOP_N} of all unrated items; relevant: held-out items rated at least 3/4 up \
                 the scale ({users} users in the first split)\n"
            )?;
            writeln!(
                f,
                "| model | precision@{TOP_N} | recall@{TOP_N} | NDCG@{TOP_N} |"
            )?;
            writeln!(f, "|---|---:|---:|---:|")?;
            for r in &self.top_n {
                writeln!(
                    f,
                    "| {} | {} | {} | {} |",
                    r.name, r.precision, r.recall, r.ndcg
                )?;
            }
        }
        Ok(())
    }
}

/// Table 4: RMSE and epochs on a target user population, trained from scratch or initialised
/// from a model trained on a disjoint source population with the same items.
#[derive(Clone, Copy, Debug, Default)]
pub struct TransferReport {
    /// Test RMSE without transfer.
    pub scratch_rmse: MeanStd,
    /// Epochs to the best validation RMSE without transfer.
    pub scratch_epochs: MeanStd,
    /// Test RMSE with transfer.
    pub transfer_rmse: MeanStd,
    /// Epochs with transfer.
    pub transfer_epochs: MeanStd,
    /// Test RMSE of the source model on the target users, without any target training.
    pub source_only_rmse: MeanStd,
}

/// Splits the users in two disjoint halves (source, target) per repeat, trains on the whole
/// source half, then runs the protocol of sec. 4 on the target half with and without the
/// source model as initialisation (sec. 3.3).
pub fn transfer(
    data: &Dataset,
    repeats: usize,
    cfg: &TrainConfig,
    mut progress: impl FnMut(&str),
) -> Result<TransferReport> {
    if repeats == 0 {
        return Err(Error::Invalid {
            reason: "at least one repeat is needed",
        });
    }
    let (mut sr, mut se, mut tr, mut te, mut so) = (vec![], vec![], vec![], vec![], vec![]);
    for seed in 0..repeats as u64 {
        let mut users = by_user(data.ratings(), data.users());
        users.retain(|u| !u.values.is_empty());
        let mut rng = ChaCha20Rng::seed_from_u64(1000 + seed);
        users.shuffle(&mut rng);
        let target_users = users.split_off(users.len() / 2);
        progress(&format!("repeat {}: source model", seed + 1));
        // The source model stops early on 5% of its own users, like any trained model.
        let source_valid_users = users.split_off(users.len() - users.len() / 20);
        let source_valid: Vec<_> = source_valid_users
            .iter()
            .map(|u| split_user(u, 0.9, &mut rng))
            .collect();
        let source = Model::train(&users, data.items(), cfg, &source_valid)?;
        // Target: 80/20 users, 90/10 feed, validation from the training users.
        let n = target_users.len();
        let mut target_users = target_users;
        let test_users = target_users.split_off(n - n / 5);
        let valid_users = target_users.split_off(target_users.len() - n / 20);
        let test: Vec<_> = test_users
            .iter()
            .map(|u| split_user(u, 0.9, &mut rng))
            .collect();
        let valid: Vec<_> = valid_users
            .iter()
            .map(|u| split_user(u, 0.9, &mut rng))
            .collect();
        progress(&format!("repeat {}: target from scratch", seed + 1));
        let mut reports = Vec::new();
        let scratch = Model::train_with(&target_users, data.items(), cfg, &valid, |r| {
            reports.push(r)
        })?;
        sr.push(scratch.rmse(&test));
        se.push(best_epoch(&reports));
        progress(&format!(
            "repeat {}: target from the source model",
            seed + 1
        ));
        let mut reports = Vec::new();
        let moved = Model::train_from(&source, &target_users, cfg, &valid, |r| reports.push(r))?;
        tr.push(moved.rmse(&test));
        so.push(source.rmse(&test));
        te.push(best_epoch(&reports));
    }
    Ok(TransferReport {
        scratch_rmse: MeanStd::of(&sr),
        scratch_epochs: MeanStd::of(&se),
        transfer_rmse: MeanStd::of(&tr),
        transfer_epochs: MeanStd::of(&te),
        source_only_rmse: MeanStd::of(&so),
    })
}

impl fmt::Display for TransferReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| | no transfer | transfer | source model only |")?;
        writeln!(f, "|---|---:|---:|---:|")?;
        writeln!(
            f,
            "| RMSE | {} | {} | {} |",
            self.scratch_rmse, self.transfer_rmse, self.source_only_rmse
        )?;
        writeln!(
            f,
            "| epochs to best validation RMSE | {:.1} ± {:.1} | {:.1} ± {:.1} | 0 |",
            self.scratch_epochs.mean,
            self.scratch_epochs.std,
            self.transfer_epochs.mean,
            self.transfer_epochs.std
        )
    }
}
