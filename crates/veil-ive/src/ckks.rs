//! The CKKS backend of [`IveScheme`] and [`IveClient`] on `veil-ckks`: real slots, scale
//! management by rescaling, the fused linear combination of `veil_ckks::linear_combination_to`
//! (every term lands on one exact scale), and noise flooding sized to the output precision.
//!
//! **Levels.** A circuit with `r` products still to go needs `r + 2` levels: one per product, one
//! for the final linear combination, which lands on level 1 at a large scale (reply q_1 / 2^k,
//! as large as the integer factors allow), and one for the reply: relinearized at level 1 (the
//! key-switching noise is small against that scale), it is multiplied by 2^k and rescaled to
//! level 0, landing exactly on the reply scale 2^(bits(q_0) - 10) (ten bits of headroom above the
//! message in q_0). Relinearizing at level 0 instead would add the full
//! key-switching error (about 2^-22 of a 2^40 scale, docs/ckks.md). [`IveScheme::settle`]
//! rescales a fresh product (scale about the square of the parameters' scale) and drops the
//! ciphertext to exactly the level the rest of its path needs, so most products run on few
//! primes. The client can encrypt its query at that level directly
//! ([`CkksClient::with_query_level`]), which shrinks the query.
//!
//! **Circuit privacy (a weaker statement than BFV's).** A CKKS result decrypts to m + e where e
//! depends on the computation, hence on the table; it cannot be removed by rounding. The reply is
//! relinearized, re-randomized by a fresh public-key encryption of zero (c_1 becomes a fresh RLWE
//! sample) and flooded with Gaussian noise of a chosen standard deviation in slot units
//! ([`CkksServer::with_flooding`], default [`DEFAULT_FLOOD_STD`]): complex Gaussian slot values
//! encoded at the reply's scale, i.e. Gaussian coefficient noise. Statistical hiding of e (flooding
//! 2^40 times larger) would cost 40 bits of output precision, far beyond the 2^-12 target with a
//! 2^40 scale; so the flooding is sized to the precision target and hides the computed error only
//! up to the ratio of the two (docs/ive.md states the measured figures).

use std::sync::Arc;

use rand::RngCore;
use veil_ckks::{
    Ciphertext, CkksParameters, CkksParametersBuilder, Complex64, GaloisKeys, Plaintext, PublicKey,
    RelinearizationKey, Sampler, SecretKey, linear_combination_to,
};

use crate::error::{Error, Result};
use crate::scheme::{CiphertextCodec, IveClient, IveScheme};

/// Default standard deviation of the flooding noise per slot (real part), in slot units: 2^-16,
/// so that over 2^15 slots and 64 columns the flooding stays below 2^-13 (the precision target is
/// 2^-12 of max |E| = 1).
pub const DEFAULT_FLOOD_STD: f64 = 1.0 / 65536.0;

/// CKKS parameters for IVE at ring degree `n` and scale 2^`log_scale`: q_0 of
/// max(49, log_scale + 1) bits, rescaling primes of `log_scale` bits, the special prime as large
/// as the largest, and as many levels as the 128-bit bound for N allows
/// (`veil_ring::rlwe::max_log_qp_128`). With log_scale = 40 this is veil-ckks's preset chain (one
/// level more or less where the bound leaves room); log_scale = 49 trades levels for 9 bits of
/// precision per operation (every prime below 2^50: the IFMA kernels apply).
pub fn ive_ckks_parameters(n: usize, log_scale: u32) -> Result<Arc<CkksParameters>> {
    if !(30..=49).contains(&log_scale) {
        return Err(Error::InvalidConfig {
            reason: "log_scale must be in 30..=49 (primes below 2^50)",
        });
    }
    let q0 = (log_scale + 1).max(49);
    let special = q0.max(log_scale);
    let bound = veil_ring::rlwe::max_log_qp_128(n).ok_or(Error::InvalidConfig {
        reason: "no 128-bit bound for this ring degree",
    })?;
    let levels = (bound.saturating_sub(q0 + special)) / log_scale;
    if levels == 0 {
        return Err(Error::InvalidConfig {
            reason: "no level fits the 128-bit bound at this degree",
        });
    }
    let sizes: Vec<u32> = [q0]
        .into_iter()
        .chain(vec![log_scale; levels as usize])
        .chain([special])
        .collect();
    Ok(CkksParametersBuilder::new()
        .degree(n)
        .moduli_sizes(&sizes)
        .log_scale(log_scale)
        .build()?)
}

/// The scale of replies at level 0: 2^(bits(q_0) - 10), at most the parameters' scale.
pub fn reply_scale(params: &CkksParameters) -> f64 {
    let q0_bits = params
        .moduli()
        .first()
        .map_or(50, |q| 64 - q.leading_zeros());
    params.scale().min(2f64.powi(q0_bits as i32 - 10))
}

/// The server side of IVE over CKKS: evaluation keys and the flooding level.
#[derive(Debug)]
pub struct CkksServer {
    params: Arc<CkksParameters>,
    pk: PublicKey,
    rk: RelinearizationKey,
    gk: Option<GaloisKeys>,
    flood_std: Option<f64>,
}

impl CkksServer {
    /// A server with the client's public and relinearization keys; replies are flooded with
    /// [`DEFAULT_FLOOD_STD`].
    pub fn new(pk: PublicKey, rk: RelinearizationKey, params: &Arc<CkksParameters>) -> Self {
        CkksServer {
            params: params.clone(),
            pk,
            rk,
            gk: None,
            flood_std: Some(DEFAULT_FLOOD_STD),
        }
    }

    /// Adds Galois keys (circuits with rotations).
    pub fn with_galois_keys(mut self, gk: GaloisKeys) -> Self {
        self.gk = Some(gk);
        self
    }

    /// Floods replies with Gaussian noise of standard deviation `std` per slot (slot units).
    pub fn with_flooding(mut self, std: f64) -> Self {
        self.flood_std = Some(std);
        self
    }

    /// Turns circuit privacy off: **only** to measure what it costs and what it hides. Replies
    /// then carry an error that depends on the table.
    pub fn without_circuit_privacy(mut self) -> Self {
        self.flood_std = None;
        self
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<CkksParameters> {
        &self.params
    }

    /// The flooding standard deviation in use (`None`: off).
    pub fn flood_std(&self) -> Option<f64> {
        self.flood_std
    }

    /// r + Enc_pk(0) + (Gaussian slot noise of standard deviation `std`, encoded at r's level and
    /// scale): see the module docs.
    pub fn flood(&self, r: &Ciphertext, std: f64, sampler: &mut Sampler) -> Result<Ciphertext> {
        let zero = Plaintext::encode_real(&self.params, &[], r.level(), r.scale())?;
        let fresh = self.pk.encrypt_with(&zero, sampler)?;
        let noise: Vec<Complex64> = (0..self.params.slots())
            .map(|_| {
                let (a, b) = gaussian_pair(sampler);
                Complex64::new(a * std, b * std)
            })
            .collect();
        let noise = Plaintext::encode(&self.params, &noise, r.level(), r.scale())?;
        Ok(r.add(&fresh)?.add_plain(&noise)?)
    }

    /// The level a ciphertext needs with `remaining_depth` products to go (module docs).
    fn needed_level(remaining_depth: u32) -> usize {
        remaining_depth as usize + 2
    }

    /// The scale at which a combination lands on level 1, to be relinearized there and brought
    /// to level 0 by one exact rescale: reply q_1 / 2^k, the largest such scale (smallest k) for
    /// which every integer factor of `linear_combination_to` fits 61 bits and the value keeps
    /// 12 bits of headroom in Q_1. Then `align_to(0, reply)` multiplies by exactly 2^k.
    fn reply_staging_scale(&self, terms: &[(&Ciphertext, f64)]) -> Result<f64> {
        let moduli = self.params.moduli();
        let (Some(&q0), Some(&q1), Some(&q2)) = (moduli.first(), moduli.get(1), moduli.get(2))
        else {
            return Err(Error::InvalidConfig {
                reason: "the reply needs three primes",
            });
        };
        let min_scale = terms
            .iter()
            .fold(f64::INFINITY, |m, (c, _)| m.min(c.scale()));
        let max_coefficient = terms.iter().fold(0f64, |m, (_, k)| m.max(k.abs()));
        let by_factors = 2f64.powi(61) * min_scale / (q2 as f64 * max_coefficient.max(1e-300));
        let by_room = q0 as f64 * q1 as f64 / 4096.0;
        let reply = reply_scale(&self.params);
        if by_factors < reply {
            // The reply would be computed at a scale below its own: coefficients too large.
            return Err(Error::InsufficientModulus {
                what: "change-of-basis coefficients times the scale (largest |c| q / scale, bits)",
                needed: (max_coefficient * q2 as f64 / min_scale)
                    .log2()
                    .ceil()
                    .max(0.0) as u32,
                available: 61 - reply.log2() as u32,
            });
        }
        let target = reply * q1 as f64;
        let k = (target / by_factors.min(by_room)).log2().ceil().max(0.0);
        Ok(target / 2f64.powf(k))
    }

    /// Whether `a` carries a product's scale (to be rescaled).
    fn is_product(&self, a: &Ciphertext) -> bool {
        a.scale() > self.params.scale() * 2f64.powi(self.params.log_scale() as i32 / 2)
    }
}

/// Two independent standard normal samples (Box-Muller on 53-bit uniforms).
fn gaussian_pair(rng: &mut impl RngCore) -> (f64, f64) {
    let unit = |v: u64| ((v >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let (u1, u2) = (unit(rng.next_u64()), unit(rng.next_u64()));
    let radius = (-2.0 * u1.ln()).sqrt();
    let angle = 2.0 * core::f64::consts::PI * u2;
    (radius * angle.cos(), radius * angle.sin())
}

impl IveScheme for CkksServer {
    type Scalar = f64;

    fn scalar(&self, v: i64) -> f64 {
        v as f64
    }

    fn mul(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        Ok(a.mul(b)?)
    }

    fn square(&self, a: &Ciphertext) -> Result<Ciphertext> {
        Ok(a.square()?)
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

    /// c a at the same scale, one level lower (`mul_const_rescale`).
    fn mul_scalar(&self, a: &Ciphertext, c: f64) -> Result<Ciphertext> {
        Ok(a.mul_const_rescale(c)?)
    }

    fn add_scalar(&self, a: &Ciphertext, c: f64) -> Result<Ciphertext> {
        Ok(a.add_const(c)?)
    }

    /// Fused (`veil_ckks::linear_combination_to`): one level below the lowest term, at the
    /// parameters' scale, or at the reply scale when that level is 0.
    fn linear_combination(
        &self,
        terms: &[(&Ciphertext, f64)],
        constant: f64,
    ) -> Result<Ciphertext> {
        let level = terms
            .iter()
            .map(|(c, _)| c.level())
            .min()
            .ok_or(Error::InvalidConfig {
                reason: "a linear combination needs at least one ciphertext",
            })?;
        let out = level.checked_sub(1).ok_or(Error::InsufficientModulus {
            what: "the linear combination (terms at level 0)",
            needed: 1,
            available: 0,
        })?;
        let cts: Vec<&Ciphertext> = terms.iter().map(|(c, _)| *c).collect();
        let scale = match out {
            0 => reply_scale(&self.params),
            1 => self.reply_staging_scale(terms)?,
            _ => self.params.scale(),
        };
        let coefficients: Vec<f64> = terms.iter().map(|(_, k)| *k).collect();
        Ok(linear_combination_to(
            &cts,
            &coefficients,
            constant,
            out,
            scale,
        )?)
    }

    fn rotate(&self, a: &Ciphertext, step: i64) -> Result<Ciphertext> {
        let gk = self.gk.as_ref().ok_or(Error::InvalidConfig {
            reason: "rotations need Galois keys (CkksServer::with_galois_keys)",
        })?;
        Ok(a.rotate(step, gk)?)
    }

    /// Slot-wise product, encoded at scale q_l and rescaled: same scale, one level lower.
    fn mul_slots(&self, a: &Ciphertext, values: &[f64]) -> Result<Ciphertext> {
        let q = *self
            .params
            .moduli()
            .get(a.level())
            .ok_or(Error::InvalidConfig {
                reason: "no such level",
            })? as f64;
        let pt = Plaintext::encode_real(&self.params, values, a.level(), q)?;
        Ok(a.mul_plain(&pt)?.rescale()?)
    }

    fn check_depth(&self, depth: u32) -> Result<()> {
        let needed = Self::needed_level(depth);
        let available = self.params.max_level();
        if needed > available {
            return Err(Error::InsufficientModulus {
                what: "the lookup circuit (levels)",
                needed: needed as u32,
                available: available as u32,
            });
        }
        Ok(())
    }

    /// Rescales a product (dropping primes first so that the rescale lands on the level needed)
    /// and drops any ciphertext to the level its remaining path needs.
    fn settle(&self, a: Ciphertext, remaining_depth: u32) -> Result<Ciphertext> {
        let target = Self::needed_level(remaining_depth);
        let product = self.is_product(&a);
        let before = target + usize::from(product);
        if a.level() < before {
            return Err(Error::InsufficientModulus {
                what: "a ciphertext below the level its circuit needs",
                needed: before as u32,
                available: a.level() as u32,
            });
        }
        let mut c = if a.level() > before {
            a.mod_drop_to(before)?
        } else {
            a
        };
        if product {
            c = c.rescale()?;
        }
        Ok(c)
    }

    /// Relinearized where the key-switching noise is divided by the last rescale (level 1, scale
    /// reply q_1), then brought to level 0 at the reply scale, then flooded.
    fn finish_reply(&self, a: &Ciphertext) -> Result<Ciphertext> {
        let r = a
            .relinearize(&self.rk)?
            .align_to(0, reply_scale(&self.params))?;
        match self.flood_std {
            Some(std) => self.flood(&r, std, &mut Sampler::from_entropy()),
            None => Ok(r),
        }
    }
}

/// The client side of IVE over CKKS: the secret key (queries are secret-key encryptions, whose
/// error is smaller than a public-key encryption's).
#[derive(Debug)]
pub struct CkksClient {
    params: Arc<CkksParameters>,
    sk: SecretKey,
    query_level: usize,
}

impl CkksClient {
    /// A client with a fresh secret key; queries at the top level.
    pub fn generate(params: &Arc<CkksParameters>) -> Result<Self> {
        Ok(Self::from_secret_key(SecretKey::generate(params)?))
    }

    /// A client holding `sk`.
    pub fn from_secret_key(sk: SecretKey) -> Self {
        let params = sk.parameters().clone();
        CkksClient {
            query_level: params.max_level(),
            params,
            sk,
        }
    }

    /// Encrypts queries at `level` instead of the top: a lookup of depth r needs level r + 2
    /// (smaller queries, same result).
    pub fn with_query_level(mut self, level: usize) -> Result<Self> {
        if level > self.params.max_level() {
            return Err(Error::InvalidConfig {
                reason: "query level above the parameters' top level",
            });
        }
        self.query_level = level;
        Ok(self)
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<CkksParameters> {
        &self.params
    }

    /// The secret key (for diagnostics).
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

    /// Galois keys for exactly these rotation steps.
    pub fn galois_keys(&self, steps: &[i64]) -> Result<GaloisKeys> {
        Ok(self
            .sk
            .galois_keys_for(steps, false, &mut Sampler::from_entropy())?)
    }
}

impl IveClient for CkksClient {
    type Scalar = f64;

    fn encrypt(&self, values: &[f64]) -> Result<Ciphertext> {
        let pt =
            Plaintext::encode_real(&self.params, values, self.query_level, self.params.scale())?;
        Ok(self.sk.encrypt(&pt)?)
    }

    /// CKKS has no seeded ciphertext form in veil-ckks: the full ciphertext at the query level.
    fn encrypt_compact(&self, values: &[f64]) -> Result<Vec<u8>> {
        Ok(self.encrypt(values)?.to_bytes())
    }

    fn decrypt(&self, ct: &Ciphertext) -> Result<Vec<f64>> {
        Ok(self.sk.decrypt_real(ct)?)
    }
}

/// The largest serialized CKKS ciphertext of `params`: header (6), fingerprint (8), size and
/// level (2), scale (8), three polynomials over all of Q.
fn max_ckks_ciphertext_bytes(params: &CkksParameters) -> usize {
    let n = params.degree();
    let poly: usize = params
        .moduli()
        .iter()
        .map(|q| veil_ring::wire::packed_len(n, 64 - q.leading_zeros()))
        .sum();
    6 + 8 + 2 + 8 + 3 * poly
}

macro_rules! ckks_codec {
    ($ty:ty) => {
        impl CiphertextCodec for $ty {
            type Ciphertext = Ciphertext;

            fn slots(&self) -> usize {
                self.params.slots()
            }

            fn ciphertext_to_bytes(&self, a: &Ciphertext) -> Vec<u8> {
                a.to_bytes()
            }

            fn ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<Ciphertext> {
                Ok(Ciphertext::from_bytes(&self.params, bytes)?)
            }

            fn max_ciphertext_bytes(&self) -> usize {
                max_ckks_ciphertext_bytes(&self.params)
            }
        }
    };
}
ckks_codec!(CkksServer);
ckks_codec!(CkksClient);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_fit_the_bound() {
        let p = ive_ckks_parameters(16384, 40).unwrap();
        assert_eq!(p.scale(), 2f64.powi(40));
        assert!(p.log_qp() <= 438);
        assert_eq!(p.max_level(), 8);
        let p = ive_ckks_parameters(16384, 49).unwrap();
        assert!(p.log_qp() <= 438);
        assert_eq!(reply_scale(&p), 2f64.powi(40));
        assert!(ive_ckks_parameters(16384, 55).is_err());
    }

    #[test]
    fn gaussian_pairs_have_unit_variance() {
        let mut s = Sampler::from_seed([3; 32]);
        let n = 20000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let (a, b) = gaussian_pair(&mut s);
            sum += a + b;
            sq += a * a + b * b;
        }
        let mean = sum / (2 * n) as f64;
        let var = sq / (2 * n) as f64 - mean * mean;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
