//! CryptoRec over lattice HE (BFV): the fast mode ([`FastServer`], [`FastClient`]) and the
//! accurate mode's one step. See `docs/cryptorec-lattice.md` for the protocol, the parameter
//! choice, the circuit-privacy argument and the measured figures.
//!
//! Every message is opaque bytes with a 4-byte magic and a version: the server's setup (`VCLS`,
//! server to client, once), the client's keys (`VCLK`, once per client), queries (`VCLQ`) and
//! replies (`VCLR`). Parsers bound every length before reading it.
//!
//! ```no_run
//! # fn main() -> veil_cryptorec::Result<()> {
//! use veil_cryptorec::lattice::{FastClient, FastServer, LatticeConfig};
//! # let model: veil_cryptorec::quant::QuantizedModel = unimplemented!();
//! # let user: veil_cryptorec::model::UserRatings = unimplemented!();
//! let server = FastServer::new(&model, &LatticeConfig::default())?;
//! let client = FastClient::new(&server.setup_bytes()?, false)?;
//! let keys = server.client_keys(&client.key_bytes()?)?; // once per client
//! let (query, state) = client.query(&user)?;
//! let reply = server.answer(&keys, &query)?;
//! let predictions = client.decode(&state, &reply)?;
//! # Ok(()) }
//! ```

mod accurate;
mod fast;
mod layout;
mod params;
mod session;
mod wire;

pub use accurate::{
    AccurateClient, AccurateConfig, AccurateKeys, AccurateServer, AccurateSetup, AccurateState,
};
pub use fast::{FastClient, FastServer, QueryState};
pub use layout::FastLayout;
pub use params::{
    LatticeConfig, NoisePlan, choose_parameters, plaintext_bits_for, sanitize_reserve_bits,
};
pub use session::{ClientKeys, PublicSetup, reply_level};
