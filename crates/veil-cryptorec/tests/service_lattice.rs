//! The fast mode over BFV through the TCP service: exact answers, keys uploaded once and reused
//! across connections, the bounded key registry (eviction, `UnknownKey`, re-upload), and hostile
//! key uploads and keyed queries (oversized, over the in-flight budget, slow, wrong parameters,
//! unknown ids, truncated and trailing bytes), each followed by an honest query.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod service_common;

use std::sync::Arc;
use std::time::Duration;

use service_common::{closed, error_code, model, quantized, raw, read_reply, send, test_keys};
use veil_cryptorec::Error;
use veil_cryptorec::lattice::{FastClient, FastServer, LatticeConfig};
use veil_cryptorec::model::Model;
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_cryptorec::service::wire::{self, ErrorCode, Kind, ServiceId};
use veil_cryptorec::service::{
    Client, ClientOptions, KEY_ID_LEN, Offer, Server, ServerConfig, Service, UploadedKeys,
};

/// N = 1024: fast, below 128-bit security (tests only).
fn lattice(degree: usize) -> LatticeConfig {
    LatticeConfig {
        degree,
        allow_below_128_bit_security: true,
        ..LatticeConfig::default()
    }
}

fn options() -> ClientOptions {
    ClientOptions {
        allow_below_128_bit_security: true,
        answer_timeout: Duration::from_secs(60),
        ..ClientOptions::default()
    }
}

fn service(m: &Model) -> Service {
    let offer = Offer {
        paillier: Some(test_keys()),
        bfv: Some(lattice(1024)),
        ..Offer::default()
    };
    Service::offering(m, vec![], &QuantConfig::default(), &offer).unwrap()
}

fn start(service: Service, config: ServerConfig) -> Server {
    Server::bind("127.0.0.1:0", Arc::new(service), config).unwrap()
}

fn quick() -> ServerConfig {
    ServerConfig {
        workers: 2,
        max_connections: 8,
        idle_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        ..ServerConfig::default()
    }
}

/// A client with its keys for `srv`.
fn bfv_client(srv: &Server) -> (Client, FastClient, UploadedKeys) {
    let client = Client::connect(srv.local_addr(), options()).unwrap();
    let fast = client.bfv_client().unwrap();
    let keys = client
        .keys(ServiceId::BfvFast, fast.key_bytes().unwrap())
        .unwrap();
    (client, fast, keys)
}

fn expected(q: &QuantizedModel, seed: usize) -> (veil_cryptorec::model::UserRatings, Vec<i128>) {
    let user = service_common::user(seed, q.params.items);
    let x = QuantizedModel::quantize_input(&q.params, &user).unwrap();
    let v = q.predict_integers(&x);
    (user, v)
}

#[test]
fn bfv_answers_are_exact_and_keys_are_reused_across_connections() {
    let m = model(60, 8);
    let q = quantized(&m);
    let srv = start(service(&m), quick());
    let (mut client, fast, keys) = bfv_client(&srv);
    assert!(keys.len() > 100_000, "keys of {} bytes", keys.len());
    // The first query names keys the server does not hold: uploaded, then answered.
    let (user, want) = expected(&q, 1);
    assert_eq!(client.bfv_fast(&fast, &keys, &user).unwrap(), want);
    assert_eq!(client.uploads(), 1);
    // Further queries and other connections reuse them.
    let (user, want) = expected(&q, 2);
    assert_eq!(client.bfv_fast(&fast, &keys, &user).unwrap(), want);
    let mut again = Client::connect(srv.local_addr(), options()).unwrap();
    let (user, want) = expected(&q, 3);
    assert_eq!(again.bfv_fast(&fast, &keys, &user).unwrap(), want);
    assert_eq!(again.uploads(), 0);
    // Per query: a few tens of KB each way at N = 1024; the keys went once.
    let (sent, received) = again.traffic();
    assert!(
        sent < keys.len() as u64 / 4 && received < 100_000,
        "{sent} {received}"
    );
    // Concurrent clients, each with its own keys.
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let (addr, q) = (srv.local_addr(), q.clone());
            std::thread::spawn(move || {
                let mut c = Client::connect(addr, options()).unwrap();
                let fast = c.bfv_client().unwrap();
                let keys = c
                    .keys(ServiceId::BfvFast, fast.key_bytes().unwrap())
                    .unwrap();
                for s in 0..2 {
                    let (user, want) = expected(&q, 10 + 2 * k + s);
                    assert_eq!(c.bfv_fast(&fast, &keys, &user).unwrap(), want);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = srv.stats();
    assert_eq!(stats.keys.entries, 5);
    assert_eq!(stats.keys.evicted, 0);
    srv.shutdown();
}

#[test]
fn the_registry_evicts_under_its_cap_and_clients_upload_again() {
    let m = model(60, 8);
    let q = quantized(&m);
    let probe = service(&m);
    // Room for one key set (plus a little).
    let one = probe.max_key_bytes() + 1000;
    let srv = start(probe.with_key_memory(one).unwrap(), quick());
    let (mut a, fast_a, keys_a) = bfv_client(&srv);
    let (mut b, fast_b, keys_b) = bfv_client(&srv);
    let (user, want) = expected(&q, 4);
    a.upload_keys(&keys_a).unwrap();
    assert_eq!(a.bfv_fast(&fast_a, &keys_a, &user).unwrap(), want);
    assert_eq!(b.bfv_fast(&fast_b, &keys_b, &user).unwrap(), want); // evicts a's keys
    assert_eq!(srv.stats().keys.evicted, 1);
    // a's next query is refused with UnknownKey, then uploaded again and answered.
    let mut raw_query = keys_a.id().0.to_vec();
    raw_query.extend_from_slice(&fast_a.query(&user).unwrap().0);
    match a.exchange(ServiceId::BfvFast, &raw_query, 1 << 24) {
        Err(Error::Refused {
            code: ErrorCode::UnknownKey,
            ..
        }) => {}
        other => panic!("expected UnknownKey, got {other:?}"),
    }
    assert_eq!(a.bfv_fast(&fast_a, &keys_a, &user).unwrap(), want);
    assert_eq!(a.uploads(), 2);
    let stats = srv.stats().keys;
    assert_eq!((stats.entries, stats.evicted), (1, 2));
    assert!(stats.bytes <= one && stats.misses >= 2);
    // A cap below one key set is refused when the service is made.
    assert!(service(&m).with_key_memory(one / 2).is_err());
    srv.shutdown();
}

fn keys_message(body: &[u8]) -> Vec<u8> {
    wire::encode(Kind::Keys, &wire::encode_service(ServiceId::BfvFast, body)).unwrap()
}

fn still_answers(srv: &Server, q: &QuantizedModel) {
    let (mut c, fast, keys) = bfv_client(srv);
    let (user, want) = expected(q, 7);
    assert_eq!(c.bfv_fast(&fast, &keys, &user).unwrap(), want);
}

#[test]
fn hostile_key_uploads_and_keyed_queries_are_refused() {
    let m = model(60, 8);
    let q = quantized(&m);
    let svc = service(&m);
    let max_keys = svc.max_request_payload(Kind::Keys);
    let srv = start(svc, quick());
    let client = Client::connect(srv.local_addr(), options()).unwrap();
    let fast = client.bfv_client().unwrap();
    let key_bytes = fast.key_bytes().unwrap();
    let keys = client.keys(ServiceId::BfvFast, key_bytes.clone()).unwrap();
    drop(client);

    // Oversized upload: refused from the header, nothing else sent.
    let mut s = raw(&srv);
    let too_long = u32::try_from(max_keys + 1).unwrap();
    send(&mut s, &wire::Header::encode(Kind::Keys, too_long));
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::TooLarge);
    assert!(closed(&mut s));

    // Truncated and trailing key bytes; keys for other parameters (49-bit primes); keys for a
    // service that takes none: refused, the connection stays usable.
    let other_cfg = LatticeConfig {
        prime_bits: 49,
        ..lattice(1024)
    };
    let other = FastServer::new(&q, &other_cfg).unwrap();
    let foreign = FastClient::new(&other.setup_bytes().unwrap(), true)
        .unwrap()
        .key_bytes()
        .unwrap();
    let mut trailing = key_bytes.clone();
    trailing.push(0);
    let mut s = raw(&srv);
    for bad in [
        &key_bytes[..key_bytes.len() - 1],
        &trailing[..],
        &key_bytes[..100],
        &[][..],
    ] {
        send(&mut s, &keys_message(bad));
        assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Malformed);
    }
    println!("keys {} bytes, foreign {}", key_bytes.len(), foreign.len());
    if (foreign.len() as u64) < max_keys {
        send(&mut s, &keys_message(&foreign));
        let code = error_code(read_reply(&mut s));
        assert!(
            matches!(code, ErrorCode::Invalid | ErrorCode::Malformed),
            "{code}"
        );
    } else {
        send(&mut s, &keys_message(&foreign));
        assert_eq!(error_code(read_reply(&mut s)), ErrorCode::TooLarge);
        s = raw(&srv);
    }
    let paillier_keys = wire::encode(
        Kind::Keys,
        &wire::encode_service(ServiceId::PaillierFast, &key_bytes),
    )
    .unwrap();
    send(&mut s, &paillier_keys);
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Unsupported);

    // Keyed queries: an unknown id; a body shorter than an id; a valid id with a truncated
    // query and with trailing bytes.
    let (query, _) = fast.query(&service_common::user(1, 60)).unwrap();
    let keyed = |id: &[u8], q: &[u8]| {
        let mut body = id.to_vec();
        body.extend_from_slice(q);
        wire::encode(
            Kind::Query,
            &wire::encode_service(ServiceId::BfvFast, &body),
        )
        .unwrap()
    };
    send(&mut s, &keyed(&[7; KEY_ID_LEN], &query));
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::UnknownKey);
    send(&mut s, &keyed(&[7; 20], &[]));
    assert_eq!(error_code(read_reply(&mut s)), ErrorCode::Malformed);
    send(&mut s, &keys_message(&key_bytes));
    let (kind, payload) = read_reply(&mut s).unwrap();
    assert_eq!(kind, Kind::KeyId);
    assert_eq!(&payload[1..], &keys.id().0[..]);
    let mut long = query.clone();
    long.push(1);
    for bad in [&query[..query.len() - 1], &long[..], &query[..10]] {
        send(&mut s, &keyed(&keys.id().0, bad));
        let code = error_code(read_reply(&mut s));
        assert!(
            matches!(code, ErrorCode::Malformed | ErrorCode::Invalid),
            "{code}"
        );
    }
    // The honest query on the same connection is answered.
    send(&mut s, &keyed(&keys.id().0, &query));
    let (kind, _) = read_reply(&mut s).unwrap();
    assert_eq!(kind, Kind::Answer);
    still_answers(&srv, &q);
    srv.shutdown();
}

#[test]
fn key_uploads_are_bounded_in_flight_and_in_time() {
    let m = model(60, 8);
    let q = quantized(&m);
    let svc = service(&m);
    let max_keys = svc.max_request_payload(Kind::Keys);
    let config = ServerConfig {
        max_upload_bytes: max_keys,
        key_read_timeout: Duration::from_secs(2),
        ..quick()
    };
    let srv = start(svc, config);
    let len = u32::try_from(max_keys).unwrap();
    // One upload in progress holds the whole budget: a second one is refused as busy from
    // its header.
    let mut slow = raw(&srv);
    send(&mut slow, &wire::Header::encode(Kind::Keys, len));
    send(&mut slow, &[ServiceId::BfvFast.code(); 1000]);
    std::thread::sleep(Duration::from_millis(300));
    let mut second = raw(&srv);
    send(&mut second, &wire::Header::encode(Kind::Keys, 1000));
    assert_eq!(error_code(read_reply(&mut second)), ErrorCode::Busy);
    // The slow uploader hits the key deadline.
    let t = std::time::Instant::now();
    assert_eq!(error_code(read_reply(&mut slow)), ErrorCode::Timeout);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(closed(&mut slow));
    let stats = srv.stats();
    assert_eq!(stats.uploads_refused, 1);
    assert!(stats.timeouts >= 1);
    // The budget is free again.
    still_answers(&srv, &q);
    // A budget below the largest upload is refused at start.
    let config = ServerConfig {
        max_upload_bytes: max_keys - 1,
        ..quick()
    };
    assert!(Server::bind("127.0.0.1:0", Arc::new(service(&m)), config).is_err());
    srv.shutdown();
}

#[test]
fn handle_message_covers_keys_without_a_socket() {
    let m = model(60, 8);
    let q = quantized(&m);
    let svc = service(&m);
    let info = svc.info().clone();
    let setup = &info.service(ServiceId::BfvFast).unwrap().parameters;
    let fast = FastClient::new(setup, true).unwrap();
    let key_bytes = fast.key_bytes().unwrap();
    let reply = svc.handle_message(&keys_message(&key_bytes));
    let (kind, payload) = wire::decode(&reply.message, |_| 1 << 20).unwrap();
    assert_eq!(kind, Kind::KeyId);
    let id = &payload[1..];
    let (user, want) = expected(&q, 5);
    let (query, _) = fast.query(&user).unwrap();
    let mut body = id.to_vec();
    body.extend_from_slice(&query);
    let msg = wire::encode(
        Kind::Query,
        &wire::encode_service(ServiceId::BfvFast, &body),
    )
    .unwrap();
    let reply = svc.handle_message(&msg);
    let (kind, payload) = wire::decode(&reply.message, |_| 1 << 24).unwrap();
    assert_eq!(kind, Kind::Answer);
    assert_eq!(fast.decode_integers(&payload[1..]).unwrap(), want);
    // An unexpected kind from a client.
    let msg = wire::encode(Kind::KeyId, &payload[..1]).unwrap();
    assert!(svc.handle_message(&msg).close);
}
