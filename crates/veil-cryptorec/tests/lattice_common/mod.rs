//! Small random models, users and insecure-but-fast parameters for the lattice tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use veil_cryptorec::data::RatingScale;
use veil_cryptorec::lattice::LatticeConfig;
use veil_cryptorec::model::{Model, UserRatings};

/// The secret-key seed of the test clients (tests recompute s from it).
pub const SEED: [u8; 32] = [7; 32];

/// N = 2048 (1024 slots per row), below 128-bit security: fast, for tests only.
pub fn small_config() -> LatticeConfig {
    LatticeConfig {
        degree: 2048,
        allow_below_128_bit_security: true,
        ..LatticeConfig::default()
    }
}

/// A model with weights of the trained models' size (about +-0.1) and biases in +-0.5.
pub fn random_model(m: usize, d: usize, seed: u64) -> Model {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut w =
        |r: usize, c: usize, s: f32| Array2::from_shape_fn((r, c), |_| rng.random_range(-s..s));
    let a = w(m, d, 0.1);
    let q = w(m, d, 0.1);
    let mut rng = ChaCha20Rng::seed_from_u64(seed + 1000);
    Model {
        mu: 3.5,
        item_bias: Array1::from_shape_fn(m, |_| rng.random_range(-0.5f32..0.5)),
        a,
        q,
        scale: RatingScale::default(),
        input_norm: 0.5,
    }
}

/// A user with `n` ratings on distinct items of 0..m, whole stars.
pub fn random_user(m: usize, n: usize, seed: u64) -> UserRatings {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut items: Vec<u32> = (0..m as u32).collect();
    for i in 0..n.min(m) {
        let j = rng.random_range(i..m);
        items.swap(i, j);
    }
    items.truncate(n.min(m));
    items.sort_unstable();
    let values = items
        .iter()
        .map(|_| rng.random_range(1..=5) as f32)
        .collect();
    UserRatings { items, values }
}

/// A model with Gaussian weights (sigma 0.05: about 28% zeros after 4-bit quantization, close to
/// a trained model's 36%), as `benches/cryptorec_lattice.rs` uses.
pub fn gaussian_model(m: usize, d: usize, seed: u64) -> Model {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut gaussian = |r: usize, c: usize| {
        Array2::from_shape_fn((r, c), |_| {
            let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() * 0.05) as f32
        })
    };
    let a = gaussian(m, d);
    let q = gaussian(m, d);
    let mut rng = ChaCha20Rng::seed_from_u64(seed + 1000);
    Model {
        mu: 3.58,
        item_bias: Array1::from_shape_fn(m, |_| rng.random_range(-0.8f32..0.6)),
        a,
        q,
        scale: RatingScale::default(),
        input_norm: 0.5,
    }
}
