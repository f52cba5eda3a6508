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
//!
//! **Client keys (issue 14; API change).** The re-randomization by r^n hides how a response was
//! computed only if gcd(n, phi(n)) = 1 (then Z*_{n^2} = {(1+n)^m u^n} with (m, u) unique, and
//! r^n is uniform over the n-th residues); a client who picks n = p^2 q, or p | q - 1, could
//! otherwise read more of the model from the responses than the predictions. So the server
//! answers only a [`TrustedKey`]: a public key whose size is within the server's [`KeyPolicy`]
//! (at least 2048 bits unless a test sets otherwise, at most `max_bits`) and that comes with a
//! valid [`ModulusProof`] for [`KEY_PROOF_CONTEXT`]. The client makes the proof once per key
//! ([`prove_key`], a few ms) and sends it with the key; the server checks it once per key
//! ([`TrustedKey::verify`], 8 exponentiations mod n) and keeps the `TrustedKey` for the session.
//! Changed: [`respond`] takes `&TrustedKey` instead of `&PublicKey` (`TrustedKey` derefs to
//! `PublicKey`, so `Query::from_bytes(&trusted, ..)` still works).
//!
//! **What a client still learns** (with a trusted key): for each of its queries, the m integers
//! v_i = B_i + sum_c (sum_j x_j A'_jc) Q'_ic mod n, packed, for inputs x_j of its choice: the
//! server cannot check that x is an honest rating vector (encrypted), so a client may send unit
//! vectors or large values and so learn rows of B + X A' Q'^T, i.e. the model up to its
//! rank-d product (m queries, fewer if it packs several rows into one answer with large x).
//! Nothing else: each packed response ciphertext is a uniformly random encryption of its
//! plaintext. See docs/cryptorec.md.
use rayon::prelude::*;
use rug::Integer;
use veil_paillier::{
    Ciphertext, FixedBaseRandomness, ModulusProof, PackedCiphertext, PackingLayout, PrivateKey,
    PublicKey, RandomnessPool,
};

use crate::error::{Error, Result};
use crate::model::UserRatings;
use crate::quant::{PublicParams, QuantizedModel};

const QUERY_MAGIC: &[u8; 4] = b"VCQ1";
const RESPONSE_MAGIC: &[u8; 4] = b"VCR1";

/// The context string of the client's [`ModulusProof`] in fast mode.
pub const KEY_PROOF_CONTEXT: &[u8] = b"veil-cryptorec/fast/client-key/v1";

/// Which client keys a fast-mode server accepts (besides a valid [`ModulusProof`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Smallest modulus in bits: 2048 by default (about 112-bit security); lower only in tests.
    pub min_bits: u32,
    /// Largest modulus in bits: bounds the server's work per query (a query costs about m d
    /// operations mod n^2, cubic in the key size); 4096 by default.
    pub max_bits: u32,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy {
            min_bits: veil_paillier::DEFAULT_MODULUS_BITS,
            max_bits: 4096,
        }
    }
}

impl KeyPolicy {
    /// The default maximum, with keys down to the crate's minimum (1024 bits) accepted: for tests
    /// and benchmarks only, never for a deployment.
    pub fn insecure_small_keys_for_tests() -> Self {
        KeyPolicy {
            min_bits: veil_paillier::MIN_MODULUS_BITS,
            ..KeyPolicy::default()
        }
    }
}

/// A client public key the server has checked ([`TrustedKey::verify`]): the only key
/// [`respond`] answers.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    pk: PublicKey,
}

impl TrustedKey {
    /// Accepts `pk` if its size is within `policy` and `proof` shows gcd(n, phi(n)) = 1 (see
    /// the module documentation). Costs 8 exponentiations mod n.
    pub fn verify(pk: &PublicKey, proof: &ModulusProof, policy: &KeyPolicy) -> Result<Self> {
        let bits = pk.bits();
        if !(policy.min_bits..=policy.max_bits).contains(&bits) {
            return Err(Error::Paillier(veil_paillier::Error::InvalidKeySize {
                bits,
                min: policy.min_bits,
                max: policy.max_bits,
            }));
        }
        pk.verify_modulus_proof(proof, KEY_PROOF_CONTEXT)?;
        Ok(TrustedKey { pk: pk.clone() })
    }

    /// The checked public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }
}

impl core::ops::Deref for TrustedKey {
    type Target = PublicKey;
    fn deref(&self) -> &PublicKey {
        &self.pk
    }
}

/// Client, once per key: the proof the server requires with the key ([`TrustedKey::verify`]).
pub fn prove_key(sk: &PrivateKey) -> Result<ModulusProof> {
    Ok(sk.prove_modulus(KEY_PROOF_CONTEXT)?)
}

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

/// Server, step 2: the packed, re-randomized E(v_i) for every item (Alg. 2), under a client key
/// the server has checked.
pub fn respond(key: &TrustedKey, model: &QuantizedModel, query: &Query) -> Result<Response> {
    let pk = key.public_key();
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

    /// Parses and validates a query for a model of `params.items` items. The count and the
    /// length are checked before any ciphertext is (each costs a gcd with n).
    pub fn from_bytes(pk: &PublicKey, params: &PublicParams, bytes: &[u8]) -> Result<Self> {
        let ciphertexts = read_cts(QUERY_MAGIC, pk, bytes, params.items)?;
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
        let layout = layout(pk, params)?;
        let slots = layout.slots();
        let cts = read_cts(RESPONSE_MAGIC, pk, bytes, params.items.div_ceil(slots))?;
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

/// Parses `expected` ciphertexts: header, count and total length are checked before any
/// ciphertext is parsed or validated.
fn read_cts(
    magic: &[u8; 4],
    pk: &PublicKey,
    bytes: &[u8],
    expected: usize,
) -> Result<Vec<Ciphertext>> {
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
    if count != expected {
        return Err(Error::Message {
            reason: format!("expected {expected} ciphertexts, got {count}"),
        });
    }
    let len = pk.ciphertext_len();
    if Some(body.len()) != count.checked_mul(len) {
        return Err(bad("length does not match the ciphertext count"));
    }
    body.par_chunks(len)
        .map(|c| pk.ciphertext_from_bytes(c).map_err(Error::from))
        .collect()
}
