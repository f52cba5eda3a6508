//! Criterion benchmarks of `veil-bfv`, laid out to line up with Microsoft SEAL's figures
//! (`shared/peers/seal_bfv_bench.py`, through TenSEAL's `sealapi`; compared by
//! `scripts/bench_bfv_vs_seal.py`).
//!
//! Every benchmark is named `op/n=N/log_q=B/threads=T`, one criterion group per op, so that a
//! filter on the op name selects it: `cargo bench -p veil-benches --bench bfv -- '^mul/'`.
//!
//! | group            | what is timed (mirrors `seal_bfv_bench.py`)                         | threads |
//! | ---------------- | ------------------------------------------------------------------- | ------- |
//! | `encode`         | batch encoding of N values `i % 1000`                               | 1       |
//! | `decode`         | batch decoding to signed values (SEAL: `decode_int64`)              | 1       |
//! | `encrypt_public` | public-key encryption, fresh OS-seeded randomness (as SEAL's)       | 1, all  |
//! | `decrypt`        | decryption of a fresh 2-polynomial ciphertext                       | 1, all  |
//! | `add`            | ciphertext + ciphertext                                             | 1       |
//! | `mul_plain`      | ciphertext x plaintext (the full encoding of the values)            | 1, all  |
//! | `mul`            | ciphertext x ciphertext, 3 polynomials out, no relinearization      | 1, all  |
//! | `relinearize`    | 3 polynomials (a product) back to 2                                 | 1, all  |
//! | `n32768`         | `mul` and `relinearize` at N = 32768, SEAL's 55-bit chain (`Preset::N32768`) against the chain of primes below 2^50 (`Preset::N32768Narrow`) that the IFMA52 kernels take | 1 |
//!
//! N is 4096, 8192 and 16384 with the 128-bit presets (SEAL's `BFVDefault` moduli chains and a
//! 20-bit batching plaintext modulus); B is log2(Q P) including the special prime (109, 218, 438),
//! the `log_q` that `seal_bfv_bench.py` reports. T is 1 (inside a one-thread rayon pool) and the
//! number of cores (a pool of that many threads); ops that never call rayon run with T = 1 only.
//!
//! Keys come from a fixed-seed [`Sampler`], so every run measures the same keys; the operand
//! ciphertexts are public-key encryptions, as in SEAL's script. Each fixture is checked by
//! decryption before it is timed.

use std::hint::black_box;
use std::sync::{Arc, Once, OnceLock};
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use veil_benches::{all_cores, on};
use veil_bfv::{
    BfvParameters, Ciphertext, Encoder, GaloisKeys, PlainMatrix, Plaintext, Preset, PublicKey,
    RelinearizationKey, SecretKey,
};
use veil_ring::sample::Sampler;

/// The presets measured, smallest first.
const PRESETS: [Preset; 3] = [Preset::N4096, Preset::N8192, Preset::N16384];
/// Seed of the fixture keys and operands; the preset's index is added to its first byte.
const SEED: [u8; 32] = *b"veil-bfv benchmarks, fixed seed!";

// ---------------------------------------------------------------------------------------------
// Thread pools
// ---------------------------------------------------------------------------------------------

/// [1, all cores], announced once on stderr.
fn thread_counts() -> Vec<usize> {
    static BANNER: Once = Once::new();
    BANNER.call_once(|| {
        eprintln!(
            "veil-bench: threads=1 and threads={} (all cores); N = 4096, 8192, 16384",
            all_cores()
        );
    });
    veil_benches::thread_counts()
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// One fixed-seed key set of a preset with the operands of every benchmark.
struct Fixture {
    params: Arc<BfvParameters>,
    encoder: Encoder,
    sk: SecretKey,
    pk: PublicKey,
    rk: RelinearizationKey,
    /// Galois key of a left rotation by one step.
    gk: GaloisKeys,
    /// The N slot values `i % 1000`, as in `seal_bfv_bench.py`.
    values: Vec<u64>,
    /// Their batch encoding.
    pt: Plaintext,
    /// Two public-key encryptions of `pt`.
    a: Ciphertext,
    b: Ciphertext,
    /// a x b, three polynomials (the operand of `relinearize`).
    prod: Ciphertext,
}

impl Fixture {
    fn new(preset: Preset) -> Self {
        let started = Instant::now();
        let params = BfvParameters::preset(preset).expect("preset");
        let n = params.degree();
        let t = params.plaintext_modulus();
        let mut seed = SEED;
        seed[0] ^= PRESETS.iter().position(|&p| p == preset).unwrap_or(0) as u8;
        let mut sampler = Sampler::from_seed(seed);
        let sk = SecretKey::generate_with(&params, &mut sampler).expect("secret key");
        let pk = sk.public_key_with(&mut sampler).expect("public key");
        let rk = sk
            .relinearization_key_with(&mut sampler)
            .expect("relinearization key");
        let gk = sk
            .galois_keys_for(&[1], false, &mut sampler)
            .expect("galois keys");
        let encoder = Encoder::new(&params).expect("encoder");
        let values: Vec<u64> = (0..n as u64).map(|i| i % 1000).collect();
        let pt = encoder.encode(&values).expect("encode");
        let a = pk.encrypt_with(&pt, &mut sampler).expect("encrypt");
        let b = pk.encrypt_with(&pt, &mut sampler).expect("encrypt");
        let prod = a.mul(&b).expect("mul"); // also builds the product tables, untimed

        // Check every benchmarked operation once, so that a broken build is not timed.
        let dec = |c: &Ciphertext| {
            encoder
                .decode(&sk.decrypt(c).expect("decrypt"))
                .expect("decode")
        };
        let sums: Vec<u64> = values.iter().map(|&v| 2 * v % t).collect();
        let squares: Vec<u64> = values.iter().map(|&v| v * v % t).collect();
        let signed: Vec<i64> = values.iter().map(|&v| v as i64).collect();
        assert_eq!(
            encoder.decode(&pt).expect("decode"),
            values,
            "encode/decode"
        );
        assert_eq!(
            encoder.decode_signed(&pt).expect("decode"),
            signed,
            "decode_signed"
        );
        assert_eq!(dec(&a), values, "encrypt_public/decrypt");
        assert_eq!(
            dec(&pk.encrypt(&pt).expect("encrypt")),
            values,
            "encrypt_public (OS randomness)"
        );
        assert_eq!(dec(&a.add(&b).expect("add")), sums, "add");
        let mut rotated = values.clone();
        rotated[..n / 2].rotate_left(1);
        rotated[n / 2..].rotate_left(1);
        assert_eq!(
            dec(&a.rotate_rows(1, &gk).expect("rotate")),
            rotated,
            "rotate_rows_1"
        );
        assert_eq!(
            dec(&a.mod_switch_to_next().expect("mod switch")),
            values,
            "mod_switch_next"
        );
        assert_eq!(
            dec(&a.mul_plain(&pt).expect("mul_plain")),
            squares,
            "mul_plain"
        );
        assert_eq!(prod.len(), 3, "mul gives 3 polynomials");
        assert_eq!(dec(&prod), squares, "mul");
        let relin = prod.relinearize(&rk).expect("relinearize");
        assert_eq!(relin.len(), 2, "relinearize gives 2 polynomials");
        assert_eq!(dec(&relin), squares, "relinearize");

        eprintln!(
            "veil-bench: fixture n={n} log_q={} (fixed seed) ready in {:.2?}",
            params.log_qp(),
            started.elapsed()
        );
        Fixture {
            params,
            encoder,
            sk,
            pk,
            rk,
            gk,
            values,
            pt,
            a,
            b,
            prod,
        }
    }
}

/// The fixture of a preset, made on first use (so that filtered-out presets cost nothing).
fn fixture(preset: Preset) -> &'static Fixture {
    static F: [OnceLock<Fixture>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = PRESETS
        .iter()
        .position(|&p| p == preset)
        .expect("a benchmarked preset");
    F[i].get_or_init(|| Fixture::new(preset))
}

/// Ring degree and log2(QP) of a preset from its layout (the sum of the prime sizes, checked
/// against the parameters when the fixture is used), without building the parameters.
fn shape(preset: Preset) -> (usize, u32) {
    let (n, sizes) = preset.layout();
    (n, sizes.iter().sum())
}

/// Sampling of a preset: fewer samples and longer windows as N grows, so that the whole suite
/// stays within a few minutes (about 13 benchmarks per preset).
fn configure(g: &mut BenchmarkGroup<'_, WallTime>, preset: Preset) {
    let (samples, measure) = match preset {
        Preset::N4096 => (40, 4),
        Preset::N8192 => (30, 5),
        _ => (15, 7),
    };
    g.sample_size(samples)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(measure));
}

/// One group `name` with `name/n=N/log_q=B/threads=T` for every preset and the given thread
/// counts, timing `op` on the fixture of that preset.
fn per_preset_group<R>(
    c: &mut Criterion,
    name: &str,
    threads: &[usize],
    op: impl Fn(&'static Fixture) -> R + Sync,
) {
    let mut g = c.benchmark_group(name);
    for preset in PRESETS {
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

// ---------------------------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------------------------

fn bench_encode(c: &mut Criterion) {
    per_preset_group(c, "encode", &[1], |f| {
        f.encoder.encode(black_box(&f.values)).expect("encode")
    });
}

fn bench_decode(c: &mut Criterion) {
    per_preset_group(c, "decode", &[1], |f| {
        f.encoder.decode_signed(black_box(&f.pt)).expect("decode")
    });
}

fn bench_encrypt_public(c: &mut Criterion) {
    per_preset_group(c, "encrypt_public", &thread_counts(), |f| {
        f.pk.encrypt(black_box(&f.pt)).expect("encrypt")
    });
}

fn bench_decrypt(c: &mut Criterion) {
    per_preset_group(c, "decrypt", &thread_counts(), |f| {
        f.sk.decrypt(black_box(&f.a)).expect("decrypt")
    });
}

fn bench_add(c: &mut Criterion) {
    per_preset_group(c, "add", &[1], |f| {
        black_box(&f.a).add(black_box(&f.b)).expect("add")
    });
}

fn bench_mul_plain(c: &mut Criterion) {
    per_preset_group(c, "mul_plain", &thread_counts(), |f| {
        black_box(&f.a)
            .mul_plain(black_box(&f.pt))
            .expect("mul_plain")
    });
}

fn bench_mul(c: &mut Criterion) {
    per_preset_group(c, "mul", &thread_counts(), |f| {
        black_box(&f.a).mul(black_box(&f.b)).expect("mul")
    });
}

fn bench_relinearize(c: &mut Criterion) {
    per_preset_group(c, "relinearize", &thread_counts(), |f| {
        black_box(&f.prod)
            .relinearize(black_box(&f.rk))
            .expect("relinearize")
    });
}

fn bench_rotate_rows_1(c: &mut Criterion) {
    per_preset_group(c, "rotate_rows_1", &thread_counts(), |f| {
        black_box(&f.a)
            .rotate_rows(1, black_box(&f.gk))
            .expect("rotate")
    });
}

fn bench_mod_switch_next(c: &mut Criterion) {
    per_preset_group(c, "mod_switch_next", &[1], |f| {
        black_box(&f.a).mod_switch_to_next().expect("mod switch")
    });
}

/// A 4096 x 512 plaintext matrix times an encrypted vector at N = 8192 (issue 4's shape), with
/// Galois keys for exactly the baby and giant steps; prints the rotation count once.
/// N = 32768: the two presets of the same security, SEAL's chain (55-bit primes, past the IFMA
/// bound) and the narrow one (49-bit primes, more of them), for `mul` and `relinearize`.
fn bench_n32768(c: &mut Criterion) {
    let mut g = c.benchmark_group("n32768");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    for (preset, name) in [(Preset::N32768, "seal"), (Preset::N32768Narrow, "narrow")] {
        let (n, log_q) = shape(preset);
        let made: OnceLock<(Ciphertext, Ciphertext, RelinearizationKey)> = OnceLock::new();
        let setup = || {
            made.get_or_init(|| {
                let params = BfvParameters::preset(preset).expect("preset");
                let mut sampler = Sampler::from_seed(SEED);
                let sk = SecretKey::generate_with(&params, &mut sampler).expect("secret key");
                let rk = sk
                    .relinearization_key_with(&mut sampler)
                    .expect("relin key");
                let encoder = Encoder::new(&params).expect("encoder");
                let values: Vec<u64> = (0..n as u64).map(|i| i % 1000).collect();
                let ct = sk
                    .encrypt(&encoder.encode(&values).expect("encode"))
                    .expect("encrypt");
                let prod = ct.mul(&ct).expect("mul");
                let squares: Vec<u64> = values
                    .iter()
                    .map(|&v| v * v % params.plaintext_modulus())
                    .collect();
                let relin = prod.relinearize(&rk).expect("relinearize");
                let dec = encoder
                    .decode(&sk.decrypt(&relin).expect("decrypt"))
                    .expect("decode");
                assert_eq!(dec, squares, "mul + relinearize at N = 32768 ({name})");
                (ct, prod, rk)
            })
        };
        g.bench_function(
            format!("mul/n={n}/log_q={log_q}/preset={name}/threads=1"),
            |b| {
                let (ct, _, _) = setup();
                on(1, || b.iter(|| ct.mul(ct).expect("mul")));
            },
        );
        g.bench_function(
            format!("relinearize/n={n}/log_q={log_q}/preset={name}/threads=1"),
            |b| {
                let (_, prod, rk) = setup();
                on(1, || b.iter(|| prod.relinearize(rk).expect("relinearize")));
            },
        );
    }
    g.finish();
}

fn bench_matvec(c: &mut Criterion) {
    let params = BfvParameters::preset(Preset::N8192).expect("preset");
    let encoder = Encoder::new(&params).expect("encoder");
    let mut sampler = Sampler::from_seed([77; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).expect("secret key");
    let (m, d) = (4096usize, 512usize);
    let matrix: Vec<Vec<i64>> = (0..m)
        .map(|i| {
            (0..d)
                .map(|j| ((i * 31 + j * 17) % 201) as i64 - 100)
                .collect()
        })
        .collect();
    let v: Vec<i64> = (0..d).map(|j| (j % 11) as i64 - 5).collect();
    let pm = PlainMatrix::new(&encoder, &matrix, None).expect("matrix");
    let gk = sk
        .galois_keys_for(&pm.rotation_steps(), false, &mut sampler)
        .expect("galois keys");
    let ct = sk
        .encrypt_with(
            &pm.encode_vector(&encoder, &v).expect("encode"),
            &mut sampler,
        )
        .expect("encrypt");
    let y = encoder
        .decode_signed(
            &sk.decrypt(&pm.mul_vector(&ct, &gk).expect("matvec"))
                .expect("decrypt"),
        )
        .expect("decode");
    let t = params.plaintext_modulus() as i128;
    for (i, row) in matrix.iter().enumerate().step_by(97) {
        let dot: i128 = row
            .iter()
            .zip(&v)
            .map(|(&a, &b)| i128::from(a) * i128::from(b))
            .sum();
        let r = dot.rem_euclid(t);
        assert_eq!(
            i128::from(y[i]),
            if r > t / 2 { r - t } else { r },
            "matvec row {i}"
        );
    }
    eprintln!(
        "veil-bench: matvec {m}x{d} at N=8192: {} rotations ({} baby/giant steps), {} diagonals",
        pm.rotation_count(&gk).unwrap_or(0),
        pm.rotation_steps().len(),
        d
    );
    let mut g = c.benchmark_group("matvec");
    g.sample_size(10);
    for threads in thread_counts() {
        g.bench_function(format!("n=8192/m={m}/d={d}/threads={threads}"), |b| {
            on(threads, || {
                b.iter(|| pm.mul_vector(black_box(&ct), &gk).expect("matvec"))
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_encode,
    bench_decode,
    bench_encrypt_public,
    bench_decrypt,
    bench_add,
    bench_mul_plain,
    bench_mul,
    bench_relinearize,
    bench_rotate_rows_1,
    bench_mod_switch_next,
    bench_matvec,
    bench_n32768,
);
criterion_main!(benches);
