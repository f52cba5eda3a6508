//! `veil ive bench|precision|fasttext`: private embedding lookup (veil-ive) over BFV and CKKS.
//!
//! `bench` times IVE and the one-hot baseline on random tables under the same 128-bit parameters
//! and prints a Markdown table (amortized time per lookup, single-query latency, ratio; under
//! CKKS also the worst output error). The one-hot vector is p identical equality tests: for large
//! p, `--onehot-rows` runs a sample of rows and scales the measured time by p / rows (marked
//! `est.`). `precision` compares the CKKS output error of the DCT basis with monomials at the same
//! nodes, in f64 and encrypted, with and without flooding. `fasttext` trains the
//! FastText-style spam classifier on the SMS Spam Collection, quantizes it and runs encrypted
//! inference with IVE lookups; it prints accuracy and F1 of the three models and where the
//! server's time went.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use veil_ive::ExactBasis;
use veil_ive::bfv::BfvClient;
use veil_ive::ckks::{CkksClient, CkksServer, ive_ckks_parameters, reply_scale};
use veil_ive::fasttext::encrypted::{FastTextServer, encrypted_scores, fasttext_parameters};
use veil_ive::fasttext::{
    FloatModel, TrainConfig, load_sms_spam, metrics, stratified_split, tokenize,
};
use veil_ive::measure::{Method, measure, preset_for, setup};

mod digits;
use digits::{DigitRun, bench_digits, report_digits};
use veil_ive::measure_ckks::{ErrorStats, ckks_setup, measure_ckks};
use veil_ive::power::PowerRule;

use crate::args::{positive, positive_real};
use crate::io::{CliError, CliResult};
use crate::progress::Progress;

/// The SMS Spam Collection, relative to the repository's parent (`../shared/data` of the README).
const DEFAULT_DATA: &str = "shared/data/sms-spam/spam.csv";

/// IVE commands.
#[derive(Subcommand)]
pub(crate) enum IveCommand {
    /// Times IVE against the one-hot baseline on random tables (amortized and single-query).
    Bench(BenchArgs),
    /// CKKS output precision against p: DCT basis vs monomials at the same nodes.
    Precision(PrecisionArgs),
    /// Encrypted FastText spam classification with IVE lookups on the SMS Spam Collection.
    Fasttext(FasttextArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemeArg {
    /// Exact lookups under BFV.
    Bfv,
    /// Approximate lookups under CKKS (DCT basis; one-hot: KPLC24's equality function).
    Ckks,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MethodArg {
    /// Power vector and change of basis.
    Ive,
    /// An equality test per row (BFV: Fermat; CKKS: KPLC24), then one-hot times E.
    Onehot,
    /// Both, side by side, with the ratio.
    Both,
}

/// `veil ive bench`.
#[derive(Args)]
pub(crate) struct BenchArgs {
    /// The scheme.
    #[arg(long, value_enum, default_value = "bfv")]
    scheme: SchemeArg,
    /// The lookup method.
    #[arg(long, value_enum, default_value = "both")]
    method: MethodArg,
    /// Table heights p (powers of two dividing t - 1 = 65536), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,64,256", value_parser = positive)]
    p: Vec<usize>,
    /// Embedding dimensions d, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16", value_parser = positive)]
    d: Vec<usize>,
    /// Ring degree N (BFV: 4096..32768, default 32768, the one-hot baseline's depth 16 needs it;
    /// CKKS: 16384..65536, default 65536, KPLC24's depth 17-29 needs it).
    #[arg(long)]
    n: Option<usize>,
    /// CKKS: log2 of the scale (rescaling primes of this size; 49 or 40).
    #[arg(long, default_value_t = 49)]
    log_scale: u32,
    /// One-hot rows actually evaluated when p is larger (time scaled by p / rows).
    #[arg(long, default_value_t = 16, value_parser = positive)]
    onehot_rows: usize,
    /// Seed of the random tables and indices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// BFV digit decomposition: digit counts K to compare (comma-separated; 1 = plain IVE on the
    /// same code path), each with the split of p that needs the fewest products and fits the
    /// depth. Replaces the IVE/one-hot table by a per-phase digit table.
    #[arg(long, value_delimiter = ',', value_parser = positive)]
    digits: Vec<usize>,
    /// Explicit digit sizes (inner first, e.g. 64,64) instead of the cheapest split; with
    /// --digits, used for the digit count equal to their number.
    #[arg(long, value_delimiter = ',', value_parser = positive)]
    split: Vec<usize>,
}

/// `veil ive precision`.
#[derive(Args)]
pub(crate) struct PrecisionArgs {
    /// Table heights p, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,64,256,1024", value_parser = positive)]
    p: Vec<usize>,
    /// Embedding dimension d.
    #[arg(long, default_value_t = 16, value_parser = positive)]
    d: usize,
    /// Ring degree N.
    #[arg(long, default_value_t = 32768)]
    n: usize,
    /// log2 of the scale, comma-separated (one table block each).
    #[arg(long, value_delimiter = ',', default_value = "49")]
    log_scale: Vec<u32>,
    /// Seed of the random tables and indices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// `veil ive fasttext`.
#[derive(Args)]
pub(crate) struct FasttextArgs {
    /// The SMS Spam Collection CSV (default: ../shared/data/sms-spam/spam.csv above the working
    /// directory or the executable).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Hash buckets p (table rows, bucket 0 is padding); a power of two up to 1024 with one
    /// digit, up to 65536 with --digits 2 or more.
    #[arg(long, default_value_t = 1024, value_parser = positive)]
    buckets: usize,
    /// Split the bucket index into this many digits (one query ciphertext each), with the split
    /// that needs the fewest products at the available depth (1: the single-digit lookup).
    #[arg(long, default_value_t = 1, value_parser = positive)]
    digits: usize,
    /// Explicit digit sizes (inner first, e.g. 256,256) instead of the cheapest split.
    #[arg(long, value_delimiter = ',', value_parser = positive)]
    split: Vec<usize>,
    /// With digits: fold the linear layer into the table (one column: the per-token score), so
    /// the lookup has d = 1 instead of d + 1.
    #[arg(long)]
    fold: bool,
    /// Embedding dimension d.
    #[arg(long, default_value_t = 16, value_parser = positive)]
    dim: usize,
    /// Training epochs.
    #[arg(long, default_value_t = 30, value_parser = positive)]
    epochs: usize,
    /// SGD learning rate.
    #[arg(long, default_value_t = 1.0, value_parser = positive_real)]
    lr: f64,
    /// Bits of the quantized embeddings and weights.
    #[arg(long, default_value_t = 8, value_parser = positive)]
    bits: usize,
    /// Seed of the split and the training.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Encrypt only the first MESSAGES test messages (all by default).
    #[arg(long, value_parser = positive)]
    limit: Option<usize>,
    /// Skip the timing of one one-hot row used for the one-hot share estimate.
    #[arg(long)]
    no_onehot_estimate: bool,
}

fn fail(msg: impl Into<String>) -> CliError {
    CliError::Input(msg.into())
}

fn ive_err(e: veil_ive::Error) -> CliError {
    CliError::Input(e.to_string())
}

pub(crate) fn run(cmd: IveCommand) -> CliResult<()> {
    match cmd {
        IveCommand::Bench(a) if a.scheme == SchemeArg::Ckks => bench_ckks(&a),
        IveCommand::Bench(a) if !a.digits.is_empty() => bench_digits(&a),
        IveCommand::Bench(a) => bench(&a),
        IveCommand::Precision(a) => precision(&a),
        IveCommand::Fasttext(a) => fasttext(&a),
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn bench(a: &BenchArgs) -> CliResult<()> {
    let n = a.n.unwrap_or(32768);
    let params = preset_for(n).map_err(ive_err)?;
    let progress = Progress::spinner();
    say!(
        "IVE over BFV, N = {}, t = {}, log Q = {}; amortized = latency / N lookups",
        n,
        params.plaintext_modulus(),
        params.ciphertext_context().modulus_bits()
    )?;
    say!()?;
    say!(
        "| p | d | method | vector gen. (s) | combination (s) | finishing (s) | latency (s) | CPU (s, rows run) | amortized (ms) | one-hot / IVE |"
    )?;
    say!("|---|---|---|---|---|---|---|---|---|---|")?;
    for &p in &a.p {
        progress.stage(&format!("keys for p = {p}"));
        let (client, server) = setup(&params, p).map_err(ive_err)?;
        for &d in &a.d {
            let mut ive_amortized = None;
            for &m in methods(a.method) {
                progress.stage(&format!("p = {p}, d = {d}, {m:?}"));
                let rows = (m == Method::OneHot && p > a.onehot_rows).then_some(a.onehot_rows);
                let r = measure(&client, &server, m, p, d, rows, a.seed).map_err(ive_err)?;
                let est = if r.rows_run < p {
                    format!(" (est. from {} rows)", r.rows_run)
                } else {
                    String::new()
                };
                let ratio = match (m, ive_amortized) {
                    (Method::OneHot, Some(i)) => format!("{:.1}x", r.amortized().as_secs_f64() / i),
                    _ => String::new(),
                };
                if m == Method::Ive {
                    ive_amortized = Some(r.amortized().as_secs_f64());
                }
                say!(
                    "| {p} | {d} | {}{est} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.3} | {ratio} |",
                    if m == Method::Ive { "IVE" } else { "one-hot" },
                    r.timings.vector_generation.as_secs_f64(),
                    r.timings.combination.as_secs_f64(),
                    r.timings.finishing.as_secs_f64(),
                    r.latency.as_secs_f64(),
                    r.cpu
                        .map_or("-".into(), |c| format!("{:.1}", c.as_secs_f64())),
                    ms(r.amortized()),
                )?;
            }
        }
    }
    progress.finish();
    Ok(())
}

fn methods(m: MethodArg) -> &'static [Method] {
    match m {
        MethodArg::Ive => &[Method::Ive],
        MethodArg::Onehot => &[Method::OneHot],
        MethodArg::Both => &[Method::Ive, Method::OneHot],
    }
}

fn bench_ckks(a: &BenchArgs) -> CliResult<()> {
    let n = a.n.unwrap_or(65536);
    let progress = Progress::spinner();
    progress.stage("CKKS keys");
    let (client, server) = ckks_setup(n, a.log_scale).map_err(ive_err)?;
    let params = client.parameters().clone();
    say!(
        "IVE over CKKS (DCT basis) vs KPLC24 one-hot, N = {n} ({} slots), scale 2^{}, {} levels, log QP = {}, reply scale 2^{:.0}, flooding std {}; amortized = latency / slots",
        params.slots(),
        params.log_scale(),
        params.max_level(),
        params.log_qp(),
        reply_scale(&params).log2(),
        server
            .flood_std()
            .map_or("off".into(), |s| format!("2^{:.0}", s.log2())),
    )?;
    say!()?;
    say!(
        "| p | d | method | vector gen. (s) | combination (s) | finishing (s) | latency (s) | CPU (s, rows run) | amortized (ms) | amortized CPU (ms) | max error / max abs(E) | one-hot / IVE (wall) | one-hot / IVE (CPU) |"
    )?;
    say!("|---|---|---|---|---|---|---|---|---|---|---|---|---|")?;
    for &p in &a.p {
        for &d in &a.d {
            let (mut ive_amortized, mut ive_cpu) = (None, None);
            for &m in methods(a.method) {
                progress.stage(&format!("p = {p}, d = {d}, {m:?}"));
                let rows = (m == Method::OneHot && p > a.onehot_rows).then_some(a.onehot_rows);
                let r = measure_ckks(&client, &server, m, p, d, rows, a.seed).map_err(ive_err)?;
                let cpu_amortized = r.cpu_latency.map(|c| c.as_secs_f64() / r.slots as f64);
                let cpu_ratio = match (m, ive_cpu, cpu_amortized) {
                    (Method::OneHot, Some(i), Some(o)) => format!("{:.1}x", o / i),
                    _ => String::new(),
                };
                if m == Method::Ive {
                    ive_cpu = cpu_amortized;
                }
                let name = match (m, r.rounds) {
                    (Method::OneHot, Some(k)) => format!(
                        "one-hot (r = {}, s = {}, depth {})",
                        k.squarings,
                        k.cleanses,
                        k.depth()
                    ),
                    _ => "IVE".into(),
                };
                let est = if r.rows_run < p {
                    format!(" est. from {} rows", r.rows_run)
                } else {
                    String::new()
                };
                let ratio = match (m, ive_amortized) {
                    (Method::OneHot, Some(i)) => format!("{:.1}x", r.amortized().as_secs_f64() / i),
                    _ => String::new(),
                };
                if m == Method::Ive {
                    ive_amortized = Some(r.amortized().as_secs_f64());
                }
                say!(
                    "| {p} | {d} | {name}{est} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.4} | {} | 2^{:.1} | {ratio} | {cpu_ratio} |",
                    r.timings.vector_generation.as_secs_f64(),
                    r.timings.combination.as_secs_f64(),
                    r.timings.finishing.as_secs_f64(),
                    r.latency.as_secs_f64(),
                    r.cpu
                        .map_or("-".into(), |c| format!("{:.1}", c.as_secs_f64())),
                    ms(r.amortized()),
                    cpu_amortized.map_or("-".into(), |c| format!("{:.4}", c * 1e3)),
                    r.error.max.log2(),
                )?;
            }
        }
    }
    progress.finish();
    Ok(())
}

fn precision(a: &PrecisionArgs) -> CliResult<()> {
    let progress = Progress::spinner();
    say!(
        "CKKS IVE precision, N = {}, d = {}, random tables uniform in [-1, 1], a random index in every slot; errors relative to max abs(E), as log2 (max / mean)",
        a.n,
        a.d
    )?;
    for &log_scale in &a.log_scale {
        progress.stage(&format!("keys, scale 2^{log_scale}"));
        let params = ive_ckks_parameters(a.n, log_scale).map_err(ive_err)?;
        let client = CkksClient::generate(&params).map_err(ive_err)?;
        let key = || -> CliResult<_> {
            Ok((
                client.public_key().map_err(ive_err)?,
                client.relinearization_key().map_err(ive_err)?,
            ))
        };
        let (pk, rk) = key()?;
        let plain = CkksServer::new(pk, rk, &params).without_circuit_privacy();
        let (pk, rk) = key()?;
        let flooded = CkksServer::new(pk, rk, &params);
        say!()?;
        say!(
            "scale 2^{log_scale}: {} levels, log QP = {}, reply scale 2^{:.0}, flooding std 2^{:.0} per slot",
            params.max_level(),
            params.log_qp(),
            reply_scale(&params).log2(),
            flooded.flood_std().unwrap_or(0.0).log2()
        )?;
        say!()?;
        say!(
            "| p | basis | largest abs(M) | f64, no encryption | encrypted | encrypted + flooding | meets 2^-12? |"
        )?;
        say!("|---|---|---|---|---|---|---|")?;
        let show = |e: &ErrorStats| {
            if e.max.is_finite() && e.mean.is_finite() {
                format!("{:.1} / {:.1}", e.max.log2(), e.mean.log2())
            } else {
                "overflow (f64)".into()
            }
        };
        for &p in &a.p {
            for rule in [PowerRule::Chebyshev, PowerRule::Monomial] {
                progress.stage(&format!("scale 2^{log_scale}, p = {p}, {rule:?}"));
                let row = veil_ive::measure_ckks::precision(&client, &plain, rule, p, a.d, a.seed)
                    .map_err(ive_err)?;
                let encrypted = match &row.encrypted {
                    Ok(e) => show(e),
                    Err(why) => format!("not evaluable: {why}"),
                };
                let (floods, meets) = if rule == PowerRule::Chebyshev && row.encrypted.is_ok() {
                    let f =
                        veil_ive::measure_ckks::precision(&client, &flooded, rule, p, a.d, a.seed)
                            .map_err(ive_err)?;
                    let meets = f.encrypted.as_ref().is_ok_and(|e| e.max <= 2f64.powi(-12));
                    (
                        f.encrypted.as_ref().map_or("-".into(), show),
                        if meets { "yes" } else { "no" },
                    )
                } else {
                    (
                        "-".into(),
                        if row
                            .encrypted
                            .as_ref()
                            .is_ok_and(|e| e.max <= 2f64.powi(-12))
                        {
                            "yes (unflooded)"
                        } else {
                            "no"
                        },
                    )
                };
                say!(
                    "| {p} | {} | {} | {} | {encrypted} | {floods} | {meets} |",
                    match rule {
                        PowerRule::Chebyshev => "DCT (Chebyshev)",
                        PowerRule::Monomial => "monomials",
                    },
                    if row.largest_coefficient.is_finite() {
                        format!("2^{:.1}", row.largest_coefficient.log2())
                    } else {
                        "overflow (f64)".into()
                    },
                    show(&row.plaintext),
                )?;
            }
        }
    }
    progress.finish();
    Ok(())
}

fn default_data() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok();
    let exe = std::env::current_exe().ok();
    [cwd, exe]
        .into_iter()
        .flatten()
        .flat_map(|start| {
            start
                .ancestors()
                .map(|a| a.join(DEFAULT_DATA))
                .collect::<Vec<_>>()
        })
        .find(|p| p.exists())
}

fn fasttext(a: &FasttextArgs) -> CliResult<()> {
    let path = match &a.data {
        Some(p) => p.clone(),
        None => default_data().ok_or_else(|| {
            fail(format!(
                "no {DEFAULT_DATA} above the working directory or veil: pass --data PATH"
            ))
        })?,
    };
    let use_digits = a.digits > 1 || !a.split.is_empty() || a.fold;
    let max_buckets = if use_digits { 65536 } else { 1024 };
    if !a.buckets.is_power_of_two() || a.buckets > max_buckets || a.buckets < 4 {
        return Err(fail(
            "--buckets must be a power of two in 4..=1024, or up to 65536 with --digits 2 or more (the lookup depth grows with log2 p)",
        ));
    }
    let bits = u32::try_from(a.bits)
        .ok()
        .filter(|b| (2..=16).contains(b))
        .ok_or_else(|| fail("--bits must be in 2..=16"))?;
    let progress = Progress::spinner();
    progress.stage("loading and training");
    let messages = load_sms_spam(&path).map_err(ive_err)?;
    let (train, test) = stratified_split(&messages, 0.2, a.seed);
    let examples = |idx: &[usize]| -> Vec<(Vec<usize>, bool)> {
        idx.iter()
            .filter_map(|&i| messages.get(i))
            .map(|m| (tokenize(&m.text, a.buckets), m.spam))
            .collect()
    };
    let (train_ex, mut test_ex) = (examples(&train), examples(&test));
    if let Some(limit) = a.limit {
        test_ex.truncate(limit);
    }
    let cfg = TrainConfig {
        buckets: a.buckets,
        dim: a.dim,
        epochs: a.epochs,
        learning_rate: a.lr as f32,
        seed: a.seed,
    };
    let start = Instant::now();
    let model = FloatModel::train(&train_ex, &cfg).map_err(ive_err)?;
    let train_time = start.elapsed();
    let quantized = model.quantize(bits);
    let actual: Vec<bool> = test_ex.iter().map(|e| e.1).collect();
    let float_pred: Vec<bool> = test_ex.iter().map(|e| model.logit(&e.0) > 0.0).collect();
    let quant_scores: Vec<i64> = test_ex.iter().map(|e| quantized.score(&e.0)).collect();
    let quant_pred: Vec<bool> = quant_scores.iter().map(|&z| z > 0).collect();

    progress.stage("keys and table");
    let params = fasttext_parameters(&quantized).map_err(ive_err)?;
    let client = BfvClient::generate(&params).map_err(ive_err)?;
    if use_digits {
        let tokens: Vec<Vec<usize>> = test_ex.iter().map(|e| e.0.clone()).collect();
        let run = DigitRun {
            a,
            client: &client,
            quantized: &quantized,
            tokens: &tokens,
            progress: &progress,
        };
        let (enc_scores, timings, sizes, wall) = run.scores()?;
        progress.finish();
        let exact = enc_scores == quant_scores;
        let enc_pred: Vec<bool> = enc_scores.iter().map(|&z| z > 0).collect();
        say!(
            "SMS Spam Collection: {} messages, train {}, test {} (stratified 80/20, seed {})",
            messages.len(),
            train_ex.len(),
            test_ex.len(),
            a.seed
        )?;
        say!(
            "model: p = {} buckets (words and bigrams, hashed), d = {}, {} epochs, trained in {:.1} s; {}-bit quantization",
            a.buckets,
            a.dim,
            a.epochs,
            train_time.as_secs_f64(),
            bits
        )?;
        return report_digits(
            &client,
            &quantized,
            &sizes,
            a,
            [
                ("float", metrics(&float_pred, &actual)),
                ("quantized", metrics(&quant_pred, &actual)),
                ("encrypted (IVE digits, BFV)", metrics(&enc_pred, &actual)),
            ],
            exact,
            &timings,
            wall,
        );
    }
    let basis = ExactBasis::roots_of_unity(a.buckets, params.plaintext()).map_err(ive_err)?;
    let server = FastTextServer::new(&client, &quantized, &basis).map_err(ive_err)?;
    let tokens: Vec<Vec<usize>> = test_ex.iter().map(|e| e.0.clone()).collect();
    let start = Instant::now();
    let (enc_scores, timings) =
        encrypted_scores(&client, &server, &basis, &tokens, |done, total| {
            progress.stage(&format!(
                "encrypted inference: query ciphertext {done}/{total}"
            ));
        })
        .map_err(ive_err)?;
    let wall = start.elapsed();
    let exact = enc_scores == quant_scores;
    let enc_pred: Vec<bool> = enc_scores.iter().map(|&z| z > 0).collect();

    let onehot_row = if a.no_onehot_estimate {
        None
    } else {
        progress.stage("one one-hot row (equality test) at N = 32768, t = 65537, for the estimate");
        let p16 = preset_for(32768).map_err(ive_err)?;
        let (c, s) = setup(&p16, 2).map_err(ive_err)?;
        Some(
            measure(&c, &s, Method::OneHot, 2, 1, Some(1), a.seed)
                .map_err(ive_err)?
                .timings
                .vector_generation,
        )
    };
    progress.finish();

    say!(
        "SMS Spam Collection: {} messages, train {}, test {} (stratified 80/20, seed {})",
        messages.len(),
        train_ex.len(),
        test_ex.len(),
        a.seed
    )?;
    say!(
        "model: p = {} buckets (words and bigrams, hashed), d = {}, {} epochs, trained in {:.1} s; {}-bit quantization",
        a.buckets,
        a.dim,
        a.epochs,
        train_time.as_secs_f64(),
        bits
    )?;
    say!(
        "BFV: N = {}, t = {} ({} bits, |z_q| <= {} < t/2), log Q = {}",
        params.degree(),
        params.plaintext_modulus(),
        64 - params.plaintext_modulus().leading_zeros(),
        quantized.score_bound(veil_ive::fasttext::MAX_TOKENS),
        params.ciphertext_context().modulus_bits()
    )?;
    say!()?;
    say!("| model | accuracy | F1 (spam) |")?;
    say!("|---|---|---|")?;
    for (name, pred) in [
        ("float", &float_pred),
        ("quantized", &quant_pred),
        ("encrypted (IVE, BFV)", &enc_pred),
    ] {
        let m = metrics(pred, &actual);
        say!("| {name} | {:.4} | {:.4} |", m.accuracy, m.f1)?;
    }
    say!()?;
    say!(
        "encrypted scores equal the quantized model's exactly: {}",
        if exact { "yes" } else { "NO" }
    )?;
    let total = timings.total().as_secs_f64();
    say!(
        "server time: {:.1} s for {} query ciphertexts ({} messages, wall {:.1} s with client work): vector generation {:.1} s ({:.1}%), change of basis {:.1} s, linear layer + sums + mask + flooding {:.1} s",
        total,
        timings.queries,
        test_ex.len(),
        wall.as_secs_f64(),
        timings.vector_generation.as_secs_f64(),
        100.0 * timings.generation_share(),
        timings.combination.as_secs_f64(),
        timings.rest.as_secs_f64()
    )?;
    if let Some(row) = onehot_row {
        let generation = row.as_secs_f64() * a.buckets as f64 * timings.queries as f64;
        let rest = total - timings.vector_generation.as_secs_f64();
        say!(
            "one-hot estimate: one equality test {:.2} s (N = 32768, t = 65537: depth 16; at this t it would need depth {} and does not fit) x p = {} x {} queries = {:.0} s of vector generation: share {:.1}% (a lower bound)",
            row.as_secs_f64(),
            64 - (params.plaintext_modulus() - 1).leading_zeros(),
            a.buckets,
            timings.queries,
            generation,
            100.0 * generation / (generation + rest)
        )?;
    }
    if !exact {
        return Err(CliError::Check(
            "encrypted scores differ from the quantized model",
        ));
    }
    Ok(())
}
