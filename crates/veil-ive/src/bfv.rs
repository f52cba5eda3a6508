//! The BFV backend of [`IveScheme`] and [`IveClient`] on `veil-bfv`: exact slot arithmetic mod t,
//! modulus switching by a simple noise model, and circuit privacy by re-randomization and noise
//! flooding (DESIGN.md, "Circuit privacy").
//!
//! **Circuit privacy.** Replies go through veil-bfv's `PublicKey::sanitize`: r + Enc_pk(0) +
//! (F, 0), F uniform in [-B, B], B = floor(Q_l / (8 t)), then the last prime. The fresh
//! encryption of zero makes c_1 a fresh RLWE sample (computationally independent of the server's
//! data); F hides e: over the N coefficients of one ciphertext the statistical distance is at most
//! N |e|_inf / (2B + 1) <= N 2^(2 - b) when e leaves b bits of noise budget. The server keeps
//! b >= 40 + log2 N + 2 (`veil_bfv::sanitize_reserve_bits`) by its noise model ([`NoiseModel`];
//! tests check it with the secret key), so each reply ciphertext is within 2^-40 of one whose
//! noise does not depend on the table.

use std::borrow::Cow;
use std::sync::Arc;

use rayon::prelude::*;
use veil_bfv::{
    BfvParameters, BfvParametersBuilder, Ciphertext, Encoder, GaloisKeys, PublicKey,
    RelinearizationKey, SecretKey, SeededCiphertext,
};
use veil_ring::sample::Sampler;
use veil_ring::wire::poly_len;
use veil_ring::{Coeff, Context, Poly};

use crate::error::{Error, Result};
use crate::scheme::{CiphertextCodec, IveClient, IveScheme};

/// The plaintext modulus of the IVE presets: 65537 = 2^16 + 1 is prime and = 1 mod 2N for every
/// N <= 32768, and p | t - 1 for every power of two p <= 65536 (roots of unity of that order).
pub const IVE_PLAINTEXT_MODULUS: u64 = 65537;

/// Parameters for IVE: the 128-bit chain of `preset` (SEAL's BFVDefault sizes) with
/// t = [`IVE_PLAINTEXT_MODULUS`].
pub fn ive_parameters(preset: veil_bfv::Preset) -> Result<Arc<BfvParameters>> {
    let (n, sizes) = preset.layout();
    Ok(BfvParametersBuilder::new()
        .degree(n)
        .moduli_sizes(&sizes)
        .plaintext_modulus(IVE_PLAINTEXT_MODULUS)
        .build()?)
}

/// Bits of noise budget the server's circuit consumes, used to choose when to switch moduli and
/// to refuse circuits that do not fit. Calibrated against `SecretKey::noise_budget` (tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoiseModel {
    /// Budget one ciphertext product (with relinearization) consumes.
    pub bits_per_product: u32,
    /// Modulus bits a ciphertext needs beyond its budget (log2 t plus the rounding of modulus
    /// switching).
    pub base_bits: u32,
    /// Budget the end of the circuit needs: the linear combination, then flooding
    /// (40 + log2 N + 2 bits).
    pub reserve_bits: u32,
}

impl NoiseModel {
    /// The model for `params` with a final linear combination of `terms` terms whose scalars are
    /// below t/2 and `extra_products` more plaintext products (masks) after it.
    pub fn for_circuit(params: &BfvParameters, terms: usize, extra_products: u32) -> Self {
        let t_bits = 64 - params.plaintext_modulus().leading_zeros();
        let log_n = params.degree().trailing_zeros();
        let sum_bits = usize::BITS - terms.max(1).leading_zeros();
        NoiseModel {
            bits_per_product: t_bits + log_n + 1,
            base_bits: t_bits + log_n + 6,
            reserve_bits: t_bits
                + sum_bits
                + extra_products * (t_bits + log_n / 2 + 2)
                + veil_bfv::SANITIZE_SECURITY_BITS
                + log_n
                + 4,
        }
    }
}

/// The ring of ciphertexts at `level` (the first k - level primes of Q).
fn level_context(params: &BfvParameters, level: usize) -> Result<Arc<Context>> {
    let k = params.ciphertext_moduli().len();
    if level >= k {
        return Err(Error::InvalidConfig {
            reason: "no such level",
        });
    }
    Ok(params
        .ciphertext_context()
        .select(&(0..k - level).collect::<Vec<_>>())?)
}

/// The server side of IVE over BFV: evaluation keys and the noise model.
#[derive(Debug)]
pub struct BfvServer {
    params: Arc<BfvParameters>,
    encoder: Encoder,
    pk: PublicKey,
    rk: RelinearizationKey,
    gk: Option<GaloisKeys>,
    model: NoiseModel,
    flood: bool,
}

impl BfvServer {
    /// A server with the client's public and relinearization keys, and the noise model of the
    /// circuit it will run (see [`NoiseModel::for_circuit`]).
    pub fn new(
        params: &Arc<BfvParameters>,
        pk: PublicKey,
        rk: RelinearizationKey,
        model: NoiseModel,
    ) -> Result<Self> {
        let params = params.clone();
        Ok(BfvServer {
            encoder: Encoder::new(&params)?,
            params,
            pk,
            rk,
            gk: None,
            model,
            flood: true,
        })
    }

    /// Adds Galois keys (for circuits with rotations).
    pub fn with_galois_keys(mut self, gk: GaloisKeys) -> Self {
        self.gk = Some(gk);
        self
    }

    /// Turns circuit privacy off: **only** to measure what it costs and what it hides (tests,
    /// benches). Replies then leak the server's data through their noise.
    pub fn without_circuit_privacy(mut self) -> Self {
        self.flood = false;
        self
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<BfvParameters> {
        &self.params
    }

    /// The noise model in use.
    pub fn noise_model(&self) -> NoiseModel {
        self.model
    }

    /// Replaces the noise model (the circuit changed).
    pub fn set_noise_model(&mut self, model: NoiseModel) {
        self.model = model;
    }

    /// Modulus bits of `level`.
    fn level_bits(&self, level: usize) -> u32 {
        let k = self.params.ciphertext_moduli().len();
        self.params
            .ciphertext_moduli()
            .iter()
            .take(k.saturating_sub(level))
            .map(|q| 64 - q.leading_zeros())
            .sum()
    }

    /// Modulus bits a ciphertext needs with `remaining_depth` products to go.
    pub fn needed_bits(&self, remaining_depth: u32) -> u32 {
        self.model.base_bits
            + self.model.reserve_bits
            + remaining_depth * self.model.bits_per_product
    }

    /// Checks that a circuit of `depth` products fits in the fresh modulus.
    pub fn fits_depth(&self, depth: u32) -> Result<()> {
        // base_bits covers t and a fresh ciphertext's noise (measured: 22 bits at N = 16384).
        let needed = self.needed_bits(depth);
        let available = self.level_bits(0);
        if needed > available {
            return Err(Error::InsufficientModulus {
                what: "the lookup circuit",
                needed,
                available,
            });
        }
        Ok(())
    }

    fn to_level(&self, ct: &Ciphertext, level: usize) -> Result<Ciphertext> {
        let mut c = ct.clone();
        while c.level() < level {
            c = c.mod_switch_to_next()?;
        }
        Ok(c)
    }
}

impl IveScheme for BfvServer {
    type Scalar = u64;

    fn scalar(&self, v: i64) -> u64 {
        self.params.plaintext().reduce_i64(v)
    }

    fn mul(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        Ok(a.mul(b)?)
    }

    fn relinearize(&self, a: &Ciphertext) -> Result<Ciphertext> {
        Ok(a.relinearize(&self.rk)?)
    }

    fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        Ok(a.add(b)?)
    }

    fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        Ok(a.sub(b)?)
    }

    fn mul_scalar(&self, a: &Ciphertext, c: u64) -> Result<Ciphertext> {
        Ok(a.mul_scalar(self.params.plaintext().center(c)))
    }

    fn add_scalar(&self, a: &Ciphertext, c: u64) -> Result<Ciphertext> {
        let c = self.params.plaintext().center(c);
        Ok(a.add_plain(&self.encoder.encode_scalar(c))?)
    }

    /// Fused: every residue accumulates sum_k c_k a_k in 128 bits and is reduced once, after the
    /// terms are brought to a common level.
    fn linear_combination(
        &self,
        terms: &[(&Ciphertext, u64)],
        constant: u64,
    ) -> Result<Ciphertext> {
        let level = terms
            .iter()
            .map(|(c, _)| c.level())
            .max()
            .ok_or(Error::InvalidConfig {
                reason: "a linear combination needs at least one ciphertext",
            })?;
        let size = terms.iter().map(|(c, _)| c.len()).max().unwrap_or(2);
        let aligned: Vec<Cow<'_, Ciphertext>> = terms
            .par_iter()
            .map(|&(c, _)| {
                if c.level() == level {
                    Ok(Cow::Borrowed(c))
                } else {
                    self.to_level(c, level).map(Cow::Owned)
                }
            })
            .collect::<Result<_>>()?;
        let ctx = level_context(&self.params, level)?;
        let n = ctx.degree();
        let t = self.params.plaintext();
        let scalars: Vec<i64> = terms.iter().map(|&(_, c)| t.center(c)).collect();
        let mut polys = Vec::with_capacity(size);
        for r in 0..size {
            let mut data = vec![0u64; n * ctx.moduli().len()];
            data.par_chunks_mut(n)
                .zip(ctx.moduli().par_iter())
                .enumerate()
                .for_each(|(i, (limb, q))| {
                    let factors: Vec<u64> = scalars.iter().map(|&c| q.reduce_i64(c)).collect();
                    for chunk_start in (0..n).step_by(1024) {
                        let end = (chunk_start + 1024).min(n);
                        let mut acc = [0u128; 1024];
                        for (ct, &f) in aligned.iter().zip(&factors) {
                            let Some(poly) = ct.polynomials().get(r) else {
                                continue;
                            };
                            let src = poly.limb(i);
                            for (a, &x) in
                                acc.iter_mut().zip(src.get(chunk_start..end).unwrap_or(&[]))
                            {
                                *a += u128::from(x) * u128::from(f);
                            }
                        }
                        for (o, &a) in limb
                            .get_mut(chunk_start..end)
                            .unwrap_or(&mut [])
                            .iter_mut()
                            .zip(&acc)
                        {
                            *o = q.reduce_u128(a);
                        }
                    }
                });
            polys.push(Poly::<Coeff>::from_residues(&ctx, data)?);
        }
        let sum = Ciphertext::from_polynomials(&self.params, level, polys)?;
        self.add_scalar(&sum, constant)
    }

    fn rotate(&self, a: &Ciphertext, step: i64) -> Result<Ciphertext> {
        let gk = self.gk.as_ref().ok_or(Error::InvalidConfig {
            reason: "rotations need Galois keys (BfvServer::with_galois_keys)",
        })?;
        Ok(a.rotate_rows(step, gk)?)
    }

    fn mul_slots(&self, a: &Ciphertext, values: &[u64]) -> Result<Ciphertext> {
        Ok(a.mul_plain(&self.encoder.encode(values)?)?)
    }

    fn check_depth(&self, depth: u32) -> Result<()> {
        self.fits_depth(depth)
    }

    fn settle(&self, a: Ciphertext, remaining_depth: u32) -> Result<Ciphertext> {
        let need = self.needed_bits(remaining_depth);
        let mut c = a;
        while c.level() < self.params.max_level() && self.level_bits(c.level() + 1) >= need {
            c = c.mod_switch_to_next()?;
        }
        Ok(c)
    }

    fn finish_reply(&self, a: &Ciphertext) -> Result<Ciphertext> {
        let r = a.relinearize(&self.rk)?;
        let r = if self.flood {
            self.pk.sanitize(&r, &mut Sampler::from_entropy())?
        } else {
            r
        };
        Ok(r.mod_switch_to_last()?)
    }
}

/// The client side of IVE over BFV: the secret key (queries are symmetric, seeded encryptions).
#[derive(Debug)]
pub struct BfvClient {
    params: Arc<BfvParameters>,
    encoder: Encoder,
    sk: SecretKey,
}

impl BfvClient {
    /// A client with a fresh secret key.
    pub fn generate(params: &Arc<BfvParameters>) -> Result<Self> {
        Self::from_secret_key(SecretKey::generate(params)?)
    }

    /// A client holding `sk`.
    pub fn from_secret_key(sk: SecretKey) -> Result<Self> {
        let params = sk.parameters().clone();
        Ok(BfvClient {
            encoder: Encoder::new(&params)?,
            params,
            sk,
        })
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<BfvParameters> {
        &self.params
    }

    /// The secret key (for noise diagnostics).
    pub fn secret_key(&self) -> &SecretKey {
        &self.sk
    }

    /// The public key the server re-randomizes replies with.
    pub fn public_key(&self) -> Result<PublicKey> {
        Ok(self.sk.public_key()?)
    }

    /// The relinearization key the server needs.
    pub fn relinearization_key(&self) -> Result<RelinearizationKey> {
        Ok(self.sk.relinearization_key()?)
    }

    /// Galois keys for exactly these row-rotation steps.
    pub fn galois_keys(&self, steps: &[i64]) -> Result<GaloisKeys> {
        Ok(self
            .sk
            .galois_keys_for(steps, false, &mut Sampler::from_entropy())?)
    }
}

impl IveClient for BfvClient {
    type Scalar = u64;

    fn encrypt(&self, values: &[u64]) -> Result<Ciphertext> {
        Ok(self.sk.encrypt(&self.encoder.encode(values)?)?)
    }

    fn encrypt_compact(&self, values: &[u64]) -> Result<Vec<u8>> {
        Ok(self
            .sk
            .encrypt_seeded(&self.encoder.encode(values)?)?
            .to_bytes())
    }

    fn decrypt(&self, ct: &Ciphertext) -> Result<Vec<u64>> {
        Ok(self.encoder.decode(&self.sk.decrypt(ct)?)?)
    }
}

/// The byte codec of BFV ciphertexts for these parameters.
fn max_bfv_ciphertext_bytes(params: &BfvParameters) -> usize {
    // Header (4 + 1 + 1), fingerprint, level, size, three polynomials over all of Q.
    6 + 8 + 2 + 3 * poly_len(params.ciphertext_context())
}

macro_rules! bfv_codec {
    ($ty:ty) => {
        impl CiphertextCodec for $ty {
            type Ciphertext = Ciphertext;

            fn slots(&self) -> usize {
                self.params.degree()
            }

            fn ciphertext_to_bytes(&self, a: &Ciphertext) -> Vec<u8> {
                a.to_bytes()
            }

            fn ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<Ciphertext> {
                Ok(Ciphertext::from_bytes(&self.params, bytes)?)
            }

            fn query_ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<Ciphertext> {
                Ok(SeededCiphertext::from_bytes(&self.params, bytes)?.expand())
            }

            fn max_ciphertext_bytes(&self) -> usize {
                max_bfv_ciphertext_bytes(&self.params)
            }
        }
    };
}
bfv_codec!(BfvServer);
bfv_codec!(BfvClient);
