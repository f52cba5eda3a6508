//! Criterion benchmarks of `veil-ive`: the server's lookup for one query ciphertext (N indices
//! under BFV, N/2 under CKKS) with IVE, and the one-hot baselines' cost per table row, under
//! 128-bit parameters (BFV: t = 65537; CKKS: scale 2^49).
//!
//! | id                                     | what is timed                                                   |
//! | -------------------------------------- | --------------------------------------------------------------- |
//! | `lookup/n=N/method=ive/p=P/d=D`        | power vector, change of basis, relinearization, flooding, switch |
//! | `lookup/n=N/scheme=bfv/method=ive-digits/p=P/d=D` | digit decomposition (`veil_ive::digits`), the cheapest split that fits N's depth: per-digit power vectors, outer one-hot, inner change of basis, digit products, reply |
//! | `onehot_row/n=32768/t=65537`           | one equality test 1 - (x - k)^(t-1) on a full ciphertext (16 squarings): the one-hot vector costs p of them |
//! | `lookup/n=N/scheme=ckks/method=ive/p=P/d=D` | CKKS, DCT basis, scale 2^49 (`ive_ckks_parameters`): power vector, change of basis, reply (relinearize, rescale, flooding) |
//! | `onehot_row/n=65536/scheme=ckks/p=P`   | one KPLC24 equality function for a domain of P values (scale 2^49): the CKKS one-hot vector costs P of them |
//!
//! Amortized time per lookup is the lookup time divided by N. Select with a filter:
//! `cargo bench -p veil-benches --bench ive -- '^lookup/n=16384'`. One iteration takes seconds,
//! so every group uses criterion's minimum of 10 samples.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use veil_bfv::Ciphertext;
use veil_ive::bfv::{BfvClient, BfvServer};
use veil_ive::ckks::CkksServer;
use veil_ive::dct::chebyshev_node;
use veil_ive::eef::{EefRounds, equality};
use veil_ive::measure::{preset_for, random_table, setup};
use veil_ive::measure_ckks::{ckks_setup, random_real_table};
use veil_ive::onehot::pow;
use veil_ive::{
    CiphertextCodec, DigitBasis, DigitTable, ExactBasis, IveClient, IveScheme, IveTable,
};

/// Keys, a prepared random p x d table and a query ciphertext of N random nodes.
fn fixture(n: usize, p: usize, d: usize) -> (BfvClient, BfvServer, IveTable<u64>, Ciphertext) {
    let params = preset_for(n).expect("preset");
    let (client, server) = setup(&params, p).expect("keys");
    let t = params.plaintext();
    let basis = ExactBasis::roots_of_unity(p, t).expect("basis");
    let table = IveTable::exact(&random_table(p, d, 8, 1).expect("table"), &basis, t).expect("M");
    let nodes: Vec<u64> = (0..n)
        .map(|s| basis.node((s * 7919) % p, t).expect("node"))
        .collect();
    let x = client.encrypt(&nodes).expect("query");
    (client, server, table, x)
}

fn lookups(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    for (n, ps) in [
        (16384usize, &[16usize, 64, 256][..]),
        (32768, &[256, 1024][..]),
    ] {
        for &p in ps {
            for d in [16usize, 64] {
                // The fixture is built only when the filter selects this benchmark.
                g.bench_function(format!("n={n}/method=ive/p={p}/d={d}"), |b| {
                    let (_client, server, table, x) = fixture(n, p, d);
                    b.iter(|| black_box(table.lookup(&server, &x).expect("lookup")))
                });
            }
        }
    }
    g.finish();
}

/// Keys, a random p x d table prepared with the cheapest digit split that fits N's depth, and
/// one query ciphertext per digit (N random indices).
fn digit_fixture(n: usize, p: usize, d: usize) -> (BfvServer, DigitTable<u64>, Vec<Ciphertext>) {
    let params = preset_for(n).expect("preset");
    let (client, server) = setup(&params, p).expect("keys");
    let t = params.plaintext();
    let max_depth = (0..=40u32)
        .rev()
        .find(|&k| server.fits_depth(k).is_ok())
        .expect("some depth fits");
    let basis = DigitBasis::cheapest(p, d, 2, max_depth, t).expect("digits");
    let table =
        DigitTable::exact(&random_table(p, d, 8, 1).expect("table"), &basis, t).expect("prepared");
    let mut nodes = vec![Vec::new(); basis.digits().len()];
    for s in 0..n {
        for (digit, node) in nodes
            .iter_mut()
            .zip(basis.nodes((s * 7919) % p, t).expect("node"))
        {
            digit.push(node);
        }
    }
    let xs = nodes
        .iter()
        .map(|v| client.encrypt(v).expect("query"))
        .collect();
    (server, table, xs)
}

fn digit_lookups(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    for (n, ps) in [
        (16384usize, &[256usize, 1024, 4096][..]),
        (32768, &[1024, 4096, 16384][..]),
    ] {
        for &p in ps {
            let d = 16;
            g.bench_function(
                format!("n={n}/scheme=bfv/method=ive-digits/p={p}/d={d}"),
                |b| {
                    let (server, table, xs) = digit_fixture(n, p, d);
                    b.iter(|| black_box(table.lookup(&server, &xs).expect("lookup")))
                },
            );
        }
    }
    g.finish();
}

fn one_hot_row(c: &mut Criterion) {
    let mut g = c.benchmark_group("onehot_row");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    g.bench_function("n=32768/t=65537", |b| {
        let (client, server, _, _) = fixture(32768, 2, 1);
        let t = client.parameters().plaintext_modulus();
        let x = client.encrypt(&[1, 2, 3]).expect("query");
        b.iter(|| {
            let diff = server.add_scalar(&x, server.scalar(-2)).expect("x - k");
            black_box(pow(&server, &diff, t - 1, 0).expect("power"))
        })
    });
    g.finish();
}

/// CKKS keys, a prepared random p x d table (DCT basis) and a query of N/2 random nodes.
fn ckks_fixture(
    n: usize,
    p: usize,
    d: usize,
) -> (CkksServer, IveTable<f64>, veil_ckks::Ciphertext) {
    let (client, server) = ckks_setup(n, 49).expect("keys");
    let table = IveTable::dct(&random_real_table(p, d, 1).expect("table")).expect("M");
    let nodes: Vec<f64> = (0..server.slots())
        .map(|s| chebyshev_node((s * 7919) % p, p).expect("node"))
        .collect();
    let x = client.encrypt(&nodes).expect("query");
    (server, table, x)
}

fn ckks_lookups(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    for (n, ps) in [
        (32768usize, &[16usize, 64, 256, 1024][..]),
        (65536, &[16, 64, 256, 1024][..]),
    ] {
        for &p in ps {
            for d in [16usize, 64] {
                g.bench_function(format!("n={n}/scheme=ckks/method=ive/p={p}/d={d}"), |b| {
                    let (server, table, x) = ckks_fixture(n, p, d);
                    b.iter(|| black_box(table.lookup(&server, &x).expect("lookup")))
                });
            }
        }
    }
    g.finish();
    let mut g = c.benchmark_group("onehot_row");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    for p in [16usize, 64, 256, 1024] {
        g.bench_function(format!("n=65536/scheme=ckks/p={p}"), |b| {
            let (client, server) = ckks_setup(65536, 49).expect("keys");
            let rounds = EefRounds::kplc24(p, 49).expect("rounds");
            let x = client.encrypt(&[1.0, 2.0, 3.0]).expect("query");
            b.iter(|| black_box(equality(&server, &x, 2, p, rounds).expect("equality")))
        });
    }
    g.finish();
}

criterion_group!(benches, lookups, digit_lookups, one_hot_row, ckks_lookups);
criterion_main!(benches);
