//! Criterion benchmarks of `veil-paillier`, laid out to line up with python-paillier's figures
//! (`shared/peers/phe_bench.py`, compared by `scripts/bench_paillier_vs_phe.py`).
//!
//! Every benchmark is named `op/param=value/...`, one criterion group per op, so that a filter on
//! the op name selects it: `cargo bench -p veil-benches --bench paillier -- 'add/'`.
//!
//! | group                    | ids                                                          |
//! | ------------------------ | ------------------------------------------------------------ |
//! | `keygen`                 | `keygen/bits=B/threads=T`                                    |
//! | `encrypt`                | `encrypt/bits=B/threads=1` (public key, fresh r^n)           |
//! | `encrypt_keyholder`      | `encrypt_keyholder/bits=B/threads=T` (CRT, `rayon::join`)    |
//! | `encrypt_pool`           | `encrypt_pool/bits=B/threads=1` (online part, warm pool)     |
//! | `decrypt`                | `decrypt/bits=B/threads=T` (CRT, `rayon::join`)              |
//! | `add`                    | `add/bits=B/threads=1`                                       |
//! | `mul_scalar`             | `mul_scalar/bits=B/threads=1` (scalar in [1, 2^16])          |
//! | `mul_scalar_precomputed` | `mul_scalar_precomputed/bits=B/threads=1` (table not timed)  |
//! | `rerandomize`            | `rerandomize/bits=B/threads=1`                               |
//! | `encrypt_vec`            | `encrypt_vec/values=3952/bits=2048/layout={unpacked,packed}/threads=T` |
//! | `dot`, `dot_naive`       | `dot/terms=3952/bits=2048/threads=T`, same for `dot_naive`   |
//!
//! B is 2048 and 3072; T is 1 (inside a one-thread rayon pool) and the number of cores (a pool of
//! that many threads). Ops that never call rayon are measured with T = 1 only.
//!
//! Keys come from fixed-seed ChaCha20 (`generate_with_rng`), so every run measures the same keys.
//! Plaintexts are 32-bit signed integers and scalars are drawn from [1, 2^16], as in `phe_bench.py`.
//! Each fixture is checked by decryption before it is timed.
//!
//! Under `cargo test --benches` (criterion's `--test` mode, one iteration each) the 3952-element
//! vectors shrink to 64 elements so that the smoke run stays short; the ids say so.

use std::hint::black_box;
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use rug::Integer;
use veil_benches::{all_cores, on};
use veil_paillier::{
    Ciphertext, KeyGenerator, PackingLayout, PrecomputedCiphertext, PrivateKey, PublicKey,
    RandomnessPool,
};

/// Key sizes measured by the per-operation groups.
const BITS: [u32; 2] = [2048, 3072];
/// Key size of the vector benchmarks (`encrypt_vec`, `dot`, `dot_naive`).
const VEC_BITS: u32 = 2048;
/// Length of the vectors in the batch benchmarks (a CryptoRec-sized item vector).
const VEC_LEN: usize = 3952;
/// Packing of the `layout=packed` case: 32-bit values with 16 guard bits.
const PACK_VALUE_BITS: u32 = 32;
const PACK_GUARD_BITS: u32 = 16;
/// Scalars of `mul_scalar`: [1, 2^16] as phe_bench's `random.randint(1, 2**16)`, so 17 bits.
const SCALAR_MAX: i64 = 1 << 16;
const SCALAR_BITS: u32 = 17;
/// Seed of the fixture keys and values; the key size is added to it.
const SEED: u64 = 0x5645_494c_0000_0000;

// ---------------------------------------------------------------------------------------------
// Thread pools
// ---------------------------------------------------------------------------------------------

/// Whether criterion runs in `--test` mode (`cargo test --benches`): one iteration per benchmark.
fn test_mode() -> bool {
    static TEST: OnceLock<bool> = OnceLock::new();
    *TEST.get_or_init(|| std::env::args().any(|a| a == "--test"))
}

/// Vector length of the batch benchmarks: [`VEC_LEN`], or 64 in `--test` mode.
fn vec_len() -> usize {
    if test_mode() { 64 } else { VEC_LEN }
}

/// [1, all cores], announced once on stderr.
fn thread_counts() -> Vec<usize> {
    static BANNER: Once = Once::new();
    BANNER.call_once(|| {
        eprintln!(
            "veil-bench: threads=1 and threads={} (all cores); key sizes {BITS:?}",
            all_cores()
        );
    });
    veil_benches::thread_counts()
}

fn id(bits: u32, threads: usize) -> String {
    format!("bits={bits}/threads={threads}")
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// One fixed-seed key pair with the operands of the per-operation benchmarks.
struct Fixture {
    sk: PrivateKey,
    pk: PublicKey,
    /// A 32-bit signed plaintext.
    x: i64,
    /// A scalar in [1, 2^16].
    k: i64,
    /// E(x) and E(x + 1).
    a: Ciphertext,
    b: Ciphertext,
    /// Fixed-base table of `a` for scalars of up to 17 bits (built once, not timed).
    a_table: PrecomputedCiphertext,
}

fn random_i32_like(rng: &mut ChaCha20Rng) -> i64 {
    // random.randint(-2**31, 2**31) in phe_bench.py
    rng.random_range(-(1i64 << 31)..=(1i64 << 31))
}

impl Fixture {
    fn new(bits: u32) -> Self {
        let started = Instant::now();
        let mut rng = ChaCha20Rng::seed_from_u64(SEED + u64::from(bits));
        let sk = KeyGenerator::new(bits)
            .parallel(false)
            .generate_with_rng(&mut rng)
            .expect("key generation");
        let pk = sk.public_key().clone();
        let x = random_i32_like(&mut rng);
        let k = rng.random_range(1..=SCALAR_MAX);
        let a = pk.encrypt_with_rng(x, &mut rng).expect("encrypt");
        let b = pk.encrypt_with_rng(x + 1, &mut rng).expect("encrypt");
        let a_table = pk.precompute(&a, SCALAR_BITS).expect("precompute");

        // Check every benchmarked operation once, so that a broken build is not timed.
        let dec = |c: &Ciphertext| sk.decrypt_i64(c).expect("decrypt");
        assert_eq!(dec(&a), x);
        assert_eq!(dec(&pk.encrypt(x).expect("encrypt")), x);
        assert_eq!(dec(&sk.encrypt(x).expect("encrypt")), x);
        assert_eq!(dec(&pk.add(&a, &b).expect("add")), 2 * x + 1);
        assert_eq!(dec(&pk.mul_scalar(&a, k).expect("mul_scalar")), k * x);
        assert_eq!(
            dec(&a_table.mul_scalar(k).expect("precomputed mul_scalar")),
            k * x
        );
        assert_eq!(dec(&pk.rerandomize(&a).expect("rerandomize")), x);
        let mut pool = RandomnessPool::new(&pk);
        pool.fill_with_private_key(&sk, 1).expect("fill");
        assert_eq!(dec(&pool.encrypt(x).expect("pool encrypt")), x);

        eprintln!(
            "veil-bench: fixture bits={bits} (fixed seed) ready in {:.2?}",
            started.elapsed()
        );
        Fixture {
            sk,
            pk,
            x,
            k,
            a,
            b,
            a_table,
        }
    }
}

/// The fixture of a key size, generated on first use (so that filtered-out sizes cost nothing).
fn fixture(bits: u32) -> &'static Fixture {
    static F2048: OnceLock<Fixture> = OnceLock::new();
    static F3072: OnceLock<Fixture> = OnceLock::new();
    let cell = match bits {
        2048 => &F2048,
        3072 => &F3072,
        _ => unreachable!("no fixture for {bits}-bit keys"),
    };
    cell.get_or_init(|| Fixture::new(bits))
}

/// Operands of the vector benchmarks, for the [`VEC_BITS`] key.
struct VecFixture {
    /// `vec_len()` 32-bit signed values.
    values: Vec<i64>,
    /// Encryptions of `values`.
    cts: Vec<Ciphertext>,
    /// Signed 16-bit scalars, one per ciphertext.
    scalars: Vec<i64>,
    layout: PackingLayout,
}

fn vec_fixture() -> &'static VecFixture {
    static V: OnceLock<VecFixture> = OnceLock::new();
    V.get_or_init(|| {
        let started = Instant::now();
        let f = fixture(VEC_BITS);
        let pk = &f.pk;
        let mut rng = ChaCha20Rng::seed_from_u64(SEED + 1);
        let n = vec_len();
        let values: Vec<i64> = (0..n).map(|_| random_i32_like(&mut rng)).collect();
        let scalars: Vec<i64> = (0..n).map(|_| i64::from(rng.random::<i16>())).collect();
        // Genuine encryptions without n exponentiations: 64 fresh encryptions of zero, and
        // E(v_i) = E(0)_(i mod 64) * (1 + v_i n). Each is a full-size residue of n^2; only the
        // randomness is shared, which changes nothing for the timing of dot products.
        let zeros: Vec<Ciphertext> = (0..64)
            .map(|_| pk.encrypt_with_rng(0, &mut rng).expect("encrypt"))
            .collect();
        let cts: Vec<Ciphertext> = values
            .iter()
            .zip(zeros.iter().cycle())
            .map(|(&v, z)| pk.add_plain(z, v).expect("add_plain"))
            .collect();
        let layout =
            PackingLayout::new(pk, PACK_VALUE_BITS, PACK_GUARD_BITS).expect("packing layout");

        // The dot product both ways must decrypt to the plaintext dot product.
        let expected: Integer = values
            .iter()
            .zip(&scalars)
            .map(|(&v, &s)| Integer::from(v) * s)
            .sum();
        let fast = pk
            .linear_combination(&cts, &scalars)
            .expect("linear_combination");
        assert_eq!(
            f.sk.decrypt(&fast).expect("decrypt"),
            expected,
            "linear_combination"
        );
        assert_eq!(
            f.sk.decrypt(&naive_dot(pk, &cts, &scalars))
                .expect("decrypt"),
            expected,
            "naive dot"
        );
        eprintln!(
            "veil-bench: vector fixture values={n} bits={VEC_BITS} ready in {:.2?}",
            started.elapsed()
        );
        VecFixture {
            values,
            cts,
            scalars,
            layout,
        }
    })
}

/// sum_i k_i E(x_i) one term at a time: a `mul_scalar` and an `add` per term (parallel map and
/// reduce, which is the plain loop on one thread).
fn naive_dot(pk: &PublicKey, cts: &[Ciphertext], scalars: &[i64]) -> Ciphertext {
    cts.par_iter()
        .zip(scalars)
        .map(|(c, &k)| pk.mul_scalar(c, k).expect("mul_scalar"))
        .reduce_with(|x, y| pk.add(&x, &y).expect("add"))
        .expect("at least one term")
}

// ---------------------------------------------------------------------------------------------
// Per-operation groups
// ---------------------------------------------------------------------------------------------

/// One group `name` with `name/bits=B/threads=T` for every key size and the given thread counts,
/// timing `op` on the fixture of that size.
fn per_key_group<R>(
    c: &mut Criterion,
    name: &str,
    threads: &[usize],
    op: impl Fn(&'static Fixture) -> R + Sync,
) {
    let mut g = c.benchmark_group(name);
    for bits in BITS {
        for &t in threads {
            g.bench_function(id(bits, t), |b| {
                let f = fixture(bits);
                on(t, || b.iter(|| op(f)));
            });
        }
    }
    g.finish();
}

fn bench_keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("keygen");
    // Prime search time is geometric: few, long samples.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(15));
    for bits in BITS {
        for t in thread_counts() {
            // threads=1: sequential search from a fixed seed, the same sequence of keys every run.
            // threads=all: the parallel search (operating-system entropy, as in production).
            let mut rng = ChaCha20Rng::seed_from_u64(SEED + 2 + u64::from(bits));
            g.bench_function(id(bits, t), |b| {
                on(t, || {
                    if t == 1 {
                        b.iter(|| {
                            KeyGenerator::new(bits)
                                .parallel(false)
                                .generate_with_rng(&mut rng)
                        });
                    } else {
                        b.iter(|| KeyGenerator::new(bits).generate());
                    }
                });
            });
        }
    }
    g.finish();
}

fn bench_encrypt(c: &mut Criterion) {
    per_key_group(c, "encrypt", &[1], |f| f.pk.encrypt(black_box(f.x)));
}

fn bench_encrypt_keyholder(c: &mut Criterion) {
    per_key_group(c, "encrypt_keyholder", &thread_counts(), |f| {
        f.sk.encrypt(black_box(f.x))
    });
}

/// Online encryption from a warm pool: factors are made (by the key holder's CRT shortcut, on all
/// cores) before each timed run, in batches of at most `CHUNK`, so the pool never runs dry and
/// filling it is never timed. Criterion sizes the runs by wall time, fills included.
fn bench_encrypt_pool(c: &mut Criterion) {
    const CHUNK: u64 = 2048;
    let mut g = c.benchmark_group("encrypt_pool");
    for bits in BITS {
        let t = 1;
        g.bench_function(id(bits, t), |b| {
            let f = fixture(bits);
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let chunk = left.min(CHUNK);
                    let mut rp = RandomnessPool::new(&f.pk);
                    rp.fill_with_private_key(&f.sk, chunk as usize)
                        .expect("fill");
                    timed += on(t, || {
                        let start = Instant::now();
                        for _ in 0..chunk {
                            black_box(rp.encrypt(black_box(f.x)).expect("warm pool"));
                        }
                        start.elapsed()
                    });
                    debug_assert!(rp.is_empty());
                    left -= chunk;
                }
                timed
            });
        });
    }
    g.finish();
}

fn bench_decrypt(c: &mut Criterion) {
    per_key_group(c, "decrypt", &thread_counts(), |f| {
        f.sk.decrypt(black_box(&f.a))
    });
}

fn bench_add(c: &mut Criterion) {
    per_key_group(c, "add", &[1], |f| {
        f.pk.add(black_box(&f.a), black_box(&f.b))
    });
}

fn bench_mul_scalar(c: &mut Criterion) {
    per_key_group(c, "mul_scalar", &[1], |f| {
        f.pk.mul_scalar(black_box(&f.a), black_box(f.k))
    });
}

fn bench_mul_scalar_precomputed(c: &mut Criterion) {
    per_key_group(c, "mul_scalar_precomputed", &[1], |f| {
        f.a_table.mul_scalar(black_box(f.k))
    });
}

fn bench_rerandomize(c: &mut Criterion) {
    per_key_group(c, "rerandomize", &[1], |f| {
        f.pk.rerandomize(black_box(&f.a))
    });
}

// ---------------------------------------------------------------------------------------------
// Vector groups
// ---------------------------------------------------------------------------------------------

fn bench_encrypt_vec(c: &mut Criterion) {
    let mut g = c.benchmark_group("encrypt_vec");
    // Unpacked is ~30 s per iteration on one core: ten single-iteration samples, and criterion
    // warns that the target time is exceeded.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1));
    g.measurement_time(Duration::from_secs(10));
    let n = vec_len();
    for t in thread_counts() {
        g.bench_function(format!("values={n}/bits={VEC_BITS}/layout=unpacked/threads={t}"), |b| {
            let f = fixture(VEC_BITS);
            let v = vec_fixture();
            static COUNT: Once = Once::new();
            on(t, || {
                b.iter(|| {
                    let out = f.pk.encrypt_batch(black_box(&v.values));
                    COUNT.call_once(|| {
                        let count = out.as_ref().map_or(0, Vec::len);
                        eprintln!(
                            "veil-bench: encrypt_vec values={n} bits={VEC_BITS} layout=unpacked ciphertexts={count}"
                        );
                    });
                    out
                });
            });
        });
        g.bench_function(format!("values={n}/bits={VEC_BITS}/layout=packed/threads={t}"), |b| {
            let f = fixture(VEC_BITS);
            let v = vec_fixture();
            static CHECK: Once = Once::new();
            CHECK.call_once(|| {
                // Untimed round trip, which also gives the ciphertext count.
                let packed = f.pk.encrypt_packed(&v.layout, &v.values).expect("encrypt_packed");
                let back = f.sk.decrypt_packed_batch(&packed).expect("decrypt_packed_batch");
                assert!(back.iter().map(|&x| x as i64).eq(v.values.iter().copied()), "packed round trip");
                eprintln!(
                    "veil-bench: encrypt_vec values={n} bits={VEC_BITS} layout=packed slots={} slot_bits={} ciphertexts={}",
                    v.layout.slots(),
                    v.layout.slot_bits(),
                    packed.len()
                );
            });
            on(t, || b.iter(|| f.pk.encrypt_packed(&v.layout, black_box(&v.values))));
        });
    }
    g.finish();
}

fn vec_group(
    c: &mut Criterion,
    name: &str,
    op: impl Fn(&PublicKey, &VecFixture) -> Ciphertext + Sync,
) {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));
    let n = vec_len();
    for t in thread_counts() {
        g.bench_function(format!("terms={n}/bits={VEC_BITS}/threads={t}"), |b| {
            let f = fixture(VEC_BITS);
            let v = vec_fixture();
            on(t, || b.iter(|| op(&f.pk, black_box(v))));
        });
    }
    g.finish();
}

fn bench_dot(c: &mut Criterion) {
    vec_group(c, "dot", |pk, v| {
        pk.linear_combination(&v.cts, &v.scalars)
            .expect("linear_combination")
    });
}

fn bench_dot_naive(c: &mut Criterion) {
    vec_group(c, "dot_naive", |pk, v| naive_dot(pk, &v.cts, &v.scalars));
}

criterion_group!(
    benches,
    bench_keygen,
    bench_encrypt,
    bench_encrypt_keyholder,
    bench_encrypt_pool,
    bench_decrypt,
    bench_add,
    bench_mul_scalar,
    bench_mul_scalar_precomputed,
    bench_rerandomize,
    bench_encrypt_vec,
    bench_dot,
    bench_dot_naive,
);
criterion_main!(benches);
