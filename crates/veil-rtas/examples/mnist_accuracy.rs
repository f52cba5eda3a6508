//! Real MNIST under plaintext, RTAS and RTAS-fast: logistic regression ("is it a 0", sec. 5.3)
//! and the paper's CNN (conv 4x4 stride 2, sec. 5.4), with the test accuracy after every epoch,
//! the largest deviation of the secure scores from the plaintext ones (a truncation failure
//! shows as a deviation of about 2^32, see docs/rtas.md), and time, bytes and rounds per party
//! (three threads over loopback TCP).
//!
//! `cargo run --release -p veil-rtas --example mnist_accuracy -- [lr|cnn] [epochs] [dir] [train]`
//!
//! `dir` defaults to `../shared/data/mnist`: with only the t10k files, a seeded split of the
//! 10,000 images into 8,000 / 2,000; with the train files too, 60,000 / 10,000. `train`, if
//! given, keeps only the first `train` training images (for quick checks).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use veil_rtas::ProtocolConfig;
use veil_rtas::model::{
    CnnSpec, Dataset, Mode, ModelSpec, TrainConfig, accuracy, load_mnist, train_plain_epochs,
    train_tcp_local,
};
use veil_rtas::transport::TcpOptions;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned();
    let model_name = arg(0).unwrap_or_else(|| "lr".into());
    let epochs: usize = arg(1).map_or(10, |e| e.parse().unwrap());
    let dir = arg(2).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist"),
        PathBuf::from,
    );
    let (mut train, test) = load_mnist(&dir, 2000, 42).unwrap();
    if let Some(n) = arg(3).map(|n| n.parse::<usize>().unwrap()) {
        let keep: Vec<usize> = (0..n.min(train.len())).collect();
        train = Dataset {
            x: train.x.select(ndarray::Axis(0), &keep),
            labels: keep.iter().map(|&i| train.labels[i]).collect(),
        };
    }
    let model = match model_name.as_str() {
        "cnn" => ModelSpec::Cnn(CnnSpec::mnist()),
        _ => ModelSpec::Logistic { features: 784 },
    };
    println!(
        "{model_name} on {} training / {} test images from {}, {epochs} epochs, batch 32, lr 0.1, seed 1",
        train.len(),
        test.len(),
        dir.display()
    );
    let config = |mode| TrainConfig {
        eval_each_epoch: true,
        ..TrainConfig::paper(model, mode, epochs)
    };
    let t = Instant::now();
    let (_, plain) = train_plain_epochs(&config(Mode::Rtas), &train, &test).unwrap();
    println!("plaintext f64: {:.1} s", t.elapsed().as_secs_f64());
    let acc = |scores: &[ndarray::Array2<f64>]| -> Vec<f64> {
        scores
            .iter()
            .map(|s| accuracy(&model, s, &test.labels))
            .collect()
    };
    let mut curves = vec![("plaintext", acc(&plain))];
    for (name, mode) in [("RTAS", Mode::Rtas), ("RTAS-fast", Mode::RtasFast)] {
        let t = Instant::now();
        let report = train_tcp_local(
            &config(mode),
            &ProtocolConfig::default(),
            &TcpOptions::default(),
            &train,
            &test,
        )
        .unwrap();
        let p0 = &report.parties[0];
        // Largest |secure - plaintext| score over all epochs and test images.
        let dev = p0
            .epoch_scores
            .iter()
            .zip(&plain)
            .flat_map(|(a, b)| a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()))
            .fold(0.0_f64, f64::max);
        let failures = p0
            .epoch_scores
            .iter()
            .zip(&plain)
            .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| (x - y).abs() > 1e3))
            .count();
        println!(
            "{name}: {:.1} s in all; max |score - plaintext| {dev:.2e}; epochs with a score off by > 1e3 (truncation failure): {failures}",
            t.elapsed().as_secs_f64()
        );
        for p in &report.parties[..2] {
            let steps = p.steps.max(1) as f64;
            println!(
                "  {}: {} steps, train {:.1} s ({:.2} ms/step), sent {:.3} MB/step, {} rounds/step | \
                 inference on {} images {:.3} s, sent {:.2} MB, {} rounds",
                p.role,
                p.steps,
                p.train_seconds,
                1e3 * p.train_seconds / steps,
                p.train_stats.bytes_sent as f64 / 1e6 / steps,
                p.train_stats.rounds as f64 / steps,
                test.len(),
                p.infer_seconds,
                p.infer_stats.bytes_sent as f64 / 1e6,
                p.infer_stats.rounds,
            );
        }
        // The helper cannot tell training from evaluation: its figures cover the whole run.
        let p2 = &report.parties[2];
        println!(
            "  P2 (whole run, with the per-epoch evaluations): {:.1} s, sent {:.2} MB, {} rounds",
            p2.train_seconds,
            p2.stats.bytes_sent as f64 / 1e6,
            p2.stats.rounds
        );
        curves.push((name, report.epoch_accuracy));
    }
    println!(
        "| epoch | {} |",
        curves.iter().map(|c| c.0).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|{}", "---|".repeat(curves.len()));
    for e in 0..epochs {
        let cells: Vec<String> = curves
            .iter()
            .map(|(_, c)| {
                c.get(e)
                    .map_or("-".into(), |a| format!("{:.2}%", 100.0 * a))
            })
            .collect();
        println!("| {} | {} |", e + 1, cells.join(" | "));
    }
}
