//! Fixtures of the `rtas_frame` target: a scripted transport that hands a party the messages of
//! a fuzz input, the fixed programs each party runs, and the input format.
//!
//! Input format: one scenario byte, then messages `[from][len: u16 LE][len bytes]` (a shorter
//! tail is taken as is). `from % 3` is the sending role; each message joins that peer's queue in
//! order. The party under test reads its queues through [`Scripted`]: a receive from an empty
//! queue fails with `Error::Disconnected`, so every run ends, and what the party sends is dropped.
//!
//! Scenarios (`byte % 5`):
//! 0. P0 runs [`holder_program`] in a [`Session`] and finishes it;
//! 1. the same as P1;
//! 2. the helper: `Helper::new`, then `serve`;
//! 3. P1 in `run_party_owner` (P0 announces the data sizes and a settings digest);
//! 4. P0 in `run_party_owner` with [`owner_data`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ndarray::Array2;
use veil_rtas::model::{Dataset, Mode, ModelSpec, TrainConfig, run_party_owner};
use veil_rtas::transport::Transport;
use veil_rtas::{
    Conv2d, Error, Function, Helper, Party, Product, ProtocolConfig, Public, Result, Role, Session,
};

/// Number of scenarios.
pub const SCENARIOS: u8 = 5;

/// The protocol settings of every scenario: the default fixed point, and a triple limit of
/// 2^16 words (the default 2^26 lets P0 ask the helper, legitimately, for half a gigabyte).
pub fn protocol() -> ProtocolConfig {
    ProtocolConfig {
        timeout: Duration::from_secs(5),
        max_triple_words: 1 << 16,
        ..ProtocolConfig::default()
    }
}

/// The settings of the `run_party_owner` scenarios for `features` features (the same for P0
/// and P1, so that an honest run agrees on the digest).
pub fn owner_config(features: usize) -> TrainConfig {
    TrainConfig {
        model: ModelSpec::Logistic { features },
        mode: Mode::Rtas,
        epochs: 1,
        batch_size: 4,
        learning_rate: 0.5,
        seed: 3,
        eval_each_epoch: false,
    }
}

/// P0's data in scenario 4: 8 training and 4 test samples of 3 features.
pub fn owner_data() -> (Dataset, Dataset) {
    let make = |n: usize, off: usize| Dataset {
        x: Array2::from_shape_fn((n, 3), |(i, j)| ((i + off) * 3 + j) as f64 * 0.1 - 1.0),
        labels: (0..n).map(|i| (i + off) % 2).collect(),
    };
    (make(8, 0), make(4, 8))
}

/// The sessions' program: inputs by both holders, an open, reveals both ways, a matrix and an
/// element-wise product, a convolution and an element-wise product in one round, and helper
/// calls with element-wise and row-wise functions.
pub fn holder_program(s: &mut Session) -> Result<()> {
    let fp = s.fixed_point();
    let me = s.party();
    let value = |rows: usize, cols: usize| {
        let x = Array2::from_shape_fn((rows, cols), |(i, j)| (i as f64 - j as f64) * 0.25);
        Public::encode(x.view(), fp)
    };
    let own = |owner: Party, v: &Public| (me == owner).then_some(v).cloned();
    let (xv, yv) = (value(3, 4)?, value(4, 2)?);
    let x = s.input(Party::P0, own(Party::P0, &xv).as_ref(), (3, 4))?;
    let y = s.input(Party::P1, own(Party::P1, &yv).as_ref(), (4, 2))?;
    s.open(&x)?;
    s.reveal_to(&y, Party::P0)?;
    s.reveal_to(&x, Party::P1)?;
    let z = s.matmul(&x, &y)?;
    let h = s.mul(&z, &z)?;
    let conv = Conv2d {
        channels: 1,
        height: 4,
        width: 4,
        filters: 2,
        kernel: 3,
        stride: 1,
        padding: 1,
    };
    let (iv, kv) = (value(2, 16)?, value(9, 2)?);
    let img = s.input(Party::P0, own(Party::P0, &iv).as_ref(), (2, 16))?;
    let ker = s.input(Party::P1, own(Party::P1, &kv).as_ref(), (9, 2))?;
    let raw = s.products_raw(&[
        (Product::Conv(conv), &img, &ker),
        (Product::Hadamard, &z, &h),
    ])?;
    let c = raw.first().ok_or(Error::Aborted)?;
    s.eval(&z, &[Function::Sigmoid, Function::SigmoidGrad])?;
    s.eval(c, &[Function::Softmax])?;
    s.eval(&h, &[Function::Relu, Function::ReluGrad])?;
    Ok(())
}

/// A transport whose incoming messages are fixed in advance.
#[derive(Debug)]
pub struct Scripted {
    role: Role,
    inbox: [VecDeque<Vec<u8>>; 3],
}

impl Scripted {
    /// `role`'s end, with `messages` (sender, bytes) queued per sender in order.
    pub fn new(role: Role, messages: impl IntoIterator<Item = (Role, Vec<u8>)>) -> Self {
        let mut inbox: [VecDeque<Vec<u8>>; 3] = Default::default();
        for (from, m) in messages {
            inbox[from.index()].push_back(m);
        }
        Scripted { role, inbox }
    }
}

impl Transport for Scripted {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, _to: Role, _msg: Vec<u8>) -> Result<()> {
        Ok(())
    }

    fn recv(&mut self, from: Role, _timeout: Duration) -> Result<Vec<u8>> {
        self.inbox[from.index()]
            .pop_front()
            .ok_or(Error::Disconnected { peer: from })
    }
}

/// Messages with their senders.
pub type Messages = Vec<(Role, Vec<u8>)>;

/// Splits a fuzz input into the scenario and the messages (see the module docs).
pub fn parse_input(data: &[u8]) -> Option<(u8, Messages)> {
    let (&scenario, mut rest) = data.split_first()?;
    let mut messages = Vec::new();
    while let Some((&from, tail)) = rest.split_first() {
        let from = Role::from_index(usize::from(from % 3))?;
        let (len, tail) = match tail {
            [a, b, tail @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), tail),
            _ => (tail.len(), &[][..]),
        };
        let (msg, tail) = tail.split_at(len.min(tail.len()));
        messages.push((from, msg.to_vec()));
        rest = tail;
    }
    Some((scenario % SCENARIOS, messages))
}

/// Writes a fuzz input (the inverse of [`parse_input`] for messages under 64 KiB).
pub fn encode_input(scenario: u8, messages: &[(Role, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![scenario];
    for (from, m) in messages {
        out.push(from.index() as u8);
        out.extend_from_slice(&(m.len() as u16).to_le_bytes());
        out.extend_from_slice(m);
    }
    out
}

/// Runs one scenario over the scripted transport; the result is the party's own.
pub fn run(scenario: u8, messages: Messages) -> Result<()> {
    let config = protocol();
    match scenario {
        0 | 1 => {
            let role = if scenario == 0 { Role::P0 } else { Role::P1 };
            let mut s = Session::new(Box::new(Scripted::new(role, messages)), &config)?;
            holder_program(&mut s)?;
            s.finish().map(|_| ())
        }
        2 => Helper::new(Box::new(Scripted::new(Role::P2, messages)), &config)?
            .serve()
            .map(|_| ()),
        3 => run_party_owner(
            Role::P1,
            &config,
            Box::new(Scripted::new(Role::P1, messages)),
            None,
            owner_config,
        )
        .map(|_| ()),
        _ => {
            let (train, test) = owner_data();
            run_party_owner(
                Role::P0,
                &config,
                Box::new(Scripted::new(Role::P0, messages)),
                Some((&train, &test)),
                owner_config,
            )
            .map(|_| ())
        }
    }
}

/// A transport that records what it receives (for making seeds from honest runs).
pub struct Recording<T: Transport> {
    inner: T,
    log: Arc<Mutex<Messages>>,
}

impl<T: Transport> Recording<T> {
    /// Wraps `inner`; the received messages go to `log`.
    pub fn new(inner: T, log: Arc<Mutex<Messages>>) -> Self {
        Recording { inner, log }
    }
}

impl<T: Transport> Transport for Recording<T> {
    fn role(&self) -> Role {
        self.inner.role()
    }

    fn send(&mut self, to: Role, msg: Vec<u8>) -> Result<()> {
        self.inner.send(to, msg)
    }

    fn recv(&mut self, from: Role, timeout: Duration) -> Result<Vec<u8>> {
        let m = self.inner.recv(from, timeout)?;
        if let Ok(mut log) = self.log.lock() {
            log.push((from, m.clone()));
        }
        Ok(m)
    }
}

/// The TCP side of the `rtas_tcp` target: P0's [`veil_rtas::transport::TcpTransport`] accepts
/// two loopback connections whose bytes come from the fuzz input (hello, then length-prefixed
/// frames), and runs [`holder_program`] over them.
pub mod tcp {
    use std::io::Write;
    use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
    use std::sync::OnceLock;
    use std::thread;
    use std::time::Duration;

    use veil_rtas::transport::{Channel, TcpOptions, TcpTransport};
    use veil_rtas::{Result, Role, Session};

    use super::{holder_program, protocol};

    /// The transport settings: short timeouts, and the frame and queue limits the protocol
    /// settings imply ([`TcpOptions::for_protocol`]: the real `max_frame`).
    pub fn options() -> TcpOptions {
        TcpOptions {
            // The listener keeps accepting until this deadline when a connection is dropped
            // (bad hello): short, or every such input costs its whole length.
            connect_timeout: Duration::from_millis(300),
            retry_interval: Duration::from_millis(5),
            handshake_timeout: Duration::from_millis(200),
            write_timeout: Duration::from_millis(200),
            ..TcpOptions::for_protocol(&protocol())
        }
    }

    /// One listener for the whole process (a fresh port per input would exhaust the ephemeral
    /// ports); each input gets a clone of it.
    fn listener() -> &'static TcpListener {
        static LISTENER: OnceLock<TcpListener> = OnceLock::new();
        LISTENER.get_or_init(|| TcpListener::bind("127.0.0.1:0").expect("a loopback port"))
    }

    /// The hello a peer of `role` sends (see `transport/tcp.rs`).
    pub fn hello(role: Role) -> Vec<u8> {
        vec![b'V', b'R', b'T', b'S', 2, role.index() as u8, 0, 0]
    }

    /// A connection's bytes: `hello` and then each frame behind its 4-byte length.
    pub fn stream(hello: &[u8], frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = hello.to_vec();
        for f in frames {
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    /// Input format: `[len: u16 LE][first connection's len bytes][second connection's bytes]`.
    pub fn split(data: &[u8]) -> (&[u8], &[u8]) {
        match data {
            [a, b, rest @ ..] => {
                rest.split_at(usize::from(u16::from_le_bytes([*a, *b])).min(rest.len()))
            }
            _ => (&[], &[]),
        }
    }

    fn harness(e: std::io::Error) -> veil_rtas::Error {
        veil_rtas::Error::Config {
            reason: format!("fuzz harness: {e}"),
        }
    }

    /// Writes the input's two byte strings from two connections to P0, which runs
    /// [`holder_program`]; the result is P0's (or a setup error of the harness).
    pub fn run(first: &[u8], second: &[u8]) -> Result<()> {
        let listener = listener();
        let addr: SocketAddr = listener.local_addr().map_err(harness)?;
        // Connections a previous input left unaccepted.
        if listener.set_nonblocking(true).is_ok() {
            while let Ok((stale, _)) = listener.accept() {
                drop(stale);
            }
        }
        let connect = || -> Result<TcpStream> {
            let s = TcpStream::connect(addr).map_err(harness)?;
            let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
            Ok(s)
        };
        let (c1, c2) = (connect()?, connect()?);
        let bytes = [first.to_vec(), second.to_vec()];
        let writer = thread::spawn(move || {
            for (mut c, b) in [&c1, &c2].into_iter().zip(&bytes) {
                let _ = c.write_all(b);
                let _ = c.shutdown(Shutdown::Write);
            }
            (c1, c2) // kept open (read side) until P0 is done
        });
        let own = listener.try_clone().map_err(harness)?;
        let unused: SocketAddr = ([127, 0, 0, 1], 9).into();
        let result = TcpTransport::with_listener(
            Role::P0,
            own,
            &[addr, unused, unused],
            &options(),
            &Channel::InsecurePlaintext,
        )
        .and_then(|t| {
            let mut s = Session::new(Box::new(t), &protocol())?;
            holder_program(&mut s)?;
            s.finish().map(|_| ())
        });
        let _ = writer.join();
        result
    }
}

/// The `rtas_sizes` target: the size exchange of `run_party_owner` from P1's side, with the
/// settings digest forged to match whatever P0 announces (so that every size reaches the
/// bounds), followed by arbitrary messages.
///
/// Input: a model byte (`% 6`: logistic regression, the digits CNN or the MNIST CNN, each in
/// RTAS or RTAS-fast), three u64 LE sizes (training samples, test samples, features; a short
/// input is zero-padded), then messages in the `rtas_frame` format.
pub mod sizes {
    use veil_rtas::model::{
        CnnSpec, Mode, ModelSpec, TrainConfig, run_party_owner, settings_digest,
    };
    use veil_rtas::{Result, Role};

    use super::{Scripted, parse_input, protocol};

    /// A frame (see veil-rtas's wire format) of `kind` carrying `words` as one row.
    pub fn words_frame(kind: u8, aux: u16, words: &[u64]) -> Vec<u8> {
        let mut f = b"VR".to_vec();
        f.extend_from_slice(&[1, kind, 0, 0]);
        f.extend_from_slice(&aux.to_le_bytes());
        f.extend_from_slice(&1_u32.to_le_bytes());
        f.extend_from_slice(&(words.len() as u32).to_le_bytes());
        for w in words {
            f.extend_from_slice(&w.to_le_bytes());
        }
        f
    }

    /// The settings P1 builds for `features` features under model byte `m`.
    pub fn config(m: u8, features: usize) -> TrainConfig {
        let mode = if m % 2 == 0 {
            Mode::Rtas
        } else {
            Mode::RtasFast
        };
        let model = match (m / 2) % 3 {
            0 => ModelSpec::Logistic { features },
            1 => ModelSpec::Cnn(CnnSpec::digits()),
            _ => ModelSpec::Cnn(CnnSpec::mnist()),
        };
        TrainConfig {
            model,
            mode,
            epochs: 1,
            batch_size: 4,
            learning_rate: 0.5,
            seed: 3,
            eval_each_epoch: false,
        }
    }

    /// Runs P1 on the input; the result is P1's.
    pub fn run(data: &[u8]) -> Result<()> {
        let m = data.first().copied().unwrap_or(0);
        let mut sizes = [0_u64; 3];
        for (i, s) in sizes.iter_mut().enumerate() {
            let mut b = [0_u8; 8];
            for (j, byte) in b.iter_mut().enumerate() {
                *byte = data.get(1 + 8 * i + j).copied().unwrap_or(0);
            }
            *s = u64::from_le_bytes(b);
        }
        let features = usize::try_from(sizes[2]).unwrap_or(usize::MAX);
        let digest = settings_digest(&config(m, features));
        let seed = words_frame(1, 16, &[1, 2, 3, 4]);
        let mut messages = vec![
            (Role::P0, seed.clone()),
            (Role::P2, seed),
            (
                Role::P0,
                words_frame(2, 0, &[sizes[0], sizes[1], sizes[2], digest]),
            ),
        ];
        let rest = data.get(25..).unwrap_or(&[]);
        let mut tail = vec![0_u8];
        tail.extend_from_slice(rest);
        if let Some((_, more)) = parse_input(&tail) {
            messages.extend(more);
        }
        run_party_owner(
            Role::P1,
            &protocol(),
            Box::new(Scripted::new(Role::P1, messages)),
            None,
            |f| config(m, f),
        )
        .map(|_| ())
    }
}
