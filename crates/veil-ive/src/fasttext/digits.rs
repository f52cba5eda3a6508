//! Encrypted FastText with the bucket index split into digits ([`crate::digits`]): the client
//! sends one encrypted node per digit and token; the server runs a digit lookup, then the same
//! per-message sums, mask and reply as [`super::encrypted`]. With `fold_linear`, the linear layer
//! is folded into the table (one column: the per-token score w_q . E_q\[i\] + b_q \[i != 0\]), so
//! the lookup has d = 1 and needs P' digit products instead of P' (d + 1).

use std::time::{Duration, Instant};

use super::encrypted::rotation_steps;
use super::{MAX_TOKENS, QuantizedModel};
use crate::bfv::{BfvClient, BfvServer, NoiseModel};
use crate::digit_lookup::{DigitTable, DigitTimings};
use crate::digits::DigitBasis;
use crate::error::{Error, Result};
use crate::scheme::{CiphertextCodec, IveClient, IveScheme};
use crate::table::EmbeddingTable;

/// Where the server's time went over a whole test set (digit lookups).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DigitInferenceTimings {
    /// The lookups' phases (wall and CPU; their `finishing` stays zero: see `rest`).
    pub lookup: DigitTimings,
    /// Linear layer (unless folded), per-message sums, mask, relinearization, flooding, switch.
    pub rest: Duration,
    /// CPU time of `rest` (all threads).
    pub rest_cpu: Duration,
    /// Query ciphertext groups processed (one ciphertext per digit each).
    pub queries: usize,
}

impl DigitInferenceTimings {
    /// Server wall time in all.
    pub fn total(&self) -> Duration {
        self.lookup.wall.total() + self.rest
    }

    /// Server CPU time in all.
    pub fn total_cpu(&self) -> Duration {
        self.lookup.cpu.total() + self.rest_cpu
    }
}

/// The per-token score table: row i holds w_q . E_q\[i\] + b_q \[i != 0\] (the linear layer applied
/// to [`QuantizedModel::lookup_table`]'s row).
pub fn folded_table(model: &QuantizedModel) -> Result<EmbeddingTable> {
    let table = model.lookup_table()?;
    let linear = model.linear_layer();
    let rows: Vec<Vec<i64>> = (0..table.rows())
        .map(|i| {
            vec![
                table
                    .row(i)
                    .unwrap_or(&[])
                    .iter()
                    .zip(&linear)
                    .map(|(e, w)| e * w)
                    .sum(),
            ]
        })
        .collect();
    EmbeddingTable::new(&rows)
}

/// The digit split of `model.rows` buckets into `count` digits with the fewest ciphertext products
/// whose planned depth fits `params` under the circuit's noise model
/// ([`DigitBasis::cheapest`]).
pub fn cheapest_basis(
    params: &veil_bfv::BfvParameters,
    model: &QuantizedModel,
    count: usize,
    fold_linear: bool,
) -> Result<DigitBasis> {
    let extra = if fold_linear { 1 } else { 2 };
    let noise = NoiseModel::for_circuit(params, model.rows, extra);
    let available: u32 = params
        .ciphertext_moduli()
        .iter()
        .map(|q| 64 - q.leading_zeros())
        .sum();
    let max_depth = available.saturating_sub(noise.base_bits + noise.reserve_bits)
        / noise.bits_per_product.max(1);
    let cols = if fold_linear { 1 } else { model.dim + 1 };
    DigitBasis::cheapest(model.rows, cols, count, max_depth, params.plaintext())
}

/// The server's state for digit lookups.
#[derive(Debug)]
pub struct DigitFastTextServer {
    scheme: BfvServer,
    table: DigitTable<u64>,
    /// The linear layer over the looked-up columns, or `None` when folded into the table.
    linear: Option<Vec<u64>>,
}

impl DigitFastTextServer {
    /// Prepares the table of `model` for `basis` and the client's keys.
    pub fn new(
        client: &BfvClient,
        model: &QuantizedModel,
        basis: &DigitBasis,
        fold_linear: bool,
    ) -> Result<Self> {
        let params = client.parameters();
        let t = params.plaintext();
        let table = if fold_linear {
            folded_table(model)?
        } else {
            model.lookup_table()?
        };
        // Plaintext products after the lookup: the mask, and the linear layer unless folded.
        let extra = if fold_linear { 1 } else { 2 };
        let noise = NoiseModel::for_circuit(params, table.rows(), extra);
        let scheme = BfvServer::new(
            params,
            client.public_key()?,
            client.relinearization_key()?,
            noise,
        )?
        .with_galois_keys(client.galois_keys(&rotation_steps())?);
        let table = DigitTable::exact(&table, basis, t)?;
        scheme.fits_depth(table.cost().planned_depth)?;
        let linear = (!fold_linear).then(|| {
            model
                .linear_layer()
                .iter()
                .map(|&w| t.reduce_i64(w))
                .collect()
        });
        Ok(DigitFastTextServer {
            scheme,
            table,
            linear,
        })
    }

    /// The scheme (for parsing and sizes).
    pub fn scheme(&self) -> &BfvServer {
        &self.scheme
    }

    /// The prepared table.
    pub fn table(&self) -> &DigitTable<u64> {
        &self.table
    }

    /// One encrypted score per block of [`MAX_TOKENS`] slots, at the block's first slot.
    pub fn score(
        &self,
        xs: &[veil_bfv::Ciphertext],
        timings: &mut DigitInferenceTimings,
    ) -> Result<veil_bfv::Ciphertext> {
        let (columns, t) = self.table.lookup_unfinished(&self.scheme, xs)?;
        timings.lookup.accumulate(&t);
        timings.queries += 1;
        let start = Instant::now();
        let cpu_start = crate::measure::threads_cpu_time();
        let z = match &self.linear {
            Some(linear) => {
                let terms: Vec<(&veil_bfv::Ciphertext, u64)> =
                    columns.iter().zip(linear.iter().copied()).collect();
                self.scheme.linear_combination(&terms, 0)?
            }
            None => columns.into_iter().next().ok_or(Error::InvalidConfig {
                reason: "empty lookup",
            })?,
        };
        let mut z = self.scheme.relinearize(&z)?;
        for step in rotation_steps() {
            z = self.scheme.add(&z, &self.scheme.rotate(&z, step)?)?;
        }
        let mask: Vec<u64> = (0..self.scheme.slots())
            .map(|s| u64::from(s % MAX_TOKENS == 0))
            .collect();
        let z = self
            .scheme
            .finish_reply(&self.scheme.mul_slots(&z, &mask)?)?;
        timings.rest += start.elapsed();
        timings.rest_cpu += crate::measure::threads_cpu_time()
            .zip(cpu_start)
            .map_or(Duration::ZERO, |(b, a)| b.saturating_sub(a));
        Ok(z)
    }
}

/// Encrypts (one ciphertext per digit), scores and decrypts every message, in query groups of
/// N / [`MAX_TOKENS`] messages; returns the decrypted scores (centered) and the server's
/// timings. `progress` is called after each group with (done, total).
pub fn encrypted_scores_digits(
    client: &BfvClient,
    server: &DigitFastTextServer,
    basis: &DigitBasis,
    messages: &[Vec<usize>],
    mut progress: impl FnMut(usize, usize),
) -> Result<(Vec<i64>, DigitInferenceTimings)> {
    let t = client.parameters().plaintext();
    let per_query = client.slots() / MAX_TOKENS;
    let pad = basis.nodes(0, t)?;
    let mut timings = DigitInferenceTimings::default();
    let mut scores = Vec::with_capacity(messages.len());
    let total = messages.len().div_ceil(per_query);
    for (q, chunk) in messages.chunks(per_query).enumerate() {
        let mut nodes: Vec<Vec<u64>> = pad.iter().map(|&v| vec![v; client.slots()]).collect();
        for (m, tokens) in chunk.iter().enumerate() {
            if tokens.len() > MAX_TOKENS {
                return Err(Error::InvalidConfig {
                    reason: "a message has more tokens than its block",
                });
            }
            for (k, &tok) in tokens.iter().enumerate() {
                for (digit, node) in nodes.iter_mut().zip(basis.nodes(tok, t)?) {
                    if let Some(slot) = digit.get_mut(m * MAX_TOKENS + k) {
                        *slot = node;
                    }
                }
            }
        }
        // Each digit travels in its compact wire form and is parsed as the server would.
        let xs = nodes
            .iter()
            .map(|v| {
                let bytes = client.encrypt_compact(v)?;
                server.scheme().query_ciphertext_from_bytes(&bytes)
            })
            .collect::<Result<Vec<_>>>()?;
        let reply = server.score(&xs, &mut timings)?;
        let slots = client.decrypt(&reply)?;
        for m in 0..chunk.len() {
            scores.push(t.center(slots.get(m * MAX_TOKENS).copied().unwrap_or(0)));
        }
        progress(q + 1, total);
    }
    Ok((scores, timings))
}
