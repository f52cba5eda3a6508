//! Compact binary serialization, and validation of untrusted bytes.
//!
//! Every object starts with `VBFV`, a format version and a kind byte. Objects tied to parameters
//! carry a 64-bit fingerprint of them (FNV-1a of the parameters' encoding), so bytes made under
//! other parameters are refused. Polynomials are bit-packed: each residue mod q_i in
//! ceil(log2 q_i) bits. Readers compute the exact expected length from the parameters before
//! allocating anything, check every residue against its prime, and refuse trailing bytes.
//! The uniform halves of symmetric ciphertexts and of keys are replaced by 32-byte seeds.

use std::sync::Arc;

use veil_ring::keys::{GaloisKeySet, RlwePublicKey, SwitchingKey, open_object};
use veil_ring::sample::Sampler;
use veil_ring::wire::{Format, Reader, Writer, kind, poly_len};
use veil_ring::{Coeff, Poly, Representation};

use crate::ciphertext::Ciphertext;
use crate::encoding::Plaintext;
use crate::error::{Error, Result};
use crate::galois::{GaloisKeys, ROW_GENERATOR};
use crate::keys::{PublicKey, SecretKey, error_poly, expand_uniform, fresh_seed};
use crate::parameters::{BfvParameters, BfvParametersBuilder};
use crate::relin::RelinearizationKey;

/// `VBFV`, format version 1.
const FORMAT: Format = Format {
    magic: *b"VBFV",
    version: 1,
};
/// More moduli than any 128-bit-secure chain has: bounds what a parameter header can ask for.
const MAX_MODULI: usize = 64;

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

/// Header, fingerprint, a 32-byte seed and one polynomial: the layout of seeded ciphertexts and
/// public keys.
fn write_seeded<R: Representation>(
    kind: u8,
    params: &BfvParameters,
    seed: &[u8; 32],
    poly: &Poly<R>,
) -> Vec<u8> {
    let mut w = Writer::new(FORMAT, kind);
    w.u64(params.fingerprint());
    w.bytes(seed);
    w.poly(poly);
    w.into_bytes()
}

/// Reads the layout of [`write_seeded`] with one polynomial over R_Q (level 0).
fn read_seeded<R: Representation>(
    params: &Arc<BfvParameters>,
    bytes: &[u8],
    kind: u8,
) -> Result<([u8; 32], Poly<R>)> {
    let mut r = open_object(bytes, FORMAT, kind, params.fingerprint())?;
    let seed = r.seed()?;
    let ctx = params.ciphertext_context().clone();
    if r.remaining() != poly_len(&ctx) {
        return Err(malformed("wrong length for these parameters"));
    }
    let poly = r.poly(&ctx)?;
    r.finish()?;
    Ok((seed, poly))
}

impl BfvParameters {
    fn encode_fields(&self, w: &mut Writer) {
        w.u32(self.degree() as u32);
        w.u64(self.plaintext_modulus());
        let chain = self.ciphertext_moduli().iter().copied();
        w.moduli(&chain.chain([self.special_modulus()]).collect::<Vec<_>>());
    }

    /// A fingerprint of the parameters (FNV-1a of their encoding), stored in every object.
    pub fn fingerprint(&self) -> u64 {
        veil_ring::wire::parameter_fingerprint(|w| self.encode_fields(w))
    }

    /// The parameters as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        veil_ring::wire::parameter_bytes(FORMAT, |w| self.encode_fields(w))
    }

    /// Parameters from untrusted bytes, validated by the builder (including the 128-bit bound,
    /// unless `allow_below_128_bit_security`).
    pub fn from_bytes(bytes: &[u8], allow_below_128_bit_security: bool) -> Result<Arc<Self>> {
        let mut r = Reader::new(bytes, FORMAT, kind::PARAMETERS)?;
        let n = r.u32()? as usize;
        let t = r.u64()?;
        let moduli = r.moduli(MAX_MODULI)?;
        r.finish()?;
        let mut b = BfvParametersBuilder::new()
            .degree(n)
            .moduli(&moduli)
            .plaintext_modulus(t);
        if allow_below_128_bit_security {
            b = b.allow_below_128_bit_security();
        }
        b.build()
    }
}

impl Ciphertext {
    /// The ciphertext as bytes: header, fingerprint, level, size, bit-packed polynomials.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(FORMAT, kind::CIPHERTEXT);
        w.u64(self.params.fingerprint());
        w.u8(self.level as u8);
        w.u8(self.c.len() as u8);
        for p in &self.c {
            w.poly(p);
        }
        w.into_bytes()
    }

    /// A ciphertext from untrusted bytes: right parameters, level and size, exact length, every
    /// residue below its prime. No allocation happens before the length is known to be right.
    pub fn from_bytes(params: &Arc<BfvParameters>, bytes: &[u8]) -> Result<Self> {
        let mut r = open_object(bytes, FORMAT, kind::CIPHERTEXT, params.fingerprint())?;
        let level = r.u8()? as usize;
        if level > params.max_level() {
            return Err(malformed("level beyond the modulus chain"));
        }
        let size = r.u8()? as usize;
        if !(2..=3).contains(&size) {
            return Err(malformed("a ciphertext has 2 or 3 polynomials"));
        }
        let ctx = params.level(level)?.ctx.clone();
        if r.remaining() != size * poly_len(&ctx) {
            return Err(malformed("wrong length for these parameters"));
        }
        let c = (0..size)
            .map(|_| r.poly::<Coeff>(&ctx))
            .collect::<veil_ring::Result<Vec<_>>>()?;
        r.finish()?;
        Ok(Ciphertext {
            params: params.clone(),
            level,
            c,
        })
    }
}

/// A symmetric ciphertext whose uniform half c_1 is given by a 32-byte seed: about half the size
/// of a [`Ciphertext`]. Expand it with [`SeededCiphertext::expand`] before computing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededCiphertext {
    params: Arc<BfvParameters>,
    seed: [u8; 32],
    c0: Poly<Coeff>,
}

impl SecretKey {
    /// Symmetric encryption with c_1 derived from a fresh seed (see [`SeededCiphertext`]).
    pub fn encrypt_seeded(&self, pt: &Plaintext) -> Result<SeededCiphertext> {
        self.encrypt_seeded_with(pt, &mut Sampler::from_entropy())
    }

    /// [`Self::encrypt_seeded`] with the caller's sampler.
    pub fn encrypt_seeded_with(
        &self,
        pt: &Plaintext,
        sampler: &mut Sampler,
    ) -> Result<SeededCiphertext> {
        let ctx = self.params.ciphertext_context();
        let seed = fresh_seed(sampler);
        let a = expand_uniform(ctx, &seed);
        let mut c0 = a.mul(&self.s_q)?.into_coeff().neg();
        c0.sub_assign(&error_poly(ctx, sampler)?)?;
        c0.add_assign(&self.params.scale_plaintext(pt, 0)?)?;
        Ok(SeededCiphertext {
            params: self.params.clone(),
            seed,
            c0,
        })
    }
}

impl SeededCiphertext {
    /// The full ciphertext (c_0, c_1 = expansion of the seed).
    pub fn expand(&self) -> Ciphertext {
        let a = expand_uniform(self.params.ciphertext_context(), &self.seed);
        Ciphertext {
            params: self.params.clone(),
            level: 0,
            c: vec![self.c0.clone(), a.into_coeff()],
        }
    }

    /// Header, fingerprint, seed, c_0.
    pub fn to_bytes(&self) -> Vec<u8> {
        write_seeded(kind::SEEDED_CIPHERTEXT, &self.params, &self.seed, &self.c0)
    }

    /// A seeded ciphertext from untrusted bytes.
    pub fn from_bytes(params: &Arc<BfvParameters>, bytes: &[u8]) -> Result<Self> {
        let (seed, c0) = read_seeded(params, bytes, kind::SEEDED_CIPHERTEXT)?;
        Ok(SeededCiphertext {
            params: params.clone(),
            seed,
            c0,
        })
    }
}

impl PublicKey {
    /// Header, fingerprint, seed of a, b.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.key
            .to_object(FORMAT, kind::PUBLIC_KEY, self.params.fingerprint())
    }

    /// A public key from untrusted bytes (a is re-expanded from its seed).
    pub fn from_bytes(params: &Arc<BfvParameters>, bytes: &[u8]) -> Result<Self> {
        let (fp, ctx) = (params.fingerprint(), params.ciphertext_context());
        Ok(PublicKey {
            params: params.clone(),
            key: RlwePublicKey::from_object(bytes, FORMAT, kind::PUBLIC_KEY, fp, ctx)?,
        })
    }
}

impl RelinearizationKey {
    /// Header, fingerprint, then per prime of Q: seed of a_i, b_i.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.key
            .to_object(FORMAT, kind::RELIN_KEY, self.params.fingerprint())
    }

    /// A relinearization key from untrusted bytes.
    pub fn from_bytes(params: &Arc<BfvParameters>, bytes: &[u8]) -> Result<Self> {
        let (ctx, digits) = (params.key_context(), params.ciphertext_moduli().len());
        let fp = params.fingerprint();
        Ok(RelinearizationKey {
            params: params.clone(),
            key: Arc::new(SwitchingKey::from_object(
                bytes,
                FORMAT,
                kind::RELIN_KEY,
                fp,
                ctx,
                digits,
            )?),
        })
    }
}

impl GaloisKeys {
    /// Header, fingerprint, count, then per key: Galois element and key-switching key.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.set
            .to_object(FORMAT, kind::GALOIS_KEYS, self.params.fingerprint())
    }

    /// Galois keys from untrusted bytes: each element odd and below 2N, in increasing order (the
    /// canonical order [`GaloisKeys::to_bytes`] writes, so no repeats), exact length.
    pub fn from_bytes(params: &Arc<BfvParameters>, bytes: &[u8]) -> Result<Self> {
        let (ctx, digits) = (params.key_context(), params.ciphertext_moduli().len());
        let (fp, g) = (params.fingerprint(), ROW_GENERATOR);
        let set = GaloisKeySet::from_object(bytes, FORMAT, kind::GALOIS_KEYS, fp, ctx, digits, g)?;
        Ok(GaloisKeys {
            params: params.clone(),
            set: Arc::new(set),
        })
    }
}

veil_ring::serde_parameters_via_bytes!(BfvParameters);
