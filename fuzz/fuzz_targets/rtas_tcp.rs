//! veil-rtas over TCP: the bytes two peers send P0's `TcpTransport` on loopback (the 8-byte
//! hello, then frames behind a 4-byte length), decoded by the transport's reader threads and by
//! a `Session` running the fixture program (`src/rtas.rs`, `tcp` module).
//!
//! Input: `[len: u16 LE]`, the first connection's `len` bytes, then the second connection's.
//! Each connection is closed for writing after its bytes, so P0 always ends; it must return an
//! error (or success for an honest transcript), never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_paillier_fuzz::rtas::tcp::{run, split};

fuzz_target!(|data: &[u8]| {
    let (first, second) = split(data);
    let _ = run(first, second);
});
