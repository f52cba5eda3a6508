//! The baselines of sec. 4 learn: on planted synthetic data both beat the bias-only predictor
//! clearly, training is deterministic for a seed, and on MovieLens 100K (if present) both reach
//! a sane RMSE under the paper's protocol.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use veil_cryptorec::baselines::{
    BiasedMf, BiasedMfConfig, IAutoRec, IAutoRecConfig, bias_only_rmse,
};
use veil_cryptorec::data::{Dataset, SyntheticConfig};
use veil_cryptorec::eval::Split;

/// 400 users x 300 items at 20% (at 10% a test user has ~3 held-out ratings and the test set
/// D is too small to compare models), with 20% of the users for validation (the paper's 5% is
/// 20 users here: early stopping on ~100 ratings is noise).
fn synthetic_split() -> Split {
    let data = SyntheticConfig {
        users: 400,
        items: 300,
        density: 0.2,
        noise: 0.3,
        seed: 5,
        ..SyntheticConfig::default()
    }
    .generate();
    Split::new(&data, 7, 0.2, 0.9, 0.2)
}

#[test]
fn biased_mf_beats_bias_only_on_synthetic_data() {
    let split = synthetic_split();
    // The planted rank is 10; the MovieLens lambda (0.1) is too strong for 80 ratings a user.
    let cfg = BiasedMfConfig {
        dim: 10,
        lambda: 0.05,
        ..BiasedMfConfig::default()
    };
    let model = BiasedMf::train(&split, &cfg).unwrap();
    let (rmse, floor) = (model.test_rmse(&split), bias_only_rmse(&split));
    eprintln!(
        "synthetic: BiasedMF {rmse:.4} vs bias-only {floor:.4} ({} epochs)",
        model.epochs_run
    );
    // Measured: 0.501 vs 0.610.
    assert!(rmse < floor - 0.05, "BiasedMF {rmse} vs bias-only {floor}");
    assert_eq!(
        BiasedMf::train(&split, &cfg).unwrap(),
        model,
        "deterministic"
    );
    // The k-th test user is the (len - test + k)-th entry of all_known.
    let all = split.all_known();
    assert_eq!(model.predict(all.len() - 1).len(), split.items);
    assert!(model.predict(all.len()).is_empty());
}

#[test]
fn i_autorec_beats_bias_only_on_synthetic_data() {
    let split = synthetic_split();
    // A small model for a small data set (the MovieLens lambda, 100, underfits here).
    let cfg = IAutoRecConfig {
        hidden: 20,
        lambda: 3.0,
        learning_rate: 3e-3,
        ..IAutoRecConfig::default()
    };
    let model = IAutoRec::train(&split, &cfg).unwrap();
    let (rmse, floor) = (model.test_rmse(&split), bias_only_rmse(&split));
    eprintln!(
        "synthetic: I-AutoRec {rmse:.4} vs bias-only {floor:.4} ({} epochs)",
        model.epochs_run
    );
    // Measured: 0.553 vs 0.610 (the item effects must pass through the hidden layer, so
    // I-AutoRec trails BiasedMF on this rank-10 planted data; on MovieLens it leads).
    assert!(rmse < floor - 0.03, "I-AutoRec {rmse} vs bias-only {floor}");
    assert_eq!(
        IAutoRec::train(&split, &cfg).unwrap(),
        model,
        "deterministic"
    );
    let n = split.all_known().len();
    let all = model.predict(n - 1);
    assert_eq!(all.len(), split.items);
    assert!((model.predict_one(n - 1, 3).unwrap() - all[3]).abs() < 1e-4);
    assert!(model.predict(n).is_empty());
}

#[test]
fn invalid_configurations_are_refused() {
    let split = synthetic_split();
    let mf = BiasedMfConfig {
        dim: 0,
        ..BiasedMfConfig::default()
    };
    assert!(BiasedMf::train(&split, &mf).is_err());
    let ar = IAutoRecConfig {
        batch: 0,
        ..IAutoRecConfig::default()
    };
    assert!(IAutoRec::train(&split, &ar).is_err());
    let empty = Split {
        items: 10,
        train: Vec::new(),
        validation: Vec::new(),
        test: Vec::new(),
        scale: Default::default(),
    };
    assert!(BiasedMf::train(&empty, &BiasedMfConfig::default()).is_err());
    assert!(IAutoRec::train(&empty, &IAutoRecConfig::default()).is_err());
}

#[test]
fn movielens_100k_protocol() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/movielens-100k/u.data");
    if !path.exists() {
        eprintln!(
            "skipping: {} not found (MovieLens may not be redistributed)",
            path.display()
        );
        return;
    }
    let data = Dataset::load_movielens(&path).unwrap();
    let split = Split::paper(&data, 1);
    let floor = bias_only_rmse(&split);
    let mf = BiasedMf::train(&split, &BiasedMfConfig::default()).unwrap();
    // Measured (seed 1): bias-only 0.988, BiasedMF 0.915, I-AutoRec 0.916 (best epoch 18).
    let ar = IAutoRec::train(
        &split,
        &IAutoRecConfig {
            epochs: 30,
            ..IAutoRecConfig::default()
        },
    )
    .unwrap();
    let (mf_rmse, ar_rmse) = (mf.test_rmse(&split), ar.test_rmse(&split));
    eprintln!(
        "MovieLens 100K, seed 1: bias-only {floor:.4}, BiasedMF {mf_rmse:.4}, I-AutoRec {ar_rmse:.4}"
    );
    assert!(
        mf_rmse < 0.97 && mf_rmse < floor,
        "BiasedMF {mf_rmse} vs bias-only {floor}"
    );
    assert!(
        ar_rmse < 0.97 && ar_rmse < floor,
        "I-AutoRec {ar_rmse} vs bias-only {floor}"
    );
}
