//! An in-memory mesh of the three parties over `std::sync::mpsc` channels (for tests and for
//! running a whole protocol in one process with one thread per party).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use super::Transport;
use crate::error::{Error, Result};
use crate::role::Role;

/// One party's end of an in-memory mesh. Dropping it closes its channels: the peers' next
/// receive from this party fails with [`Error::Disconnected`].
#[derive(Debug)]
pub struct MemoryTransport {
    role: Role,
    to: [Option<Sender<Vec<u8>>>; 3],
    from: [Option<Receiver<Vec<u8>>>; 3],
}

/// Three connected endpoints, for P0, P1 and P2 in that order.
pub fn memory_network() -> [MemoryTransport; 3] {
    let mut ends = Role::ALL.map(|role| MemoryTransport {
        role,
        to: [None, None, None],
        from: [None, None, None],
    });
    for a in Role::ALL {
        for b in Role::ALL {
            if a != b {
                let (tx, rx) = channel();
                ends[a.index()].to[b.index()] = Some(tx);
                ends[b.index()].from[a.index()] = Some(rx);
            }
        }
    }
    ends
}

impl MemoryTransport {
    /// Closes the channels to and from `peer` (to simulate a party that goes away).
    pub fn disconnect(&mut self, peer: Role) {
        self.to[peer.index()] = None;
        self.from[peer.index()] = None;
    }
}

impl Transport for MemoryTransport {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, to: Role, msg: Vec<u8>) -> Result<()> {
        let tx = self.to[to.index()]
            .as_ref()
            .ok_or(Error::Disconnected { peer: to })?;
        tx.send(msg).map_err(|_| Error::Disconnected { peer: to })
    }

    fn recv(&mut self, from: Role, timeout: Duration) -> Result<Vec<u8>> {
        let rx = self.from[from.index()]
            .as_ref()
            .ok_or(Error::Disconnected { peer: from })?;
        rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => Error::Timeout {
                peer: from,
                after: timeout,
            },
            RecvTimeoutError::Disconnected => Error::Disconnected { peer: from },
        })
    }
}
