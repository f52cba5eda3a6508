//! Fixed-base key-holder randomness (safe-prime keys): correct encryptions, fresh randomness,
//! refusal of keys without safe primes.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{KEY, OTHER_KEY};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use veil_paillier::{Error, KeyGenerator, RandomnessPool};

#[test]
fn fixed_base_encryptions_decrypt_and_are_fresh() {
    let sk = KeyGenerator::new(1024)
        .safe_primes(true)
        .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(5))
        .unwrap();
    let fb = sk.fixed_base_randomness_vartime().unwrap();
    assert!(format!("{fb:?}").contains("<redacted>"));
    let values: Vec<i64> = (-50..50).map(|i| i * 1_000_003).chain([0, 0, 0]).collect();
    let cts = sk.encrypt_batch_fixed_base_vartime(&fb, &values).unwrap();
    assert_eq!(sk.decrypt_batch_i64(&cts).unwrap(), values);
    // Three encryptions of zero with fresh randomness differ.
    let n = cts.len();
    assert!(cts[n - 1] != cts[n - 2] && cts[n - 2] != cts[n - 3]);
    // Homomorphic operations work on them as on any ciphertext.
    let pk = sk.public_key();
    let s = pk.add(&cts[0], &cts[1]).unwrap();
    assert_eq!(sk.decrypt_i64(&s).unwrap(), values[0] + values[1]);
    let mut pool = RandomnessPool::new(pk);
    pool.fill_fixed_base_vartime(&fb, 3).unwrap();
    assert_eq!(sk.decrypt_i64(&pool.encrypt(-7).unwrap()).unwrap(), -7);
}

#[test]
fn keys_without_safe_primes_and_other_keys_are_refused() {
    assert!(matches!(
        KEY.fixed_base_randomness_vartime(),
        Err(Error::InvalidKey { .. })
    ));
    let sk = KeyGenerator::new(1024)
        .safe_primes(true)
        .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(6))
        .unwrap();
    let fb = sk.fixed_base_randomness_vartime().unwrap();
    assert!(matches!(
        OTHER_KEY.encrypt_batch_fixed_base_vartime(&fb, &[1]),
        Err(Error::KeyMismatch)
    ));
    let mut pool = RandomnessPool::new(KEY.public_key());
    assert!(matches!(
        pool.fill_fixed_base_vartime(&fb, 1),
        Err(Error::KeyMismatch)
    ));
}
