//! A plaintext integer matrix applied to an encrypted vector, and packing of many ciphertexts
//! into one by Horner's rule: the server side of encrypted linear models (CryptoRec fast mode,
//! sec. 5.1, with the reuse of shared products of sec. 3.2).

use rayon::prelude::*;
use rug::Integer;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::PublicKey;
use crate::packing::{PackedCiphertext, PackingLayout};

/// Largest |weight| accepted by [`PublicKey::matvec_vartime`] (2^24 - 1): groups are indexed by
/// weight, so the bound keeps the per-column table small.
pub const MATVEC_MAX_WEIGHT: i64 = (1 << 24) - 1;

impl PublicKey {
    /// E(y_c) = E(sum_j w_jc x_j) for every column c, from E(x_j) (`cts`, length m) and the
    /// row-major m x `cols` integer matrix `weights`.
    ///
    /// Reuse of shared products (CryptoRec sec. 3.2): in each column, every ciphertext is
    /// multiplied once into the group of its weight (zero weights are skipped), so a product
    /// x_j w is formed once per distinct w rather than once per entry; the groups are then
    /// combined by a bucketed multi-exponentiation over the distinct weights. When there are more
    /// outputs than inputs, each input instead gets a table of its powers, and every non-zero
    /// weight costs one multiplication. Negative weights
    /// use inverses of the inputs, computed once for all columns by Montgomery's batch inversion
    /// (three multiplications each). About nnz + O(distinct weights) multiplications per column;
    /// columns run in parallel. Variable time in the weights, which are public to the caller.
    pub fn matvec_vartime(
        &self,
        cts: &[Ciphertext],
        weights: &[i64],
        cols: usize,
    ) -> Result<Vec<Ciphertext>> {
        if cts.len().checked_mul(cols) != Some(weights.len()) {
            return Err(Error::malformed(
                "matvec",
                "weights must be cts.len() x cols",
            ));
        }
        if weights
            .iter()
            .any(|w| w.unsigned_abs() > MATVEC_MAX_WEIGHT as u64)
        {
            return Err(Error::malformed(
                "matvec",
                "a weight exceeds MATVEC_MAX_WEIGHT",
            ));
        }
        for c in cts {
            self.check_key(c)?;
        }
        let inverses = if weights.iter().any(|&w| w < 0) {
            self.batch_invert(cts)?
        } else {
            Vec::new()
        };
        let out = if table_cost(weights, cols) < group_cost(weights, cts.len(), cols) {
            self.matvec_by_tables(cts, &inverses, weights, cols)
        } else {
            self.matvec_by_groups(cts, &inverses, weights, cols)
        };
        Ok(out.into_iter().map(|c| Ciphertext::new(c, self)).collect())
    }

    /// Few outputs per input (e.g. E(x) A with m inputs, d < m outputs): per column, group the
    /// inputs by weight, then combine the groups.
    fn matvec_by_groups(
        &self,
        cts: &[Ciphertext],
        inverses: &[Integer],
        weights: &[i64],
        cols: usize,
    ) -> Vec<Integer> {
        let m = self.n_squared();
        (0..cols)
            .into_par_iter()
            .map(|c| {
                let column = weights.iter().skip(c).step_by(cols.max(1));
                let max = column.clone().map(|w| w.unsigned_abs()).max().unwrap_or(0);
                let mut groups: Vec<Option<Integer>> = vec![None; max as usize + 1];
                for (j, (ct, &w)) in cts.iter().zip(column).enumerate() {
                    let base = match w {
                        0 => continue,
                        w if w < 0 => inverses.get(j),
                        _ => Some(&ct.c),
                    };
                    let (Some(base), Some(slot)) =
                        (base, groups.get_mut(w.unsigned_abs() as usize))
                    else {
                        continue;
                    };
                    match slot {
                        Some(g) => {
                            *g *= base;
                            *g %= m;
                        }
                        None => *slot = Some(base.clone()),
                    }
                }
                let terms: Vec<(&Integer, u64)> = groups
                    .iter()
                    .enumerate()
                    .filter_map(|(w, g)| g.as_ref().map(|g| (g, w as u64)))
                    .collect();
                self.bucket_multiexp(&terms)
            })
            .collect()
    }

    /// Many outputs per input (e.g. E(y) Q^T with d inputs, m > d outputs): per input, a table of
    /// its powers up to the largest |weight| in its row, then one multiplication per non-zero
    /// weight. Inputs go in pairs (j, j'): an output with both weights non-zero takes one
    /// multiplication by x_j^a x_j'^b, formed once per distinct (a, b) (four Russians over two
    /// inputs; never more multiplications than one input at a time). Inputs are split among
    /// threads, each with its own accumulators.
    fn matvec_by_tables(
        &self,
        cts: &[Ciphertext],
        inverses: &[Integer],
        weights: &[i64],
        cols: usize,
    ) -> Vec<Integer> {
        let m = self.n_squared();
        let threads = rayon::current_num_threads().max(1);
        // Even chunks keep the pairs inside one thread.
        let chunk = cts.len().div_ceil(threads).max(1).next_multiple_of(2);
        let partial: Vec<Vec<Integer>> = cts
            .par_chunks(chunk)
            .enumerate()
            .map(|(k, part)| {
                let mut acc = vec![Integer::from(1); cols];
                let first = k * chunk;
                for (p, pair) in part.chunks(2).enumerate() {
                    let j = first + 2 * p;
                    let row = |j: usize| weights.get(j * cols..(j + 1) * cols).unwrap_or(&[]);
                    let powers =
                        |j: usize, ct: &Ciphertext| Powers::new(&ct.c, inverses.get(j), row(j), m);
                    match pair {
                        [x, y]
                            if (2 * max_abs(row(j)) + 1) * (2 * max_abs(row(j + 1)) + 1)
                                <= PAIR_MEMO_LIMIT =>
                        {
                            let (px, py) = (powers(j, x), powers(j + 1, y));
                            let (rx, ry) = (row(j), row(j + 1));
                            let width = 2 * py.max + 1;
                            let mut memo: Vec<Option<Integer>> =
                                vec![None; (2 * px.max + 1) * width];
                            for ((a, &wx), &wy) in acc.iter_mut().zip(rx).zip(ry) {
                                let f = match (px.get(wx), py.get(wy)) {
                                    (None, None) => continue,
                                    (Some(f), None) | (None, Some(f)) => f,
                                    (Some(fx), Some(fy)) => {
                                        let idx = (wx + px.max as i64) as usize * width
                                            + (wy + py.max as i64) as usize;
                                        match memo.get_mut(idx) {
                                            Some(slot) => &*slot
                                                .get_or_insert_with(|| Integer::from(fx * fy) % m),
                                            None => continue,
                                        }
                                    }
                                };
                                *a *= f;
                                *a %= m;
                            }
                        }
                        _ => {
                            for (off, x) in pair.iter().enumerate() {
                                let px = powers(j + off, x);
                                for (a, &w) in acc.iter_mut().zip(row(j + off)) {
                                    if let Some(f) = px.get(w) {
                                        *a *= f;
                                        *a %= m;
                                    }
                                }
                            }
                        }
                    }
                }
                acc
            })
            .collect();
        let mut out = vec![Integer::from(1); cols];
        for part in partial {
            for (o, p) in out.iter_mut().zip(part) {
                *o *= p;
                *o %= m;
            }
        }
        out
    }

    /// Inverses mod n^2 of all inputs with one modular inversion (Montgomery's trick).
    fn batch_invert(&self, cts: &[Ciphertext]) -> Result<Vec<Integer>> {
        let m = self.n_squared();
        let mut prefix = Vec::with_capacity(cts.len());
        let mut acc = Integer::from(1);
        for c in cts {
            prefix.push(acc.clone());
            acc *= &c.c;
            acc %= m;
        }
        let mut inv = acc.invert(m).map_err(|_| Error::InvalidCiphertext {
            reason: "not invertible mod n^2",
        })?;
        let mut out = vec![Integer::new(); cts.len()];
        for ((c, p), slot) in cts.iter().zip(&prefix).zip(out.iter_mut()).rev() {
            *slot = Integer::from(&inv * p) % m;
            inv *= &c.c;
            inv %= m;
        }
        Ok(out)
    }

    /// Packs E(v_0), ..., E(v_(k-1)) into one ciphertext of sum_i v_i 2^(B i) (B = the layout's
    /// slot width) by Horner's rule: (k - 1) B squarings and k - 1 multiplications, against k
    /// exponentiations of up to k B bits done one by one. `bound` must bound every |v_i| and fit
    /// a slot; then [`crate::PrivateKey::decrypt_packed`] recovers the values exactly.
    pub fn pack_vartime(
        &self,
        cts: &[Ciphertext],
        layout: PackingLayout,
        bound: u128,
    ) -> Result<PackedCiphertext> {
        if cts.is_empty() || cts.len() > layout.slots() {
            return Err(Error::Packing {
                reason: "need between 1 and layout.slots() ciphertexts",
            });
        }
        if bound > layout.capacity() {
            return Err(Error::SlotOverflow {
                bound_bits: 128 - bound.leading_zeros(),
                capacity_bits: layout.slot_bits() - 1,
            });
        }
        for c in cts {
            self.check_key(c)?;
        }
        let m = self.n_squared();
        let mut acc = Integer::from(1);
        for (i, c) in cts.iter().enumerate().rev() {
            if i + 1 < cts.len() {
                for _ in 0..layout.slot_bits() {
                    acc.square_mut();
                    acc %= m;
                }
            }
            acc *= &c.c;
            acc %= m;
        }
        Ok(PackedCiphertext {
            ciphertext: Ciphertext::new(acc, self),
            layout,
            len: cts.len(),
            bound,
        })
    }
}

/// Multiplications of [`PublicKey::matvec_vartime`] by tables: the powers of every input up to
/// its largest |weight|, plus one per non-zero weight.
fn table_cost(weights: &[i64], cols: usize) -> u64 {
    weights
        .chunks(cols.max(1))
        .map(|row| {
            let pos = row
                .iter()
                .map(|&w| w.max(0).unsigned_abs())
                .max()
                .unwrap_or(0);
            let neg = row
                .iter()
                .map(|&w| w.min(0).unsigned_abs())
                .max()
                .unwrap_or(0);
            pos + neg + row.iter().filter(|&&w| w != 0).count() as u64
        })
        .sum()
}

/// Multiplications of [`PublicKey::matvec_vartime`] by groups: every input once per column,
/// plus the bucketed combination of at most min(rows, max |weight|) groups per column.
fn group_cost(weights: &[i64], rows: usize, cols: usize) -> u64 {
    let max = weights.iter().map(|w| w.unsigned_abs()).max().unwrap_or(0);
    let groups = (rows as u64).min(max);
    let bits = u64::from(64 - max.leading_zeros());
    let combine = (1..=16u64)
        .map(|w| bits.div_ceil(w) * (groups + (1 << (w + 1))) + bits)
        .min()
        .unwrap_or(0);
    (cols as u64) * (rows as u64 + combine)
}

/// Largest memo of pair products (entries) before pairs fall back to single inputs.
const PAIR_MEMO_LIMIT: usize = 1 << 16;

fn max_abs(row: &[i64]) -> usize {
    row.iter().map(|w| w.unsigned_abs()).max().unwrap_or(0) as usize
}

/// x^w for 0 < |w| <= max of one input (negative powers from its inverse).
struct Powers {
    up: Vec<Integer>,
    down: Vec<Integer>,
    max: usize,
}

impl Powers {
    fn new(base: &Integer, inverse: Option<&Integer>, row: &[i64], m: &Integer) -> Self {
        let pos = row.iter().map(|&w| w.max(0)).max().unwrap_or(0) as usize;
        let neg = row
            .iter()
            .map(|&w| w.min(0).unsigned_abs())
            .max()
            .unwrap_or(0) as usize;
        let powers = |base: &Integer, count: usize| {
            let mut t = Vec::with_capacity(count);
            let mut p = base.clone();
            for _ in 0..count {
                t.push(p.clone());
                p *= base;
                p %= m;
            }
            t
        };
        Powers {
            up: powers(base, pos),
            down: inverse.map(|inv| powers(inv, neg)).unwrap_or_default(),
            max: pos.max(neg),
        }
    }

    /// x^w, or None for w = 0 (and for a weight beyond the table, which cannot happen).
    fn get(&self, w: i64) -> Option<&Integer> {
        let table = if w < 0 { &self.down } else { &self.up };
        (w.unsigned_abs() as usize)
            .checked_sub(1)
            .and_then(|i| table.get(i))
    }
}
