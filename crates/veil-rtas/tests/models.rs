//! Logistic regression and the CNN on the real digits data: RTAS and RTAS-fast against the
//! plaintext reference with the same seed, batches and hyperparameters (target: within 1
//! percentage point). Skips with a message when the data set is absent.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use veil_rtas::ProtocolConfig;
use veil_rtas::model::{
    CnnSpec, Dataset, Mode, ModelSpec, TrainConfig, load_digits, train_local, train_plain,
};

fn digits() -> Option<(Dataset, Dataset)> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sklearn/digits.csv");
    if !path.exists() {
        eprintln!("skipped: {} is absent", path.display());
        return None;
    }
    let data = load_digits(&path).unwrap();
    assert_eq!((data.len(), data.x.ncols()), (1797, 64));
    Some(data.split(360, 42))
}

fn compare(model: ModelSpec, mode: Mode, epochs: usize) {
    let Some((train, test)) = digits() else {
        return;
    };
    let config = TrainConfig::paper(model, mode, epochs);
    let (_, plain) = train_plain(&config, &train, &test).unwrap();
    let start = Instant::now();
    let report = train_local(&config, &ProtocolConfig::default(), &train, &test).unwrap();
    let p0 = &report.parties[0];
    println!(
        "{model:?} {mode:?} epochs {epochs}: plaintext {:.2}% secure {:.2}% ({} steps, {:.2} s training, {:.1} ms/step, P0 sent {:.2} MB in {} rounds, P1 {:.2} MB, P2 {:.2} MB; whole run {:.1} s)",
        100.0 * plain,
        100.0 * report.accuracy,
        p0.steps,
        p0.train_seconds,
        1000.0 * p0.train_seconds / p0.steps as f64,
        p0.train_stats.bytes_sent as f64 / 1e6,
        p0.train_stats.rounds,
        report.parties[1].train_stats.bytes_sent as f64 / 1e6,
        report.parties[2].stats.bytes_sent as f64 / 1e6,
        start.elapsed().as_secs_f64(),
    );
    assert!(
        (report.accuracy - plain).abs() <= 0.01 + 1e-9,
        "secure {} vs plaintext {}",
        report.accuracy,
        plain
    );
}

#[test]
fn logistic_regression_rtas() {
    compare(ModelSpec::Logistic { features: 64 }, Mode::Rtas, 40);
}

#[test]
fn logistic_regression_rtas_fast() {
    compare(ModelSpec::Logistic { features: 64 }, Mode::RtasFast, 40);
}

#[test]
fn cnn_rtas() {
    compare(ModelSpec::Cnn(CnnSpec::digits()), Mode::Rtas, 40);
}

#[test]
fn cnn_rtas_fast() {
    compare(ModelSpec::Cnn(CnnSpec::digits()), Mode::RtasFast, 40);
}
