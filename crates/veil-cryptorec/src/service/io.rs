//! Whole messages over a TCP stream with per-message deadlines.
//!
//! A socket timeout bounds one system call; a peer that sends one byte per call (slow loris)
//! would never hit it. These functions reset the socket timeout to the time left before the
//! message's deadline on every call, so the whole message is bounded.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

use super::wire::{HEADER_LEN, Header, Kind};

/// Bytes allocated at a time while a payload arrives: memory follows the bytes received, not
/// the length announced.
const CHUNK: usize = 1 << 16;

/// What came in.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// The peer closed the connection between messages.
    Closed,
    /// A whole message.
    Message(Kind, Vec<u8>),
}

fn io_error(source: std::io::Error) -> Error {
    Error::Io {
        path: "connection".into(),
        source,
    }
}

/// Reads into `buf` until it is full or the deadline passes; returns the count read (less than
/// `buf.len()` only at end of stream).
fn read_by(
    stream: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
    what: &'static str,
    after: Duration,
) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout { what, after });
        }
        stream.set_read_timeout(Some(left)).map_err(io_error)?;
        let Some(rest) = buf.get_mut(done..) else {
            break;
        };
        match stream.read(rest) {
            Ok(0) => return Ok(done),
            Ok(n) => done += n,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(done)
}

fn read_exact_by(
    stream: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
    what: &'static str,
    after: Duration,
) -> Result<()> {
    if read_by(stream, buf, deadline, what, after)? < buf.len() {
        return Err(Error::Message {
            reason: format!("{what}: the connection closed inside a message"),
        });
    }
    Ok(())
}

/// Waits until `first_by` for a message to start, then reads its header within
/// `header_timeout` of its first byte. The header's length is checked against
/// `max_payload(kind)`, then `admit` decides (before any of the payload is read or allocated)
/// whether to take it and how long the whole message may take from its first byte.
pub(crate) fn read_message(
    stream: &mut TcpStream,
    first_by: Instant,
    idle: Duration,
    header_timeout: Duration,
    max_payload: impl Fn(Kind) -> u64,
    admit: impl FnOnce(&Header) -> Result<Duration>,
) -> Result<Incoming> {
    let mut head = [0_u8; HEADER_LEN];
    if read_by(
        stream,
        &mut head[..1],
        first_by,
        "waiting for a message",
        idle,
    )? == 0
    {
        return Ok(Incoming::Closed);
    }
    let started = Instant::now();
    let what = "reading a message";
    read_exact_by(
        stream,
        &mut head[1..],
        started + header_timeout,
        what,
        header_timeout,
    )?;
    let header = Header::decode(&head, max_payload)?;
    let message_timeout = admit(&header)?;
    let deadline = started + message_timeout;
    let len = header.len as usize;
    let mut payload = Vec::with_capacity(len.min(CHUNK));
    while payload.len() < len {
        let start = payload.len();
        payload.resize(start + (len - start).min(CHUNK), 0);
        let part = payload.get_mut(start..).unwrap_or_default();
        read_exact_by(stream, part, deadline, what, message_timeout)?;
    }
    Ok(Incoming::Message(header.kind, payload))
}

/// Writes all of `buf` within `timeout`, however slowly the peer reads.
pub(crate) fn write_all_within(
    stream: &mut TcpStream,
    buf: &[u8],
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut rest = buf;
    while !rest.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout {
                what: "writing a message",
                after: timeout,
            });
        }
        stream.set_write_timeout(Some(left)).map_err(io_error)?;
        match stream.write(rest) {
            Ok(0) => {
                return Err(io_error(std::io::Error::new(
                    ErrorKind::WriteZero,
                    "the peer stopped reading",
                )));
            }
            Ok(n) => rest = rest.get(n..).unwrap_or_default(),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    stream.flush().map_err(io_error)
}
