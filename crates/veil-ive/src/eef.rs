//! The CKKS one-hot baseline: KPLC24's encrypted equality function (Kim, Park, Lee, Cheon,
//! ICML 2024, sec. 3.3, eq. 7; parameters of its `ParamEEF`, yistarpro/CKKSEIF `core/src/eif.cpp`).
//!
//! For an encrypted integer x in [0, p) (p = 2^b) and a row k:
//! u = (x - k) / p in (-1, 1); y = 2 u^2 - 1, which is -1 exactly at x = k and inside (-1, 1)
//! elsewhere; r squarings y <- y^2 send it to 1 at x = k and towards 0 elsewhere; s cleansing
//! steps y <- 3 y^2 - 2 y^3 push both towards {0, 1}. Depth 2 + r + 2 s, with 1 + r + 2 s
//! ciphertext products per row, for every one of the p rows: O(p log p) products, since r grows
//! like 2 log2 p. The one-hot vector then meets the table in the combination shared with the BFV
//! baseline ([`crate::onehot::combine_one_hot`]).

use std::time::Instant;

use rayon::prelude::*;

use crate::dct::RealTable;
use crate::error::{Error, Result};
use crate::lookup::LookupTimings;
use crate::onehot::combine_one_hot;
use crate::scheme::IveScheme;

/// Squaring rounds r and cleansing steps s of the equality function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EefRounds {
    /// Squarings after 2 u^2 - 1.
    pub squarings: u32,
    /// Cleansing steps 3 y^2 - 2 y^3.
    pub cleanses: u32,
}

impl EefRounds {
    /// The rounds KPLC24 uses for a domain of `bound` = 2^b values (b >= 2) at scale
    /// 2^`scale_bits` (its `ParamEEF`): r = 2 + 2b - [b >= 5] - [b >= 7] and s = 1 + [b >= 4] +
    /// [b >= 6], then per-scale corrections the authors tuned for their precision target
    /// (restated here from the published parameter rule).
    pub fn kplc24(bound: usize, scale_bits: u32) -> Result<Self> {
        if !bound.is_power_of_two() || bound < 4 {
            return Err(Error::InvalidConfig {
                reason: "the equality function needs a power-of-two domain of at least 4",
            });
        }
        let b = bound.trailing_zeros() as i32;
        let on = |c: bool| i32::from(c);
        let mut r = 2 + 2 * b - on(b >= 5) - on(b >= 7);
        let mut s = 1 + on(b >= 4) + on(b >= 6);
        if scale_bits >= 40 {
            r += 1 - on(b <= 4) + on(b == 7);
        }
        if scale_bits >= 45 {
            r += on(b <= 4) + on(b == 7 || b == 9);
            s -= on(b == 6 || b == 7 || b == 9);
        }
        if scale_bits >= 50 {
            r += on(b >= 7) - on(b == 9 || b == 13) - 2 * on(b == 7);
            s += on(b == 7) - on(b == 4) - on(b >= 7) + on(b == 9 || b >= 12);
        }
        if scale_bits >= 55 {
            r += on((5..=8).contains(&b)) + on(b >= 13);
            s -= on((5..=8).contains(&b)) + on(b >= 12);
        }
        if scale_bits >= 59 && b == 9 {
            r += 1;
            s -= 1;
        }
        Ok(EefRounds {
            squarings: r.max(0) as u32,
            cleanses: s.max(0) as u32,
        })
    }

    /// Products on the longest path: 2 (the scaling and 2 u^2 - 1) + r + 2 s.
    pub fn depth(&self) -> u32 {
        2 + self.squarings + 2 * self.cleanses
    }

    /// Ciphertext products per row: 1 + r + 2 s.
    pub fn products_per_row(&self) -> u32 {
        1 + self.squarings + 2 * self.cleanses
    }
}

/// [x == k] for the encrypted index x (module docs), left at the level of the final combination
/// (the last product not relinearized).
pub fn equality<S: IveScheme<Scalar = f64>>(
    scheme: &S,
    x: &S::Ciphertext,
    k: usize,
    p: usize,
    rounds: EefRounds,
) -> Result<S::Ciphertext> {
    let total = rounds.depth();
    let x = scheme.settle(x.clone(), total)?;
    let inv = 1.0 / p as f64;
    // u = (x - k) / p: one level, exact scale.
    let u = scheme.linear_combination(&[(&x, inv)], -(k as f64) * inv)?;
    let mut done = 2;
    let sq = scheme.settle(scheme.relinearize(&scheme.square(&u)?)?, total - done)?;
    let mut y = scheme.add_scalar(&scheme.add(&sq, &sq)?, -1.0)?;
    for _ in 0..rounds.squarings {
        done += 1;
        y = scheme.settle(scheme.relinearize(&scheme.square(&y)?)?, total - done)?;
    }
    for step in 0..rounds.cleanses {
        let last = step + 1 == rounds.cleanses;
        let y2 = scheme.settle(scheme.relinearize(&scheme.square(&y)?)?, total - done - 1)?;
        let two_y2 = scheme.add(&y2, &y2)?;
        let prod = scheme.mul(&y, &two_y2)?;
        let prod = if last {
            prod
        } else {
            scheme.relinearize(&prod)?
        };
        let two_y3 = scheme.settle(prod, total - done - 2)?;
        done += 2;
        // 3 y^2 - 2 y^3.
        y = scheme.sub(&scheme.add(&y2, &two_y2)?, &two_y3)?;
    }
    scheme.settle(y, 0)
}

/// The KPLC24 one-hot lookup: the equality function for each of the first `rows` rows of the
/// p-row `table` (all of them for a real lookup; fewer to time a sample), then the columns
/// sum_k E\[k\]\[j\] [x == k] over those rows. `x` holds the index itself in each slot.
pub fn eef_one_hot_lookup<S: IveScheme<Scalar = f64>>(
    scheme: &S,
    table: &RealTable,
    rows: usize,
    x: &S::Ciphertext,
    rounds: EefRounds,
) -> Result<(Vec<S::Ciphertext>, LookupTimings)> {
    let p = table.rows();
    if rows == 0 || rows > p {
        return Err(Error::InvalidConfig {
            reason: "rows to evaluate must be in 1..=p",
        });
    }
    scheme.check_depth(rounds.depth())?;
    let start = Instant::now();
    let vector = (0..rows)
        .into_par_iter()
        .map(|k| equality(scheme, x, k, p, rounds))
        .collect::<Result<Vec<_>>>()?;
    let generation = start.elapsed();
    combine_one_hot(scheme, &vector, generation, table.cols(), |j| {
        (table.column(j).into_iter().take(rows).collect(), 0.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_follow_the_published_rule() {
        // b = 8 at scale 2^40: r = 2 + 16 - 2 + 1 = 17, s = 3; depth 25.
        let r = EefRounds::kplc24(256, 40).unwrap();
        assert_eq!((r.squarings, r.cleanses, r.depth()), (17, 3, 25));
        // b = 4 at 2^49: r = 10 (+1 -1 at 40, +1 at 45) = 11, s = 2.
        let r = EefRounds::kplc24(16, 49).unwrap();
        assert_eq!((r.squarings, r.cleanses), (11, 2));
        // b = 6 at 2^49: r = 13 + 1 = 14, s = 3 - 1 = 2.
        let r = EefRounds::kplc24(64, 49).unwrap();
        assert_eq!((r.squarings, r.cleanses), (14, 2));
        assert!(EefRounds::kplc24(12, 40).is_err());
        assert!(EefRounds::kplc24(2, 40).is_err());
    }

    /// The plaintext function: 1 at k, below 2^-10 elsewhere, for every k and x < 256.
    #[test]
    fn plaintext_equality_separates() {
        let p = 256usize;
        let r = EefRounds::kplc24(p, 40).unwrap();
        for k in [0usize, 1, 100, 255] {
            for x in 0..p {
                let u = (x as f64 - k as f64) / p as f64;
                let mut y = 2.0 * u * u - 1.0;
                for _ in 0..r.squarings {
                    y *= y;
                }
                for _ in 0..r.cleanses {
                    y = 3.0 * y * y - 2.0 * y * y * y;
                }
                let want = f64::from(u8::from(x == k));
                assert!((y - want).abs() < 1.0 / 1024.0, "k {k} x {x}: {y}");
            }
        }
    }
}
