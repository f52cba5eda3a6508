//! Criterion benchmarks of `veil-ckks` (in progress: the slot encoder).
//!
//! | group    | ids                                              |
//! | -------- | ------------------------------------------------ |
//! | `encode` | `encode/n=N/scale=2^40` (N/2 complex slots)      |
//! | `decode` | `decode/n=N/scale=2^40`                          |
//!
//! N is 8192, 16384 and 32768, the degrees of the CKKS presets to come. One thread (the encoder
//! does not use rayon). Each fixture is checked by a round trip before it is timed.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use veil_ckks::{Complex64, SlotEncoder};

const DEGREES: [usize; 3] = [8192, 16384, 32768];
const LOG_SCALE: i32 = 40;

fn fixture(n: usize) -> (SlotEncoder, Vec<Complex64>, Vec<i64>) {
    let enc = SlotEncoder::new(n).expect("degree");
    let z: Vec<Complex64> = (0..n / 2)
        .map(|j| Complex64::new((j as f64 * 0.37).sin(), (j as f64 * 0.11).cos()))
        .collect();
    let scale = 2f64.powi(LOG_SCALE);
    let m = enc.encode(&z, scale).expect("encode");
    let back = enc.decode(&m, scale).expect("decode");
    let err = z
        .iter()
        .zip(&back)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    assert!(err < 1e-8, "round trip at n={n}: {err:e}");
    (enc, z, m)
}

fn bench_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    for n in DEGREES {
        let (enc, z, _) = fixture(n);
        let scale = 2f64.powi(LOG_SCALE);
        g.bench_function(format!("n={n}/scale=2^{LOG_SCALE}"), |b| {
            b.iter(|| enc.encode(black_box(&z), scale).expect("encode"))
        });
    }
    g.finish();
}

fn bench_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for n in DEGREES {
        let (enc, _, m) = fixture(n);
        let scale = 2f64.powi(LOG_SCALE);
        g.bench_function(format!("n={n}/scale=2^{LOG_SCALE}"), |b| {
            b.iter(|| enc.decode(black_box(&m), scale).expect("decode"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_encode, bench_decode);
criterion_main!(benches);
