//! Criterion benchmarks of `veil-reacthe`: the server's evaluation of a ReActHE network on one
//! batch of encrypted samples (one sample per slot, so the time is the same for 1 or N/2 samples).
//!
//! | id                                              | what is timed                                   |
//! | ----------------------------------------------- | ----------------------------------------------- |
//! | `server/n=16384/d=D/width=W/blocks=B/out=K`     | input projection, B residual blocks, head, drop to level 0 |
//!
//! Weights are a seeded initialisation (timing does not depend on their values). One iteration
//! takes about a second: criterion's minimum of 10 samples.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use veil_ckks::{CkksParameters, Preset};
use veil_reacthe::{Architecture, Client, Network, Server, Standardizer, Task};

fn server(c: &mut Criterion) {
    let mut g = c.benchmark_group("server");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let params = CkksParameters::preset(Preset::N16384).expect("preset");
    let client = Client::new(&params).expect("keys");
    // digits-like (64 -> 32 -> 10) and breast_cancer-like (30 -> 32 -> 1).
    for (d, k) in [(64usize, 10usize), (30, 1)] {
        let (width, blocks) = (32, 2);
        let std = Standardizer {
            mean: vec![0.0; d],
            std: vec![1.0; d],
        };
        let task = if k == 1 {
            Task::Binary
        } else {
            Task::MultiClass(k)
        };
        let net = Network::new(Architecture::reacthe(width, blocks, 0.1), task, d, std, 1)
            .expect("network");
        let x = Array2::from_shape_fn((360, d), |(i, j)| ((i + 3 * j) % 7) as f64 / 7.0 - 0.5);
        let cts = client.encrypt_batch(&x).expect("encrypt");
        let srv = Server::new(&net, client.relinearization_key()).expect("server");
        g.bench_function(
            format!("n=16384/d={d}/width={width}/blocks={blocks}/out={k}"),
            |b| b.iter(|| black_box(srv.evaluate(&cts).expect("evaluate"))),
        );
    }
    g.finish();
}

criterion_group!(benches, server);
criterion_main!(benches);
