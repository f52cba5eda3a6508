//! Beaver triples dealt by the helper P2 (Beaver 1991; paper sec. 4.1 "Multiplication").
//!
//! A triple is (U, V, W) with W = U V (matrix triple) or W = U ⊙ V (element-wise), shared between
//! P0 and P1. P2 shares one seed with P0 and one with P1 ([`crate::Stream::Triples`]):
//! - P0 draws U_0, V_0, W_0 from its seed, locally;
//! - P1 draws U_1, V_1 from its seed, locally;
//! - P2 draws both, computes W = (U_0 + U_1)(V_0 + V_1) and sends only W_1 = W - W_0 to P1.
//!
//! Traffic per triple: one m x n word matrix (P2 -> P1) plus P0's 40-byte request (P0 -> P2),
//! instead of the six matrices a dealer without seeds would send. P1 sees U_1, V_1 and W - W_0 with
//! W_0 pseudorandom and unknown to it, so its view is the same as with an ideal dealer; P0's view
//! is pseudorandom.
//!
//! Online, P0 and P1 open E = X - U and F = Y - V (one exchange), then
//! Z_0 = E (V_0 + F) + U_0 F + W_0 and Z_1 = E V_1 + U_1 F + W_1, which add up to
//! E V + E F + U F + U V = (E + U)(F + V) = X Y.

use core::fmt;

use ndarray::{Array2, ArrayView2};

use crate::conv::Conv2d;
use crate::error::Result;
use crate::prg::{Prg, random_matrix};
use crate::ring;
use crate::share::{Party, wipe};

/// The shapes of a triple: the product it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TripleShape {
    /// U is m x k, V is k x n, W = U V is m x n.
    Matmul {
        /// Rows of U.
        m: usize,
        /// Columns of U, rows of V.
        k: usize,
        /// Columns of V.
        n: usize,
    },
    /// U, V, W = U ⊙ V all rows x cols.
    Elementwise {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A convolution: U is a batch of images (batch x C H W), V a (C kh kw) x F kernel matrix,
    /// W = im2col(U) V is (batch oh ow) x F. The images are masked before the rearrangement, so
    /// that E = X - U is opened at the size of the images rather than of their im2col matrix
    /// (kh kw / stride^2 times larger): im2col is linear, im2col(X) - im2col(U) = im2col(E).
    Conv {
        /// Images in the batch.
        batch: usize,
        /// The layer geometry.
        conv: Conv2d,
    },
}

impl TripleShape {
    /// Shape of U.
    pub fn u(self) -> (usize, usize) {
        match self {
            TripleShape::Matmul { m, k, .. } => (m, k),
            TripleShape::Elementwise { rows, cols } => (rows, cols),
            TripleShape::Conv { batch, conv } => (batch, conv.input_len()),
        }
    }

    /// Shape of V.
    pub fn v(self) -> (usize, usize) {
        match self {
            TripleShape::Matmul { k, n, .. } => (k, n),
            TripleShape::Elementwise { rows, cols } => (rows, cols),
            TripleShape::Conv { conv, .. } => (conv.patch_len(), conv.filters),
        }
    }

    /// Shape of W.
    pub fn w(self) -> (usize, usize) {
        match self {
            TripleShape::Matmul { m, n, .. } => (m, n),
            TripleShape::Elementwise { rows, cols } => (rows, cols),
            TripleShape::Conv { batch, conv } => {
                let (oh, ow) = conv.out_hw();
                (batch * oh * ow, conv.filters)
            }
        }
    }

    /// `out += a * b` for the product this triple serves (shapes checked by the caller).
    pub(crate) fn product_add(
        self,
        out: &mut Array2<u64>,
        a: ArrayView2<'_, u64>,
        b: ArrayView2<'_, u64>,
    ) -> Result<()> {
        match self {
            TripleShape::Matmul { .. } => ring::matmul_add(out, a, b),
            TripleShape::Elementwise { .. } => ring::hadamard_add(out, a, b),
            TripleShape::Conv { conv, .. } => conv.conv_add(out, a, b)?,
        }
        Ok(())
    }
}

/// One party's share of a triple. Wiped on drop, printed without its entries.
pub struct TripleShare {
    pub(crate) party: Party,
    pub(crate) shape: TripleShape,
    pub(crate) u: Array2<u64>,
    pub(crate) v: Array2<u64>,
    pub(crate) w: Array2<u64>,
}

impl fmt::Debug for TripleShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TripleShare")
            .field("party", &self.party)
            .field("shape", &self.shape)
            .field("data", &"<redacted>")
            .finish()
    }
}

impl Drop for TripleShare {
    fn drop(&mut self) {
        wipe(&mut self.u);
        wipe(&mut self.v);
        wipe(&mut self.w);
    }
}

/// U_i and V_i drawn from the seed a share holder shares with P2 (both holders draw them so).
pub(crate) fn draw_masks(prg: &mut Prg, shape: TripleShape) -> (Array2<u64>, Array2<u64>) {
    let (ur, uc) = shape.u();
    let (vr, vc) = shape.v();
    let u = random_matrix(prg, ur, uc);
    let v = random_matrix(prg, vr, vc);
    (u, v)
}

/// P0's whole triple share, from the seed it shares with P2 (no message).
pub(crate) fn p0_triple(prg: &mut Prg, shape: TripleShape) -> TripleShare {
    let (u, v) = draw_masks(prg, shape);
    let (wr, wc) = shape.w();
    let w = random_matrix(prg, wr, wc);
    TripleShare {
        party: Party::P0,
        shape,
        u,
        v,
        w,
    }
}

/// The dealer's side: replays P0's and P1's draws and returns W_1 = U V - W_0, the only part
/// that travels (to P1).
pub(crate) fn deal(prg0: &mut Prg, prg1: &mut Prg, shape: TripleShape) -> Result<Array2<u64>> {
    let mut t0 = p0_triple(prg0, shape);
    let (mut u, mut v) = draw_masks(prg1, shape);
    ring::add_assign(&mut u, t0.u.view());
    ring::add_assign(&mut v, t0.v.view());
    // W_1 = U V - W_0, accumulated onto -W_0.
    let mut w1 = std::mem::replace(&mut t0.w, Array2::zeros((0, 0)));
    w1.mapv_inplace(u64::wrapping_neg);
    shape.product_add(&mut w1, u.view(), v.view())?;
    wipe(&mut u);
    wipe(&mut v);
    Ok(w1)
}

/// Beaver's last step for party `party`, given the opened E = X - U and F = Y - V:
/// Z_0 = E (V_0 + F) + U_0 F + W_0, Z_1 = E V_1 + U_1 F + W_1 (module docs). W_i is added
/// only if the share holds it already (P1 may call this before W_1 arrives and add it then, so
/// that the helper's dealing overlaps P1's products).
pub(crate) fn finish(
    t: &mut TripleShare,
    e: ArrayView2<'_, u64>,
    f: ArrayView2<'_, u64>,
) -> Result<Array2<u64>> {
    ring::check_same("beaver E", e.dim(), t.u.dim())?;
    ring::check_same("beaver F", f.dim(), t.v.dim())?;
    let mut z = if t.w.dim() == t.shape.w() {
        std::mem::replace(&mut t.w, Array2::zeros((0, 0)))
    } else {
        Array2::zeros(t.shape.w())
    };
    match t.party {
        Party::P0 => {
            let v_plus = ring::add(t.v.view(), f);
            t.shape.product_add(&mut z, e, v_plus.view())?;
        }
        Party::P1 => t.shape.product_add(&mut z, e, t.v.view())?,
    }
    t.shape.product_add(&mut z, t.u.view(), f)?;
    Ok(z)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prg::{Seed, Stream};

    fn simulate(shape: TripleShape, x: &Array2<u64>, y: &Array2<u64>) -> Array2<u64> {
        let s02 = Seed::from_bytes([2; 32]);
        let s12 = Seed::from_bytes([3; 32]);
        let w1 = deal(
            &mut s02.stream(Stream::Triples),
            &mut s12.stream(Stream::Triples),
            shape,
        )
        .unwrap();
        let mut t0 = p0_triple(&mut s02.stream(Stream::Triples), shape);
        let (u1, v1) = draw_masks(&mut s12.stream(Stream::Triples), shape);
        let mut t1 = TripleShare {
            party: Party::P1,
            shape,
            u: u1,
            v: v1,
            w: w1,
        };
        // Shares of x and y: x = x (P0) + 0 (P1) is enough to check the algebra.
        let u = ring::add(t0.u.view(), t1.u.view());
        let v = ring::add(t0.v.view(), t1.v.view());
        let e = ring::sub(x.view(), u.view());
        let f = ring::sub(y.view(), v.view());
        let z0 = finish(&mut t0, e.view(), f.view()).unwrap();
        let z1 = finish(&mut t1, e.view(), f.view()).unwrap();
        ring::add(z0.view(), z1.view())
    }

    #[test]
    fn matrix_triple_product_is_exact() {
        let x = Array2::from_shape_fn((3, 5), |(i, j)| (i * 5 + j) as u64 * 0x1234_5678_9abc);
        let y = Array2::from_shape_fn((5, 2), |(i, j)| (i + 7 * j) as u64 ^ (1 << 60));
        let z = simulate(TripleShape::Matmul { m: 3, k: 5, n: 2 }, &x, &y);
        assert_eq!(z, ring::matmul(x.view(), y.view()));
    }

    #[test]
    fn elementwise_triple_product_is_exact() {
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as u64 * 0xffff_0001);
        let y = Array2::from_shape_fn((4, 3), |(i, j)| u64::MAX - (i + j) as u64);
        let z = simulate(TripleShape::Elementwise { rows: 4, cols: 3 }, &x, &y);
        assert_eq!(z, ring::hadamard(x.view(), y.view()));
    }

    #[test]
    fn conv_triple_product_is_exact() {
        let conv = Conv2d {
            channels: 1,
            height: 6,
            width: 5,
            filters: 3,
            kernel: 3,
            stride: 2,
            padding: 1,
        };
        let x = Array2::from_shape_fn((3, 30), |(i, j)| (i * 30 + j) as u64 * 0x1234_5678_9abc);
        let y = Array2::from_shape_fn((9, 3), |(i, j)| (i + 7 * j) as u64 ^ (1 << 60));
        let z = simulate(TripleShape::Conv { batch: 3, conv }, &x, &y);
        let cols = conv.im2col(x.view()).unwrap();
        assert_eq!(z, ring::matmul(cols.view(), y.view()));
        assert_eq!(z, conv.conv(x.view(), y.view()).unwrap());
    }
}
