//! Encrypted FastText inference: the client sends only encrypted bucket nodes (one token per
//! slot, [`MAX_TOKENS`] slots per message, padding with bucket 0); the server looks up the d
//! embedding columns and the token-count column with IVE, applies the linear layer (one linear
//! combination), sums each message's block of slots by rotate-and-add, keeps only the block
//! starts (a 0/1 mask) and returns one encrypted score z_q per message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use veil_bfv::{BfvParameters, BfvParametersBuilder, Preset};

use super::{MAX_TOKENS, QuantizedModel};
use crate::bfv::{BfvClient, BfvServer, NoiseModel};
use crate::error::{Error, Result};
use crate::lookup::IveTable;
use crate::power::depth_of;
use crate::scheme::{CiphertextCodec, IveClient, IveScheme};
use crate::table::ExactBasis;

/// Where the server's time went over a whole test set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InferenceTimings {
    /// Building the vectors (IVE: power vectors).
    pub vector_generation: Duration,
    /// Change of basis (the d + 1 combinations).
    pub combination: Duration,
    /// Linear layer, per-message sums, mask, relinearization, flooding, modulus switch.
    pub rest: Duration,
    /// Query ciphertexts processed.
    pub queries: usize,
}

impl InferenceTimings {
    /// Server time in all.
    pub fn total(&self) -> Duration {
        self.vector_generation + self.combination + self.rest
    }

    /// Share of vector generation in the server's time.
    pub fn generation_share(&self) -> f64 {
        self.vector_generation.as_secs_f64() / self.total().as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// Parameters for the encrypted model: N = 32768 (SEAL's 128-bit chain) and the largest batching
/// prime t of the bits needed so that no score wraps modulo t (|z_q| <= bound < t / 2).
pub fn fasttext_parameters(model: &QuantizedModel) -> Result<Arc<BfvParameters>> {
    let bound = model.score_bound(MAX_TOKENS);
    let bits = (64 - (2 * bound + 1).leading_zeros()).max(17) + 1;
    let (n, sizes) = Preset::N32768.layout();
    Ok(BfvParametersBuilder::new()
        .degree(n)
        .moduli_sizes(&sizes)
        .batching_plaintext_bits(bits)
        .build()?)
}

/// The server's state: the scheme with its keys and the prepared table.
#[derive(Debug)]
pub struct FastTextServer {
    scheme: BfvServer,
    table: IveTable<u64>,
    linear: Vec<u64>,
}

/// Rotation steps the server needs: powers of two below [`MAX_TOKENS`].
pub fn rotation_steps() -> Vec<i64> {
    (0..MAX_TOKENS.trailing_zeros())
        .map(|b| 1i64 << b)
        .collect()
}

impl FastTextServer {
    /// Prepares the table of `model` for the client's keys.
    pub fn new(client: &BfvClient, model: &QuantizedModel, basis: &ExactBasis) -> Result<Self> {
        let params = client.parameters();
        let t = params.plaintext();
        let table = model.lookup_table()?;
        // The linear layer and the mask are two more plaintext products after the lookup.
        let noise = NoiseModel::for_circuit(params, table.rows(), 2);
        let scheme = BfvServer::new(
            params,
            client.public_key()?,
            client.relinearization_key()?,
            noise,
        )?
        .with_galois_keys(client.galois_keys(&rotation_steps())?);
        scheme.fits_depth(depth_of(table.rows() - 1))?;
        let linear = model
            .linear_layer()
            .iter()
            .map(|&w| t.reduce_i64(w))
            .collect();
        Ok(FastTextServer {
            table: IveTable::exact(&table, basis, t)?,
            scheme,
            linear,
        })
    }

    /// The scheme (for parsing and sizes).
    pub fn scheme(&self) -> &BfvServer {
        &self.scheme
    }

    /// One encrypted score per block of [`MAX_TOKENS`] slots, at the block's first slot.
    pub fn score(
        &self,
        x: &veil_bfv::Ciphertext,
        timings: &mut InferenceTimings,
    ) -> Result<veil_bfv::Ciphertext> {
        let (columns, t) = self.table.lookup_unfinished(&self.scheme, x)?;
        timings.vector_generation += t.vector_generation;
        timings.combination += t.combination;
        timings.queries += 1;
        let start = Instant::now();
        let terms: Vec<(&veil_bfv::Ciphertext, u64)> =
            columns.iter().zip(self.linear.iter().copied()).collect();
        let mut z = self
            .scheme
            .relinearize(&self.scheme.linear_combination(&terms, 0)?)?;
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
        Ok(z)
    }
}

/// Encrypts, scores and decrypts every message (token lists), in query ciphertexts of N /
/// [`MAX_TOKENS`] messages; returns the decrypted scores (centered) and the server's timings.
/// `progress` is called after each query ciphertext with (done, total).
pub fn encrypted_scores(
    client: &BfvClient,
    server: &FastTextServer,
    basis: &ExactBasis,
    messages: &[Vec<usize>],
    mut progress: impl FnMut(usize, usize),
) -> Result<(Vec<i64>, InferenceTimings)> {
    let params = client.parameters();
    let t = params.plaintext();
    let per_query = client.slots() / MAX_TOKENS;
    let pad = basis.node(0, t)?;
    let mut timings = InferenceTimings::default();
    let mut scores = Vec::with_capacity(messages.len());
    let total = messages.len().div_ceil(per_query);
    for (q, chunk) in messages.chunks(per_query).enumerate() {
        let mut nodes = vec![pad; client.slots()];
        for (m, tokens) in chunk.iter().enumerate() {
            if tokens.len() > MAX_TOKENS {
                return Err(Error::InvalidConfig {
                    reason: "a message has more tokens than its block",
                });
            }
            for (k, &tok) in tokens.iter().enumerate() {
                if let Some(slot) = nodes.get_mut(m * MAX_TOKENS + k) {
                    *slot = basis.node(tok, t)?;
                }
            }
        }
        // The query travels in its compact wire form, and is parsed as the server would.
        let bytes = client.encrypt_compact(&nodes)?;
        let x = server.scheme().query_ciphertext_from_bytes(&bytes)?;
        let reply = server.score(&x, &mut timings)?;
        let slots = client.decrypt(&reply)?;
        for m in 0..chunk.len() {
            scores.push(t.center(slots.get(m * MAX_TOKENS).copied().unwrap_or(0)));
        }
        progress(q + 1, total);
    }
    Ok((scores, timings))
}
