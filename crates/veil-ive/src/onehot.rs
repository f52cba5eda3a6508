//! The one-hot baseline (the prior method, KPLC24): an equality test per table row, then the
//! one-hot vector times E. Under BFV with t prime, [x == k] = 1 - (x - k)^(t - 1) (Fermat):
//! about log2(t) products per row, O(p log t) in all (DESIGN.md, IVE, "Baseline"). Under CKKS,
//! KPLC24's encrypted equality function ([`crate::eef::eef_one_hot_lookup`]).

use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::lookup::LookupTimings;
use crate::scheme::IveScheme;
use crate::table::EmbeddingTable;

/// Depth of a^e by square-and-multiply: floor(log2 e) squarings, plus one level if e is not a
/// power of two.
pub fn pow_depth(e: u64) -> u32 {
    if e <= 1 {
        return 0;
    }
    let squarings = 63 - e.leading_zeros();
    squarings + u32::from(!e.is_power_of_two())
}

/// a^e (e >= 1) by left-to-right square-and-multiply, settling after each product with
/// `remaining_depth + (what is left of this power)` products to go. The result is not
/// relinearized (it feeds a linear combination).
pub fn pow<S: IveScheme>(
    scheme: &S,
    a: &S::Ciphertext,
    e: u64,
    remaining_depth: u32,
) -> Result<S::Ciphertext> {
    if e == 0 {
        return Err(Error::InvalidConfig {
            reason: "exponent 0",
        });
    }
    let total = pow_depth(e);
    let mut acc = scheme.settle(a.clone(), remaining_depth + total)?;
    let mut done = 0;
    let top = 63 - e.leading_zeros();
    for bit in (0..top).rev() {
        acc = scheme.relinearize(&acc)?;
        acc = scheme.square(&acc)?;
        done += 1;
        if e >> bit & 1 == 1 {
            // Multiply by a (at lower depth): counts as one more level at the end (pow_depth).
            acc = scheme.relinearize(&acc)?;
            acc = scheme.mul(&acc, a)?;
        }
        acc = scheme.settle(acc, remaining_depth + total.saturating_sub(done))?;
    }
    Ok(acc)
}

/// The one-hot lookup over BFV-like schemes: y_k = 1 - (x - k)^(t - 1) for k < p, then column j
/// is sum_k E\[k\]\[j\] y_k = sum_k E\[k\]\[j\] - sum_k E\[k\]\[j\] (x - k)^(t - 1). `x` holds the index
/// itself in each slot (not a node). Returns the unfinished columns and the timings.
pub fn one_hot_lookup<S: IveScheme<Scalar = u64>>(
    scheme: &S,
    table: &EmbeddingTable,
    t: u64,
    x: &S::Ciphertext,
) -> Result<(Vec<S::Ciphertext>, LookupTimings)> {
    let p = table.rows();
    scheme.check_depth(pow_depth(t - 1))?;
    let start = Instant::now();
    let powered = (0..p)
        .into_par_iter()
        .map(|k| {
            let diff = scheme.add_scalar(x, scheme.scalar(-(k as i64)))?;
            pow(scheme, &diff, t - 1, 0)
        })
        .collect::<Result<Vec<_>>>()?;
    let vector_generation = start.elapsed();
    // Column j = sum_k E[k][j] y_k = sum_k E[k][j] - sum_k E[k][j] (x - k)^(t - 1).
    combine_one_hot(scheme, &powered, vector_generation, table.cols(), |j| {
        let col = table.column(j);
        let constant = scheme.scalar(col.iter().sum::<i64>());
        (col.iter().map(|&e| scheme.scalar(-e)).collect(), constant)
    })
}

/// The part both one-hot baselines share: column j = constant_j + sum_k w_jk y_k over the
/// vector y, with `weights(j)` = (w_j, constant_j), timed as the combination.
pub fn combine_one_hot<S: IveScheme>(
    scheme: &S,
    vector: &[S::Ciphertext],
    vector_generation: std::time::Duration,
    cols: usize,
    weights: impl Fn(usize) -> (Vec<S::Scalar>, S::Scalar) + Sync,
) -> Result<(Vec<S::Ciphertext>, LookupTimings)> {
    let start = Instant::now();
    let columns = (0..cols)
        .into_par_iter()
        .map(|j| {
            let (w, constant) = weights(j);
            let terms: Vec<(&S::Ciphertext, S::Scalar)> = vector.iter().zip(w).collect();
            scheme.linear_combination(&terms, constant)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((
        columns,
        LookupTimings {
            vector_generation,
            combination: start.elapsed(),
            finishing: Default::default(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow_depths() {
        assert_eq!(pow_depth(1), 0);
        assert_eq!(pow_depth(2), 1);
        assert_eq!(pow_depth(3), 2);
        assert_eq!(pow_depth(65536), 16);
        assert_eq!(pow_depth(12288), 14);
    }
}
