//! Times the paper's MNIST shapes with the three parties as threads over loopback TCP.
//!
//! `cargo run --release -p veil-rtas --example mnist_timing -- [lr|cnn] [rtas|fast] [steps] [infer]
//! [noise|plain]` trains `steps` SGD steps of batch 32 on synthetic 28 x 28 images, then infers on
//! `infer` images, and prints the per-step and inference times and traffic of every party (over
//! Noise by default, or plaintext TCP).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use veil_rtas::ProtocolConfig;
use veil_rtas::model::{CnnSpec, Mode, ModelSpec, TrainConfig, synthetic_mnist, train_tcp_local};
use veil_rtas::transport::{Security, TcpOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_owned());
    let model = match arg(0, "cnn").as_str() {
        "lr" => ModelSpec::Logistic { features: 784 },
        _ => ModelSpec::Cnn(CnnSpec::mnist()),
    };
    let mode = match arg(1, "rtas").as_str() {
        "fast" => Mode::RtasFast,
        _ => Mode::Rtas,
    };
    let steps: usize = arg(2, "20").parse().unwrap();
    let infer: usize = arg(3, "8192").parse().unwrap();
    let config = TrainConfig::paper(model, mode, usize::from(steps > 0));
    let train = synthetic_mnist((steps * 32).max(32), 1);
    let test = synthetic_mnist(infer, 2);
    let t = std::time::Instant::now();
    let report = train_tcp_local(
        &config,
        &ProtocolConfig::default(),
        &TcpOptions::default(),
        if arg(4, "noise") == "plain" {
            Security::InsecurePlaintext
        } else {
            Security::Noise
        },
        &train,
        &test,
    )
    .unwrap();
    println!(
        "{} {:?} steps={} infer={infer} (whole run incl. dealing {:.2} s)",
        arg(0, "cnn"),
        mode,
        report.parties[0].steps,
        t.elapsed().as_secs_f64()
    );
    for p in &report.parties {
        let per_step = p.train_seconds / p.steps.max(1) as f64;
        println!(
            "  {}: train {:.2} ms/step, {:.3} MB sent/step, {} rounds/step | infer {:.3} s, sent {:.2} MB, {} rounds | total sent {:.2} MB",
            p.role,
            1e3 * per_step,
            p.train_stats.bytes_sent as f64 / 1e6 / p.steps.max(1) as f64,
            p.train_stats.rounds / p.steps.max(1) as u64,
            p.infer_seconds,
            p.infer_stats.bytes_sent as f64 / 1e6,
            p.infer_stats.rounds,
            p.stats.bytes_sent as f64 / 1e6
        );
    }
}
