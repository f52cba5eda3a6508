//! The share holders' side of the protocol: a [`Session`] of P0 or P1, and the setup shared with
//! the helper ([`ProtocolConfig`], seed exchange).

use std::time::Duration;

use ndarray::Array2;

use crate::conv::Conv2d;
use crate::error::{Error, Result};
use crate::fixed::FixedPoint;
use crate::func::{
    Function, encode_functions, layout_permutation, permute, unpermute, unpermute_random,
};
use crate::prg::{Prg, Seed, Stream, random_matrix};
use crate::ring;
use crate::role::Role;
use crate::share::{Party, Public, Share};
use crate::transport::{Net, Stats, Transport};
use crate::triple::{TripleShape, TripleShare, draw_masks, finish, p0_triple};
use crate::truncation::{check_bits, masked, p0_pair, p0_result, p1_mask, p1_result};
use crate::wire::{Frame, HEADER_LEN, Kind, TripleOp};

/// Settings every party must agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProtocolConfig {
    /// The fixed-point encoding (checked against the peers' during setup).
    pub fixed_point: FixedPoint,
    /// How long to wait for any single message before failing with [`Error::Timeout`].
    pub timeout: Duration,
    /// Largest triple (U, V and W words together; for a convolution, also the im2col matrix of
    /// U on its own) the helper deals on request; also the largest feature matrix, and the
    /// largest single dimension, a holder accepts from the sizes P0 announces in
    /// [`crate::model::run_party_owner`]. It bounds every message of the protocol (see
    /// [`ProtocolConfig::max_message_bytes`]); at most [`MAX_TRIPLE_WORDS`].
    pub max_triple_words: usize,
}

/// Largest accepted [`ProtocolConfig::max_triple_words`]: a message of that many words must fit
/// a frame's 32-bit length.
pub const MAX_TRIPLE_WORDS: usize = (u32::MAX as usize - HEADER_LEN) / 8;

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig {
            fixed_point: FixedPoint::default(),
            timeout: Duration::from_secs(30),
            max_triple_words: 1 << 26,
        }
    }
}

impl ProtocolConfig {
    /// The largest message of a session in bytes: a frame of `max_triple_words` words (no matrix
    /// that travels is larger than the triple it belongs to, and the helper refuses larger
    /// triples). Use it as the transport's frame limit ([`crate::transport::TcpOptions`]).
    pub fn max_message_bytes(&self) -> u64 {
        (HEADER_LEN as u64).saturating_add((self.max_triple_words as u64).saturating_mul(8))
    }

    /// Checks the limits.
    pub fn validate(&self) -> Result<()> {
        if self.max_triple_words == 0 || self.max_triple_words > MAX_TRIPLE_WORDS {
            return Err(Error::config(format!(
                "max_triple_words must be in 1..={MAX_TRIPLE_WORDS}"
            )));
        }
        Ok(())
    }
}

/// The product a Beaver triple serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// Matrix product X Y.
    Matmul,
    /// Entry-wise product X ⊙ Y.
    Hadamard,
    /// Convolution im2col(X) Y of a batch of images X (B x C H W) with a (C kh kw) x F kernel
    /// matrix Y; the result is (B oh ow) x F (see [`crate::Conv2d`]). The mask of X is opened at
    /// the size of the images, not of their im2col matrix.
    Conv(Conv2d),
}

impl Product {
    /// The triple that serves this product of an `x`-shaped and a `y`-shaped operand.
    fn triple_shape(self, x: (usize, usize), y: (usize, usize)) -> Result<TripleShape> {
        match self {
            Product::Matmul => {
                ring::check_matmul("matmul", x, y)?;
                Ok(TripleShape::Matmul {
                    m: x.0,
                    k: x.1,
                    n: y.1,
                })
            }
            Product::Hadamard => {
                ring::check_same("hadamard", x, y)?;
                Ok(TripleShape::Elementwise {
                    rows: x.0,
                    cols: x.1,
                })
            }
            Product::Conv(conv) => {
                conv.validate()?;
                ring::check_same("conv input", x, (x.0, conv.input_len()))?;
                ring::check_same("conv kernel", y, (conv.patch_len(), conv.filters))?;
                Ok(TripleShape::Conv { batch: x.0, conv })
            }
        }
    }
}

/// The request P0 sends P2 for a triple: (op, words).
pub(crate) fn triple_request(shape: TripleShape) -> (u16, Vec<u64>) {
    let (op, words) = match shape {
        TripleShape::Matmul { m, k, n } => (TripleOp::Matmul, vec![m, k, n]),
        TripleShape::Elementwise { rows, cols } => (TripleOp::Elementwise, vec![rows, cols]),
        TripleShape::Conv { batch, conv } => (
            TripleOp::Conv,
            vec![
                batch,
                conv.channels,
                conv.height,
                conv.width,
                conv.filters,
                conv.kernel,
                conv.stride,
                conv.padding,
            ],
        ),
    };
    (op as u16, words.into_iter().map(|w| w as u64).collect())
}

/// Sends a seed (and the sender's fixed-point setting) during setup.
pub(crate) fn send_seed(net: &mut Net, to: Role, seed: &Seed, fp: FixedPoint) -> Result<()> {
    let b = seed.as_bytes();
    let mut words = [0_u64; 4];
    for (w, chunk) in words.iter_mut().zip(b.chunks_exact(8)) {
        let mut a = [0_u8; 8];
        a.copy_from_slice(chunk);
        *w = u64::from_le_bytes(a);
    }
    let frame = Frame::encode_words(Kind::Seed, 0, fp.frac_bits() as u16, &words)?;
    net.send(to, frame)
}

/// Receives a seed and checks that the peer uses the same fixed-point setting.
pub(crate) fn recv_seed(net: &mut Net, from: Role, fp: FixedPoint) -> Result<Seed> {
    let frame = net.recv(from)?.expect_kind(from, Kind::Seed)?;
    if u32::from(frame.aux) != fp.frac_bits() {
        return Err(Error::config(format!(
            "{from} uses {} fractional bits, {} uses {}",
            frame.aux,
            net.role(),
            fp.frac_bits()
        )));
    }
    if frame.data.dim() != (1, 4) {
        return Err(Error::WrongShape {
            peer: from,
            what: "seed",
            expected: (1, 4),
            found: frame.data.dim(),
        });
    }
    let mut bytes = [0_u8; 32];
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(frame.data.iter()) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    Ok(Seed::from_bytes(bytes))
}

/// One share holder's end of a running protocol.
pub struct Session {
    party: Party,
    net: Net,
    fp: FixedPoint,
    perm: Prg,
    input: Prg,
    triples: Prg,
    reshare: Option<Prg>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("party", &self.party)
            .field("fixed_point", &self.fp)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Starts the session of P0 or P1 over `transport`: exchanges the pairwise seeds (P0 makes
    /// the P0-P1 seed, P2 the seeds it shares) and checks that everybody uses the same encoding.
    pub fn new(transport: Box<dyn Transport>, config: &ProtocolConfig) -> Result<Session> {
        let role = transport.role();
        let party = role.party().ok_or(Error::WrongRole {
            op: "Session::new",
            role,
        })?;
        config.validate()?;
        let mut net = Net::new(transport, config.timeout);
        let fp = config.fixed_point;
        let setup = (|| {
            let s01 = match party {
                Party::P0 => {
                    let s = Seed::random(&mut rand::rng());
                    send_seed(&mut net, Role::P1, &s, fp)?;
                    s
                }
                Party::P1 => recv_seed(&mut net, Role::P0, fp)?,
            };
            let s2 = recv_seed(&mut net, Role::P2, fp)?;
            Ok((s01, s2))
        })();
        let (s01, s2) = setup.map_err(|e| net.fail(e))?;
        Ok(Session {
            party,
            net,
            fp,
            perm: s01.stream(Stream::Permutation),
            input: s01.stream(Stream::Input),
            triples: s2.stream(Stream::Triples),
            reshare: (party == Party::P0).then(|| s2.stream(Stream::Reshare)),
        })
    }

    /// This session's share holder.
    pub fn party(&self) -> Party {
        self.party
    }

    /// The fixed-point encoding in use.
    pub fn fixed_point(&self) -> FixedPoint {
        self.fp
    }

    /// Traffic so far.
    pub fn stats(&self) -> Stats {
        self.net.stats()
    }

    fn other(&self) -> Role {
        self.party.other().into()
    }

    /// Runs `f`; on error tells the peers that this party stops.
    fn guarded<T>(&mut self, f: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        if self.net.is_aborted() {
            return Err(Error::Aborted);
        }
        f(self).map_err(|e| self.net.fail(e))
    }

    fn check_own(&self, op: &'static str, x: &Share) -> Result<()> {
        if x.party() != self.party {
            return Err(Error::PartyMismatch {
                op,
                reason: "share of the other party",
            });
        }
        Ok(())
    }

    /// Shares a value that `owner` knows, without a message: both draw R from the P0-P1 seed;
    /// the owner's share is X - R and the other's is R. `value` must be given by the owner only.
    pub fn input(
        &mut self,
        owner: Party,
        value: Option<&Public>,
        shape: (usize, usize),
    ) -> Result<Share> {
        self.guarded(|s| {
            let r = random_matrix(&mut s.input, shape.0, shape.1);
            match (owner == s.party, value) {
                (true, Some(v)) => {
                    ring::check_same("input", v.shape(), shape)?;
                    Ok(Share::from_ring(
                        s.party,
                        v.frac_bits(),
                        ring::sub(v.ring(), r.view()),
                    ))
                }
                (false, None) => Ok(Share::from_ring(s.party, s.fp.frac_bits(), r)),
                _ => Err(Error::config(
                    "input: the owner, and only the owner, passes the value",
                )),
            }
        })
    }

    /// Opens a shared value to both holders.
    pub fn open(&mut self, x: &Share) -> Result<Public> {
        self.guarded(|s| {
            s.check_own("open", x)?;
            let other = s.other();
            s.net
                .send(other, Frame::encode(Kind::Open, 0, 0, x.ring())?)?;
            let theirs = s
                .net
                .recv_matrix(other, Kind::Open, "opened share", x.shape())?;
            Ok(Public::from_ring(
                ring::add(x.ring(), theirs.view()),
                x.frac_bits(),
            ))
        })
    }

    /// Reveals a shared value to one holder: `to` gets `Some(value)`, the other `None`.
    pub fn reveal_to(&mut self, x: &Share, to: Party) -> Result<Option<Public>> {
        self.guarded(|s| {
            s.check_own("reveal_to", x)?;
            let other = s.other();
            if to == s.party {
                let theirs = s
                    .net
                    .recv_matrix(other, Kind::Reveal, "revealed share", x.shape())?;
                Ok(Some(Public::from_ring(
                    ring::add(x.ring(), theirs.view()),
                    x.frac_bits(),
                )))
            } else {
                s.net
                    .send(other, Frame::encode(Kind::Reveal, 0, 0, x.ring())?)?;
                Ok(None)
            }
        })
    }

    /// Several Beaver products in one round (all E and F opened together). Results are
    /// **untruncated**: their fractional bits are the sum of the operands'.
    ///
    /// Traffic per product X (m x k) Y (k x n): each holder sends the other E_i and F_i
    /// (m k + k n words); P0 sends P2 a 40-byte request; P2 sends P1 W_1 (m n words).
    pub fn products_raw(&mut self, ops: &[(Product, &Share, &Share)]) -> Result<Vec<Share>> {
        self.guarded(|s| s.products_inner(ops))
    }

    fn products_inner(&mut self, ops: &[(Product, &Share, &Share)]) -> Result<Vec<Share>> {
        let mut shapes = Vec::with_capacity(ops.len());
        for &(kind, x, y) in ops {
            self.check_own("product", x)?;
            self.check_own("product", y)?;
            shapes.push(kind.triple_shape(x.shape(), y.shape())?);
        }
        // Triples: P0 asks P2 and draws its whole share; P1 draws U_1, V_1 (W_1 comes later).
        let mut triples: Vec<TripleShare> = Vec::with_capacity(ops.len());
        for &shape in &shapes {
            let t = match self.party {
                Party::P0 => {
                    let (op, words) = triple_request(shape);
                    self.net.send(
                        Role::P2,
                        Frame::encode_words(Kind::TripleRequest, op, 0, &words)?,
                    )?;
                    p0_triple(&mut self.triples, shape)
                }
                Party::P1 => {
                    let (u, v) = draw_masks(&mut self.triples, shape);
                    TripleShare {
                        party: Party::P1,
                        shape,
                        u,
                        v,
                        w: Array2::zeros((0, 0)),
                    }
                }
            };
            triples.push(t);
        }
        let other = self.other();
        let mut mine = Vec::with_capacity(ops.len());
        for (&(_, x, y), t) in ops.iter().zip(&triples) {
            let e = ring::sub(x.ring(), t.u.view());
            let f = ring::sub(y.ring(), t.v.view());
            self.net
                .send(other, Frame::encode(Kind::Open, 0, 0, e.view())?)?;
            self.net
                .send(other, Frame::encode(Kind::Open, 1, 0, f.view())?)?;
            mine.push((e, f));
        }
        let mut out = Vec::with_capacity(ops.len());
        for ((&(_, x, y), t), (mut e, mut f)) in ops.iter().zip(&mut triples).zip(mine) {
            let e1 = self
                .net
                .recv_matrix(other, Kind::Open, "Beaver E", e.dim())?;
            let f1 = self
                .net
                .recv_matrix(other, Kind::Open, "Beaver F", f.dim())?;
            ring::add_assign(&mut e, e1.view());
            ring::add_assign(&mut f, f1.view());
            out.push((
                x.frac_bits() + y.frac_bits(),
                finish(t, e.view(), f.view())?,
            ));
        }
        // P1 adds W_1 last: the helper deals it while P1 computes the products above.
        if self.party == Party::P1 {
            for (t, (_, z)) in triples.iter().zip(&mut out) {
                let w1 = self.net.recv_matrix(
                    Role::P2,
                    Kind::TripleShare,
                    "triple share W_1",
                    t.shape.w(),
                )?;
                ring::add_assign(z, w1.view());
            }
        }
        Ok(out
            .into_iter()
            .map(|(bits, z)| Share::from_ring(self.party, bits, z))
            .collect())
    }

    /// Share of X Y, untruncated (fractional bits add up).
    pub fn matmul_raw(&mut self, x: &Share, y: &Share) -> Result<Share> {
        let mut v = self.products_raw(&[(Product::Matmul, x, y)])?;
        v.pop().ok_or(Error::Aborted)
    }

    /// Share of X Y truncated back to the session's fractional bits ([`Session::truncate_to`]).
    pub fn matmul(&mut self, x: &Share, y: &Share) -> Result<Share> {
        let z = self.matmul_raw(x, y)?;
        let f = self.fp.frac_bits();
        self.truncate_to(&z, f)
    }

    /// Share of X ⊙ Y truncated back to the session's fractional bits ([`Session::truncate_to`]).
    pub fn mul(&mut self, x: &Share, y: &Share) -> Result<Share> {
        let mut v = self.products_raw(&[(Product::Hadamard, x, y)])?;
        let z = v.pop().ok_or(Error::Aborted)?;
        let f = self.fp.frac_bits();
        self.truncate_to(&z, f)
    }

    /// Truncates a shared value down to `frac_bits` fractional bits with a pair dealt by the
    /// helper: the result is floor(x / 2^d) or one more, for every |x| < 2^62 (no probability of
    /// a large error, unlike the local [`Share::truncate`]; see docs/rtas.md). One round between
    /// the holders; P2 learns only the shape.
    pub fn truncate_to(&mut self, x: &Share, frac_bits: u32) -> Result<Share> {
        let mut v = self.truncate_many(&[x], frac_bits)?;
        v.pop().ok_or(Error::Aborted)
    }

    /// [`Session::truncate_to`] for several values in one round.
    pub fn truncate_many(&mut self, xs: &[&Share], frac_bits: u32) -> Result<Vec<Share>> {
        self.guarded(|s| s.truncate_inner(xs, frac_bits))
    }

    fn truncate_inner(&mut self, xs: &[&Share], frac_bits: u32) -> Result<Vec<Share>> {
        // Shares already at the scale pass through; the others get a pair each.
        let mut work = Vec::new();
        for (i, x) in xs.iter().enumerate() {
            self.check_own("truncate", x)?;
            if x.frac_bits() < frac_bits {
                return Err(Error::ScaleMismatch {
                    op: "truncate",
                    left: x.frac_bits(),
                    right: frac_bits,
                });
            }
            let bits = x.frac_bits() - frac_bits;
            if bits > 0 {
                check_bits(bits)?;
                work.push((i, bits));
            }
        }
        let other = self.other();
        // Draw the masks (and ask P2 for the pairs), then open every c in one exchange.
        let mut pairs = Vec::with_capacity(work.len());
        let mut opened = Vec::with_capacity(work.len());
        for &(i, bits) in &work {
            let x = xs[i];
            let shape = x.shape();
            let (r, pair) = match self.party {
                Party::P0 => {
                    let words = [shape.0 as u64, shape.1 as u64, u64::from(bits)];
                    self.net.send(
                        Role::P2,
                        Frame::encode_words(
                            Kind::TripleRequest,
                            TripleOp::Truncation as u16,
                            0,
                            &words,
                        )?,
                    )?;
                    let pair = p0_pair(&mut self.triples, shape);
                    (None, Some(pair))
                }
                Party::P1 => (Some(p1_mask(&mut self.triples, shape)), None),
            };
            let mask = match (&r, &pair) {
                (Some(r), _) => r,
                (None, Some(p)) => &p.r,
                (None, None) => return Err(Error::Aborted),
            };
            let c = masked(&x.ring().to_owned(), mask, self.party == Party::P0);
            self.net
                .send(other, Frame::encode(Kind::Open, 2, 0, c.view())?)?;
            pairs.push(pair);
            opened.push(c);
        }
        let mut results: Vec<Option<Array2<u64>>> = Vec::with_capacity(work.len());
        for ((&(_, bits), pair), c) in work.iter().zip(&pairs).zip(&mut opened) {
            let theirs = self
                .net
                .recv_matrix(other, Kind::Open, "truncation opening", c.dim())?;
            ring::add_assign(c, theirs.view());
            results.push(pair.as_ref().map(|p| p0_result(c, p, bits)));
        }
        if self.party == Party::P1 {
            for (slot, c) in results.iter_mut().zip(&opened) {
                let (rows, cols) = c.dim();
                let dealt = self.net.recv_matrix(
                    Role::P2,
                    Kind::TripleShare,
                    "truncation pair",
                    (2 * rows, cols),
                )?;
                *slot = Some(p1_result(c, &dealt)?);
            }
        }
        let mut out: Vec<Share> = xs.iter().map(|x| (*x).clone()).collect();
        for (&(i, bits), y) in work.iter().zip(results) {
            let y = y.ok_or(Error::Aborted)?;
            out[i] = Share::from_ring(self.party, xs[i].frac_bits() - bits, y);
        }
        Ok(out)
    }

    /// Evaluates `funcs` on the shared X through the helper (sec. 4.2.1): P0 and P1 permute
    /// their shares with a permutation drawn from their common seed, send them to P2, which
    /// reconstructs, evaluates and re-shares (P0's output share comes from the seed it shares with
    /// P2, so only P1's travels), and both undo the permutation. X may carry any number of
    /// fractional bits (for example 2f straight out of a product: P2 then divides exactly, with no
    /// truncation error); the results carry the session's f bits.
    ///
    /// Traffic for n entries and k functions: n words P0 -> P2, n words P1 -> P2, k n words
    /// P2 -> P1; two message delays. P2 learns the multiset of the n arguments (element-wise) or of
    /// the rows (softmax), never their positions.
    pub fn eval(&mut self, x: &Share, funcs: &[Function]) -> Result<Vec<Share>> {
        self.guarded(|s| {
            s.check_own("eval", x)?;
            let op = encode_functions(funcs)?;
            let (rows, cols) = x.shape();
            let rowwise = funcs.iter().any(|f| f.is_rowwise());
            let perm = layout_permutation(&mut s.perm, rows, cols, rowwise)?;
            let permuted = permute(x.ring(), &perm);
            let aux = (x.frac_bits() as u16) | ((s.fp.frac_bits() as u16) << 8);
            s.net.send(
                Role::P2,
                Frame::encode(Kind::Eval, op, aux, permuted.view())?,
            )?;
            let mut out = Vec::with_capacity(funcs.len());
            for _ in funcs {
                let y = match &mut s.reshare {
                    Some(prg) => unpermute_random(prg, &perm, rows, cols),
                    None => {
                        let y = s.net.recv_matrix(
                            Role::P2,
                            Kind::EvalResult,
                            "function result",
                            (rows, cols),
                        )?;
                        unpermute(y.view(), &perm)
                    }
                };
                out.push(Share::from_ring(s.party, s.fp.frac_bits(), y));
            }
            Ok(out)
        })
    }

    /// Ends the session: both holders tell the helper, which confirms once it has served every
    /// request of both (so a failure at P2 cannot go unnoticed). Returns this party's traffic.
    pub fn finish(mut self) -> Result<Stats> {
        self.guarded(|s| {
            s.net
                .send(Role::P2, Frame::encode_words(Kind::Done, 0, 0, &[])?)?;
            s.net.recv(Role::P2)?.expect_kind(Role::P2, Kind::Done)?;
            Ok(s.net.stats())
        })
    }

    /// Stops the session and tells the peers why (they fail with [`Error::PeerAborted`]).
    pub fn abort(mut self, reason: &str) {
        self.net.abort(reason);
    }
}
