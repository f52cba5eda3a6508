//! The server side of a digit lookup ([`crate::digits`]): per-digit power vectors, the outer
//! digits' one-hot vectors (their change of basis, then a tensor product), the inner
//! polynomials Y_(o,j)(x_0) (the change of basis of each block of p_0 rows) and the digit
//! products sum_o OH_o Y_(o,j), streamed over blocks of o so that memory stays at a few
//! ciphertexts per column.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use veil_ring::Modulus;

use crate::digits::{DigitBasis, DigitCost, cost_of, lagrange_coefficients};
use crate::error::{Error, Result};
use crate::power::{PowerRule, depth_of, power_vector};
use crate::scheme::IveScheme;
use crate::table::{EmbeddingTable, change_of_basis};

/// A table prepared for digit lookups.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitTable<T> {
    sizes: Vec<usize>,
    cols: usize,
    /// inner\[o\]\[j\]\[k\]: the weight of x_0^k in Y_(o,j).
    inner: Vec<Vec<Vec<T>>>,
    /// outer\[l - 1\]\[a\]\[k\]: the weight of x_l^k in L^(l)_a.
    outer: Vec<Vec<Vec<T>>>,
}

/// Time per phase of a digit lookup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phases {
    /// The per-digit power vectors (sum_l (p_l - 2) products).
    pub power_vectors: Duration,
    /// The outer digits' change of basis to one-hot vectors and their tensor product.
    pub digit_onehot: Duration,
    /// The inner change of basis: the P' d polynomials Y_(o,j) (d p plaintext
    /// multiply-accumulates in all, as for one digit).
    pub change_of_basis: Duration,
    /// The P' d ciphertext products OH_o Y_(o,j), the relinearizations they need, and the d sums.
    pub digit_products: Duration,
    /// Relinearization, circuit privacy and the last modulus switch of the outputs.
    pub finishing: Duration,
}

impl Phases {
    /// All phases.
    pub fn total(&self) -> Duration {
        self.power_vectors
            + self.digit_onehot
            + self.change_of_basis
            + self.digit_products
            + self.finishing
    }

    /// Adds another lookup's phases.
    pub fn accumulate(&mut self, other: &Phases) {
        self.power_vectors += other.power_vectors;
        self.digit_onehot += other.digit_onehot;
        self.change_of_basis += other.change_of_basis;
        self.digit_products += other.digit_products;
        self.finishing += other.finishing;
    }
}

/// Where the time of a digit lookup went: wall clock, and CPU time of all the process's threads
/// ([`crate::measure::threads_cpu_time`]; zero where the platform does not report it), per phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DigitTimings {
    /// Wall clock.
    pub wall: Phases,
    /// CPU time (all threads).
    pub cpu: Phases,
}

impl DigitTimings {
    /// Wall-clock total.
    pub fn total(&self) -> Duration {
        self.wall.total()
    }

    /// Adds another lookup's timings.
    pub fn accumulate(&mut self, other: &DigitTimings) {
        self.wall.accumulate(&other.wall);
        self.cpu.accumulate(&other.cpu);
    }
}

/// Wall and CPU time since the last lap.
struct Clock {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Clock {
    fn start() -> Self {
        Clock {
            wall: Instant::now(),
            cpu: crate::measure::threads_cpu_time(),
        }
    }

    /// (wall, cpu) since the last call, and restarts.
    fn lap(&mut self) -> (Duration, Duration) {
        let now = Clock::start();
        let wall = now.wall.duration_since(self.wall);
        let cpu = now
            .cpu
            .zip(self.cpu)
            .map_or(Duration::ZERO, |(b, a)| b.saturating_sub(a));
        *self = now;
        (wall, cpu)
    }
}

/// Adds a lap to one phase of both clocks.
fn add(t: &mut DigitTimings, phase: fn(&mut Phases) -> &mut Duration, lap: (Duration, Duration)) {
    *phase(&mut t.wall) += lap.0;
    *phase(&mut t.cpu) += lap.1;
}

impl DigitTable<u64> {
    /// The exact (BFV) preparation of `table` for `basis`: the single-digit M of every block of
    /// p_0 rows (NTT, O(d p log p_0) in all) and the Lagrange coefficients of the outer digits.
    pub fn exact(table: &EmbeddingTable, basis: &DigitBasis, t: &Modulus) -> Result<Self> {
        if table.rows() != basis.rows() {
            return Err(Error::Mismatch {
                what: "digit basis size against table rows",
                got: basis.rows(),
                expected: table.rows(),
            });
        }
        let (inner_basis, outer_bases) =
            basis.digits().split_first().ok_or(Error::InvalidConfig {
                reason: "a digit basis has at least one digit",
            })?;
        let p0 = inner_basis.size();
        let inner = (0..table.rows() / p0)
            .into_par_iter()
            .map(|o| {
                let rows: Vec<Vec<i64>> = (p0 * o..p0 * (o + 1))
                    .map(|i| table.row(i).map(<[i64]>::to_vec).unwrap_or_default())
                    .collect();
                change_of_basis(&EmbeddingTable::new(&rows)?, inner_basis, t)
            })
            .collect::<Result<_>>()?;
        let outer = outer_bases
            .iter()
            .map(|b| lagrange_coefficients(b, t))
            .collect::<Result<_>>()?;
        Ok(DigitTable {
            sizes: basis.sizes(),
            cols: table.cols(),
            inner,
            outer,
        })
    }
}

/// constant + sum_k coef\[k\] f_k with f_1.. in `powers` (f_0 = 1).
fn combine<S: IveScheme>(
    scheme: &S,
    powers: &[S::Ciphertext],
    coef: &[S::Scalar],
) -> Result<S::Ciphertext> {
    let zero = scheme.scalar(0);
    let terms: Vec<(&S::Ciphertext, S::Scalar)> = powers
        .iter()
        .zip(coef.iter().skip(1))
        .filter(|(_, c)| **c != zero)
        .map(|(ct, &c)| (ct, c))
        .collect();
    let constant = coef.first().copied().unwrap_or(zero);
    if terms.is_empty() {
        // Constant in the index: 0 * x + c keeps the ciphertext shape.
        let x = powers.first().ok_or(Error::InvalidConfig {
            reason: "empty power vector",
        })?;
        return scheme.linear_combination(&[(x, zero)], constant);
    }
    scheme.linear_combination(&terms, constant)
}

impl<T: Copy + Send + Sync + PartialEq> DigitTable<T> {
    /// The digit sizes, inner first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Table height p.
    pub fn rows(&self) -> usize {
        self.sizes.iter().product()
    }

    /// Embedding dimension d.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Products and depth of one lookup.
    pub fn cost(&self) -> DigitCost {
        cost_of(&self.sizes, self.cols)
    }

    /// The d encrypted columns for the encrypted digit nodes `xs` (inner first, one per slot),
    /// before [`IveScheme::finish_reply`]; with the time of each phase.
    pub fn lookup_unfinished<S: IveScheme<Scalar = T>>(
        &self,
        scheme: &S,
        xs: &[S::Ciphertext],
    ) -> Result<(Vec<S::Ciphertext>, DigitTimings)> {
        if xs.len() != self.sizes.len() {
            return Err(Error::Mismatch {
                what: "digit ciphertexts",
                got: xs.len(),
                expected: self.sizes.len(),
            });
        }
        let total = self.cost().planned_depth;
        scheme.check_depth(total)?;
        let mut timings = DigitTimings::default();
        let one = scheme.scalar(1);

        let mut clock = Clock::start();
        let mut vectors = Vec::with_capacity(xs.len());
        for (x, &s) in xs.iter().zip(&self.sizes) {
            let extra = total - depth_of(s - 1);
            vectors.push(power_vector(scheme, x, s, PowerRule::Monomial, extra)?);
        }
        add(&mut timings, |p| &mut p.power_vectors, clock.lap());
        let mut vectors = vectors.into_iter();
        let inner_powers = vectors
            .next()
            .ok_or(Error::InvalidConfig { reason: "no digit" })?;

        // Outer one-hot vector: OH[o], o = i_1 + p_1 i_2 + ... (index of the outer digits).
        let mut onehot: Option<Vec<S::Ciphertext>> = None;
        let mut plan = 0;
        for ((powers, coefs), &s) in vectors.zip(&self.outer).zip(self.sizes.iter().skip(1)) {
            let own = depth_of(s - 1) + 1;
            let powers = powers
                .par_iter()
                .map(|c| scheme.relinearize(c))
                .collect::<Result<Vec<_>>>()?;
            let plan_here = if onehot.is_none() {
                own
            } else {
                plan.max(own) + 1
            };
            let remaining = total.saturating_sub(plan_here);
            let lagrange = coefs
                .par_iter()
                .map(|coef| scheme.settle(combine(scheme, &powers, coef)?, remaining))
                .collect::<Result<Vec<_>>>()?;
            onehot = Some(match onehot {
                None => lagrange,
                Some(prev) => {
                    let span = prev.len();
                    (0..span * s)
                        .into_par_iter()
                        .map(|o| {
                            let (Some(a), Some(b)) = (prev.get(o % span), lagrange.get(o / span))
                            else {
                                return Err(Error::InvalidConfig {
                                    reason: "digit tensor plan",
                                });
                            };
                            let prod = scheme.relinearize(&scheme.mul(a, b)?)?;
                            scheme.settle(prod, remaining)
                        })
                        .collect::<Result<Vec<_>>>()?
                }
            });
            plan = plan_here;
        }
        add(&mut timings, |p| &mut p.digit_onehot, clock.lap());

        let Some(onehot) = onehot else {
            // One digit: plain IVE (the change of basis of the single block).
            let powers = inner_powers
                .into_par_iter()
                .map(|c| scheme.settle(c, 0))
                .collect::<Result<Vec<_>>>()?;
            let block = self.inner.first().ok_or(Error::InvalidConfig {
                reason: "empty table",
            })?;
            let out = block
                .par_iter()
                .map(|coef| combine(scheme, &powers, coef))
                .collect::<Result<Vec<_>>>()?;
            add(&mut timings, |p| &mut p.change_of_basis, clock.lap());
            return Ok((out, timings));
        };

        // Products need 2-polynomial operands: relinearize the inner powers left as products
        // (about p_0 / 2) or each Y (P' d), whichever is fewer.
        let p0 = self.sizes.first().copied().unwrap_or(2);
        let unrelinearized = (p0 - 1) - (p0 - 1).div_ceil(2);
        let relin_powers = unrelinearized <= onehot.len() * self.cols;
        let inner_powers = inner_powers
            .into_par_iter()
            .map(|c| {
                let c = scheme.settle(c, 1)?;
                if relin_powers {
                    scheme.relinearize(&c)
                } else {
                    Ok(c)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        add(&mut timings, |p| &mut p.digit_products, clock.lap());

        let batch = (128 / self.cols.max(1)).clamp(1, onehot.len());
        let mut acc: Vec<Option<S::Ciphertext>> = vec![None; self.cols];
        for first in (0..onehot.len()).step_by(batch) {
            let blocks = first..(first + batch).min(onehot.len());
            let pairs: Vec<(usize, usize)> = blocks
                .clone()
                .flat_map(|o| (0..self.cols).map(move |j| (o, j)))
                .collect();
            let ys =
                pairs
                    .par_iter()
                    .map(|&(o, j)| {
                        let coef = self.inner.get(o).and_then(|b| b.get(j)).ok_or(
                            Error::InvalidConfig {
                                reason: "digit table plan",
                            },
                        )?;
                        combine(scheme, &inner_powers, coef)
                    })
                    .collect::<Result<Vec<_>>>()?;
            add(&mut timings, |p| &mut p.change_of_basis, clock.lap());

            let products = pairs
                .par_iter()
                .zip(&ys)
                .map(|(&(o, _), y)| {
                    let oh = onehot.get(o).ok_or(Error::InvalidConfig {
                        reason: "digit table plan",
                    })?;
                    let y = if relin_powers {
                        std::borrow::Cow::Borrowed(y)
                    } else {
                        std::borrow::Cow::Owned(scheme.relinearize(y)?)
                    };
                    scheme.settle(scheme.mul(oh, &y)?, 0)
                })
                .collect::<Result<Vec<_>>>()?;
            acc = acc
                .into_par_iter()
                .enumerate()
                .map(|(j, prev)| {
                    let mut terms: Vec<(&S::Ciphertext, T)> = pairs
                        .iter()
                        .zip(&products)
                        .filter(|((_, jj), _)| *jj == j)
                        .map(|(_, c)| (c, one))
                        .collect();
                    if let Some(p) = prev.as_ref() {
                        terms.push((p, one));
                    }
                    scheme
                        .linear_combination(&terms, scheme.scalar(0))
                        .map(Some)
                })
                .collect::<Result<Vec<_>>>()?;
            add(&mut timings, |p| &mut p.digit_products, clock.lap());
        }
        let out = acc
            .into_iter()
            .map(|c| {
                c.ok_or(Error::InvalidConfig {
                    reason: "digit table plan",
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((out, timings))
    }

    /// The d encrypted columns, ready to send ([`IveScheme::finish_reply`] applied to each).
    pub fn lookup<S: IveScheme<Scalar = T>>(
        &self,
        scheme: &S,
        xs: &[S::Ciphertext],
    ) -> Result<(Vec<S::Ciphertext>, DigitTimings)> {
        let (columns, mut timings) = self.lookup_unfinished(scheme, xs)?;
        let mut clock = Clock::start();
        let out = columns
            .par_iter()
            .map(|c| scheme.finish_reply(c))
            .collect::<Result<Vec<_>>>()?;
        add(&mut timings, |p| &mut p.finishing, clock.lap());
        Ok((out, timings))
    }
}
