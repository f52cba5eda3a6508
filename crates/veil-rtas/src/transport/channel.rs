//! The channel under the TCP mesh: authenticated encryption with the Noise protocol (default) or,
//! for local tests only, plaintext.
//!
//! **Noise.** Every party has a static X25519 key pair and knows the public keys of the two
//! others (from files, see [`StaticKey`] and `veil rtas keygen`). Each pair of parties runs the
//! handshake `Noise_KK_25519_AESGCM_SHA256` (Noise spec rev. 34, sec. 7.5: both static keys known
//! in advance; two messages), with the 8-byte hello as prologue, so that a connection is accepted
//! only from the holder of the private key of the role it claims, and every byte after the
//! handshake is encrypted and authenticated (AES-256-GCM, a nonce per message and direction: a
//! replayed, dropped, reordered or altered message fails decryption and ends the connection).
//! A frame of n bytes travels as Noise messages of at most 65,535 bytes, each behind a 2-byte
//! length: the first carries the 4-byte frame length and the frame's first bytes, the next ones
//! the rest (encrypted straight from the frame, and decrypted in place into the received frame,
//! so that the only copies are the AEAD's own). The symmetric cipher is ring's assembly
//! AES-256-GCM (snow's `ring-accelerated` resolver; AES-NI/VAES and CLMUL detected at run time):
//! 3.8 GB/s encrypt + decrypt on this machine's EPYC core against 0.66 GB/s for the RustCrypto
//! `aes-gcm` that snow uses without it (docs/rtas.md, "The Noise channel's cost"). Traffic overhead: 16 bytes of tag and 2 of length per 65,517 bytes of frame
//! (0.03%), plus 4 bytes per frame.
//!
//! **Plaintext** (`Channel::InsecurePlaintext`): a 4-byte length and the frame, nothing else;
//! anyone on the path reads the PRG seeds and so every share. Only for tests on one machine.

use core::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use snow::{Builder, StatelessTransportState};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::role::Role;

/// The Noise protocol name (pattern KK, X25519, AES-256-GCM, SHA-256).
pub const NOISE_PARAMS: &str = "Noise_KK_25519_AESGCM_SHA256";
const PROLOGUE: &[u8] = b"veil-rtas/noise/1";
/// Largest Noise message (spec sec. 3).
const NOISE_MAX: usize = 65_535;
const TAG: usize = 16;
/// Frame bytes in one Noise message.
const CHUNK: usize = NOISE_MAX - TAG;
const PRIVATE_HEADER: &str = "veil-rtas noise private key v1";
const PUBLIC_HEADER: &str = "veil-rtas noise public key v1";

/// A 32-byte X25519 private key. Wiped on drop, printed as `<redacted>`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StaticKey([u8; 32]);

impl fmt::Debug for StaticKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticKey(<redacted>)")
    }
}

/// A 32-byte X25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(pub [u8; 32]);

impl StaticKey {
    /// A fresh key pair (private, public) from the operating system's RNG.
    pub fn generate() -> Result<(StaticKey, PublicKey)> {
        let kp = builder()?
            .generate_keypair()
            .map_err(|e| Error::config(format!("generating a Noise key: {e}")))?;
        let private = Zeroizing::new(kp.private);
        Ok((
            StaticKey(to32(&private, "private key")?),
            PublicKey(to32(&kp.public, "public key")?),
        ))
    }

    /// Reads a private key file written by [`StaticKey::write`].
    pub fn read(path: &Path) -> Result<StaticKey> {
        let text = Zeroizing::new(read_text(path)?);
        Ok(StaticKey(parse_key(path, &text, PRIVATE_HEADER)?))
    }

    /// Writes the key as a two-line text file (header, 64 hex digits), readable by the owner only
    /// on Unix; refuses to overwrite an existing file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = Zeroizing::new(format!("{PRIVATE_HEADER}\n{}\n", hex(&self.0)));
        write_new(path, text.as_bytes(), true)
    }
}

impl PublicKey {
    /// Reads a public key file written by [`PublicKey::write`].
    pub fn read(path: &Path) -> Result<PublicKey> {
        Ok(PublicKey(parse_key(
            path,
            &read_text(path)?,
            PUBLIC_HEADER,
        )?))
    }

    /// Writes the key as a two-line text file; refuses to overwrite an existing file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = format!("{PUBLIC_HEADER}\n{}\n", hex(&self.0));
        write_new(path, text.as_bytes(), false)
    }
}

/// One party's keys: its private key and the public keys of all three roles (its own included,
/// so that the same list serves every party).
#[derive(Clone, Debug)]
pub struct NoiseKeys {
    /// This party's private key.
    pub private: StaticKey,
    /// Public keys of P0, P1 and P2.
    pub peers: [PublicKey; 3],
}

impl NoiseKeys {
    /// Fresh keys for the three parties of one process (tests, local runs).
    pub fn generate_mesh() -> Result<[NoiseKeys; 3]> {
        let (k0, p0) = StaticKey::generate()?;
        let (k1, p1) = StaticKey::generate()?;
        let (k2, p2) = StaticKey::generate()?;
        let peers = [p0, p1, p2];
        Ok([k0, k1, k2].map(|private| NoiseKeys { private, peers }))
    }
}

/// How the TCP mesh protects its connections.
#[derive(Clone, Debug)]
pub enum Channel {
    /// Noise KK: confidentiality and mutual authentication (see the module docs).
    Noise(NoiseKeys),
    /// No protection at all: for tests on one machine only.
    InsecurePlaintext,
}

/// Which channel a local run (three threads) sets up; keys are made fresh for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Security {
    /// Noise with fresh keys.
    Noise,
    /// Plaintext TCP.
    InsecurePlaintext,
}

impl Security {
    /// The three parties' channels.
    pub fn channels(self) -> Result<[Channel; 3]> {
        Ok(match self {
            Security::Noise => NoiseKeys::generate_mesh()?.map(Channel::Noise),
            Security::InsecurePlaintext => [
                Channel::InsecurePlaintext,
                Channel::InsecurePlaintext,
                Channel::InsecurePlaintext,
            ],
        })
    }
}

/// The established protection of one connection.
#[derive(Clone)]
pub(crate) enum Link {
    Plain,
    Noise(Arc<StatelessTransportState>),
}

fn builder() -> Result<Builder<'static>> {
    let params = NOISE_PARAMS
        .parse()
        .map_err(|e| Error::config(format!("Noise parameters: {e}")))?;
    Ok(Builder::new(params))
}

fn noise_err(peer: Role, what: &str, e: snow::Error) -> Error {
    Error::malformed(peer, format!("{what}: {e}"))
}

/// Runs the handshake on a fresh connection (the hello already exchanged) as the connecting
/// party (`initiator`) or the accepting one; `hello` is the initiator's 8-byte hello.
pub(crate) fn handshake(
    stream: &mut TcpStream,
    channel: &Channel,
    peer: Role,
    initiator: bool,
    hello: &[u8; 8],
    deadline: Instant,
) -> Result<Link> {
    let keys = match channel {
        Channel::InsecurePlaintext => return Ok(Link::Plain),
        Channel::Noise(keys) => keys,
    };
    let mut prologue = PROLOGUE.to_vec();
    prologue.extend_from_slice(hello);
    let b = builder()?
        .local_private_key(&keys.private.0)
        .and_then(|b| b.remote_public_key(&keys.peers[peer.index()].0))
        .and_then(|b| b.prologue(&prologue))
        .map_err(|e| noise_err(peer, "handshake set-up", e))?;
    let mut hs = if initiator {
        b.build_initiator()
    } else {
        b.build_responder()
    }
    .map_err(|e| noise_err(peer, "handshake set-up", e))?;
    let mut buf = vec![0_u8; NOISE_MAX];
    let mut msg = vec![0_u8; NOISE_MAX];
    // KK: initiator -> e, es, ss; responder -> e, ee, se.
    for step in 0..2 {
        if (step == 0) == initiator {
            let n = hs
                .write_message(&[], &mut msg)
                .map_err(|e| noise_err(peer, "handshake", e))?;
            send_noise_message(stream, peer, msg.get(..n).unwrap_or(&[]), deadline)?;
        } else {
            let n = read_noise_message(stream, peer, &mut msg)?;
            hs.read_message(msg.get(..n).unwrap_or(&[]), &mut buf)
                .map_err(|_| Error::malformed(peer, "Noise handshake failed (wrong key?)"))?;
        }
    }
    let state = hs
        .into_stateless_transport_mode()
        .map_err(|e| noise_err(peer, "handshake", e))?;
    Ok(Link::Noise(Arc::new(state)))
}

fn send_noise_message(
    stream: &mut TcpStream,
    peer: Role,
    msg: &[u8],
    deadline: Instant,
) -> Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| Error::config("Noise message too long"))?;
    write_all_by(stream, &len.to_le_bytes(), deadline, peer)?;
    write_all_by(stream, msg, deadline, peer)
}

/// Reads one length-prefixed Noise message into `buf`; returns its length.
fn read_noise_message(stream: &mut TcpStream, peer: Role, buf: &mut [u8]) -> Result<usize> {
    let mut len = [0_u8; 2];
    read_exact(stream, peer, &mut len)?;
    let n = usize::from(u16::from_le_bytes(len));
    let slot = buf
        .get_mut(..n)
        .ok_or_else(|| Error::malformed(peer, "Noise message too long"))?;
    read_exact(stream, peer, slot)?;
    Ok(n)
}

pub(crate) fn read_exact(stream: &mut TcpStream, peer: Role, buf: &mut [u8]) -> Result<()> {
    stream.read_exact(buf).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            Error::Disconnected { peer }
        }
        _ => Error::io(format!("reading from {peer}"), e),
    })
}

/// Writes all of `buf` before `deadline` (the socket's write timeout is per system call; this
/// bounds the whole message, whatever a slow peer acknowledges).
pub(crate) fn write_all_by(
    stream: &mut TcpStream,
    mut buf: &[u8],
    deadline: Instant,
    peer: Role,
) -> Result<()> {
    while !buf.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::io(
                format!("sending to {peer}"),
                std::io::Error::new(ErrorKind::TimedOut, "message deadline passed"),
            ));
        }
        stream
            .set_write_timeout(Some(left))
            .map_err(|e| Error::io("configuring a connection", e))?;
        match stream.write(buf) {
            Ok(0) => return Err(Error::Disconnected { peer }),
            Ok(n) => buf = buf.get(n..).unwrap_or(&[]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                return Err(match e.kind() {
                    ErrorKind::BrokenPipe
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted => Error::Disconnected { peer },
                    _ => Error::io(format!("sending to {peer}"), e),
                });
            }
        }
    }
    Ok(())
}

impl Link {
    /// Sends one frame (length and bytes), encrypted under Noise, before `deadline`.
    pub(crate) fn send(
        &self,
        stream: &mut TcpStream,
        nonce: &mut u64,
        peer: Role,
        frame: &[u8],
        deadline: Instant,
    ) -> Result<()> {
        let len = u32::try_from(frame.len())
            .map_err(|_| Error::config(format!("frame of {} bytes is too large", frame.len())))?;
        let state = match self {
            Link::Plain => {
                write_all_by(stream, &len.to_le_bytes(), deadline, peer)?;
                return write_all_by(stream, frame, deadline, peer);
            }
            Link::Noise(state) => state,
        };
        // The first message carries the 4-byte length and the frame's first bytes (one small
        // copy); the others are encrypted straight from the frame.
        let (head, mut rest) = frame.split_at(frame.len().min(CHUNK - 4));
        let mut first = Zeroizing::new(Vec::with_capacity(4 + head.len()));
        first.extend_from_slice(&len.to_le_bytes());
        first.extend_from_slice(head);
        let mut out = vec![0_u8; NOISE_MAX + 2];
        let mut plain: &[u8] = &first;
        loop {
            let body = out.get_mut(2..).unwrap_or(&mut []);
            let n = state
                .write_message(*nonce, plain, body)
                .map_err(|e| Error::config(format!("Noise encryption: {e}")))?;
            *nonce += 1;
            let n16 = u16::try_from(n).map_err(|_| Error::config("Noise message too long"))?;
            out[..2].copy_from_slice(&n16.to_le_bytes());
            write_all_by(stream, out.get(..n + 2).unwrap_or(&[]), deadline, peer)?;
            if rest.is_empty() {
                return Ok(());
            }
            let (now, later) = rest.split_at(CHUNK.min(rest.len()));
            (plain, rest) = (now, later);
        }
    }

    /// Reads the next frame; `admit(n)` is called with the announced length before anything is
    /// allocated for it (it checks the limit and waits for room in the receive budget).
    pub(crate) fn recv(
        &self,
        stream: &mut TcpStream,
        nonce: &mut u64,
        peer: Role,
        admit: &mut dyn FnMut(u64) -> Result<()>,
    ) -> Result<Vec<u8>> {
        let state = match self {
            Link::Plain => {
                let mut len = [0_u8; 4];
                read_exact(stream, peer, &mut len)?;
                let n = u64::from(u32::from_le_bytes(len));
                admit(n)?;
                // One zero-filled buffer and read_exact: each read asks for the whole rest (a
                // take + read_to_end into spare capacity reads 8 KiB at a time at first).
                let mut buf = vec![0_u8; n as usize];
                return match stream.read_exact(&mut buf) {
                    Ok(()) => Ok(buf),
                    Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                        Err(Error::malformed(peer, "connection closed inside a frame"))
                    }
                    Err(e) => Err(Error::io(format!("reading from {peer}"), e)),
                };
            }
            Link::Noise(state) => state,
        };
        let mut msg = vec![0_u8; NOISE_MAX];
        let n = read_noise_message(stream, peer, &mut msg)?;
        // The first message's plaintext, wiped on drop; sized to the message, so that the wipe
        // (byte-wise volatile writes) costs what the message does, not 64 KiB per frame.
        let mut first = Zeroizing::new(vec![0_u8; n]);
        let got = state
            .read_message(*nonce, msg.get(..n).unwrap_or(&[]), &mut first)
            .map_err(|_| Error::malformed(peer, "a message failed authentication"))?;
        *nonce += 1;
        let (head, part) = first
            .get(..got)
            .and_then(|p| p.split_first_chunk::<4>())
            .ok_or_else(|| Error::malformed(peer, "a frame's first message is too short"))?;
        let n = u64::from(u32::from_le_bytes(*head));
        admit(n)?;
        let n = n as usize;
        if part.len() > n {
            return Err(Error::malformed(peer, "a frame longer than announced"));
        }
        // The rest is decrypted in place into the frame: snow (ring) needs room for the tag
        // behind each message's plaintext, so the buffer has TAG spare bytes at its end.
        let mut buf = vec![0_u8; n + TAG];
        buf.get_mut(..part.len())
            .ok_or_else(|| Error::malformed(peer, "a frame longer than announced"))?
            .copy_from_slice(part);
        let mut filled = part.len();
        while filled < n {
            let len = read_noise_message(stream, peer, &mut msg)?;
            let slot = buf
                .get_mut(filled..filled + len)
                .filter(|_| len > TAG)
                .ok_or_else(|| Error::malformed(peer, "a message does not fit the frame"))?;
            let got = state
                .read_message(*nonce, msg.get(..len).unwrap_or(&[]), slot)
                .map_err(|_| Error::malformed(peer, "a message failed authentication"))?;
            *nonce += 1;
            filled += got;
        }
        buf.truncate(n);
        Ok(buf)
    }
}

fn to32(bytes: &[u8], what: &str) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| Error::config(format!("a {what} of {} bytes", bytes.len())))
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_text(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    if meta.len() > 4096 {
        return Err(key_err(path, "too large for a key file"));
    }
    std::fs::read_to_string(path).map_err(|e| Error::io(path.display().to_string(), e))
}

fn key_err(path: &Path, reason: &str) -> Error {
    Error::Data {
        path: path.display().to_string(),
        line: 0,
        reason: reason.to_string(),
    }
}

/// Parses the two-line key format (header, 64 hex digits).
pub(crate) fn parse_key(path: &Path, text: &str, header: &str) -> Result<[u8; 32]> {
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(header) {
        return Err(key_err(path, &format!("expected the header '{header}'")));
    }
    let digits = lines.next().map(str::trim).unwrap_or("");
    if lines.any(|l| !l.trim().is_empty()) || digits.len() != 64 || !digits.is_ascii() {
        return Err(key_err(path, "expected 64 hex digits on the second line"));
    }
    let mut key = [0_u8; 32];
    for (k, pair) in key.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
        let s = core::str::from_utf8(pair).unwrap_or("");
        *k = u8::from_str_radix(s, 16).map_err(|_| key_err(path, "not a hex digit"))?;
    }
    Ok(key)
}

fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts
        .open(path)
        .map_err(|e| Error::io(path.display().to_string(), e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io(path.display().to_string(), e))
}

/// The header line of a key file (`private` or public), for the fuzz target.
pub fn key_file_header(private: bool) -> &'static str {
    if private {
        PRIVATE_HEADER
    } else {
        PUBLIC_HEADER
    }
}

/// Parses the text of a key file (either kind, by `private`), as [`StaticKey::read`] and
/// [`PublicKey::read`] do after reading the file; for the fuzz target and tests.
pub fn parse_key_text(text: &str, private: bool) -> Result<[u8; 32]> {
    parse_key(Path::new("<text>"), text, key_file_header(private))
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::Duration;

    use super::*;

    /// A Noise link between two local sockets: (P0's stream and link, P1's stream and link).
    fn noise_pair() -> ((TcpStream, Link), (TcpStream, Link)) {
        let [k0, k1, _] = NoiseKeys::generate_mesh().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let hello = [1_u8; 8];
        let dialer = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            let link = handshake(
                &mut s,
                &Channel::Noise(k1),
                Role::P0,
                true,
                &hello,
                deadline,
            )
            .unwrap();
            (s, link)
        });
        let (mut s, _) = listener.accept().unwrap();
        let link = handshake(
            &mut s,
            &Channel::Noise(k0),
            Role::P1,
            false,
            &hello,
            deadline,
        )
        .unwrap();
        ((s, link), dialer.join().unwrap())
    }

    #[test]
    fn frames_of_every_chunking_round_trip_and_forgeries_fail() {
        let ((mut a, la), (mut b, lb)) = noise_pair();
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut send_nonce, mut recv_nonce) = (0_u64, 0_u64);
        let mut admit = |_: u64| Ok(());
        let sizes = [0, 1, CHUNK - 4, CHUNK - 3, CHUNK, CHUNK + 1, 3 * CHUNK + 5];
        let writer = std::thread::spawn(move || {
            for n in sizes {
                let frame: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
                lb.send(&mut b, &mut send_nonce, Role::P0, &frame, deadline)
                    .unwrap();
            }
            (b, lb, send_nonce)
        });
        for n in sizes {
            let got = la
                .recv(&mut a, &mut recv_nonce, Role::P1, &mut admit)
                .unwrap();
            let want: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            assert_eq!(got, want, "frame of {n} bytes");
        }
        let (mut b, lb, nonce) = writer.join().unwrap();
        // A message under a skipped nonce (a dropped or replayed message) fails.
        let mut skipped = nonce + 1;
        lb.send(&mut b, &mut skipped, Role::P0, b"late", deadline)
            .unwrap();
        assert!(
            la.recv(&mut a, &mut recv_nonce, Role::P1, &mut admit)
                .is_err()
        );
    }

    #[test]
    fn a_message_beyond_the_announced_length_is_refused() {
        let ((mut a, la), (mut b, lb)) = noise_pair();
        let Link::Noise(state) = &lb else {
            panic!("a Noise link")
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        // First message: length 10 and 4 bytes; second: 100 bytes, more than the 6 left.
        let mut out = vec![0_u8; NOISE_MAX];
        let mut first = 10_u32.to_le_bytes().to_vec();
        first.extend_from_slice(&[1, 2, 3, 4]);
        for (nonce, plain) in [(0, first), (1, vec![9_u8; 100])] {
            let n = state.write_message(nonce, &plain, &mut out).unwrap();
            send_noise_message(&mut b, Role::P0, &out[..n], deadline).unwrap();
        }
        let mut nonce = 0;
        let err = la
            .recv(&mut a, &mut nonce, Role::P1, &mut |_| Ok(()))
            .unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
    }

    #[test]
    fn key_text_round_trip_and_rejections() {
        let (k, p) = StaticKey::generate().unwrap();
        let text = format!("{}\n{}\n", key_file_header(false), hex(&p.0));
        assert_eq!(parse_key_text(&text, false).unwrap(), p.0);
        assert!(parse_key_text(&text, true).is_err(), "wrong header");
        let text = format!("{}\n{}\n", key_file_header(true), hex(&k.0));
        assert_eq!(parse_key_text(&text, true).unwrap(), k.0);
        for bad in ["", "x", &text[..text.len() - 3], &format!("{text}extra\n")] {
            assert!(parse_key_text(bad, true).is_err(), "{bad:?}");
        }
        let multibyte = format!("{}\n{}é\n", key_file_header(true), &hex(&k.0)[..62]);
        assert!(parse_key_text(&multibyte, true).is_err());
        assert_eq!(format!("{k:?}"), "StaticKey(<redacted>)");
    }
}
