//! Fast-mode prediction over Paillier (sec. 5.1, Fig. 3, Alg. 2).
//!
//! 1. The client encrypts x = round(s_r (r_u - rbar_u) . phi_u) for **all** m items, so the
//!    server cannot tell rated from unrated items ([`encrypt_query`]).
//! 2. The server computes E(y) = E(x) A' (d ciphertexts), then E(v_i) = E(y) q'_i^T + B_i for
//!    every item, packs the m results into signed slots by Horner's rule, and re-randomizes
//!    them so that they carry no trace of the model beyond their plaintexts ([`respond`]).
//! 3. The client decrypts, unpacks, adds rbar_u and ranks ([`decrypt_response`]).
//!
//! The server sees only the client's public key and m ciphertexts. Both products use
//! [`veil_paillier::PublicKey::matvec_vartime`]: each column groups its inputs by weight, so a
//! product shared by several entries is formed once (the reuse of sec. 3.2), and zero (pruned)
//! weights cost nothing.

use rayon::prelude::*;
use rug::Integer;
use veil_paillier::{
    Ciphertext, FixedBaseRandomness, PackedCiphertext, PackingLayout, PrivateKey, PublicKey,
    RandomnessPool,
};

use crate::error::{Error, Result};
use crate::model::UserRatings;
use crate::quant::{PublicParams, QuantizedModel};

const QUERY_MAGIC: &[u8; 4] = b"VCQ1";
const RESPONSE_MAGIC: &[u8; 4] = b"VCR1";

/// The client's encrypted ratings: one ciphertext per item.
#[derive(Clone, Debug)]
pub struct Query {
    /// E(x_j) for j in 0..m.
    pub ciphertexts: Vec<Ciphertext>,
}

/// The server's answer: the m integer predictions, packed.
#[derive(Clone, Debug)]
pub struct Response {
    /// Packed E(v_i), `layout(pk, params).slots()` per ciphertext.
    pub packed: Vec<PackedCiphertext>,
}

/// The slot layout both sides derive from the public parameters.
pub fn layout(pk: &PublicKey, params: &PublicParams) -> Result<PackingLayout> {
    let bits = 128 - params.output_bound.leading_zeros();
    Ok(PackingLayout::new(pk, bits.max(1), 0)?)
}

/// Where the client's encryption randomness comes from.
#[derive(Debug)]
pub enum Randomness<'a> {
    /// Drawn fresh with the key holder's CRT shortcut (constant time), in parallel.
    Fresh,
    /// Precomputed offline: each online encryption is one multiplication.
    Pool(&'a mut RandomnessPool),
    /// Fixed-base tables of a safe-prime key: fresh and about 10x cheaper than `Fresh`, but
    /// variable time (see [`veil_paillier::FixedBaseRandomness`]).
    FixedBaseVartime(&'a FixedBaseRandomness),
}

/// Client, step 1: encrypts the quantized centred ratings of every item.
pub fn encrypt_query(
    sk: &PrivateKey,
    params: &PublicParams,
    user: &UserRatings,
    randomness: Randomness<'_>,
) -> Result<Query> {
    let x = QuantizedModel::quantize_input(params, user)?;
    let ciphertexts = match randomness {
        Randomness::Pool(pool) => x
            .iter()
            .map(|&v| pool.encrypt(v))
            .collect::<veil_paillier::Result<Vec<_>>>()?,
        Randomness::Fresh => sk.encrypt_batch(&x)?,
        Randomness::FixedBaseVartime(fb) => sk.encrypt_batch_fixed_base_vartime(fb, &x)?,
    };
    Ok(Query { ciphertexts })
}

/// Server, step 2: the packed, re-randomized E(v_i) for every item (Alg. 2).
pub fn respond(pk: &PublicKey, model: &QuantizedModel, query: &Query) -> Result<Response> {
    let m = model.params.items;
    if query.ciphertexts.len() != m {
        return Err(Error::Message {
            reason: format!("expected {m} ciphertexts, got {}", query.ciphertexts.len()),
        });
    }
    let (a, q_t) = (
        model.a.as_slice().ok_or(Error::Invalid {
            reason: "A' is not in standard layout",
        })?,
        model.q_t.as_slice().ok_or(Error::Invalid {
            reason: "Q'^T is not in standard layout",
        })?,
    );
    let bias = model.bias.as_slice().ok_or(Error::Invalid {
        reason: "the biases are not in standard layout",
    })?;
    let y = pk.matvec_vartime(&query.ciphertexts, a, model.dim())?;
    let v = pk.matvec_vartime(&y, q_t, m)?;
    let layout = layout(pk, &model.params)?;
    let slots = layout.slots();
    let packed = v
        .par_chunks(slots)
        .zip(bias.par_chunks(slots))
        .map(|(cts, bias)| {
            let p = pk.pack_vartime(cts, layout, model.params.output_bound)?;
            // The biases enter as one packed plaintext: sum_k B_k 2^(B k).
            let mut plain = Integer::new();
            for &b in bias.iter().rev() {
                plain <<= layout.slot_bits();
                plain += b;
            }
            let ct = pk.add_plain(&p.ciphertext, plain)?;
            Ok(PackedCiphertext {
                ciphertext: pk.rerandomize(&ct)?,
                ..p
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Response { packed })
}

/// Client, step 3: the integers v_i (divide by `params.output_scale` and add rbar_u, or use
/// [`crate::quant::dequantize`]).
pub fn decrypt_response(
    sk: &PrivateKey,
    params: &PublicParams,
    response: &Response,
) -> Result<Vec<i128>> {
    let mut v = sk.decrypt_packed_batch(&response.packed)?;
    if v.len() < params.items {
        return Err(Error::Message {
            reason: format!("{} predictions for {} items", v.len(), params.items),
        });
    }
    v.truncate(params.items);
    Ok(v)
}

impl Query {
    /// Wire format: "VCQ1", u32 count (LE), then fixed-width ciphertexts.
    pub fn to_bytes(&self, pk: &PublicKey) -> Result<Vec<u8>> {
        write_cts(QUERY_MAGIC, pk, &self.ciphertexts)
    }

    /// Parses and validates a query for a model of `params.items` items.
    pub fn from_bytes(pk: &PublicKey, params: &PublicParams, bytes: &[u8]) -> Result<Self> {
        let ciphertexts = read_cts(QUERY_MAGIC, pk, bytes)?;
        if ciphertexts.len() != params.items {
            return Err(Error::Message {
                reason: format!(
                    "expected {} ciphertexts, got {}",
                    params.items,
                    ciphertexts.len()
                ),
            });
        }
        Ok(Query { ciphertexts })
    }
}

impl Response {
    /// Wire format: "VCR1", u32 count (LE), then fixed-width ciphertexts; the layout is not
    /// sent, both sides derive it from the public parameters.
    pub fn to_bytes(&self, pk: &PublicKey) -> Result<Vec<u8>> {
        let cts: Vec<Ciphertext> = self.packed.iter().map(|p| p.ciphertext.clone()).collect();
        write_cts(RESPONSE_MAGIC, pk, &cts)
    }

    /// Parses and validates a response for `params`.
    pub fn from_bytes(pk: &PublicKey, params: &PublicParams, bytes: &[u8]) -> Result<Self> {
        let cts = read_cts(RESPONSE_MAGIC, pk, bytes)?;
        let layout = layout(pk, params)?;
        let slots = layout.slots();
        if cts.len() != params.items.div_ceil(slots) {
            return Err(Error::Message {
                reason: format!(
                    "expected {} packed ciphertexts, got {}",
                    params.items.div_ceil(slots),
                    cts.len()
                ),
            });
        }
        let packed = cts
            .into_iter()
            .enumerate()
            .map(|(k, ciphertext)| PackedCiphertext {
                ciphertext,
                layout,
                len: slots.min(params.items - k * slots),
                bound: params.output_bound,
            })
            .collect();
        Ok(Response { packed })
    }
}

fn write_cts(magic: &[u8; 4], pk: &PublicKey, cts: &[Ciphertext]) -> Result<Vec<u8>> {
    let count = u32::try_from(cts.len()).map_err(|_| Error::Message {
        reason: "too many ciphertexts".into(),
    })?;
    let mut out = Vec::with_capacity(8 + cts.len() * pk.ciphertext_len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&count.to_le_bytes());
    for c in cts {
        out.extend_from_slice(&pk.ciphertext_to_bytes(c)?);
    }
    Ok(out)
}

fn read_cts(magic: &[u8; 4], pk: &PublicKey, bytes: &[u8]) -> Result<Vec<Ciphertext>> {
    let bad = |reason: &str| Error::Message {
        reason: reason.to_string(),
    };
    let (head, body) = bytes
        .split_at_checked(8)
        .ok_or_else(|| bad("shorter than the header"))?;
    if head.get(..4) != Some(&magic[..]) {
        return Err(bad("wrong magic"));
    }
    let count = head
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| bad("shorter than the header"))? as usize;
    let len = pk.ciphertext_len();
    if Some(body.len()) != count.checked_mul(len) {
        return Err(bad("length does not match the ciphertext count"));
    }
    body.par_chunks(len)
        .map(|c| pk.ciphertext_from_bytes(c).map_err(Error::from))
        .collect()
}
