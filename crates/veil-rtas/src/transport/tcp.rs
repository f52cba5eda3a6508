//! A TCP mesh of the three parties for separate OS processes.
//!
//! Each party listens on its own address; for every pair, the higher role connects to the lower
//! one (retrying until `connect_timeout`) and introduces itself with an 8-byte hello
//! (`"VRTS"`, version, role, two zero bytes). Frames travel as a 4-byte little-endian length and the
//! frame bytes. One reader thread per connection moves frames into a channel, so that two parties
//! sending large frames to each other at the same time cannot deadlock on full socket buffers, and
//! a receive waits on that channel with the caller's timeout. The connection is plain TCP: run it
//! inside a private network or a tunnel (TLS or WireGuard) in a deployment.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use super::Transport;
use crate::error::{Error, Result};
use crate::role::Role;

const HELLO_MAGIC: [u8; 4] = *b"VRTS";
const HELLO_VERSION: u8 = 1;
/// Frames buffered per connection before the reader thread waits for the receiver.
const QUEUE: usize = 64;

/// Settings of the TCP transport.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TcpOptions {
    /// How long to keep trying to reach the peers (and to wait for them to connect).
    pub connect_timeout: Duration,
    /// Pause between two connection attempts.
    pub retry_interval: Duration,
    /// Largest frame accepted from a peer, in bytes.
    pub max_frame: u64,
    /// Longest time a single write may block (a peer that stops reading).
    pub write_timeout: Duration,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            connect_timeout: Duration::from_secs(30),
            retry_interval: Duration::from_millis(50),
            max_frame: 1 << 30,
            write_timeout: Duration::from_secs(60),
        }
    }
}

struct Peer {
    stream: TcpStream,
    rx: Receiver<Result<Vec<u8>>>,
}

/// One party's end of a TCP mesh.
pub struct TcpTransport {
    role: Role,
    peers: [Option<Peer>; 3],
}

impl core::fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl TcpTransport {
    /// Binds `addrs[role]` and connects to the two other parties at `addrs` (indexed by role).
    pub fn connect(role: Role, addrs: &[SocketAddr; 3], options: &TcpOptions) -> Result<Self> {
        let own = addrs[role.index()];
        let listener =
            TcpListener::bind(own).map_err(|e| Error::io(format!("binding {own}"), e))?;
        TcpTransport::with_listener(role, listener, addrs, options)
    }

    /// Like [`TcpTransport::connect`] with a listener bound beforehand (for example on port 0).
    pub fn with_listener(
        role: Role,
        listener: TcpListener,
        addrs: &[SocketAddr; 3],
        options: &TcpOptions,
    ) -> Result<Self> {
        let deadline = Instant::now() + options.connect_timeout;
        let mut streams: [Option<TcpStream>; 3] = [None, None, None];
        // Connect to the lower roles.
        for peer in Role::ALL.into_iter().filter(|p| p.index() < role.index()) {
            let mut stream = connect_retrying(addrs[peer.index()], deadline, options)?;
            stream
                .write_all(&hello(role))
                .map_err(|e| Error::io(format!("greeting {peer}"), e))?;
            streams[peer.index()] = Some(stream);
        }
        // Accept the higher roles.
        let expected = Role::ALL
            .iter()
            .filter(|p| p.index() > role.index())
            .count();
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("listener", e))?;
        let mut accepted = 0;
        while accepted < expected {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let peer = read_hello(&mut stream, role, deadline)?;
                    if streams[peer.index()].is_some() {
                        return Err(Error::malformed(
                            peer,
                            "second connection from the same role",
                        ));
                    }
                    streams[peer.index()] = Some(stream);
                    accepted += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        let missing = Role::ALL
                            .into_iter()
                            .find(|p| p.index() > role.index() && streams[p.index()].is_none())
                            .unwrap_or(role);
                        return Err(Error::Timeout {
                            peer: missing,
                            after: options.connect_timeout,
                        });
                    }
                    thread::sleep(options.retry_interval.min(Duration::from_millis(10)));
                }
                Err(e) => return Err(Error::io("accepting a peer", e)),
            }
        }
        let mut peers: [Option<Peer>; 3] = [None, None, None];
        for (i, stream) in streams.into_iter().enumerate() {
            let (Some(stream), Some(peer)) = (stream, Role::from_index(i)) else {
                continue;
            };
            peers[i] = Some(start_peer(stream, peer, options)?);
        }
        Ok(TcpTransport { role, peers })
    }
}

fn hello(role: Role) -> [u8; 8] {
    let mut h = [0_u8; 8];
    h[..4].copy_from_slice(&HELLO_MAGIC);
    h[4] = HELLO_VERSION;
    h[5] = role.index() as u8;
    h
}

fn read_hello(stream: &mut TcpStream, me: Role, deadline: Instant) -> Result<Role> {
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(wait)))
        .map_err(|e| Error::io("configuring a connection", e))?;
    let mut h = [0_u8; 8];
    stream
        .read_exact(&mut h)
        .map_err(|e| Error::io("reading a peer's hello", e))?;
    let peer = Role::from_index(h[5] as usize).unwrap_or(me);
    if h[..4] != HELLO_MAGIC || h[4] != HELLO_VERSION || peer.index() <= me.index() {
        return Err(Error::malformed(peer, "bad hello"));
    }
    stream
        .set_read_timeout(None)
        .map_err(|e| Error::io("configuring a connection", e))?;
    Ok(peer)
}

fn connect_retrying(
    addr: SocketAddr,
    deadline: Instant,
    options: &TcpOptions,
) -> Result<TcpStream> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(10))) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() + options.retry_interval >= deadline => {
                return Err(Error::io(format!("connecting to {addr}"), e));
            }
            Err(_) => thread::sleep(options.retry_interval),
        }
    }
}

fn start_peer(stream: TcpStream, peer: Role, options: &TcpOptions) -> Result<Peer> {
    stream
        .set_nodelay(true)
        .and_then(|()| stream.set_write_timeout(Some(options.write_timeout)))
        .map_err(|e| Error::io("configuring a connection", e))?;
    let reader = stream
        .try_clone()
        .map_err(|e| Error::io("cloning a connection", e))?;
    let (tx, rx) = sync_channel(QUEUE);
    let max = options.max_frame;
    thread::Builder::new()
        .name(format!("veil-rtas-read-{peer}"))
        .spawn(move || read_loop(reader, peer, max, &tx))
        .map_err(|e| Error::io("starting a reader thread", e))?;
    Ok(Peer { stream, rx })
}

/// Reads frames until the connection ends or misbehaves; the last item sent is the error.
fn read_loop(mut stream: TcpStream, peer: Role, max: u64, tx: &SyncSender<Result<Vec<u8>>>) {
    loop {
        let mut len = [0_u8; 4];
        let item = match stream.read_exact(&mut len) {
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Err(Error::Disconnected { peer }),
            Err(e) => Err(Error::io(format!("reading from {peer}"), e)),
            Ok(()) => {
                let n = u64::from(u32::from_le_bytes(len));
                if n > max {
                    Err(Error::FrameTooLarge { peer, len: n, max })
                } else {
                    // Read into reserved capacity: no zero-filling of a buffer about to be
                    // overwritten.
                    let mut buf = Vec::with_capacity(n as usize);
                    match (&mut stream).take(n).read_to_end(&mut buf) {
                        Ok(got) if got as u64 == n => Ok(buf),
                        Ok(_) => Err(Error::malformed(peer, "connection closed inside a frame")),
                        Err(e) => Err(Error::io(format!("reading from {peer}"), e)),
                    }
                }
            }
        };
        let stop = item.is_err();
        if tx.send(item).is_err() || stop {
            let _ignored = stream.shutdown(Shutdown::Read);
            return;
        }
    }
}

impl Transport for TcpTransport {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, to: Role, msg: Vec<u8>) -> Result<()> {
        let peer = self.peers[to.index()]
            .as_mut()
            .ok_or(Error::Disconnected { peer: to })?;
        let len = u32::try_from(msg.len())
            .map_err(|_| Error::config(format!("frame of {} bytes is too large", msg.len())))?;
        let write = peer
            .stream
            .write_all(&len.to_le_bytes())
            .and_then(|()| peer.stream.write_all(&msg));
        write.map_err(|e| match e.kind() {
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                Error::Disconnected { peer: to }
            }
            _ => Error::io(format!("sending to {to}"), e),
        })
    }

    fn recv(&mut self, from: Role, timeout: Duration) -> Result<Vec<u8>> {
        let peer = self.peers[from.index()]
            .as_ref()
            .ok_or(Error::Disconnected { peer: from })?;
        match peer.rx.recv_timeout(timeout) {
            Ok(item) => item,
            Err(RecvTimeoutError::Timeout) => Err(Error::Timeout {
                peer: from,
                after: timeout,
            }),
            Err(RecvTimeoutError::Disconnected) => Err(Error::Disconnected { peer: from }),
        }
    }
}

impl Drop for TcpTransport {
    fn drop(&mut self) {
        for peer in self.peers.iter().flatten() {
            let _ignored = peer.stream.shutdown(Shutdown::Both);
        }
    }
}
