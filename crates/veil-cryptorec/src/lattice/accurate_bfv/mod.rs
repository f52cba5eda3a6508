//! CryptoRec-a(1) over exact BFV: the accurate mode's one step (DESIGN.md, CryptoRec, accurate
//! mode) as an integer circuit with fixed-point bookkeeping ([`fixed`]), evaluated modulo k
//! plaintext primes whose product exceeds twice the tracked result bound ([`lanes`]), recombined
//! by CRT on the client. Every reply ciphertext is sanitized by veil-bfv's `PublicKey::sanitize`
//! (re-randomization and noise flooding: within statistical distance 2^-40 of a reply that
//! depends only on the result, when the noise plan leaves `sanitize_reserve_bits`; derivation in
//! veil-bfv's `sanitize` module docs). Unlike the CKKS accurate mode
//! ([`crate::lattice::AccurateServer`]), the result is exact: the decrypted integers equal
//! [`ExactModel::step_integers`] bit for bit.
//!
//! Messages: setup `VCBS` (server to client, once), keys `VCBK` (once per client: one key set for
//! every lane), query `VCBQ` (k x 3 seeded ciphertexts), reply `VCBR` (k x 2 ciphertexts).
//! See `docs/cryptorec-lattice.md` ("Exact accurate mode") for the derivation of the scales and
//! bounds, the noise budget and the measured figures.
//!
//! ```
//! # fn main() -> veil_cryptorec::Result<()> {
//! use ndarray::{Array1, Array2};
//! use veil_cryptorec::data::RatingScale;
//! use veil_cryptorec::lattice::{AccurateBfvClient, AccurateBfvConfig, AccurateBfvServer};
//! use veil_cryptorec::model::{Model, UserRatings};
//!
//! // A toy model (m = 8 items, d = 2); real ones come from `Model::train`.
//! let (m, d) = (8, 2);
//! let model = Model {
//!     mu: 3.5,
//!     item_bias: Array1::from_shape_fn(m, |i| i as f32 * 0.05 - 0.2),
//!     a: Array2::from_shape_fn((m, d), |(j, c)| (j + c) as f32 * 0.01 - 0.03),
//!     q: Array2::from_shape_fn((m, d), |(i, c)| (i * c) as f32 * 0.01 - 0.02),
//!     scale: RatingScale::default(),
//!     input_norm: 0.5,
//! };
//! let mut cfg = AccurateBfvConfig::one_step(0.05);
//! // N = 2048 keeps the example fast; it is below 128-bit security (the default is N = 16384).
//! cfg.lattice.degree = 2048;
//! cfg.lattice.allow_below_128_bit_security = true;
//! let server = AccurateBfvServer::new(&model, &cfg)?;
//! let client = AccurateBfvClient::new(&server.setup_bytes()?, true)?;
//! let keys = server.client_keys(&client.key_bytes()?)?; // once per client
//! let user = UserRatings { items: vec![1, 4, 6], values: vec![5.0, 3.0, 4.0] };
//! let (query, state) = client.query(&user)?;
//! let reply = server.answer(&keys, &query)?;
//! // Exactly the integers of the step computed in the clear:
//! let input = veil_cryptorec::lattice::accurate_bfv::quantize_user(&client.setup().public, &user)?;
//! let exact = server.exact_model().step_integers(&input)?;
//! assert_eq!(client.decode_integers(&reply)?, exact);
//! let predictions = client.decode(&state, &reply)?;
//! assert_eq!(predictions.len(), m);
//! # Ok(()) }
//! ```

mod client;
pub mod fixed;
pub mod lanes;
mod server;
mod setup;

pub use client::{AccurateBfvClient, AccurateBfvState};
pub use fixed::{
    ExactConfig, ExactInput, ExactModel, ExactPublic, ExactResult, IntermediateBounds, predictions,
    quantize_user,
};
pub use lanes::{AccurateNoise, Crt, Lanes};
pub use server::{AccurateBfvConfig, AccurateBfvServer};
pub use setup::{AccurateBfvKeys, AccurateBfvSetup};
