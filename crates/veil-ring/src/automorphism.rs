//! Galois automorphisms sigma_g: a(X) -> a(X^g) of R_Q, for odd g below 2N, in both
//! representations (Gentry, Halevi and Smart, "Fully homomorphic encryption with polylog overhead",
//! Eurocrypt 2012, sec. 4.2).
//!
//! - Coefficient form: coefficient i moves to i g mod 2N, negated when it lands at or past N
//!   (X^N = -1).
//! - NTT form: slot r of [`NttOperator::forward`](crate::NttOperator::forward) holds a(psi^e_r) with
//!   e_r = 2 bitrev(r) + 1, so sigma_g(a) at slot r is a(psi^(e_r g)): a permutation of the slots,
//!   no arithmetic. This is what lets several rotations share one key-switching decomposition.

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::poly::{Coeff, Context, Ntt, Poly};

fn check_element(n: usize, g: u64) -> Result<()> {
    let two_n = 2 * n as u64;
    if g % 2 == 1 && g < two_n {
        Ok(())
    } else {
        Err(Error::InvalidGaloisElement { g, two_n })
    }
}

/// The slot permutation of sigma_g in NTT form: `sigma_g(a)[r] = a[perm[r]]` for every limb.
pub fn ntt_permutation(n: usize, g: u64) -> Result<Vec<usize>> {
    crate::ntt::check_degree(n)?;
    check_element(n, g)?;
    let log_n = n.trailing_zeros();
    let two_n = 2 * n as u64;
    let bit_reverse = |i: usize| i.reverse_bits() >> (usize::BITS - log_n);
    Ok((0..n)
        .map(|r| {
            let e = 2 * bit_reverse(r) as u64 + 1;
            let target = e * g % two_n; // odd, so (target - 1) / 2 is an index below n
            bit_reverse(((target - 1) / 2) as usize)
        })
        .collect())
}

impl Poly<Coeff> {
    /// sigma_g(self) = self(X^g), for odd g < 2N.
    pub fn automorphism(&self, g: u64) -> Result<Poly<Coeff>> {
        let ctx = self.context();
        let n = ctx.degree();
        check_element(n, g)?;
        let two_n = 2 * n as u64;
        let mut out = Poly::<Coeff>::zero(ctx);
        out.as_mut_slice()
            .par_chunks_mut(n)
            .zip(ctx.moduli().par_iter())
            .enumerate()
            .for_each(|(limb_index, (dst, q))| {
                // j = i g mod 2N, advanced by additions instead of a division per coefficient.
                let mut j = 0u64;
                for &x in self.limb(limb_index) {
                    let (pos, value) = if j < n as u64 {
                        (j as usize, x)
                    } else {
                        ((j - n as u64) as usize, q.neg(x))
                    };
                    if let Some(slot) = dst.get_mut(pos) {
                        *slot = value;
                    }
                    j += g;
                    if j >= two_n {
                        j -= two_n;
                    }
                }
            });
        Ok(out)
    }
}

impl Poly<Ntt> {
    /// sigma_g(self) for a permutation from [`ntt_permutation`] (of this degree).
    pub fn permute_slots(&self, perm: &[usize]) -> Result<Poly<Ntt>> {
        let ctx: &Arc<Context> = self.context();
        let n = ctx.degree();
        if perm.len() != n || perm.iter().any(|&p| p >= n) {
            return Err(Error::Mismatch {
                what: "permutation length",
                left: perm.len(),
                right: n,
            });
        }
        let mut out = Poly::<Ntt>::zero(ctx);
        out.as_mut_slice()
            .par_chunks_mut(n)
            .enumerate()
            .for_each(|(i, dst)| {
                let src = self.limb(i);
                for (d, &p) in dst.iter_mut().zip(perm) {
                    *d = src[p];
                }
            });
        Ok(out)
    }

    /// sigma_g(self), for odd g < 2N.
    pub fn automorphism(&self, g: u64) -> Result<Poly<Ntt>> {
        self.permute_slots(&ntt_permutation(self.context().degree(), g)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;
    use crate::sample::Sampler;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

        /// The NTT-form permutation is the coefficient automorphism seen through the transform,
        /// and sigma_g composes: sigma_g sigma_h = sigma_gh.
        #[test]
        fn ntt_form_matches_coefficient_form(log_n in 10u32..=12, g in any::<u64>(), h in any::<u64>(), seed in any::<[u8; 32]>()) {
            let n = 1usize << log_n;
            let two_n = 2 * n as u64;
            let (g, h) = ((g % two_n) | 1, (h % two_n) | 1);
            let ctx = Context::new(&ntt_primes(45, n, 2).unwrap(), n).unwrap();
            let mut sampler = Sampler::from_seed(seed);
            let data: Vec<u64> = ctx.moduli().iter().flat_map(|q| sampler.uniform(q, n)).collect();
            let a = Poly::<Coeff>::from_residues(&ctx, data).unwrap();
            let via_coeff = a.automorphism(g).unwrap().into_ntt();
            let via_ntt = a.clone().into_ntt().automorphism(g).unwrap();
            prop_assert_eq!(&via_coeff, &via_ntt);
            let composed = a.automorphism(h).unwrap().automorphism(g).unwrap();
            prop_assert_eq!(composed, a.automorphism(g * h % two_n).unwrap());
        }
    }

    #[test]
    fn bad_elements_are_errors() {
        let ctx = Context::new(&ntt_primes(30, 1024, 1).unwrap(), 1024).unwrap();
        let a = Poly::<Coeff>::zero(&ctx);
        assert!(a.automorphism(2).is_err());
        assert!(a.automorphism(2049).is_err());
        assert!(ntt_permutation(1024, 4).is_err());
        assert!(ntt_permutation(1000, 3).is_err());
        assert!(a.into_ntt().permute_slots(&[0, 1]).is_err());
        // The identity.
        assert_eq!(
            ntt_permutation(1024, 1).unwrap(),
            (0..1024).collect::<Vec<_>>()
        );
    }
}
