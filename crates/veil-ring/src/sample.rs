//! Samplers for the coefficients of `R_q = Z_q[X]/(X^N + 1)`, driven by a seeded ChaCha20 stream.
//!
//! | distribution                   | method                          | constant time in the output        |
//! | ------------------------------ | ------------------------------- | ---------------------------------- |
//! | uniform in [0, q)              | [`Sampler::uniform`]            | yes (rejections are independent)   |
//! | uniform in {-1, 0, 1}          | [`Sampler::ternary`]            | yes (rejections are independent)   |
//! | centered binomial, eta         | [`Sampler::centered_binomial`]  | yes (popcounts, fixed bit count)   |
//! | discrete Gaussian, sigma       | [`Sampler::gaussian`]           | **no** (binary search in a table)  |
//!
//! Rejection sampling discards candidates whose value is never used, so its running time reveals
//! only how many candidates were rejected, which is independent of the accepted values.
//!
//! Everything is a deterministic function of the 32-byte seed: the same seed gives the same
//! polynomials on every platform. Parallel code stays deterministic by giving each task its own
//! [`Sampler::fork`], taken in a fixed order before the tasks start.
//!
//! The error distribution of the HomomorphicEncryption.org standard (and SEAL's default) has
//! sigma = [`STANDARD_SIGMA`] = 3.2 with a tail cut at 6 sigma = 19.2, so |e| <= 19
//! ([`GaussianTable::bound`]). [`Sampler::centered_binomial`] with eta = 21 has variance 10.5,
//! sigma ~ 3.24: a constant-time stand-in of about the same width (|e| <= 21).
//!
//! Sampled secrets (keys, errors) are returned in plain vectors: zeroizing them is the caller's job.

use core::fmt;

use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::zq::Modulus;

/// Standard deviation of the error distribution in the HomomorphicEncryption.org security
/// standard (Albrecht et al., "Homomorphic Encryption Security Standard", 2018) and in SEAL:
/// 8 / sqrt(2 pi) ~ 3.19, rounded to 3.2.
pub const STANDARD_SIGMA: f64 = 3.2;

/// Tail cut of [`GaussianTable`], in standard deviations: values with |x| > 6 sigma are never drawn
/// (SEAL's `noise_distribution_width_multiplier`); the mass cut off is about 2e-9.
pub const TAIL_CUT: f64 = 6.0;

/// Largest sigma accepted by [`GaussianTable::new`]; the table has 2 floor(6 sigma) entries.
/// Wider (flooding) noise needs another sampler.
pub const MAX_GAUSSIAN_SIGMA: f64 = 1024.0;

/// Seeded sampler of ring coefficients: a ChaCha20 stream (RFC 8439 core, 20 rounds) and a cached
/// [`GaussianTable`].
///
/// Not `Clone`: two copies would produce the same "random" values. Use [`Sampler::fork`] for an
/// independent child. `Debug` prints no state. On drop the ChaCha20 key and buffered output are
/// overwritten (best effort: `ChaCha20Rng` does not implement `Zeroize`, so the state is replaced
/// by the all-zero-seed generator and the store is kept alive with [`core::hint::black_box`]; copies
/// left behind by moves of the `Sampler` are not reached).
pub struct Sampler {
    rng: ChaCha20Rng,
    /// The table of the last sigma passed to [`Sampler::gaussian`].
    gaussian: Option<GaussianTable>,
}

impl fmt::Debug for Sampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sampler")
            .field("rng", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.rng = ChaCha20Rng::from_seed([0u8; 32]);
        core::hint::black_box(&mut self.rng);
    }
}

impl Sampler {
    /// The sampler whose whole output is determined by `seed` (ChaCha20 key = seed, stream 0).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let mut seed = seed;
        let rng = ChaCha20Rng::from_seed(seed);
        seed.zeroize();
        Sampler {
            rng,
            gaussian: None,
        }
    }

    /// A sampler seeded with 32 bytes of operating-system entropy (`getrandom`).
    ///
    /// # Panics
    /// If the operating system cannot provide entropy (as `rand::rng()` does).
    pub fn from_entropy() -> Self {
        Sampler {
            rng: ChaCha20Rng::from_os_rng(),
            gaussian: None,
        }
    }

    /// An independent child sampler seeded with the next 32 bytes of this one's stream.
    ///
    /// Children taken in a fixed order from a seeded sampler are themselves deterministic, so work
    /// split over threads (one child per task) gives the same result for any schedule.
    pub fn fork(&mut self) -> Sampler {
        let mut seed = [0u8; 32];
        self.rng.fill_bytes(&mut seed);
        let child = Sampler::from_seed(seed);
        seed.zeroize();
        child
    }

    /// `n` values uniform in [0, q).
    pub fn uniform(&mut self, q: &Modulus, n: usize) -> Vec<u64> {
        let mut out = vec![0u64; n];
        self.uniform_into(q, &mut out);
        out
    }

    /// Fills `out` with values uniform in [0, q): 64-bit words masked to the smallest power of two
    /// 2^k >= q, rejected when >= q (acceptance probability > 1/2, no modulo bias).
    pub fn uniform_into(&mut self, q: &Modulus, out: &mut [u64]) {
        let qv = q.value();
        // q < 2^62, so the power of two does not overflow.
        let mask = qv.next_power_of_two() - 1;
        for o in out.iter_mut() {
            *o = loop {
                let x = self.rng.next_u64() & mask;
                if x < qv {
                    break x;
                }
            };
        }
    }

    /// `n` values uniform in {-1, 0, 1}.
    pub fn ternary(&mut self, n: usize) -> Vec<i64> {
        let mut out = vec![0i64; n];
        self.ternary_into(&mut out);
        out
    }

    /// Fills `out` with values uniform in {-1, 0, 1}: 2-bit chunks c of the stream with c = 3
    /// rejected, mapped without branches as (c & 1) - (c >> 1): 0 -> 0, 1 -> 1, 2 -> -1.
    pub fn ternary_into(&mut self, out: &mut [i64]) {
        let (mut word, mut left) = (0u64, 0u32);
        for o in out.iter_mut() {
            *o = loop {
                if left == 0 {
                    word = self.rng.next_u64();
                    left = 32;
                }
                let c = word & 3;
                word >>= 2;
                left -= 1;
                if c != 3 {
                    break (c & 1) as i64 - (c >> 1) as i64;
                }
            };
        }
    }

    /// `n` values of the centered binomial distribution with parameter `eta` (see
    /// [`Sampler::centered_binomial_into`]).
    pub fn centered_binomial(&mut self, n: usize, eta: u32) -> Vec<i64> {
        let mut out = vec![0i64; n];
        self.centered_binomial_into(&mut out, eta);
        out
    }

    /// Fills `out` with sum_{i<eta} a_i - sum_{i<eta} b_i for independent uniform bits a_i, b_i:
    /// mean 0, variance eta/2, support [-eta, eta] (Alkim, Ducas, Poeppelmann, Schwabe,
    /// "Post-quantum key exchange - a new hope", USENIX Security 2016). eta = 21 gives sigma = sqrt(10.5) ~ 3.24, close to [`STANDARD_SIGMA`].
    ///
    /// Constant time in the sampled values: each coefficient takes ceil(eta / 32) words of the
    /// stream and two popcounts per word, whatever the bits are.
    pub fn centered_binomial_into(&mut self, out: &mut [i64], eta: u32) {
        for o in out.iter_mut() {
            let mut acc = 0i64;
            let mut left = eta;
            while left > 0 {
                let k = left.min(32);
                let mask = (1u64 << k) - 1;
                let w = self.rng.next_u64();
                acc +=
                    i64::from((w & mask).count_ones()) - i64::from(((w >> 32) & mask).count_ones());
                left -= k;
            }
            *o = acc;
        }
    }

    /// `n` values of the discrete Gaussian of parameter `sigma` cut at 6 sigma, from a table built
    /// on the first call with this `sigma` and kept for the next calls. `None` when `sigma` is not
    /// in (0, [`MAX_GAUSSIAN_SIGMA`]].
    ///
    /// **Not constant time**: see [`GaussianTable`]; [`Sampler::centered_binomial`] is the
    /// constant-time alternative.
    pub fn gaussian(&mut self, n: usize, sigma: f64) -> Option<Vec<i64>> {
        let mut out = vec![0i64; n];
        self.gaussian_into(&mut out, sigma)?;
        Some(out)
    }

    /// Fills `out` as [`Sampler::gaussian`]; `None` (and `out` untouched) for an invalid `sigma`.
    pub fn gaussian_into(&mut self, out: &mut [i64], sigma: f64) -> Option<()> {
        let cached = self
            .gaussian
            .as_ref()
            .is_some_and(|t| t.sigma.to_bits() == sigma.to_bits());
        if !cached {
            self.gaussian = Some(GaussianTable::new(sigma)?);
        }
        let table = self.gaussian.as_ref()?;
        table.fill(&mut self.rng, out);
        Some(())
    }

    /// `n` values of the discrete Gaussian of a prebuilt table (for several samplers sharing one).
    pub fn gaussian_with(&mut self, table: &GaussianTable, n: usize) -> Vec<i64> {
        let mut out = vec![0i64; n];
        table.fill(&mut self.rng, &mut out);
        out
    }
}

/// The raw ChaCha20 stream, for seeds, masks and anything `rand` can draw.
impl RngCore for Sampler {
    fn next_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.rng.fill_bytes(dst);
    }
}

impl CryptoRng for Sampler {}

/// Cumulative distribution table of the discrete Gaussian D_sigma restricted to [-B, B] with
/// B = floor(6 sigma): P(x) proportional to exp(-x^2 / (2 sigma^2)), so the variance is sigma^2
/// within a relative 1e-6 for sigma >= 1 (the 6-sigma cut removes about 7e-8 of it). SEAL instead
/// rounds a continuous normal clipped at 6 sigma (variance about sigma^2 + 1/12); both give
/// |x| <= 19 for sigma = 3.2.
///
/// Entry i is round(2^64 P(X <= i - B)), computed in `f64` (absolute error about 2^-52 per entry,
/// so a statistical distance of at most about (2B + 1) 2^-51 from the exact truncated
/// distribution). A sample is the number of entries <= a uniform 64-bit word, minus B.
///
/// **Not constant time**: the binary search branches on the sampled value, so cache and branch
/// timing can leak it. Use [`Sampler::centered_binomial`] when that matters.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianTable {
    sigma: f64,
    bound: i64,
    /// 2B non-decreasing entries; the implicit last entry is 2^64.
    cdt: Vec<u64>,
}

impl GaussianTable {
    /// The table for `sigma` in (0, [`MAX_GAUSSIAN_SIGMA`]], or `None` outside that range (NaN
    /// included).
    pub fn new(sigma: f64) -> Option<Self> {
        if !(sigma > 0.0 && sigma <= MAX_GAUSSIAN_SIGMA) {
            return None;
        }
        Some(Self::build(sigma))
    }

    /// The table for a sigma already checked to be in range.
    fn build(sigma: f64) -> Self {
        let bound = (TAIL_CUT * sigma).floor() as i64;
        let two_var = 2.0 * sigma * sigma;
        let weights: Vec<f64> = (-bound..=bound)
            .map(|x| (-((x * x) as f64) / two_var).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        const TWO_64: f64 = 18_446_744_073_709_551_616.0;
        let mut acc = 0.0;
        let cdt = weights
            .iter()
            .take(weights.len() - 1)
            .map(|w| {
                acc += w;
                // `as` saturates at u64::MAX, which only drops mass below 2^-64.
                (acc / total * TWO_64).round() as u64
            })
            .collect();
        GaussianTable { sigma, bound, cdt }
    }

    /// The table for [`STANDARD_SIGMA`] (bound 19).
    pub fn standard() -> Self {
        // STANDARD_SIGMA is in (0, MAX_GAUSSIAN_SIGMA] (a test checks it): no fallback needed.
        Self::build(STANDARD_SIGMA)
    }

    /// The parameter sigma.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// The largest |x| ever drawn: floor(6 sigma).
    pub fn bound(&self) -> i64 {
        self.bound
    }

    /// Fills `out` from `rng` (variable time, see the type's documentation).
    pub fn fill<R: RngCore + CryptoRng>(&self, rng: &mut R, out: &mut [i64]) {
        for o in out.iter_mut() {
            let u = rng.next_u64();
            *o = self.cdt.partition_point(|&c| c <= u) as i64 - self.bound;
        }
    }
}

/// Maps small signed integers (ternary, binomial or Gaussian samples) to residues in [0, q).
/// Fails with [`Error::Mismatch`] when the lengths differ.
pub fn small_to_residues(values: &[i64], q: &Modulus, out: &mut [u64]) -> Result<()> {
    if values.len() != out.len() {
        return Err(Error::Mismatch {
            what: "length",
            left: values.len(),
            right: out.len(),
        });
    }
    for (o, &v) in out.iter_mut().zip(values) {
        *o = q.reduce_i64(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_table_is_the_checked_one() {
        let checked = GaussianTable::new(STANDARD_SIGMA).unwrap();
        let standard = GaussianTable::standard();
        assert_eq!(standard.cdt, checked.cdt);
        assert_eq!(standard.bound(), 19);
        assert!(!standard.cdt.is_empty());
    }
    use crate::primes::ntt_primes;
    use proptest::prelude::*;

    const N: usize = 1 << 16;

    fn seeded(byte: u8) -> Sampler {
        Sampler::from_seed([byte; 32])
    }

    fn mean_var(xs: &[i64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<i64>() as f64 / n;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn same_seed_same_output_different_seed_differs() {
        let q = Modulus::new(ntt_primes(36, 4096, 1).unwrap()[0]).unwrap();
        let draw = |s: &mut Sampler| {
            (
                s.uniform(&q, 256),
                s.ternary(256),
                s.centered_binomial(256, 21),
                s.gaussian(256, STANDARD_SIGMA).unwrap(),
            )
        };
        let (mut a, mut b, mut c) = (seeded(1), seeded(1), seeded(2));
        let (x, y, z) = (draw(&mut a), draw(&mut b), draw(&mut c));
        assert_eq!(x, y);
        assert_ne!(x.0, z.0);
        assert_ne!(x.1, z.1);
        assert_ne!(x.2, z.2);
        assert_ne!(x.3, z.3);
    }

    #[test]
    fn known_answer_pins_the_stream() {
        // ChaCha20 with an all-zero key and nonce: the first keystream block of RFC 8439,
        // sec. A.1, test vector 1 starts 76 b8 e0 ad a0 f1 3d 90. Pinned so that seeds expanded
        // elsewhere (e.g. a public polynomial sent as a seed) keep their meaning.
        let mut s = seeded(0);
        assert_eq!(
            s.next_u64(),
            u64::from_le_bytes([0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90])
        );
        let q = Modulus::new(97).unwrap();
        // Word 0 = 0x903d..b876: 0x76 = 118 >= 97 is rejected; word 1 = 0x28bd..5d40: 0x40 = 64.
        assert_eq!(seeded(0).uniform(&q, 8), [64, 61, 40, 90, 67, 31, 24, 75]);
    }

    #[test]
    fn forks_are_deterministic_and_independent() {
        let (mut a, mut b) = (seeded(3), seeded(3));
        let (mut a1, mut a2) = (a.fork(), a.fork());
        let (mut b1, mut b2) = (b.fork(), b.fork());
        let q = Modulus::new((1 << 61) - 1).unwrap();
        let (x1, x2) = (a1.uniform(&q, 64), a2.uniform(&q, 64));
        assert_eq!(x1, b1.uniform(&q, 64));
        assert_eq!(x2, b2.uniform(&q, 64));
        assert_ne!(x1, x2);
        assert_ne!(x1, a.uniform(&q, 64));
    }

    #[test]
    fn debug_prints_no_state() {
        let s = seeded(0xab);
        assert_eq!(format!("{s:?}"), r#"Sampler { rng: "<redacted>", .. }"#);
        assert_eq!(format!("{:?}", Sampler::from_entropy()), format!("{s:?}"));
    }

    #[test]
    fn uniform_is_uniform() {
        // Chi-square over exact values of a small modulus, and over 16 buckets of a 36-bit prime.
        // 97 - 1 and 16 - 1 degrees of freedom; the bounds are about 6 standard deviations out.
        let q = Modulus::new(97).unwrap();
        let xs = seeded(4).uniform(&q, N);
        let mut counts = [0u64; 97];
        for &x in &xs {
            counts[x as usize] += 1;
        }
        let expected = N as f64 / 97.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 96.0 + 6.0 * (2.0 * 96.0f64).sqrt(), "chi2 = {chi2}");

        let q = Modulus::new(ntt_primes(36, 4096, 1).unwrap()[0]).unwrap();
        let xs = seeded(5).uniform(&q, N);
        assert!(xs.iter().all(|&x| x < q.value()));
        let mut buckets = [0u64; 16];
        for &x in &xs {
            buckets[(u128::from(x) * 16 / u128::from(q.value())) as usize] += 1;
        }
        let expected = N as f64 / 16.0;
        let chi2: f64 = buckets
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 15.0 + 6.0 * 30.0f64.sqrt(), "chi2 = {chi2}");
        // The top quarter of [0, 2^36) is mostly rejected: a biased modulo would overfill the
        // low buckets; the mean stays at q/2.
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / N as f64;
        assert!(
            (mean / q.value() as f64 - 0.5).abs() < 0.01,
            "mean = {mean}"
        );
    }

    #[test]
    fn ternary_frequencies() {
        let xs = seeded(6).ternary(N);
        for v in [-1, 0, 1] {
            let f = xs.iter().filter(|&&x| x == v).count() as f64 / N as f64;
            assert!((f - 1.0 / 3.0).abs() < 0.01, "P({v}) = {f}");
        }
        assert!(xs.iter().all(|x| (-1..=1).contains(x)));
    }

    #[test]
    fn centered_binomial_moments_and_bound() {
        for (eta, seed) in [(21u32, 7u8), (2, 8), (1, 9), (32, 10), (40, 11)] {
            let xs = seeded(seed).centered_binomial(N, eta);
            let (mean, var) = mean_var(&xs);
            let target = f64::from(eta) / 2.0;
            assert!(
                (var / target - 1.0).abs() < 0.05,
                "eta = {eta}: var = {var}"
            );
            assert!(mean.abs() < 0.05, "eta = {eta}: mean = {mean}");
            assert!(xs.iter().all(|x| x.abs() <= i64::from(eta)));
        }
        assert!(seeded(0).centered_binomial(16, 0).iter().all(|&x| x == 0));
    }

    #[test]
    fn gaussian_moments_and_bound() {
        for (sigma, seed) in [(STANDARD_SIGMA, 12u8), (1.0, 13), (19.2, 14)] {
            let mut s = seeded(seed);
            let xs = s.gaussian(N, sigma).unwrap();
            let (mean, var) = mean_var(&xs);
            assert!(
                (var / (sigma * sigma) - 1.0).abs() < 0.05,
                "sigma = {sigma}: var = {var}"
            );
            assert!(mean.abs() < 0.05 * sigma, "sigma = {sigma}: mean = {mean}");
            let bound = (6.0 * sigma).floor() as i64;
            assert!(xs.iter().all(|x| x.abs() <= bound));
        }
        let t = GaussianTable::standard();
        assert_eq!((t.sigma(), t.bound()), (3.2, 19));
        assert_eq!(t.cdt.len(), 38);
        assert!(t.cdt.windows(2).all(|w| w[0] <= w[1]));
        // The table is symmetric: P(X <= -k - 1) + P(X <= k) = 1, up to f64 rounding (2^-52).
        for k in 0..19 {
            let (lo, hi) = (t.cdt[18 - k], t.cdt[19 + k]);
            let err = lo.wrapping_add(hi) as i64;
            assert!(err.unsigned_abs() < 1 << 13, "k = {k}: {err}");
        }
        // The cached and explicit tables give the same stream.
        assert_eq!(
            seeded(15).gaussian(64, STANDARD_SIGMA).unwrap(),
            seeded(15).gaussian_with(&t, 64)
        );
    }

    #[test]
    fn gaussian_rejects_bad_sigma() {
        for sigma in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_GAUSSIAN_SIGMA * 2.0] {
            assert!(GaussianTable::new(sigma).is_none(), "{sigma}");
            let mut out = [7i64; 4];
            assert!(seeded(0).gaussian_into(&mut out, sigma).is_none());
            assert_eq!(out, [7; 4]);
        }
        // Tiny sigma: the point mass at 0.
        assert_eq!(seeded(0).gaussian(8, 0.1).unwrap(), vec![0; 8]);
        // Switching sigma rebuilds the cached table.
        let mut s = seeded(16);
        assert!(s.gaussian(256, 1.0).unwrap().iter().all(|x| x.abs() <= 6));
        assert!(s.gaussian(256, 50.0).unwrap().iter().any(|x| x.abs() > 6));
    }

    #[test]
    fn small_values_map_to_residues() {
        let q = Modulus::new(97).unwrap();
        let mut out = [0u64; 5];
        small_to_residues(&[-1, 0, 1, -19, 100], &q, &mut out).unwrap();
        assert_eq!(out, [96, 0, 1, 78, 3]);
        assert!(matches!(
            small_to_residues(&[1, 2], &q, &mut out),
            Err(Error::Mismatch {
                left: 2,
                right: 5,
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn uniform_stays_below_q(q in 2u64..(1 << 62), seed in any::<[u8; 32]>(), n in 0usize..256) {
            let q = Modulus::new(q).unwrap();
            let mut s = Sampler::from_seed(seed);
            let xs = s.uniform(&q, n);
            prop_assert_eq!(xs.len(), n);
            prop_assert!(xs.iter().all(|&x| x < q.value()));
        }

        #[test]
        fn uniform_power_of_two_moduli(k in 1u32..62, seed in any::<[u8; 32]>()) {
            let q = Modulus::new(1 << k).unwrap();
            let xs = Sampler::from_seed(seed).uniform(&q, 64);
            prop_assert!(xs.iter().all(|&x| x < q.value()));
        }
    }
}
