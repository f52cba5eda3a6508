//! The distributions of RLWE samples, shared by the schemes built on this crate: uniform
//! polynomials (fresh, or expanded from a 32-byte seed so that only the seed travels), and errors
//! from the discrete Gaussian of the HomomorphicEncryption.org standard (sigma = 3.2, tail cut at
//! 19, as SEAL).

use std::sync::Arc;

use crate::error::Result;
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
    let e = sampler.gaussian_with(&GaussianTable::standard(), ctx.degree());
    Poly::from_small(ctx, &e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;

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
