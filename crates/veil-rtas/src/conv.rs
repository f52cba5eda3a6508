//! Convolutions as matrix products (im2col; paper sec. 4.1 "Convolutional Layers").
//!
//! A batch of images is a matrix with one image per row, channel-major (`[c][y][x]`). `im2col`
//! turns it into one row per output position (sample-major, then row-major positions) holding the
//! C * kh * kw inputs under the kernel, so that the convolution is `cols * K` with the kernel as a
//! (C kh kw) x F matrix. The product is (B oh ow) x F; reading it as B x (oh ow F) gives each
//! sample's feature map position-major (`[y][x][f]`). Zero padding is a zero word in both shares.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::ring;
use crate::share::Share;

/// Images per parallel task of [`Conv2d::conv_add`] (their im2col rows stay in L2).
const CONV_TASK_IMAGES: usize = 8;

/// The geometry of a 2-D convolution layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conv2d {
    /// Input channels.
    pub channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Number of filters (output channels).
    pub filters: usize,
    /// Kernel size (square).
    pub kernel: usize,
    /// Stride in both directions.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
}

impl Conv2d {
    /// Checks the geometry: positive sizes and a kernel that fits the padded input.
    pub fn validate(&self) -> Result<()> {
        let ok = self.channels > 0
            && self.height > 0
            && self.width > 0
            && self.filters > 0
            && self.kernel > 0
            && self.stride > 0
            && self.kernel <= self.height + 2 * self.padding
            && self.kernel <= self.width + 2 * self.padding;
        if ok {
            Ok(())
        } else {
            Err(Error::config(format!(
                "invalid convolution geometry {self:?}"
            )))
        }
    }

    /// Output height and width.
    pub fn out_hw(&self) -> (usize, usize) {
        let oh = (self.height + 2 * self.padding).saturating_sub(self.kernel) / self.stride + 1;
        let ow = (self.width + 2 * self.padding).saturating_sub(self.kernel) / self.stride + 1;
        (oh, ow)
    }

    /// Inputs per image: C * H * W.
    pub fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Inputs per output position: C * kh * kw (rows of the kernel matrix).
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }

    /// Outputs per image: oh * ow * F.
    pub fn output_len(&self) -> usize {
        let (oh, ow) = self.out_hw();
        oh * ow * self.filters
    }

    /// The im2col matrix of a batch (B x C H W) -> (B oh ow) x (C kh kw).
    pub fn im2col<T: Copy + Default>(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        if x.ncols() != self.input_len() {
            return Err(Error::ShapeMismatch {
                op: "im2col",
                left: x.dim(),
                right: (x.nrows(), self.input_len()),
            });
        }
        let (oh, ow) = self.out_hw();
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        let (h, w) = (self.height, self.width);
        let mut out = Array2::from_elem((x.nrows() * oh * ow, self.patch_len()), T::default());
        for (b, img) in x.rows().into_iter().enumerate() {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut row = out.row_mut((b * oh + oy) * ow + ox);
                    let mut col = 0;
                    for c in 0..self.channels {
                        for ky in 0..k {
                            for kx in 0..k {
                                let (iy, ix) = (oy * s + ky, ox * s + kx);
                                if iy >= p && ix >= p && iy - p < h && ix - p < w {
                                    row[col] = img[(c * h + iy - p) * w + ix - p];
                                }
                                col += 1;
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Conv2d {
    /// `out += im2col(x) k` in Z_2^64 without materialising im2col(x): x is a batch (B x C H W),
    /// k the (C kh kw) x F kernel matrix, out is (B oh ow) x F. Each task rearranges a few images
    /// into a small buffer and multiplies it (see `ring::matmul_add_slice`).
    pub(crate) fn conv_add(
        &self,
        out: &mut Array2<u64>,
        x: ArrayView2<'_, u64>,
        k: ArrayView2<'_, u64>,
    ) -> Result<()> {
        let (oh, ow) = self.out_hw();
        let positions = oh * ow;
        let batch = x.nrows();
        let f = self.filters;
        if x.ncols() != self.input_len()
            || k.dim() != (self.patch_len(), f)
            || out.dim() != (batch * positions, f)
        {
            return Err(Error::ShapeMismatch {
                op: "conv",
                left: x.dim(),
                right: k.dim(),
            });
        }
        let k = ring::row_major(&k);
        let patch = self.patch_len();
        let Some(out) = out.as_slice_mut() else {
            return Err(Error::config("conv output must be in standard layout"));
        };
        if out.is_empty() {
            return Ok(());
        }
        out.par_chunks_mut(CONV_TASK_IMAGES * positions * f)
            .enumerate()
            .try_for_each(|(t, c)| {
                let first = t * CONV_TASK_IMAGES;
                let images = c.len() / (positions * f);
                let xs = x.slice(ndarray::s![first..first + images, ..]);
                let cols = match xs.as_slice() {
                    Some(flat) => self.im2col_slice(flat, images),
                    None => self.im2col(xs)?.into_raw_vec_and_offset().0,
                };
                ring::matmul_add_serial(c, &cols, &k, patch, f);
                Ok(())
            })
    }

    /// [`Conv2d::im2col`] of `images` row-major images, as a flat row-major buffer: each kernel
    /// row is one contiguous copy when it lies inside the image.
    fn im2col_slice(&self, x: &[u64], images: usize) -> Vec<u64> {
        let (oh, ow) = self.out_hw();
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        let (h, w, ch) = (self.height, self.width, self.channels);
        let patch = self.patch_len();
        let mut out = vec![0_u64; images * oh * ow * patch];
        for (img, rows) in x
            .chunks_exact(self.input_len())
            .zip(out.chunks_exact_mut(oh * ow * patch))
        {
            for (pos, row) in rows.chunks_exact_mut(patch).enumerate() {
                let (oy, ox) = (pos / ow, pos % ow);
                for c in 0..ch {
                    for ky in 0..k {
                        let dst = &mut row[(c * k + ky) * k..(c * k + ky + 1) * k];
                        let iy = oy * s + ky;
                        if iy < p || iy - p >= h {
                            continue;
                        }
                        let base = (c * h + iy - p) * w;
                        let x0 = ox * s;
                        if x0 >= p && x0 + k - p <= w {
                            dst.copy_from_slice(&img[base + x0 - p..base + x0 - p + k]);
                        } else {
                            for (kx, d) in dst.iter_mut().enumerate() {
                                let ix = x0 + kx;
                                if ix >= p && ix - p < w {
                                    *d = img[base + ix - p];
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// im2col(x) k (see [`Conv2d::conv_add`]).
    #[cfg(test)]
    pub(crate) fn conv(
        &self,
        x: ArrayView2<'_, u64>,
        k: ArrayView2<'_, u64>,
    ) -> Result<Array2<u64>> {
        let (oh, ow) = self.out_hw();
        let mut out = Array2::zeros((x.nrows() * oh * ow, self.filters));
        self.conv_add(&mut out, x, k)?;
        Ok(out)
    }
}

impl Share {
    /// The im2col rearrangement of a shared batch (local: each party rearranges its words).
    pub fn im2col(&self, conv: &Conv2d) -> Result<Share> {
        Ok(self.with_data(self.frac_bits(), conv.im2col(self.ring())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn im2col_matches_direct_convolution() {
        let conv = Conv2d {
            channels: 2,
            height: 5,
            width: 4,
            filters: 3,
            kernel: 3,
            stride: 2,
            padding: 1,
        };
        conv.validate().unwrap();
        let x = Array2::from_shape_fn((2, conv.input_len()), |(b, i)| (b * 100 + i) as f64 * 0.1);
        let kmat = Array2::from_shape_fn((conv.patch_len(), 3), |(i, f)| {
            (i as f64 - 4.0) * (f as f64 + 1.0)
        });
        let y = conv.im2col(x.view()).unwrap().dot(&kmat);
        let (oh, ow) = conv.out_hw();
        assert_eq!((oh, ow), (3, 2));
        for b in 0..2 {
            for oy in 0..oh {
                for ox in 0..ow {
                    for f in 0..3 {
                        let mut s = 0.0;
                        for c in 0..2 {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let iy = (oy * 2 + ky) as isize - 1;
                                    let ix = (ox * 2 + kx) as isize - 1;
                                    if (0..5).contains(&iy) && (0..4).contains(&ix) {
                                        let v = x[[b, (c * 5 + iy as usize) * 4 + ix as usize]];
                                        s += v * kmat[[(c * 3 + ky) * 3 + kx, f]];
                                    }
                                }
                            }
                        }
                        assert!((y[[(b * oh + oy) * ow + ox, f]] - s).abs() < 1e-9);
                    }
                }
            }
        }
    }

    #[test]
    fn fused_conv_matches_im2col_product() {
        for (channels, kernel, stride, padding) in
            [(1, 4, 2, 0), (2, 3, 1, 1), (3, 2, 2, 1), (1, 3, 3, 2)]
        {
            let conv = Conv2d {
                channels,
                height: 7,
                width: 6,
                filters: 3,
                kernel,
                stride,
                padding,
            };
            conv.validate().unwrap();
            let x = Array2::from_shape_fn((11, conv.input_len()), |(b, i)| {
                ((b * 1000 + i) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            });
            let k = Array2::from_shape_fn((conv.patch_len(), 3), |(i, f)| (i * 3 + f + 1) as u64);
            let want = ring::matmul(conv.im2col(x.view()).unwrap().view(), k.view());
            assert_eq!(conv.conv(x.view(), k.view()).unwrap(), want, "{conv:?}");
            let flat = conv.im2col_slice(x.as_slice().unwrap(), 11);
            assert_eq!(
                flat,
                conv.im2col(x.view()).unwrap().into_raw_vec_and_offset().0
            );
        }
    }
}
