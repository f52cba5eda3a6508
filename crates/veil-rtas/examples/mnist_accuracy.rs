//! Real MNIST under plaintext, RTAS and RTAS-fast: logistic regression ("is it a 0", sec. 5.3)
//! and the paper's CNN (conv 4x4 stride 2, sec. 5.4), with the test accuracy after every epoch,
//! the largest deviation of the secure scores from the plaintext ones (a truncation failure
//! shows as a deviation of about 2^32, see docs/rtas.md), and time, bytes and rounds per party
//! (three threads over loopback TCP).
//!
//! `cargo run --release -p veil-rtas --example mnist_accuracy -- [lr|cnn|cnn-relu] [epochs] [dir] [train]
//! [rate] [val]`
//!
//! `dir` defaults to `../shared/data/mnist`: with only the t10k files, a seeded split of the
//! 10,000 images into 8,000 / 2,000; with the train files too, 60,000 / 10,000. `train`, if
//! given and not 0, keeps only the first `train` training images (for quick checks). `rate` is the
//! SGD learning rate (default 0.1, the paper's). With `val`, only the plaintext model runs, on a
//! validation split of the training images (2,000 held out with seed 7): for choosing the rate
//! without looking at the test images.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use veil_rtas::ProtocolConfig;
use veil_rtas::model::{
    Activation, CnnSpec, Dataset, Mode, ModelSpec, TrainConfig, accuracy, load_mnist,
    train_plain_epochs, train_tcp_local,
};
use veil_rtas::transport::{Security, TcpOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned();
    let model_name = arg(0).unwrap_or_else(|| "lr".into());
    let epochs: usize = arg(1).map_or(10, |e| e.parse().unwrap());
    let dir = arg(2).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist"),
        PathBuf::from,
    );
    let (mut train, mut test) = load_mnist(&dir, 2000, 42).unwrap();
    let rate: f64 = arg(4).map_or(0.1, |r| r.parse().unwrap());
    let validate = arg(5).as_deref() == Some("val");
    if let Some(n) = arg(3)
        .map(|n| n.parse::<usize>().unwrap())
        .filter(|&n| n > 0)
    {
        let keep: Vec<usize> = (0..n.min(train.len())).collect();
        train = Dataset {
            x: train.x.select(ndarray::Axis(0), &keep),
            labels: keep.iter().map(|&i| train.labels[i]).collect(),
        };
    }
    if validate {
        (train, test) = train.split(2000, 7);
    }
    let model = match model_name.as_str() {
        "cnn" => ModelSpec::Cnn(CnnSpec::mnist()),
        // The paper's activation after the convolution (sec. 5.4, layer 1).
        "cnn-relu" => ModelSpec::Cnn(CnnSpec {
            activation: Activation::Relu,
            ..CnnSpec::mnist()
        }),
        _ => ModelSpec::Logistic { features: 784 },
    };
    println!(
        "{model_name} on {} training / {} test images from {}, {epochs} epochs, batch 32, learning rate {rate}, seed 1{}",
        train.len(),
        test.len(),
        dir.display(),
        if validate { " (validation split)" } else { "" }
    );
    let config = |mode| TrainConfig {
        eval_each_epoch: true,
        learning_rate: rate,
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
    let mut deviations: Vec<Vec<f64>> = Vec::new();
    let modes = if validate {
        &[][..]
    } else {
        &[("RTAS", Mode::Rtas), ("RTAS-fast", Mode::RtasFast)][..]
    };
    for &(name, mode) in modes {
        let t = Instant::now();
        let report = train_tcp_local(
            &config(mode),
            &ProtocolConfig::default(),
            &TcpOptions::default(),
            Security::Noise,
            &train,
            &test,
        )
        .unwrap();
        let p0 = &report.parties[0];
        // Largest |secure - plaintext| score per epoch. A truncation failure moves a weight by
        // about 2^32: into the output layer it shows at once; into a hidden unit's inputs it
        // saturates that unit, which shows as a lasting jump of the deviation.
        let devs: Vec<f64> = p0
            .epoch_scores
            .iter()
            .zip(&plain)
            .map(|(a, b)| {
                a.iter()
                    .zip(b.iter())
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0_f64, f64::max)
            })
            .collect();
        println!(
            "{name}: {:.1} s in all; max |score - plaintext| {:.2e}; epochs with a score off by > 1e3: {}",
            t.elapsed().as_secs_f64(),
            devs.iter().copied().fold(0.0_f64, f64::max),
            devs.iter().filter(|&&d| d > 1e3).count()
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
        deviations.push(devs);
    }
    let names: Vec<&str> = curves.iter().map(|c| c.0).collect();
    let dev_names: Vec<String> = names[1..].iter().map(|n| format!("{n} max dev")).collect();
    println!(
        "| epoch | {} | {} |",
        names.join(" | "),
        dev_names.join(" | ")
    );
    println!("|---|{}", "---|".repeat(names.len() + dev_names.len()));
    for e in 0..epochs {
        let mut cells: Vec<String> = curves
            .iter()
            .map(|(_, c)| {
                c.get(e)
                    .map_or("-".into(), |a| format!("{:.2}%", 100.0 * a))
            })
            .collect();
        cells.extend(
            deviations
                .iter()
                .map(|d| d.get(e).map_or("-".into(), |v| format!("{v:.1e}"))),
        );
        println!("| {} | {} |", e + 1, cells.join(" | "));
    }
}
