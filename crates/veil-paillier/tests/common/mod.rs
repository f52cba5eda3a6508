//! Shared deterministic test keys.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::LazyLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use veil_paillier::{KeyGenerator, PrivateKey};

/// A 1024-bit key from a fixed seed: fast, and the same in every run.
pub static KEY: LazyLock<PrivateKey> = LazyLock::new(|| {
    KeyGenerator::new(1024)
        .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(42))
        .unwrap()
});

/// A second, unrelated key.
pub static OTHER_KEY: LazyLock<PrivateKey> = LazyLock::new(|| {
    KeyGenerator::new(1024)
        .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(43))
        .unwrap()
});
