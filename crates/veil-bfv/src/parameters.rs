//! BFV parameters: a validating builder and 128-bit-secure presets.
//!
//! Security bounds: HomomorphicEncryption.org Security Standard (Albrecht et al., 2018), Table 1,
//! ternary secret, error sigma = 3.2, classical 128-bit security: log2(QP) <= 27, 54, 109, 218, 438,
//! 881 for N = 1024 .. 32768. The presets use Microsoft SEAL's `CoeffModulus::BFVDefault` chains
//! (the largest primes q = 1 mod 2N of the listed sizes), whose last prime is the special prime of
//! key switching, and a 20-bit batching plaintext modulus.

use std::sync::Arc;

use veil_ring::primes::{is_prime, ntt_primes};
use veil_ring::{Context, Modulus};

use crate::error::{Error, Result};
use crate::hps::MulContext;
use crate::level::Level;

/// Largest log2(QP) at classical 128-bit security for a ternary secret (HE standard, Table 1;
/// `veil_ring::rlwe::max_log_qp_128`).
pub fn max_log_qp_128(n: usize) -> Option<u32> {
    veil_ring::rlwe::max_log_qp_128(n).filter(|_| n <= 32768)
}

/// Standard deviation of the error distribution (HE standard).
pub const ERROR_STD_DEV: f64 = 3.2;

/// The 128-bit presets, named by their ring degree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// N = 4096, Q = 36 + 36 bits, special prime 37 bits (log QP = 109).
    N4096,
    /// N = 8192, Q = 43 + 43 + 44 + 44 bits, special prime 44 bits (log QP = 218).
    N8192,
    /// N = 16384, Q = 3 x 48 + 5 x 49 bits, special prime 49 bits (log QP = 438).
    N16384,
    /// N = 32768, Q = 15 x 55 bits, special prime 55 bits (log QP = 880).
    N32768,
    /// N = 32768 with primes below 2^50, so that the IFMA52 kernels of `veil-ring` apply:
    /// Q = 48 + 16 x 49 bits, special prime 49 bits (log QP = 881, the same bound as `N32768`;
    /// log Q = 832 against 825).
    N32768Narrow,
}

impl Preset {
    /// Ring degree and prime sizes (the last one is the special prime), as SEAL's BFVDefault.
    pub fn layout(self) -> (usize, Vec<u32>) {
        match self {
            Preset::N4096 => (4096, vec![36, 36, 37]),
            Preset::N8192 => (8192, vec![43, 43, 44, 44, 44]),
            Preset::N16384 => (16384, vec![48, 48, 48, 49, 49, 49, 49, 49, 49]),
            Preset::N32768 => (32768, vec![55; 16]),
            Preset::N32768Narrow => (32768, [48].into_iter().chain([49; 17]).collect()),
        }
    }
}

/// Validated BFV parameters with their rings, shared by `Arc`.
#[derive(Debug)]
pub struct BfvParameters {
    n: usize,
    plaintext: Modulus,
    batching: bool,
    ciphertext_moduli: Vec<u64>,
    special_modulus: u64,
    /// R_Q: where ciphertexts live.
    ctx_q: Arc<Context>,
    /// R_QP: where key-switching keys live.
    ctx_qp: Arc<Context>,
    /// Level l uses the first k - l primes of Q (level 0: all of them).
    pub(crate) levels: Vec<Level>,
}

impl PartialEq for BfvParameters {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
            && self.plaintext == other.plaintext
            && self.ciphertext_moduli == other.ciphertext_moduli
            && self.special_modulus == other.special_modulus
    }
}
impl Eq for BfvParameters {}

impl BfvParameters {
    /// A 128-bit-secure preset with a 20-bit batching plaintext modulus.
    pub fn preset(preset: Preset) -> Result<Arc<Self>> {
        let (n, sizes) = preset.layout();
        BfvParametersBuilder::new()
            .degree(n)
            .moduli_sizes(&sizes)
            .batching_plaintext_bits(20)
            .build()
    }

    /// Ring degree N (also the number of batching slots).
    pub fn degree(&self) -> usize {
        self.n
    }

    /// Plaintext modulus t.
    pub fn plaintext_modulus(&self) -> u64 {
        self.plaintext.value()
    }

    /// Plaintext modulus t as a [`Modulus`].
    pub fn plaintext(&self) -> &Modulus {
        &self.plaintext
    }

    /// Whether t is a prime = 1 (mod 2N), so that batching (SIMD slots) is available.
    pub fn supports_batching(&self) -> bool {
        self.batching
    }

    /// The primes of Q, where ciphertexts live.
    pub fn ciphertext_moduli(&self) -> &[u64] {
        &self.ciphertext_moduli
    }

    /// The special prime P of key switching.
    pub fn special_modulus(&self) -> u64 {
        self.special_modulus
    }

    /// The ring R_Q of ciphertexts.
    pub fn ciphertext_context(&self) -> &Arc<Context> {
        &self.ctx_q
    }

    /// The ring R_QP of key-switching keys (Q's primes, then P).
    pub fn key_context(&self) -> &Arc<Context> {
        &self.ctx_qp
    }

    /// Bits of Q P.
    pub fn log_qp(&self) -> u32 {
        self.ctx_qp.modulus_bits()
    }

    /// The highest level: k - 1 for k ciphertext primes (one prime left).
    pub fn max_level(&self) -> usize {
        self.ciphertext_moduli.len() - 1
    }

    /// The data of level `l`.
    pub(crate) fn level(&self, l: usize) -> Result<&Level> {
        self.levels.get(l).ok_or(Error::InvalidParameters {
            reason: "no such level",
        })
    }

    /// The product tables of level `l`, built once.
    pub(crate) fn mul_context(&self, l: usize) -> Result<&MulContext> {
        self.level(l)?.mul_context()
    }
}

/// Builder of [`BfvParameters`]; `build` validates everything once.
#[derive(Clone, Debug, Default)]
pub struct BfvParametersBuilder {
    n: usize,
    plaintext: Option<u64>,
    plaintext_bits: Option<u32>,
    moduli: Option<Vec<u64>>,
    sizes: Option<Vec<u32>>,
    allow_insecure: bool,
}

impl BfvParametersBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ring degree N, a power of two in 1024..=32768.
    pub fn degree(mut self, n: usize) -> Self {
        self.n = n;
        self
    }

    /// Plaintext modulus t (batching needs t prime and t = 1 mod 2N).
    pub fn plaintext_modulus(mut self, t: u64) -> Self {
        self.plaintext = Some(t);
        self
    }

    /// Plaintext modulus: the largest prime of `bits` bits with t = 1 (mod 2N), enabling batching.
    pub fn batching_plaintext_bits(mut self, bits: u32) -> Self {
        self.plaintext_bits = Some(bits);
        self
    }

    /// The primes of Q then the special prime P (last), given explicitly.
    pub fn moduli(mut self, moduli: &[u64]) -> Self {
        self.moduli = Some(moduli.to_vec());
        self
    }

    /// Sizes in bits of the primes of Q then of the special prime (last): each size takes the
    /// largest unused primes q = 1 (mod 2N), as SEAL's `CoeffModulus::Create`.
    pub fn moduli_sizes(mut self, sizes: &[u32]) -> Self {
        self.sizes = Some(sizes.to_vec());
        self
    }

    /// Accepts a modulus larger than the 128-bit bound of the HE standard for this N. The name
    /// says what it does: only for tests and experiments.
    pub fn allow_below_128_bit_security(mut self) -> Self {
        self.allow_insecure = true;
        self
    }

    /// Validates and builds the parameters.
    pub fn build(self) -> Result<Arc<BfvParameters>> {
        let n = self.n;
        veil_ring::ntt::check_degree(n)?;
        let all = match (&self.moduli, &self.sizes) {
            (Some(m), None) => m.clone(),
            (None, Some(sizes)) => veil_ring::primes::chain_of_sizes(sizes, n)?,
            _ => {
                return Err(Error::InvalidParameters {
                    reason: "give exactly one of moduli or moduli_sizes",
                });
            }
        };
        let (special, ciphertext) = match all.split_last() {
            Some((p, q)) if !q.is_empty() => (*p, q.to_vec()),
            _ => {
                return Err(Error::InvalidParameters {
                    reason: "need at least one ciphertext prime and a special prime",
                });
            }
        };
        let t = match (self.plaintext, self.plaintext_bits) {
            (Some(t), None) => t,
            (None, Some(bits)) => {
                *ntt_primes(bits, n, 1)?
                    .first()
                    .ok_or(Error::InvalidParameters {
                        reason: "no batching prime",
                    })?
            }
            _ => {
                return Err(Error::InvalidParameters {
                    reason: "give exactly one of plaintext_modulus or batching_plaintext_bits",
                });
            }
        };
        let plaintext = Modulus::new(t)?;
        if t < 2 || all.iter().any(|&q| q <= t || q % t == 0) {
            return Err(Error::InvalidParameters {
                reason: "t must be at least 2, smaller than every prime and coprime to them",
            });
        }
        // Decryption sums x_i w_i (x_i < q_i, w_i < t) in 128 bits (`scaling.rs`): refuse chains
        // for which that sum could reach 2^127 (only weak, opted-in parameters come near it).
        let scaling_sum = ciphertext.iter().try_fold(0u128, |acc, &q| {
            acc.checked_add(u128::from(q) * u128::from(t))
        });
        if scaling_sum.is_none_or(|sum| sum >= 1 << 127) {
            return Err(Error::InvalidParameters {
                reason: "t times the sum of the ciphertext primes must stay below 2^127",
            });
        }
        if all.iter().any(|&q| !is_prime(q)) {
            return Err(Error::InvalidParameters {
                reason: "every modulus must be prime",
            });
        }
        let ctx_qp = Context::new(&all, n)?;
        let ctx_q = ctx_qp.select(&(0..ciphertext.len()).collect::<Vec<_>>())?;
        let log_qp = ctx_qp.modulus_bits();
        let max_log_qp = max_log_qp_128(n).unwrap_or(0);
        if log_qp > max_log_qp && !self.allow_insecure {
            return Err(Error::Insecure {
                n,
                log_qp,
                max_log_qp,
            });
        }
        // Key-switching noise is divided by P: P must be as large (in bits) as any prime of Q.
        let bits = |q: u64| 64 - q.leading_zeros();
        if ciphertext.iter().any(|&q| bits(q) > bits(special)) {
            return Err(Error::InvalidParameters {
                reason: "the special prime must have at least as many bits as every ciphertext prime",
            });
        }
        let batching = is_prime(t) && t % (2 * n as u64) == 1;
        let k = ciphertext.len();
        let taken: Vec<u64> = ciphertext.iter().copied().chain([special]).collect();
        let levels = (0..k)
            .map(|l| Level::new(&ctx_qp, k - l, &plaintext, &taken))
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(BfvParameters {
            n,
            plaintext,
            batching,
            ciphertext_moduli: ciphertext,
            special_modulus: special,
            ctx_q,
            ctx_qp,
            levels,
        }))
    }
}

/// For each size in order, the largest not-yet-used prime of that size with q = 1 (mod 2N).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_128_bit_and_match_seal() {
        let all = [
            Preset::N4096,
            Preset::N8192,
            Preset::N16384,
            Preset::N32768,
            Preset::N32768Narrow,
        ];
        for preset in all {
            let p = BfvParameters::preset(preset).unwrap();
            assert!(
                p.log_qp() <= max_log_qp_128(p.degree()).unwrap(),
                "{preset:?}"
            );
            assert!(p.supports_batching());
            assert_eq!(64 - p.plaintext_modulus().leading_zeros(), 20);
        }
        // The narrow chain: every prime below 2^50 (IFMA), 17 ciphertext primes, log QP 881.
        let narrow = BfvParameters::preset(Preset::N32768Narrow).unwrap();
        assert!(narrow.ciphertext_moduli().iter().all(|&q| q < 1 << 50));
        assert!(narrow.special_modulus() < 1 << 50);
        assert_eq!(
            (narrow.ciphertext_moduli().len(), narrow.log_qp()),
            (17, 881)
        );
        // SEAL's CoeffModulus::BFVDefault(4096) = {0xffffee001, 0xffffc4001, 0x1ffffe0001}.
        let p = BfvParameters::preset(Preset::N4096).unwrap();
        assert_eq!(p.ciphertext_moduli(), &[0xffffee001, 0xffffc4001]);
        assert_eq!(p.special_modulus(), 0x1ffffe0001);
        assert_eq!(p.log_qp(), 109);
    }

    /// Issue 14: k t q >= 2^128 would overflow the 128-bit sums of the decryption scaling.
    #[test]
    fn chains_that_overflow_the_decryption_sums_are_refused() {
        let n = 1024;
        let mut primes = ntt_primes(62, n, 20).unwrap();
        let t = ntt_primes(61, n, 1).unwrap()[0];
        let build = |moduli: &[u64]| {
            BfvParametersBuilder::new()
                .degree(n)
                .moduli(moduli)
                .plaintext_modulus(t)
                .allow_below_128_bit_security()
                .build()
        };
        // 19 ciphertext primes of 62 bits times a 61-bit t: the sum reaches 2^127.
        assert!(matches!(
            build(&primes),
            Err(Error::InvalidParameters { .. })
        ));
        // Four are fine.
        primes.truncate(5);
        assert!(build(&primes).is_ok());
    }

    #[test]
    fn bad_and_insecure_parameters_are_refused() {
        let base = || {
            BfvParametersBuilder::new()
                .degree(4096)
                .batching_plaintext_bits(20)
        };
        assert!(matches!(
            base().moduli_sizes(&[60, 60]).build(),
            Err(Error::Insecure {
                log_qp: 120,
                max_log_qp: 109,
                ..
            })
        ));
        assert!(
            base()
                .moduli_sizes(&[60, 60])
                .allow_below_128_bit_security()
                .build()
                .is_ok()
        );
        assert!(base().moduli_sizes(&[36]).build().is_err()); // no special prime
        assert!(base().build().is_err()); // no moduli
        assert!(
            BfvParametersBuilder::new()
                .degree(4000)
                .moduli_sizes(&[36, 37])
                .plaintext_modulus(17)
                .build()
                .is_err()
        );
        assert!(base().moduli(&[97, 193]).build().is_err()); // not = 1 mod 2N
        let p = ntt_primes(36, 4096, 2).unwrap();
        assert!(
            BfvParametersBuilder::new()
                .degree(4096)
                .moduli(&p)
                .plaintext_modulus(p[1])
                .build()
                .is_err()
        );
        // Non-batching t is allowed; batching is then reported unavailable.
        let nb = BfvParametersBuilder::new()
            .degree(4096)
            .moduli_sizes(&[36, 37])
            .plaintext_modulus(256)
            .build()
            .unwrap();
        assert!(!nb.supports_batching());
    }
}
