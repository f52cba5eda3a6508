//! The helper P2: deals Beaver triples on P0's request and evaluates functions on permuted values.
//!
//! P2 needs no knowledge of the model: it serves P0's requests in order until P0 says `Done`.
//! What it learns: the shapes of all products, and for every function call the multiset of the
//! argument values (element-wise) or of the argument rows (softmax); see [`crate::Function`].

use ndarray::Array2;
use rayon::prelude::*;

use crate::conv::Conv2d;
use crate::error::{Error, Result};
use crate::fixed::{
    FixedPoint, MAX_FRAC_BITS, decode_at, decode_matrix_at, encode_at, encode_matrix_at,
};
use crate::func::decode_functions;
use crate::prg::{Prg, Seed, Stream, random_matrix};
use crate::ring;
use crate::role::Role;
use crate::session::{ProtocolConfig, send_seed};
use crate::transport::{Net, Stats, Transport};
use crate::triple::{TripleShape, deal};
use crate::truncation::{EXACT_TRUNCATION_BITS, deal_pair};
use crate::wire::{Frame, Kind, TripleOp};

/// Largest side, channel count or filter count of a convolution triple request (bounds every
/// size computed from the request below 2^64; the word limit then applies).
const MAX_CONV_DIM: usize = 1 << 16;
/// Largest batch of a convolution triple request.
const MAX_CONV_BATCH: usize = 1 << 24;

/// The helper's end of a running protocol.
pub struct Helper {
    net: Net,
    fp: FixedPoint,
    max_words: usize,
    triples0: Prg,
    triples1: Prg,
    reshare0: Prg,
}

impl core::fmt::Debug for Helper {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Helper")
            .field("fixed_point", &self.fp)
            .finish_non_exhaustive()
    }
}

impl Helper {
    /// Starts the helper over `transport` (which must be P2's end): makes the seeds it shares
    /// with P0 and with P1 and sends them.
    pub fn new(transport: Box<dyn Transport>, config: &ProtocolConfig) -> Result<Helper> {
        let role = transport.role();
        if role != Role::P2 {
            return Err(Error::WrongRole {
                op: "Helper::new",
                role,
            });
        }
        config.validate()?;
        let mut net = Net::new(transport, config.timeout);
        let fp = config.fixed_point;
        let s02 = Seed::random(&mut rand::rng());
        let s12 = Seed::random(&mut rand::rng());
        let sent = send_seed(&mut net, Role::P0, &s02, fp)
            .and_then(|()| send_seed(&mut net, Role::P1, &s12, fp));
        sent.map_err(|e| net.fail(e))?;
        Ok(Helper {
            net,
            fp,
            max_words: config.max_triple_words,
            triples0: s02.stream(Stream::Triples),
            triples1: s12.stream(Stream::Triples),
            reshare0: s02.stream(Stream::Reshare),
        })
    }

    /// Serves requests until both holders end the session (and confirms it to them); returns P2's traffic. Any malformed, mis-shaped
    /// or inconsistent message ends the loop with an error after telling both holders.
    pub fn serve(mut self) -> Result<Stats> {
        loop {
            let step = self.step();
            match step {
                Ok(true) => return Ok(self.net.stats()),
                Ok(false) => {}
                Err(e) => return Err(self.net.fail(e)),
            }
        }
    }

    /// One request; `Ok(true)` when P0 said `Done`.
    fn step(&mut self) -> Result<bool> {
        let frame = self.net.recv(Role::P0)?;
        match frame.kind {
            Kind::Done => {
                self.net.recv(Role::P1)?.expect_kind(Role::P1, Kind::Done)?;
                for to in [Role::P0, Role::P1] {
                    self.net
                        .send(to, Frame::encode_words(Kind::Done, 0, 0, &[])?)?;
                }
                Ok(true)
            }
            Kind::TripleRequest if frame.op == TripleOp::Truncation as u16 => {
                let (shape, bits) = self.truncation_request(&frame)?;
                let dealt = deal_pair(&mut self.triples0, &mut self.triples1, shape, bits)
                    .map_err(|_| Error::malformed(Role::P0, "bad truncation request"))?;
                self.net.send(
                    Role::P1,
                    Frame::encode(Kind::TripleShare, 0, 0, dealt.view())?,
                )?;
                Ok(false)
            }
            Kind::TripleRequest => {
                let shape = self.triple_shape(&frame)?;
                let w1 = deal(&mut self.triples0, &mut self.triples1, shape)?;
                self.net
                    .send(Role::P1, Frame::encode(Kind::TripleShare, 0, 0, w1.view())?)?;
                Ok(false)
            }
            Kind::Eval => {
                self.eval(frame)?;
                Ok(false)
            }
            _ => Err(frame
                .expect_kind(Role::P0, Kind::TripleRequest)
                .err()
                .unwrap_or(Error::Aborted)),
        }
    }

    /// A truncation request: (rows, cols) and the bits, bounded like a triple (P1 receives
    /// 2 rows cols words).
    fn truncation_request(&self, frame: &Frame) -> Result<((usize, usize), u32)> {
        let words: Vec<u64> = frame.data.iter().copied().collect();
        let max = self.max_words as u64;
        match words.as_slice() {
            &[rows, cols, bits]
                if rows <= max
                    && cols <= max
                    && rows
                        .checked_mul(cols)
                        .and_then(|n| n.checked_mul(3))
                        .is_some_and(|n| n <= max)
                    && (1..=u64::from(EXACT_TRUNCATION_BITS)).contains(&bits) =>
            {
                Ok(((rows as usize, cols as usize), bits as u32))
            }
            _ => Err(Error::malformed(
                Role::P0,
                format!("bad truncation request (at most {max} words: 3 per element)"),
            )),
        }
    }

    fn triple_shape(&self, frame: &Frame) -> Result<TripleShape> {
        let words: Vec<usize> = frame
            .data
            .iter()
            .map(|&w| usize::try_from(w).unwrap_or(usize::MAX))
            .collect();
        let shape = match (TripleOp::from_u16(frame.op), words.as_slice()) {
            (Some(TripleOp::Matmul), &[m, k, n]) => TripleShape::Matmul { m, k, n },
            (Some(TripleOp::Elementwise), &[rows, cols]) => TripleShape::Elementwise { rows, cols },
            (
                Some(TripleOp::Conv),
                &[
                    batch,
                    channels,
                    height,
                    width,
                    filters,
                    kernel,
                    stride,
                    padding,
                ],
            ) if batch <= MAX_CONV_BATCH
                && [channels, height, width, filters, kernel, stride, padding]
                    .iter()
                    .all(|&d| d <= MAX_CONV_DIM) =>
            {
                let conv = Conv2d {
                    channels,
                    height,
                    width,
                    filters,
                    kernel,
                    stride,
                    padding,
                };
                conv.validate()
                    .map_err(|_| Error::malformed(Role::P0, "bad convolution triple request"))?;
                TripleShape::Conv { batch, conv }
            }
            _ => return Err(Error::malformed(Role::P0, "bad triple request")),
        };
        // Every side is bounded too: a zero side must not hide a huge one (the empty matrix
        // would still be allocated with that shape).
        let max = self.max_words;
        let size = |(r, c): (usize, usize)| r.checked_mul(c).filter(|_| r <= max && c <= max);
        let total = size(shape.u())
            .zip(size(shape.v()))
            .zip(size(shape.w()))
            .and_then(|((u, v), w)| u.checked_add(v)?.checked_add(w));
        // Dealing a convolution triple multiplies U's im2col matrix, (batch oh ow) x (C kh kw),
        // by V, materialised a few images at a time: it must fit the limit as well, or a kernel
        // much larger than the image (all padding) asks for far more memory and work than the
        // three matrices suggest.
        let im2col = match shape {
            TripleShape::Conv { conv, .. } => size((shape.w().0, conv.patch_len())),
            _ => Some(0),
        };
        match (total, im2col) {
            (Some(t), Some(i)) if t <= max && i <= max => Ok(shape),
            _ => Err(Error::malformed(
                Role::P0,
                format!(
                    "triple {shape:?} exceeds the limit of {max} words (U, V and W together, \
                     and a convolution's im2col matrix on its own)"
                ),
            )),
        }
    }

    fn eval(&mut self, from0: Frame) -> Result<()> {
        let funcs = decode_functions(from0.op).ok_or_else(|| {
            Error::malformed(Role::P0, format!("bad function list {:#x}", from0.op))
        })?;
        let in_bits = u32::from(from0.aux & 0xff);
        let out_bits = u32::from(from0.aux >> 8);
        if in_bits > 2 * MAX_FRAC_BITS || out_bits != self.fp.frac_bits() {
            return Err(Error::malformed(
                Role::P0,
                format!("bad scales {in_bits} -> {out_bits}"),
            ));
        }
        let from1 = self.net.recv(Role::P1)?.expect_kind(Role::P1, Kind::Eval)?;
        if (from1.op, from1.aux) != (from0.op, from0.aux) {
            return Err(Error::UnexpectedMessage {
                peer: Role::P1,
                expected: format!(
                    "the call P0 made (functions {:#x}, scales {:#x})",
                    from0.op, from0.aux
                ),
                found: format!("functions {:#x}, scales {:#x}", from1.op, from1.aux),
            });
        }
        if from1.data.dim() != from0.data.dim() {
            return Err(Error::WrongShape {
                peer: Role::P1,
                what: "permuted share",
                expected: from0.data.dim(),
                found: from1.data.dim(),
            });
        }
        let (rows, cols) = from0.data.dim();
        let mut x = from0.data;
        ring::add_assign(&mut x, from1.data.view());
        if funcs.iter().any(|f| f.is_rowwise()) {
            let x = decode_matrix_at(x.view(), in_bits);
            for f in funcs {
                let y = encode_matrix_at(f.apply(x.view()).view(), out_bits)?;
                let r: Array2<u64> = random_matrix(&mut self.reshare0, rows, cols);
                let y1 = ring::sub(y.view(), r.view());
                self.net
                    .send(Role::P1, Frame::encode(Kind::EvalResult, 0, 0, y1.view())?)?;
            }
            return Ok(());
        }
        // Element-wise: one fused pass per function, y_1 = encode(f(decode(x))) - r, in parallel.
        let xv = x.view();
        let xs = ring::row_major(&xv);
        for f in funcs {
            let mut y1: Array2<u64> = random_matrix(&mut self.reshare0, rows, cols);
            let Some(ys) = y1.as_slice_mut() else {
                return Err(Error::Aborted);
            };
            ys.par_iter_mut()
                .zip(xs.par_iter())
                .with_min_len(4096)
                .try_for_each(|(r, &v)| {
                    let y = f.apply_scalar(decode_at(v, in_bits)).unwrap_or(0.0);
                    *r = encode_at(y, out_bits)?.wrapping_sub(*r);
                    Ok::<(), Error>(())
                })?;
            self.net
                .send(Role::P1, Frame::encode(Kind::EvalResult, 0, 0, y1.view())?)?;
        }
        Ok(())
    }
}
