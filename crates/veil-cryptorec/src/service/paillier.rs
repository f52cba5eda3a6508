//! The fast mode over Paillier as a service: the request carries the client's public key, the
//! proof that it is a valid Paillier modulus ([`crate::fast::TrustedKey`]) and its
//! [`crate::fast::Query`]; the answer is the [`crate::fast::Response`].
//!
//! ```text
//! parameters: min modulus bits u32 | max modulus bits u32 | proof kind u32 (1: ModulusProof
//!             "VMP1" for fast::KEY_PROOF_CONTEXT)
//! request:    modulus length u16 | n, big-endian, no leading zero byte
//!             | proof length u32 | ModulusProof bytes | fast::Query bytes ("VCQ1", count, cts)
//! answer:     fast::Response bytes ("VCR1", count, ciphertexts)
//! ```
//!
//! The modulus length is checked against the server's largest key before anything else, the
//! proof length against that key's proof size, and the whole request against
//! `max_request_bytes` (the query of the largest key) by the framing, so a large key, proof or
//! query is refused before it is parsed or answered. The key is verified
//! ([`TrustedKey::verify`]: size policy and proof) before any ciphertext is parsed.

use std::sync::Arc;

use rug::Integer;
use rug::integer::Order;
use veil_paillier::{
    MAX_MODULUS_BITS, MIN_MODULUS_BITS, MODULUS_PROOF_ROUNDS, ModulusProof, PrivateKey, PublicKey,
};

use crate::error::{Error, Result};
use crate::fast::{KeyPolicy, Query, Response, TrustedKey, decrypt_response, prove_key};
use crate::quant::{PublicParams, QuantizedModel};

use super::handler::Handler;
use super::wire::{Reader, ServiceId, malformed};

/// Key sizes a Paillier service accepts (public: sent in the model information).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaillierParameters {
    /// Smallest modulus, in bits.
    pub min_modulus_bits: u32,
    /// Largest modulus, in bits: bounds the request size and the server's work per request.
    pub max_modulus_bits: u32,
}

/// The proof kind on the wire: [`ModulusProof`] for [`crate::fast::KEY_PROOF_CONTEXT`].
const PROOF_KIND: u32 = 1;

impl Default for PaillierParameters {
    /// [`KeyPolicy::default`]: 2048 to 4096-bit moduli.
    fn default() -> Self {
        PaillierParameters::from(KeyPolicy::default())
    }
}

impl From<KeyPolicy> for PaillierParameters {
    fn from(p: KeyPolicy) -> Self {
        PaillierParameters {
            min_modulus_bits: p.min_bits,
            max_modulus_bits: p.max_bits,
        }
    }
}

impl PaillierParameters {
    /// Checks the range against the Paillier crate's own bounds.
    pub fn validate(&self) -> Result<()> {
        if self.min_modulus_bits < MIN_MODULUS_BITS
            || self.max_modulus_bits > MAX_MODULUS_BITS
            || self.min_modulus_bits > self.max_modulus_bits
        {
            return Err(Error::Invalid {
                reason: "modulus bits must satisfy 1024 <= min <= max <= 16384",
            });
        }
        Ok(())
    }

    /// The key policy these parameters describe.
    pub fn policy(&self) -> KeyPolicy {
        KeyPolicy {
            min_bits: self.min_modulus_bits,
            max_bits: self.max_modulus_bits,
        }
    }

    /// The 12 parameter bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12);
        out.extend_from_slice(&self.min_modulus_bits.to_le_bytes());
        out.extend_from_slice(&self.max_modulus_bits.to_le_bytes());
        out.extend_from_slice(&PROOF_KIND.to_le_bytes());
        out
    }

    /// Parses and validates parameter bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let p = PaillierParameters {
            min_modulus_bits: r.u32()?,
            max_modulus_bits: r.u32()?,
        };
        if r.u32()? != PROOF_KIND {
            return Err(Error::Unavailable {
                what: "the server's kind of modulus proof",
                reason: "in this build",
            });
        }
        r.finish()?;
        p.validate()?;
        Ok(p)
    }

    /// The longest proof of the largest key: "VMP1", count, then 8 roots of n's width.
    pub fn max_proof_bytes(&self) -> u64 {
        8 + MODULUS_PROOF_ROUNDS as u64 * u64::from(self.max_modulus_bits.div_ceil(8))
    }

    /// The longest request for a model of `items` items: the largest key's query.
    pub fn max_request_bytes(&self, items: usize) -> u64 {
        let modulus = u64::from(self.max_modulus_bits.div_ceil(8));
        let ciphertext = u64::from((2 * self.max_modulus_bits).div_ceil(8));
        2 + modulus + 4 + self.max_proof_bytes() + 8 + items as u64 * ciphertext
    }
}

/// The request body: the client's public key, the proof that it is a valid Paillier modulus
/// ([`crate::fast::prove_key`], made once per key) and the query.
pub fn encode_request(pk: &PublicKey, proof: &ModulusProof, query: &Query) -> Result<Vec<u8>> {
    let n = pk.n().to_digits::<u8>(Order::Msf);
    let len = u16::try_from(n.len()).map_err(|_| Error::Invalid {
        reason: "modulus over 65535 bytes",
    })?;
    let proof = proof.to_bytes(pk)?;
    let body = query.to_bytes(pk)?;
    let mut out = Vec::with_capacity(2 + n.len() + 4 + proof.len() + body.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&n);
    out.extend_from_slice(&(proof.len() as u32).to_le_bytes());
    out.extend_from_slice(&proof);
    out.extend_from_slice(&body);
    Ok(out)
}

/// [`encode_request`] with the proof made here (a few ms: once per key is enough, see
/// [`crate::fast::prove_key`]).
pub fn encode_request_proving(sk: &PrivateKey, query: &Query) -> Result<Vec<u8>> {
    encode_request(sk.public_key(), &prove_key(sk)?, query)
}

/// Parses and checks a request body: a modulus within `limits` (its length checked before it
/// is read), a valid proof for it ([`TrustedKey::verify`]), and a query of exactly
/// `params.items` ciphertexts under that key.
pub fn decode_request(
    bytes: &[u8],
    params: &PublicParams,
    limits: &PaillierParameters,
) -> Result<(TrustedKey, Query)> {
    let mut r = Reader::new(bytes);
    let len = usize::from(r.u16()?);
    let max = limits.max_modulus_bits.div_ceil(8) as usize;
    if len > max {
        return Err(Error::TooLarge {
            what: "Paillier modulus",
            len: len as u64,
            max: max as u64,
        });
    }
    let digits = r.bytes(len)?;
    if digits.first() == Some(&0) {
        return Err(malformed("modulus with a leading zero byte"));
    }
    let n = Integer::from_digits(digits, Order::Msf);
    let bits = n.significant_bits();
    if !(limits.min_modulus_bits..=limits.max_modulus_bits).contains(&bits) {
        return Err(Error::Paillier(veil_paillier::Error::InvalidKeySize {
            bits,
            min: limits.min_modulus_bits,
            max: limits.max_modulus_bits,
        }));
    }
    let proof_len = u64::from(r.u32()?);
    if proof_len > limits.max_proof_bytes() {
        return Err(Error::TooLarge {
            what: "modulus proof",
            len: proof_len,
            max: limits.max_proof_bytes(),
        });
    }
    let proof_bytes = r.bytes(proof_len as usize)?;
    let pk = PublicKey::from_modulus(n)?;
    let proof = ModulusProof::from_bytes(&pk, proof_bytes)?;
    let key = TrustedKey::verify(&pk, &proof, &limits.policy())?;
    let query = Query::from_bytes(&key, params, r.rest())?;
    Ok((key, query))
}

/// The client's side of an answer: parses it against its own key and the public parameters and
/// decrypts the integers v_i (see [`crate::fast::decrypt_response`]).
pub fn decrypt_answer(sk: &PrivateKey, params: &PublicParams, bytes: &[u8]) -> Result<Vec<i128>> {
    let response = Response::from_bytes(sk.public_key(), params, bytes)?;
    decrypt_response(sk, params, &response)
}

/// The server's handler of the fast mode over Paillier (read-only, shared).
#[derive(Clone, Debug)]
pub struct PaillierFast {
    model: Arc<QuantizedModel>,
    limits: PaillierParameters,
}

impl PaillierFast {
    /// A handler of `model` accepting keys within `limits`.
    pub fn new(model: Arc<QuantizedModel>, limits: PaillierParameters) -> Result<Self> {
        limits.validate()?;
        Ok(PaillierFast { model, limits })
    }
}

impl Handler for PaillierFast {
    fn service(&self) -> ServiceId {
        ServiceId::PaillierFast
    }

    fn parameters(&self) -> Vec<u8> {
        self.limits.encode()
    }

    fn max_request_bytes(&self) -> u64 {
        self.limits.max_request_bytes(self.model.params.items)
    }

    fn respond(&self, request: &[u8]) -> Result<Vec<u8>> {
        let (key, query) = decode_request(request, &self.model.params, &self.limits)?;
        crate::fast::respond(&key, &self.model, &query)?.to_bytes(&key)
    }
}
