//! Compact binary serialization, and validation of untrusted bytes (`veil_ring::wire`, the format
//! shared with `veil-bfv`).
//!
//! Every object starts with `VCKS`, a format version and a kind byte. Objects tied to parameters
//! carry a 64-bit fingerprint of them, so bytes made under other parameters are refused.
//! Polynomials are bit-packed, each residue in ceil(log2 q_i) bits. Readers compute the exact
//! expected length from the parameters (and the level they read) before allocating anything,
//! check every residue against its prime, and refuse trailing bytes. The uniform halves of public
//! and switching keys are replaced by 32-byte seeds.

use std::sync::Arc;

use veil_ring::Ntt;
use veil_ring::keys::{GaloisKeySet, RlwePublicKey, RlweSecret, SwitchingKey, open_object};
use veil_ring::wire::{
    Format, Reader, Writer, kind, parameter_bytes, parameter_fingerprint, poly_len,
};

use crate::ciphertext::{Ciphertext, Plaintext};
use crate::error::{Error, Result};
use crate::keys::{GaloisKeys, PublicKey, ROTATION_GENERATOR, RelinearizationKey, SecretKey};
use crate::parameters::{CkksParameters, CkksParametersBuilder};

/// `VCKS`, format version 1.
const FORMAT: Format = Format {
    magic: *b"VCKS",
    version: 1,
};
/// More primes than any 128-bit chain up to N = 65536 has (1747 / 40 < 44), with room.
const MAX_MODULI: usize = 64;

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

impl CkksParameters {
    fn encode_fields(&self, w: &mut Writer) {
        w.u32(self.degree() as u32);
        w.u8(self.log_scale() as u8);
        let all: Vec<u64> = self
            .moduli()
            .iter()
            .copied()
            .chain([self.special_modulus()])
            .collect();
        w.moduli(&all);
    }

    /// A fingerprint of the parameters (FNV-1a of their encoding), stored in every object.
    pub fn fingerprint(&self) -> u64 {
        parameter_fingerprint(|w| self.encode_fields(w))
    }

    /// The parameters as bytes (degree, log2 of the scale, the primes then P).
    pub fn to_bytes(&self) -> Vec<u8> {
        parameter_bytes(FORMAT, |w| self.encode_fields(w))
    }

    /// Parameters from untrusted bytes, validated by the builder (including the 128-bit bound,
    /// unless `allow_below_128_bit_security`).
    pub fn from_bytes(bytes: &[u8], allow_below_128_bit_security: bool) -> Result<Arc<Self>> {
        let mut r = Reader::new(bytes, FORMAT, kind::PARAMETERS)?;
        let n = r.u32()? as usize;
        let log_scale = u32::from(r.u8()?);
        let moduli = r.moduli(MAX_MODULI)?;
        r.finish()?;
        let mut b = CkksParametersBuilder::new()
            .degree(n)
            .moduli(&moduli)
            .log_scale(log_scale);
        if allow_below_128_bit_security {
            b = b.allow_below_128_bit_security();
        }
        b.build()
    }

    /// A level and scale read from untrusted bytes: the level exists and the scale is a finite
    /// positive number below Q_l (a larger one cannot hold a message).
    pub(crate) fn read_level_and_scale(&self, r: &mut Reader<'_>) -> Result<(usize, f64)> {
        let level = r.u8()? as usize;
        let lv = self
            .level(level)
            .map_err(|_| malformed("level outside the chain"))?;
        let scale = f64::from_bits(r.u64()?);
        let max = 2f64.powi(lv.ctx.modulus_bits() as i32);
        if !(scale.is_finite() && scale >= 1.0 && scale < max) {
            return Err(malformed("scale not finite, below 1 or above Q_l"));
        }
        Ok((level, scale))
    }
}

impl Ciphertext {
    /// Header, fingerprint, size, level, scale (f64 bits), then the polynomials over R_{Q_l}.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(FORMAT, kind::CIPHERTEXT);
        w.u64(self.params.fingerprint());
        w.u8(self.c.len() as u8);
        w.u8(self.level as u8);
        w.u64(self.scale.to_bits());
        for p in &self.c {
            w.poly(p);
        }
        w.into_bytes()
    }

    /// A ciphertext from untrusted bytes: 2 or 3 polynomials at an existing level, exact length.
    pub fn from_bytes(params: &Arc<CkksParameters>, bytes: &[u8]) -> Result<Self> {
        let mut r = open_object(bytes, FORMAT, kind::CIPHERTEXT, params.fingerprint())?;
        let size = r.u8()? as usize;
        let (level, scale) = params.read_level_and_scale(&mut r)?;
        let ctx = params.level(level)?.ctx.clone();
        if !(2..=3).contains(&size) || r.remaining() != size * poly_len(&ctx) {
            return Err(malformed("wrong size or length for these parameters"));
        }
        let c = (0..size)
            .map(|_| r.poly::<Ntt>(&ctx))
            .collect::<veil_ring::Result<Vec<_>>>()?;
        r.finish()?;
        Ok(Ciphertext {
            params: params.clone(),
            level,
            scale,
            c,
        })
    }
}

impl Plaintext {
    /// Header, fingerprint, level, scale (f64 bits), then the polynomial over R_{Q_l}.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(FORMAT, kind::PLAINTEXT);
        w.u64(self.params.fingerprint());
        w.u8(self.level as u8);
        w.u64(self.scale.to_bits());
        w.poly(&self.poly);
        w.into_bytes()
    }

    /// A plaintext from untrusted bytes.
    pub fn from_bytes(params: &Arc<CkksParameters>, bytes: &[u8]) -> Result<Self> {
        let mut r = open_object(bytes, FORMAT, kind::PLAINTEXT, params.fingerprint())?;
        let (level, scale) = params.read_level_and_scale(&mut r)?;
        let ctx = params.level(level)?.ctx.clone();
        if r.remaining() != poly_len(&ctx) {
            return Err(malformed("wrong length for these parameters"));
        }
        let poly = r.poly(&ctx)?;
        r.finish()?;
        Ok(Plaintext {
            params: params.clone(),
            level,
            scale,
            poly,
        })
    }
}

impl PublicKey {
    /// Header, fingerprint, the seed of a, then b over Q P.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.key
            .to_object(FORMAT, kind::PUBLIC_KEY, self.params.fingerprint())
    }

    /// A public key from untrusted bytes (a is re-expanded from its seed).
    pub fn from_bytes(params: &Arc<CkksParameters>, bytes: &[u8]) -> Result<Self> {
        let (fp, ctx) = (params.fingerprint(), params.key_context());
        let key = RlwePublicKey::from_object(bytes, FORMAT, kind::PUBLIC_KEY, fp, ctx)?;
        Ok(PublicKey {
            params: params.clone(),
            key,
        })
    }
}

impl RelinearizationKey {
    /// Header, fingerprint, then per prime of Q: seed of a_i, b_i.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.key
            .to_object(FORMAT, kind::RELIN_KEY, self.params.fingerprint())
    }

    /// A relinearization key from untrusted bytes (exact length first).
    pub fn from_bytes(params: &Arc<CkksParameters>, bytes: &[u8]) -> Result<Self> {
        let (ctx, digits, fp) = (
            params.key_context(),
            params.moduli().len(),
            params.fingerprint(),
        );
        let key = SwitchingKey::from_object(bytes, FORMAT, kind::RELIN_KEY, fp, ctx, digits)?;
        Ok(RelinearizationKey {
            params: params.clone(),
            key,
        })
    }
}

impl GaloisKeys {
    /// Header, fingerprint, count, then per key: Galois element and key-switching key.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.set
            .to_object(FORMAT, kind::GALOIS_KEYS, self.params.fingerprint())
    }

    /// Galois keys from untrusted bytes: elements odd, below 2N, strictly increasing, exact length.
    pub fn from_bytes(params: &Arc<CkksParameters>, bytes: &[u8]) -> Result<Self> {
        let (ctx, digits, fp) = (
            params.key_context(),
            params.moduli().len(),
            params.fingerprint(),
        );
        let g = ROTATION_GENERATOR;
        let set = GaloisKeySet::from_object(bytes, FORMAT, kind::GALOIS_KEYS, fp, ctx, digits, g)?;
        Ok(GaloisKeys {
            params: params.clone(),
            set,
        })
    }
}

impl SecretKey {
    /// Header, fingerprint, then one byte per coefficient of s (0, 1, or 2 for -1). Secret: store
    /// it as such.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut w = Writer::new(FORMAT, kind::SECRET_KEY);
        w.u64(self.params.fingerprint());
        let coded: zeroize::Zeroizing<Vec<u8>> = zeroize::Zeroizing::new(
            self.secret
                .coeffs()
                .iter()
                .map(|&c| match c {
                    1 => 1,
                    -1 => 2,
                    _ => 0,
                })
                .collect(),
        );
        w.bytes(&coded);
        zeroize::Zeroizing::new(w.into_bytes())
    }

    /// A secret key from bytes: exactly N coefficient bytes, each 0, 1 or 2.
    pub fn from_bytes(params: &Arc<CkksParameters>, bytes: &[u8]) -> Result<Self> {
        let mut r = open_object(bytes, FORMAT, kind::SECRET_KEY, params.fingerprint())?;
        let coded = r.take(params.degree())?;
        r.finish()?;
        let coeffs = coded
            .iter()
            .map(|&b| match b {
                0 => Ok(0),
                1 => Ok(1),
                2 => Ok(-1),
                _ => Err(malformed("secret coefficient not in {0, 1, 2}")),
            })
            .collect::<Result<Vec<i64>>>()?;
        Ok(SecretKey {
            params: params.clone(),
            secret: RlweSecret::from_coeffs(params.key_context(), coeffs)?,
        })
    }
}

veil_ring::serde_parameters_via_bytes!(CkksParameters);
