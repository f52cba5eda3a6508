//! `veil cryptorec train|eval|predict`: the CryptoRec recommender (veil-cryptorec) from the
//! command line, with progress on stderr; `predict` runs the encrypted fast-mode protocol
//! (in `predict.rs`).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use veil_cryptorec::data::{Dataset, RatingScale, SyntheticConfig};
use veil_cryptorec::eval::{Figure, MeanStd, Split};
use veil_cryptorec::model::{Model, TrainConfig};
use veil_cryptorec::quant::QuantConfig;
use veil_cryptorec::report::{EvalOptions, EvalReport, evaluate, transfer};
use veil_cryptorec::select::{SelectOptions, select_all};

use crate::args::{finite, non_negative, positive, scale};
use crate::io::CliResult;
use crate::predict::{PredictArgs, predict};
use crate::progress::Progress;

/// CryptoRec commands.
#[derive(Subcommand)]
pub(crate) enum CryptorecCommand {
    /// Trains a model (early stopping on 5% of the users) and saves it as JSON.
    Train(TrainArgs),
    /// Runs the paper's evaluation protocol (sec. 4): RMSE tables, and precision, recall and
    /// NDCG of the top 10 against a most-popular list.
    Eval(EvalArgs),
    /// Recommends items to a user through the encrypted fast-mode protocol.
    Predict(PredictArgs),
    /// Serves a model over TCP: clients send encrypted ratings, get encrypted predictions.
    Serve(crate::cryptorec_net::ServeArgs),
    /// Asks a `serve` process for recommendations; the ratings never leave unencrypted.
    Query(crate::cryptorec_net::QueryArgs),
    /// Many concurrent clients against a `serve` process, every answer checked.
    Loadtest(crate::cryptorec_load::LoadtestArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// Whichever the first line shows: `::`, a tab, or commas.
    Auto,
    /// MovieLens `u.data` (tab-separated) or `ratings.dat` (`::`-separated).
    Movielens,
    /// `user,item,rating[,...]` lines, with or without a header (MovieLens `ratings.csv`).
    Csv,
}

/// Where the ratings come from.
#[derive(Args)]
pub(crate) struct DataArgs {
    /// Ratings file (MovieLens cannot be redistributed: pass your own copy). Without it,
    /// synthetic data of MovieLens 100K's shape is generated.
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    /// Format of `--data`.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1)]
    synthetic_seed: u64,
    /// Rating scale MIN:MAX (e.g. 1:5); a rating outside it is refused. Default: the lowest to
    /// the highest rating of the data.
    #[arg(long, value_parser = scale, value_name = "MIN:MAX")]
    scale: Option<RatingScale>,
}

impl DataArgs {
    /// The data and its rating scale (given and checked, or inferred).
    pub(crate) fn load(&self) -> CliResult<(Dataset, RatingScale)> {
        let data = match (&self.data, self.format) {
            (Some(p), Format::Auto) => Dataset::load_any(p)?,
            (Some(p), Format::Movielens) => Dataset::load_movielens(p)?,
            (Some(p), Format::Csv) => Dataset::load_csv(p)?,
            (None, _) => SyntheticConfig {
                seed: self.synthetic_seed,
                ..SyntheticConfig::default()
            }
            .generate(),
        };
        let scale = match self.scale {
            Some(s) => {
                data.check_scale(&s)?;
                s
            }
            None => data.scale()?,
        };
        Ok((data, scale))
    }
}

/// Model options shared by `train`, `eval` and the demo.
#[derive(Args)]
pub(crate) struct ModelArgs {
    /// Latent dimension d (default 100; given, it is not searched by the model selection).
    #[arg(long, value_parser = positive)]
    pub(crate) dim: Option<usize>,
    /// Largest number of epochs.
    #[arg(long, default_value_t = 200, value_parser = positive)]
    epochs: usize,
    /// beta of the item biases sum(r - mu) / (beta + ratings): how strongly an item with few
    /// ratings is pulled toward the mean (0: the paper's plain item mean). Default 50; given, it
    /// is not searched by the model selection.
    #[arg(long, value_parser = non_negative)]
    bias_shrinkage: Option<f32>,
    /// delta, the prior mean of an item's bias (relative to the mean rating) that the
    /// shrinkage pulls toward: below 0 ranks rarely rated items lower. Default -0.5; given, it
    /// is not searched by the model selection.
    #[arg(long, value_parser = finite, allow_negative_numbers = true)]
    bias_prior: Option<f32>,
}

/// Model selection on the data at hand (`train`, `eval`).
#[derive(Args)]
pub(crate) struct SelectArgs {
    /// Keep the fixed defaults (chosen on MovieLens 100K) instead of choosing d, lambda, the step
    /// size, beta and delta (and in `eval` the baselines' settings and the integer model's bits) on
    /// validation users of the data at hand.
    #[arg(long)]
    fast: bool,
    /// Time budget of the model selection, in seconds per model and split: no trial starts
    /// after it (the best setting so far is kept, and the report says so).
    #[arg(long, default_value_t = 60.0, value_parser = non_negative)]
    select_budget: f32,
}

impl SelectArgs {
    /// The selection options, `None` with `--fast`; the model options the user gave are kept.
    fn options(&self, model: &ModelArgs) -> Option<SelectOptions> {
        let mut keep = Vec::new();
        if model.dim.is_some() {
            keep.push("d");
        }
        if model.bias_shrinkage.is_some() {
            keep.push("beta");
        }
        if model.bias_prior.is_some() {
            keep.push("delta");
        }
        (!self.fast).then(|| SelectOptions {
            budget_seconds: f64::from(self.select_budget),
            keep,
            ..SelectOptions::default()
        })
    }
}

impl ModelArgs {
    pub(crate) fn config(&self, scale: RatingScale, seed: u64) -> TrainConfig {
        let d = TrainConfig::default();
        TrainConfig {
            dim: self.dim.unwrap_or(d.dim),
            epochs: self.epochs,
            bias_shrinkage: self.bias_shrinkage.unwrap_or(d.bias_shrinkage),
            bias_prior: self.bias_prior.unwrap_or(d.bias_prior),
            scale: Some(scale),
            seed,
            ..TrainConfig::default()
        }
    }
}

#[derive(Args)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    select: SelectArgs,
    /// Seed of initialisation and shuffling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output model file.
    #[arg(long, short)]
    out: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    select: SelectArgs,
    /// Random splits (the paper: 5).
    #[arg(long, default_value_t = 5, value_parser = positive)]
    repeats: usize,
    /// Seed of the first split (the reported tables use 0; choose settings on others).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Skip BiasedMF and I-AutoRec.
    #[arg(long)]
    no_baselines: bool,
    /// Also run the transferability experiment (sec. 3.3).
    #[arg(long)]
    transfer: bool,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: CryptorecCommand) -> CliResult<()> {
    match cmd {
        CryptorecCommand::Train(a) => train(&a),
        CryptorecCommand::Eval(a) => eval(&a),
        CryptorecCommand::Predict(a) => predict(&a),
        CryptorecCommand::Serve(a) => crate::cryptorec_net::serve(&a),
        CryptorecCommand::Query(a) => crate::cryptorec_net::query(&a),
        CryptorecCommand::Loadtest(a) => crate::cryptorec_load::loadtest(&a),
    }
}

/// Trains with early stopping on a validation part of the users; returns the model and the
/// split used (the paper's, with test users) or all users but the validation ones.
pub(crate) fn train_model(
    data: &Dataset,
    cfg: &TrainConfig,
    with_test_users: bool,
) -> CliResult<(Model, Split)> {
    let split = if with_test_users {
        Split::paper(data, cfg.seed)
    } else {
        Split::new(data, cfg.seed, 0.0, 0.9, 0.05)
    };
    let progress = Progress::epochs("training", cfg.epochs);
    progress.stage(&format!(
        "training on {} users (d = {}, at most {} epochs)",
        split.train.len(),
        cfg.dim,
        cfg.epochs
    ));
    let model = Model::train_with(&split.train, split.items, cfg, &split.validation, |r| {
        progress.epoch(r)
    });
    progress.finish();
    Ok((model?, split))
}

/// The data set's raw item identifiers, dense index order.
pub(crate) fn item_ids(data: &Dataset) -> Vec<u64> {
    (0..data.items() as u32)
        .map(|i| data.item_id(i).unwrap_or(u64::from(i)))
        .collect()
}

fn train(a: &TrainArgs) -> CliResult<()> {
    let (data, scale) = a.data.load()?;
    let mut cfg = a.model.config(scale, a.seed);
    let t = Instant::now();
    let mut chosen = None;
    if let Some(opts) = a.select.options(&a.model) {
        let progress = Progress::spinner();
        progress.stage("choosing d, lambda, step and beta on validation users");
        let split = Split::new(&data, cfg.seed, 0.0, 0.9, 0.05);
        let selection = select_all(
            &split,
            &cfg,
            &Default::default(),
            &Default::default(),
            &QuantConfig::default(),
            false,
            &opts,
        )?;
        progress.finish();
        cfg = selection.train.clone();
        chosen = Some(selection);
    }
    // All users train except 5% kept for early stopping (no test users).
    let (model, split) = train_model(&data, &cfg, false)?;
    model.save(&a.out, &item_ids(&data))?;
    let (seconds, rmse) = (t.elapsed().as_secs_f64(), model.rmse(&split.validation));
    if a.json {
        return say!(
            "{}",
            json!({
                "dim": cfg.dim, "users": data.users(), "items": data.items(),
                "ratings": data.ratings().len(), "scale": [scale.min, scale.max],
                "seconds": seconds, "validation_rmse": rmse, "out": a.out.display().to_string(),
                "lambda": cfg.lambda, "learning_rate": cfg.learning_rate,
                "bias_shrinkage": cfg.bias_shrinkage,
                "selected": chosen.is_some(),
            })
        );
    }
    if let Some(sel) = &chosen {
        say!(
            "chosen on validation users in {:.0} s ({} trials): lambda {}, d {}, step {}, beta {}{}",
            sel.seconds,
            sel.trials.len(),
            cfg.lambda,
            cfg.dim,
            cfg.learning_rate,
            cfg.bias_shrinkage,
            if sel.cut_short.is_empty() {
                ""
            } else {
                " (time budget reached)"
            }
        )?;
    } else {
        say!("fixed defaults (--fast)")?;
    }
    say!(
        "trained d = {} on {} users x {} items (ratings {scale}) in {seconds:.1} s; validation RMSE {rmse:.4}; saved {}",
        cfg.dim,
        data.users(),
        data.items(),
        a.out.display()
    )
}

fn eval(a: &EvalArgs) -> CliResult<()> {
    let (data, scale) = a.data.load()?;
    let opts = EvalOptions {
        repeats: a.repeats,
        first_seed: a.first_seed,
        baselines: !a.no_baselines,
        train: a.model.config(scale, 1),
        select: a.select.options(&a.model),
        ..EvalOptions::default()
    };
    let progress = Progress::spinner();
    let t = Instant::now();
    let report = evaluate(&data, &opts, |stage, epoch| {
        if !stage.is_empty() {
            progress.stage(stage);
        }
        if let Some(r) = epoch {
            progress.epoch(r);
        }
    })?;
    progress.finish();
    let seconds = t.elapsed().as_secs_f64();
    let transferred = if a.transfer {
        let r = transfer(&data, a.repeats, &opts.train, |stage| progress.stage(stage))?;
        progress.finish();
        Some(r)
    } else {
        None
    };
    if a.json {
        let stat = |m: &MeanStd| json!({"mean": m.mean, "std": m.std});
        let figure = |f: &Figure| match f {
            Figure::Measured(m) => stat(m),
            Figure::Undefined { reason } => json!({"undefined": reason}),
        };
        let mut out = eval_json(&report, stat, figure);
        out["users"] = json!(data.users());
        out["items"] = json!(data.items());
        out["ratings"] = json!(data.ratings().len());
        out["scale"] = json!([scale.min, scale.max]);
        out["repeats"] = json!(a.repeats);
        out["seconds"] = json!(seconds);
        if let Some(r) = &transferred {
            out["transfer"] = json!({
                "scratch_rmse": stat(&r.scratch_rmse), "transfer_rmse": stat(&r.transfer_rmse),
                "source_only_rmse": stat(&r.source_only_rmse),
                "scratch_epochs": stat(&r.scratch_epochs), "transfer_epochs": stat(&r.transfer_epochs),
            });
        }
        return say!("{out}");
    }
    say!(
        "{} users x {} items, {} ratings ({scale}); {} random splits (80/20 users, 90/10 feed/test) in {seconds:.0} s\n",
        data.users(),
        data.items(),
        data.ratings().len(),
        a.repeats,
    )?;
    say!("{report}")?;
    if let Some(r) = transferred {
        say!("Transfer between disjoint halves of the users (sec. 3.3):\n\n{r}")?;
    }
    Ok(())
}

/// The figures of an [`EvalReport`] as JSON.
fn eval_json(
    r: &EvalReport,
    stat: impl Fn(&MeanStd) -> serde_json::Value,
    figure: impl Fn(&Figure) -> serde_json::Value,
) -> serde_json::Value {
    json!({
        "rmse": r.rmse.iter().map(|(n, m)| json!({"model": n, "rmse": figure(m)})).collect::<Vec<_>>(),
        "top_n": r.top_n.iter().map(|t| json!({
            "model": t.name, "n": veil_cryptorec::report::TOP_N,
            "precision": stat(&t.precision), "recall": stat(&t.recall), "ndcg": stat(&t.ndcg),
        })).collect::<Vec<_>>(),
        "sqr": {
            "pruning_ratio": stat(&r.sqr_pruning), "reuse_ratio": stat(&r.sqr_reuse),
            "rmse_change": figure(&r.sqr_change),
        },
        "integer_model_rmse_change": figure(&r.quant_change),
        "zero_integer_weights": stat(&r.quant_zeros),
        "epochs": stat(&r.epochs),
    })
}
