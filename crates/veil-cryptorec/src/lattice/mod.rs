//! CryptoRec over lattice HE (BFV): the fast mode ([`FastServer`], [`FastClient`]) and the
//! accurate mode's one step. See `docs/cryptorec-lattice.md` for the protocol, the parameter
//! choice, the circuit-privacy argument and the measured figures.
//!
//! Every message is opaque bytes with a 4-byte magic and a version: the server's setup (`VCLS`,
//! server to client, once), the client's keys (`VCLK`, once per client), queries (`VCLQ`) and
//! replies (`VCLR`). Parsers bound every length before reading it.
//!
//! ```
//! # fn main() -> veil_cryptorec::Result<()> {
//! use ndarray::{Array1, Array2};
//! use veil_cryptorec::data::RatingScale;
//! use veil_cryptorec::lattice::{FastClient, FastServer, LatticeConfig};
//! use veil_cryptorec::model::{Model, UserRatings};
//! use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
//!
//! // A toy model (m = 8 items, d = 2); real ones come from `Model::train`.
//! let (m, d) = (8, 2);
//! let model = Model {
//!     mu: 3.5,
//!     item_bias: Array1::zeros(m),
//!     a: Array2::from_shape_fn((m, d), |(j, c)| (j + c) as f32 * 0.01 - 0.03),
//!     q: Array2::from_shape_fn((m, d), |(i, c)| (i * c) as f32 * 0.01 - 0.02),
//!     scale: RatingScale::default(),
//!     input_norm: 0.5,
//! };
//! let quantized = QuantizedModel::new(&model, &QuantConfig::default())?;
//! // N = 1024 keeps the example fast; it is below 128-bit security (the default is N = 16384).
//! let cfg = LatticeConfig {
//!     degree: 1024,
//!     allow_below_128_bit_security: true,
//!     ..LatticeConfig::default()
//! };
//! let server = FastServer::new(&quantized, &cfg)?;
//! let client = FastClient::new(&server.setup_bytes()?, true)?;
//! let keys = server.client_keys(&client.key_bytes()?)?; // once per client
//! let user = UserRatings { items: vec![1, 4, 6], values: vec![5.0, 3.0, 4.0] };
//! let (query, state) = client.query(&user)?;
//! let reply = server.answer(&keys, &query)?;
//! let predictions = client.decode(&state, &reply)?;
//! assert_eq!(predictions, quantized.predict(&user)?);
//! # Ok(()) }
//! ```

mod accurate;
pub mod accurate_bfv;
mod fast;
mod layout;
mod params;
mod session;
mod wire;

pub use accurate::{
    AccurateClient, AccurateConfig, AccurateKeys, AccurateServer, AccurateSetup, AccurateState,
};
pub use accurate_bfv::{
    AccurateBfvClient, AccurateBfvConfig, AccurateBfvKeys, AccurateBfvServer, AccurateBfvSetup,
    AccurateBfvState, ExactConfig, ExactModel,
};
pub use fast::{FastClient, FastServer, QueryState};
pub use layout::FastLayout;
pub use params::{
    LatticeConfig, NoisePlan, choose_parameters, plaintext_bits_for, sanitize_reserve_bits,
};
pub use session::{ClientKeys, PublicSetup, reply_level};
