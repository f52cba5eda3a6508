//! Hostile bytes for the exact accurate mode: mutated and truncated setup (`VCBS`), key (`VCBK`),
//! query (`VCBQ`) and reply (`VCBR`) messages are refused with errors, never a panic, and every
//! length is checked before anything is allocated (a stand-in until the fuzz target
//! `cryptorec_lattice_accurate_bfv` has run long).
#![allow(clippy::unwrap_used, clippy::panic)]

mod lattice_common;

use lattice_common::{random_model, random_user};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use veil_cryptorec::lattice::accurate_bfv::{
    AccurateBfvClient, AccurateBfvConfig, AccurateBfvServer, AccurateBfvSetup,
};
use veil_ring::sample::Sampler;

/// Flips a few bits, truncates, writes 0xff over a 4-byte window (a length prefix), or appends.
fn mutate(bytes: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match rng.random_range(0..4) {
        0 => {
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..b.len());
                b[i] ^= 1 << rng.random_range(0..8);
            }
        }
        1 => b.truncate(rng.random_range(0..b.len())),
        2 => {
            let i = rng.random_range(0..b.len().saturating_sub(4).max(1));
            for x in b.iter_mut().skip(i).take(4) {
                *x = 0xff;
            }
        }
        _ => b.extend((0..rng.random_range(1..16)).map(|_| rng.random::<u8>())),
    }
    b
}

#[test]
fn mutated_messages_are_errors_not_panics() {
    let mut cfg = AccurateBfvConfig::one_step(0.05);
    cfg.lattice.degree = 1024;
    cfg.lattice.allow_below_128_bit_security = true;
    cfg.keep_prepared = true;
    let server = AccurateBfvServer::new(&random_model(20, 4, 8), &cfg).unwrap();
    let setup_bytes = server.setup_bytes().unwrap();
    let setup = AccurateBfvSetup::from_bytes(&setup_bytes, true).unwrap();
    let client = AccurateBfvClient::with_secret(setup, &mut Sampler::from_seed([5; 32])).unwrap();
    let key_bytes = client.key_bytes().unwrap();
    let keys = server.client_keys(&key_bytes).unwrap();
    let (query, _) = client.query(&random_user(20, 6, 2)).unwrap();
    let reply = server.answer(&keys, &query).unwrap();
    // The unmutated messages work.
    client.decode_integers(&reply).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    let mut refused = 0;
    let rounds = 100;
    for _ in 0..rounds {
        let s = mutate(&setup_bytes, &mut rng);
        refused += usize::from(AccurateBfvSetup::from_bytes(&s, true).is_err());
        let q = mutate(&query, &mut rng);
        refused += usize::from(server.answer(&keys, &q).is_err());
        let r = mutate(&reply, &mut rng);
        refused += usize::from(client.decode_integers(&r).is_err());
    }
    for _ in 0..15 {
        let k = mutate(&key_bytes, &mut rng);
        let _ = server.client_keys(&k);
    }
    // Most mutations are refused (a flipped bit inside a polynomial may still parse: a valid
    // but different ciphertext).
    println!("{refused} of {} mutated messages refused", 3 * rounds);
    assert!(refused > rounds, "{refused}");
    // Lengths announced beyond the message are refused before allocation: a query whose first
    // object claims 4 GiB.
    let mut huge = query[..5].to_vec();
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(server.answer(&keys, &huge).is_err());
    // A setup from another mode, and an empty message.
    assert!(AccurateBfvSetup::from_bytes(b"VCLS\x01", true).is_err());
    assert!(client.decode_integers(&[]).is_err());
}
