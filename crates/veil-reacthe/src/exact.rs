//! The exact path over BFV (`veil-bfv`) for residual z + alpha z^2 networks of any number of
//! blocks: the network is quantised to an integer model whose every intermediate value has a
//! tracked worst-case bound B; the model is evaluated modulo several batching primes t_1..t_m
//! whose product exceeds 2 B (one BFV instance per prime, same circuit), and the outputs are
//! reconstructed by the Chinese remainder theorem: nothing wraps modulo the product, so the
//! reconstructed outputs equal the integer model's bit for bit (one sample per slot, as for CKKS).
//!
//! Integer model with scales 2^sx (inputs), 2^sw (weights), 2^sa (alpha), every scale a power
//! of two tracked by its exponent:
//! h_0 = W_in x + b_in (scale e_0 = sx + sw); per block, z = W h + b (scale e_z = e_h + sw) and
//! h' = 2^(e_h' - e_h) h + 2^(sa + e_z) z + round(alpha 2^sa) z^2 with e_h' = sa + 2 e_z;
//! out = W_out h + b_out (scale e_h + sw). Weights and biases are rounded at their scale. Each
//! block doubles the exponent, hence CRT for two blocks and more.
//!
//! Replies are sanitized ([`veil_bfv::PublicKey::sanitize`]: re-randomised, flooded, switched
//! down) when [`ExactOptions::sanitize`] is set; the flooding hides the computation's noise to
//! 2^-40 only if the reply kept [`veil_bfv::sanitize_reserve_bits`] of noise budget, which
//! [`run_exact`] measures with the key and reports.

use std::sync::Arc;

use ndarray::Array2;
use rayon::prelude::*;
use veil_bfv::{
    BfvParameters, Ciphertext, Encoder, PublicKey, RelinearizationKey, SecretKey,
    sanitize_reserve_bits,
};
use veil_ring::sample::Sampler;

use crate::error::{Error, Result};
use crate::model::{Activation, Dense, Network};

/// Largest plaintext prime (bits): every t must stay below every prime of the chain (58+ bits).
pub const MAX_PLAINTEXT_BITS: u32 = 57;
/// Largest output scale exponent accepted (the integer model runs in i128).
pub const MAX_SCALE_BITS: u32 = 100;
/// Largest tracked bound accepted (log2): leaves i128 headroom for every intermediate.
pub const MAX_BOUND_BITS: u32 = 120;

/// One quantised residual block: h' = skip h + lin z + alpha z^2 with z = W h + b.
#[derive(Clone, Debug, PartialEq)]
struct Block {
    w: Vec<Vec<i64>>,
    b: Vec<i128>,
    skip: i128,
    lin: i128,
    alpha: i64,
}

/// A quantised residual network and its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedNetwork {
    /// Input clip: standardised inputs are clipped to [-clip, clip] before quantisation.
    pub clip: f64,
    /// Scale exponents (sx, sw, sa).
    pub bits: (u32, u32, u32),
    w_in: Vec<Vec<i64>>,
    b_in: Vec<i128>,
    blocks: Vec<Block>,
    w_out: Vec<Vec<i64>>,
    b_out: Vec<i128>,
    out_bits: u32,
    /// Worst-case |value| over every intermediate and output, for inputs within the clip.
    pub bound: i128,
}

fn quantize(m: &Array2<f64>, scale: f64) -> Vec<Vec<i64>> {
    m.rows()
        .into_iter()
        .map(|r| r.iter().map(|v| (v * scale).round() as i64).collect())
        .collect()
}

fn quantize_bias(b: &ndarray::Array1<f64>, bits: u32) -> Vec<i128> {
    let s = 2f64.powi(bits as i32);
    b.iter().map(|v| (v * s).round() as i128).collect()
}

/// max_j sum_i |W_ji| B_i + |b_j| per output j (saturating: a saturated bound is refused).
fn linear_bound(w: &[Vec<i64>], b: &[i128], inputs: &[i128]) -> Vec<i128> {
    w.iter()
        .zip(b)
        .map(|(row, bj)| {
            row.iter()
                .zip(inputs)
                .fold(bj.saturating_abs(), |acc, (wi, bi)| {
                    acc.saturating_add(i128::from(*wi).saturating_abs().saturating_mul(*bi))
                })
        })
        .collect()
}

/// W x + b in i128 (callers keep |values| within the tracked bound, so nothing overflows).
fn dense(w: &[Vec<i64>], b: &[i128], x: &[i128]) -> Vec<i128> {
    w.iter()
        .zip(b)
        .map(|(row, bj)| {
            row.iter()
                .zip(x)
                .map(|(wi, xi)| i128::from(*wi) * xi)
                .sum::<i128>()
                + bj
        })
        .collect()
}

impl QuantizedNetwork {
    /// Quantises `net` (residual, any number of z + alpha z^2 blocks) with scales 2^sx, 2^sw,
    /// 2^sa and inputs clipped to [-clip, clip]. Refuses output scales above 2^[`MAX_SCALE_BITS`]
    /// and bounds above 2^[`MAX_BOUND_BITS`].
    pub fn new(net: &Network, bits: (u32, u32, u32), clip: f64) -> Result<QuantizedNetwork> {
        let (Some(input), Activation::Power { alpha, power: 2 }) =
            (&net.input, net.arch.activation)
        else {
            return Err(Error::Config {
                reason: "the exact path takes a residual network of z + alpha z^2 blocks".into(),
            });
        };
        let (sx, sw, sa) = bits;
        if sx > 20 || sw > 20 || sa > 20 || !(clip > 0.0 && clip < 1e3) {
            return Err(Error::Config {
                reason: "scale exponents up to 20 and a clip in (0, 1000)".into(),
            });
        }
        let config = |reason: String| Error::Config { reason };
        let fw = 2f64.powi(sw as i32);
        let mut e_h = sx + sw;
        let w_in = quantize(&input.w, fw);
        let b_in = quantize_bias(&input.b, e_h);
        let mut blocks = Vec::with_capacity(net.hidden.len());
        for layer in &net.hidden {
            let e_z = e_h + sw;
            let e_next = sa + 2 * e_z;
            if e_next + sw > MAX_SCALE_BITS {
                return Err(config(format!(
                    "the output scale would exceed 2^{MAX_SCALE_BITS}: lower the scales"
                )));
            }
            blocks.push(Block {
                w: quantize(&layer.w, fw),
                b: quantize_bias(&layer.b, e_z),
                skip: 1i128 << (e_next - e_h),
                lin: 1i128 << (sa + e_z),
                alpha: (alpha * 2f64.powi(sa as i32)).round() as i64,
            });
            e_h = e_next;
        }
        let Dense { w, b } = &net.head;
        let mut me = QuantizedNetwork {
            clip,
            bits,
            w_in,
            b_in,
            w_out: quantize(w, fw),
            b_out: quantize_bias(b, e_h + sw),
            blocks,
            out_bits: e_h + sw,
            bound: 0,
        };
        me.bound = me.track_bound(net.features());
        if me.bound >= 1i128 << MAX_BOUND_BITS {
            return Err(config(format!(
                "the tracked bound exceeds 2^{MAX_BOUND_BITS}: lower the scales or the clip"
            )));
        }
        Ok(me)
    }

    /// The worst case over every stage (saturating at i128::MAX).
    fn track_bound(&self, features: usize) -> i128 {
        let x_max = (self.clip * 2f64.powi(self.bits.0 as i32)).round() as i128;
        let mut worst = x_max;
        let mut bh = linear_bound(&self.w_in, &self.b_in, &vec![x_max; features]);
        for block in &self.blocks {
            let bz = linear_bound(&block.w, &block.b, &bh);
            worst = bh.iter().chain(&bz).fold(worst, |a, &b| a.max(b));
            bh = bh
                .iter()
                .zip(&bz)
                .map(|(h, z)| {
                    block
                        .skip
                        .saturating_mul(*h)
                        .saturating_add(block.lin.saturating_mul(*z))
                        .saturating_add(
                            i128::from(block.alpha)
                                .saturating_abs()
                                .saturating_mul(z.saturating_mul(*z)),
                        )
                })
                .collect();
        }
        let bo = linear_bound(&self.w_out, &self.b_out, &bh);
        bh.iter().chain(&bo).fold(worst, |a, &b| a.max(b))
    }

    /// Residual blocks.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// log2 of the output scale.
    pub fn output_scale_bits(&self) -> u32 {
        self.out_bits
    }

    /// Bits of a modulus that holds every value of the model without wrapping (> 2 bound).
    pub fn plaintext_bits(&self) -> u32 {
        128 - (2 * self.bound + 1).leading_zeros()
    }

    /// Standardised inputs clipped and rounded at scale 2^sx (rows = samples).
    pub fn quantize_inputs(&self, x: &Array2<f64>) -> Vec<Vec<i64>> {
        let f = 2f64.powi(self.bits.0 as i32);
        x.rows()
            .into_iter()
            .map(|r| {
                r.iter()
                    .map(|v| (v.clamp(-self.clip, self.clip) * f).round() as i64)
                    .collect()
            })
            .collect()
    }

    /// The integer model on quantised inputs (rows = samples, each entry within the clip at
    /// scale 2^sx as [`QuantizedNetwork::quantize_inputs`] gives): outputs at the output scale.
    pub fn forward(&self, xq: &[Vec<i64>]) -> Vec<Vec<i128>> {
        let x_max = (self.clip * 2f64.powi(self.bits.0 as i32)).round() as i128;
        xq.iter()
            .map(|x| {
                let x: Vec<i128> = x
                    .iter()
                    .map(|v| i128::from(*v).clamp(-x_max, x_max))
                    .collect();
                let mut h = dense(&self.w_in, &self.b_in, &x);
                for block in &self.blocks {
                    let z = dense(&block.w, &block.b, &h);
                    h = h
                        .iter()
                        .zip(&z)
                        .map(|(h, z)| {
                            block.skip * h + block.lin * z + i128::from(block.alpha) * z * z
                        })
                        .collect();
                }
                dense(&self.w_out, &self.b_out, &h)
            })
            .collect()
    }
}

/// The CRT plaintext primes for `q` at ring degree `degree`: m batching primes (t = 1 mod
/// 2 degree) of equal size, at most [`MAX_PLAINTEXT_BITS`] bits, as few as give a product above
/// 2 bound + 1 with one bit to spare (the smallest sizes that do: a smaller t costs less noise).
pub fn plaintext_primes(q: &QuantizedNetwork, degree: usize) -> Result<Vec<u64>> {
    let needed = q.plaintext_bits().max(19) + 1;
    let count = needed.div_ceil(MAX_PLAINTEXT_BITS - 1) as usize;
    // Each prime of `per` bits is at least 2^(per - 1): count (per - 1) >= needed.
    let per = (needed.div_ceil(count as u32) + 1).min(MAX_PLAINTEXT_BITS);
    let primes = veil_ring::primes::ntt_primes(per, degree, count).map_err(|e| Error::Config {
        reason: format!("no {count} batching primes of {per} bits: {e}"),
    })?;
    let product_bits: u32 = primes.iter().map(|t| 63 - t.leading_zeros()).sum();
    if primes.len() != count || product_bits < needed {
        return Err(Error::Config {
            reason: "not enough batching primes".into(),
        });
    }
    Ok(primes)
}

/// x mod t, centred in (-t/2, t/2].
fn centred(x: i128, t: u64) -> i64 {
    let t = i128::from(t);
    let r = x.rem_euclid(t);
    (if r > t / 2 { r - t } else { r }) as i64
}

/// The ring and chain of the exact path.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactOptions {
    /// Ring degree N.
    pub degree: usize,
    /// Bit sizes of the ciphertext primes, then the special prime (last).
    pub moduli_sizes: Vec<u32>,
    /// Accept parameters below 128-bit security (tests only).
    pub insecure: bool,
    /// Sanitize every reply ([`PublicKey::sanitize`]) before it leaves the server.
    pub sanitize: bool,
}

impl Default for ExactOptions {
    /// N = 16384, 58 + 5 x 60 bits and a 60-bit special prime (418 <= 438 bits: 128-bit
    /// security), replies sanitized.
    fn default() -> Self {
        ExactOptions {
            degree: 16384,
            moduli_sizes: vec![58, 60, 60, 60, 60, 60, 60],
            insecure: false,
            sanitize: true,
        }
    }
}

/// BFV parameters for one plaintext prime `t`.
pub fn bfv_parameters(options: &ExactOptions, t: u64) -> Result<Arc<BfvParameters>> {
    let mut b = veil_bfv::BfvParametersBuilder::new()
        .degree(options.degree)
        .plaintext_modulus(t)
        .moduli_sizes(&options.moduli_sizes);
    if options.insecure {
        b = b.allow_below_128_bit_security();
    }
    Ok(b.build()?)
}

/// The server's evaluation of `q` modulo the encoder's prime, on one ciphertext per quantised
/// feature (samples in slots); coefficients are reduced modulo t (centred).
pub fn evaluate_bfv(
    q: &QuantizedNetwork,
    encoder: &Encoder,
    features: &[Ciphertext],
    rk: &RelinearizationKey,
) -> Result<Vec<Ciphertext>> {
    let t = encoder.parameters().plaintext_modulus();
    let dense = |w: &[Vec<i64>], b: &[i128], x: &[Ciphertext]| -> Result<Vec<Ciphertext>> {
        let first = x.first().ok_or_else(|| Error::Config {
            reason: "no inputs".into(),
        })?;
        w.par_iter()
            .zip(b)
            .map(|(row, bj)| {
                let mut acc = first.mul_scalar(0);
                for (wi, xi) in row.iter().zip(x) {
                    let k = centred(i128::from(*wi), t);
                    if k != 0 {
                        acc = acc.add(&xi.mul_scalar(k))?;
                    }
                }
                Ok(acc.add_plain(&encoder.encode_scalar(centred(*bj, t)))?)
            })
            .collect()
    };
    let mut h = dense(&q.w_in, &q.b_in, features)?;
    for block in &q.blocks {
        let z = dense(&block.w, &block.b, &h)?;
        let (skip, lin, alpha) = (
            centred(block.skip, t),
            centred(block.lin, t),
            centred(i128::from(block.alpha), t),
        );
        h = h
            .par_iter()
            .zip(&z)
            .map(|(h, zi)| {
                let square = zi.mul_relin(&zi.mul_scalar(alpha), rk)?;
                Ok(h.mul_scalar(skip).add(&zi.mul_scalar(lin))?.add(&square)?)
            })
            .collect::<Result<_>>()?;
    }
    dense(&q.w_out, &q.b_out, &h)
}

/// What [`run_exact`] measured.
#[derive(Clone, Debug)]
pub struct ExactReport {
    /// Decrypted outputs reconstructed by CRT (rows = samples), at the output scale.
    pub outputs: Vec<Vec<i128>>,
    /// The plaintext primes.
    pub primes: Vec<u64>,
    /// Smallest noise budget (bits) of a reply before sanitization, over primes and outputs.
    pub budget_before: u32,
    /// Smallest noise budget after sanitization (equal to `budget_before` when not sanitized).
    pub budget_after: u32,
    /// The budget sanitization needs ([`sanitize_reserve_bits`]).
    pub reserve: u32,
    /// Ciphertext levels of the replies as sent (sanitization switches them down).
    pub reply_level: usize,
}

/// CRT reconstruction, centred in (-M/2, M/2] for M the product of `primes` (M < 2^127).
pub fn crt_centred(residues: &[i64], primes: &[u64]) -> Result<i128> {
    let big = |reason: &str| Error::Config {
        reason: reason.into(),
    };
    let mut x: i128 = 0;
    let mut m: i128 = 1;
    for (&r, &t) in residues.iter().zip(primes) {
        // x' = x + m ((r - x) m^-1 mod t): Garner's step, all values below m t.
        let ti = i128::from(t);
        let m_mod = m.rem_euclid(ti);
        let inv = mod_inverse(m_mod, ti).ok_or_else(|| big("primes not coprime"))?;
        let diff = (i128::from(r) - x).rem_euclid(ti);
        let k = mul_mod(diff, inv, ti);
        x = m
            .checked_mul(k)
            .and_then(|v| v.checked_add(x))
            .ok_or_else(|| big("CRT product over 2^127"))?;
        m = m
            .checked_mul(ti)
            .ok_or_else(|| big("CRT product over 2^127"))?;
    }
    Ok(if x > m / 2 { x - m } else { x })
}

/// a b mod t for a, b < t < 2^63 (i128 products do not overflow).
fn mul_mod(a: i128, b: i128, t: i128) -> i128 {
    (a * b).rem_euclid(t)
}

/// a^-1 mod t (extended Euclid), if gcd(a, t) = 1.
fn mod_inverse(a: i128, t: i128) -> Option<i128> {
    let (mut r0, mut r1, mut s0, mut s1) = (t, a, 0i128, 1i128);
    while r1 != 0 {
        let qt = r0 / r1;
        (r0, r1) = (r1, r0 - qt * r1);
        (s0, s1) = (s1, s0 - qt * s1);
    }
    (r0 == 1).then(|| s0.rem_euclid(t))
}

/// Encrypts, evaluates, (sanitizes,) decrypts and CRT-reconstructs `x` (standardised rows, at
/// most N samples) end to end, one BFV instance per plaintext prime, each with its own keys.
pub fn run_exact(
    q: &QuantizedNetwork,
    x: &Array2<f64>,
    options: &ExactOptions,
) -> Result<ExactReport> {
    let primes = plaintext_primes(q, options.degree)?;
    let xq = q.quantize_inputs(x);
    if xq.len() > options.degree || xq.is_empty() {
        return Err(Error::Config {
            reason: format!("1..={} samples per batch", options.degree),
        });
    }
    let cols = xq.first().map_or(0, Vec::len);
    let outputs = q.w_out.len();
    let mut residues = vec![vec![Vec::with_capacity(primes.len()); outputs]; xq.len()];
    let mut report = ExactReport {
        outputs: Vec::new(),
        primes: primes.clone(),
        budget_before: u32::MAX,
        budget_after: u32::MAX,
        reserve: 0,
        reply_level: 0,
    };
    let mut sampler = Sampler::from_entropy();
    for &t in &primes {
        let params = bfv_parameters(options, t)?;
        report.reserve = sanitize_reserve_bits(&params);
        let encoder = Encoder::new(&params)?;
        let sk = SecretKey::generate(&params)?;
        let pk: PublicKey = sk.public_key()?;
        let rk = sk.relinearization_key()?;
        let features = (0..cols)
            .map(|j| {
                let column: Vec<i64> = xq.iter().map(|r| centred(i128::from(r[j]), t)).collect();
                Ok(pk.encrypt(&encoder.encode_signed(&column)?)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let out = evaluate_bfv(q, &encoder, &features, &rk)?;
        for (k, ct) in out.iter().enumerate() {
            report.budget_before = report.budget_before.min(sk.noise_budget(ct)?);
            let reply = if options.sanitize {
                pk.sanitize(ct, &mut sampler)?
            } else {
                ct.clone()
            };
            report.budget_after = report.budget_after.min(sk.noise_budget(&reply)?);
            report.reply_level = reply.level();
            let slots = encoder.decode_signed(&sk.decrypt(&reply)?)?;
            for (row, v) in residues.iter_mut().zip(slots) {
                row[k].push(v);
            }
        }
    }
    report.outputs = residues
        .iter()
        .map(|row| row.iter().map(|r| crt_centred(r, &primes)).collect())
        .collect::<Result<_>>()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Standardizer, Task};
    use crate::model::{Architecture, gaussian};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// N = 4096 with a long chain: below 128-bit security, for tests only.
    fn test_options() -> ExactOptions {
        ExactOptions {
            degree: 4096,
            moduli_sizes: vec![58, 60, 60, 60, 60, 60, 60],
            insecure: true,
            sanitize: true,
        }
    }

    fn check(blocks: usize, bits: (u32, u32, u32), min_primes: usize) -> Result<()> {
        let std = Standardizer {
            mean: vec![0.0; 6],
            std: vec![1.0; 6],
        };
        let net = Network::new(
            Architecture::reacthe(5, blocks, 0.1),
            Task::MultiClass(3),
            6,
            std,
            3,
        )?;
        let q = QuantizedNetwork::new(&net, bits, 4.0)?;
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut x = Array2::from_shape_fn((30, 6), |_| 2.0 * gaussian(&mut rng));
        // The worst case the bound is tracked for: every input at +-clip.
        x.row_mut(0).fill(4.0);
        x.row_mut(1).fill(-4.0);
        let want = q.forward(&q.quantize_inputs(&x));
        assert!(want.iter().flatten().all(|v| v.abs() <= q.bound));
        let opts = test_options();
        let report = run_exact(&q, &x, &opts)?;
        assert!(report.primes.len() >= min_primes, "{:?}", report.primes);
        assert_eq!(report.outputs, want);
        // The replies kept the budget the flooding argument needs, and were switched down.
        assert!(
            report.budget_before >= report.reserve,
            "budget {} < reserve {}",
            report.budget_before,
            report.reserve
        );
        assert!(report.reply_level > 0);
        // The integer model approximates the float one (to a few per cent at the extreme rows,
        // where the quantisation error is amplified most).
        let f = net.forward_standardized(&x.mapv(|v| v.clamp(-4.0, 4.0)));
        let s = 2f64.powi(q.output_scale_bits() as i32);
        for (i, row) in want.iter().enumerate() {
            for (k, v) in row.iter().enumerate() {
                let got = *v as f64 / s;
                assert!(
                    (got - f[[i, k]]).abs() < 0.2 + 0.05 * f[[i, k]].abs(),
                    "{got} vs {}",
                    f[[i, k]]
                );
            }
        }
        Ok(())
    }

    #[test]
    fn one_block_is_bit_exact_with_one_prime() -> Result<()> {
        check(1, (4, 6, 8), 1)
    }

    #[test]
    fn two_blocks_are_bit_exact_by_crt() -> Result<()> {
        check(2, (3, 5, 6), 2)
    }

    #[test]
    fn crt_reconstructs_signed_values() -> Result<()> {
        let primes = [65537u64, 786433, 1_179_649];
        let m: i128 = primes.iter().map(|&t| i128::from(t)).product();
        for v in [
            0i128,
            1,
            -1,
            m / 2,
            -(m / 2) + 1,
            123_456_789_012,
            -98_765_432_101,
        ] {
            let r: Vec<i64> = primes.iter().map(|&t| centred(v, t)).collect();
            assert_eq!(crt_centred(&r, &primes)?, v);
        }
        Ok(())
    }

    #[test]
    fn refuses_unbounded_models() -> Result<()> {
        let std = Standardizer {
            mean: vec![0.0; 2],
            std: vec![1.0; 2],
        };
        let mut net = Network::new(Architecture::reacthe(3, 3, 0.1), Task::Binary, 2, std, 1)?;
        // Three blocks at these scales need an output scale above 2^100.
        assert!(QuantizedNetwork::new(&net, (4, 6, 8), 4.0).is_err());
        // Huge weights saturate the bound: refused, not overflowed.
        net.hidden.truncate(1);
        net.arch.depth = 1;
        net.hidden[0].w.fill(1e30);
        assert!(QuantizedNetwork::new(&net, (4, 6, 8), 4.0).is_err());
        Ok(())
    }
}
