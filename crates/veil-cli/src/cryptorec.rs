//! `veil cryptorec train|eval|predict`: the CryptoRec recommender (veil-cryptorec) from the
//! command line, with progress bars; `predict` runs the encrypted fast-mode protocol.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use veil_cryptorec::data::{Dataset, SyntheticConfig};
use veil_cryptorec::eval::Split;
use veil_cryptorec::fast::{Query, Randomness, Response, decrypt_response, encrypt_query, respond};
use veil_cryptorec::model::{EpochReport, Model, TrainConfig, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel, dequantize};
use veil_cryptorec::report::{EvalOptions, evaluate, transfer};
use veil_paillier::{KeyGenerator, RandomnessPool};

use crate::io::{CliError, CliResult, read_input};

/// CryptoRec commands.
#[derive(Subcommand)]
pub(crate) enum CryptorecCommand {
    /// Trains a model (early stopping on 5% of the users) and saves it as JSON.
    Train(TrainArgs),
    /// Runs the paper's evaluation protocol (sec. 4) and prints the RMSE tables.
    Eval(EvalArgs),
    /// Predicts a user's ratings of every item through the encrypted fast-mode protocol.
    Predict(PredictArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// MovieLens `u.data` (tab-separated) or `ratings.dat` (`::`-separated).
    Movielens,
    /// `user,item,rating` lines.
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
    #[arg(long, value_enum, default_value_t = Format::Movielens)]
    format: Format,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1)]
    synthetic_seed: u64,
}

impl DataArgs {
    pub(crate) fn load(&self) -> CliResult<Dataset> {
        Ok(match (&self.data, self.format) {
            (Some(p), Format::Movielens) => Dataset::load_movielens(p)?,
            (Some(p), Format::Csv) => Dataset::load_csv(p)?,
            (None, _) => SyntheticConfig {
                seed: self.synthetic_seed,
                ..SyntheticConfig::default()
            }
            .generate(),
        })
    }
}

#[derive(Args)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Latent dimension d.
    #[arg(long, default_value_t = 100)]
    dim: usize,
    /// Largest number of epochs.
    #[arg(long, default_value_t = 200)]
    epochs: usize,
    /// Seed of initialisation and shuffling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output model file.
    #[arg(long, short)]
    out: PathBuf,
}

#[derive(Args)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Random splits (the paper: 5).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Latent dimension d of CryptoRec.
    #[arg(long, default_value_t = 100)]
    dim: usize,
    /// Skip BiasedMF and I-AutoRec.
    #[arg(long)]
    no_baselines: bool,
    /// Also run the transferability experiment (sec. 3.3).
    #[arg(long)]
    transfer: bool,
}

#[derive(Args)]
pub(crate) struct PredictArgs {
    /// Model file from `veil cryptorec train`.
    #[arg(long)]
    model: PathBuf,
    /// The user's ratings: `item,rating` lines (item identifiers as in the training data).
    #[arg(long)]
    ratings: PathBuf,
    /// How many items to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Paillier modulus size in bits.
    #[arg(long, default_value_t = 2048)]
    bits: u32,
}

pub(crate) fn run(cmd: CryptorecCommand) -> CliResult<()> {
    match cmd {
        CryptorecCommand::Train(a) => train(&a),
        CryptorecCommand::Eval(a) => eval(&a),
        CryptorecCommand::Predict(a) => predict(&a),
    }
}

/// A progress bar over epochs showing the validation RMSE (hidden when stderr is not a terminal).
pub(crate) fn epoch_bar(epochs: usize) -> ProgressBar {
    let bar = ProgressBar::new(epochs as u64);
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] epoch {pos}/{len} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub(crate) fn on_epoch(bar: &ProgressBar) -> impl FnMut(EpochReport) + '_ {
    move |r| {
        bar.set_position(r.epoch as u64 + 1);
        if let Some(v) = r.validation_rmse {
            bar.set_message(format!("validation RMSE {v:.4}"));
        }
    }
}

/// Trains with early stopping on a validation part of the users; returns the model and the
/// split used.
pub(crate) fn train_model(data: &Dataset, cfg: &TrainConfig) -> CliResult<(Model, Split)> {
    let split = Split::paper(data, cfg.seed);
    let bar = epoch_bar(cfg.epochs);
    bar.set_prefix("training");
    let model = Model::train_with(
        &split.train,
        split.items,
        cfg,
        &split.validation,
        on_epoch(&bar),
    )?;
    bar.finish_and_clear();
    Ok((model, split))
}

fn train(a: &TrainArgs) -> CliResult<()> {
    let data = a.data.load()?;
    let cfg = TrainConfig {
        dim: a.dim,
        epochs: a.epochs,
        seed: a.seed,
        ..TrainConfig::default()
    };
    // All users train except 5% kept for early stopping (no test users).
    let split = Split::new(&data, a.seed, 0.0, 0.9, 0.05);
    let bar = epoch_bar(cfg.epochs);
    bar.set_prefix("training");
    let t = Instant::now();
    let model = Model::train_with(
        &split.train,
        split.items,
        &cfg,
        &split.validation,
        on_epoch(&bar),
    )?;
    bar.finish_and_clear();
    let ids: Vec<u64> = (0..data.items() as u32)
        .map(|i| data.item_id(i).unwrap_or(u64::from(i)))
        .collect();
    model.save(&a.out, &ids)?;
    println!(
        "trained d = {} on {} users x {} items in {:.1} s; validation RMSE {:.4}; saved {}",
        a.dim,
        data.users(),
        data.items(),
        t.elapsed().as_secs_f64(),
        model.rmse(&split.validation),
        a.out.display()
    );
    Ok(())
}

fn eval(a: &EvalArgs) -> CliResult<()> {
    let data = a.data.load()?;
    let opts = EvalOptions {
        repeats: a.repeats,
        baselines: !a.no_baselines,
        train: TrainConfig {
            dim: a.dim,
            ..TrainConfig::default()
        },
        ..EvalOptions::default()
    };
    let spinner = ProgressBar::new_spinner();
    let t = Instant::now();
    let report = evaluate(&data, &opts, |stage, epoch| {
        if !stage.is_empty() {
            spinner.set_message(stage.to_string());
        }
        if let Some(r) = epoch {
            spinner.set_prefix(format!("epoch {}", r.epoch + 1));
        }
        spinner.tick();
    })?;
    spinner.finish_and_clear();
    println!(
        "{} users x {} items, {} ratings; {} random splits (80/20 users, 90/10 feed/test) in {:.0} s\n",
        data.users(),
        data.items(),
        data.ratings().len(),
        a.repeats,
        t.elapsed().as_secs_f64()
    );
    println!("{report}");
    if a.transfer {
        let cfg = opts.train.clone();
        let report = transfer(&data, a.repeats, &cfg, |stage| {
            spinner.set_message(stage.to_string());
            spinner.tick();
        })?;
        spinner.finish_and_clear();
        println!("Transfer between disjoint halves of the users (sec. 3.3):\n\n{report}");
    }
    Ok(())
}

/// Reads `item,rating` lines (tabs or commas; `#` comments) and maps item identifiers.
fn read_user(path: &Path, item_ids: &[u64], items: usize) -> CliResult<UserRatings> {
    let text = read_input(path)?;
    let mut user = UserRatings::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| CliError::Input(format!("{}:{}: {why}", path.display(), n + 1));
        let mut parts = line.split([',', '\t']).map(str::trim);
        let id: u64 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("expected an item identifier"))?;
        let value: f32 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|v: &f32| v.is_finite())
            .ok_or_else(|| bad("expected a rating"))?;
        let index = if item_ids.is_empty() {
            usize::try_from(id).ok().filter(|&i| i < items)
        } else {
            item_ids.iter().position(|&x| x == id)
        }
        .ok_or_else(|| bad("unknown item"))?;
        user.items.push(index as u32);
        user.values.push(value);
    }
    if user.items.is_empty() {
        return Err(CliError::Input(format!("{}: no ratings", path.display())));
    }
    Ok(user)
}

fn predict(a: &PredictArgs) -> CliResult<()> {
    let (model, ids) = Model::load(&a.model)?;
    let user = read_user(&a.ratings, &ids, model.items())?;
    let outcome = encrypted_prediction(&model, &user, a.bits)?;
    outcome.print(&ids, &user, a.top);
    Ok(())
}

/// One run of the fast-mode protocol with its timings and sizes.
pub(crate) struct Outcome {
    pub(crate) encrypted: Vec<f32>,
    pub(crate) plaintext: Vec<f32>,
    keygen_s: f64,
    pool_s: f64,
    encrypt_s: f64,
    server_s: f64,
    decrypt_s: f64,
    up: usize,
    down: usize,
    zeros: f64,
}

/// Client and server in one process, messages through their byte encodings.
pub(crate) fn encrypted_prediction(
    model: &Model,
    user: &UserRatings,
    bits: u32,
) -> CliResult<Outcome> {
    let qm = QuantizedModel::new(model, &QuantConfig::default())?;
    let params = qm.params;
    let t = Instant::now();
    let sk = KeyGenerator::new(bits).generate()?;
    let pk = sk.public_key();
    let keygen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut pool = RandomnessPool::new(pk);
    pool.fill_with_private_key(&sk, params.items)?;
    let pool_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let query = encrypt_query(&sk, &params, user, Randomness::Pool(&mut pool))?.to_bytes(pk)?;
    let encrypt_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let response = respond(pk, &qm, &Query::from_bytes(pk, &params, &query)?)?.to_bytes(pk)?;
    let server_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let v = decrypt_response(&sk, &params, &Response::from_bytes(pk, &params, &response)?)?;
    let encrypted = dequantize(&params, &v, user.mean());
    let decrypt_s = t.elapsed().as_secs_f64();
    let x = QuantizedModel::quantize_input(&params, user)?;
    if v != qm.predict_integers(&x) {
        return Err(CliError::Check(
            "the decrypted predictions differ from the quantized model's",
        ));
    }
    Ok(Outcome {
        encrypted,
        plaintext: model.predict(user).to_vec(),
        keygen_s,
        pool_s,
        encrypt_s,
        server_s,
        decrypt_s,
        up: query.len(),
        down: response.len(),
        zeros: qm.zero_fraction(),
    })
}

/// The `top` unrated items by score.
pub(crate) fn top_items(scores: &[f32], rated: &[u32], top: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len())
        .filter(|i| !rated.contains(&(*i as u32)))
        .collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(top);
    order
}

impl Outcome {
    pub(crate) fn print(&self, ids: &[u64], user: &UserRatings, top: usize) {
        let name = |i: usize| ids.get(i).copied().unwrap_or(i as u64);
        let enc = top_items(&self.encrypted, &user.items, top);
        let plain = top_items(&self.plaintext, &user.items, top);
        println!("  rank | encrypted protocol      | plaintext float model");
        for (k, (e, p)) in enc.iter().zip(&plain).enumerate() {
            println!(
                "  {:>4} | item {:>5}  {:>6.3}    | item {:>5}  {:>6.3}",
                k + 1,
                name(*e),
                self.encrypted[*e],
                name(*p),
                self.plaintext[*p]
            );
        }
        let same = enc.iter().filter(|i| plain.contains(i)).count();
        let max_diff = self
            .encrypted
            .iter()
            .zip(&self.plaintext)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        println!(
            "\n  {same}/{} of the top {top} agree; largest |encrypted - float| over {} items: {max_diff:.4} ({}-bit weights, {:.0}% zero)",
            enc.len(),
            self.encrypted.len(),
            QuantConfig::default().weight_bits,
            100.0 * self.zeros
        );
        println!(
            "  client: key generation {:.2} s, randomness pool (offline) {:.2} s, encrypt {} ratings {:.3} s, decrypt {:.3} s",
            self.keygen_s,
            self.pool_s,
            self.encrypted.len(),
            self.encrypt_s,
            self.decrypt_s
        );
        println!(
            "  server: {:.2} s; sent {:.2} MB, received {:.3} MB",
            self.server_s,
            self.up as f64 / 1e6,
            self.down as f64 / 1e6
        );
    }
}
