//! What the two parties exchange before queries: the server's public setup (BFV parameters, the
//! model's public scales and shape) and the client's evaluation keys; and how a reply is
//! finished (sanitized, switched to the last prime).

use std::sync::Arc;

use veil_bfv::{BfvParameters, Ciphertext, GaloisKeys, PublicKey, SecretKey};
use veil_ring::sample::Sampler;

use crate::error::{Error, Result};
use crate::lattice::layout::FastLayout;
use crate::lattice::wire::{Reader, Writer, bad};
use crate::quant::PublicParams;

const SETUP_MAGIC: &[u8; 4] = b"VCLS";
const KEYS_MAGIC: &[u8; 4] = b"VCLK";
/// BFV parameter objects are a few hundred bytes (degree, t, at most 64 moduli).
const MAX_PARAMETER_BYTES: usize = 4096;

/// The server's public setup: everything a client needs, nothing about the weights.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicSetup {
    /// The BFV parameters (t chosen from the output bound).
    pub params: Arc<BfvParameters>,
    /// The model's public scales, shape and bounds.
    pub public: PublicParams,
    /// Slot layout and baby steps.
    pub layout: FastLayout,
}

impl PublicSetup {
    /// `VCLS`, version, the public parameters, d, b, then the BFV parameters (length-prefixed).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let p = &self.public;
        let mut w = Writer::new(SETUP_MAGIC);
        w.u32(u32::try_from(p.items).map_err(|_| bad("too many items"))?);
        w.u8(u8::try_from(p.rating_frac_bits).map_err(|_| bad("rating bits"))?);
        w.u64(p.input_bound as u64);
        w.u32(p.input_norm.to_bits());
        w.u64(p.output_scale.to_bits());
        w.u128(p.output_bound);
        w.u32(u32::try_from(self.layout.dim).map_err(|_| bad("dimension"))?);
        w.u32(u32::try_from(self.layout.baby).map_err(|_| bad("baby steps"))?);
        w.object(&self.params.to_bytes())?;
        Ok(w.into_bytes())
    }

    /// Parses and validates a setup from untrusted bytes: BFV parameters through veil-bfv's
    /// validating builder, shapes against the ring, the output bound against t.
    pub fn from_bytes(bytes: &[u8], allow_below_128_bit_security: bool) -> Result<Self> {
        let mut r = Reader::new(bytes, SETUP_MAGIC, "setup")?;
        let items = r.u32()? as usize;
        let rating_frac_bits = u32::from(r.u8()?);
        let input_bound = r.u64()?;
        let input_norm = f32::from_bits(r.u32()?);
        let output_scale = f64::from_bits(r.u64()?);
        let output_bound = r.u128()?;
        let dim = r.u32()? as usize;
        let baby = r.u32()? as usize;
        let params = BfvParameters::from_bytes(
            r.object(MAX_PARAMETER_BYTES, "BFV parameters")?,
            allow_below_128_bit_security,
        )?;
        r.finish()?;
        if rating_frac_bits > 16
            || input_bound == 0
            || input_bound > 1 << 40
            || !(input_norm.is_finite() && (0.0..=4.0).contains(&input_norm))
            || !(output_scale.is_finite() && output_scale > 0.0)
        {
            return Err(bad("setup: scales out of range"));
        }
        if !params.supports_batching()
            || output_bound.saturating_mul(2) >= u128::from(params.plaintext_modulus())
        {
            return Err(bad(
                "setup: t does not support batching or does not exceed twice the output bound",
            ));
        }
        let layout = FastLayout::new(items, dim, params.degree(), Some(baby))?;
        Ok(PublicSetup {
            params,
            public: PublicParams {
                items,
                rating_frac_bits,
                input_bound: input_bound as i64,
                input_norm,
                output_scale,
                output_bound,
            },
            layout,
        })
    }
}

/// A client's evaluation keys, as the server holds them: the public key (for re-randomizing
/// replies) and Galois keys for the rotations the server uses.
#[derive(Clone, Debug)]
pub struct ClientKeys {
    /// For the sanitization of replies.
    pub public: PublicKey,
    /// Row rotations.
    pub galois: GaloisKeys,
}

impl ClientKeys {
    /// Keys for `steps` (left row rotations) under the client's secret.
    pub fn generate(setup: &PublicSetup, secret: &SecretKey, steps: &[i64]) -> Result<Self> {
        let mut sampler = Sampler::from_entropy();
        let _ = setup;
        Ok(ClientKeys {
            public: secret.public_key_with(&mut sampler)?,
            galois: secret.galois_keys_for(steps, false, &mut sampler)?,
        })
    }

    /// `VCLK`, version, public key and Galois keys (each length-prefixed, veil-bfv's formats).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new(KEYS_MAGIC);
        w.object(&self.public.to_bytes())?;
        w.object(&self.galois.to_bytes())?;
        Ok(w.into_bytes())
    }

    /// Parses keys from untrusted bytes; each object's length is bounded by the largest it can be
    /// under `setup` before it is read, and every rotation of the layout must be keyed.
    pub fn from_bytes(setup: &PublicSetup, bytes: &[u8]) -> Result<Self> {
        let params = &setup.params;
        let n = params.degree();
        let k = params.ciphertext_moduli().len();
        // A full (unseeded) switching key: k digits x 2 polynomials x (k + 1) limbs x N words.
        let per_key = 2 * k * (k + 1) * n * 8 + 256;
        let steps = setup.layout.rotation_steps();
        let mut r = Reader::new(bytes, KEYS_MAGIC, "client keys")?;
        let public = PublicKey::from_bytes(params, r.object(2 * k * n * 8 + 256, "public key")?)?;
        let galois = GaloisKeys::from_bytes(
            params,
            r.object((steps.len() + 1) * per_key, "Galois keys")?,
        )?;
        r.finish()?;
        if steps.iter().any(|&s| galois.rotation_cost(s).is_none()) {
            return Err(Error::Message {
                reason: "the Galois keys do not cover every rotation of this server".into(),
            });
        }
        Ok(ClientKeys { public, galois })
    }
}

/// Sanitizes the reply (veil-bfv's [`PublicKey::sanitize`]: re-randomization, flooding, switch to
/// the lowest level that still decrypts) when `circuit_privacy`; otherwise only switches it to
/// that same level (for measuring what the sanitization changes).
pub(crate) fn finish_reply(
    ct: &Ciphertext,
    pk: &PublicKey,
    circuit_privacy: bool,
) -> Result<Ciphertext> {
    if circuit_privacy {
        return Ok(pk.sanitize(ct, &mut Sampler::from_entropy())?);
    }
    let target = reply_level(ct.parameters());
    let mut out = ct.clone();
    while out.level() < target {
        out = out.mod_switch_to_next()?;
    }
    Ok(out)
}

/// The level veil-bfv's sanitization switches a reply to: the last whose modulus Q' satisfies
/// 3 Q' > 4 t (N + 1) + 8 t^2 (`veil_bfv::sanitize` docs), computed in floating point with a
/// factor-2 margin on the right-hand side.
pub fn reply_level(params: &BfvParameters) -> usize {
    let t = params.plaintext_modulus() as f64;
    let need = 2.0 * (4.0 * t * (params.degree() as f64 + 1.0) + 8.0 * t * t);
    let moduli = params.ciphertext_moduli();
    (0..=params.max_level())
        .rev()
        .find(|&l| {
            let q: f64 = moduli[..moduli.len() - l]
                .iter()
                .map(|&q| q as f64)
                .product();
            3.0 * q > need
        })
        .unwrap_or(0)
}
