//! A real server and client for the encrypted protocol: versioned, length-prefixed messages
//! over TCP, a bounded thread pool, per-message deadlines (docs/cryptorec-service.md).
//!
//! - [`wire`]: the 12-byte header (magic, version, kind, length), error messages, service
//!   codes; every length is checked against the receiver's limit before anything is allocated,
//!   and no decoder accepts trailing bytes.
//! - [`ModelInfo`]: the public sizes and scales, item identifiers and offered services.
//! - [`Handler`]: one per service; [`PaillierFast`] serves [`crate::fast`], [`BfvFast`] and
//!   [`AccurateStep`] the lattice modes ([`crate::lattice`]), whose evaluation keys are uploaded
//!   once ([`Kind::Keys`]) and kept in a bounded [`KeyRegistry`] under their [`KeyId`].
//! - [`Service`]: model information and handlers, answering one decoded request
//!   ([`Service::handle_message`] for whole messages in memory).
//! - [`Server`]: the TCP server ([`ServerConfig`]: workers, connections, pending queue,
//!   timeouts, per-connection byte budget). [`Client`]: one function per mode.
//!
//! ```
//! use std::sync::Arc;
//! use veil_cryptorec::data::RatingScale;
//! use veil_cryptorec::fast::Randomness;
//! use veil_cryptorec::model::{Model, UserRatings};
//! use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
//! use veil_cryptorec::service::{Client, ClientOptions, PaillierParameters, Server, ServerConfig, Service};
//! use veil_paillier::KeyGenerator;
//!
//! // A tiny model: 5 items, d = 2.
//! let model = Model {
//!     mu: 3.5,
//!     item_bias: ndarray::Array1::from(vec![0.1, -0.2, 0.0, 0.3, -0.1]),
//!     a: ndarray::Array2::from_shape_fn((5, 2), |(i, c)| (i + c) as f32 * 0.05 - 0.1),
//!     q: ndarray::Array2::from_shape_fn((5, 2), |(i, c)| (i * c) as f32 * 0.04 - 0.05),
//!     scale: RatingScale::default(),
//!     input_norm: 0.0,
//! };
//! let keys = PaillierParameters { min_modulus_bits: 1024, ..PaillierParameters::default() }; // tests only
//! let service = Service::paillier(&model, vec![], &QuantConfig::default(), keys)?;
//! let server = Server::bind("127.0.0.1:0", Arc::new(service), ServerConfig::default())?;
//!
//! // The client: its own key, its ratings; the server sees ciphertexts only.
//! let sk = KeyGenerator::new(1024).generate()?; // 2048 bits or more in practice
//! let mut client = Client::connect(server.local_addr(), ClientOptions::default())?;
//! let user = UserRatings { items: vec![0, 3], values: vec![5.0, 2.0] };
//! let v = client.paillier_fast(&sk, &user, Randomness::Fresh)?;
//!
//! // Exactly the integer model's predictions.
//! let plain = QuantizedModel::new(&model, &QuantConfig::default())?;
//! let x = QuantizedModel::quantize_input(&plain.params, &user)?;
//! assert_eq!(v, plain.predict_integers(&x));
//! server.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod handler;
mod info;
mod io;
mod keys;
mod lattice;
mod paillier;
mod server;
pub mod wire;

pub use client::{Client, ClientOptions, UploadedKeys};
pub use handler::{DEFAULT_KEY_MEMORY, Handler, Reply, Service};
pub use info::{InfoLimits, MAX_SERVICES, ModelInfo, ServiceInfo};
pub use keys::{KEY_ID_LEN, KeyId, KeyRegistry, LoadedKeys, RegistryStats};
pub use lattice::{
    AccurateBfvStep, AccurateStep, BfvFast, Offer, accurate_bfv_bounds, accurate_bounds, bfv_bounds,
};
pub use paillier::{
    PaillierFast, PaillierParameters, decode_request, decrypt_answer, encode_request,
    encode_request_proving,
};
pub use server::{Server, ServerConfig, ServerStats};
pub use wire::{ErrorCode, Kind, ServiceId};
