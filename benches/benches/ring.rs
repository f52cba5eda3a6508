//! Criterion benchmarks of `veil-ring`, at SEAL's `CoeffModulus::BFVDefault` parameters.
//!
//! Every benchmark is named `op/param=value/...`, one criterion group per op, so that a filter on
//! the op name selects it: `cargo bench -p veil-benches --bench ring -- 'ntt_forward/'`.
//!
//! | group             | ids                                                  |
//! | ----------------- | ---------------------------------------------------- |
//! | `ntt_forward`     | `ntt_forward/n=N/log_q=B/isa=I` (in place, one prime)|
//! | `ntt_inverse`     | `ntt_inverse/n=N/log_q=B/isa=I` (in place, one prime)|
//! | `mul_barrett`     | `mul_barrett/n=N/log_q=B` (N products a_i b_i mod q) |
//! | `mul_shoup`       | `mul_shoup/n=N/log_q=B` (b_i' precomputed, untimed)  |
//! | `mul_mod`         | `mul_mod/n=N/log_q=B/isa=I` (`kernels::mul`)         |
//! | `add_mod`         | `add_mod/n=N/log_q=B/isa=I` (`kernels::add_assign`)  |
//! | `sum_of_products` | `sum_of_products/n=N/log_q=B/terms=K/isa=I`          |
//! | `sample_uniform`  | `sample_uniform/n=N/log_q=B` (N residues mod q)      |
//! | `sample_ternary`  | `sample_ternary/n=N`                                 |
//! | `sample_gaussian` | `sample_gaussian/n=N/sigma=3.2` (cached table)       |
//! | `sample_cbd`      | `sample_cbd/n=N/eta=21`                              |
//!
//! N is 4096, 8192 and 16384. The moduli chains are SEAL's BFVDefault ones (largest primes
//! q = 1 mod 2N of the given sizes, from `veil_ring::primes::ntt_primes`):
//! N = 4096: 36, 36, 37 bits; N = 8192: 43, 43, 44, 44, 44; N = 16384: 48 x 3, 49 x 6.
//! The fixtures check that the chains are exactly SEAL's. The per-prime benchmarks use the first prime of each chain (B = 36, 43, 48); a full RNS
//! polynomial costs about the chain length times as much. Everything runs on one thread.
//!
//! The kernels run on every instruction set this CPU supports (`isa=scalar`, `avx512`, `ifma`;
//! see `veil_ring::Isa`), so one run shows the vector speed-up next to the scalar reference, and
//! the NTT also runs for a 60-bit prime (`log_q=60`), past the IFMA bound. Throughput is reported
//! per butterfly (NTT: N/2 log2 N of them) or per element, so 1000 / (Melem/s) is ns each.
//!
//! Operands come from a fixed-seed [`Sampler`], and the NTT of each fixture is checked by a round
//! trip and a product against the schoolbook result for X * X^(N-1) = -1 before anything is timed.

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use veil_ring::kernels;
use veil_ring::primes::ntt_primes;
use veil_ring::sample::{STANDARD_SIGMA, Sampler};
use veil_ring::{Isa, Modulus, NttOperator};

/// Ring degrees and the bit sizes of SEAL's BFVDefault chain for each.
const CHAINS: [(usize, &[u32]); 3] = [
    (4096, &[36, 36, 37]),
    (8192, &[43, 43, 44, 44, 44]),
    (16384, &[48, 48, 48, 49, 49, 49, 49, 49, 49]),
];
/// SEAL's `CoeffModulus::BFVDefault(N)` (native/src/seal/util/globals.cpp), which [`chain`] must
/// reproduce.
const SEAL_BFV_DEFAULT: [&[u64]; 3] = [
    &[0xffffee001, 0xffffc4001, 0x1ffffe0001],
    &[
        0x7fffffd8001,
        0x7fffffc8001,
        0xfffffffc001,
        0xffffff6c001,
        0xfffffebc001,
    ],
    &[
        0xfffffffd8001,
        0xfffffffa0001,
        0xfffffff00001,
        0x1fffffff68001,
        0x1fffffff50001,
        0x1ffffffee8001,
        0x1ffffffea0001,
        0x1ffffffe88001,
        0x1ffffffe48001,
    ],
];
/// Centered binomial parameter with variance 10.5 (sigma ~ 3.24, close to 3.2).
const CBD_ETA: u32 = 21;
/// Seed of the fixture operands.
const SEED: [u8; 32] = *b"veil-ring benchmarks fixed seed!";

/// The moduli chain of `bits` for degree n: for each distinct size in order, that many of the
/// largest primes q = 1 mod 2n.
fn chain(n: usize, bits: &[u32]) -> Vec<u64> {
    let mut primes = Vec::with_capacity(bits.len());
    let mut rest = bits;
    while let Some(&b) = rest.first() {
        let count = rest.iter().take_while(|&&x| x == b).count();
        primes.extend(ntt_primes(b, n, count).expect("NTT primes"));
        rest = &rest[count..];
    }
    primes
}

/// Operands of one degree.
struct Fixture {
    n: usize,
    /// The first prime of the chain and its size in bits.
    q: Modulus,
    log_q: u32,
    /// Uniform residues mod q.
    a: Vec<u64>,
    b: Vec<u64>,
    /// Shoup companions of `b`.
    b_shoup: Vec<u64>,
}

impl Fixture {
    fn new(n: usize, bits: &[u32], seal: &[u64], sampler: &mut Sampler) -> Self {
        let primes = chain(n, bits);
        assert_eq!(primes, seal, "SEAL's BFVDefault({n})");
        let q = Modulus::new(primes[0]).expect("modulus");
        let ntt = NttOperator::new(q, n).expect("NTT tables");
        let a = sampler.uniform(&q, n);
        let b = sampler.uniform(&q, n);
        let b_shoup = b.iter().map(|&w| q.shoup(w)).collect();

        // Round trip, and X * X^(N-1) = X^N = -1 through the transform.
        let mut t = a.clone();
        ntt.forward(&mut t);
        ntt.inverse(&mut t);
        assert_eq!(t, a, "NTT round trip");
        let (mut x, mut y) = (vec![0u64; n], vec![0u64; n]);
        x[1] = 1;
        y[n - 1] = 1;
        ntt.forward(&mut x);
        ntt.forward(&mut y);
        let mut z: Vec<u64> = x.iter().zip(&y).map(|(&u, &v)| q.mul(u, v)).collect();
        ntt.inverse(&mut z);
        assert!(
            z[0] == q.value() - 1 && z[1..].iter().all(|&c| c == 0),
            "negacyclic product"
        );

        eprintln!(
            "veil-bench: n={n} chain {} bits: {}",
            bits.iter().sum::<u32>(),
            primes
                .iter()
                .map(|p| format!("{p:#x}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Fixture {
            n,
            log_q: q.bits(),
            q,
            a,
            b,
            b_shoup,
        }
    }

    fn id(&self) -> String {
        format!("n={}/log_q={}", self.n, self.log_q)
    }
}

/// The fixtures of every degree, built once.
fn fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let mut sampler = Sampler::from_seed(SEED);
        CHAINS
            .iter()
            .zip(SEAL_BFV_DEFAULT)
            .map(|(&(n, bits), seal)| Fixture::new(n, bits, seal, &mut sampler))
            .collect()
    })
}

/// One group `name` with `name/n=N/log_q=B` for every degree.
fn per_prime_group(c: &mut Criterion, name: &str, mut op: impl FnMut(&Fixture, &mut [u64])) {
    let mut g = c.benchmark_group(name);
    for f in fixtures() {
        let mut buf = f.a.clone();
        g.bench_function(f.id(), |b| b.iter(|| op(f, black_box(&mut buf))));
    }
    g.finish();
}

/// The primes of the per-ISA NTT benchmarks: the first of each chain, and a 60-bit one.
fn ntt_moduli() -> Vec<(usize, Modulus)> {
    let mut out: Vec<(usize, Modulus)> = fixtures().iter().map(|f| (f.n, f.q)).collect();
    out.push((
        8192,
        Modulus::new(ntt_primes(60, 8192, 1).expect("60-bit prime")[0]).expect("modulus"),
    ));
    out
}

/// `name/n=N/log_q=B/isa=I` for every NTT prime and supported instruction set, in butterflies.
fn ntt_group(c: &mut Criterion, name: &str, inverse: bool) {
    let mut g = c.benchmark_group(name);
    let mut sampler = Sampler::from_seed(SEED);
    for (n, q) in ntt_moduli() {
        let mut buf = sampler.uniform(&q, n);
        let mut seen = Vec::new();
        for isa in Isa::all_supported() {
            let op = NttOperator::with_isa(q, n, isa).expect("NTT tables");
            if seen.contains(&op.isa()) {
                continue; // IFMA falls back to 64-bit lanes past 2^50: measured once
            }
            seen.push(op.isa());
            g.throughput(Throughput::Elements(
                (n / 2 * n.trailing_zeros() as usize) as u64,
            ));
            let id = format!("n={n}/log_q={}/isa={}", q.bits(), op.isa().name());
            // Outputs are in [0, q), so transforming the same buffer again and again stays valid.
            g.bench_function(id, |b| {
                b.iter(|| {
                    if inverse {
                        op.inverse(black_box(&mut buf))
                    } else {
                        op.forward(black_box(&mut buf))
                    }
                })
            });
        }
    }
    g.finish();
}

fn bench_ntt_forward(c: &mut Criterion) {
    ntt_group(c, "ntt_forward", false);
}

fn bench_ntt_inverse(c: &mut Criterion) {
    ntt_group(c, "ntt_inverse", true);
}

/// `name/n=N/log_q=B{suffix}/isa=I` for every chain's first prime and supported instruction set,
/// with throughput in elements.
fn per_isa_group(
    c: &mut Criterion,
    name: &str,
    suffix: &str,
    elements: impl Fn(&Fixture) -> usize,
    mut op: impl FnMut(Isa, &Fixture, &mut [u64]),
) {
    let mut g = c.benchmark_group(name);
    for f in fixtures() {
        let mut buf = f.a.clone();
        for isa in Isa::all_supported() {
            g.throughput(Throughput::Elements(elements(f) as u64));
            g.bench_function(format!("{}{suffix}/isa={}", f.id(), isa.name()), |b| {
                b.iter(|| op(isa, f, black_box(&mut buf)))
            });
        }
    }
    g.finish();
}

fn bench_mul_mod(c: &mut Criterion) {
    per_isa_group(
        c,
        "mul_mod",
        "",
        |f| f.n,
        |isa, f, out| kernels::mul_with(isa, &f.q, &f.a, &f.b, out).expect("lengths"),
    );
}

fn bench_add_mod(c: &mut Criterion) {
    per_isa_group(
        c,
        "add_mod",
        "",
        |f| f.n,
        |isa, f, out| kernels::add_assign_with(isa, &f.q, out, &f.b).expect("lengths"),
    );
}

/// Terms of the inner sums: 8 digits, the key switching of the N = 16384 preset.
const TERMS: usize = 8;

fn bench_sum_of_products(c: &mut Criterion) {
    per_isa_group(
        c,
        "sum_of_products",
        &format!("/terms={TERMS}"),
        |f| f.n * TERMS,
        |isa, f, out| {
            let xs = [f.a.as_slice(); TERMS];
            let ys = [f.b.as_slice(); TERMS];
            kernels::sum_of_products_with(isa, &f.q, &xs, &ys, out).expect("lengths")
        },
    );
}

fn bench_mul_barrett(c: &mut Criterion) {
    per_prime_group(c, "mul_barrett", |f, out| {
        for ((o, &x), &y) in out.iter_mut().zip(&f.a).zip(&f.b) {
            *o = f.q.mul(x, y);
        }
    });
}

fn bench_mul_shoup(c: &mut Criterion) {
    per_prime_group(c, "mul_shoup", |f, out| {
        for (((o, &x), &y), &ys) in out.iter_mut().zip(&f.a).zip(&f.b).zip(&f.b_shoup) {
            *o = f.q.mul_shoup(x, y, ys);
        }
    });
}

fn bench_sample_uniform(c: &mut Criterion) {
    let mut sampler = Sampler::from_seed(SEED);
    per_prime_group(c, "sample_uniform", |f, out| {
        sampler.uniform_into(&f.q, out)
    });
}

/// One group `name` with `name/n=N{suffix}` for every degree, filling a signed buffer.
fn small_group(
    c: &mut Criterion,
    name: &str,
    suffix: &str,
    mut op: impl FnMut(&mut Sampler, &mut [i64]),
) {
    let mut g = c.benchmark_group(name);
    let mut sampler = Sampler::from_seed(SEED);
    for &(n, _) in &CHAINS {
        let mut buf = vec![0i64; n];
        g.bench_function(format!("n={n}{suffix}"), |b| {
            b.iter(|| op(&mut sampler, black_box(&mut buf)));
        });
    }
    g.finish();
}

fn bench_sample_ternary(c: &mut Criterion) {
    small_group(c, "sample_ternary", "", |s, out| s.ternary_into(out));
}

fn bench_sample_gaussian(c: &mut Criterion) {
    small_group(
        c,
        "sample_gaussian",
        &format!("/sigma={STANDARD_SIGMA}"),
        |s, out| {
            s.gaussian_into(out, STANDARD_SIGMA).expect("valid sigma");
        },
    );
}

fn bench_sample_cbd(c: &mut Criterion) {
    small_group(c, "sample_cbd", &format!("/eta={CBD_ETA}"), |s, out| {
        s.centered_binomial_into(out, CBD_ETA);
    });
}

criterion_group!(
    benches,
    bench_ntt_forward,
    bench_ntt_inverse,
    bench_mul_barrett,
    bench_mul_shoup,
    bench_mul_mod,
    bench_add_mod,
    bench_sum_of_products,
    bench_sample_uniform,
    bench_sample_ternary,
    bench_sample_gaussian,
    bench_sample_cbd,
);
criterion_main!(benches);
