//! Timed and checked CKKS lookups on random real tables, shared by `veil ive bench --scheme ckks`,
//! `veil ive precision` and the criterion bench: one query ciphertext with a random index in every
//! slot, the output compared with the table slot by slot.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use veil_ckks::CkksParameters;

use crate::ckks::{CkksClient, CkksServer, ive_ckks_parameters};
use crate::dct::{
    RealTable, chebyshev_node, evaluate_chebyshev_series, evaluate_monomial_series,
    monomial_coefficients,
};
use crate::eef::{EefRounds, eef_one_hot_lookup};
use crate::error::{Error, Result};
use crate::lookup::{IveTable, LookupTimings};
use crate::measure::{Method, process_cpu_time};
use crate::power::PowerRule;
use crate::scheme::{CiphertextCodec, IveClient, IveScheme};

/// A random p x d table with entries uniform in [-1, 1], from `seed`.
pub fn random_real_table(p: usize, d: usize, seed: u64) -> Result<RealTable> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let rows: Vec<Vec<f64>> = (0..p)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0..=1.0)).collect())
        .collect();
    RealTable::new(&rows)
}

/// Keys and a server for the IVE parameters of degree `n` and scale 2^`log_scale`
/// ([`ive_ckks_parameters`]); the client encrypts its queries at the top level.
pub fn ckks_setup(n: usize, log_scale: u32) -> Result<(CkksClient, CkksServer)> {
    let params: Arc<CkksParameters> = ive_ckks_parameters(n, log_scale)?;
    let client = CkksClient::generate(&params)?;
    let server = CkksServer::new(client.public_key()?, client.relinearization_key()?, &params);
    Ok((client, server))
}

/// Errors of a decrypted lookup against the table, relative to max |E|.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ErrorStats {
    /// Largest |output - E\[i\]\[j\]| / max |E| over every slot and column.
    pub max: f64,
    /// Mean of the same.
    pub mean: f64,
}

impl ErrorStats {
    /// -log2 of the largest relative error (bits of precision of the worst output).
    pub fn bits(&self) -> f64 {
        -self.max.log2()
    }
}

/// The errors of `columns` (decrypted by `client`) against the rows `indices[s]` of `table`,
/// over the first `indices.len()` slots; only the first `rows` rows of the table contribute
/// (a one-hot sample) when `rows` < p.
pub fn lookup_errors(
    client: &CkksClient,
    columns: &[veil_ckks::Ciphertext],
    table: &RealTable,
    indices: &[usize],
    rows: usize,
) -> Result<ErrorStats> {
    let scale = table.max_abs().max(f64::MIN_POSITIVE);
    let (mut max, mut sum, mut count) = (0f64, 0f64, 0usize);
    for (j, c) in columns.iter().enumerate() {
        let got = client.decrypt(c)?;
        for (s, &i) in indices.iter().enumerate() {
            let want = if i < rows {
                table.row(i).and_then(|r| r.get(j)).copied().unwrap_or(0.0)
            } else {
                0.0
            };
            let err = (got.get(s).copied().unwrap_or(f64::NAN) - want).abs() / scale;
            max = max.max(if err.is_nan() { f64::INFINITY } else { err });
            sum += err;
            count += 1;
        }
    }
    Ok(ErrorStats {
        max,
        mean: sum / count.max(1) as f64,
    })
}

/// The result of one timed CKKS lookup.
#[derive(Clone, Debug)]
pub struct CkksMeasurement {
    /// Slots (= lookups per query ciphertext), N/2.
    pub slots: usize,
    /// Table rows p.
    pub p: usize,
    /// Embedding dimension d.
    pub d: usize,
    /// One-hot rows evaluated (p, or a sample).
    pub rows_run: usize,
    /// Time of each part for the rows run.
    pub timings: LookupTimings,
    /// Process CPU time (all threads) during the lookup, when available.
    pub cpu: Option<Duration>,
    /// Estimated time of the whole lookup (one-hot samples scaled by p / rows, as for BFV).
    pub latency: Duration,
    /// `cpu` scaled the same way (the CPU time of the whole lookup, estimated for a sample).
    pub cpu_latency: Option<Duration>,
    /// Output errors relative to max |E| (after flooding, if the server floods).
    pub error: ErrorStats,
    /// KPLC24 rounds (one-hot only).
    pub rounds: Option<EefRounds>,
}

impl CkksMeasurement {
    /// Latency divided by the slots of one query.
    pub fn amortized(&self) -> Duration {
        self.latency / self.slots as u32
    }
}

/// One timed lookup of a random index per slot in a random p x d table in [-1, 1]: IVE with the
/// DCT basis, or KPLC24's one-hot (on the first `one_hot_rows` rows when given, time scaled by
/// p / rows; indices are then drawn among those rows so that the output is still checked).
pub fn measure_ckks(
    client: &CkksClient,
    server: &CkksServer,
    method: Method,
    p: usize,
    d: usize,
    one_hot_rows: Option<usize>,
    seed: u64,
) -> Result<CkksMeasurement> {
    let slots = server.slots();
    let table = random_real_table(p, d, seed)?;
    let rows = match method {
        Method::Ive => p,
        Method::OneHot => one_hot_rows.unwrap_or(p).clamp(1, p),
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
    let indices: Vec<usize> = (0..slots).map(|_| rng.random_range(0..rows)).collect();
    let cpu_start = process_cpu_time();
    let (columns, timings, rounds) = match method {
        Method::Ive => {
            let prepared = IveTable::dct(&table)?;
            let nodes = indices
                .iter()
                .map(|&i| chebyshev_node(i, p))
                .collect::<Result<Vec<_>>>()?;
            let x = client.encrypt(&nodes)?;
            let (cols, t) = prepared.lookup(server, &x)?;
            (cols, t, None)
        }
        Method::OneHot => {
            let scale_bits = client.parameters().log_scale();
            let rounds = EefRounds::kplc24(p, scale_bits)?;
            let values: Vec<f64> = indices.iter().map(|&i| i as f64).collect();
            let x = client.encrypt(&values)?;
            let (cols, mut t) = eef_one_hot_lookup(server, &table, rows, &x, rounds)?;
            let start = Instant::now();
            let cols = cols
                .iter()
                .map(|c| server.finish_reply(c))
                .collect::<Result<Vec<_>>>()?;
            t.finishing = start.elapsed();
            (cols, t, Some(rounds))
        }
    };
    let cpu = process_cpu_time()
        .zip(cpu_start)
        .map(|(b, a)| b.saturating_sub(a));
    let error = lookup_errors(client, &columns, &table, &indices, rows)?;
    let latency = if rows == p {
        timings.total()
    } else {
        let scale = p as f64 / rows as f64;
        timings.vector_generation.mul_f64(scale)
            + timings.combination.mul_f64(scale)
            + timings.finishing
    };
    let total = timings.total().as_secs_f64().max(1e-9);
    let cpu_latency = cpu.map(|c| c.mul_f64(latency.as_secs_f64() / total));
    Ok(CkksMeasurement {
        cpu_latency,
        slots,
        p,
        d,
        rows_run: rows,
        timings,
        cpu,
        latency,
        error,
        rounds,
    })
}

/// One row of the precision comparison: the DCT basis or monomials at the same nodes.
#[derive(Clone, Debug)]
pub struct PrecisionRow {
    /// Table rows p.
    pub p: usize,
    /// The power rule (Chebyshev: DCT basis; Monomial: Vandermonde at the Chebyshev nodes).
    pub rule: PowerRule,
    /// Largest |M\[j\]\[k\]|.
    pub largest_coefficient: f64,
    /// The error of M computed in f64 and applied in f64 (no encryption): conditioning alone.
    pub plaintext: ErrorStats,
    /// The error of the encrypted lookup, or why it could not run.
    pub encrypted: core::result::Result<ErrorStats, String>,
}

/// The precision of IVE for a random p x d table in [-1, 1] with `rule` (module docs): in f64
/// and encrypted, with every slot holding a random index.
pub fn precision(
    client: &CkksClient,
    server: &CkksServer,
    rule: PowerRule,
    p: usize,
    d: usize,
    seed: u64,
) -> Result<PrecisionRow> {
    let table = random_real_table(p, d, seed)?;
    let prepared = match rule {
        PowerRule::Chebyshev => IveTable::dct(&table)?,
        PowerRule::Monomial => {
            IveTable::from_coefficients(monomial_coefficients(&table)?, PowerRule::Monomial)?
        }
    };
    let largest_coefficient = prepared.coefficients().iter().flatten().fold(0f64, |m, c| {
        if c.is_finite() {
            m.max(c.abs())
        } else {
            f64::INFINITY
        }
    });
    // Plaintext: every node, every column.
    let scale = table.max_abs().max(f64::MIN_POSITIVE);
    let (mut max, mut sum) = (0f64, 0f64);
    for i in 0..p {
        let x = chebyshev_node(i, p)?;
        for (j, m) in prepared.coefficients().iter().enumerate() {
            let got = match rule {
                PowerRule::Chebyshev => evaluate_chebyshev_series(m, x),
                PowerRule::Monomial => evaluate_monomial_series(m, x),
            };
            let want = table.row(i).and_then(|r| r.get(j)).copied().unwrap_or(0.0);
            let err = (got - want).abs() / scale;
            max = max.max(err);
            sum += err;
        }
    }
    let plaintext = ErrorStats {
        max,
        mean: sum / (p * d) as f64,
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
    let indices: Vec<usize> = (0..server.slots())
        .map(|_| rng.random_range(0..p))
        .collect();
    let nodes = indices
        .iter()
        .map(|&i| chebyshev_node(i, p))
        .collect::<Result<Vec<_>>>()?;
    let x = client.encrypt(&nodes)?;
    let encrypted = match prepared.lookup(server, &x) {
        Ok((cols, _)) => Ok(lookup_errors(client, &cols, &table, &indices, p)?),
        Err(e @ (Error::Ckks(_) | Error::InsufficientModulus { .. })) => Err(e.to_string()),
        Err(e) => return Err(e),
    };
    Ok(PrecisionRow {
        p,
        rule,
        largest_coefficient,
        plaintext,
        encrypted,
    })
}
