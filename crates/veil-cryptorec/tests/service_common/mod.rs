//! Shared fixtures of the service tests: a tiny model, a server on loopback, raw messages.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use ndarray::{Array1, Array2};
use veil_cryptorec::data::RatingScale;
use veil_cryptorec::model::{Model, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_cryptorec::service::wire::{self, HEADER_LEN, Kind};
use veil_cryptorec::service::{PaillierParameters, Server, ServerConfig, Service};
use veil_paillier::{KeyGenerator, PrivateKey};

/// A deterministic model of `items` items and dimension `dim`.
pub(crate) fn model(items: usize, dim: usize) -> Model {
    let w = |i: usize, c: usize, k: usize| ((i * 7 + c * 3 + k * 5) % 13) as f32 / 65.0 - 0.1;
    Model {
        mu: 3.5,
        item_bias: Array1::from_shape_fn(items, |i| ((i % 5) as f32 - 2.0) * 0.15),
        a: Array2::from_shape_fn((items, dim), |(i, c)| w(i, c, 1)),
        q: Array2::from_shape_fn((items, dim), |(i, c)| w(i, c, 2)),
        scale: RatingScale::default(),
        input_norm: 0.5,
    }
}

/// The quantized model the server serves.
pub(crate) fn quantized(m: &Model) -> QuantizedModel {
    QuantizedModel::new(m, &QuantConfig::default()).unwrap()
}

/// Keys down to 1024 bits (fast tests; never in a deployment).
pub(crate) fn test_keys() -> PaillierParameters {
    PaillierParameters {
        min_modulus_bits: 1024,
        ..PaillierParameters::default()
    }
}

/// A server of `m` on a free loopback port.
pub(crate) fn server(m: &Model, config: ServerConfig) -> Server {
    let service = Service::paillier(m, vec![], &QuantConfig::default(), test_keys()).unwrap();
    Server::bind("127.0.0.1:0", Arc::new(service), config).unwrap()
}

/// A 1024-bit key.
pub(crate) fn key() -> PrivateKey {
    KeyGenerator::new(1024).generate().unwrap()
}

/// A user who rated a few items.
pub(crate) fn user(seed: usize, items: usize) -> UserRatings {
    let picked: Vec<u32> = (0..items as u32)
        .filter(|i| (*i as usize + seed) % 3 == 0)
        .collect();
    let values = picked
        .iter()
        .map(|i| ((*i as usize * 5 + seed) % 5 + 1) as f32)
        .collect();
    UserRatings {
        items: picked,
        values,
    }
}

/// A raw connection with a read timeout.
pub(crate) fn raw(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads one whole message (kind and payload), or None at end of stream.
pub(crate) fn read_reply(s: &mut TcpStream) -> Option<(Kind, Vec<u8>)> {
    let mut head = [0_u8; HEADER_LEN];
    if s.read_exact(&mut head).is_err() {
        return None;
    }
    let h = wire::Header::decode(&head, |_| 1 << 20).unwrap();
    let mut payload = vec![0_u8; h.len as usize];
    s.read_exact(&mut payload).unwrap();
    Some((h.kind, payload))
}

/// The error code of an error reply.
pub(crate) fn error_code(reply: Option<(Kind, Vec<u8>)>) -> wire::ErrorCode {
    let (kind, payload) = reply.expect("a reply");
    assert_eq!(kind, Kind::Error, "expected an error message");
    wire::decode_error(&payload).unwrap().0
}

/// True when the server has closed the connection (end of stream or reset).
pub(crate) fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0_u8; 1];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

/// Sends bytes, ignoring a reset (the server may already have closed).
pub(crate) fn send(s: &mut TcpStream, bytes: &[u8]) {
    let _ = s.write_all(bytes);
}
