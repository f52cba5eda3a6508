//! The distributions of RLWE samples, shared by the schemes built on this crate: uniform
//! polynomials (fresh, or expanded from a 32-byte seed so that only the seed travels), and errors
//! from the discrete Gaussian of the HomomorphicEncryption.org standard (sigma = 3.2, tail cut at
//! 19, as SEAL).

use std::sync::Arc;

use num_bigint::BigUint;
use rand::RngCore;
use rayon::prelude::*;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::poly::{Coeff, Context, Ntt, Poly};
use crate::sample::{GaussianTable, Sampler};

/// Largest log2(QP) at classical 128-bit security for a uniform ternary secret and error sigma 3.2:
/// the HomomorphicEncryption.org Security Standard (Albrecht et al., 2018), Table 1, for N up to
/// 32768, and OpenFHE's extension of that table (`stdlatticeparms.cpp`, HEStd_128_classic) for
/// N = 65536.
pub fn max_log_qp_128(n: usize) -> Option<u32> {
    match n {
        1024 => Some(27),
        2048 => Some(54),
        4096 => Some(109),
        8192 => Some(218),
        16384 => Some(438),
        32768 => Some(881),
        65536 => Some(1747),
        _ => None,
    }
}

/// 32 fresh bytes from `sampler`: the seed of a uniform polynomial.
pub fn fresh_seed(sampler: &mut Sampler) -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(sampler, &mut seed);
    seed
}

/// A uniform polynomial of `ctx`, read as NTT-form values (uniform in either form).
pub fn uniform_ntt(ctx: &Arc<Context>, sampler: &mut Sampler) -> Poly<Ntt> {
    let mut p = Poly::<Ntt>::zero(ctx);
    let n = ctx.degree();
    for (limb, q) in p.as_mut_slice().chunks_mut(n).zip(ctx.moduli()) {
        sampler.uniform_into(q, limb);
    }
    p
}

/// The uniform polynomial a seed expands to (ChaCha20 from the seed, limb by limb): how seeded
/// ciphertexts and keys are read back.
pub fn expand_uniform(ctx: &Arc<Context>, seed: &[u8; 32]) -> Poly<Ntt> {
    uniform_ntt(ctx, &mut Sampler::from_seed(*seed))
}

/// An error polynomial: N coefficients from the discrete Gaussian of sigma 3.2 (CDT sampling,
/// variable time; see [`crate::sample`]), the same in every limb.
pub fn error(ctx: &Arc<Context>, sampler: &mut Sampler) -> Result<Poly<Coeff>> {
    let e = Zeroizing::new(sampler.gaussian_with(&GaussianTable::standard(), ctx.degree()));
    Poly::from_small(ctx, &e)
}

/// A flooding polynomial: N coefficients drawn exactly uniformly from [-B, B] with
/// B = floor(Q / divisor), Q the product of `ctx`'s primes (the smudging noise of circuit
/// privacy: adding it to a value e changes the distribution by at most |e| / (2B + 1) in
/// statistical distance per coefficient). See [`uniform_symmetric`].
pub fn flooding(ctx: &Arc<Context>, divisor: u64, sampler: &mut Sampler) -> Result<Poly<Coeff>> {
    let q: BigUint = ctx
        .moduli()
        .iter()
        .map(|q| BigUint::from(q.value()))
        .product();
    uniform_symmetric(ctx, &(q / divisor.max(1)), sampler)
}

/// N coefficients drawn exactly uniformly from [-B, B], for 2 <= B < Q / 2 (Q the product of
/// `ctx`'s primes). Each is drawn by rejection from the bits of 2B (fewer than two draws on
/// average), so the running time depends on the random draws only.
pub fn uniform_symmetric(
    ctx: &Arc<Context>,
    bound: &BigUint,
    sampler: &mut Sampler,
) -> Result<Poly<Coeff>> {
    let moduli = ctx.moduli();
    let q: BigUint = moduli.iter().map(|q| BigUint::from(q.value())).product();
    let b = bound;
    if b.bits() < 2 || b * 2u32 >= q {
        return Err(Error::InvalidBasis {
            reason: "flooding bound must be in [2, Q/2)",
        });
    }
    let width = (b * 2u32).to_u64_digits(); // 2B, little-endian words
    let top = width.last().copied().unwrap_or(0);
    let top_mask = u64::MAX >> top.leading_zeros();
    let b_mod: Vec<u64> = moduli
        .iter()
        .map(|q| (b % q.value()).iter_u64_digits().next().unwrap_or(0))
        .collect();
    let n = ctx.degree();
    const CHUNK: usize = 1024;
    // One forked sampler per chunk, forked in a fixed order: the same seed gives the same noise.
    let mut forks: Vec<Sampler> = (0..n.div_ceil(CHUNK)).map(|_| sampler.fork()).collect();
    let mut data = vec![0u64; n * moduli.len()];
    let columns: Vec<Vec<u64>> = forks
        .par_iter_mut()
        .enumerate()
        .map(|(c, rng)| {
            let len = CHUNK.min(n - c * CHUNK);
            let mut out = vec![0u64; len * moduli.len()];
            let mut u = Zeroizing::new(vec![0u64; width.len()]);
            for j in 0..len {
                loop {
                    for w in u.iter_mut() {
                        *w = rng.next_u64();
                    }
                    if let Some(w) = u.last_mut() {
                        *w &= top_mask;
                    }
                    if u.iter().rev().cmp(width.iter().rev()) != core::cmp::Ordering::Greater {
                        break;
                    }
                }
                // u - B mod each prime, u reduced by Horner over its words (acc < q < 2^64).
                for (i, (q, &bq)) in moduli.iter().zip(&b_mod).enumerate() {
                    let ui = u.iter().rev().fold(0u64, |acc, &w| {
                        q.reduce_u128((u128::from(acc) << 64) | u128::from(w))
                    });
                    out[i * len + j] = q.sub(ui, bq);
                }
            }
            out
        })
        .collect();
    for (c, out) in columns.iter().enumerate() {
        let len = CHUNK.min(n - c * CHUNK);
        for i in 0..moduli.len() {
            data[i * n + c * CHUNK..i * n + c * CHUNK + len]
                .copy_from_slice(&out[i * len..(i + 1) * len]);
        }
    }
    Poly::from_residues(ctx, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;

    /// Flooding coefficients, lifted to integers, lie in [-B, B], reach both halves, and have the
    /// uniform distribution's mean and spread; the same seed gives the same noise.
    #[test]
    fn flooding_is_uniform_in_its_interval() {
        let ctx = Context::new(&ntt_primes(50, 2048, 3).unwrap(), 2048).unwrap();
        let divisor = 8 * 65537;
        let f = flooding(&ctx, divisor, &mut Sampler::from_seed([4; 32])).unwrap();
        assert_eq!(
            f,
            flooding(&ctx, divisor, &mut Sampler::from_seed([4; 32])).unwrap()
        );
        let primes: Vec<u64> = ctx.moduli().iter().map(|q| q.value()).collect();
        let basis = crate::RnsBasis::new(&primes).unwrap();
        let b = basis.product() / divisor;
        let values = basis.compose_poly_centered(f.as_slice(), 2048).unwrap();
        let b_f = b.to_string().parse::<f64>().unwrap();
        let xs: Vec<f64> = values
            .iter()
            .map(|v| {
                assert!(v.magnitude() <= &b, "outside [-B, B]");
                v.to_string().parse::<f64>().unwrap() / b_f
            })
            .collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64;
        // Uniform on [-1, 1]: mean 0 (sd 0.0128 over 2048), variance 1/3 (sd 0.0066).
        assert!(mean.abs() < 0.06, "mean {mean}");
        assert!((var - 1.0 / 3.0).abs() < 0.03, "variance {var}");
        assert!(flooding(&ctx, u64::MAX, &mut Sampler::from_seed([4; 32])).is_ok());
        let tiny = Context::new(&ntt_primes(20, 1024, 1).unwrap(), 1024).unwrap();
        assert!(flooding(&tiny, 1 << 20, &mut Sampler::from_seed([4; 32])).is_err());
    }

    #[test]
    fn seeds_expand_deterministically_and_errors_are_small() {
        let ctx = Context::new(&ntt_primes(40, 1024, 2).unwrap(), 1024).unwrap();
        let mut sampler = Sampler::from_seed([1; 32]);
        let seed = fresh_seed(&mut sampler);
        assert_eq!(expand_uniform(&ctx, &seed), expand_uniform(&ctx, &seed));
        assert_ne!(
            expand_uniform(&ctx, &seed),
            expand_uniform(&ctx, &fresh_seed(&mut sampler))
        );
        let e = error(&ctx, &mut sampler).unwrap();
        let q = ctx.moduli()[0];
        assert!(e.limb(0).iter().all(|&c| q.center(c).abs() <= 19));
        assert!(e.limb(0).iter().any(|&c| c != 0));
    }
}
