//! The lattice modes as services: the fast mode over BFV ([`BfvFast`], serving
//! [`crate::lattice::FastServer`]), the accurate mode's one step over CKKS ([`AccurateStep`],
//! serving [`crate::lattice::AccurateServer`]) and over exact BFV ([`AccurateBfvStep`], serving
//! [`crate::lattice::AccurateBfvServer`]).
//!
//! ```text
//! parameters: the lattice setup bytes (VCLS / VCAS / VCBS: parameters and shapes)
//! keys:       the lattice key bytes (VCLK / VCAK / VCBK), uploaded once ([`super::Kind::Keys`])
//! request:    key id (32 bytes) | the lattice query (VCLQ / VCAQ / VCBQ)
//! answer:     the lattice reply (VCLR / VCAR / VCBR), as the lattice module makes it
//! ```
//!
//! Every bound below is derived from the served model's parameters (ring degree N, number of
//! primes k, rotations of its layout), the same bounds the lattice parsers check: a key upload
//! of an ML-1M-shaped model at d = 500 is accepted up to its real size, not up to a blanket
//! frame limit, and a query is limited to a few MB.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::lattice::{
    AccurateBfvConfig, AccurateBfvKeys, AccurateBfvServer, AccurateBfvSetup, AccurateConfig,
    AccurateKeys, AccurateServer, AccurateSetup, ClientKeys, FastServer, LatticeConfig,
    PublicSetup,
};
use crate::model::Model;
use crate::quant::QuantizedModel;

use super::handler::Handler;
use super::keys::{KEY_ID_LEN, LoadedKeys};
use super::wire::ServiceId;

/// Room for the magic, version and length prefixes around the lattice objects, and for each
/// object's own header (veil-bfv / veil-ckks formats).
const FRAMING: u64 = 256;

/// The longest switching key (k digits x 2 polynomials x (k + 1) limbs x N words), as the
/// lattice parsers bound it.
fn switching_key_bytes(degree: usize, primes: usize) -> u64 {
    (2 * primes * (primes + 1) * degree * 8) as u64 + FRAMING
}

/// The longest ciphertext of `polys` polynomials over `limbs` primes.
fn ciphertext_bytes(degree: usize, limbs: usize, polys: usize) -> u64 {
    (polys * limbs * degree * 8) as u64 + FRAMING
}

/// Bounds of the fast mode over BFV for a setup: (key upload, query, reply), in bytes.
pub fn bfv_bounds(setup: &PublicSetup) -> (u64, u64, u64) {
    let (n, k) = (
        setup.params.degree(),
        setup.params.ciphertext_moduli().len(),
    );
    let rotations = setup.layout.rotation_steps().len() as u64;
    let keys = FRAMING + ciphertext_bytes(n, k, 2) + (rotations + 1) * switching_key_bytes(n, k);
    let query = FRAMING + ciphertext_bytes(n, k, 2);
    (keys, query, query)
}

/// Bounds of the accurate mode for a setup: (key upload, query, reply), in bytes.
pub fn accurate_bounds(setup: &AccurateSetup) -> (u64, u64, u64) {
    let (n, k) = (setup.params.degree(), setup.params.moduli().len());
    let rotations = setup.rotation_steps().len() as u64;
    let keys =
        FRAMING + ciphertext_bytes(n, k + 1, 2) + (rotations + 2) * switching_key_bytes(n, k);
    let query = FRAMING + 3 * ciphertext_bytes(n, k, 2);
    let reply = FRAMING + 2 * ciphertext_bytes(n, k, 2);
    (keys, query, reply)
}

/// Bounds of the exact accurate mode over BFV (one key set shared by every CRT lane; per lane
/// three query and two reply ciphertexts): (key upload, query, reply), in bytes.
pub fn accurate_bfv_bounds(setup: &AccurateBfvSetup) -> (u64, u64, u64) {
    let p = setup.first();
    let (n, k) = (p.degree(), p.ciphertext_moduli().len());
    let lanes = setup.lanes.params.len() as u64;
    let rotations = setup.rotation_steps().len() as u64;
    let keys =
        FRAMING + ciphertext_bytes(n, k + 1, 2) + (rotations + 2) * switching_key_bytes(n, k);
    let query = FRAMING + 3 * lanes * ciphertext_bytes(n, k, 2);
    let reply = FRAMING + 2 * lanes * ciphertext_bytes(n, k, 2);
    (keys, query, reply)
}

fn wrong_keys() -> Error {
    Error::Invalid {
        reason: "the named keys belong to another service",
    }
}

fn keyed_only() -> Error {
    Error::Invalid {
        reason: "this service answers keyed requests only",
    }
}

/// The [`Handler`] of a lattice service: every request names keys the client uploaded once
/// (`respond` without keys is refused), key bytes go through the lattice module's validating
/// parser, and answers are the lattice module's (sanitized or re-randomized) replies. One body
/// for the three services, which differ only in their server and key types.
macro_rules! keyed_handler {
    ($handler:ty, $service:expr, $keys:ty) => {
        impl Handler for $handler {
            fn service(&self) -> ServiceId {
                $service
            }

            fn parameters(&self) -> Vec<u8> {
                self.setup.clone()
            }

            fn max_request_bytes(&self) -> u64 {
                KEY_ID_LEN as u64 + self.bounds.1
            }

            fn respond(&self, _request: &[u8]) -> Result<Vec<u8>> {
                Err(keyed_only())
            }

            fn max_key_bytes(&self) -> u64 {
                self.bounds.0
            }

            fn load_keys(&self, bytes: &[u8]) -> Result<LoadedKeys> {
                Ok(Arc::new(self.server.client_keys(bytes)?))
            }

            fn respond_with_keys(&self, keys: &LoadedKeys, request: &[u8]) -> Result<Vec<u8>> {
                let keys = keys.downcast_ref::<$keys>().ok_or_else(wrong_keys)?;
                self.server.answer(keys, request)
            }
        }
    };
}

/// The server's handler of the fast mode over BFV (read-only, shared).
#[derive(Debug)]
pub struct BfvFast {
    server: FastServer,
    setup: Vec<u8>,
    bounds: (u64, u64, u64),
}

impl BfvFast {
    /// Prepares `model` under `cfg` (see [`FastServer::new`]).
    pub fn new(model: &QuantizedModel, cfg: &LatticeConfig) -> Result<Self> {
        Self::from_server(FastServer::new(model, cfg)?)
    }

    /// Serves an already prepared [`FastServer`].
    pub fn from_server(server: FastServer) -> Result<Self> {
        let setup = server.setup_bytes()?;
        let bounds = bfv_bounds(server.setup());
        Ok(BfvFast {
            server,
            setup,
            bounds,
        })
    }

    /// The prepared server.
    pub fn server(&self) -> &FastServer {
        &self.server
    }
}

keyed_handler!(BfvFast, ServiceId::BfvFast, ClientKeys);

/// The server's handler of the accurate mode, one step over CKKS (read-only, shared).
#[derive(Debug)]
pub struct AccurateStep {
    server: AccurateServer,
    setup: Vec<u8>,
    bounds: (u64, u64, u64),
}

impl AccurateStep {
    /// Prepares the float `model` for the step of `cfg` (see [`AccurateServer::new`]).
    pub fn new(model: &Model, cfg: &AccurateConfig) -> Result<Self> {
        Self::from_server(AccurateServer::new(model, cfg)?)
    }

    /// Serves an already prepared [`AccurateServer`].
    pub fn from_server(server: AccurateServer) -> Result<Self> {
        let setup = server.setup_bytes()?;
        let bounds = accurate_bounds(server.setup());
        Ok(AccurateStep {
            server,
            setup,
            bounds,
        })
    }
}

keyed_handler!(AccurateStep, ServiceId::Accurate, AccurateKeys);

/// The server's handler of the exact accurate mode over BFV (read-only, shared).
#[derive(Debug)]
pub struct AccurateBfvStep {
    server: AccurateBfvServer,
    setup: Vec<u8>,
    bounds: (u64, u64, u64),
}

impl AccurateBfvStep {
    /// Prepares the float `model` for the exact step of `cfg` (see [`AccurateBfvServer::new`]).
    pub fn new(model: &Model, cfg: &AccurateBfvConfig) -> Result<Self> {
        let server = AccurateBfvServer::new(model, cfg)?;
        let setup = server.setup_bytes()?;
        let bounds = accurate_bfv_bounds(server.setup());
        Ok(AccurateBfvStep {
            server,
            setup,
            bounds,
        })
    }
}

keyed_handler!(AccurateBfvStep, ServiceId::AccurateBfv, AccurateBfvKeys);

/// What a server offers (`veil cryptorec serve --offer ...`): each service is prepared once at
/// start-up and shared read-only by every client.
#[derive(Clone, Debug, Default)]
pub struct Offer {
    /// The fast mode over Paillier, accepting client keys within these sizes.
    pub paillier: Option<super::PaillierParameters>,
    /// The fast mode over BFV under these lattice settings.
    pub bfv: Option<LatticeConfig>,
    /// The accurate mode's one step over CKKS.
    pub accurate: Option<AccurateConfig>,
    /// The accurate mode's one step as an exact circuit over BFV.
    pub accurate_bfv: Option<AccurateBfvConfig>,
}

impl super::Service {
    /// A service of the float `model` (quantized with `quant` for the fast modes) offering the
    /// services of `offer`, with the default key memory ([`super::Service::with_key_memory`]).
    pub fn offering(
        model: &Model,
        item_ids: Vec<u64>,
        quant: &crate::quant::QuantConfig,
        offer: &Offer,
    ) -> Result<Self> {
        let q = Arc::new(QuantizedModel::new(model, quant)?);
        let mut handlers: Vec<Box<dyn Handler>> = Vec::new();
        if let Some(keys) = offer.paillier {
            handlers.push(Box::new(super::PaillierFast::new(Arc::clone(&q), keys)?));
        }
        if let Some(cfg) = &offer.bfv {
            handlers.push(Box::new(BfvFast::new(&q, cfg)?));
        }
        if let Some(cfg) = &offer.accurate {
            handlers.push(Box::new(AccurateStep::new(model, cfg)?));
        }
        if let Some(cfg) = &offer.accurate_bfv {
            handlers.push(Box::new(AccurateBfvStep::new(model, cfg)?));
        }
        if handlers.is_empty() {
            return Err(Error::Invalid {
                reason: "a server must offer at least one service",
            });
        }
        super::Service::new(&q, model.scale, item_ids, handlers)
    }
}
