//! The CryptoRec service end to end on loopback: answers equal the integer model's, many
//! clients at once, the modes this build does not offer are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod service_common;

use std::thread;

use service_common::{key, model, quantized, server, user};
use veil_cryptorec::Error;
use veil_cryptorec::fast::{Randomness, encrypt_query};
use veil_cryptorec::quant::QuantizedModel;
use veil_cryptorec::service::{Client, ClientOptions, ErrorCode, ServerConfig, ServiceId};

#[test]
fn answers_equal_the_integer_model() {
    let m = model(40, 4);
    let q = quantized(&m);
    let srv = server(&m, ServerConfig::default());
    let sk = key();
    let mut client = Client::connect(srv.local_addr(), ClientOptions::default()).unwrap();
    assert_eq!(client.info().params, q.params);
    assert_eq!(client.info().scale, m.scale);
    assert!(client.info().service(ServiceId::PaillierFast).is_some());
    // Several queries on one connection.
    for seed in 0..3 {
        let u = user(seed, 40);
        let v = client.paillier_fast(&sk, &u, Randomness::Fresh).unwrap();
        let x = QuantizedModel::quantize_input(&q.params, &u).unwrap();
        assert_eq!(v, q.predict_integers(&x), "user {seed}");
    }
    let (sent, received) = client.traffic();
    assert!(sent > 3 * 40 * 256 && received > 0);
    assert!(srv.stats().answered >= 4);
    srv.shutdown();
}

#[test]
fn many_clients_at_once() {
    let m = model(30, 3);
    let q = quantized(&m);
    let srv = server(
        &m,
        ServerConfig {
            workers: 2,
            max_connections: 8,
            ..ServerConfig::default()
        },
    );
    let addr = srv.local_addr();
    let sk = key();
    let handles: Vec<_> = (0..12)
        .map(|k| {
            let (sk, q) = (sk.clone(), q.clone());
            thread::spawn(move || {
                let mut client = Client::connect(addr, ClientOptions::default()).unwrap();
                let u = user(k, 30);
                let v = client.paillier_fast(&sk, &u, Randomness::Fresh).unwrap();
                let x = QuantizedModel::quantize_input(&q.params, &u).unwrap();
                assert_eq!(v, q.predict_integers(&x));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(srv.stats().refused, 0);
    srv.shutdown();
}

#[test]
fn services_a_server_does_not_offer_are_refused_not_faked() {
    let m = model(10, 2);
    let srv = server(&m, ServerConfig::default());
    let mut client = Client::connect(srv.local_addr(), ClientOptions::default()).unwrap();
    // A Paillier-only server: no lattice setup to make a client from.
    assert!(matches!(
        client.bfv_client(),
        Err(Error::Unavailable { .. })
    ));
    assert!(matches!(
        client.accurate_client(),
        Err(Error::Unavailable { .. })
    ));
    assert!(matches!(
        client.keys(ServiceId::BfvFast, vec![1, 2, 3]),
        Err(Error::Unavailable { .. })
    ));
    // Asked anyway, on the wire: the server says it does not offer it.
    assert!(matches!(
        client.exchange(ServiceId::BfvFast, &[1, 2, 3], 100),
        Err(Error::Unavailable { .. })
    ));
    srv.shutdown();
}

#[test]
fn bad_keys_are_refused_and_the_connection_survives() {
    let m = model(12, 2);
    let q = quantized(&m);
    let srv = server(&m, ServerConfig::default());
    let mut client = Client::connect(srv.local_addr(), ClientOptions::default()).unwrap();
    let sk = key();
    let u = user(2, 12);
    let query = encrypt_query(&sk, &q.params, &u, Randomness::Fresh).unwrap();
    let good = client.paillier_request(&sk, &query).unwrap();
    // A proof for another key.
    let other = key();
    let mut forged = good.clone();
    let proof = veil_cryptorec::fast::prove_key(&other).unwrap();
    let proof_bytes = proof.to_bytes(other.public_key()).unwrap();
    let n_len = usize::from(u16::from_le_bytes([good[0], good[1]]));
    let at = 2 + n_len + 4;
    forged[at..at + proof_bytes.len()].copy_from_slice(&proof_bytes);
    let e = client.exchange(ServiceId::PaillierFast, &forged, 1 << 20);
    assert!(
        matches!(
            e,
            Err(Error::Refused {
                code: ErrorCode::Invalid,
                ..
            })
        ),
        "{e:?}"
    );
    // A modulus over the server's largest key: refused on its length.
    let mut big = vec![0_u8; 2];
    big[..2].copy_from_slice(&600_u16.to_le_bytes());
    big.extend(std::iter::repeat_n(0xff, 600));
    let e = client.exchange(ServiceId::PaillierFast, &big, 1 << 20);
    assert!(
        matches!(
            e,
            Err(Error::Refused {
                code: ErrorCode::TooLarge,
                ..
            })
        ),
        "{e:?}"
    );
    // One ciphertext too many: the query's length check.
    let mut trailing = good.clone();
    trailing.extend(std::iter::repeat_n(1, sk.public_key().ciphertext_len()));
    assert!(matches!(
        client.exchange(ServiceId::PaillierFast, &trailing, 1 << 20),
        Err(Error::Refused { .. })
    ));
    // The same connection still answers a good query.
    let v = client.paillier_send(&sk, &good).unwrap();
    let x = QuantizedModel::quantize_input(&q.params, &u).unwrap();
    assert_eq!(v, q.predict_integers(&x));
    srv.shutdown();
}
