//! Digit decomposition of the index, for tables taller than one power vector can cover at the
//! available depth (issue 11, item 5; docs/ive.md, "Large vocabularies").
//!
//! The index is written i = i_0 + p_0 i_1 + p_0 p_1 i_2 + ... (digit 0 least significant), and the
//! client encrypts one node per digit, x_l = w_l^(i_l) with w_l a primitive p_l-th root of unity
//! mod t. With L^(l)_a(x) = [x = w_l^a] = p_l^-1 sum_k w_l^(-a k) x^k the Lagrange (one-hot)
//! basis of digit l (B_l^-1 applied to its power vector), and o = i_1 + p_1 i_2 + ... the index
//! of the *outer* digits,
//!
//! row_j(i) = sum_o OH_o(x_1, x_2, ...) Y_(o,j)(x_0), Y_(o,j)(x_0) = sum_a L^(0)_a(x_0) E\[a + p_0 o\]\[j\],
//!
//! where OH is the tensor product of the outer digits' one-hot vectors and Y_(o,j) is a polynomial
//! of degree < p_0 in the *inner* node x_0 (one row of the single-digit M of the sub-table of rows
//! p_0 o .. p_0 o + p_0 - 1). Ciphertext products: sum_l (p_l - 2) for the power vectors, the
//! tensor product of the outer one-hot vectors (none for one outer digit), and P' d for
//! OH_o Y_(o,j) (P' = p / p_0): the inner digit should be the large one and the outer ones small,
//! which [`DigitBasis::cheapest`] chooses by this count.

use veil_ring::Modulus;

use crate::error::{Error, Result};
use crate::power::{depth_of, product_count};
use crate::table::{ExactBasis, MAX_ROWS};
use crate::wire::MAX_DIGITS;

/// Largest outer digit (its p x p Lagrange coefficients are kept in memory).
pub const MAX_OUTER_DIGIT: usize = 1024;

/// The digit sizes p_0, p_1, ... of the index and their root-of-unity bases, shared by client and
/// server. Digit 0 is the least significant and the *inner* one (evaluated through its change of
/// basis); the others are *outer* (turned into one-hot vectors and multiplied in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigitBasis {
    digits: Vec<ExactBasis>,
}

/// Ciphertext products and depth of a digit lookup (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigitCost {
    /// sum_l (p_l - 2): the per-digit power vectors.
    pub power_products: usize,
    /// The tensor product of the outer one-hot vectors (0 with one outer digit).
    pub onehot_products: usize,
    /// P' d: each outer one-hot entry times each inner polynomial.
    pub digit_products: usize,
    /// Multiplicative depth: max(depth of the inner powers, depth of the outer one-hot) + 1.
    pub depth: u32,
    /// The depth the noise plan reserves: as `depth`, with each outer digit's change of basis
    /// (a combination of p_l terms with scalars below t) counted as one more level.
    pub planned_depth: u32,
}

impl DigitCost {
    /// All ciphertext products.
    pub fn products(&self) -> usize {
        self.power_products + self.onehot_products + self.digit_products
    }
}

/// Products and depth of a lookup in a table of `d` columns with digit sizes `sizes` (inner
/// first). One digit is plain IVE: p - 2 products at depth ceil(log2(p - 1)).
pub fn cost_of(sizes: &[usize], d: usize) -> DigitCost {
    let power_products = sizes.iter().map(|&s| product_count(s)).sum();
    let inner_depth = sizes.first().map_or(0, |&s| depth_of(s.saturating_sub(1)));
    let outer = sizes.get(1..).unwrap_or(&[]);
    if outer.is_empty() {
        return DigitCost {
            power_products,
            onehot_products: 0,
            digit_products: 0,
            depth: inner_depth,
            planned_depth: inner_depth,
        };
    }
    let (mut span, mut onehot_products, mut depth, mut plan) = (1usize, 0usize, 0u32, 0u32);
    for (l, &s) in outer.iter().enumerate() {
        let dl = depth_of(s.saturating_sub(1));
        span = span.saturating_mul(s);
        if l == 0 {
            (depth, plan) = (dl, dl + 1);
        } else {
            onehot_products += span;
            depth = depth.max(dl) + 1;
            plan = plan.max(dl + 1) + 1;
        }
    }
    DigitCost {
        power_products,
        onehot_products,
        digit_products: span.saturating_mul(d),
        depth: inner_depth.max(depth) + 1,
        planned_depth: inner_depth.max(plan) + 1,
    }
}

impl DigitBasis {
    /// Digits of sizes `sizes` (inner first), each >= 2 and dividing t - 1 (roots of unity), at most
    /// [`MAX_DIGITS`] of them, outer ones at most [`MAX_OUTER_DIGIT`], product at most
    /// [`MAX_ROWS`].
    pub fn new(sizes: &[usize], t: &Modulus) -> Result<Self> {
        if sizes.is_empty() || sizes.len() > MAX_DIGITS || sizes.iter().any(|&s| s < 2) {
            return Err(Error::InvalidConfig {
                reason: "1..=4 digits of size >= 2",
            });
        }
        if sizes.iter().skip(1).any(|&s| s > MAX_OUTER_DIGIT) {
            return Err(Error::InvalidConfig {
                reason: "outer digits of size at most 1024",
            });
        }
        sizes
            .iter()
            .try_fold(1usize, |a, &s| a.checked_mul(s))
            .filter(|&r| r <= MAX_ROWS)
            .ok_or(Error::InvalidConfig {
                reason: "the digits' product exceeds the largest table",
            })?;
        let digits = sizes
            .iter()
            .map(|&s| ExactBasis::roots_of_unity(s, t))
            .collect::<Result<_>>()?;
        Ok(DigitBasis { digits })
    }

    /// The split of a power-of-two `p` into `count` power-of-two digits with the fewest ciphertext
    /// products for `d` columns ([`cost_of`]; ties: smaller planned depth), among those whose
    /// planned depth is at most `max_depth`.
    pub fn cheapest(p: usize, d: usize, count: usize, max_depth: u32, t: &Modulus) -> Result<Self> {
        if !p.is_power_of_two() || p < 2 || count == 0 || count > MAX_DIGITS {
            return Err(Error::InvalidConfig {
                reason: "automatic digits need a power-of-two p >= 2 and 1..=4 digits",
            });
        }
        let bits = p.trailing_zeros() as usize;
        let mut best: Option<(usize, u32, Vec<usize>)> = None;
        let mut exps = vec![1usize; count];
        // Every composition of `bits` into `count` positive parts.
        loop {
            if exps.iter().sum::<usize>() == bits {
                let sizes: Vec<usize> = exps.iter().map(|&e| 1usize << e).collect();
                let outer_ok = sizes.iter().skip(1).all(|&s| s <= MAX_OUTER_DIGIT);
                let c = cost_of(&sizes, d);
                let better = best
                    .as_ref()
                    .is_none_or(|(pr, dp, _)| (c.products(), c.planned_depth) < (*pr, *dp));
                if outer_ok && c.planned_depth <= max_depth && better {
                    best = Some((c.products(), c.planned_depth, sizes));
                }
            }
            // Next tuple in 1..=bits per position (odometer).
            let mut pos = 0;
            loop {
                let Some(e) = exps.get_mut(pos) else {
                    let (_, _, sizes) = best.ok_or(Error::InvalidConfig {
                        reason: "no digit split of p fits the depth",
                    })?;
                    return Self::new(&sizes, t);
                };
                if *e < bits {
                    *e += 1;
                    break;
                }
                *e = 1;
                pos += 1;
            }
        }
    }

    /// The digit sizes, inner first.
    pub fn sizes(&self) -> Vec<usize> {
        self.digits.iter().map(ExactBasis::size).collect()
    }

    /// The bases of the digits, inner first.
    pub fn digits(&self) -> &[ExactBasis] {
        &self.digits
    }

    /// The table height p = p_0 p_1 ...
    pub fn rows(&self) -> usize {
        self.digits.iter().map(ExactBasis::size).product()
    }

    /// Products and depth of a lookup with `d` columns.
    pub fn cost(&self, d: usize) -> DigitCost {
        cost_of(&self.sizes(), d)
    }

    /// The digits i_0, i_1, ... of index `i`.
    pub fn split(&self, i: usize) -> Result<Vec<usize>> {
        if i >= self.rows() {
            return Err(Error::IndexOutOfRange {
                index: i,
                rows: self.rows(),
            });
        }
        let mut rest = i;
        Ok(self
            .digits
            .iter()
            .map(|b| {
                let digit = rest % b.size();
                rest /= b.size();
                digit
            })
            .collect())
    }

    /// The node of each digit of index `i` (what the client encrypts, one ciphertext per digit).
    pub fn nodes(&self, i: usize, t: &Modulus) -> Result<Vec<u64>> {
        self.split(i)?
            .iter()
            .zip(&self.digits)
            .map(|(&d, b)| b.node(d, t))
            .collect()
    }
}

/// The Lagrange basis of a root-of-unity digit as monomial coefficients:
/// `out[a][k] = p^-1 w^(-a k)`, so that sum_k out\[a\]\[k\] x^k = \[x = w^a\] (the inverse DFT matrix).
pub(crate) fn lagrange_coefficients(basis: &ExactBasis, t: &Modulus) -> Result<Vec<Vec<u64>>> {
    let ExactBasis::RootsOfUnity { p, root } = *basis else {
        return Err(Error::InvalidConfig {
            reason: "digits use root-of-unity nodes",
        });
    };
    let (Some(inv_root), Some(inv_p)) = (t.inv(root), t.inv(t.reduce(p as u64))) else {
        return Err(Error::InvalidConfig {
            reason: "p or its root not invertible mod t",
        });
    };
    let powers: Vec<u64> = (0..p as u64).map(|e| t.pow(inv_root, e)).collect();
    Ok((0..p)
        .map(|a| {
            (0..p)
                .map(|k| t.mul(inv_p, powers.get(a * k % p).copied().unwrap_or(0)))
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_model_matches_the_documented_counts() {
        // Two digits: p_0 + p_1 - 4 + p_1 d products, depth max + 1.
        let c = cost_of(&[64, 64], 16);
        assert_eq!(c.products(), 64 + 64 - 4 + 64 * 16);
        assert_eq!(c.depth, 7);
        let c = cost_of(&[256, 16], 16);
        assert_eq!(c.products(), 256 + 16 - 4 + 16 * 16);
        assert_eq!((c.depth, c.planned_depth), (9, 9));
        // One digit: plain IVE.
        let c = cost_of(&[4096], 16);
        assert_eq!((c.products(), c.depth), (4094, 12));
        // Three digits: the outer tensor product costs p_1 p_2.
        let c = cost_of(&[16, 4, 4], 2);
        assert_eq!(c.power_products, 14 + 2 + 2);
        assert_eq!(c.onehot_products, 16);
        assert_eq!(c.digit_products, 32);
        assert_eq!(c.depth, 4 + 1);
    }

    #[test]
    fn cheapest_split_puts_the_large_digit_inside() {
        let t = Modulus::new(65537).unwrap();
        let b = DigitBasis::cheapest(4096, 16, 2, 20, &t).unwrap();
        assert_eq!(b.sizes(), vec![256, 16]);
        let b = DigitBasis::cheapest(65536, 1, 2, 20, &t).unwrap();
        assert_eq!(b.cost(1).products(), 764);
        assert!(DigitBasis::cheapest(4096, 16, 2, 3, &t).is_err());
        let b = DigitBasis::new(&[8, 4, 2], &t).unwrap();
        assert_eq!(b.rows(), 64);
        assert_eq!(b.split(8 * 4 + 3 * 8 + 5).unwrap(), vec![5, 3, 1]);
        assert!(b.split(64).is_err());
        assert!(DigitBasis::new(&[2; 5], &t).is_err());
        assert!(DigitBasis::new(&[4, 2048], &t).is_err());
        assert!(DigitBasis::new(&[3], &t).is_err());
    }

    #[test]
    fn lagrange_coefficients_are_indicators() {
        let t = Modulus::new(12289).unwrap();
        let basis = ExactBasis::roots_of_unity(16, &t).unwrap();
        let lag = lagrange_coefficients(&basis, &t).unwrap();
        for (a, coef) in lag.iter().enumerate() {
            for i in 0..16 {
                let x = basis.node(i, &t).unwrap();
                let v = coef.iter().rev().fold(0, |acc, &c| t.add(t.mul(acc, x), c));
                assert_eq!(v, u64::from(a == i));
            }
        }
    }
}
