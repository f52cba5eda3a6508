//! CryptoRec-a(1) under CKKS against the plaintext step (`Model::fine_tune` with
//! `FineTune::one_step`): on a small random model (always), and on MovieLens 100K (skipped with a
//! printed reason when the data is absent): the RMSE of the encrypted predictions is within
//! 0.002 of the plaintext step's, and the predictions themselves within 0.002 RMS.
#![allow(clippy::unwrap_used, clippy::panic)]

mod lattice_common;

use lattice_common::{random_model, random_user};
use veil_cryptorec::eval::Split;
use veil_cryptorec::finetune::FineTune;
use veil_cryptorec::lattice::{AccurateClient, AccurateConfig, AccurateServer};
use veil_cryptorec::model::{Model, TrainConfig, UserRatings};

/// Encrypted and plaintext a(1) predictions for each user.
fn both(model: &Model, lambda: f32, users: &[&UserRatings]) -> Vec<(Vec<f32>, Vec<f32>)> {
    let cfg = AccurateConfig::one_step(lambda);
    let server = AccurateServer::new(model, &cfg).unwrap();
    let client = AccurateClient::new(&server.setup_bytes().unwrap(), false).unwrap();
    let keys = server.client_keys(&client.key_bytes().unwrap()).unwrap();
    users
        .iter()
        .map(|user| {
            let (query, state) = client.query(user).unwrap();
            let reply = server.answer(&keys, &query).unwrap();
            let encrypted = client.decode(&state, &reply).unwrap();
            let plain = model.fine_tune(user, &cfg.step).predictions.to_vec();
            (encrypted, plain)
        })
        .collect()
}

fn rms(a: &[f32], b: &[f32]) -> f64 {
    let s: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    (s / a.len().max(1) as f64).sqrt()
}

#[test]
fn one_encrypted_step_matches_the_plaintext_step_on_a_small_model() {
    let model = random_model(40, 6, 21);
    let users: Vec<UserRatings> = (0..3)
        .map(|s| random_user(40, 10 + 5 * s, s as u64))
        .collect();
    let refs: Vec<&UserRatings> = users.iter().collect();
    for (k, (encrypted, plain)) in both(&model, 0.05, &refs).iter().enumerate() {
        let d = rms(encrypted, plain);
        println!("user {k}: RMS difference {d:.2e}");
        assert!(d < 1e-3, "user {k}: {d}");
        // The step moved the predictions (so the comparison tests the step, not only u).
        assert!(rms(plain, &model.predict(&users[k]).to_vec()) > 1e-4);
    }
}

#[test]
fn encrypted_a1_within_0_002_rmse_on_movielens_100k() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/movielens-100k/u.data");
    if !path.exists() {
        eprintln!(
            "skipped: {} is absent (MovieLens may not be redistributed)",
            path.display()
        );
        return;
    }
    let data = veil_cryptorec::data::Dataset::load_movielens(&path).unwrap();
    let split = Split::paper(&data, 0);
    let cfg = TrainConfig::default();
    let model = Model::train(&split.train, split.items, &cfg, &split.validation).unwrap();
    let users: Vec<&(UserRatings, UserRatings)> = split.test.iter().take(8).collect();
    let fed: Vec<&UserRatings> = users.iter().map(|(f, _)| f).collect();
    let results = both(&model, cfg.lambda, &fed);
    // RMSE on the held-out ratings of these users, both ways (clamped to the scale as `eval`).
    let (mut se_enc, mut se_plain, mut n, mut worst) = (0f64, 0f64, 0usize, 0f64);
    for ((_, tested), (encrypted, plain)) in users.iter().zip(&results) {
        worst = worst.max(rms(encrypted, plain));
        for (&i, &r) in tested.items.iter().zip(&tested.values) {
            let i = i as usize;
            let clamp = |v: f32| f64::from(v.clamp(1.0, 5.0));
            se_enc += (clamp(encrypted[i]) - f64::from(r)).powi(2);
            se_plain += (clamp(plain[i]) - f64::from(r)).powi(2);
            n += 1;
        }
    }
    let (enc, plain) = ((se_enc / n as f64).sqrt(), (se_plain / n as f64).sqrt());
    println!(
        "ML-100K, {} test users, {n} held-out ratings: a(1) RMSE plaintext {plain:.5}, encrypted {enc:.5}; largest per-user RMS difference of the predictions {worst:.2e}",
        users.len()
    );
    assert!((enc - plain).abs() <= 0.002, "{enc} vs {plain}");
    assert!(worst <= 0.002, "{worst}");
    let _ = FineTune::one_step(cfg.lambda);
}
