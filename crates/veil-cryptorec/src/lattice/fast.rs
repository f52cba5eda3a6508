//! CryptoRec-f over BFV: the client sends one ciphertext of its quantized centred ratings, the
//! server replies with one ciphertext holding the m integer predictions v_i (DESIGN.md,
//! CryptoRec, fast mode; sec. 5.1 of the paper with BFV in place of Paillier).
//!
//! Server: y = x A' by the hybrid diagonal method ([`FastLayout`]), v = Q' y + b, then the reply
//! is sanitized (circuit privacy) and switched to the last prime. The client decrypts and gets
//! exactly [`QuantizedModel::predict_integers`].

use std::sync::Arc;

use veil_bfv::{
    BfvParameters, Ciphertext, Encoder, GaloisKeys, PlainMatrix, Plaintext, SecretKey,
    SeededCiphertext,
};
use veil_ring::sample::Sampler;

use crate::error::{Error, Result};
use crate::lattice::layout::FastLayout;
use crate::lattice::params::{LatticeConfig, choose_parameters};
use crate::lattice::session::{ClientKeys, PublicSetup, finish_reply};
use crate::lattice::wire::{Reader, Writer, bad};
use crate::model::UserRatings;
use crate::quant::{QuantizedModel, dequantize};

const QUERY_MAGIC: &[u8; 4] = b"VCLQ";
const REPLY_MAGIC: &[u8; 4] = b"VCLR";

/// The fast-mode server: the model's matrices prepared for encrypted products (read-only, shared
/// by every client).
#[derive(Debug)]
pub struct FastServer {
    setup: PublicSetup,
    encoder: Encoder,
    band: PlainMatrix,
    items: PlainMatrix,
    bias: Plaintext,
    circuit_privacy: bool,
}

impl FastServer {
    /// Prepares `model` (m <= N/2 items, d <= m) under parameters chosen from its output bound.
    /// Memory: 2 D_d prepared diagonals of (primes x N) words, e.g. 0.67 GB at m = 3,952,
    /// d = 500, N = 16384.
    pub fn new(model: &QuantizedModel, cfg: &LatticeConfig) -> Result<Self> {
        let layout = FastLayout::new(model.params.items, model.dim(), cfg.degree, cfg.baby_steps)?;
        let params = choose_parameters(cfg, model.params.output_bound, 2, layout.dim_period())?;
        let encoder = Encoder::new(&params)?;
        let band_rows = layout.band_matrix(|j, c| model.a[(j, c)]);
        let band = PlainMatrix::new(&encoder, &band_rows, Some(layout.baby))?;
        drop(band_rows);
        let q_rows: Vec<Vec<i64>> = (0..layout.items)
            .map(|i| model.q_t.column(i).to_vec())
            .collect();
        let items = PlainMatrix::new(&encoder, &q_rows, Some(layout.baby))?;
        let bias = encoder.encode_signed(model.bias.as_slice().ok_or(Error::Invalid {
            reason: "the biases are not in standard layout",
        })?)?;
        Ok(FastServer {
            setup: PublicSetup {
                params,
                public: model.params,
                layout,
            },
            encoder,
            band,
            items,
            bias,
            circuit_privacy: cfg.circuit_privacy,
        })
    }

    /// What a client needs before its first query (parameters, shapes, scales; no weights).
    pub fn setup(&self) -> &PublicSetup {
        &self.setup
    }

    /// [`PublicSetup::to_bytes`] of [`FastServer::setup`].
    pub fn setup_bytes(&self) -> Result<Vec<u8>> {
        self.setup.to_bytes()
    }

    /// Parses a client's keys (sent once per client) and checks that they cover every rotation
    /// this server uses.
    pub fn client_keys(&self, key_bytes: &[u8]) -> Result<ClientKeys> {
        ClientKeys::from_bytes(&self.setup, key_bytes)
    }

    /// Answers one query: query bytes in, reply bytes out.
    pub fn answer(&self, keys: &ClientKeys, query_bytes: &[u8]) -> Result<Vec<u8>> {
        let params = &self.setup.params;
        let mut r = Reader::new(query_bytes, QUERY_MAGIC, "fast query")?;
        let ct_bytes = r.object(query_bytes.len(), "query ciphertext")?;
        r.finish()?;
        let query = SeededCiphertext::from_bytes(params, ct_bytes)?.expand();
        let v = self.evaluate(&query, &keys.galois)?;
        let reply = finish_reply(&v, &keys.public, self.circuit_privacy)?;
        let mut w = Writer::new(REPLY_MAGIC);
        w.object(&reply.to_bytes())?;
        Ok(w.into_bytes())
    }

    /// Enc(v) from Enc(x), before sanitization (public for the tests and benches that measure
    /// the noise the computation leaves).
    pub fn evaluate(&self, query: &Ciphertext, gk: &GaloisKeys) -> Result<Ciphertext> {
        let layout = &self.setup.layout;
        let mut z = self.band.mul_vector(query, gk)?;
        let mut step = layout.item_period();
        while step < layout.row {
            z = z.add(&z.rotate_rows(step as i64, gk)?)?;
            step *= 2;
        }
        let mut step = layout.dim_period();
        while step < layout.item_period() {
            z = z.add(&z.rotate_rows(step as i64, gk)?)?;
            step *= 2;
        }
        Ok(self.items.mul_vector(&z, gk)?.add_plain(&self.bias)?)
    }

    /// The encoder (for tests).
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

/// The fast-mode client: its secret key and the server's public setup.
#[derive(Debug)]
pub struct FastClient {
    setup: PublicSetup,
    encoder: Encoder,
    secret: SecretKey,
}

/// What the client keeps between a query and its reply.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueryState {
    /// rbar_u, added back to v_i / S.
    pub mean: f32,
}

impl FastClient {
    /// A client for the server whose setup bytes are `setup_bytes`, with a fresh secret key.
    /// Refuses parameters below 128-bit security unless `allow_below_128_bit_security`.
    pub fn new(setup_bytes: &[u8], allow_below_128_bit_security: bool) -> Result<Self> {
        let setup = PublicSetup::from_bytes(setup_bytes, allow_below_128_bit_security)?;
        Self::with_secret(setup, &mut Sampler::from_entropy())
    }

    /// A client with a secret key drawn from `sampler` (tests recompute the secret from a seed).
    pub fn with_secret(setup: PublicSetup, sampler: &mut Sampler) -> Result<Self> {
        let secret = SecretKey::generate_with(&setup.params, sampler)?;
        let encoder = Encoder::new(&setup.params)?;
        Ok(FastClient {
            setup,
            encoder,
            secret,
        })
    }

    /// The server's public setup.
    pub fn setup(&self) -> &PublicSetup {
        &self.setup
    }

    /// The BFV parameters.
    pub fn parameters(&self) -> &Arc<BfvParameters> {
        &self.setup.params
    }

    /// The secret key (stays with the client; for noise diagnostics in tests).
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }

    /// The keys the server needs (public key for the sanitization, Galois keys for exactly the
    /// rotations of [`FastLayout::rotation_steps`]); sent once.
    pub fn key_bytes(&self) -> Result<Vec<u8>> {
        ClientKeys::generate(
            &self.setup,
            &self.secret,
            &self.setup.layout.rotation_steps(),
        )?
        .to_bytes()
    }

    /// Encrypts the user's quantized centred ratings for every item (rated or not, so that the
    /// server cannot tell which): query bytes and the state needed to read the reply.
    pub fn query(&self, user: &UserRatings) -> Result<(Vec<u8>, QueryState)> {
        let x = QuantizedModel::quantize_input(&self.setup.public, user)?;
        let bytes = self.query_integers(&x)?;
        Ok((bytes, QueryState { mean: user.mean() }))
    }

    /// The query for integer inputs x directly (|x_j| <= input_bound).
    pub fn query_integers(&self, x: &[i64]) -> Result<Vec<u8>> {
        let bound = self.setup.public.input_bound;
        if x.iter().any(|v| v.unsigned_abs() > bound.unsigned_abs()) {
            return Err(Error::Invalid {
                reason: "an input exceeds the model's input bound",
            });
        }
        let slots = self.setup.layout.query_slots(x)?;
        let ct = self
            .secret
            .encrypt_seeded(&self.encoder.encode_signed(&slots)?)?;
        let mut w = Writer::new(QUERY_MAGIC);
        w.object(&ct.to_bytes())?;
        Ok(w.into_bytes())
    }

    /// The reply's ciphertext, parsed and validated (at any level: veil-bfv checks its length).
    pub fn reply_ciphertext(&self, reply: &[u8]) -> Result<Ciphertext> {
        let mut r = Reader::new(reply, REPLY_MAGIC, "fast reply")?;
        let bytes = r.object(reply.len(), "reply ciphertext")?;
        r.finish()?;
        let ct = Ciphertext::from_bytes(&self.setup.params, bytes)?;
        if ct.len() != 2 {
            return Err(bad("the reply is not a two-polynomial ciphertext"));
        }
        Ok(ct)
    }

    /// The integers v_i of the reply (equal to `QuantizedModel::predict_integers`).
    pub fn decode_integers(&self, reply: &[u8]) -> Result<Vec<i128>> {
        let ct = self.reply_ciphertext(reply)?;
        let slots = self.encoder.decode_signed(&self.secret.decrypt(&ct)?)?;
        Ok(slots
            .into_iter()
            .take(self.setup.public.items)
            .map(i128::from)
            .collect())
    }

    /// The predictions rbar_u + v_i / S for every item.
    pub fn decode(&self, state: &QueryState, reply: &[u8]) -> Result<Vec<f32>> {
        Ok(dequantize(
            &self.setup.public,
            &self.decode_integers(reply)?,
            state.mean,
        ))
    }
}
