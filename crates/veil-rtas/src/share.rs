//! Additive shares over Z_2^64 (paper sec. 4.1, in the ring instead of floats) and the local
//! operations on them: everything that needs no message.
//!
//! A matrix X is held as X = X_0 + X_1 (mod 2^64) by P0 and P1. A [`Share`] is one of the two
//! halves and knows which party holds it and how many fractional bits its value carries; an opened
//! value is a [`Public`]. The two types never mix silently: adding a public matrix to a share is
//! [`Share::add_public`], which only P0 applies.
//!
//! # Truncation (SecureML, Mohassel and Zhang 2017, sec. 3.1 and Theorem 1)
//! After a product the value carries 2f fractional bits. [`Share::truncate`] divides by 2^d
//! locally: P0 computes floor(x_0 / 2^d), P1 computes 2^64 - floor((2^64 - x_1) / 2^d). If the
//! value x has |x| < 2^l_x (as a signed word), the result is floor(x / 2^d) or floor(x / 2^d) + 1
//! (off by at most one unit in the last place) **except with probability 2^(l_x + 1 - 64)** over
//! the randomness of the shares; in that case it is off by about 2^(64 - d). With f = 16 a value of
//! magnitude below 1 at scale 2^32 has l_x = 32 and fails with probability 2^-31 per element.

use core::fmt;

use ndarray::{Array2, ArrayView2, Axis};
use rand::Rng;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::fixed::{FixedPoint, decode_matrix_at, encode_matrix_at};
use crate::prg::random_matrix;
use crate::ring;

/// One of the two parties that hold shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Party {
    /// The first share holder (also the one that adds public constants).
    P0,
    /// The second share holder.
    P1,
}

impl Party {
    /// 0 for P0, 1 for P1.
    pub fn index(self) -> usize {
        match self {
            Party::P0 => 0,
            Party::P1 => 1,
        }
    }

    /// The other share holder.
    pub fn other(self) -> Party {
        match self {
            Party::P0 => Party::P1,
            Party::P1 => Party::P0,
        }
    }
}

/// A matrix known in the clear to whoever holds it (an opened value or a public constant), as ring
/// words with `frac_bits` fractional bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Public {
    frac_bits: u32,
    data: Array2<u64>,
}

impl Public {
    /// Ring words that carry `frac_bits` fractional bits.
    pub fn from_ring(data: Array2<u64>, frac_bits: u32) -> Self {
        Public { frac_bits, data }
    }

    /// Encodes a real matrix with the fractional bits of `fp`.
    pub fn encode(x: ArrayView2<'_, f64>, fp: FixedPoint) -> Result<Self> {
        Ok(Public {
            frac_bits: fp.frac_bits(),
            data: encode_matrix_at(x, fp.frac_bits())?,
        })
    }

    /// Decodes to reals (two's complement, divided by 2^frac_bits).
    pub fn decode(&self) -> Array2<f64> {
        decode_matrix_at(self.data.view(), self.frac_bits)
    }

    /// The ring words.
    pub fn ring(&self) -> ArrayView2<'_, u64> {
        self.data.view()
    }

    /// Fractional bits of the value.
    pub fn frac_bits(&self) -> u32 {
        self.frac_bits
    }

    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        self.data.dim()
    }
}

/// One party's additive share of a matrix over Z_2^64. Wiped on drop; `Debug` shows only the
/// holder, the shape and the scale.
#[derive(Clone)]
pub struct Share {
    party: Party,
    frac_bits: u32,
    data: Array2<u64>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("party", &self.party)
            .field("shape", &self.data.dim())
            .field("frac_bits", &self.frac_bits)
            .field("data", &"<redacted>")
            .finish()
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        wipe(&mut self.data);
    }
}

/// Overwrites a ring matrix with zeros (volatile writes through `zeroize`).
pub(crate) fn wipe(data: &mut Array2<u64>) {
    match data.as_slice_memory_order_mut() {
        Some(s) => s.zeroize(),
        None => data.iter_mut().for_each(Zeroize::zeroize),
    }
}

/// Splits a public matrix into two fresh shares: X_0 uniform, X_1 = X - X_0 (sec. 4.1 "Sharing").
pub fn share<R: Rng + ?Sized>(x: &Public, rng: &mut R) -> (Share, Share) {
    let (rows, cols) = x.shape();
    let x0 = random_matrix(rng, rows, cols);
    let x1 = ring::sub(x.data.view(), x0.view());
    (
        Share::from_ring(Party::P0, x.frac_bits, x0),
        Share::from_ring(Party::P1, x.frac_bits, x1),
    )
}

/// Encodes a real matrix and shares it (see [`share`]).
pub fn share_f64<R: Rng + ?Sized>(
    x: ArrayView2<'_, f64>,
    fp: FixedPoint,
    rng: &mut R,
) -> Result<(Share, Share)> {
    Ok(share(&Public::encode(x, fp)?, rng))
}

/// Adds the two shares of a value (sec. 4.1 "Reconstruction").
pub fn reconstruct(a: &Share, b: &Share) -> Result<Public> {
    if a.party == b.party {
        return Err(Error::PartyMismatch {
            op: "reconstruct",
            reason: "both shares belong to the same party",
        });
    }
    ring::check_same("reconstruct", a.shape(), b.shape())?;
    check_scale("reconstruct", a.frac_bits, b.frac_bits)?;
    Ok(Public::from_ring(
        ring::add(a.data.view(), b.data.view()),
        a.frac_bits,
    ))
}

impl Share {
    /// A share made of ring words (for example received from a dealer or read from a file).
    pub fn from_ring(party: Party, frac_bits: u32, data: Array2<u64>) -> Self {
        Share {
            party,
            frac_bits,
            data,
        }
    }

    /// The trivial sharing of a public value: P0's share is the value, P1's is zero (no message;
    /// for values both holders know, such as public initial weights).
    pub fn from_public(party: Party, value: &Public) -> Self {
        let data = match party {
            Party::P0 => value.data.clone(),
            Party::P1 => Array2::zeros(value.shape()),
        };
        Share::from_ring(party, value.frac_bits, data)
    }

    /// The party that holds this share.
    pub fn party(&self) -> Party {
        self.party
    }

    /// Fractional bits of the shared value.
    pub fn frac_bits(&self) -> u32 {
        self.frac_bits
    }

    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        self.data.dim()
    }

    /// This party's share words (uniformly random on their own; meaningless without the other half).
    pub fn ring(&self) -> ArrayView2<'_, u64> {
        self.data.view()
    }

    pub(crate) fn with_data(&self, frac_bits: u32, data: Array2<u64>) -> Share {
        Share::from_ring(self.party, frac_bits, data)
    }

    fn check_same(&self, op: &'static str, other: &Share) -> Result<()> {
        if self.party != other.party {
            return Err(Error::PartyMismatch {
                op,
                reason: "shares of different parties",
            });
        }
        ring::check_same(op, self.shape(), other.shape())?;
        check_scale(op, self.frac_bits, other.frac_bits)
    }

    /// Share of X + Y.
    pub fn add(&self, other: &Share) -> Result<Share> {
        self.check_same("add", other)?;
        Ok(self.with_data(
            self.frac_bits,
            ring::add(self.data.view(), other.data.view()),
        ))
    }

    /// Share of X - Y.
    pub fn sub(&self, other: &Share) -> Result<Share> {
        self.check_same("sub", other)?;
        Ok(self.with_data(
            self.frac_bits,
            ring::sub(self.data.view(), other.data.view()),
        ))
    }

    /// Share of -X.
    pub fn neg(&self) -> Share {
        self.with_data(self.frac_bits, self.data.mapv(u64::wrapping_neg))
    }

    /// Share of X + C for a public C at the same scale: only P0 adds it (sec. 4.1 "Addition"; in
    /// the ring one party adds the whole constant instead of both adding C/2).
    pub fn add_public(&self, c: &Public) -> Result<Share> {
        ring::check_same("add_public", self.shape(), c.shape())?;
        check_scale("add_public", self.frac_bits, c.frac_bits)?;
        Ok(match self.party {
            Party::P0 => self.with_data(self.frac_bits, ring::add(self.data.view(), c.ring())),
            Party::P1 => self.clone(),
        })
    }

    /// Share of k X for a public integer k (exact, same scale).
    pub fn mul_int(&self, k: i64) -> Share {
        let k = k as u64;
        self.with_data(self.frac_bits, self.data.mapv(|x| x.wrapping_mul(k)))
    }

    /// Share of c X for a public real c, **untruncated**: the result carries frac_bits + f bits.
    pub fn mul_scalar(&self, c: f64, fp: FixedPoint) -> Result<Share> {
        let k = fp.encode(c)?;
        Ok(self.with_data(
            self.frac_bits + fp.frac_bits(),
            self.data.mapv(|x| x.wrapping_mul(k)),
        ))
    }

    /// Share of C ⊙ X for a public C, untruncated (fractional bits add up).
    pub fn mul_public(&self, c: &Public) -> Result<Share> {
        ring::check_same("mul_public", self.shape(), c.shape())?;
        Ok(self.with_data(
            self.frac_bits + c.frac_bits,
            ring::hadamard(self.data.view(), c.ring()),
        ))
    }

    /// Share of X C for a public matrix C, untruncated.
    pub fn matmul_public(&self, c: &Public) -> Result<Share> {
        ring::check_matmul("matmul_public", self.shape(), c.shape())?;
        Ok(self.with_data(
            self.frac_bits + c.frac_bits,
            ring::matmul(self.data.view(), c.ring()),
        ))
    }

    /// Share of C X for a public matrix C, untruncated.
    pub fn public_matmul(c: &Public, x: &Share) -> Result<Share> {
        ring::check_matmul("public_matmul", c.shape(), x.shape())?;
        Ok(x.with_data(
            x.frac_bits + c.frac_bits,
            ring::matmul(c.ring(), x.data.view()),
        ))
    }

    /// Share of X * 2^bits (exact): the value is unchanged, the scale gains `bits` bits. Used to
    /// add a value at scale f to an untruncated product at scale 2f.
    pub fn lift(&self, bits: u32) -> Result<Share> {
        if self.frac_bits + bits >= 63 {
            return Err(Error::ScaleMismatch {
                op: "lift",
                left: self.frac_bits,
                right: bits,
            });
        }
        Ok(self.with_data(self.frac_bits + bits, self.data.mapv(|x| x << bits)))
    }

    /// Divides the shared value by 2^bits locally (SecureML truncation, see the module docs for
    /// the error bound); the scale loses `bits` bits.
    pub fn truncate(&self, bits: u32) -> Result<Share> {
        if bits == 0 {
            return Ok(self.clone());
        }
        if bits > self.frac_bits {
            return Err(Error::ScaleMismatch {
                op: "truncate",
                left: self.frac_bits,
                right: bits,
            });
        }
        let data = match self.party {
            Party::P0 => self.data.mapv(|x| x >> bits),
            Party::P1 => self
                .data
                .mapv(|x| (x.wrapping_neg() >> bits).wrapping_neg()),
        };
        Ok(self.with_data(self.frac_bits - bits, data))
    }

    /// Truncates down to `frac_bits` fractional bits (no-op when already there).
    pub fn truncate_to(&self, frac_bits: u32) -> Result<Share> {
        self.truncate(self.frac_bits.saturating_sub(frac_bits))
    }

    /// Share of the transpose.
    pub fn t(&self) -> Share {
        self.with_data(
            self.frac_bits,
            self.data.t().as_standard_layout().into_owned(),
        )
    }

    /// Share of the rows `rows` of X, in that order.
    pub fn select_rows(&self, rows: &[usize]) -> Result<Share> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.shape().0) {
            return Err(Error::ShapeMismatch {
                op: "select_rows",
                left: self.shape(),
                right: (bad, 0),
            });
        }
        Ok(self.with_data(self.frac_bits, self.data.select(Axis(0), rows)))
    }

    /// Share of X + 1 b for a shared row vector b (1 x columns), added to every row.
    pub fn add_row(&self, b: &Share) -> Result<Share> {
        if b.party != self.party || b.shape() != (1, self.shape().1) {
            return Err(Error::ShapeMismatch {
                op: "add_row",
                left: self.shape(),
                right: b.shape(),
            });
        }
        check_scale("add_row", self.frac_bits, b.frac_bits)?;
        let mut data = self.data.clone();
        for mut row in data.rows_mut() {
            for (x, &y) in row.iter_mut().zip(b.data.iter()) {
                *x = x.wrapping_add(y);
            }
        }
        Ok(self.with_data(self.frac_bits, data))
    }

    /// Like [`Share::add_row`], reusing this share's words (no copy of the matrix).
    pub fn into_add_row(mut self, b: &Share) -> Result<Share> {
        if b.party != self.party || b.shape() != (1, self.shape().1) {
            return Err(Error::ShapeMismatch {
                op: "add_row",
                left: self.shape(),
                right: b.shape(),
            });
        }
        check_scale("add_row", self.frac_bits, b.frac_bits)?;
        for mut row in self.data.rows_mut() {
            for (x, &y) in row.iter_mut().zip(b.data.iter()) {
                *x = x.wrapping_add(y);
            }
        }
        Ok(self)
    }

    /// Like [`Share::reshape`], reusing this share's words when they are in row-major order.
    pub fn into_reshape(mut self, rows: usize, cols: usize) -> Result<Share> {
        if !self.data.is_standard_layout() {
            return self.reshape(rows, cols);
        }
        let from = self.shape();
        let data = std::mem::replace(&mut self.data, Array2::zeros((0, 0)));
        let data = data
            .into_shape_with_order((rows, cols))
            .map_err(|_| Error::ShapeMismatch {
                op: "reshape",
                left: from,
                right: (rows, cols),
            })?;
        Ok(self.with_data(self.frac_bits, data))
    }

    /// Share of the column sums of X (a 1 x columns row vector).
    pub fn sum_rows(&self) -> Share {
        let mut out = Array2::zeros((1, self.shape().1));
        for row in self.data.rows() {
            for (s, &x) in out.iter_mut().zip(row.iter()) {
                *s = u64::wrapping_add(*s, x);
            }
        }
        self.with_data(self.frac_bits, out)
    }

    /// The same words read as a `rows x cols` matrix in row-major order.
    pub fn reshape(&self, rows: usize, cols: usize) -> Result<Share> {
        let words: Vec<u64> = self.data.iter().copied().collect();
        let data =
            Array2::from_shape_vec((rows, cols), words).map_err(|_| Error::ShapeMismatch {
                op: "reshape",
                left: self.shape(),
                right: (rows, cols),
            })?;
        Ok(self.with_data(self.frac_bits, data))
    }
}

pub(crate) fn check_scale(op: &'static str, left: u32, right: u32) -> Result<()> {
    if left != right {
        return Err(Error::ScaleMismatch { op, left, right });
    }
    Ok(())
}
