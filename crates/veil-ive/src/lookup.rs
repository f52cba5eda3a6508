//! IVE lookup on the server: the power vector of the encrypted node, then M = E^T B^-1 applied
//! as d linear combinations (DESIGN.md, IVE). Generic over the scheme; the table's scalars are
//! the scheme's.

use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::power::{PowerRule, depth_of, power_vector};
use crate::scheme::IveScheme;
use crate::table::{EmbeddingTable, ExactBasis, change_of_basis};

/// A table prepared for IVE: M = E^T B^-1 (d rows of p scalars) and the power rule of its basis.
#[derive(Clone, Debug, PartialEq)]
pub struct IveTable<T> {
    rows: usize,
    cols: usize,
    /// coefficients\[j\]\[k\]: the weight of f_k in column j.
    coefficients: Vec<Vec<T>>,
    rule: PowerRule,
}

/// Where the time of one lookup went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupTimings {
    /// Building the vector (IVE: the powers; one-hot: the equality tests).
    pub vector_generation: Duration,
    /// The d linear combinations (the change of basis, or the one-hot product with E).
    pub combination: Duration,
    /// Relinearization, circuit privacy and the final modulus switch of the d outputs.
    pub finishing: Duration,
}

impl LookupTimings {
    /// The sum of the three parts.
    pub fn total(&self) -> Duration {
        self.vector_generation + self.combination + self.finishing
    }
}

impl IveTable<u64> {
    /// The exact (BFV) preparation: monomials at the nodes of `basis`, M computed mod t by the
    /// number-theoretic DFT (roots of unity) or by interpolation (arbitrary nodes).
    pub fn exact(
        table: &EmbeddingTable,
        basis: &ExactBasis,
        t: &veil_ring::Modulus,
    ) -> Result<Self> {
        Ok(IveTable {
            rows: table.rows(),
            cols: table.cols(),
            coefficients: change_of_basis(table, basis, t)?,
            rule: PowerRule::Monomial,
        })
    }
}

impl<T: Copy + Send + Sync + PartialEq> IveTable<T> {
    /// A table from precomputed coefficients (`coefficients[j][k]`, d rows of p), for backends
    /// that compute M themselves (the CKKS DCT basis).
    pub fn from_coefficients(coefficients: Vec<Vec<T>>, rule: PowerRule) -> Result<Self> {
        let rows = coefficients.first().map_or(0, Vec::len);
        if rows < 2 || coefficients.iter().any(|c| c.len() != rows) {
            return Err(Error::InvalidConfig {
                reason: "coefficients must be d rows of the same length p >= 2",
            });
        }
        Ok(IveTable {
            rows,
            cols: coefficients.len(),
            coefficients,
            rule,
        })
    }

    /// Number of table rows p.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Embedding dimension d.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// M: `coefficients()[j][k]` is the weight of f_k in column j.
    pub fn coefficients(&self) -> &[Vec<T>] {
        &self.coefficients
    }

    /// The power rule of the basis.
    pub fn rule(&self) -> PowerRule {
        self.rule
    }

    /// Products on the longest path of a lookup: ceil(log2(p - 1)).
    pub fn depth(&self) -> u32 {
        depth_of(self.rows - 1)
    }

    /// The d encrypted columns for the encrypted nodes in `x` (one per slot), before
    /// [`IveScheme::finish_reply`]; with the time of each part.
    pub fn lookup_unfinished<S: IveScheme<Scalar = T>>(
        &self,
        scheme: &S,
        x: &S::Ciphertext,
    ) -> Result<(Vec<S::Ciphertext>, LookupTimings)> {
        scheme.check_depth(self.depth())?;
        let start = Instant::now();
        let powers = power_vector(scheme, x, self.rows, self.rule, 0)?;
        let vector_generation = start.elapsed();
        let start = Instant::now();
        // One modulus for all terms (the smallest the rest of the circuit allows), once.
        let powers = powers
            .into_par_iter()
            .map(|c| scheme.settle(c, 0))
            .collect::<Result<Vec<_>>>()?;
        let zero = scheme.scalar(0);
        let columns = self
            .coefficients
            .par_iter()
            .map(|m| {
                let terms: Vec<(&S::Ciphertext, T)> = powers
                    .iter()
                    .zip(m.iter().skip(1))
                    .filter(|(_, c)| **c != zero)
                    .map(|(ct, &c)| (ct, c))
                    .collect();
                let constant = m.first().copied().unwrap_or(zero);
                if terms.is_empty() {
                    // A column that is constant in the index: 0 * x + c keeps the shape.
                    let x0 = powers.first().ok_or(Error::InvalidConfig {
                        reason: "empty power vector",
                    })?;
                    return scheme.linear_combination(&[(x0, zero)], constant);
                }
                scheme.linear_combination(&terms, constant)
            })
            .collect::<Result<Vec<_>>>()?;
        let combination = start.elapsed();
        Ok((
            columns,
            LookupTimings {
                vector_generation,
                combination,
                finishing: Duration::ZERO,
            },
        ))
    }

    /// The d encrypted columns, ready to send ([`IveScheme::finish_reply`] applied to each).
    pub fn lookup<S: IveScheme<Scalar = T>>(
        &self,
        scheme: &S,
        x: &S::Ciphertext,
    ) -> Result<(Vec<S::Ciphertext>, LookupTimings)> {
        let (columns, mut timings) = self.lookup_unfinished(scheme, x)?;
        let start = Instant::now();
        let out = columns
            .par_iter()
            .map(|c| scheme.finish_reply(c))
            .collect::<Result<Vec<_>>>()?;
        timings.finishing = start.elapsed();
        Ok((out, timings))
    }
}
