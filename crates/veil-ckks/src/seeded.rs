//! Seeded symmetric ciphertexts: the uniform half c_1 = a of a secret-key encryption is sent as
//! the 32-byte seed it was expanded from, so a fresh query costs one polynomial instead of two.
//!
//! The receiver re-expands a from the seed with the same deterministic expansion (ChaCha20 over
//! the seed, `veil_ring::rlwe::expand_uniform`), which is what makes the halving safe: a stays
//! uniform to anyone without the seed's preimage, and RLWE's security does not depend on a being
//! secret. This is the form SEAL calls a "seeded" ciphertext and fhe.rs sends for queries.

use std::sync::Arc;

use veil_ring::keys::open_object;
use veil_ring::rlwe::{error, expand_uniform, fresh_seed};
use veil_ring::sample::Sampler;
use veil_ring::wire::{Format, Writer, kind, poly_len};
use veil_ring::{Ntt, Poly};

use crate::ciphertext::{Ciphertext, Plaintext};
use crate::error::{Error, Result};
use crate::keys::SecretKey;
use crate::parameters::CkksParameters;

/// `VCKS`, format version 1 (the same as the other objects of this crate).
const FORMAT: Format = Format {
    magic: *b"VCKS",
    version: 1,
};

/// A secret-key ciphertext whose c_1 is given by a 32-byte seed: about half the bytes of a
/// [`Ciphertext`] at the same level. Call [`SeededCiphertext::expand`] before computing on it.
///
/// ```
/// use veil_ckks::{CkksParameters, Plaintext, Preset, SecretKey, SeededCiphertext};
///
/// let params = CkksParameters::preset(Preset::N8192)?;
/// let sk = SecretKey::generate(&params)?;
/// let pt = Plaintext::encode_real(&params, &[0.25, -1.5], params.max_level(), params.scale())?;
/// let seeded = sk.encrypt_seeded(&pt)?;
/// let bytes = seeded.to_bytes();
/// assert!(bytes.len() < sk.encrypt(&pt)?.to_bytes().len() * 6 / 10);
///
/// let ct = SeededCiphertext::from_bytes(&params, &bytes)?.expand()?;
/// let out = sk.decrypt_real(&ct)?;
/// assert!((out[0] - 0.25).abs() < 1e-6 && (out[1] + 1.5).abs() < 1e-6);
/// # Ok::<(), veil_ckks::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SeededCiphertext {
    params: Arc<CkksParameters>,
    level: usize,
    scale: f64,
    seed: [u8; 32],
    c0: Poly<Ntt>,
}

impl SecretKey {
    /// Encrypts with the secret key and a fresh seed for c_1 (see [`SeededCiphertext`]).
    pub fn encrypt_seeded(&self, pt: &Plaintext) -> Result<SeededCiphertext> {
        self.encrypt_seeded_with(pt, &mut Sampler::from_entropy())
    }

    /// [`Self::encrypt_seeded`] with the caller's sampler: c_0 = -(a s + e) + m with a expanded
    /// from a seed drawn from `sampler`; the same distribution as [`SecretKey::encrypt_with`].
    pub fn encrypt_seeded_with(
        &self,
        pt: &Plaintext,
        sampler: &mut Sampler,
    ) -> Result<SeededCiphertext> {
        if *pt.params != *self.params {
            return Err(Error::Mismatch { what: "parameters" });
        }
        let ctx = &self.params.level(pt.level)?.ctx;
        let seed = fresh_seed(sampler);
        let a = expand_uniform(ctx, &seed);
        let mut c0 = a.mul(&self.at_level(pt.level)?)?;
        c0.add_assign(&error(ctx, sampler)?.into_ntt())?;
        let mut c0 = c0.neg();
        c0.add_assign(&pt.poly)?;
        Ok(SeededCiphertext {
            params: self.params.clone(),
            level: pt.level,
            scale: pt.scale,
            seed,
            c0,
        })
    }
}

impl SeededCiphertext {
    /// The full ciphertext (c_0, c_1 = the expansion of the seed at this level).
    pub fn expand(&self) -> Result<Ciphertext> {
        let ctx = &self.params.level(self.level)?.ctx;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            scale: self.scale,
            c: vec![self.c0.clone(), expand_uniform(ctx, &self.seed)],
        })
    }

    /// The parameters it was made under.
    pub fn parameters(&self) -> &Arc<CkksParameters> {
        &self.params
    }

    /// The level of the encrypted plaintext.
    pub fn level(&self) -> usize {
        self.level
    }

    /// The scale of the encrypted message.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Header, fingerprint, level, scale (f64 bits), the seed, then c_0 over R_{Q_l}.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(FORMAT, kind::SEEDED_CIPHERTEXT);
        w.u64(self.params.fingerprint());
        w.u8(self.level as u8);
        w.u64(self.scale.to_bits());
        w.bytes(&self.seed);
        w.poly(&self.c0);
        w.into_bytes()
    }

    /// A seeded ciphertext from untrusted bytes: an existing level, a finite scale below Q_l, the
    /// exact length for that level (checked before the polynomial is allocated), every residue
    /// below its prime, no trailing bytes.
    pub fn from_bytes(params: &Arc<CkksParameters>, bytes: &[u8]) -> Result<Self> {
        let mut r = open_object(bytes, FORMAT, kind::SEEDED_CIPHERTEXT, params.fingerprint())?;
        let (level, scale) = params.read_level_and_scale(&mut r)?;
        let seed = r.seed()?;
        let ctx = params.level(level)?.ctx.clone();
        if r.remaining() != poly_len(&ctx) {
            return Err(Error::Malformed {
                reason: "wrong length for these parameters",
            });
        }
        let c0 = r.poly::<Ntt>(&ctx)?;
        r.finish()?;
        Ok(SeededCiphertext {
            params: params.clone(),
            level,
            scale,
            seed,
            c0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parameters::Preset;

    fn setup() -> (Arc<CkksParameters>, SecretKey, Sampler) {
        let params = CkksParameters::preset(Preset::N8192).expect("preset");
        let mut sampler = Sampler::from_seed([7; 32]);
        let sk = SecretKey::generate_with(&params, &mut sampler).expect("key");
        (params, sk, sampler)
    }

    #[test]
    fn round_trip_decrypts_at_every_level() {
        let (params, sk, mut sampler) = setup();
        let values: Vec<f64> = (0..64).map(|i| f64::from(i) / 16.0 - 2.0).collect();
        for level in 0..=params.max_level() {
            let pt =
                Plaintext::encode_real(&params, &values, level, params.scale()).expect("encode");
            let seeded = sk.encrypt_seeded_with(&pt, &mut sampler).expect("encrypt");
            let bytes = seeded.to_bytes();
            let back = SeededCiphertext::from_bytes(&params, &bytes).expect("parse");
            assert_eq!(back, seeded);
            assert_eq!(back.to_bytes(), bytes, "canonical encoding");
            let ct = back.expand().expect("expand");
            assert_eq!(ct.level(), level);
            let out = sk.decrypt_real(&ct).expect("decrypt");
            for (x, y) in values.iter().zip(&out) {
                assert!((x - y).abs() < 1e-5, "level {level}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn seeded_is_about_half_of_a_full_ciphertext() {
        let (params, sk, mut sampler) = setup();
        let pt = Plaintext::encode_real(&params, &[1.0], params.max_level(), params.scale())
            .expect("encode");
        let full = sk
            .encrypt_with(&pt, &mut sampler)
            .expect("encrypt")
            .to_bytes();
        let seeded = sk
            .encrypt_seeded_with(&pt, &mut sampler)
            .expect("encrypt")
            .to_bytes();
        assert!(
            seeded.len() * 2 < full.len() + 100,
            "{} vs {}",
            seeded.len(),
            full.len()
        );
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let (params, sk, mut sampler) = setup();
        let pt = Plaintext::encode_real(&params, &[1.0], 0, params.scale()).expect("encode");
        let bytes = sk
            .encrypt_seeded_with(&pt, &mut sampler)
            .expect("encrypt")
            .to_bytes();
        // Truncated, extended, level out of range, a full ciphertext's kind byte.
        assert!(SeededCiphertext::from_bytes(&params, &bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(SeededCiphertext::from_bytes(&params, &longer).is_err());
        let full = sk
            .encrypt_with(&pt, &mut sampler)
            .expect("encrypt")
            .to_bytes();
        assert!(SeededCiphertext::from_bytes(&params, &full).is_err());
        assert!(Ciphertext::from_bytes(&params, &bytes).is_err());
        // Every single-byte header change is either refused or still canonical.
        for i in 0..40.min(bytes.len()) {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            if let Ok(ct) = SeededCiphertext::from_bytes(&params, &b) {
                assert_eq!(ct.to_bytes(), b);
            }
        }
    }

    #[test]
    fn the_seed_determines_c1() {
        let (params, sk, _) = setup();
        let pt = Plaintext::encode_real(&params, &[0.5], 1, params.scale()).expect("encode");
        let a = sk
            .encrypt_seeded_with(&pt, &mut Sampler::from_seed([1; 32]))
            .expect("encrypt");
        let b = sk
            .encrypt_seeded_with(&pt, &mut Sampler::from_seed([1; 32]))
            .expect("encrypt");
        let c = sk
            .encrypt_seeded_with(&pt, &mut Sampler::from_seed([2; 32]))
            .expect("encrypt");
        assert_eq!(a, b, "same sampler seed, same ciphertext");
        assert_ne!(a.expand().expect("expand"), c.expand().expect("expand"));
    }
}
