//! The message format: a 12-byte header and an opaque payload.
//!
//! ```text
//! offset 0  magic    "VCRS"
//!        4  version  1
//!        5  kind     1 info request, 2 info, 3 query, 4 answer, 5 keys, 6 key id, 15 error
//!        6  reserved 0, 0
//!        8  length   u32 little-endian, the payload's length
//!       12  payload  exactly `length` bytes
//! ```
//!
//! Every length is checked against the receiver's limit for that kind before any byte of the
//! payload is read or allocated, and a decoder that does not consume its whole input fails
//! ("trailing bytes"). Integers are little-endian throughout.

use crate::error::{Error, Result};

/// First four bytes of every message.
pub const MAGIC: [u8; 4] = *b"VCRS";
/// The protocol version this build speaks.
pub const VERSION: u8 = 1;
/// Length of the header.
pub const HEADER_LEN: usize = 12;

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Client to server: send the model's public information (empty payload).
    InfoRequest,
    /// Server to client: [`crate::service::ModelInfo`].
    Info,
    /// Client to server: a service byte ([`ServiceId`]), then that service's request.
    Query,
    /// Server to client: a service byte, then that service's answer.
    Answer,
    /// Client to server: a service byte, then that service's evaluation keys (lattice modes;
    /// sent once per client, kept in the server's key registry).
    Keys,
    /// Server to client: a service byte and the 32-byte [`super::KeyId`] of accepted keys.
    KeyId,
    /// Either way: an [`ErrorCode`] and a reason; the sender may close the connection after it.
    Error,
}

impl Kind {
    /// The byte on the wire.
    pub fn code(self) -> u8 {
        match self {
            Kind::InfoRequest => 1,
            Kind::Info => 2,
            Kind::Query => 3,
            Kind::Answer => 4,
            Kind::Keys => 5,
            Kind::KeyId => 6,
            Kind::Error => 15,
        }
    }

    /// The kind of a wire byte.
    pub fn from_code(code: u8) -> Option<Kind> {
        Some(match code {
            1 => Kind::InfoRequest,
            2 => Kind::Info,
            3 => Kind::Query,
            4 => Kind::Answer,
            5 => Kind::Keys,
            6 => Kind::KeyId,
            15 => Kind::Error,
            _ => return None,
        })
    }
}

/// A mode of the encrypted protocol, on the wire the first byte of a query or answer payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServiceId {
    /// CryptoRec-f over Paillier ([`crate::fast`]).
    PaillierFast,
    /// CryptoRec-f over BFV (lattice fast mode).
    BfvFast,
    /// CryptoRec-a(1) under lattice HE (accurate mode, one step), over CKKS.
    Accurate,
    /// CryptoRec-a(1) as an exact fixed-point circuit over BFV with CRT lanes.
    AccurateBfv,
}

impl ServiceId {
    /// Every service this protocol version names.
    pub const ALL: [ServiceId; 4] = [
        ServiceId::PaillierFast,
        ServiceId::BfvFast,
        ServiceId::Accurate,
        ServiceId::AccurateBfv,
    ];

    /// The byte on the wire.
    pub fn code(self) -> u8 {
        match self {
            ServiceId::PaillierFast => 1,
            ServiceId::BfvFast => 2,
            ServiceId::Accurate => 3,
            ServiceId::AccurateBfv => 4,
        }
    }

    /// The service of a wire byte.
    pub fn from_code(code: u8) -> Option<ServiceId> {
        ServiceId::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A name for messages: "fast mode over Paillier", ...
    pub fn name(self) -> &'static str {
        match self {
            ServiceId::PaillierFast => "fast mode over Paillier",
            ServiceId::BfvFast => "fast mode over BFV",
            ServiceId::Accurate => "accurate mode over CKKS",
            ServiceId::AccurateBfv => "accurate mode over exact BFV",
        }
    }
}

/// Why a request failed, sent in an error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A message that does not parse (bad header, bad payload, trailing bytes).
    Malformed,
    /// A message or field over the receiver's limit.
    TooLarge,
    /// A service this server does not offer.
    Unsupported,
    /// Every connection slot is taken; try again later.
    Busy,
    /// A message that did not arrive in time.
    Timeout,
    /// A well-formed request that cannot be answered (wrong key size, wrong item count, ...).
    Invalid,
    /// A query names evaluation keys the server does not hold (never uploaded, or evicted from
    /// its bounded registry): upload them again ([`Kind::Keys`]) and repeat the query.
    UnknownKey,
    /// Any other code (from a newer peer).
    Other(u16),
}

impl ErrorCode {
    /// The number on the wire.
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::Malformed => 1,
            ErrorCode::TooLarge => 2,
            ErrorCode::Unsupported => 3,
            ErrorCode::Busy => 4,
            ErrorCode::Timeout => 5,
            ErrorCode::Invalid => 6,
            ErrorCode::UnknownKey => 7,
            ErrorCode::Other(c) => c,
        }
    }

    /// The code of a wire number.
    pub fn from_code(code: u16) -> ErrorCode {
        match code {
            1 => ErrorCode::Malformed,
            2 => ErrorCode::TooLarge,
            3 => ErrorCode::Unsupported,
            4 => ErrorCode::Busy,
            5 => ErrorCode::Timeout,
            6 => ErrorCode::Invalid,
            7 => ErrorCode::UnknownKey,
            c => ErrorCode::Other(c),
        }
    }

    /// The code that describes a local error.
    pub fn for_error(e: &Error) -> ErrorCode {
        match e {
            Error::Message { .. } => ErrorCode::Malformed,
            Error::TooLarge { .. } => ErrorCode::TooLarge,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::Unavailable { .. } => ErrorCode::Unsupported,
            _ => ErrorCode::Invalid,
        }
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::TooLarge => "too large",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Busy => "busy",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Invalid => "invalid",
            ErrorCode::UnknownKey => "unknown key",
            ErrorCode::Other(c) => return write!(f, "code {c}"),
        };
        f.write_str(name)
    }
}

/// Longest reason text in an error message, in bytes.
pub const MAX_REASON_BYTES: usize = 512;

/// A decoded header: the kind and the announced payload length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The kind.
    pub kind: Kind,
    /// The payload length the sender announces.
    pub len: u32,
}

impl Header {
    /// The 12 header bytes of a message of `kind` with a payload of `len` bytes.
    pub fn encode(kind: Kind, len: u32) -> [u8; HEADER_LEN] {
        let mut h = [0_u8; HEADER_LEN];
        h[..4].copy_from_slice(&MAGIC);
        h[4] = VERSION;
        h[5] = kind.code();
        h[8..].copy_from_slice(&len.to_le_bytes());
        h
    }

    /// Parses a header and checks its length against `max_payload(kind)`: nothing is allocated
    /// for a payload over the limit.
    pub fn decode(bytes: &[u8; HEADER_LEN], max_payload: impl Fn(Kind) -> u64) -> Result<Header> {
        if bytes[..4] != MAGIC {
            return Err(malformed("not a CryptoRec service message (wrong magic)"));
        }
        if bytes[4] != VERSION {
            return Err(Error::Message {
                reason: format!(
                    "protocol version {} (this build speaks {VERSION})",
                    bytes[4]
                ),
            });
        }
        let kind = Kind::from_code(bytes[5]).ok_or_else(|| malformed("unknown message kind"))?;
        if bytes[6..8] != [0, 0] {
            return Err(malformed("reserved header bytes are not zero"));
        }
        let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let max = max_payload(kind);
        if u64::from(len) > max {
            return Err(Error::TooLarge {
                what: "message payload",
                len: u64::from(len),
                max,
            });
        }
        Ok(Header { kind, len })
    }
}

/// A whole message: header and payload.
pub fn encode(kind: Kind, payload: &[u8]) -> Result<Vec<u8>> {
    let len = u32::try_from(payload.len()).map_err(|_| Error::TooLarge {
        what: "message payload",
        len: payload.len() as u64,
        max: u64::from(u32::MAX),
    })?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&Header::encode(kind, len));
    out.extend_from_slice(payload);
    Ok(out)
}

/// Splits one whole message held in memory into its kind and payload: the header's checks, and
/// exactly `len` payload bytes (no more, no fewer).
pub fn decode(bytes: &[u8], max_payload: impl Fn(Kind) -> u64) -> Result<(Kind, &[u8])> {
    let (head, payload) = bytes
        .split_first_chunk::<HEADER_LEN>()
        .ok_or_else(|| malformed("shorter than a header"))?;
    let header = Header::decode(head, max_payload)?;
    if payload.len() != header.len as usize {
        return Err(Error::Message {
            reason: format!(
                "payload of {} bytes, the header announces {}",
                payload.len(),
                header.len
            ),
        });
    }
    Ok((header.kind, payload))
}

/// The payload of a query or answer: the service byte and that service's bytes.
pub fn encode_service(service: ServiceId, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + body.len());
    out.push(service.code());
    out.extend_from_slice(body);
    out
}

/// Splits a query or answer payload into its service and body.
pub fn decode_service(payload: &[u8]) -> Result<(ServiceId, &[u8])> {
    let (&code, body) = payload
        .split_first()
        .ok_or_else(|| malformed("empty query or answer"))?;
    let service = ServiceId::from_code(code).ok_or(Error::Unavailable {
        what: "an unknown service",
        reason: "in this protocol version",
    })?;
    Ok((service, body))
}

/// The payload of an error message: code (u16), reason length (u16), UTF-8 reason (cut to
/// [`MAX_REASON_BYTES`] at a character boundary).
pub fn encode_error(code: ErrorCode, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(MAX_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let text = reason.get(..end).unwrap_or("");
    let mut out = Vec::with_capacity(4 + text.len());
    out.extend_from_slice(&code.code().to_le_bytes());
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

/// Parses an error payload.
pub fn decode_error(payload: &[u8]) -> Result<(ErrorCode, String)> {
    let mut r = Reader::new(payload);
    let code = ErrorCode::from_code(r.u16()?);
    let len = usize::from(r.u16()?);
    if len > MAX_REASON_BYTES {
        return Err(Error::TooLarge {
            what: "error reason",
            len: len as u64,
            max: MAX_REASON_BYTES as u64,
        });
    }
    let text = std::str::from_utf8(r.bytes(len)?)
        .map_err(|_| malformed("error reason is not UTF-8"))?
        .to_string();
    r.finish()?;
    Ok((code, text))
}

pub(crate) fn malformed(reason: &str) -> Error {
    Error::Message {
        reason: reason.to_string(),
    }
}

/// A bounds-checked cursor over a payload.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or_else(|| malformed("payload ends early"))?;
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or_else(|| malformed("payload ends early"))?;
        self.rest = tail;
        Ok(*head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16> {
        self.array().map(u16::from_le_bytes)
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_le_bytes)
    }
    pub(crate) fn i64(&mut self) -> Result<i64> {
        self.array().map(i64::from_le_bytes)
    }
    pub(crate) fn u128(&mut self) -> Result<u128> {
        self.array().map(u128::from_le_bytes)
    }
    pub(crate) fn f32(&mut self) -> Result<f32> {
        self.array().map(f32::from_le_bytes)
    }
    pub(crate) fn f64(&mut self) -> Result<f64> {
        self.array().map(f64::from_le_bytes)
    }

    /// The bytes not read yet (for a body that runs to the end).
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Message {
                reason: format!("{} trailing bytes", self.rest.len()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_limits() {
        let msg = encode(Kind::Query, &[1, 2, 3]).expect("encodes");
        let (kind, payload) = decode(&msg, |_| 3).expect("decodes");
        assert_eq!((kind, payload), (Kind::Query, &[1_u8, 2, 3][..]));
        assert!(matches!(
            decode(&msg, |_| 2),
            Err(Error::TooLarge { len: 3, max: 2, .. })
        ));
        let mut trailing = msg.clone();
        trailing.push(0);
        assert!(decode(&trailing, |_| 10).is_err());
        assert!(decode(&msg[..msg.len() - 1], |_| 10).is_err());
        for (at, value) in [(0, b'X'), (4, 2), (5, 9), (6, 1)] {
            let mut bad = msg.clone();
            bad[at] = value;
            assert!(decode(&bad, |_| 10).is_err(), "byte {at} = {value}");
        }
    }

    #[test]
    fn error_payload() {
        let long = "é".repeat(400);
        let p = encode_error(ErrorCode::Busy, &long);
        let (code, text) = decode_error(&p).expect("decodes");
        assert_eq!(code, ErrorCode::Busy);
        assert!(text.len() <= MAX_REASON_BYTES && long.starts_with(&text));
        let mut trailing = p;
        trailing.push(b'x');
        assert!(decode_error(&trailing).is_err());
        assert_eq!(ErrorCode::from_code(77), ErrorCode::Other(77));
    }

    #[test]
    fn service_codes() {
        for s in ServiceId::ALL {
            assert_eq!(ServiceId::from_code(s.code()), Some(s));
        }
        assert!(decode_service(&[]).is_err());
        assert!(decode_service(&[0]).is_err());
    }
}
