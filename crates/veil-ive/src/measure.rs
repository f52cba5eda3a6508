//! Timed lookups on random tables, shared by the `veil ive bench` command and the criterion
//! bench: one query ciphertext full of random indices, the output checked against the table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use veil_bfv::{BfvParameters, Preset};

use crate::bfv::{BfvClient, BfvServer, NoiseModel, ive_parameters};
use crate::error::{Error, Result};
use crate::lookup::{IveTable, LookupTimings};
use crate::onehot::one_hot_lookup;
use crate::scheme::{CiphertextCodec, IveClient, IveScheme};
use crate::table::{EmbeddingTable, ExactBasis};

/// Which lookup to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Power vector and change of basis.
    Ive,
    /// An equality test per row (Fermat), then the one-hot vector times E.
    OneHot,
}

/// The result of one timed lookup.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Ring degree N (= lookups per query ciphertext).
    pub n: usize,
    /// Table rows p.
    pub p: usize,
    /// Embedding dimension d.
    pub d: usize,
    /// Rows of the one-hot vector actually evaluated (all p, or a sample: see `rows_run`).
    pub rows_run: usize,
    /// Time of each part for the rows run.
    pub timings: LookupTimings,
    /// CPU time of the process (all threads) during the lookup, when the platform reports it
    /// (Linux `/proc/self/stat`): on a shared machine wall time overstates the cost.
    pub cpu: Option<Duration>,
    /// Estimated time of the whole lookup (equal to `timings.total()` when all rows ran; for a
    /// one-hot sample, the per-row vector time times p plus the measured rest).
    pub latency: Duration,
}

impl Measurement {
    /// Latency divided by the N lookups of one query.
    pub fn amortized(&self) -> Duration {
        self.latency / self.n as u32
    }
}

/// CPU time (user + system, all threads) of this process so far, from `/proc/self/stat`
/// (Linux; `None` elsewhere). Assumes the usual 100 clock ticks per second.
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time of all this process's live threads (nanosecond resolution), the sum of the first
/// field of `/proc/self/task/*/schedstat` (Linux; `None` elsewhere). Threads that already ended
/// are not counted (rayon's pool lives as long as the process); differences of two readings give
/// the CPU time of a phase run in between.
pub fn threads_cpu_time() -> Option<Duration> {
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        // A thread may end between the listing and the read: skip it.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        total += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(Duration::from_nanos(total))
}

/// The 128-bit preset of ring degree `n` with t = 65537.
pub fn preset_for(n: usize) -> Result<Arc<BfvParameters>> {
    let preset = match n {
        4096 => Preset::N4096,
        8192 => Preset::N8192,
        16384 => Preset::N16384,
        32768 => Preset::N32768,
        _ => {
            return Err(Error::InvalidConfig {
                reason: "N must be 4096, 8192, 16384 or 32768",
            });
        }
    };
    ive_parameters(preset)
}

/// A random table of p x d entries of `bits` bits (signed), from `seed`.
pub fn random_table(p: usize, d: usize, bits: u32, seed: u64) -> Result<EmbeddingTable> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let bound = 1i64 << (bits - 1);
    let rows: Vec<Vec<i64>> = (0..p)
        .map(|_| {
            (0..d)
                .map(|_| rng.random_range(-bound + 1..bound))
                .collect()
        })
        .collect();
    EmbeddingTable::new(&rows)
}

/// Keys and a server for `params` and a circuit ending in a p-term combination.
pub fn setup(params: &Arc<BfvParameters>, p: usize) -> Result<(BfvClient, BfvServer)> {
    let client = BfvClient::generate(params)?;
    let server = BfvServer::new(
        params,
        client.public_key()?,
        client.relinearization_key()?,
        NoiseModel::for_circuit(params, p, 0),
    )?;
    Ok((client, server))
}

/// One timed lookup of N random indices in a random p x d table with `method`; `one_hot_rows`
/// limits the one-hot vector to that many rows (its cost is linear in the rows, each row the same
/// circuit), the combination still covering all p. Fails if any output slot is wrong.
pub fn measure(
    client: &BfvClient,
    server: &BfvServer,
    method: Method,
    p: usize,
    d: usize,
    one_hot_rows: Option<usize>,
    seed: u64,
) -> Result<Measurement> {
    let params = client.parameters();
    let t = params.plaintext();
    let n = server.slots();
    let table = random_table(p, d, 8, seed)?;
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
    let indices: Vec<usize> = (0..n).map(|_| rng.random_range(0..p)).collect();
    let cpu_start = process_cpu_time();
    let (columns, timings, rows_run, check_rows) = match method {
        Method::Ive => {
            let basis = ExactBasis::roots_of_unity(p, t)?;
            let prepared = IveTable::exact(&table, &basis, t)?;
            let nodes = indices
                .iter()
                .map(|&i| basis.node(i, t))
                .collect::<Result<Vec<_>>>()?;
            let x = client.encrypt(&nodes)?;
            let (cols, timings) = prepared.lookup(server, &x)?;
            (cols, timings, p, true)
        }
        Method::OneHot => {
            let rows = one_hot_rows.unwrap_or(p).clamp(1, p);
            let sub = if rows == p {
                table.clone()
            } else {
                let kept: Vec<Vec<i64>> = (0..rows)
                    .map(|i| table.row(i).map(<[i64]>::to_vec).unwrap_or_default())
                    .collect();
                EmbeddingTable::new(&kept)?
            };
            let values: Vec<u64> = indices.iter().map(|&i| i as u64).collect();
            let x = client.encrypt(&values)?;
            let (cols, mut timings) = one_hot_lookup(server, &sub, t.value(), &x)?;
            let start = Instant::now();
            let cols = cols
                .iter()
                .map(|c| server.finish_reply(c))
                .collect::<Result<Vec<_>>>()?;
            timings.finishing = start.elapsed();
            (cols, timings, rows, rows == p)
        }
    };
    let cpu = process_cpu_time()
        .zip(cpu_start)
        .map(|(b, a)| b.saturating_sub(a));
    if check_rows {
        for (j, c) in columns.iter().enumerate() {
            let got = client.decrypt(c)?;
            for (s, &i) in indices.iter().enumerate() {
                let want = table.row(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
                if got.get(s).map(|&v| t.center(v)) != Some(want) {
                    return Err(Error::InvalidConfig {
                        reason: "lookup output differs from the table (noise model too optimistic?)",
                    });
                }
            }
        }
    }
    let latency = if rows_run == p {
        timings.total()
    } else {
        // Combination over p rows: scale the measured one (linear in the terms) too.
        let scale = p as f64 / rows_run as f64;
        timings.vector_generation.mul_f64(scale)
            + timings.combination.mul_f64(scale)
            + timings.finishing
    };
    Ok(Measurement {
        n,
        p,
        d,
        rows_run,
        timings,
        cpu,
        latency,
    })
}

/// The result of one timed digit lookup ([`measure_digits`]).
#[derive(Clone, Debug)]
pub struct DigitMeasurement {
    /// Ring degree N (= lookups per query ciphertext).
    pub n: usize,
    /// Digit sizes, inner first (one digit: plain IVE).
    pub sizes: Vec<usize>,
    /// Embedding dimension d.
    pub d: usize,
    /// Products and depth.
    pub cost: crate::digits::DigitCost,
    /// Time of each phase.
    pub timings: crate::digit_lookup::DigitTimings,
    /// CPU time of all threads during the lookup ([`threads_cpu_time`]), when reported.
    pub cpu: Option<Duration>,
}

impl DigitMeasurement {
    /// Table height p.
    pub fn p(&self) -> usize {
        self.sizes.iter().product()
    }

    /// Lookup time divided by the N lookups of one query.
    pub fn amortized(&self) -> Duration {
        self.timings.total() / self.n as u32
    }
}

/// One timed digit lookup of N random indices in a random p x d table (p = the product of
/// `sizes`, inner digit first), through the query and response wire formats' ciphertexts; fails
/// if any output slot differs from the table. `sizes = [p]` is plain IVE on the same code path.
pub fn measure_digits(
    client: &BfvClient,
    server: &BfvServer,
    sizes: &[usize],
    d: usize,
    seed: u64,
) -> Result<DigitMeasurement> {
    use crate::digit_lookup::DigitTable;
    use crate::digits::DigitBasis;

    let t = client.parameters().plaintext();
    let n = server.slots();
    let basis = DigitBasis::new(sizes, t)?;
    let p = basis.rows();
    let table = random_table(p, d, 8, seed)?;
    let prepared = DigitTable::exact(&table, &basis, t)?;
    server.check_depth(prepared.cost().planned_depth)?;
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
    let indices: Vec<usize> = (0..n).map(|_| rng.random_range(0..p)).collect();
    let mut nodes = vec![Vec::with_capacity(n); sizes.len()];
    for &i in &indices {
        for (digit, node) in nodes.iter_mut().zip(basis.nodes(i, t)?) {
            digit.push(node);
        }
    }
    let xs = nodes
        .iter()
        .map(|v| client.encrypt(v))
        .collect::<Result<Vec<_>>>()?;
    let (columns, timings) = prepared.lookup(server, &xs)?;
    let cpu = threads_cpu_time().map(|_| timings.cpu.total());
    for (j, c) in columns.iter().enumerate() {
        let got = client.decrypt(c)?;
        for (s, &i) in indices.iter().enumerate() {
            let want = table.row(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
            if got.get(s).map(|&v| t.center(v)) != Some(want) {
                return Err(Error::InvalidConfig {
                    reason: "digit lookup output differs from the table (noise model too optimistic?)",
                });
            }
        }
    }
    Ok(DigitMeasurement {
        n,
        sizes: sizes.to_vec(),
        d,
        cost: prepared.cost(),
        timings,
        cpu,
    })
}
