//! A TCP mesh of the three parties for separate OS processes.
//!
//! Each party listens on its own address; for every pair, the higher role connects to the lower
//! one (retrying until `connect_timeout`), introduces itself with an 8-byte hello (`"VRTS"`,
//! version, role, two zero bytes) and runs the channel's handshake (Noise by default, see
//! [`Channel`]). Frames travel behind a 4-byte little-endian length. One reader thread per
//! connection moves frames into a queue, so that two parties sending large frames to each other
//! at the same time cannot deadlock on full socket buffers, and a receive waits on that queue with
//! the caller's timeout.
//!
//! Bounds against a hostile or broken peer: a frame longer than `max_frame` ends the connection
//! before anything is allocated; the queue of one connection holds at most `max_buffered` bytes
//! (the reader stops reading, so a peer that floods only fills its own socket buffers and then
//! runs into its write deadline); every message must be written within `write_timeout` as a
//! whole; and the listener handles each incoming connection on its own short-lived thread with a
//! deadline, drops a bad hello, a failed handshake, a duplicate role or a silent connection, and
//! keeps accepting until every peer is there or `connect_timeout` has passed.

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use super::Transport;
use super::channel::{Channel, Link, handshake, read_exact};
use crate::error::{Error, Result};
use crate::role::Role;
use crate::session::ProtocolConfig;

const HELLO_MAGIC: [u8; 4] = *b"VRTS";
const HELLO_VERSION: u8 = 2;
/// Bytes a queued frame counts for beyond its length (so that empty frames are bounded too).
const FRAME_OVERHEAD: u64 = 64;
/// Incoming connections handled at once while the mesh is being set up; more are refused.
const MAX_PENDING: usize = 8;

/// Settings of the TCP transport.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TcpOptions {
    /// How long to keep trying to reach the peers (and to wait for them to connect).
    pub connect_timeout: Duration,
    /// Pause between two connection attempts.
    pub retry_interval: Duration,
    /// Longest time a connecting peer may take for its hello and handshake.
    pub handshake_timeout: Duration,
    /// Largest frame accepted from a peer, in bytes (see [`ProtocolConfig::max_message_bytes`]).
    pub max_frame: u64,
    /// Most bytes of received frames queued per connection before the reader stops reading.
    pub max_buffered: u64,
    /// Longest time one whole message may take to write (a peer that stops reading, or reads a
    /// few bytes now and then).
    pub write_timeout: Duration,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions::for_protocol(&ProtocolConfig::default())
    }
}

impl TcpOptions {
    /// Options whose frame limit is the protocol's largest message, and whose queue holds two of
    /// them (a product call sends its two openings before it receives the peer's).
    pub fn for_protocol(protocol: &ProtocolConfig) -> Self {
        let max_frame = protocol.max_message_bytes();
        TcpOptions {
            connect_timeout: Duration::from_secs(30),
            retry_interval: Duration::from_millis(50),
            handshake_timeout: Duration::from_secs(10),
            max_frame,
            max_buffered: max_frame.saturating_mul(2),
            write_timeout: Duration::from_secs(120),
        }
    }

    fn validate(&self) -> Result<()> {
        if self.max_frame > u64::from(u32::MAX) || self.max_buffered < self.max_frame {
            return Err(Error::config(
                "TcpOptions: max_frame must fit 32 bits and max_buffered must hold one frame",
            ));
        }
        Ok(())
    }
}

/// The bytes queued by one connection's reader and not yet received.
struct Budget {
    used: Mutex<u64>,
    room: Condvar,
    limit: u64,
    closed: AtomicBool,
}

impl Budget {
    fn lock(&self) -> MutexGuard<'_, u64> {
        self.used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until `n` more bytes fit (always admits into an empty queue); false when closed.
    fn reserve(&self, n: u64) -> bool {
        let mut used = self.lock();
        while *used > 0 && used.saturating_add(n) > self.limit {
            if self.closed.load(Ordering::Relaxed) {
                return false;
            }
            used = self
                .room
                .wait_timeout(used, Duration::from_millis(200))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        *used += n;
        true
    }

    fn release(&self, n: u64) {
        let mut used = self.lock();
        *used = used.saturating_sub(n);
        self.room.notify_all();
    }
}

struct Peer {
    stream: TcpStream,
    link: Link,
    send_nonce: u64,
    rx: Receiver<Result<Vec<u8>>>,
    budget: Arc<Budget>,
}

/// One party's end of a TCP mesh.
pub struct TcpTransport {
    role: Role,
    peers: [Option<Peer>; 3],
    write_timeout: Duration,
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
    pub fn connect(
        role: Role,
        addrs: &[SocketAddr; 3],
        options: &TcpOptions,
        channel: &Channel,
    ) -> Result<Self> {
        let own = addrs[role.index()];
        let listener =
            TcpListener::bind(own).map_err(|e| Error::io(format!("binding {own}"), e))?;
        TcpTransport::with_listener(role, listener, addrs, options, channel)
    }

    /// Like [`TcpTransport::connect`] with a listener bound beforehand (for example on port 0).
    pub fn with_listener(
        role: Role,
        listener: TcpListener,
        addrs: &[SocketAddr; 3],
        options: &TcpOptions,
        channel: &Channel,
    ) -> Result<Self> {
        options.validate()?;
        let deadline = Instant::now() + options.connect_timeout;
        let mut links: [Option<(TcpStream, Link)>; 3] = [None, None, None];
        // Connect to the lower roles.
        for peer in Role::ALL.into_iter().filter(|p| p.index() < role.index()) {
            links[peer.index()] = Some(dial(role, peer, addrs, options, channel, deadline)?);
        }
        accept_higher(role, &listener, options, channel, deadline, &mut links)?;
        let mut peers: [Option<Peer>; 3] = [None, None, None];
        for (i, link) in links.into_iter().enumerate() {
            let (Some((stream, link)), Some(peer)) = (link, Role::from_index(i)) else {
                continue;
            };
            peers[i] = Some(start_peer(stream, link, peer, options)?);
        }
        Ok(TcpTransport {
            role,
            peers,
            write_timeout: options.write_timeout,
        })
    }
}

/// Connects to a lower role, retrying (a refused connection or a failed handshake) until the
/// deadline.
fn dial(
    me: Role,
    peer: Role,
    addrs: &[SocketAddr; 3],
    options: &TcpOptions,
    channel: &Channel,
    deadline: Instant,
) -> Result<(TcpStream, Link)> {
    let addr = addrs[peer.index()];
    loop {
        let attempt = (|| {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut stream = TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(10)))
                .map_err(|e| Error::io(format!("connecting to {addr}"), e))?;
            let by = (Instant::now() + options.handshake_timeout).min(deadline);
            set_read_deadline(&stream, by)?;
            let h = hello(me);
            super::channel::write_all_by(&mut stream, &h, by, peer)?;
            let link = handshake(&mut stream, channel, peer, true, &h, by)?;
            stream
                .set_read_timeout(None)
                .map_err(|e| Error::io("configuring a connection", e))?;
            Ok((stream, link))
        })();
        match attempt {
            Ok(done) => return Ok(done),
            Err(e) if Instant::now() + options.retry_interval >= deadline => return Err(e),
            Err(_) => thread::sleep(options.retry_interval),
        }
    }
}

/// Accepts the higher roles: each connection is greeted on its own thread; the first that
/// completes the handshake for a role wins, everything else is dropped.
fn accept_higher(
    me: Role,
    listener: &TcpListener,
    options: &TcpOptions,
    channel: &Channel,
    deadline: Instant,
    links: &mut [Option<(TcpStream, Link)>; 3],
) -> Result<()> {
    let expected: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|p| p.index() > me.index())
        .collect();
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("listener", e))?;
    let (tx, rx) = channel_pair();
    let mut pending = 0_usize;
    let mut rejected: VecDeque<String> = VecDeque::new();
    while expected.iter().any(|p| links[p.index()].is_none()) {
        while let Ok(outcome) = rx.try_recv() {
            pending = pending.saturating_sub(1);
            match outcome {
                Ok((peer, stream, link)) if links[peer.index()].is_none() => {
                    links[peer.index()] = Some((stream, link));
                }
                Ok((peer, stream, _)) => {
                    let _ignored = stream.shutdown(Shutdown::Both);
                    remember(&mut rejected, format!("second connection claiming {peer}"));
                }
                Err(e) => remember(&mut rejected, e.to_string()),
            }
        }
        if !expected.iter().any(|p| links[p.index()].is_none()) {
            break;
        }
        match listener.accept() {
            Ok((stream, _)) if pending < MAX_PENDING => {
                pending += 1;
                let (tx, channel) = (tx.clone(), channel.clone());
                let by = (Instant::now() + options.handshake_timeout).min(deadline);
                let spawned =
                    thread::Builder::new()
                        .name("veil-rtas-greet".into())
                        .spawn(move || {
                            let _ignored = tx.send(greet(stream, me, &channel, by));
                        });
                if spawned.is_err() {
                    pending -= 1;
                }
            }
            Ok((stream, _)) => {
                let _ignored = stream.shutdown(Shutdown::Both);
                remember(&mut rejected, "too many connections at once".into());
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    let missing = expected
                        .iter()
                        .copied()
                        .find(|p| links[p.index()].is_none())
                        .unwrap_or(me);
                    if let Some(why) = rejected.back() {
                        return Err(Error::config(format!(
                            "{missing} did not connect within {:?}; last connection dropped: {why}",
                            options.connect_timeout
                        )));
                    }
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
    Ok(())
}

type Greeted = Result<(Role, TcpStream, Link)>;

fn channel_pair() -> (std::sync::mpsc::Sender<Greeted>, Receiver<Greeted>) {
    channel()
}

fn remember(list: &mut VecDeque<String>, why: String) {
    if list.len() == 4 {
        list.pop_front();
    }
    list.push_back(why);
}

/// Reads the hello of an incoming connection and runs the handshake, all before `by`.
fn greet(mut stream: TcpStream, me: Role, channel: &Channel, by: Instant) -> Greeted {
    let run = (|| {
        stream
            .set_nonblocking(false)
            .map_err(|e| Error::io("configuring a connection", e))?;
        set_read_deadline(&stream, by)?;
        let mut h = [0_u8; 8];
        read_exact(&mut stream, me, &mut h)?;
        let peer = Role::from_index(usize::from(h[5]))
            .filter(|p| p.index() > me.index())
            .ok_or_else(|| Error::malformed(me, "bad hello"))?;
        if h[..4] != HELLO_MAGIC || h[4] != HELLO_VERSION || h[6..] != [0, 0] {
            return Err(Error::malformed(peer, "bad hello"));
        }
        let link = handshake(&mut stream, channel, peer, false, &h, by)?;
        stream
            .set_read_timeout(None)
            .map_err(|e| Error::io("configuring a connection", e))?;
        Ok((peer, link))
    })();
    match run {
        Ok((peer, link)) => Ok((peer, stream, link)),
        Err(e) => {
            let _ignored = stream.shutdown(Shutdown::Both);
            Err(e)
        }
    }
}

fn set_read_deadline(stream: &TcpStream, by: Instant) -> Result<()> {
    let wait = by
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(10));
    stream
        .set_read_timeout(Some(wait))
        .map_err(|e| Error::io("configuring a connection", e))
}

fn hello(role: Role) -> [u8; 8] {
    let mut h = [0_u8; 8];
    h[..4].copy_from_slice(&HELLO_MAGIC);
    h[4] = HELLO_VERSION;
    h[5] = role.index() as u8;
    h
}

fn start_peer(stream: TcpStream, link: Link, peer: Role, options: &TcpOptions) -> Result<Peer> {
    stream
        .set_nodelay(true)
        .map_err(|e| Error::io("configuring a connection", e))?;
    let reader = stream
        .try_clone()
        .map_err(|e| Error::io("cloning a connection", e))?;
    let (tx, rx) = channel();
    let budget = Arc::new(Budget {
        used: Mutex::new(0),
        room: Condvar::new(),
        limit: options.max_buffered,
        closed: AtomicBool::new(false),
    });
    let (max, b, l) = (options.max_frame, Arc::clone(&budget), link.clone());
    thread::Builder::new()
        .name(format!("veil-rtas-read-{peer}"))
        .spawn(move || read_loop(reader, l, peer, max, &b, &tx))
        .map_err(|e| Error::io("starting a reader thread", e))?;
    Ok(Peer {
        stream,
        link,
        send_nonce: 0,
        rx,
        budget,
    })
}

/// Reads frames until the connection ends or misbehaves; the last item sent is the error.
fn read_loop(
    mut stream: TcpStream,
    link: Link,
    peer: Role,
    max: u64,
    budget: &Budget,
    tx: &std::sync::mpsc::Sender<Result<Vec<u8>>>,
) {
    let mut nonce = 0_u64;
    loop {
        let mut admit = |n: u64| {
            if n > max {
                return Err(Error::FrameTooLarge { peer, len: n, max });
            }
            if budget.reserve(n + FRAME_OVERHEAD) {
                Ok(())
            } else {
                Err(Error::Disconnected { peer })
            }
        };
        let item = link.recv(&mut stream, &mut nonce, peer, &mut admit);
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
        let deadline = Instant::now() + self.write_timeout;
        let peer = self.peers[to.index()]
            .as_mut()
            .ok_or(Error::Disconnected { peer: to })?;
        let sent = peer
            .link
            .send(&mut peer.stream, &mut peer.send_nonce, to, &msg, deadline);
        if sent.is_err() {
            // A half-written message leaves the stream unusable.
            let _ignored = peer.stream.shutdown(Shutdown::Write);
        }
        sent.and_then(|()| peer.stream.flush().map_err(|e| Error::io("flushing", e)))
    }

    fn recv(&mut self, from: Role, timeout: Duration) -> Result<Vec<u8>> {
        let peer = self.peers[from.index()]
            .as_ref()
            .ok_or(Error::Disconnected { peer: from })?;
        match peer.rx.recv_timeout(timeout) {
            Ok(item) => {
                if let Ok(bytes) = &item {
                    peer.budget.release(bytes.len() as u64 + FRAME_OVERHEAD);
                }
                item
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout {
                peer: from,
                after: timeout,
            }),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Err(Error::Disconnected { peer: from })
            }
        }
    }
}

impl Drop for TcpTransport {
    fn drop(&mut self) {
        for peer in self.peers.iter().flatten() {
            peer.budget.closed.store(true, Ordering::Relaxed);
            let _ignored = peer.stream.shutdown(Shutdown::Both);
        }
    }
}
