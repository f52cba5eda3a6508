//! CKKS parameters: the ring degree, the chain of primes q_0 .. q_L (q_0 holds the message at the
//! last level, q_1 .. q_L are the rescaling primes, each close to the scale), the special prime P
//! of key switching, and the default scale 2^Delta.
//!
//! Security: log2(Q P) within the 128-bit bound for a ternary secret and sigma 3.2
//! (`veil_ring::rlwe::max_log_qp_128`: HomomorphicEncryption.org standard, Table 1, and OpenFHE's
//! HEStd_128_classic for N = 65536), unless the caller opts out by name.

use std::sync::Arc;

use veil_ring::keyswitch::SwitchRings;
use veil_ring::primes::{chain_of_sizes, is_prime};
use veil_ring::rlwe::max_log_qp_128;
use veil_ring::{Context, Modulus};

use crate::encoding::SlotEncoder;
use crate::error::{Error, Result};

/// The 128-bit presets, named by their ring degree. Every preset has a 49-bit q_0 and special
/// prime, 40-bit rescaling primes and scale 2^40: every prime is below 2^50, so that the IFMA52
/// kernels of `veil-ring` apply to all limbs, and the 11 bits saved on q_0 and P (against the
/// 60-bit ones of SEAL's examples) buy one more level at N = 8192 and 16384. q_0 = 2^49 leaves
/// 9 bits above the scale: results must stay below 256 in magnitude at the last level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// N = 8192: Q = 49 + 3 x 40 bits, P = 49 bits (log QP = 218 <= 218); depth 3.
    N8192,
    /// N = 16384: Q = 49 + 8 x 40 bits, P = 49 bits (log QP = 418 <= 438); depth 8.
    N16384,
    /// N = 32768: Q = 49 + 19 x 40 bits, P = 49 bits (log QP = 858 <= 881); depth 19.
    N32768,
    /// N = 65536: Q = 49 + 41 x 40 bits, P = 49 bits (log QP = 1738 <= 1747); depth 41.
    N65536,
}

impl Preset {
    /// Every preset, smallest first.
    pub const ALL: [Preset; 4] = [
        Preset::N8192,
        Preset::N16384,
        Preset::N32768,
        Preset::N65536,
    ];

    /// Ring degree and prime sizes: q_0, the rescaling primes, then the special prime.
    pub fn layout(self) -> (usize, Vec<u32>) {
        let (n, depth) = match self {
            Preset::N8192 => (8192, 3),
            Preset::N16384 => (16384, 8),
            Preset::N32768 => (32768, 19),
            Preset::N65536 => (65536, 41),
        };
        let sizes = [49].into_iter().chain(vec![40; depth]).chain([49]);
        (n, sizes.collect())
    }
}

/// One level: a ciphertext at level l lives in R_{Q_l}, Q_l = q_0 ... q_l.
#[derive(Debug)]
pub(crate) struct Level {
    /// R_{Q_l}.
    pub(crate) ctx: Arc<Context>,
    /// R_{Q_l P}: where key switching works at this level.
    pub(crate) ctx_qp: Arc<Context>,
    /// Limb t of `ctx_qp` is limb `key_limbs[t]` of the key ring.
    pub(crate) key_limbs: Vec<usize>,
}

impl Level {
    pub(crate) fn rings(&self) -> SwitchRings<'_> {
        SwitchRings {
            q: &self.ctx,
            qp: &self.ctx_qp,
            key_limbs: &self.key_limbs,
        }
    }
}

/// Validated CKKS parameters with their rings and encoder, shared by `Arc`.
#[derive(Debug)]
pub struct CkksParameters {
    n: usize,
    moduli: Vec<u64>,
    special: u64,
    log_scale: u32,
    /// R_{QP}: where keys live.
    ctx_qp: Arc<Context>,
    /// Index l: level l (l + 1 primes).
    pub(crate) levels: Vec<Level>,
    pub(crate) encoder: SlotEncoder,
}

impl PartialEq for CkksParameters {
    fn eq(&self, other: &Self) -> bool {
        (self.n, &self.moduli, self.special, self.log_scale)
            == (other.n, &other.moduli, other.special, other.log_scale)
    }
}
impl Eq for CkksParameters {}

impl CkksParameters {
    /// A 128-bit-secure preset.
    pub fn preset(preset: Preset) -> Result<Arc<Self>> {
        let (n, sizes) = preset.layout();
        CkksParametersBuilder::new()
            .degree(n)
            .moduli_sizes(&sizes)
            .log_scale(40)
            .build()
    }

    /// Ring degree N.
    pub fn degree(&self) -> usize {
        self.n
    }

    /// Number of complex slots, N/2.
    pub fn slots(&self) -> usize {
        self.n / 2
    }

    /// The primes q_0 .. q_L of Q.
    pub fn moduli(&self) -> &[u64] {
        &self.moduli
    }

    /// The special prime P.
    pub fn special_modulus(&self) -> u64 {
        self.special
    }

    /// log2 of the default scale.
    pub fn log_scale(&self) -> u32 {
        self.log_scale
    }

    /// The default scale 2^Delta of fresh encodings.
    pub fn scale(&self) -> f64 {
        2f64.powi(self.log_scale as i32)
    }

    /// The top level L (the number of rescalings a fresh ciphertext allows).
    pub fn max_level(&self) -> usize {
        self.moduli.len() - 1
    }

    /// log2(Q P), rounded up.
    pub fn log_qp(&self) -> u32 {
        self.ctx_qp.modulus_bits()
    }

    /// The slot encoder.
    pub fn encoder(&self) -> &SlotEncoder {
        &self.encoder
    }

    /// R_{QP}, the ring of keys.
    pub(crate) fn key_context(&self) -> &Arc<Context> {
        &self.ctx_qp
    }

    /// Level `l`, or an error.
    pub(crate) fn level(&self, l: usize) -> Result<&Level> {
        self.levels.get(l).ok_or(Error::Level {
            level: l,
            max: self.max_level(),
        })
    }

    /// The prime q_l (dropped by rescaling at level l).
    pub(crate) fn prime(&self, l: usize) -> Result<&Modulus> {
        let lv = self.level(l)?;
        lv.ctx.moduli().get(l).ok_or(Error::Level {
            level: l,
            max: self.max_level(),
        })
    }
}

/// Builds [`CkksParameters`].
#[derive(Clone, Debug, Default)]
pub struct CkksParametersBuilder {
    n: usize,
    moduli: Option<Vec<u64>>,
    sizes: Option<Vec<u32>>,
    log_scale: Option<u32>,
    allow_insecure: bool,
}

impl CkksParametersBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ring degree N, a power of two in 1024..=65536.
    pub fn degree(mut self, n: usize) -> Self {
        self.n = n;
        self
    }

    /// The primes q_0 .. q_L, then the special prime P (last), given explicitly.
    pub fn moduli(mut self, moduli: &[u64]) -> Self {
        self.moduli = Some(moduli.to_vec());
        self
    }

    /// Sizes in bits of q_0 .. q_L, then of P (last); each size takes the largest unused primes
    /// q = 1 (mod 2N), as SEAL's `CoeffModulus::Create`.
    pub fn moduli_sizes(mut self, sizes: &[u32]) -> Self {
        self.sizes = Some(sizes.to_vec());
        self
    }

    /// log2 of the default scale (at most the size of the smallest rescaling prime plus one).
    pub fn log_scale(mut self, bits: u32) -> Self {
        self.log_scale = Some(bits);
        self
    }

    /// Accepts a modulus larger than the 128-bit bound for this N: only for tests.
    pub fn allow_below_128_bit_security(mut self) -> Self {
        self.allow_insecure = true;
        self
    }

    /// Validates and builds the parameters.
    pub fn build(self) -> Result<Arc<CkksParameters>> {
        let n = self.n;
        veil_ring::ntt::check_degree(n)?;
        let invalid = |reason| Err(Error::InvalidParameters { reason });
        let all = match (&self.moduli, &self.sizes) {
            (Some(m), None) => m.clone(),
            (None, Some(sizes)) => chain_of_sizes(sizes, n)?,
            _ => return invalid("give exactly one of moduli or moduli_sizes"),
        };
        let Some((&special, moduli)) = all.split_last().filter(|(_, q)| !q.is_empty()) else {
            return invalid("need q_0 and a special prime");
        };
        let Some(log_scale) = self.log_scale else {
            return invalid("give the scale (log_scale)");
        };
        if all.iter().any(|&q| !is_prime(q)) {
            return invalid("every modulus must be prime");
        }
        let bits = |q: u64| 64 - q.leading_zeros();
        if moduli.iter().any(|&q| bits(q) > bits(special)) {
            return invalid(
                "the special prime must have at least as many bits as every prime of Q",
            );
        }
        // Rescaling by q_l ~ 2^Delta keeps the scale near 2^Delta; q_0 must hold a message.
        let smallest = moduli.iter().skip(1).map(|&q| bits(q)).min().unwrap_or(64);
        if !(10..=60).contains(&log_scale)
            || log_scale > smallest + 1
            || bits(moduli[0]) <= log_scale
        {
            return invalid("need 10 <= log_scale <= the rescaling primes' size, below q_0's");
        }
        let ctx_qp = Context::new(&all, n)?;
        let log_qp = ctx_qp.modulus_bits();
        let max_log_qp = max_log_qp_128(n).unwrap_or(0);
        if log_qp > max_log_qp && !self.allow_insecure {
            return Err(Error::Insecure {
                n,
                log_qp,
                max_log_qp,
            });
        }
        let k = moduli.len();
        let levels = (0..k)
            .map(|l| {
                let indices: Vec<usize> = (0..=l).collect();
                let key_limbs: Vec<usize> = indices.iter().copied().chain([k]).collect();
                Ok(Level {
                    ctx: ctx_qp.select(&indices)?,
                    ctx_qp: ctx_qp.select(&key_limbs)?,
                    key_limbs,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(CkksParameters {
            n,
            moduli: moduli.to_vec(),
            special,
            log_scale,
            ctx_qp,
            levels,
            encoder: SlotEncoder::new(n)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_128_bit_with_the_stated_layout() {
        for preset in Preset::ALL.into_iter().take(3) {
            let p = CkksParameters::preset(preset).unwrap();
            let (n, sizes) = preset.layout();
            assert_eq!(p.degree(), n);
            assert_eq!(p.moduli().len() + 1, sizes.len());
            assert!(p.log_qp() <= max_log_qp_128(n).unwrap());
            assert_eq!(p.levels.len(), p.max_level() + 1);
            assert_eq!(p.level(0).unwrap().ctx.moduli().len(), 1);
        }
    }

    #[test]
    fn builder_refuses_bad_sets() {
        let b = || CkksParametersBuilder::new().degree(8192).log_scale(40);
        assert!(matches!(
            b().moduli_sizes(&[60, 40, 40, 40, 60]).build(),
            Err(Error::Insecure { .. })
        ));
        assert!(
            b().moduli_sizes(&[60, 40, 40, 40, 60])
                .allow_below_128_bit_security()
                .build()
                .is_ok()
        );
        assert!(b().moduli_sizes(&[60]).build().is_err());
        assert!(b().moduli_sizes(&[60, 40, 50]).build().is_err());
        assert!(b().moduli_sizes(&[40, 40, 60]).build().is_err());
        assert!(
            CkksParametersBuilder::new()
                .degree(8192)
                .moduli_sizes(&[60, 40, 60])
                .build()
                .is_err()
        );
        assert!(b().moduli(&[12289, 65537]).build().is_err());
    }
}
