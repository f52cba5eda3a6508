//! The model's public information: what a client needs before its first query.
//!
//! ```text
//! items u32 | rating_frac_bits u8 | input_bound i64 | input_norm f32 | output_scale f64
//! | output_bound u128 | scale min f32 | scale max f32 | id count u32 (0 or items) | ids u64...
//! | service count u8 | per service: code u8, max request bytes u64, parameter length u32,
//!   parameters (opaque to this layer)
//! ```

use crate::data::RatingScale;
use crate::error::{Error, Result};
use crate::quant::PublicParams;

use super::wire::{Reader, ServiceId, malformed};

/// Most services one info message may list.
pub const MAX_SERVICES: usize = 16;

/// The public information a server sends about its model (no weights: sizes and scales).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// Sizes and scales of the quantized model (see [`PublicParams`]).
    pub params: PublicParams,
    /// The rating scale; the client refuses ratings outside it.
    pub scale: RatingScale,
    /// The data set's item identifiers in model order (empty: items are named 0..m).
    pub item_ids: Vec<u64>,
    /// The services this server answers, with their public parameters.
    pub services: Vec<ServiceInfo>,
}

/// One service offered by a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Which service.
    pub service: ServiceId,
    /// The largest request body the server accepts for it.
    pub max_request_bytes: u64,
    /// Its public parameters (for Paillier: [`super::PaillierParameters`]).
    pub parameters: Vec<u8>,
}

/// Limits on what a client accepts from a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InfoLimits {
    /// Most items a model may announce.
    pub max_items: usize,
    /// Longest parameter block of one service.
    pub max_parameter_bytes: usize,
}

impl Default for InfoLimits {
    /// 2^20 items (MovieLens 20M has 27,278; Netflix 17,770), 1 MiB of parameters per service.
    fn default() -> Self {
        InfoLimits {
            max_items: 1 << 20,
            max_parameter_bytes: 1 << 20,
        }
    }
}

impl InfoLimits {
    /// The longest info payload these limits allow.
    pub fn max_payload(&self) -> u64 {
        let fixed = 4 + 1 + 8 + 4 + 8 + 16 + 4 + 4 + 4 + 1;
        let per_service = 1 + 8 + 4 + self.max_parameter_bytes as u64;
        fixed + 8 * self.max_items as u64 + MAX_SERVICES as u64 * per_service
    }
}

impl ModelInfo {
    /// The service entry for `service`, if the server offers it.
    pub fn service(&self, service: ServiceId) -> Option<&ServiceInfo> {
        self.services.iter().find(|s| s.service == service)
    }

    /// The wire payload.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let p = &self.params;
        let items = u32::try_from(p.items).map_err(|_| Error::Invalid {
            reason: "more than 2^32 items",
        })?;
        let frac = u8::try_from(p.rating_frac_bits).map_err(|_| Error::Invalid {
            reason: "rating_frac_bits over 255",
        })?;
        if !self.item_ids.is_empty() && self.item_ids.len() != p.items {
            return Err(Error::Invalid {
                reason: "item_ids must be empty or one per item",
            });
        }
        if self.services.len() > MAX_SERVICES {
            return Err(Error::Invalid {
                reason: "too many services",
            });
        }
        let mut out = Vec::with_capacity(64 + 8 * self.item_ids.len());
        out.extend_from_slice(&items.to_le_bytes());
        out.push(frac);
        out.extend_from_slice(&p.input_bound.to_le_bytes());
        out.extend_from_slice(&p.input_norm.to_le_bytes());
        out.extend_from_slice(&p.output_scale.to_le_bytes());
        out.extend_from_slice(&p.output_bound.to_le_bytes());
        out.extend_from_slice(&self.scale.min.to_le_bytes());
        out.extend_from_slice(&self.scale.max.to_le_bytes());
        out.extend_from_slice(&(self.item_ids.len() as u32).to_le_bytes());
        for id in &self.item_ids {
            out.extend_from_slice(&id.to_le_bytes());
        }
        out.push(self.services.len() as u8);
        for s in &self.services {
            let len = u32::try_from(s.parameters.len()).map_err(|_| Error::Invalid {
                reason: "service parameters over 4 GiB",
            })?;
            out.push(s.service.code());
            out.extend_from_slice(&s.max_request_bytes.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&s.parameters);
        }
        Ok(out)
    }

    /// Parses and validates an info payload: sizes within `limits`, finite positive scales, a
    /// valid rating scale, zero or m identifiers, no service twice, no trailing bytes. Services
    /// of unknown codes (from a newer server) are skipped.
    pub fn decode(bytes: &[u8], limits: &InfoLimits) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let items = r.u32()? as usize;
        if items == 0 || items > limits.max_items {
            return Err(Error::TooLarge {
                what: "model items",
                len: items as u64,
                max: limits.max_items as u64,
            });
        }
        let rating_frac_bits = u32::from(r.u8()?);
        let input_bound = r.i64()?;
        let input_norm = r.f32()?;
        let output_scale = r.f64()?;
        let output_bound = r.u128()?;
        if rating_frac_bits > 16
            || input_bound <= 0
            || !(0.0..=2.0).contains(&input_norm)
            || !(output_scale.is_finite() && output_scale > 0.0)
        {
            return Err(malformed("model parameters out of range"));
        }
        let scale = RatingScale::new(r.f32()?, r.f32()?)
            .map_err(|_| malformed("rating scale needs finite min < max"))?;
        let ids = r.u32()? as usize;
        if ids != 0 && ids != items {
            return Err(malformed("item identifiers must be absent or one per item"));
        }
        let item_ids = r
            .bytes(ids * 8)?
            .chunks_exact(8)
            .map(|c| {
                let mut b = [0_u8; 8];
                b.copy_from_slice(c);
                u64::from_le_bytes(b)
            })
            .collect();
        let count = usize::from(r.u8()?);
        if count > MAX_SERVICES {
            return Err(malformed("too many services"));
        }
        let mut services: Vec<ServiceInfo> = Vec::with_capacity(count);
        for _ in 0..count {
            let code = r.u8()?;
            let max_request_bytes = r.u64()?;
            let len = r.u32()? as usize;
            if len > limits.max_parameter_bytes {
                return Err(Error::TooLarge {
                    what: "service parameters",
                    len: len as u64,
                    max: limits.max_parameter_bytes as u64,
                });
            }
            let parameters = r.bytes(len)?.to_vec();
            let Some(service) = ServiceId::from_code(code) else {
                continue;
            };
            if services.iter().any(|s| s.service == service) {
                return Err(malformed("a service is listed twice"));
            }
            services.push(ServiceInfo {
                service,
                max_request_bytes,
                parameters,
            });
        }
        r.finish()?;
        Ok(ModelInfo {
            params: PublicParams {
                items,
                rating_frac_bits,
                input_bound,
                input_norm,
                output_scale,
                output_bound,
            },
            scale,
            item_ids,
            services,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ModelInfo {
        ModelInfo {
            params: PublicParams {
                items: 3,
                rating_frac_bits: 4,
                input_bound: 64,
                input_norm: 0.5,
                output_scale: 1234.5,
                output_bound: 1 << 70,
            },
            scale: RatingScale::default(),
            item_ids: vec![10, 20, 30],
            services: vec![ServiceInfo {
                service: ServiceId::PaillierFast,
                max_request_bytes: 99,
                parameters: vec![1, 2, 3],
            }],
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let info = sample();
        let bytes = info.encode().expect("encodes");
        let limits = InfoLimits::default();
        assert!(bytes.len() as u64 <= limits.max_payload());
        assert_eq!(ModelInfo::decode(&bytes, &limits).expect("decodes"), info);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(ModelInfo::decode(&trailing, &limits).is_err());
        for cut in 0..bytes.len() {
            assert!(
                ModelInfo::decode(&bytes[..cut], &limits).is_err(),
                "cut {cut}"
            );
        }
        let small = InfoLimits {
            max_items: 2,
            ..limits
        };
        assert!(matches!(
            ModelInfo::decode(&bytes, &small),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn unknown_services_are_skipped() {
        let mut info = sample();
        info.item_ids.clear();
        let mut bytes = info.encode().expect("encodes");
        // Turn the service's code into an unknown one.
        let at = bytes.len() - (1 + 8 + 4 + 3);
        bytes[at] = 200;
        let parsed = ModelInfo::decode(&bytes, &InfoLimits::default()).expect("decodes");
        assert!(parsed.services.is_empty());
    }
}
