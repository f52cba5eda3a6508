//! `veil reacthe train|eval|infer`: HE-friendly residual power-activation networks (veil-reacthe).
//!
//! `train` fits one network on a seeded 80/20 split and saves it as JSON; `eval` prints the
//! depth table (ReActHE against the ReLU MLP, the plain power network, the square network and the
//! least-squares ReLU approximation, over seeded repeats); `infer` runs the test split encrypted
//! under CKKS and prints timings, errors and flipped decisions.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use veil_ckks::{CkksParameters, CkksParametersBuilder, Preset};
use veil_reacthe::experiment::{depth_table, encrypted_run, resolve_data};
use veil_reacthe::{Architecture, Dataset, Network, Task, TrainConfig, score, train};

use crate::args::{positive, positive_real};
use crate::io::{CliError, CliResult};
use crate::progress::Progress;

/// ReActHE commands.
#[derive(Subcommand)]
pub(crate) enum ReactheCommand {
    /// Trains one ReActHE network (seeded 80/20 split), prints its test score, saves it.
    Train(TrainArgs),
    /// The depth table: every architecture at every depth over seeded repeats.
    Eval(EvalArgs),
    /// Encrypted inference of the test split under CKKS, with timings and errors.
    Infer(InferArgs),
    /// The exact path: a one-block network quantised and run under BFV, checked bit for bit.
    Exact(ExactArgs),
}

/// `veil reacthe exact`.
#[derive(Args)]
pub(crate) struct ExactArgs {
    #[command(flatten)]
    common: Common,
    /// Scale exponents of inputs, weights and alpha (2^sx, 2^sw, 2^sa).
    #[arg(long, value_delimiter = ',', default_value = "4,6,8")]
    bits: Vec<u32>,
    /// Standardised inputs are clipped to [-clip, clip].
    #[arg(long, default_value_t = 4.0, value_parser = positive_real)]
    clip: f64,
    /// Split seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Residual blocks (two or more need CRT over several plaintext primes).
    #[arg(long, default_value_t = 1, value_parser = positive)]
    depth: usize,
    /// Send the replies unsanitized (default: sanitized, the flooding of veil-bfv).
    #[arg(long)]
    no_sanitize: bool,
}

/// Data and training options shared by the commands.
#[derive(Args)]
pub(crate) struct Common {
    /// breast_cancer, diabetes, digits (from ../shared/data/sklearn) or a CSV path (target last).
    #[arg(long)]
    data: String,
    /// Hidden width.
    #[arg(long, default_value_t = 32, value_parser = positive)]
    width: usize,
    /// Scale alpha of the power activation z + alpha z^2.
    #[arg(long, default_value_t = 0.1, value_parser = positive_real)]
    alpha: f64,
    /// Maximum epochs.
    #[arg(long, default_value_t = 300, value_parser = positive)]
    epochs: usize,
    /// Adam step size.
    #[arg(long, default_value_t = 2e-3, value_parser = positive_real)]
    learning_rate: f64,
    /// Label smoothing of the multi-class loss (0: none; applies to every network trained).
    #[arg(long, default_value_t = 0.0)]
    label_smoothing: f64,
}

impl Common {
    fn load(&self) -> CliResult<Dataset> {
        let path = resolve_data(&self.data).ok_or_else(|| {
            CliError::Input(format!(
                "no data file for {:?} (a CSV path or breast_cancer|diabetes|digits under ../shared/data/sklearn)",
                self.data
            ))
        })?;
        Dataset::from_csv(&path).map_err(lib)
    }

    fn config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            learning_rate: self.learning_rate,
            label_smoothing: self.label_smoothing,
            ..TrainConfig::default()
        }
    }
}

/// `veil reacthe train`.
#[derive(Args)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    common: Common,
    /// Residual blocks.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Split and initialisation seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to save the model (JSON).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Writes the standardised test features (CSV, no header) for a peer to encrypt.
    #[arg(long)]
    export_test: Option<PathBuf>,
}

/// `veil reacthe eval`.
#[derive(Args)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    common: Common,
    /// Depths (hidden activated layers), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,4,6", value_parser = positive)]
    depths: Vec<usize>,
    /// Seeded 80/20 repeats.
    #[arg(long, default_value_t = 5, value_parser = positive)]
    repeats: usize,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PresetArg {
    /// N = 8192, depth 3.
    N8192,
    /// N = 16384, depth 8.
    N16384,
    /// N = 32768, depth 19.
    N32768,
    /// N = 32768 with scale 2^60: q_0 of 62 bits, 12 rescaling primes of 60 bits, P of 62 bits
    /// (844 <= 881 bits: 128-bit security), depth 12; for sanitized replies.
    N32768S60,
}

/// `veil reacthe infer`.
#[derive(Args)]
pub(crate) struct InferArgs {
    #[command(flatten)]
    common: Common,
    /// Residual blocks of the network trained when no --model is given.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// A model saved by `veil reacthe train` (else one is trained on the seed-1 split).
    #[arg(long)]
    model: Option<PathBuf>,
    /// CKKS parameters (the network needs 2 + 3 x blocks levels).
    #[arg(long, value_enum, default_value = "n16384")]
    preset: PresetArg,
    /// Sanitize the replies (veil-ckks flooding) for statistical distance 2^-BITS (40: the
    /// smudging lemma's 2^-40; smaller values are weaker guarantees), with the error bound
    /// calibrated on the raw outputs with the client's key.
    #[arg(long)]
    privacy_bits: Option<u32>,
    /// Split seed (the test part is encrypted).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn lib(e: veil_reacthe::Error) -> CliError {
    CliError::Input(e.to_string())
}

fn metric_name(task: Task) -> &'static str {
    match task {
        Task::Regression => "RMSE",
        _ => "accuracy",
    }
}

/// Runs a ReActHE command.
pub(crate) fn run(cmd: ReactheCommand) -> CliResult<()> {
    match cmd {
        ReactheCommand::Train(a) => run_train(&a),
        ReactheCommand::Eval(a) => run_eval(&a),
        ReactheCommand::Infer(a) => run_infer(&a),
        ReactheCommand::Exact(a) => run_exact(&a),
    }
}

fn run_train(a: &TrainArgs) -> CliResult<()> {
    let data = a.common.load()?;
    let (train_part, test_part) = data.split(0.2, a.seed);
    let arch = Architecture::reacthe(a.common.width, a.depth, a.common.alpha);
    let progress = Progress::spinner();
    progress.stage(&format!("training {} samples", train_part.len()));
    let cfg = TrainConfig {
        seed: a.seed,
        ..a.common.config()
    };
    let t = train(arch, &train_part, &cfg).map_err(lib)?;
    progress.finish();
    say!(
        "ReActHE width {} blocks {} alpha {}: {} epochs{}, test {} {:.4} ({} samples)",
        a.common.width,
        a.depth,
        a.common.alpha,
        t.epochs,
        if t.diverged { " (diverged)" } else { "" },
        metric_name(data.task),
        score(&t.network, &test_part),
        test_part.len()
    )?;
    if let Some(path) = &a.out {
        let json = t.network.to_json().map_err(lib)?;
        std::fs::write(path, json).map_err(|source| CliError::Io {
            path: path.display().to_string(),
            source,
        })?;
        say!("saved {}", path.display())?;
    }
    if let Some(path) = &a.export_test {
        let x = t.network.standardizer.transform(&test_part.x);
        let text: Vec<String> = x
            .rows()
            .into_iter()
            .map(|r| {
                r.iter()
                    .map(|v| format!("{v:e}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        std::fs::write(path, text.join("\n") + "\n").map_err(|source| CliError::Io {
            path: path.display().to_string(),
            source,
        })?;
        say!(
            "wrote {} standardised test rows to {}",
            x.nrows(),
            path.display()
        )?;
    }
    Ok(())
}

fn run_eval(a: &EvalArgs) -> CliResult<()> {
    let data = a.common.load()?;
    let progress = Progress::spinner();
    let rows = depth_table(
        &data,
        a.common.width,
        &a.depths,
        a.common.alpha,
        &a.common.config(),
        a.repeats,
        |m| progress.stage(m),
    )
    .map_err(lib)?;
    progress.finish();
    say!(
        "{}: {} samples, {} features, {:?}; width {}, {} seeded 80/20 repeats, test {}",
        a.common.data,
        data.len(),
        data.x.ncols(),
        data.task,
        a.common.width,
        a.repeats,
        metric_name(data.task)
    )?;
    say!()?;
    say!(
        "| network | hidden layers | test {} (mean +- sd) | diverged | epochs |",
        metric_name(data.task)
    )?;
    say!("| --- | ---: | ---: | ---: | ---: |")?;
    for r in rows {
        say!(
            "| {} | {} | {:.4} +- {:.4} | {}/{} | {:.0} |",
            r.name,
            r.depth,
            r.score.0,
            r.score.1,
            r.diverged,
            a.repeats,
            r.epochs
        )?;
    }
    Ok(())
}

fn run_infer(a: &InferArgs) -> CliResult<()> {
    let data = a.common.load()?;
    let (train_part, test_part) = data.split(0.2, a.seed);
    let progress = Progress::spinner();
    let net = match &a.model {
        Some(path) => Network::from_json_file(path).map_err(lib)?,
        None => {
            progress.stage("training");
            let arch = Architecture::reacthe(a.common.width, a.depth, a.common.alpha);
            let cfg = TrainConfig {
                seed: a.seed,
                ..a.common.config()
            };
            train(arch, &train_part, &cfg).map_err(lib)?.network
        }
    };
    if net.features() != data.x.ncols() {
        return Err(CliError::Input(
            "the model does not fit this data set".into(),
        ));
    }
    let ckks = |e: veil_ckks::Error| CliError::Input(e.to_string());
    let params = match a.preset {
        PresetArg::N8192 => CkksParameters::preset(Preset::N8192).map_err(ckks)?,
        PresetArg::N16384 => CkksParameters::preset(Preset::N16384).map_err(ckks)?,
        PresetArg::N32768 => CkksParameters::preset(Preset::N32768).map_err(ckks)?,
        PresetArg::N32768S60 => {
            let mut sizes = vec![62];
            sizes.extend([60; 12]);
            sizes.push(62);
            CkksParametersBuilder::new()
                .degree(32768)
                .moduli_sizes(&sizes)
                .log_scale(60)
                .build()
                .map_err(ckks)?
        }
    };
    progress.stage("encrypted inference");
    let r = encrypted_run(&net, &test_part, &params, a.privacy_bits).map_err(lib)?;
    progress.finish();
    let [keygen, enc, eval, dec] = r.seconds;
    say!(
        "{}: ReActHE width {} blocks {}, CKKS N = {}, scale 2^{}, levels {}/{}, {} test samples in {} batch(es) of up to {} (one sample per slot), replies {}",
        a.common.data,
        net.arch.width,
        net.arch.depth,
        params.degree(),
        params.log_scale(),
        r.levels.0,
        r.levels.1,
        r.samples,
        r.batches,
        params.slots(),
        a.privacy_bits
            .map_or("at level 0, not sanitized".into(), |k| format!(
                "sanitized for 2^-{k}"
            ))
    )?;
    let (l1, l5, _) = load_average();
    say!(
        "load average {l1} (1 min), {l5} (5 min) on {} cores during the run",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )?;
    say!()?;
    say!(
        "| keygen s | encrypt s | server s | server CPU s | decrypt s | server ms/sample (this batch) | server ms/sample (full batch) | max err | mean err | flipped | float {m} | encrypted {m} |",
        m = metric_name(net.task)
    )?;
    say!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")?;
    let full = eval / r.batches as f64 / params.slots() as f64;
    say!(
        "| {keygen:.2} | {enc:.2} | {eval:.2} | {} | {dec:.2} | {:.2} | {:.3} | {:.2e} | {:.2e} | {}/{} | {:.4} | {:.4} |",
        r.server_cpu.map_or("n/a".into(), |c| format!("{c:.2}")),
        1e3 * eval / r.samples as f64,
        1e3 * full,
        r.error.0,
        r.error.1,
        r.flipped,
        r.samples,
        r.score.0,
        r.score.1
    )?;
    if let Some(z) = &r.sanitize {
        say!()?;
        say!(
            "| security | measured error bits | error_bits given | flooding bits | reply level | estimated slot error | sanitize s | flipped |"
        )?;
        say!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")?;
        say!(
            "| 2^-{} | {} | {} | {} | {} | {:.2e} | {:.2} | {}/{} |",
            z.security_bits,
            z.measured_error_bits,
            z.error_bits,
            z.flooding_bits,
            z.reply_level,
            z.estimated_slot_error,
            z.seconds,
            r.flipped,
            r.samples
        )?;
    }
    Ok(())
}

/// The machine's load averages (Linux), as printed by /proc/loadavg.
fn load_average() -> (String, String, String) {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut f = text.split_whitespace().map(str::to_owned);
    let mut next = || f.next().unwrap_or_else(|| "?".into());
    (next(), next(), next())
}

fn run_exact(a: &ExactArgs) -> CliResult<()> {
    use veil_reacthe::exact::{ExactOptions, QuantizedNetwork, run_exact as exact};
    let [sx, sw, sa] = a.bits[..] else {
        return Err(CliError::Input("--bits takes three exponents".into()));
    };
    let data = a.common.load()?;
    let (train_part, test_part) = data.split(0.2, a.seed);
    let progress = Progress::spinner();
    progress.stage("training");
    let arch = Architecture::reacthe(a.common.width, a.depth, a.common.alpha);
    let cfg = TrainConfig {
        seed: a.seed,
        ..a.common.config()
    };
    let net = train(arch, &train_part, &cfg).map_err(lib)?.network;
    let q = QuantizedNetwork::new(&net, (sx, sw, sa), a.clip).map_err(lib)?;
    let x = net.standardizer.transform(&test_part.x);
    let want = q.forward(&q.quantize_inputs(&x));
    progress.stage("BFV inference");
    let options = ExactOptions {
        sanitize: !a.no_sanitize,
        ..ExactOptions::default()
    };
    let t = std::time::Instant::now();
    let report = exact(&q, &x, &options).map_err(lib)?;
    let seconds = t.elapsed().as_secs_f64();
    progress.finish();
    let equal = report
        .outputs
        .iter()
        .zip(&want)
        .filter(|(g, w)| g == w)
        .count();
    let scale = 2f64.powi(q.output_scale_bits() as i32);
    let int_out =
        veil_reacthe::ndarray::Array2::from_shape_fn((want.len(), net.task.outputs()), |(i, k)| {
            want[i][k] as f64 / scale
        });
    let float_out = net.forward_standardized(&x);
    let metric = |pred: Vec<f64>| match net.task {
        Task::Regression => (pred
            .iter()
            .zip(&test_part.y)
            .map(|(p, y)| (p - y).powi(2))
            .sum::<f64>()
            / test_part.len() as f64)
            .sqrt(),
        _ => {
            pred.iter()
                .zip(&test_part.y)
                .filter(|(p, y)| p == y)
                .count() as f64
                / test_part.len() as f64
        }
    };
    let prime_bits: Vec<String> = report
        .primes
        .iter()
        .map(|t| (t.ilog2() + 1).to_string())
        .collect();
    say!(
        "{}: ReActHE width {}, {} block(s), scales 2^({sx},{sw},{sa}), clip {}; bound 2^{:.1}, {} plaintext prime(s) of {} bits (N = {}), output scale 2^{}, replies {}",
        a.common.data,
        a.common.width,
        q.blocks(),
        a.clip,
        (q.bound as f64).log2(),
        report.primes.len(),
        prime_bits.join(" + "),
        options.degree,
        q.output_scale_bits(),
        if options.sanitize {
            "sanitized"
        } else {
            "not sanitized"
        }
    )?;
    say!()?;
    say!(
        "| samples | BFV s (keys, encrypt, server, sanitize, decrypt; all primes) | budget before sanitizing (reserve) | after | outputs equal to the integer model | float {m} | integer {m} |",
        m = metric_name(net.task)
    )?;
    say!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")?;
    say!(
        "| {} | {seconds:.2} | {} bits ({}) | {} bits | {equal}/{} | {:.4} | {:.4} |",
        want.len(),
        report.budget_before,
        report.reserve,
        report.budget_after,
        want.len(),
        metric(net.decide(&float_out)),
        metric(net.decide(&int_out))
    )?;
    Ok(())
}
