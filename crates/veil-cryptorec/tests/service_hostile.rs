//! Hostile peers against the CryptoRec server: oversized lengths, truncated and trailing bytes,
//! silent and slow-loris clients, more clients than the pool. After each, the server must still
//! answer an honest client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod service_common;

use std::thread;
use std::time::{Duration, Instant};

use service_common::{closed, error_code, key, model, raw, read_reply, send, server, user};
use veil_cryptorec::Error;
use veil_cryptorec::fast::Randomness;
use veil_cryptorec::service::wire::{self, Header, Kind};
use veil_cryptorec::service::{Client, ClientOptions, ErrorCode, Server, ServerConfig};

fn quick() -> ServerConfig {
    ServerConfig {
        workers: 1,
        max_connections: 4,
        max_pending: 4,
        idle_timeout: Duration::from_millis(400),
        read_timeout: Duration::from_millis(600),
        write_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    }
}

/// An honest client still gets a correct answer.
fn still_serves(srv: &Server) {
    let mut client = Client::connect(srv.local_addr(), ClientOptions::default()).unwrap();
    let v = client
        .paillier_fast(&key(), &user(0, 8), Randomness::Fresh)
        .unwrap();
    assert_eq!(v.len(), 8);
}

#[test]
fn oversized_length_is_refused_from_the_header() {
    let srv = server(&model(8, 2), quick());
    let mut s = raw(&srv);
    // A query announcing 4 GiB: refused at once, before any payload byte is sent.
    send(&mut s, &Header::encode(Kind::Query, u32::MAX));
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::TooLarge);
    assert!(closed(&mut s));
    // An info request with a payload.
    let mut s = raw(&srv);
    send(&mut s, &wire::encode(Kind::InfoRequest, &[0]).unwrap());
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::TooLarge);
    // A kind only servers send.
    let mut s = raw(&srv);
    send(&mut s, &wire::encode(Kind::Answer, &[]).unwrap());
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Malformed);
    still_serves(&srv);
}

#[test]
fn bad_headers_are_refused() {
    let srv = server(&model(8, 2), quick());
    for (at, value) in [(0, b'X'), (4, 9), (5, 77), (7, 1)] {
        let mut msg = wire::encode(Kind::InfoRequest, &[]).unwrap();
        msg[at] = value;
        let mut s = raw(&srv);
        send(&mut s, &msg);
        assert_eq!(
            error_code(read_reply(&mut s)),
            ErrorCode::Malformed,
            "byte {at}"
        );
        assert!(closed(&mut s));
    }
    still_serves(&srv);
}

#[test]
fn truncated_messages_end_the_connection() {
    let srv = server(&model(8, 2), quick());
    // Half a header, then the client leaves.
    let mut s = raw(&srv);
    send(&mut s, &wire::encode(Kind::InfoRequest, &[]).unwrap()[..6]);
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Malformed);
    // A query announcing 100 bytes with 10 sent, then silence: the message deadline.
    let mut s = raw(&srv);
    send(&mut s, &Header::encode(Kind::Query, 100));
    send(&mut s, &[1; 10]);
    let t = Instant::now();
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Timeout);
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(closed(&mut s));
    still_serves(&srv);
}

#[test]
fn trailing_bytes_are_refused() {
    let srv = server(&model(8, 2), quick());
    // Garbage after a whole message: the message is answered, the garbage is not a header.
    let mut s = raw(&srv);
    let mut msg = wire::encode(Kind::InfoRequest, &[]).unwrap();
    msg.extend_from_slice(b"trailing garbage");
    send(&mut s, &msg);
    assert_eq!(read_reply(&mut s).unwrap().0, Kind::Info);
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Malformed);
    assert!(closed(&mut s));
    // A query body with a byte past the ciphertexts (see also service.rs): an error reply.
    let mut client = Client::connect(srv.local_addr(), ClientOptions::default()).unwrap();
    let sk = key();
    let q = service_common::quantized(&model(8, 2));
    let query = veil_cryptorec::fast::encrypt_query(&sk, &q.params, &user(1, 8), Randomness::Fresh)
        .unwrap();
    let mut body = client.paillier_request(&sk, &query).unwrap();
    body.push(0);
    let e = client.paillier_send(&sk, &body);
    assert!(matches!(e, Err(Error::Refused { .. })), "{e:?}");
    still_serves(&srv);
}

#[test]
fn silent_client_is_timed_out() {
    let srv = server(&model(8, 2), quick());
    let mut s = raw(&srv);
    let t = Instant::now();
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Timeout);
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(350) && waited < Duration::from_secs(3));
    assert!(closed(&mut s));
    assert!(srv.stats().timeouts >= 1);
    still_serves(&srv);
}

#[test]
fn slow_loris_is_timed_out_per_message() {
    let srv = server(&model(8, 2), quick());
    let mut s = raw(&srv);
    // One byte every 100 ms: each read succeeds well within the idle timeout (400 ms), but the
    // whole 12-byte message would take 1.2 s, over the 600 ms message deadline.
    let msg = wire::encode(Kind::InfoRequest, &[]).unwrap();
    let t = Instant::now();
    let writer = {
        let mut s = s.try_clone().unwrap();
        thread::spawn(move || {
            for b in msg {
                send(&mut s, &[b]);
                thread::sleep(Duration::from_millis(100));
            }
        })
    };
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Timeout);
    assert!(
        t.elapsed() < Duration::from_millis(1100),
        "{:?}",
        t.elapsed()
    );
    writer.join().unwrap();
    still_serves(&srv);
}

#[test]
fn more_clients_than_the_pool() {
    let srv = server(
        &model(8, 2),
        ServerConfig {
            max_connections: 1,
            max_pending: 1,
            idle_timeout: Duration::from_secs(20),
            ..quick()
        },
    );
    let addr = srv.local_addr();
    // A holds the only connection thread.
    let a = Client::connect(addr, ClientOptions::default()).unwrap();
    // B waits in the pending queue.
    let b = thread::spawn(move || Client::connect(addr, ClientOptions::default()).map(|_| ()));
    let t = Instant::now();
    while srv.stats().accepted < 2 {
        assert!(t.elapsed() < Duration::from_secs(5), "B was not queued");
        thread::sleep(Duration::from_millis(10));
    }
    // C finds the queue full: refused with Busy, at once.
    let c = Client::connect(addr, ClientOptions::default());
    assert!(
        matches!(
            c,
            Err(Error::Refused {
                code: ErrorCode::Busy,
                ..
            })
        ),
        "{c:?}"
    );
    assert_eq!(srv.stats().refused, 1);
    // A leaves: B is served.
    drop(a);
    b.join().unwrap().unwrap();
    still_serves(&srv);
}

#[test]
fn per_connection_byte_budget() {
    let srv = server(
        &model(8, 2),
        ServerConfig {
            max_connection_bytes: 40,
            ..quick()
        },
    );
    let mut s = raw(&srv);
    let info = wire::encode(Kind::InfoRequest, &[]).unwrap();
    // 12 bytes each: three fit in 40, the fourth does not.
    for _ in 0..3 {
        send(&mut s, &info);
        assert_eq!(read_reply(&mut s).unwrap().0, Kind::Info);
    }
    send(&mut s, &info);
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::TooLarge);
    assert!(closed(&mut s));
}

#[test]
fn random_bytes_never_break_the_server() {
    let srv = server(&model(8, 2), quick());
    let mut state = 0x1234_5678_u64;
    for len in [1, 5, 12, 13, 40, 300] {
        let mut s = raw(&srv);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        send(&mut s, &bytes);
        let _ = read_reply(&mut s);
    }
    // A valid header and random payload.
    let mut s = raw(&srv);
    let mut payload = vec![1_u8];
    payload.extend((0..500).map(|i| (i * 31 % 251) as u8));
    send(&mut s, &wire::encode(Kind::Query, &payload).unwrap());
    assert_eq!(read_reply(&mut s).unwrap().0, Kind::Error);
    still_serves(&srv);
}
