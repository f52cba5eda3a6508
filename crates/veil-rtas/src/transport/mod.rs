//! Moving frames between the parties: the [`Transport`] trait, an in-memory mesh for tests and a
//! TCP mesh for separate processes, and the per-party traffic [`Stats`].

mod channel;
mod memory;
mod tcp;

use std::time::Duration;

pub use channel::{
    Channel, NOISE_PARAMS, NoiseKeys, PublicKey, Security, StaticKey, key_file_header,
    parse_key_text,
};
pub use memory::{MemoryTransport, memory_network};
pub use tcp::{TcpOptions, TcpTransport};

use crate::error::{Error, Result};
use crate::role::Role;
use crate::wire::{Frame, Kind};

/// Delivers whole messages (byte strings) between the parties, in order per pair of parties.
///
/// Implementations must never block forever: [`Transport::recv`] returns [`Error::Timeout`] after
/// `timeout`, and [`Error::Disconnected`] as soon as the peer is known to be gone.
pub trait Transport: Send {
    /// The role of the party that owns this end.
    fn role(&self) -> Role;
    /// Sends one message to `to`.
    fn send(&mut self, to: Role, msg: Vec<u8>) -> Result<()>;
    /// Receives the next message from `from`, waiting at most `timeout`.
    fn recv(&mut self, from: Role, timeout: Duration) -> Result<Vec<u8>>;
}

/// Traffic of one party, counted on whole frames (header included; the TCP length prefix, 4 bytes
/// per frame, is not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Frames sent.
    pub messages_sent: u64,
    /// Frames received.
    pub messages_received: u64,
    /// Communication rounds: the number of times this party waited for a message after having
    /// sent something since its previous wait (one exchange = one round, however many frames).
    pub rounds: u64,
}

impl Stats {
    /// The traffic between two snapshots (`self` taken later than `earlier`).
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            bytes_sent: self.bytes_sent.saturating_sub(earlier.bytes_sent),
            bytes_received: self.bytes_received.saturating_sub(earlier.bytes_received),
            messages_sent: self.messages_sent.saturating_sub(earlier.messages_sent),
            messages_received: self
                .messages_received
                .saturating_sub(earlier.messages_received),
            rounds: self.rounds.saturating_sub(earlier.rounds),
        }
    }
}

/// A transport with counting, frame decoding and the timeout policy.
pub(crate) struct Net {
    transport: Box<dyn Transport>,
    timeout: Duration,
    stats: Stats,
    sent_since_wait: bool,
    aborted: bool,
}

impl Net {
    pub(crate) fn new(transport: Box<dyn Transport>, timeout: Duration) -> Self {
        Net {
            transport,
            timeout,
            stats: Stats::default(),
            sent_since_wait: true,
            aborted: false,
        }
    }

    pub(crate) fn role(&self) -> Role {
        self.transport.role()
    }

    pub(crate) fn stats(&self) -> Stats {
        self.stats
    }

    pub(crate) fn send(&mut self, to: Role, bytes: Vec<u8>) -> Result<()> {
        let len = bytes.len() as u64;
        if let Err(e) = self.transport.send(to, bytes) {
            return Err(self.explain(to, e));
        }
        self.stats.bytes_sent += len;
        self.stats.messages_sent += 1;
        self.sent_since_wait = true;
        Ok(())
    }

    pub(crate) fn recv(&mut self, from: Role) -> Result<Frame> {
        if self.sent_since_wait {
            self.stats.rounds += 1;
            self.sent_since_wait = false;
        }
        let bytes = self.transport.recv(from, self.timeout)?;
        self.stats.bytes_received += bytes.len() as u64;
        self.stats.messages_received += 1;
        Frame::decode(from, &bytes)
    }

    /// A send to `peer` failed with `e`: if the peer left a reason (an abort frame) or its
    /// connection broke in a specific way, that is the better error to report.
    fn explain(&mut self, peer: Role, e: Error) -> Error {
        if !matches!(e, Error::Disconnected { .. }) {
            return e;
        }
        for _ in 0..16 {
            match self.transport.recv(peer, Duration::ZERO) {
                Ok(bytes) => {
                    if let Ok(frame) = Frame::decode(peer, &bytes) {
                        if frame.kind == Kind::Abort {
                            return Error::PeerAborted {
                                peer,
                                reason: frame.text,
                            };
                        }
                    }
                }
                Err(Error::Timeout { .. } | Error::Disconnected { .. }) => break,
                Err(other) => return other,
            }
        }
        e
    }

    /// Receives a matrix frame of `kind` and `shape` from `from`.
    pub(crate) fn recv_matrix(
        &mut self,
        from: Role,
        kind: Kind,
        what: &'static str,
        shape: (usize, usize),
    ) -> Result<ndarray::Array2<u64>> {
        if self.sent_since_wait {
            self.stats.rounds += 1;
            self.sent_since_wait = false;
        }
        let bytes = self.transport.recv(from, self.timeout)?;
        self.stats.bytes_received += bytes.len() as u64;
        self.stats.messages_received += 1;
        Frame::decode_matrix(from, &bytes, kind, what, shape)
    }

    /// Tells every other party that this one stops, once (best effort: errors are ignored, the
    /// peers will see a disconnect or a timeout anyway).
    pub(crate) fn abort(&mut self, reason: &str) {
        if self.aborted {
            return;
        }
        self.aborted = true;
        let me = self.role();
        for peer in Role::ALL {
            if peer != me {
                let _ignored = self.transport.send(peer, Frame::encode_abort(reason));
            }
        }
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// Fails with `e` after telling the peers (unless the error came from a peer's abort). The
    /// peers get [`Error::peer_reason`], which carries no data value.
    pub(crate) fn fail(&mut self, e: Error) -> Error {
        self.abort(&e.peer_reason());
        e
    }
}
