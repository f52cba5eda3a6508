//! Training and inference by the share holders under RTAS and RTAS-fast.
//!
//! Every product whose result goes straight into a helper call is left untruncated (2f bits):
//! P2 divides exactly while evaluating, so forward passes have no truncation error at all. The
//! backward pass and the updates truncate with pairs dealt by the helper
//! ([`Session::truncate_many`]): at most one unit in the last place, never a large error.

use ndarray::Array2;

use super::plain::{self, Params};
use super::{CnnSpec, Mode, ModelSpec, TrainConfig};
use crate::error::{Error, Result};
use crate::func::Function;
use crate::session::{Product, Session};
use crate::share::{Party, Public, Share};

/// A holder's view of the model: shared parameters, and in RTAS-fast P0's clear head.
pub(crate) struct SecureModel {
    spec: ModelSpec,
    mode: Mode,
    shared: Vec<Share>,
    head: Params,
}

fn take<const N: usize>(v: Vec<Share>) -> Result<[Share; N]> {
    v.try_into().map_err(|_| Error::Aborted)
}

fn reshape_err(op: &'static str, from: (usize, usize), to: (usize, usize)) -> Error {
    Error::ShapeMismatch {
        op,
        left: from,
        right: to,
    }
}

impl SecureModel {
    /// The initial model: public initial weights shared trivially (P0 holds them, P1 zeros); in
    /// RTAS-fast only the first layer is shared and P0 keeps the head in the clear.
    pub(crate) fn new(session: &Session, config: &TrainConfig) -> Result<Self> {
        let fp = session.fixed_point();
        let init = config.model.init(config.seed);
        let n_shared = match (config.mode, config.model) {
            (Mode::Rtas, _) => init.len(),
            (Mode::RtasFast, _) => 2,
        };
        let mut shared = Vec::with_capacity(n_shared);
        for p in &init[..n_shared] {
            shared.push(Share::from_public(
                session.party(),
                &Public::encode(p.view(), fp)?,
            ));
        }
        let head = if session.party() == Party::P0 {
            init[n_shared..].to_vec()
        } else {
            Vec::new()
        };
        Ok(SecureModel {
            spec: config.model,
            mode: config.mode,
            shared,
            head,
        })
    }

    /// z = x W + b, untruncated (2f bits).
    fn affine_raw(s: &mut Session, x: &Share, w: &Share, b: &Share) -> Result<Share> {
        let f = s.fixed_point().frac_bits();
        s.matmul_raw(x, w)?.into_add_row(&b.lift(f)?)
    }

    /// The conv pre-activation of a batch, z1 as (B oh ow) x F at 2f bits: one convolution
    /// product, whose mask is opened at the size of the images (see [`Product::Conv`]).
    fn conv_raw(&self, s: &mut Session, c: &CnnSpec, x: &Share) -> Result<Share> {
        let f = s.fixed_point().frac_bits();
        let [z] = take(s.products_raw(&[(Product::Conv(c.conv), x, &self.shared[0])])?)?;
        z.into_add_row(&self.shared[1].lift(f)?)
    }

    /// One SGD step. `y` is the shared target batch (RTAS); `labels` P0's clear one (RTAS-fast).
    pub(crate) fn step(
        &mut self,
        s: &mut Session,
        x: &Share,
        y: Option<&Share>,
        labels: Option<&Array2<f64>>,
        lr: f64,
    ) -> Result<()> {
        let fp = s.fixed_point();
        let batch = x.shape().0;
        let step = lr / batch.max(1) as f64;
        match (self.mode, self.spec) {
            (Mode::Rtas, ModelSpec::Logistic { .. }) => {
                let y = y.ok_or_else(|| Error::config("RTAS needs shared targets"))?;
                let z = Self::affine_raw(s, x, &self.shared[0], &self.shared[1])?;
                let [a, ds] = take(s.eval(&z, &[Function::Sigmoid, Function::SigmoidGrad])?)?;
                let dz = s.mul(&a.sub(y)?, &ds)?;
                let gw = s.matmul_raw(&x.t(), &dz)?;
                self.apply(s, &[gw, dz.sum_rows()], 0, step)
            }
            (Mode::Rtas, ModelSpec::Cnn(c)) => {
                let y = y.ok_or_else(|| Error::config("RTAS needs shared targets"))?;
                let (act, dact) = c.activation_functions();
                let z1 = self.conv_raw(s, &c, x)?;
                let cols = x.im2col(&c.conv)?;
                let [a1, s1] = take(s.eval(&z1, &[act, dact])?)?;
                let len = c.conv.output_len();
                let (a1, s1) = (a1.into_reshape(batch, len)?, s1.into_reshape(batch, len)?);
                let z2 = Self::affine_raw(s, &a1, &self.shared[2], &self.shared[3])?;
                let [a2, s2] = take(s.eval(&z2, &[Function::Sigmoid, Function::SigmoidGrad])?)?;
                let z3 = Self::affine_raw(s, &a2, &self.shared[4], &self.shared[5])?;
                let [p] = take(s.eval(&z3, &[Function::Softmax])?)?;
                let dz3 = p.sub(y)?;
                let w3t = self.shared[4].t();
                let [dw3, da2] = take(s.products_raw(&[
                    (Product::Matmul, &a2.t(), &dz3),
                    (Product::Matmul, &dz3, &w3t),
                ])?)?;
                // da2 stays at 2f: the product with s2 (f) is truncated once, from 3f to f.
                let dz2 = s.mul(&da2, &s2)?;
                let w2t = self.shared[2].t();
                let [dw2, da1] = take(s.products_raw(&[
                    (Product::Matmul, &a1.t(), &dz2),
                    (Product::Matmul, &dz2, &w2t),
                ])?)?;
                let dz1 = s
                    .mul(&da1, &s1)?
                    .into_reshape(cols.shape().0, c.conv.filters)?;
                let dk = s.matmul_raw(&cols.t(), &dz1)?;
                let grads = [dk, dz1.sum_rows(), dw2, dz2.sum_rows(), dw3, dz3.sum_rows()];
                self.apply(s, &grads, 0, step)
            }
            (Mode::RtasFast, ModelSpec::Logistic { .. }) => {
                let z = Self::affine_raw(s, x, &self.shared[0], &self.shared[1])?;
                let dz_clear = match s.reveal_to(&z, Party::P0)? {
                    Some(z) => {
                        let labels =
                            labels.ok_or_else(|| Error::config("the label holder needs labels"))?;
                        Some(Public::encode(
                            plain::logistic_dz(z.decode().view(), labels.view()).view(),
                            fp,
                        )?)
                    }
                    None => None,
                };
                let dz = s.input(Party::P0, dz_clear.as_ref(), z.shape())?;
                let gw = s.matmul_raw(&x.t(), &dz)?;
                self.apply(s, &[gw, dz.sum_rows()], 0, step)
            }
            (Mode::RtasFast, ModelSpec::Cnn(c)) => {
                let z1 = self.conv_raw(s, &c, x)?;
                let cols = x.im2col(&c.conv)?;
                let shape = z1.shape();
                let z1 = z1.into_reshape(batch, c.conv.output_len())?;
                let dz_clear = match s.reveal_to(&z1, Party::P0)? {
                    Some(z) => {
                        let labels =
                            labels.ok_or_else(|| Error::config("the label holder needs labels"))?;
                        let dz = plain::cnn_head_step(
                            &c,
                            &mut self.head,
                            z.decode().view(),
                            labels.view(),
                            step,
                        );
                        let dz = dz.into_shape_with_order(shape).map_err(|_| {
                            reshape_err("head gradient", (batch, c.conv.output_len()), shape)
                        })?;
                        Some(Public::encode(dz.view(), fp)?)
                    }
                    None => None,
                };
                let dz1 = s.input(Party::P0, dz_clear.as_ref(), shape)?;
                let dk = s.matmul_raw(&cols.t(), &dz1)?;
                self.apply(s, &[dk, dz1.sum_rows()], 0, step)
            }
        }
    }

    /// param -= step * grad for every parameter from `first` on. A gradient may be at f bits or
    /// straight out of a product at 2f bits: scaled by the step it carries one f more, and all
    /// are truncated to f together, in one round and with one rounding each
    /// ([`Session::truncate_many`]; for |step * grad| < 2^14 at 3f = 48 bits, far above any
    /// gradient step).
    fn apply(&mut self, s: &mut Session, grads: &[Share], first: usize, step: f64) -> Result<()> {
        let fp = s.fixed_point();
        let scaled = grads
            .iter()
            .map(|g| g.mul_scalar(step, fp))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Share> = scaled.iter().collect();
        let updates = s.truncate_many(&refs, fp.frac_bits())?;
        for (i, u) in updates.iter().enumerate() {
            let p = self.shared.get(first + i).ok_or(Error::Aborted)?;
            let next = p.sub(u)?;
            self.shared[first + i] = next;
        }
        Ok(())
    }

    /// Scores for a batch, revealed to P0 only (P0 gets `Some`): logistic regression z, CNN
    /// class scores before the softmax.
    pub(crate) fn predict(&self, s: &mut Session, x: &Share) -> Result<Option<Array2<f64>>> {
        let batch = x.shape().0;
        let out = match (self.mode, self.spec) {
            (_, ModelSpec::Logistic { .. }) => {
                let z = Self::affine_raw(s, x, &self.shared[0], &self.shared[1])?;
                s.reveal_to(&z, Party::P0)?.map(|z| z.decode())
            }
            (Mode::Rtas, ModelSpec::Cnn(c)) => {
                let (act, _) = c.activation_functions();
                let z1 = self.conv_raw(s, &c, x)?;
                let [a1] = take(s.eval(&z1, &[act])?)?;
                let a1 = a1.into_reshape(batch, c.conv.output_len())?;
                let z2 = Self::affine_raw(s, &a1, &self.shared[2], &self.shared[3])?;
                let [a2] = take(s.eval(&z2, &[Function::Sigmoid])?)?;
                let z3 = Self::affine_raw(s, &a2, &self.shared[4], &self.shared[5])?;
                s.reveal_to(&z3, Party::P0)?.map(|z| z.decode())
            }
            (Mode::RtasFast, ModelSpec::Cnn(c)) => {
                let z1 = self.conv_raw(s, &c, x)?;
                let z1 = z1.into_reshape(batch, c.conv.output_len())?;
                s.reveal_to(&z1, Party::P0)?
                    .map(|z| plain::cnn_head_forward(&c, &self.head, z.decode().view()))
            }
        };
        Ok(out)
    }
}
