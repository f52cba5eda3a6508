//! Criterion benchmarks of `veil-rtas` at the paper's MNIST shapes (sec. 5.3-5.4), with the
//! three parties as **threads of this process, each on its own loopback TCP endpoint**
//! (`train_tcp_local`): the protocol, framing and kernel copies of three processes without their
//! start-up. The three-process figures come from `scripts/bench_rtas.py` (`veil rtas launch`).
//!
//! | group            | ids                                                     |
//! | ---------------- | ------------------------------------------------------- |
//! | `lr_train_step`  | `lr_train_step/batch=32/features=784/mode=M/channel=C`  |
//! | `cnn_train_step` | `cnn_train_step/batch=32/shape=28x28/mode=M/channel=C`  |
//! | `cnn_infer`      | `cnn_infer/batch=8192/shape=28x28/mode=M/channel=C`     |
//!
//! M is `rtas` or `fast` (RTAS-fast); C is `noise` (the default channel: Noise KK, AES-GCM) or
//! `plain` (plaintext TCP), side by side for the channel's overhead. Each measurement is P0's wall-clock time for the measured
//! part only (SGD steps, or one inference), reported by the parties themselves (`iter_custom`);
//! connection set-up and the dealing of the synthetic inputs are not timed. Threads: rayon's
//! default (all cores, shared by the three parties); `RAYON_NUM_THREADS=1 cargo bench --bench rtas`
//! for one thread per party. Under `cargo test --benches` the inference batch shrinks to 64.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use veil_rtas::ProtocolConfig;
use veil_rtas::model::{
    CnnSpec, Mode, ModelSpec, TrainConfig, TrainReport, synthetic_mnist, train_tcp_local,
};
use veil_rtas::transport::{Security, TcpOptions};

/// Most SGD steps run in one session (the synthetic training set is dealt per session).
const STEPS_PER_SESSION: u64 = 100;

fn test_mode() -> bool {
    static TEST: OnceLock<bool> = OnceLock::new();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    *TEST.get_or_init(|| !std::env::args().any(|a| a == "--bench"))
}

fn modes() -> [(Mode, &'static str); 2] {
    [(Mode::Rtas, "rtas"), (Mode::RtasFast, "fast")]
}

fn channels() -> [(Security, &'static str); 2] {
    [
        (Security::Noise, "noise"),
        (Security::InsecurePlaintext, "plain"),
    ]
}

fn run(model: ModelSpec, mode: Mode, sec: Security, steps: usize, infer: usize) -> TrainReport {
    let config = TrainConfig::paper(model, mode, usize::from(steps > 0));
    let train = synthetic_mnist(steps * 32, 1);
    let test = synthetic_mnist(infer, 2);
    match train_tcp_local(
        &config,
        &ProtocolConfig::default(),
        &TcpOptions::default(),
        sec,
        &train,
        &test,
    ) {
        Ok(r) => r,
        Err(e) => panic!("protocol run failed: {e}"),
    }
}

/// Total P0 training time of `iters` steps, in sessions of at most [`STEPS_PER_SESSION`].
fn train_time(model: ModelSpec, mode: Mode, sec: Security, iters: u64) -> Duration {
    let mut left = iters;
    let mut total = Duration::ZERO;
    while left > 0 {
        let steps = left.min(STEPS_PER_SESSION);
        let r = run(model, mode, sec, steps as usize, 1);
        total += Duration::from_secs_f64(r.parties[0].train_seconds);
        black_box(r.accuracy);
        left -= steps;
    }
    total
}

fn bench_train(c: &mut Criterion) {
    for (name, model, shape) in [
        (
            "lr_train_step",
            ModelSpec::Logistic { features: 784 },
            "features=784",
        ),
        (
            "cnn_train_step",
            ModelSpec::Cnn(CnnSpec::mnist()),
            "shape=28x28",
        ),
    ] {
        let mut g = c.benchmark_group(name);
        g.sample_size(10).measurement_time(Duration::from_secs(5));
        for (mode, m) in modes() {
            for (sec, ch) in channels() {
                g.bench_function(format!("batch=32/{shape}/mode={m}/channel={ch}"), |b| {
                    b.iter_custom(|iters| train_time(model, mode, sec, iters));
                });
            }
        }
        g.finish();
    }
}

fn bench_infer(c: &mut Criterion) {
    let batch = if test_mode() { 64 } else { 8192 };
    let mut g = c.benchmark_group("cnn_infer");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for (mode, m) in modes() {
        for (sec, ch) in channels() {
            g.bench_function(
                format!("batch={batch}/shape=28x28/mode={m}/channel={ch}"),
                |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| {
                                let r = run(ModelSpec::Cnn(CnnSpec::mnist()), mode, sec, 0, batch);
                                Duration::from_secs_f64(r.parties[0].infer_seconds)
                            })
                            .sum()
                    });
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench_train, bench_infer);
criterion_main!(benches);
