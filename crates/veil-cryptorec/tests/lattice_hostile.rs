//! Hostile bytes: mutated and truncated setup, key, query and reply messages of the lattice modes
//! are refused with errors, never a panic (a cheap stand-in for a fuzz target; see the report).
#![allow(clippy::unwrap_used, clippy::panic)]

mod lattice_common;

use lattice_common::{random_model, random_user, small_config};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use veil_cryptorec::lattice::{AccurateSetup, FastClient, FastServer, PublicSetup};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_ring::sample::Sampler;

/// Flips a few bytes, truncates, or rewrites a length-prefix-sized window with 0xff.
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
    let model = QuantizedModel::new(&random_model(20, 4, 8), &QuantConfig::default()).unwrap();
    let server = FastServer::new(&model, &small_config()).unwrap();
    let setup_bytes = server.setup_bytes().unwrap();
    let setup = PublicSetup::from_bytes(&setup_bytes, true).unwrap();
    let client = FastClient::with_secret(setup, &mut Sampler::from_seed([5; 32])).unwrap();
    let key_bytes = client.key_bytes().unwrap();
    let keys = server.client_keys(&key_bytes).unwrap();
    let (query, _) = client.query(&random_user(20, 6, 2)).unwrap();
    let reply = server.answer(&keys, &query).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let mut refused = 0;
    for _ in 0..300 {
        let s = mutate(&setup_bytes, &mut rng);
        refused += usize::from(PublicSetup::from_bytes(&s, true).is_err());
        let _ = AccurateSetup::from_bytes(&s, true);
        let q = mutate(&query, &mut rng);
        refused += usize::from(server.answer(&keys, &q).is_err());
        let r = mutate(&reply, &mut rng);
        refused += usize::from(client.decode_integers(&r).is_err());
    }
    // Keys are large: fewer rounds.
    for _ in 0..20 {
        let k = mutate(&key_bytes, &mut rng);
        refused += usize::from(server.client_keys(&k).is_err());
    }
    println!(
        "{refused} of 920 mutated messages refused (the rest parsed: a flipped residue bit can stay valid)"
    );
    assert!(refused > 400);
}

/// Servers are shared read-only between connections, and keys move between threads.
#[test]
fn servers_and_keys_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<FastServer>();
    shared::<veil_cryptorec::lattice::ClientKeys>();
    shared::<veil_cryptorec::lattice::AccurateServer>();
    shared::<veil_cryptorec::lattice::AccurateKeys>();
    shared::<FastClient>();
}
