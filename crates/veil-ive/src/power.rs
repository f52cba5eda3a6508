//! The power vector v = (f_0(x), ..., f_(p-1)(x)) of an encrypted x in p - 2 products at depth
//! ceil(log2(p - 1)) (DESIGN.md, IVE: x^(2k) = (x^k)^2, x^(2k+1) = x^k x^(k+1); Chebyshev:
//! T_(2k) = 2 T_k^2 - 1, T_(2k+1) = 2 T_k T_(k+1) - x).
//!
//! Products at the same depth are independent and run in parallel. Only the powers that are
//! multiplied again (k <= ceil((p - 1) / 2)) are relinearized; the others stay as products, and
//! the linear combination that consumes them is relinearized once per output instead.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::scheme::IveScheme;

/// Which family of linearly independent functions the vector holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerRule {
    /// f_k(x) = x^k (exact schemes: B is a Vandermonde or DFT matrix).
    Monomial,
    /// f_k(x) = T_k(x), Chebyshev polynomials of the first kind (with nodes cos(pi (2i+1)/2p),
    /// B is the DCT-II matrix: the approximate-arithmetic choice).
    Chebyshev,
}

/// Depth (products on the longest path) of f_k: ceil(log2 k) for k >= 1, 0 for k <= 1.
pub fn depth_of(k: usize) -> u32 {
    if k <= 1 {
        0
    } else {
        usize::BITS - (k - 1).leading_zeros()
    }
}

/// Number of ciphertext products for powers 0..p-1: p - 2 for p >= 2.
pub fn product_count(p: usize) -> usize {
    p.saturating_sub(2)
}

/// f_1..f_(p-1) of the encrypted `x` (f_0 = 1 is a plaintext constant and is not returned):
/// element k - 1 holds f_k. `extra_depth` products follow in the caller's circuit, so that
/// [`IveScheme::settle`] keeps room for them.
pub fn power_vector<S: IveScheme>(
    scheme: &S,
    x: &S::Ciphertext,
    p: usize,
    rule: PowerRule,
    extra_depth: u32,
) -> Result<Vec<S::Ciphertext>> {
    if p < 2 {
        return Err(Error::InvalidConfig {
            reason: "a power vector needs p >= 2",
        });
    }
    let total = depth_of(p - 1) + extra_depth;
    // Slot k holds f_k once computed (slot 0 unused: f_0 = 1).
    let mut powers: Vec<Option<S::Ciphertext>> = vec![None; p];
    let reused = (p - 1).div_ceil(2);
    if let Some(slot) = powers.get_mut(1) {
        *slot = Some(scheme.settle(x.clone(), total)?);
    }
    let mut lo = 2;
    while lo < p {
        let hi = (2 * lo - 2).min(p - 1); // (2^(m-1), 2^m]: every k of depth m
        let depth = depth_of(lo);
        let done = &powers;
        let new: Vec<S::Ciphertext> = (lo..=hi)
            .into_par_iter()
            .map(|k| {
                let (a, b) = (k / 2, k - k / 2);
                let fa = done.get(a).and_then(Option::as_ref);
                let fb = done.get(b).and_then(Option::as_ref);
                let (Some(fa), Some(fb)) = (fa, fb) else {
                    return Err(Error::InvalidConfig {
                        reason: "power vector plan",
                    });
                };
                let prod = if a == b {
                    scheme.square(fa)?
                } else {
                    scheme.mul(fa, fb)?
                };
                let prod = if k <= reused {
                    scheme.relinearize(&prod)?
                } else {
                    prod
                };
                // Settled before the Chebyshev step: a CKKS product must be rescaled before it
                // can meet T_1 or a constant at a matching scale (BFV: the same switch, earlier).
                let prod = scheme.settle(prod, total - depth)?;
                Ok(match rule {
                    PowerRule::Monomial => prod,
                    PowerRule::Chebyshev => {
                        // T_(a+b) = 2 T_a T_b - T_(b-a), b - a in {0, 1}.
                        let doubled = scheme.add(&prod, &prod)?;
                        if a == b {
                            scheme.add_scalar(&doubled, scheme.scalar(-1))?
                        } else {
                            let f1 = done.get(1).and_then(Option::as_ref).ok_or(
                                Error::InvalidConfig {
                                    reason: "power vector plan",
                                },
                            )?;
                            scheme.sub(&doubled, f1)?
                        }
                    }
                })
            })
            .collect::<Result<_>>()?;
        for (k, ct) in (lo..=hi).zip(new) {
            if let Some(slot) = powers.get_mut(k) {
                *slot = Some(ct);
            }
        }
        lo = hi + 1;
    }
    powers
        .into_iter()
        .skip(1)
        .map(|c| {
            c.ok_or(Error::InvalidConfig {
                reason: "power vector plan",
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depths_and_counts() {
        assert_eq!(depth_of(1), 0);
        assert_eq!(depth_of(2), 1);
        assert_eq!(depth_of(3), 2);
        assert_eq!(depth_of(4), 2);
        assert_eq!(depth_of(5), 3);
        assert_eq!(depth_of(255), 8);
        assert_eq!(depth_of(256), 8);
        assert_eq!(depth_of(257), 9);
        assert_eq!(product_count(256), 254);
        // Operands of f_k have smaller depth: a = k/2, b = k - k/2 <= k - 1.
        for k in 2..2000usize {
            assert!(depth_of(k / 2).max(depth_of(k - k / 2)) < depth_of(k));
        }
    }
}
