//! Real MNIST (the t10k images in `../shared/data/mnist`, split 8,000 / 2,000 with seed 42), short
//! runs that fit in CI: logistic regression ("is it a 0") for 2 epochs and the 28 x 28 CNN for
//! one epoch on 4,000 of the training images, under RTAS and RTAS-fast against the plaintext
//! reference with the same seed and batches, accuracy after every epoch. The full 10-epoch runs
//! quoted in docs/rtas.md are `examples/mnist_accuracy.rs`. Skips when the data is absent.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use ndarray::Axis;
use veil_rtas::ProtocolConfig;
use veil_rtas::model::{
    CnnSpec, Dataset, Mode, ModelSpec, TrainConfig, accuracy, load_mnist, train_local,
    train_plain_epochs,
};

fn mnist(train_images: usize) -> Option<(Dataset, Dataset)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if !dir.join("t10k-images-idx3-ubyte.gz").exists() {
        eprintln!("skipped: no MNIST test set in {}", dir.display());
        return None;
    }
    let (train, test) = load_mnist(&dir, 2000, 42).unwrap();
    assert_eq!(
        (train.len(), test.len(), train.x.ncols()),
        (8000, 2000, 784)
    );
    assert!(train.x.iter().all(|p| (0.0..=1.0).contains(p)));
    let keep: Vec<usize> = (0..train_images).collect();
    let train = Dataset {
        x: train.x.select(Axis(0), &keep),
        labels: train.labels[..train_images].to_vec(),
    };
    Some((train, test))
}

/// Trains in the clear and in `mode`, checks the per-epoch accuracies agree within half a point
/// and that no score strays (a truncation failure moves a weight by about 2^32), and returns
/// the last plaintext accuracy.
fn compare(model: ModelSpec, mode: Mode, epochs: usize, train_images: usize) -> Option<f64> {
    let (train, test) = mnist(train_images)?;
    let config = TrainConfig {
        eval_each_epoch: true,
        ..TrainConfig::paper(model, mode, epochs)
    };
    let (_, plain) = train_plain_epochs(&config, &train, &test).unwrap();
    let report = train_local(&config, &ProtocolConfig::default(), &train, &test).unwrap();
    let p0 = &report.parties[0];
    assert_eq!((plain.len(), p0.epoch_scores.len()), (epochs, epochs));
    for (e, (p, s)) in plain.iter().zip(&p0.epoch_scores).enumerate() {
        let (pa, sa) = (accuracy(&model, p, &test.labels), report.epoch_accuracy[e]);
        let dev = p
            .iter()
            .zip(s)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!(
            "{model:?} {mode:?} epoch {}: plaintext {:.2}% secure {:.2}%, max score deviation {dev:.1e}",
            e + 1,
            100.0 * pa,
            100.0 * sa
        );
        assert!((pa - sa).abs() <= 0.005 + 1e-9, "epoch {e}: {sa} vs {pa}");
        assert!(dev < 0.1, "epoch {e}: a score is off by {dev}");
    }
    plain.last().map(|p| accuracy(&model, p, &test.labels))
}

#[test]
fn logistic_regression_rtas() {
    if let Some(plain) = compare(ModelSpec::Logistic { features: 784 }, Mode::Rtas, 2, 8000) {
        assert!(plain >= 0.97, "plaintext LR {plain}");
    }
}

#[test]
fn logistic_regression_fast() {
    compare(
        ModelSpec::Logistic { features: 784 },
        Mode::RtasFast,
        2,
        8000,
    );
}

#[test]
fn cnn_rtas() {
    // One epoch of 125 steps: the sigmoid CNN is still early in training (about 70% after the
    // 250 steps of a full epoch), but well above chance (10%).
    if let Some(plain) = compare(ModelSpec::Cnn(CnnSpec::mnist()), Mode::Rtas, 1, 4000) {
        assert!(plain >= 0.2, "plaintext CNN {plain}");
    }
}

#[test]
fn cnn_fast() {
    compare(ModelSpec::Cnn(CnnSpec::mnist()), Mode::RtasFast, 1, 4000);
}
