//! The frame format: a 16-byte header and a payload of little-endian words.
//!
//! ```text
//! offset  bytes  field
//!  0      2      magic "VR"
//!  2      1      version (1)
//!  3      1      kind
//!  4      2      op (u16 LE: function codes, triple kind, ...)
//!  6      2      aux (u16 LE: scales)
//!  8      4      rows (u32 LE)
//! 12      4      cols (u32 LE)
//! 16      8 * rows * cols   the words, row-major, u64 LE
//! ```
//! For [`Kind::Abort`], rows is 0, cols the length of a UTF-8 text of at most 4 KiB, and the
//! text follows the header instead of words.
//! Decoding checks every field and the exact length: a truncated or padded frame is an error.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::role::Role;

const MAGIC: [u8; 2] = *b"VR";
const VERSION: u8 = 1;
/// Header length in bytes.
pub(crate) const HEADER_LEN: usize = 16;
const MAX_ABORT_TEXT: usize = 4096;

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A pairwise seed and the sender's fixed-point setting (setup).
    Seed = 1,
    /// A share opened to the other holder (Beaver's E or F, or a plain open).
    Open = 2,
    /// P0 asks P2 for a triple (payload: the dimensions).
    TripleRequest = 3,
    /// W_1 from P2 to P1.
    TripleShare = 4,
    /// A permuted share sent to P2 for an element-wise function.
    Eval = 5,
    /// P2's re-shared result of an element-wise function (to P1).
    EvalResult = 6,
    /// A share sent to one party so that it learns the value.
    Reveal = 7,
    /// A holder tells P2 that the session is over; P2 confirms with the same kind.
    Done = 8,
    /// The sender stopped; the payload says why.
    Abort = 9,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Seed,
            2 => Kind::Open,
            3 => Kind::TripleRequest,
            4 => Kind::TripleShare,
            5 => Kind::Eval,
            6 => Kind::EvalResult,
            7 => Kind::Reveal,
            8 => Kind::Done,
            9 => Kind::Abort,
            _ => return None,
        })
    }
}

/// The `op` of a [`Kind::TripleRequest`]: what P0 asks the helper to deal (the one definition
/// both ends use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TripleOp {
    /// Matrix-product triple; words m, k, n.
    Matmul = 0,
    /// Element-wise triple; words rows, cols.
    Elementwise = 1,
    /// Convolution triple; words batch, channels, height, width, filters, kernel, stride,
    /// padding.
    Conv = 2,
    /// Truncation pairs ([`crate::Session::truncate`]); words rows, cols, bits.
    Truncation = 3,
}

impl TripleOp {
    pub(crate) fn from_u16(op: u16) -> Option<TripleOp> {
        Some(match op {
            0 => TripleOp::Matmul,
            1 => TripleOp::Elementwise,
            2 => TripleOp::Conv,
            3 => TripleOp::Truncation,
            _ => return None,
        })
    }
}

/// A decoded frame.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) kind: Kind,
    pub(crate) op: u16,
    pub(crate) aux: u16,
    pub(crate) data: Array2<u64>,
    /// Text of an abort frame.
    pub(crate) text: String,
}

impl Frame {
    /// A frame carrying a matrix.
    pub(crate) fn encode(
        kind: Kind,
        op: u16,
        aux: u16,
        data: ArrayView2<'_, u64>,
    ) -> Result<Vec<u8>> {
        let (rows, cols) = data.dim();
        let r = u32::try_from(rows).map_err(|_| Error::config("matrix too large for a frame"))?;
        let c = u32::try_from(cols).map_err(|_| Error::config("matrix too large for a frame"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + rows * cols * 8);
        header(&mut out, kind, op, aux, r, c);
        out.resize(HEADER_LEN + rows * cols * 8, 0);
        let body = out.get_mut(HEADER_LEN..).unwrap_or(&mut []);
        let chunks = body.chunks_exact_mut(8);
        match data.as_slice() {
            Some(words) => chunks
                .zip(words)
                .for_each(|(b, w)| b.copy_from_slice(&w.to_le_bytes())),
            None => chunks
                .zip(data.iter())
                .for_each(|(b, w)| b.copy_from_slice(&w.to_le_bytes())),
        }
        Ok(out)
    }

    /// A frame with a few words and no matrix meaning (requests).
    pub(crate) fn encode_words(kind: Kind, op: u16, aux: u16, words: &[u64]) -> Result<Vec<u8>> {
        let row = ArrayView2::from_shape((1, words.len()), words)
            .map_err(|_| Error::config("bad word list"))?;
        Frame::encode(kind, op, aux, row)
    }

    /// An abort frame with a reason (cut to 4 KiB).
    pub(crate) fn encode_abort(reason: &str) -> Vec<u8> {
        let mut end = reason.len().min(MAX_ABORT_TEXT);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let text = reason.get(..end).unwrap_or("").as_bytes();
        let mut out = Vec::with_capacity(HEADER_LEN + text.len());
        header(&mut out, Kind::Abort, 0, 0, 0, text.len() as u32);
        out.extend_from_slice(text);
        out
    }

    /// Decodes and checks a frame received from `peer`.
    pub(crate) fn decode(peer: Role, bytes: &[u8]) -> Result<Frame> {
        let (
            Header {
                kind,
                op,
                aux,
                rows,
                cols,
            },
            body,
        ) = Header::parse(peer, bytes)?;
        if kind == Kind::Abort {
            if rows != 0 || cols != body.len() || cols > MAX_ABORT_TEXT {
                return Err(Error::malformed(peer, "bad abort frame"));
            }
            return Ok(Frame {
                kind,
                op,
                aux,
                data: Array2::zeros((0, 0)),
                text: String::from_utf8_lossy(body).into_owned(),
            });
        }
        let words = rows
            .checked_mul(cols)
            .filter(|w| w.checked_mul(8) == Some(body.len()))
            .ok_or_else(|| {
                Error::malformed(
                    peer,
                    format!(
                        "{rows} x {cols} words announced, {} payload bytes",
                        body.len()
                    ),
                )
            })?;
        let data: Vec<u64> = body
            .chunks_exact(8)
            .map(|chunk| {
                let mut w = [0_u8; 8];
                w.copy_from_slice(chunk);
                u64::from_le_bytes(w)
            })
            .collect();
        debug_assert_eq!(data.len(), words);
        let data = Array2::from_shape_vec((rows, cols), data)
            .map_err(|e| Error::malformed(peer, e.to_string()))?;
        Ok(Frame {
            kind,
            op,
            aux,
            data,
            text: String::new(),
        })
    }

    /// Fails unless this frame is of `kind` (an abort becomes [`Error::PeerAborted`]).
    pub(crate) fn expect_kind(self, peer: Role, kind: Kind) -> Result<Frame> {
        if self.kind == kind {
            return Ok(self);
        }
        if self.kind == Kind::Abort {
            return Err(Error::PeerAborted {
                peer,
                reason: self.text,
            });
        }
        Err(Error::UnexpectedMessage {
            peer,
            expected: format!("{kind:?}"),
            found: format!("{:?}", self.kind),
        })
    }

    /// Fails unless this frame is of `kind` and carries a matrix of `shape`.
    pub(crate) fn expect(
        self,
        peer: Role,
        kind: Kind,
        what: &'static str,
        shape: (usize, usize),
    ) -> Result<Array2<u64>> {
        let frame = self.expect_kind(peer, kind)?;
        if frame.data.dim() != shape {
            return Err(Error::WrongShape {
                peer,
                what,
                expected: shape,
                found: frame.data.dim(),
            });
        }
        Ok(frame.data)
    }
}

/// The fixed fields of a frame.
struct Header {
    kind: Kind,
    op: u16,
    aux: u16,
    rows: usize,
    cols: usize,
}

impl Header {
    /// Checks the header of `bytes` and splits off the body.
    fn parse(peer: Role, bytes: &[u8]) -> Result<(Header, &[u8])> {
        let (head, body) = bytes.split_at_checked(HEADER_LEN).ok_or_else(|| {
            Error::malformed(
                peer,
                format!("{} bytes, shorter than a header", bytes.len()),
            )
        })?;
        if head[0..2] != MAGIC {
            return Err(Error::malformed(peer, "bad magic"));
        }
        if head[2] != VERSION {
            return Err(Error::malformed(
                peer,
                format!("unsupported version {}", head[2]),
            ));
        }
        let kind = Kind::from_u8(head[3])
            .ok_or_else(|| Error::malformed(peer, format!("unknown kind {}", head[3])))?;
        let header = Header {
            kind,
            op: u16::from_le_bytes([head[4], head[5]]),
            aux: u16::from_le_bytes([head[6], head[7]]),
            rows: u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize,
            cols: u32::from_le_bytes([head[12], head[13], head[14], head[15]]) as usize,
        };
        Ok((header, body))
    }
}

impl Frame {
    /// Decodes a matrix frame of `kind` and `shape`: the kind and the announced shape are checked
    /// on the header, before the payload is copied into a matrix (a peer cannot make this party
    /// allocate a matrix it did not ask for).
    pub(crate) fn decode_matrix(
        peer: Role,
        bytes: &[u8],
        kind: Kind,
        what: &'static str,
        shape: (usize, usize),
    ) -> Result<Array2<u64>> {
        let (h, _) = Header::parse(peer, bytes)?;
        if h.kind == kind && (h.rows, h.cols) != shape {
            return Err(Error::WrongShape {
                peer,
                what,
                expected: shape,
                found: (h.rows, h.cols),
            });
        }
        if h.kind != kind && h.kind != Kind::Abort {
            return Err(Error::UnexpectedMessage {
                peer,
                expected: format!("{kind:?}"),
                found: format!("{:?}", h.kind),
            });
        }
        Frame::decode(peer, bytes)?.expect(peer, kind, what, shape)
    }
}

fn header(out: &mut Vec<u8>, kind: Kind, op: u16, aux: u16, rows: u32, cols: u32) {
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kind as u8);
    out.extend_from_slice(&op.to_le_bytes());
    out.extend_from_slice(&aux.to_le_bytes());
    out.extend_from_slice(&rows.to_le_bytes());
    out.extend_from_slice(&cols.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_only(kind: Kind, rows: u32, cols: u32) -> Vec<u8> {
        let mut out = Vec::new();
        header(&mut out, kind, 0, 0, rows, cols);
        out
    }

    /// The documented offsets (module docs) are the ones the encoder writes.
    #[test]
    fn header_offsets_match_the_table() {
        let m = Array2::from_elem((3, 5), 0x0102_0304_0506_0708_u64);
        let b = Frame::encode(Kind::Eval, 0xaabb, 0xccdd, m.view()).unwrap();
        assert_eq!(&b[0..2], b"VR");
        assert_eq!(b[2], 1);
        assert_eq!(b[3], Kind::Eval as u8);
        assert_eq!(u16::from_le_bytes([b[4], b[5]]), 0xaabb);
        assert_eq!(u16::from_le_bytes([b[6], b[7]]), 0xccdd);
        assert_eq!(u32::from_le_bytes([b[8], b[9], b[10], b[11]]), 3);
        assert_eq!(u32::from_le_bytes([b[12], b[13], b[14], b[15]]), 5);
        assert_eq!(b.len(), 16 + 8 * 15);
        for op in [
            TripleOp::Matmul,
            TripleOp::Elementwise,
            TripleOp::Conv,
            TripleOp::Truncation,
        ] {
            assert_eq!(TripleOp::from_u16(op as u16), Some(op));
        }
        assert_eq!(TripleOp::from_u16(4), None);
    }

    #[test]
    fn round_trip_and_rejections() {
        let m = Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as u64 | (1 << 63));
        let bytes = Frame::encode(Kind::Open, 7, 9, m.view()).unwrap();
        let f = Frame::decode(Role::P1, &bytes).unwrap();
        assert_eq!((f.kind, f.op, f.aux), (Kind::Open, 7, 9));
        assert_eq!(f.data, m);
        // Truncated, padded, wrong magic, unknown kind.
        assert!(Frame::decode(Role::P1, &bytes[..bytes.len() - 1]).is_err());
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(Frame::decode(Role::P1, &padded).is_err());
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(Frame::decode(Role::P1, &bad).is_err());
        let mut bad = bytes.clone();
        bad[3] = 200;
        assert!(Frame::decode(Role::P1, &bad).is_err());
        assert!(Frame::decode(Role::P1, &bytes[..5]).is_err());
        // Announced sizes whose product overflows.
        let mut huge = bytes[..HEADER_LEN].to_vec();
        huge[8..16].copy_from_slice(&[0xff; 8]);
        assert!(Frame::decode(Role::P1, &huge).is_err());
        // A matrix of the wrong shape is refused on its header (here the payload is missing
        // altogether: a full decode would say Malformed, the header check says WrongShape).
        let huge = header_only(Kind::Open, 1 << 20, 1 << 10);
        assert!(matches!(
            Frame::decode_matrix(Role::P1, &huge, Kind::Open, "E", (2, 3)),
            Err(Error::WrongShape {
                found: (1_048_576, 1024),
                ..
            })
        ));
        assert!(matches!(
            Frame::decode_matrix(Role::P1, &huge, Kind::Reveal, "E", (2, 3)),
            Err(Error::UnexpectedMessage { .. })
        ));
        let m = Frame::decode_matrix(Role::P1, &bytes, Kind::Open, "E", (2, 3)).unwrap();
        assert_eq!(
            m,
            Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as u64 | (1 << 63))
        );
        let a = Frame::decode(Role::P2, &Frame::encode_abort("stop")).unwrap();
        assert!(matches!(
            a.expect_kind(Role::P2, Kind::Open),
            Err(Error::PeerAborted { reason, .. }) if reason == "stop"
        ));
    }
}
