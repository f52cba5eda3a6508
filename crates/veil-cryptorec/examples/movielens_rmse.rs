//! One repeat of the paper's evaluation protocol (sec. 4) on MovieLens 100K:
//! users split 80/20; each held-out user's ratings split 90% fed / 10% predicted.
//!
//! `cargo run --release -p veil-cryptorec --example movielens_rmse -- ../shared/data/movielens-100k/u.data [dim]`

use std::path::PathBuf;
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use veil_cryptorec::data::Dataset;
use veil_cryptorec::model::{Model, TrainConfig, by_user, split_user};

fn main() -> Result<(), veil_cryptorec::Error> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "../shared/data/movielens-100k/u.data".into()),
    );
    let dim: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let data = Dataset::load_movielens(&path)?;
    let mut users = by_user(data.ratings(), data.users());
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    users.shuffle(&mut rng);
    let cut = users.len() * 8 / 10;
    let (train, held) = users.split_at(cut);
    let pairs: Vec<_> = held.iter().map(|u| split_user(u, 0.9, &mut rng)).collect();
    let (valid, test) = pairs.split_at(pairs.len() / 4);
    let cfg = TrainConfig {
        dim,
        ..TrainConfig::default()
    };
    let t = Instant::now();
    let model = Model::train(train, data.items(), &cfg, valid)?;
    println!(
        "MovieLens 100K, d = {dim}: CryptoRec-f RMSE {:.4}, bias-only {:.4} ({} test users, trained in {:.1} s)",
        model.rmse(test),
        model.bias_only_rmse(test),
        test.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
