//! The TCP server: std threads, every resource bounded.
//!
//! - One acceptor thread hands each connection to a bounded queue (`max_pending`); when it is
//!   full the connection gets a `Busy` error message (from a separate refuser thread, so the
//!   acceptor never waits on a client) and is closed.
//! - `max_connections` connection threads take connections from the queue and move whole
//!   messages: a request must start within `idle_timeout` and arrive whole within
//!   `read_timeout` of its first byte; an answer must be written within `write_timeout`; a
//!   connection may read at most `max_connection_bytes` and ask `max_requests_per_connection`
//!   questions. A slow or silent client therefore holds a connection thread, never a CPU.
//! - `workers` compute threads answer queries and parse uploaded keys, so at most `workers` of
//!   them are computed at once whatever the number of clients.
//! - Key uploads (lattice modes, tens to hundreds of MB) have their own limit per service
//!   (derived from the model's parameters), their own deadline (`key_read_timeout`), and a
//!   budget of bytes being received or parsed at once (`max_upload_bytes`): an upload that
//!   would exceed it is refused with `Busy` from its header, before its payload is read.
//!
//! The model is read-only and shared ([`Arc<Service>`]); the only per-client state is the
//! uploaded keys, a cache the client refills on `UnknownKey`, so servers scale out behind any
//! TCP load balancer.
//!
//! Memory bound: each connection thread holds at most one query
//! (`Service::max_request_payload`), allocated as it arrives, plus one answer; key uploads in
//! flight at most `max_upload_bytes` (twice while parsed); the key registry its cap plus one key
//! set per worker in use.

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

use super::handler::{Reply, Service};
use super::io::{Incoming, read_message, write_all_within};
use super::wire::{ErrorCode, HEADER_LEN, Header, Kind};

/// Settings of a [`Server`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Compute threads: queries answered at once (default: the machine's parallelism).
    pub workers: usize,
    /// Threads of each compute worker's own rayon pool, which one query's data-parallel work
    /// (RNS limbs, matrix rows) may use (default 1: `workers` queries in parallel fill the
    /// cores). Each worker answers inside its own pool: in rayon's one global pool, workers'
    /// jobs would queue behind each other (with `RAYON_NUM_THREADS=1`, one query at a time).
    pub threads_per_worker: usize,
    /// Connection threads: clients connected at once (default 64).
    pub max_connections: usize,
    /// Accepted connections waiting for a connection thread; beyond, `Busy` (default 64).
    pub max_pending: usize,
    /// Longest wait for the first byte of the next request (default 30 s).
    pub idle_timeout: Duration,
    /// Longest time for a whole request from its first byte (default 60 s).
    pub read_timeout: Duration,
    /// Longest time to write a whole answer (default 60 s).
    pub write_timeout: Duration,
    /// Most bytes read from one connection (default 1 GiB).
    pub max_connection_bytes: u64,
    /// Most requests on one connection (default 10,000).
    pub max_requests_per_connection: u64,
    /// Longest time for a whole key upload, from its first byte (default 600 s: 400 MB at
    /// 6 MB/s).
    pub key_read_timeout: Duration,
    /// Most bytes of key uploads received or parsed at once; must hold the largest upload
    /// (default 1 GiB).
    pub max_upload_bytes: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            workers: thread::available_parallelism().map_or(1, |n| n.get()),
            threads_per_worker: 1,
            max_connections: 64,
            max_pending: 64,
            idle_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(60),
            max_connection_bytes: 1 << 30,
            max_requests_per_connection: 10_000,
            key_read_timeout: Duration::from_secs(600),
            max_upload_bytes: 1 << 30,
        }
    }
}

impl ServerConfig {
    fn validate(&self) -> Result<()> {
        if self.workers == 0
            || self.threads_per_worker == 0
            || self.max_connections == 0
            || self.max_pending == 0
        {
            return Err(Error::Invalid {
                reason: "workers, threads_per_worker, max_connections and max_pending must be at least 1",
            });
        }
        if [
            self.idle_timeout,
            self.read_timeout,
            self.write_timeout,
            self.key_read_timeout,
        ]
        .contains(&Duration::ZERO)
        {
            return Err(Error::Invalid {
                reason: "timeouts must be above zero",
            });
        }
        Ok(())
    }
}

/// Counters of a running server (monotonic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections accepted and queued.
    pub accepted: u64,
    /// Connections refused with `Busy`.
    pub refused: u64,
    /// Answers sent (info and queries).
    pub answered: u64,
    /// Error messages sent (malformed, too large, invalid, ...).
    pub errors: u64,
    /// Connections ended by a deadline (silent or slow clients, or clients that stop reading).
    pub timeouts: u64,
    /// Key uploads refused because `max_upload_bytes` were already in flight.
    pub uploads_refused: u64,
    /// The key registry's counters.
    pub keys: super::keys::RegistryStats,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    answered: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    uploads_refused: AtomicU64,
}

struct Job {
    kind: Kind,
    payload: Vec<u8>,
    reply: SyncSender<Reply>,
}

struct Shared {
    service: Arc<Service>,
    config: ServerConfig,
    stop: AtomicBool,
    counters: Counters,
    /// Open connections, to end them on shutdown.
    open: Mutex<HashMap<u64, TcpStream>>,
    /// Bytes of key uploads being received or parsed.
    uploading: AtomicU64,
}

/// A share of `max_upload_bytes`, returned on drop.
struct UploadSlot<'a> {
    uploading: &'a AtomicU64,
    bytes: u64,
}

impl<'a> UploadSlot<'a> {
    fn take(uploading: &'a AtomicU64, bytes: u64, max: u64) -> Option<Self> {
        uploading
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                now.checked_add(bytes).filter(|&total| total <= max)
            })
            .ok()
            .map(|_| UploadSlot { uploading, bytes })
    }
}

impl Drop for UploadSlot<'_> {
    fn drop(&mut self) {
        self.uploading.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

/// A running server; dropping it (or [`Server::shutdown`]) stops it.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|source| Error::Io {
            path: "starting a server thread".into(),
            source,
        })
}

impl Server {
    /// Starts serving `service` on `listener` (bind it first, for example to port 0).
    pub fn start(
        listener: TcpListener,
        service: Arc<Service>,
        config: ServerConfig,
    ) -> Result<Self> {
        config.validate()?;
        if service.max_request_payload(Kind::Keys) > config.max_upload_bytes {
            return Err(Error::Invalid {
                reason: "max_upload_bytes must hold the largest key upload of the service",
            });
        }
        let addr = listener.local_addr().map_err(|source| Error::Io {
            path: "listener".into(),
            source,
        })?;
        let shared = Arc::new(Shared {
            service,
            config: config.clone(),
            stop: AtomicBool::new(false),
            counters: Counters::default(),
            open: Mutex::new(HashMap::new()),
            uploading: AtomicU64::new(0),
        });
        let mut threads = Vec::new();
        let (job_tx, job_rx) = sync_channel::<Job>(config.max_connections);
        let job_rx = Arc::new(Mutex::new(job_rx));
        for k in 0..config.workers {
            let (rx, sh) = (Arc::clone(&job_rx), Arc::clone(&shared));
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(config.threads_per_worker)
                .thread_name(move |i| format!("cryptorec-worker-{k}-rayon-{i}"))
                .build()
                .map_err(|e| Error::Io {
                    path: "starting a compute worker's thread pool".into(),
                    source: std::io::Error::other(e),
                })?;
            threads.push(spawn(&format!("cryptorec-worker-{k}"), move || {
                pool.install(|| compute_loop(&rx, &sh))
            })?);
        }
        let (conn_tx, conn_rx) = sync_channel::<(u64, TcpStream)>(config.max_pending);
        let conn_rx = Arc::new(Mutex::new(conn_rx));
        for k in 0..config.max_connections {
            let (rx, sh, jobs) = (Arc::clone(&conn_rx), Arc::clone(&shared), job_tx.clone());
            threads.push(spawn(&format!("cryptorec-conn-{k}"), move || {
                connection_loop(&rx, &sh, &jobs)
            })?);
        }
        drop(job_tx);
        let (refuse_tx, refuse_rx) = sync_channel::<TcpStream>(64);
        threads.push(spawn("cryptorec-refuser", move || refuse_loop(&refuse_rx))?);
        let sh = Arc::clone(&shared);
        threads.push(spawn("cryptorec-accept", move || {
            accept_loop(&listener, &sh, &conn_tx, &refuse_tx)
        })?);
        Ok(Server {
            addr,
            shared,
            threads,
        })
    }

    /// Binds `addr` and starts serving.
    pub fn bind(addr: &str, service: Arc<Service>, config: ServerConfig) -> Result<Self> {
        let listener = TcpListener::bind(addr).map_err(|source| Error::Io {
            path: format!("binding {addr}"),
            source,
        })?;
        Server::start(listener, service, config)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters so far.
    pub fn stats(&self) -> ServerStats {
        let c = &self.shared.counters;
        ServerStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            answered: c.answered.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            timeouts: c.timeouts.load(Ordering::Relaxed),
            uploads_refused: c.uploads_refused.load(Ordering::Relaxed),
            keys: self.shared.service.registry().stats(),
        }
    }

    /// Blocks until the server stops (it runs until [`Server::shutdown`] from another handle,
    /// or forever: `veil cryptorec serve`).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ignored = t.join();
        }
    }

    /// Stops accepting, ends every open connection and waits for the threads.
    pub fn shutdown(mut self) {
        self.stop_threads();
    }

    fn stop_threads(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor.
        let _ignored = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for s in lock(&self.shared.open).values() {
            let _ignored = s.shutdown(Shutdown::Both);
        }
        for t in self.threads.drain(..) {
            let _ignored = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop_threads();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    shared: &Shared,
    queue: &SyncSender<(u64, TcpStream)>,
    refuse: &SyncSender<TcpStream>,
) {
    let mut next_id = 0_u64;
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors or a connection reset before accept: keep serving.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        next_id += 1;
        match queue.try_send((next_id, stream)) {
            Ok(()) => {
                shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full((_, stream))) => {
                shared.counters.refused.fetch_add(1, Ordering::Relaxed);
                // If even the refuser is behind, the connection is just closed.
                let _ignored = refuse.try_send(stream);
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}

/// Tells a refused client why, then closes after draining what it sent (closing with unread
/// bytes would reset the connection and lose the message).
fn refuse_loop(rx: &Receiver<TcpStream>) {
    let busy = Reply::error(ErrorCode::Busy, "every connection slot is taken", true);
    while let Ok(mut stream) = rx.recv() {
        let _ignored = write_all_within(&mut stream, &busy.message, Duration::from_millis(200));
        let _ignored = stream.shutdown(Shutdown::Write);
        let _ignored = stream.set_read_timeout(Some(Duration::from_millis(100)));
        let mut sink = [0_u8; 4096];
        for _ in 0..16 {
            match std::io::Read::read(&mut stream, &mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

fn compute_loop(rx: &Mutex<Receiver<Job>>, shared: &Shared) {
    loop {
        let job = lock(rx).recv();
        let Ok(job) = job else { return };
        // A handler bug must not cost the pool a worker: it becomes an error reply.
        let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shared.service.answer(job.kind, &job.payload)
        }));
        let reply = answered.unwrap_or_else(|_| {
            Reply::error(
                ErrorCode::Invalid,
                "internal error answering the request",
                false,
            )
        });
        drop(job.payload);
        let _ignored = job.reply.send(reply);
    }
}

fn connection_loop(
    rx: &Mutex<Receiver<(u64, TcpStream)>>,
    shared: &Shared,
    jobs: &SyncSender<Job>,
) {
    loop {
        let next = lock(rx).recv();
        let Ok((id, stream)) = next else { return };
        if shared.stop.load(Ordering::SeqCst) {
            let _ignored = stream.shutdown(Shutdown::Both);
            continue;
        }
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.open).insert(id, clone);
        }
        serve_connection(stream, shared, jobs);
        lock(&shared.open).remove(&id);
    }
}

fn serve_connection(mut stream: TcpStream, shared: &Shared, jobs: &SyncSender<Job>) {
    let cfg = &shared.config;
    let counters = &shared.counters;
    let _ignored = stream.set_nodelay(true);
    let mut read_so_far = 0_u64;
    for _ in 0..cfg.max_requests_per_connection {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let left = cfg.max_connection_bytes.saturating_sub(read_so_far);
        if left < HEADER_LEN as u64 {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            let spent = Reply::error(
                ErrorCode::TooLarge,
                "this connection's byte budget is spent: reconnect",
                true,
            );
            let _ignored = write_all_within(&mut stream, &spent.message, Duration::from_secs(1));
            break;
        }
        let limit = |kind: Kind| {
            shared
                .service
                .max_request_payload(kind)
                .min(left.saturating_sub(HEADER_LEN as u64))
        };
        let first_by = Instant::now() + cfg.idle_timeout;
        let mut slot = None;
        let mut busy = false;
        let admit = |h: &Header| {
            if h.kind != Kind::Keys {
                return Ok(cfg.read_timeout);
            }
            slot = UploadSlot::take(&shared.uploading, u64::from(h.len), cfg.max_upload_bytes);
            if slot.is_none() {
                busy = true;
                return Err(Error::TooLarge {
                    what: "key uploads in flight",
                    len: u64::from(h.len),
                    max: cfg.max_upload_bytes,
                });
            }
            Ok(cfg.key_read_timeout)
        };
        let incoming = read_message(
            &mut stream,
            first_by,
            cfg.idle_timeout,
            cfg.read_timeout,
            limit,
            admit,
        );
        let reply = match incoming {
            Ok(Incoming::Closed) => break,
            Ok(Incoming::Message(kind, payload)) => {
                read_so_far += (HEADER_LEN + payload.len()) as u64;
                if matches!(kind, Kind::Query | Kind::Keys) {
                    compute(jobs, kind, payload)
                } else {
                    shared.service.answer(kind, &payload)
                }
            }
            Err(_) if busy => {
                counters.uploads_refused.fetch_add(1, Ordering::Relaxed);
                Reply::error(
                    ErrorCode::Busy,
                    "other key uploads are in progress: upload again later",
                    true,
                )
            }
            Err(Error::Io { .. }) => break,
            Err(e) => {
                if matches!(e, Error::Timeout { .. }) {
                    counters.timeouts.fetch_add(1, Ordering::Relaxed);
                }
                Reply::error(ErrorCode::for_error(&e), &e.to_string(), true)
            }
        };
        let is_error = reply.message.get(5) == Some(&Kind::Error.code());
        let counter = if is_error {
            &counters.errors
        } else {
            &counters.answered
        };
        counter.fetch_add(1, Ordering::Relaxed);
        // An error reply to a peer that may be stuck gets a short deadline.
        let write_timeout = if reply.close {
            cfg.write_timeout.min(Duration::from_secs(1))
        } else {
            cfg.write_timeout
        };
        match write_all_within(&mut stream, &reply.message, write_timeout) {
            Ok(()) => {}
            Err(e) => {
                if matches!(e, Error::Timeout { .. }) {
                    counters.timeouts.fetch_add(1, Ordering::Relaxed);
                }
                break;
            }
        }
        drop(slot);
        if reply.close {
            break;
        }
    }
    let _ignored = stream.shutdown(Shutdown::Both);
}

fn compute(jobs: &SyncSender<Job>, kind: Kind, payload: Vec<u8>) -> Reply {
    let (tx, rx) = sync_channel(1);
    let job = Job {
        kind,
        payload,
        reply: tx,
    };
    if jobs.send(job).is_err() {
        return Reply::error(ErrorCode::Busy, "the server is stopping", true);
    }
    rx.recv()
        .unwrap_or_else(|_| Reply::error(ErrorCode::Busy, "the server is stopping", true))
}
