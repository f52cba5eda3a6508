//! Criterion benchmarks of `veil-ckks`, laid out to line up with Microsoft SEAL's CKKS
//! (`scripts/seal_ckks_bench.py`, through TenSEAL's `sealapi`; compared by
//! `scripts/bench_ckks_vs_seal.py`).
//!
//! Every benchmark is named `op/n=N/log_q=B/threads=T`, one criterion group per op:
//!
//! | group            | what is timed                                                   | threads |
//! | ---------------- | --------------------------------------------------------------- | ------- |
//! | `encode`         | N/2 reals at scale 2^40 to a top-level plaintext (NTT form)      | 1       |
//! | `decode`         | a top-level plaintext back to N/2 complex slots                  | 1       |
//! | `encrypt_public` | public-key encryption at the top level, OS randomness            | 1, all  |
//! | `decrypt`        | decryption of a fresh ciphertext to a plaintext                  | 1, all  |
//! | `add`            | ciphertext + ciphertext                                          | 1       |
//! | `mul_plain`      | ciphertext x plaintext of the same level                         | 1, all  |
//! | `mul`            | ciphertext x ciphertext, 3 polynomials out                       | 1, all  |
//! | `relinearize`    | the product back to 2 polynomials                                | 1, all  |
//! | `rescale`        | the relinearized product divided by the last prime               | 1, all  |
//! | `rotate_1`       | rotation of the slots by one                                     | 1, all  |
//! | `chebyshev`      | T_1..T_15 of a fresh ciphertext (depth 4; N >= 16384)           | 1, all  |
//!
//! N is 8192, 16384 and 32768 with the 128-bit presets (60-bit q_0 and special prime, 40-bit
//! rescaling primes, scale 2^40); B is log2(Q P), the special prime included. Fixed-seed keys;
//! every fixture is checked by decryption before it is timed.

use std::hint::black_box;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use veil_benches::{on, thread_counts};
use veil_ckks::{
    Ciphertext, CkksParameters, GaloisKeys, Plaintext, Preset, PublicKey, RelinearizationKey,
    Sampler, SecretKey, chebyshev_basis,
};

const PRESETS: [Preset; 3] = [Preset::N8192, Preset::N16384, Preset::N32768];
const SEED: [u8; 32] = *b"veil-ckks benchmarks, fixed seed";

struct Fixture {
    params: Arc<CkksParameters>,
    sk: SecretKey,
    pk: PublicKey,
    rk: RelinearizationKey,
    gk: GaloisKeys,
    values: Vec<f64>,
    pt: Plaintext,
    a: Ciphertext,
    b: Ciphertext,
    prod: Ciphertext,
    relin: Ciphertext,
}

fn worst(got: &[f64], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

impl Fixture {
    fn new(preset: Preset) -> Self {
        let started = Instant::now();
        let params = CkksParameters::preset(preset).expect("preset");
        let mut seed = SEED;
        seed[0] ^= PRESETS.iter().position(|&p| p == preset).unwrap_or(0) as u8;
        let mut sampler = Sampler::from_seed(seed);
        let sk = SecretKey::generate_with(&params, &mut sampler).expect("secret key");
        let pk = sk.public_key_with(&mut sampler).expect("public key");
        let rk = sk
            .relinearization_key_with(&mut sampler)
            .expect("relin key");
        let gk = sk
            .galois_keys_for(&[1], false, &mut sampler)
            .expect("galois");
        let values: Vec<f64> = (0..params.slots())
            .map(|j| 0.9 * (0.37 * j as f64).cos())
            .collect();
        let top = params.max_level();
        let pt = Plaintext::encode_real(&params, &values, top, params.scale()).expect("encode");
        let a = pk.encrypt_with(&pt, &mut sampler).expect("encrypt");
        let b = pk.encrypt_with(&pt, &mut sampler).expect("encrypt");
        let prod = a.mul(&b).expect("mul");
        let relin = prod.relinearize(&rk).expect("relinearize");

        let squares: Vec<f64> = values.iter().map(|v| v * v).collect();
        let dec = |c: &Ciphertext| sk.decrypt_real(c).expect("decrypt");
        assert!(
            worst(&pt.decode_real().expect("decode"), &values) < 1e-9,
            "encode"
        );
        assert!(worst(&dec(&a), &values) < 1e-6, "encrypt/decrypt");
        let sums: Vec<f64> = values.iter().map(|v| 2.0 * v).collect();
        assert!(worst(&dec(&a.add(&b).expect("add")), &sums) < 1e-6, "add");
        let plain = a
            .mul_plain(&pt)
            .expect("mul_plain")
            .rescale()
            .expect("rescale");
        assert!(worst(&dec(&plain), &squares) < 1e-5, "mul_plain");
        assert!(
            worst(&dec(&relin.rescale().expect("rescale")), &squares) < 1e-5,
            "mul"
        );
        let mut rotated = values.clone();
        rotated.rotate_left(1);
        assert!(
            // One key switching: about 2^-21 at these chains (docs/ckks.md); a sanity check.
            worst(&dec(&a.rotate(1, &gk).expect("rotate")), &rotated) < 1e-5,
            "rotate"
        );
        eprintln!(
            "veil-bench: ckks fixture n={} log_q={} ready in {:.2?}",
            params.degree(),
            params.log_qp(),
            started.elapsed()
        );
        Fixture {
            params,
            sk,
            pk,
            rk,
            gk,
            values,
            pt,
            a,
            b,
            prod,
            relin,
        }
    }
}

fn fixture(preset: Preset) -> &'static Fixture {
    static F: [OnceLock<Fixture>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = PRESETS.iter().position(|&p| p == preset).expect("preset");
    F[i].get_or_init(|| Fixture::new(preset))
}

fn shape(preset: Preset) -> (usize, u32) {
    let (n, sizes) = preset.layout();
    (n, sizes.iter().sum())
}

fn configure(g: &mut BenchmarkGroup<'_, WallTime>, preset: Preset) {
    let (samples, measure) = match preset {
        Preset::N8192 => (30, 4),
        Preset::N16384 => (20, 5),
        _ => (10, 6),
    };
    g.sample_size(samples)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(measure));
}

fn per_preset_group<R>(
    c: &mut Criterion,
    name: &str,
    threads: &[usize],
    presets: &[Preset],
    op: impl Fn(&'static Fixture) -> R + Sync,
) {
    let mut g = c.benchmark_group(name);
    for &preset in presets {
        let (n, log_q) = shape(preset);
        configure(&mut g, preset);
        for &t in threads {
            g.bench_function(format!("n={n}/log_q={log_q}/threads={t}"), |b| {
                let f = fixture(preset);
                assert_eq!(f.params.log_qp(), log_q, "log2(QP) of the id");
                on(t, || b.iter(|| op(f)));
            });
        }
    }
    g.finish();
}

fn bench_ops(c: &mut Criterion) {
    let all = thread_counts();
    per_preset_group(c, "encode", &[1], &PRESETS, |f| {
        let top = f.params.max_level();
        Plaintext::encode_real(&f.params, black_box(&f.values), top, f.params.scale())
            .expect("encode")
    });
    per_preset_group(c, "decode", &[1], &PRESETS, |f| {
        black_box(&f.pt).decode().expect("decode")
    });
    per_preset_group(c, "encrypt_public", &all, &PRESETS, |f| {
        f.pk.encrypt(black_box(&f.pt)).expect("encrypt")
    });
    per_preset_group(c, "decrypt", &all, &PRESETS, |f| {
        f.sk.decrypt(black_box(&f.a)).expect("decrypt")
    });
    per_preset_group(c, "add", &[1], &PRESETS, |f| {
        black_box(&f.a).add(black_box(&f.b)).expect("add")
    });
    per_preset_group(c, "mul_plain", &all, &PRESETS, |f| {
        black_box(&f.a)
            .mul_plain(black_box(&f.pt))
            .expect("mul_plain")
    });
    per_preset_group(c, "mul", &all, &PRESETS, |f| {
        black_box(&f.a).mul(black_box(&f.b)).expect("mul")
    });
    per_preset_group(c, "relinearize", &all, &PRESETS, |f| {
        black_box(&f.prod).relinearize(&f.rk).expect("relinearize")
    });
    per_preset_group(c, "rescale", &all, &PRESETS, |f| {
        black_box(&f.relin).rescale().expect("rescale")
    });
    per_preset_group(c, "rotate_1", &all, &PRESETS, |f| {
        black_box(&f.a).rotate(1, &f.gk).expect("rotate")
    });
    per_preset_group(c, "chebyshev", &all, &PRESETS[1..], |f| {
        chebyshev_basis(black_box(&f.a), 16, &f.rk).expect("basis")
    });
}

criterion_group!(benches, bench_ops);
criterion_main!(benches);
