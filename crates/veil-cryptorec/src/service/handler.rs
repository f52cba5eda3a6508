//! What a server answers: the model information and one [`Handler`] per offered service.
//!
//! [`Service::answer`] maps one decoded request to one reply and never panics on any bytes;
//! the TCP server ([`super::Server`]) only moves whole messages. Adding a scheme is one
//! `impl Handler` passed to [`Service::new`]. Services with evaluation keys (the lattice modes)
//! say how large their keys may be ([`Handler::max_key_bytes`]) and parse them
//! ([`Handler::load_keys`]); the service keeps them in its [`KeyRegistry`] and hands them to
//! [`Handler::respond_with_keys`] for the queries that name them.

use std::sync::Arc;

use crate::data::RatingScale;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::quant::{QuantConfig, QuantizedModel};

use super::info::{ModelInfo, ServiceInfo};
use super::keys::{KEY_ID_LEN, KeyId, KeyRegistry, LoadedKeys};
use super::paillier::{PaillierFast, PaillierParameters};
use super::wire::{self, ErrorCode, Kind, ServiceId};

/// Default cap of the key registry: 2 GiB (13 BFV key sets of an ML-1M-shaped model at d = 500,
/// or 5 of the accurate mode's).
pub const DEFAULT_KEY_MEMORY: u64 = 2 << 30;

/// One service of the encrypted protocol, on the server side. Implementations are read-only
/// (shared between worker threads) and must return an error, never panic, on any request bytes.
pub trait Handler: Send + Sync + core::fmt::Debug {
    /// Which service this is.
    fn service(&self) -> ServiceId;
    /// The public parameters the client needs (sent with the model information).
    fn parameters(&self) -> Vec<u8>;
    /// The longest request body accepted: longer requests are refused from their header,
    /// before anything is allocated.
    fn max_request_bytes(&self) -> u64;
    /// The answer body to a request body (services without keys).
    fn respond(&self, request: &[u8]) -> Result<Vec<u8>>;
    /// The longest evaluation-key upload accepted, derived from the service's parameters; 0
    /// (the default): the service takes no keys and its requests name none. Keyed requests
    /// start with the 32-byte [`KeyId`].
    fn max_key_bytes(&self) -> u64 {
        0
    }
    /// Parses and validates uploaded evaluation keys.
    fn load_keys(&self, _bytes: &[u8]) -> Result<LoadedKeys> {
        Err(Error::Unavailable {
            what: "evaluation keys",
            reason: "for this service (it takes none)",
        })
    }
    /// The answer body to a request body (after its key id) under the keys it names.
    fn respond_with_keys(&self, _keys: &LoadedKeys, _request: &[u8]) -> Result<Vec<u8>> {
        Err(Error::Unavailable {
            what: "keyed requests",
            reason: "for this service",
        })
    }
}

/// A reply: the message to send, and whether the connection ends after it.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    /// The whole message (header and payload).
    pub message: Vec<u8>,
    /// True after an error that leaves the stream unusable or the peer untrusted.
    pub close: bool,
}

impl Reply {
    /// An error message.
    pub fn error(code: ErrorCode, reason: &str, close: bool) -> Reply {
        let payload = wire::encode_error(code, reason);
        Reply {
            message: wire::encode(Kind::Error, &payload).unwrap_or_default(),
            close,
        }
    }

    fn of(kind: Kind, payload: &[u8]) -> Reply {
        match wire::encode(kind, payload) {
            Ok(message) => Reply {
                message,
                close: false,
            },
            Err(e) => Reply::error(ErrorCode::for_error(&e), &e.to_string(), false),
        }
    }
}

/// The server's side: the model information and the handlers, read-only.
#[derive(Debug)]
pub struct Service {
    info: ModelInfo,
    info_message: Vec<u8>,
    handlers: Vec<Box<dyn Handler>>,
    registry: KeyRegistry,
}

impl Service {
    /// A service for a quantized model, its rating scale and item identifiers (empty or one per
    /// item), answering with `handlers` (at most one per [`ServiceId`]).
    pub fn new(
        model: &QuantizedModel,
        scale: RatingScale,
        item_ids: Vec<u64>,
        handlers: Vec<Box<dyn Handler>>,
    ) -> Result<Self> {
        let mut services = Vec::with_capacity(handlers.len());
        for h in &handlers {
            if services
                .iter()
                .any(|s: &ServiceInfo| s.service == h.service())
            {
                return Err(Error::Invalid {
                    reason: "two handlers for one service",
                });
            }
            services.push(ServiceInfo {
                service: h.service(),
                max_request_bytes: h.max_request_bytes(),
                parameters: h.parameters(),
            });
        }
        let info = ModelInfo {
            params: model.params,
            scale,
            item_ids,
            services,
        };
        let info_message = wire::encode(Kind::Info, &info.encode()?)?;
        let service = Service {
            info,
            info_message,
            handlers,
            registry: KeyRegistry::new(0),
        };
        let memory = DEFAULT_KEY_MEMORY.max(service.max_key_bytes());
        service.with_key_memory(memory)
    }

    /// The same service with a key registry of `bytes` (at least one key set of every keyed
    /// service must fit). Its contents are dropped.
    pub fn with_key_memory(mut self, bytes: u64) -> Result<Self> {
        if self.max_key_bytes() > bytes {
            return Err(Error::Invalid {
                reason: "the key memory must hold at least one key set of every offered service",
            });
        }
        self.registry = KeyRegistry::new(bytes);
        Ok(self)
    }

    /// The uploaded keys held.
    pub fn registry(&self) -> &KeyRegistry {
        &self.registry
    }

    /// The longest key upload of any offered service (0: none takes keys).
    pub fn max_key_bytes(&self) -> u64 {
        self.handlers
            .iter()
            .map(|h| h.max_key_bytes())
            .max()
            .unwrap_or(0)
    }

    /// The fast mode over Paillier for a float model quantized with `quant`: the common setup
    /// of `veil cryptorec serve`.
    pub fn paillier(
        model: &Model,
        item_ids: Vec<u64>,
        quant: &QuantConfig,
        keys: PaillierParameters,
    ) -> Result<Self> {
        let q = Arc::new(QuantizedModel::new(model, quant)?);
        let handler = PaillierFast::new(Arc::clone(&q), keys)?;
        Service::new(&q, model.scale, item_ids, vec![Box::new(handler)])
    }

    /// The model information sent to clients.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The longest payload accepted from a client for a message of `kind` (0 for the kinds a
    /// client never sends: they are refused as unexpected).
    pub fn max_request_payload(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Query => {
                1 + self
                    .handlers
                    .iter()
                    .map(|h| h.max_request_bytes())
                    .max()
                    .unwrap_or(0)
            }
            Kind::Keys => match self.max_key_bytes() {
                0 => 0,
                max => 1 + max,
            },
            _ => 0,
        }
    }

    /// The reply to one request whose header was accepted (`payload.len()` within
    /// [`Self::max_request_payload`]).
    pub fn answer(&self, kind: Kind, payload: &[u8]) -> Reply {
        match kind {
            Kind::InfoRequest if payload.is_empty() => Reply {
                message: self.info_message.clone(),
                close: false,
            },
            Kind::InfoRequest => {
                Reply::error(ErrorCode::Malformed, "an info request has no payload", true)
            }
            Kind::Query => self.query(payload),
            Kind::Keys => self.keys(payload),
            _ => Reply::error(
                ErrorCode::Malformed,
                "a client sends info requests, keys and queries only",
                true,
            ),
        }
    }

    fn handler<'a>(
        &'a self,
        payload: &'a [u8],
    ) -> core::result::Result<(&'a dyn Handler, &'a [u8]), Reply> {
        let (service, body) = wire::decode_service(payload)
            .map_err(|e| Reply::error(ErrorCode::for_error(&e), &e.to_string(), false))?;
        let handler = self
            .handlers
            .iter()
            .find(|h| h.service() == service)
            .ok_or_else(|| {
                Reply::error(
                    ErrorCode::Unsupported,
                    &format!("this server does not offer the {}", service.name()),
                    false,
                )
            })?;
        Ok((handler.as_ref(), body))
    }

    /// A key upload: parsed by the handler (unless the same keys are held already), stored,
    /// answered with their id. The registry charges each key set the service's
    /// [`Handler::max_key_bytes`]: the lattice parsers' bound, every switching key expanded,
    /// which is what parsed keys hold in memory (uploads are smaller: seeded keys).
    fn keys(&self, payload: &[u8]) -> Reply {
        let (handler, body) = match self.handler(payload) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let service = handler.service();
        let max = handler.max_key_bytes();
        if max == 0 {
            return Reply::error(
                ErrorCode::Unsupported,
                &format!("the {} takes no evaluation keys", service.name()),
                false,
            );
        }
        if body.len() as u64 > max {
            return Reply::error(
                ErrorCode::TooLarge,
                &format!(
                    "keys of {} bytes for the {}, over their limit of {max}",
                    body.len(),
                    service.name()
                ),
                false,
            );
        }
        let parameters = self
            .info
            .service(service)
            .map_or(&[][..], |s| s.parameters.as_slice());
        let id = KeyId::of(service, parameters, body);
        if self.registry.get(&id, service).is_none() {
            let stored = handler
                .load_keys(body)
                .and_then(|keys| self.registry.insert(id, service, keys, max));
            if let Err(e) = stored {
                return Reply::error(ErrorCode::for_error(&e), &e.to_string(), false);
            }
        }
        let mut answer = Vec::with_capacity(1 + KEY_ID_LEN);
        answer.push(service.code());
        answer.extend_from_slice(&id.0);
        Reply::of(Kind::KeyId, &answer)
    }

    fn query(&self, payload: &[u8]) -> Reply {
        let (handler, body) = match self.handler(payload) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let service = handler.service();
        if body.len() as u64 > handler.max_request_bytes() {
            return Reply::error(
                ErrorCode::TooLarge,
                &format!(
                    "request of {} bytes for the {}, over its limit of {}",
                    body.len(),
                    service.name(),
                    handler.max_request_bytes()
                ),
                false,
            );
        }
        let answered = if handler.max_key_bytes() == 0 {
            handler.respond(body)
        } else {
            let (id, request) = match KeyId::split(body) {
                Ok(split) => split,
                Err(e) => return Reply::error(ErrorCode::for_error(&e), &e.to_string(), false),
            };
            let Some(keys) = self.registry.get(&id, service) else {
                return Reply::error(
                    ErrorCode::UnknownKey,
                    &format!(
                        "no evaluation keys {id} for the {} here: upload them",
                        service.name()
                    ),
                    false,
                );
            };
            handler.respond_with_keys(&keys, request)
        };
        match answered {
            Ok(answer) => Reply::of(Kind::Answer, &wire::encode_service(service, &answer)),
            Err(e) => Reply::error(ErrorCode::for_error(&e), &e.to_string(), false),
        }
    }

    /// The reply to one whole message held in memory (header and payload): the same checks as
    /// the server's, for tests and fuzzing.
    pub fn handle_message(&self, bytes: &[u8]) -> Reply {
        match wire::decode(bytes, |k| self.max_request_payload(k)) {
            Ok((kind, payload)) => self.answer(kind, payload),
            Err(e) => Reply::error(ErrorCode::for_error(&e), &e.to_string(), true),
        }
    }
}
