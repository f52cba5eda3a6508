//! The functions that the helper evaluates on permuted values (sec. 4.2.1), and the permutations
//! that hide positions from it.
//!
//! Element-wise functions see one flat permutation of all entries: P2 learns the multiset of the
//! values and nothing about which entry is where. The row-wise softmax needs each row together, so
//! its permutation moves whole rows (one random order of the rows) and, inside every row, the
//! entries (an independent random order per row): P2 learns the multiset of rows, each as a
//! multiset of values, but neither which sample a row belongs to nor which class each value is.

use ndarray::{Array2, ArrayView2};
use rand::Rng;

use crate::error::{Error, Result};

/// A function the helper can evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Function {
    /// 1 / (1 + e^-x), element-wise (eq. 4).
    Sigmoid,
    /// sigmoid(x) (1 - sigmoid(x)), element-wise.
    SigmoidGrad,
    /// max(x, 0), element-wise.
    Relu,
    /// 1 if x > 0 else 0, element-wise.
    ReluGrad,
    /// e^x_j / sum_k e^x_k over each row.
    Softmax,
}

/// Most functions one helper call evaluates on the same values.
pub const MAX_FUNCTIONS_PER_CALL: usize = 4;

impl Function {
    /// Whether the function couples the entries of a row (and so needs a row-preserving
    /// permutation).
    pub fn is_rowwise(self) -> bool {
        matches!(self, Function::Softmax)
    }

    fn code(self) -> u16 {
        match self {
            Function::Sigmoid => 1,
            Function::SigmoidGrad => 2,
            Function::Relu => 3,
            Function::ReluGrad => 4,
            Function::Softmax => 5,
        }
    }

    fn from_code(c: u16) -> Option<Function> {
        Some(match c {
            1 => Function::Sigmoid,
            2 => Function::SigmoidGrad,
            3 => Function::Relu,
            4 => Function::ReluGrad,
            5 => Function::Softmax,
            _ => return None,
        })
    }

    /// The function on one value (element-wise functions; `None` for the row-wise softmax).
    pub(crate) fn apply_scalar(self, v: f64) -> Option<f64> {
        Some(match self {
            Function::Sigmoid => sigmoid(v),
            Function::SigmoidGrad => {
                let s = sigmoid(v);
                s * (1.0 - s)
            }
            Function::Relu => v.max(0.0),
            Function::ReluGrad => {
                if v > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Function::Softmax => return None,
        })
    }

    /// The function on a plaintext matrix.
    pub fn apply(self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        match self {
            Function::Sigmoid => x.mapv(sigmoid),
            Function::SigmoidGrad => x.mapv(|v| {
                let s = sigmoid(v);
                s * (1.0 - s)
            }),
            Function::Relu => x.mapv(|v| v.max(0.0)),
            Function::ReluGrad => x.mapv(|v| if v > 0.0 { 1.0 } else { 0.0 }),
            Function::Softmax => {
                let mut out = x.to_owned();
                for mut row in out.rows_mut() {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    row.mapv_inplace(|v| (v - max).exp());
                    let sum: f64 = row.sum();
                    row.mapv_inplace(|v| v / sum);
                }
                out
            }
        }
    }
}

/// The logistic function.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Packs a list of functions into a frame's `op` field (4 bits each).
pub(crate) fn encode_functions(funcs: &[Function]) -> Result<u16> {
    if funcs.is_empty() || funcs.len() > MAX_FUNCTIONS_PER_CALL {
        return Err(Error::config(format!(
            "a helper call evaluates 1..={MAX_FUNCTIONS_PER_CALL} functions, not {}",
            funcs.len()
        )));
    }
    let rowwise = funcs[0].is_rowwise();
    if funcs.iter().any(|f| f.is_rowwise() != rowwise) {
        return Err(Error::config(
            "row-wise and element-wise functions need different permutations: use two calls",
        ));
    }
    Ok(funcs
        .iter()
        .enumerate()
        .fold(0, |op, (i, f)| op | (f.code() << (4 * i))))
}

/// Unpacks the `op` field (None if it is not a valid list).
pub(crate) fn decode_functions(op: u16) -> Option<Vec<Function>> {
    let mut out = Vec::new();
    let mut rest = op;
    while rest != 0 {
        out.push(Function::from_code(rest & 0xf)?);
        rest >>= 4;
    }
    let rowwise = out.first()?.is_rowwise();
    out.iter().all(|f| f.is_rowwise() == rowwise).then_some(out)
}

/// A uniformly random permutation of 0..n as u32 source positions (Fisher-Yates; half the
/// memory of `usize` positions, which matters for the random accesses of a multi-megaword
/// shuffle).
fn permutation_u32<R: Rng + ?Sized>(rng: &mut R, n: u32) -> Vec<u32> {
    let mut perm: Vec<u32> = (0..n).collect();
    for i in (1..perm.len()).rev() {
        let j = rng.random_range(0..=i as u32) as usize;
        perm.swap(i, j);
    }
    perm
}

/// A permutation of the entries of a rows x cols matrix, as flat source positions
/// (`y.flat[i] = x.flat[perm[i]]`). Fails if the matrix has 2^32 entries or more.
pub(crate) fn layout_permutation<R: Rng + ?Sized>(
    rng: &mut R,
    rows: usize,
    cols: usize,
    rowwise: bool,
) -> Result<Vec<u32>> {
    let too_large = || Error::config("a helper call takes fewer than 2^32 entries");
    let n = rows.checked_mul(cols).ok_or_else(too_large)?;
    let n32 = u32::try_from(n).map_err(|_| too_large())?;
    if !rowwise {
        return Ok(permutation_u32(rng, n32));
    }
    // rows and cols are below 2^32 since their product is.
    let row_order = permutation_u32(rng, rows as u32);
    let mut perm = Vec::with_capacity(n);
    for &src_row in &row_order {
        let col_order = permutation_u32(rng, cols as u32);
        perm.extend(col_order.iter().map(|&c| src_row * cols as u32 + c));
    }
    Ok(perm)
}

/// y.flat[i] = x.flat[perm[i]] (the caller guarantees perm is a permutation of x's entries).
pub(crate) fn permute(x: ArrayView2<'_, u64>, perm: &[u32]) -> Array2<u64> {
    let flat = crate::ring::row_major(&x);
    let out: Vec<u64> = perm
        .iter()
        .map(|&p| flat.get(p as usize).copied().unwrap_or(0))
        .collect();
    Array2::from_shape_vec(x.raw_dim(), out).unwrap_or_else(|_| Array2::zeros(x.raw_dim()))
}

/// The inverse of [`permute`]: x.flat[perm[i]] = y.flat[i].
pub(crate) fn unpermute(y: ArrayView2<'_, u64>, perm: &[u32]) -> Array2<u64> {
    let mut out = vec![0_u64; y.len()];
    let flat = crate::ring::row_major(&y);
    for (&p, &v) in perm.iter().zip(flat.iter()) {
        if let Some(slot) = out.get_mut(p as usize) {
            *slot = v;
        }
    }
    Array2::from_shape_vec(y.raw_dim(), out).unwrap_or_else(|_| Array2::zeros(y.raw_dim()))
}

/// [`unpermute`] of a rows x cols matrix of fresh pseudorandom words from `rng`, drawn in blocks
/// and scattered directly (no intermediate matrix).
pub(crate) fn unpermute_random<R: Rng + ?Sized>(
    rng: &mut R,
    perm: &[u32],
    rows: usize,
    cols: usize,
) -> Array2<u64> {
    let mut out = vec![0_u64; rows * cols];
    let mut block = [0_u64; 1024];
    for chunk in perm.chunks(block.len()) {
        let words = &mut block[..chunk.len()];
        rng.fill(words);
        for (&p, &v) in chunk.iter().zip(words.iter()) {
            if let Some(slot) = out.get_mut(p as usize) {
                *slot = v;
            }
        }
    }
    Array2::from_shape_vec((rows, cols), out).unwrap_or_else(|_| Array2::zeros((rows, cols)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prg::{Seed, Stream};

    #[test]
    fn function_lists_round_trip() {
        let fs = [Function::Sigmoid, Function::SigmoidGrad, Function::Relu];
        assert_eq!(
            decode_functions(encode_functions(&fs).unwrap()).unwrap(),
            fs
        );
        assert!(encode_functions(&[Function::Softmax, Function::Relu]).is_err());
        assert!(encode_functions(&[]).is_err());
        assert!(decode_functions(0).is_none());
        assert!(decode_functions(0x9).is_none());
    }

    #[test]
    fn rowwise_layout_keeps_rows_together() {
        let x = Array2::from_shape_fn((5, 4), |(i, j)| (i * 10 + j) as u64);
        let perm = layout_permutation(
            &mut Seed::from_bytes([4; 32]).stream(Stream::Permutation),
            5,
            4,
            true,
        )
        .unwrap();
        let y = permute(x.view(), &perm);
        for row in y.rows() {
            let r = row[0] / 10;
            let mut cols: Vec<u64> = row
                .iter()
                .map(|v| {
                    assert_eq!(v / 10, r);
                    v % 10
                })
                .collect();
            cols.sort_unstable();
            assert_eq!(cols, vec![0, 1, 2, 3]);
        }
        assert_eq!(unpermute(y.view(), &perm), x);
        let flat = layout_permutation(
            &mut Seed::from_bytes([5; 32]).stream(Stream::Permutation),
            7,
            9,
            false,
        )
        .unwrap();
        let mut sorted = flat.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..63).collect::<Vec<u32>>());
        let r = unpermute_random(
            &mut Seed::from_bytes([6; 32]).stream(Stream::Reshare),
            &flat,
            7,
            9,
        );
        let direct =
            crate::prg::random_matrix(&mut Seed::from_bytes([6; 32]).stream(Stream::Reshare), 7, 9);
        assert_eq!(r, unpermute(direct.view(), &flat));
        let soft = Function::Softmax.apply(ndarray::array![[1.0, 2.0, 3.0]].view());
        assert!((soft.sum() - 1.0).abs() < 1e-12);
    }
}
