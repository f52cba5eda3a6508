//! What a server answers: the model information and one [`Handler`] per offered service.
//!
//! [`Service::answer`] maps one decoded request to one reply and never panics on any bytes;
//! the TCP server ([`super::Server`]) only moves whole messages. Adding a scheme is one
//! `impl Handler` passed to [`Service::new`].

use std::sync::Arc;

use crate::data::RatingScale;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::quant::{QuantConfig, QuantizedModel};

use super::info::{ModelInfo, ServiceInfo};
use super::paillier::{PaillierFast, PaillierParameters};
use super::wire::{self, ErrorCode, Kind, ServiceId};

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
    /// The answer body to a request body.
    fn respond(&self, request: &[u8]) -> Result<Vec<u8>>;
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
        Ok(Service {
            info,
            info_message,
            handlers,
        })
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
            _ => Reply::error(
                ErrorCode::Malformed,
                "a client sends info requests and queries only",
                true,
            ),
        }
    }

    fn query(&self, payload: &[u8]) -> Reply {
        let (service, body) = match wire::decode_service(payload) {
            Ok(split) => split,
            Err(e) => return Reply::error(ErrorCode::for_error(&e), &e.to_string(), false),
        };
        let Some(handler) = self.handlers.iter().find(|h| h.service() == service) else {
            return Reply::error(
                ErrorCode::Unsupported,
                &format!("this server does not offer the {}", service.name()),
                false,
            );
        };
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
        match handler.respond(body) {
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
