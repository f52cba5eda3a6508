//! The one error type of `veil-rtas`.

use std::time::Duration;

use crate::role::Role;

/// Everything that can go wrong in this crate. Messages from other parties (malformed, truncated,
/// mis-shaped, late or missing) always end in one of these variants, never in a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A number of fractional bits that leaves no room for products (see [`crate::FixedPoint`]).
    #[error("{frac_bits} fractional bits are not supported: need 1..={max}")]
    InvalidFracBits {
        /// The value asked for.
        frac_bits: u32,
        /// Largest value accepted.
        max: u32,
    },
    /// A real number that cannot be encoded (NaN or infinite).
    #[error("cannot encode a non-finite number ({value})")]
    NotFinite {
        /// The value.
        value: f64,
    },
    /// A real number whose magnitude does not fit the ring at the given scale.
    #[error("{value} is out of range: fixed-point values need |x| < {max}")]
    OutOfRange {
        /// The value.
        value: f64,
        /// Bound on the magnitude at this scale.
        max: f64,
    },
    /// Two operands whose shapes do not fit the operation.
    #[error("{op}: shapes {left:?} and {right:?} do not fit")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Shape of the left operand (rows, columns).
        left: (usize, usize),
        /// Shape of the right operand (rows, columns).
        right: (usize, usize),
    },
    /// Two operands at different fixed-point scales.
    #[error("{op}: operands carry {left} and {right} fractional bits")]
    ScaleMismatch {
        /// The operation.
        op: &'static str,
        /// Fractional bits of the left operand.
        left: u32,
        /// Fractional bits of the right operand.
        right: u32,
    },
    /// Shares that do not belong together (same holder twice, or a share of another party).
    #[error("{op}: {reason}")]
    PartyMismatch {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// An operation called by a party whose role does not take part in it.
    #[error("{op} cannot be run by {role}")]
    WrongRole {
        /// The operation.
        op: &'static str,
        /// The role that called it.
        role: Role,
    },
    /// A configuration value that is not usable.
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// A peer closed its connection (or its process ended).
    #[error("{peer} disconnected")]
    Disconnected {
        /// The peer.
        peer: Role,
    },
    /// A peer sent nothing within the timeout.
    #[error("no message from {peer} within {after:?}")]
    Timeout {
        /// The peer.
        peer: Role,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// A peer sent bytes that do not decode as a frame.
    #[error("malformed message from {peer}: {reason}")]
    Malformed {
        /// The peer.
        peer: Role,
        /// What is wrong.
        reason: String,
    },
    /// A well-formed frame of a kind the protocol does not expect at this point.
    #[error("unexpected message from {peer}: expected {expected}, found {found}")]
    UnexpectedMessage {
        /// The peer.
        peer: Role,
        /// What the protocol expected.
        expected: String,
        /// What arrived.
        found: String,
    },
    /// A matrix of the wrong shape from a peer.
    #[error("{what} from {peer} has shape {found:?}, expected {expected:?}")]
    WrongShape {
        /// The peer.
        peer: Role,
        /// Which message.
        what: &'static str,
        /// The shape the protocol expected.
        expected: (usize, usize),
        /// The shape that arrived.
        found: (usize, usize),
    },
    /// A frame larger than the transport accepts.
    #[error("frame of {len} bytes from {peer} exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// The peer.
        peer: Role,
        /// Announced length.
        len: u64,
        /// Largest length accepted.
        max: u64,
    },
    /// A peer stopped the protocol and said why.
    #[error("{peer} aborted: {reason}")]
    PeerAborted {
        /// The peer.
        peer: Role,
        /// The reason it sent.
        reason: String,
    },
    /// An I/O error of the TCP transport or of a data file.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A data file in a wrong format.
    #[error("{path}:{line}: {reason}")]
    Data {
        /// The file.
        path: String,
        /// 1-based line number (0 when not tied to a line).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The session already failed (and told its peers); it cannot be used any more.
    #[error("the session stopped after an earlier error")]
    Aborted,
    /// A matrix that has no (well-conditioned) inverse.
    #[error("matrix is singular or too ill-conditioned to invert")]
    Singular,
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn malformed(peer: Role, reason: impl Into<String>) -> Self {
        Error::Malformed {
            peer,
            reason: reason.into(),
        }
    }

    /// What a party may tell its peers when it stops because of this error: the message without
    /// any data value (an encoding failure names no number, a data file no contents), so that an
    /// abort never carries a secret to a peer. Shapes, roles and settings are public.
    pub fn peer_reason(&self) -> String {
        match self {
            Error::NotFinite { .. } => "a value could not be encoded (not finite)".into(),
            Error::OutOfRange { max, .. } => {
                format!("a value could not be encoded (magnitude at least {max})")
            }
            Error::Data { .. } => "a data file could not be read".into(),
            Error::Io { context, .. } => format!("{context}: I/O error"),
            Error::PeerAborted { peer, .. } => format!("{peer} aborted"),
            other => other.to_string(),
        }
    }

    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Error::Config {
            reason: reason.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
