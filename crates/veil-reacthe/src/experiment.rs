//! The experiments of `docs/reacthe.md`: the comparison of architectures over depths (seeded
//! repeats) and an encrypted run of the test set with its timings and errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use veil_ckks::{Ciphertext, CkksParameters};

use crate::data::{Dataset, Task};
use crate::encrypted::{Client, Server};
use crate::error::{Error, Result};
use crate::model::{Activation, Architecture, Network};
use crate::train::{TrainConfig, mean_std, repeated};

/// The bundled scikit-learn datasets by name.
pub const DATASETS: [&str; 3] = ["breast_cancer", "diabetes", "digits"];

/// Resolves a dataset name (see [`DATASETS`]) or a CSV path: names are looked up in
/// `$VEIL_DATA/sklearn`, `../shared/data/sklearn` and `shared/data/sklearn` (relative to the
/// working directory), then next to the repository this crate was built in.
pub fn resolve_data(name: &str) -> Option<PathBuf> {
    let direct = Path::new(name);
    if direct.is_file() {
        return Some(direct.to_path_buf());
    }
    if !DATASETS.contains(&name) {
        return None;
    }
    let file = format!("{name}.csv");
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("VEIL_DATA") {
        roots.push(PathBuf::from(d).join("sklearn"));
    }
    roots.push(PathBuf::from("../shared/data/sklearn"));
    roots.push(PathBuf::from("shared/data/sklearn"));
    roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sklearn"));
    roots
        .into_iter()
        .map(|r| r.join(&file))
        .find(|p| p.is_file())
}

/// The architectures compared at one depth and width.
pub fn contenders(width: usize, depth: usize, alpha: f64) -> Vec<(&'static str, Architecture)> {
    vec![
        (
            "ReActHE (residual, z+a z^2)",
            Architecture::reacthe(width, depth, alpha),
        ),
        (
            "plain z+a z^2 (no residual)",
            Architecture::plain(width, depth, Activation::Power { alpha, power: 2 }),
        ),
        (
            "ReLU MLP",
            Architecture::plain(width, depth, Activation::Relu),
        ),
        (
            "square (CryptoNets)",
            Architecture::plain(width, depth, Activation::Square),
        ),
        (
            "LS ReLU deg 2 on [-4,4]",
            Architecture::plain(width, depth, Activation::relu_least_squares(4.0)),
        ),
    ]
}

/// One row of the depth table.
#[derive(Clone, Debug)]
pub struct DepthRow {
    /// Architecture label.
    pub name: &'static str,
    /// Hidden activated layers.
    pub depth: usize,
    /// Mean and standard deviation of the test score over the repeats.
    pub score: (f64, f64),
    /// Repeats whose training diverged (non-finite loss).
    pub diverged: usize,
    /// Mean epochs trained.
    pub epochs: f64,
}

/// Trains every contender at every depth with `repeats` seeded splits.
pub fn depth_table(
    data: &Dataset,
    width: usize,
    depths: &[usize],
    alpha: f64,
    config: &TrainConfig,
    repeats: usize,
    mut progress: impl FnMut(&str),
) -> Result<Vec<DepthRow>> {
    let mut rows = Vec::new();
    for &depth in depths {
        for (name, arch) in contenders(width, depth, alpha) {
            progress(&format!("{name}, depth {depth}"));
            let runs = repeated(arch, data, config, repeats)?;
            let scores: Vec<f64> = runs.iter().map(|r| r.score).collect();
            rows.push(DepthRow {
                name,
                depth,
                score: mean_std(&scores),
                diverged: runs.iter().filter(|r| r.diverged).count(),
                epochs: runs.iter().map(|r| r.epochs as f64).sum::<f64>()
                    / runs.len().max(1) as f64,
            });
        }
    }
    Ok(rows)
}

/// CPU seconds (user + system, all threads) this process has used so far, from `/proc/self/stat`
/// (Linux; `None` elsewhere). Assumes the usual 100 clock ticks per second.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// What sanitization did in one encrypted run.
#[derive(Clone, Debug)]
pub struct SanitizeReport {
    /// Statistical security asked for: distance 2^-bits between replies of two computations
    /// with the same outputs, when the calibrated error bound holds.
    pub security_bits: u32,
    /// log2 of the largest coefficient error of the raw outputs, measured with the key.
    pub measured_error_bits: u32,
    /// The `error_bits` given to the library: measured + 1 (margin) + security_bits - 40.
    pub error_bits: u32,
    /// log2 of the flooding bound B.
    pub flooding_bits: u32,
    /// The replies' level (the lowest whose modulus holds the flooding).
    pub reply_level: usize,
    /// The estimated slot error the flooding adds: B sqrt(N / 3) / scale (output units).
    pub estimated_slot_error: f64,
    /// Seconds the server spent sanitizing.
    pub seconds: f64,
}

/// The lowest level whose modulus holds flooding of 2^`flooding_bits` (with the library's two
/// bits of room): where a sanitized reply can stay.
pub fn reply_level(params: &CkksParameters, flooding_bits: u32) -> Option<usize> {
    let mut bits = 0.0;
    for (level, q) in params.moduli().iter().enumerate() {
        bits += (*q as f64).log2();
        if bits > f64::from(flooding_bits) + 3.0 {
            return Some(level);
        }
    }
    None
}

/// What one encrypted run of a test set measured.
#[derive(Clone, Debug)]
pub struct InferReport {
    /// Samples.
    pub samples: usize,
    /// Ciphertext batches (N/2 samples each).
    pub batches: usize,
    /// Seconds: key generation, encryption, server evaluation, decryption.
    pub seconds: [f64; 4],
    /// CPU seconds of the server's evaluation (all threads), when measurable.
    pub server_cpu: Option<f64>,
    /// Max and mean |encrypted - float| over all outputs.
    pub error: (f64, f64),
    /// Decisions (class) that differ from the float model's; regression: 0.
    pub flipped: usize,
    /// Float and encrypted test score (accuracy or RMSE).
    pub score: (f64, f64),
    /// Levels consumed and available.
    pub levels: (usize, usize),
    /// Sanitization, when asked for.
    pub sanitize: Option<SanitizeReport>,
}

/// Encrypts the standardised `test` features, evaluates `net` as the server, decrypts, and
/// compares with the float model. With `security_bits` = Some(k), the replies are sanitized by
/// the library for statistical distance 2^-k: the computation's error bound is calibrated on
/// the raw outputs with the client's key ([`Client::reply_error_bits_vartime`], plus one bit),
/// which stands in for the noise model a deployed server would need; the client encrypts
/// enough levels above the circuit for the flooding to fit (assuming the error stays below the
/// scale).
pub fn encrypted_run(
    net: &Network,
    test: &Dataset,
    params: &Arc<CkksParameters>,
    security_bits: Option<u32>,
) -> Result<InferReport> {
    let t = Instant::now();
    let client = Client::new(params)?;
    let keygen = t.elapsed().as_secs_f64();
    let x = net.standardizer.transform(&test.x);
    let want = net.forward_standardized(&x);
    let depth = crate::encrypted::depth_needed(net)?;
    let spare = match security_bits {
        None => 0,
        Some(k) => {
            let worst = (params.log_scale() + 1 + k).saturating_sub(40);
            reply_level(params, veil_ckks::flooding_bits(params.degree(), worst)).ok_or(
                Error::Config {
                    reason: "the chain cannot hold the flooding at any level".into(),
                },
            )?
        }
    };
    let server = Server::new(net, client.relinearization_key())?;
    let capacity = client.batch_capacity();
    let mut got = ndarray::Array2::zeros(want.raw_dim());
    let (mut enc, mut eval, mut dec, mut sanitizing) = (0.0, 0.0, 0.0, 0.0);
    let mut server_cpu = Some(0.0);
    let mut batches = 0;
    let mut sanitize = None;
    for start in (0..x.nrows()).step_by(capacity.max(1)) {
        let end = (start + capacity).min(x.nrows());
        let range = ndarray::Slice::from(start..end);
        let chunk = x.slice_axis(ndarray::Axis(0), range).to_owned();
        let t = Instant::now();
        let cts = client.encrypt_batch_at(&chunk, depth + spare)?;
        enc += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let cpu = process_cpu_seconds();
        let raw = server.evaluate_raw(&cts)?;
        eval += t.elapsed().as_secs_f64();
        let reply = match security_bits {
            None => {
                let t = Instant::now();
                let reply = server.finish(raw)?;
                eval += t.elapsed().as_secs_f64();
                reply
            }
            Some(k) => {
                // Every slot: the batch's rows, then the outputs at x = 0 (the zero padding).
                let at_zero = net.forward_standardized(&ndarray::Array2::zeros((1, x.ncols())));
                let mut expected = ndarray::Array2::zeros((capacity, want.ncols()));
                for (i, mut row) in expected.rows_mut().into_iter().enumerate() {
                    if i < end - start {
                        row.assign(&want.row(start + i));
                    } else {
                        row.assign(&at_zero.row(0));
                    }
                }
                let measured = client.reply_error_bits_vartime(&raw, &expected)?;
                let error_bits = (measured + 1 + k).saturating_sub(40);
                let t = Instant::now();
                let reply = Server::new(net, client.relinearization_key())?
                    .with_sanitization(client.public_key(), error_bits)
                    .finish(raw)?;
                sanitizing += t.elapsed().as_secs_f64();
                let flooding_bits = veil_ckks::flooding_bits(params.degree(), error_bits);
                let scale = reply.first().map_or(params.scale(), Ciphertext::scale);
                sanitize = Some(SanitizeReport {
                    security_bits: k,
                    measured_error_bits: measured,
                    error_bits,
                    flooding_bits,
                    reply_level: reply.first().map_or(0, Ciphertext::level),
                    estimated_slot_error: 2f64.powi(flooding_bits as i32)
                        * (params.degree() as f64 / 3.0).sqrt()
                        / scale,
                    seconds: sanitizing,
                });
                reply
            }
        };
        server_cpu = match (server_cpu, cpu, process_cpu_seconds()) {
            (Some(acc), Some(a), Some(b)) => Some(acc + b - a),
            _ => None,
        };
        let t = Instant::now();
        let out = client.decrypt_outputs(&reply, end - start)?;
        dec += t.elapsed().as_secs_f64();
        got.slice_axis_mut(ndarray::Axis(0), range).assign(&out);
        batches += 1;
    }
    if batches == 0 {
        return Err(Error::Config {
            reason: "empty test set".into(),
        });
    }
    let diff = (&got - &want).mapv(f64::abs);
    let max = diff.fold(0.0f64, |a, &b| a.max(b));
    let mean = diff.mean().unwrap_or(0.0);
    let float_pred = net.decide(&want);
    let enc_pred = net.decide(&got);
    let flipped = match net.task {
        Task::Regression => 0,
        _ => float_pred
            .iter()
            .zip(&enc_pred)
            .filter(|(a, b)| a != b)
            .count(),
    };
    let metric = |pred: &[f64]| match net.task {
        Task::Regression => (pred
            .iter()
            .zip(&test.y)
            .map(|(p, y)| (p - y).powi(2))
            .sum::<f64>()
            / test.len().max(1) as f64)
            .sqrt(),
        _ => {
            pred.iter().zip(&test.y).filter(|(p, y)| p == y).count() as f64
                / test.len().max(1) as f64
        }
    };
    Ok(InferReport {
        samples: x.nrows(),
        batches,
        seconds: [keygen, enc, eval, dec],
        server_cpu,
        error: (max, mean),
        flipped,
        score: (metric(&float_pred), metric(&enc_pred)),
        levels: (depth + spare, params.max_level()),
        sanitize,
    })
}
