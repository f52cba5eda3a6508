//! CryptoRec fast mode on a MovieLens-1M-shaped model (m = 3,952 items; d = 500 as in the paper's
//! Table 6, and d = 100), BFV (`veil_cryptorec::lattice`, N = 16384, sanitized replies) side by
//! side with Paillier (`veil_cryptorec::fast`, 2048-bit key) in one run.
//!
//! IDs: `fast/scheme=bfv/m=3952/d=500/server/threads=1` (parse the query, both products, bias,
//! sanitization, encode the reply), `.../client_query` (quantize, encode, encrypt, encode bytes),
//! `.../client_decode` (parse, decrypt, decode); the same with `scheme=paillier` (client: fresh
//! CRT randomness). Bytes each way, the one-time key bytes, and a wall/CPU-time pass (three runs
//! of each step, CPU time of the whole process from /proc/self/stat, since the machine is shared)
//! are printed on stderr as `veil-bench: cryptorec_lattice ...` lines.
//!
//! The accurate mode (`accurate/scheme=ckks/...`, CKKS N = 16384, the a(1) step) is measured the
//! same way, one model at a time (`VEIL_LATTICE_ACCURATE_DIMS=500,100` chooses them); its
//! float model is the same Gaussian one before quantization. `VEIL_LATTICE_SUMMARY=fast`,
//! `accurate` or `none` limits the wall/CPU pass (default: all); `VEIL_LATTICE_GROUPS=fast` or
//! `accurate` the criterion groups (default: both).
//!
//! The exact accurate mode (`accurate/scheme=bfv/...`: the same a(1) step as a fixed-point integer
//! circuit over BFV N = 16384, CRT over k plaintext primes, sanitized replies) runs right after
//! the CKKS one for each d, on the same float model; `VEIL_LATTICE_ACCURATE_SCHEMES=ckks,bfv`
//! chooses the schemes (default: both). Its server prepares each lane's matrices during the
//! answer (memory: one lane at a time) unless `VEIL_LATTICE_BFV_KEEP=1`, and its setup line
//! prints the lanes, the bytes, the noise budget left in lane 0 and the exactness check against
//! the clear integer reference.
//!
//! Weights are random, Gaussian before quantization (4-bit levels, about 28% of them zero; a
//! trained model has about 36%): the BFV server's time does not depend on the weights, the
//! Paillier server's does (zeros cost nothing there), so Paillier is measured slightly slow.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use veil_benches::{on, thread_counts};
use veil_cryptorec::data::RatingScale;
use veil_cryptorec::fast::{
    KeyPolicy, Query, Randomness, Response, TrustedKey, decrypt_response, encrypt_query, prove_key,
    respond,
};
use veil_cryptorec::lattice::accurate_bfv::quantize_user;
use veil_cryptorec::lattice::{
    AccurateBfvClient, AccurateBfvConfig, AccurateBfvKeys, AccurateBfvServer, AccurateClient,
    AccurateConfig, AccurateKeys, AccurateServer, ClientKeys, FastClient, FastServer,
    LatticeConfig, sanitize_reserve_bits,
};
use veil_cryptorec::model::{Model, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_paillier::{KeyGenerator, PrivateKey};

fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

fn items() -> usize {
    if test_mode() { 200 } else { 3952 }
}

fn dims() -> Vec<usize> {
    if test_mode() {
        vec![16]
    } else {
        vec![500, 100]
    }
}

fn gaussian(rng: &mut ChaCha20Rng, m: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((m, d), |_| {
        // Box-Muller.
        let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() * 0.05) as f32
    })
}

fn float_model(dim: usize) -> Model {
    let m = items();
    let mut rng = ChaCha20Rng::seed_from_u64(dim as u64);
    Model {
        mu: 3.58,
        item_bias: Array1::from_shape_fn(m, |_| rng.random_range(-0.8f32..0.6)),
        a: gaussian(&mut rng, m, dim),
        q: gaussian(&mut rng, m, dim),
        scale: RatingScale::default(),
        input_norm: 0.5,
    }
}

fn model(dim: usize) -> QuantizedModel {
    QuantizedModel::new(&float_model(dim), &QuantConfig::default()).expect("quantize")
}

/// A user with 165 ratings (ML-1M's mean), whole stars.
fn user() -> UserRatings {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let m = items() as u32;
    let mut items: Vec<u32> = (0..165.min(m)).map(|k| k * (m / 165.min(m))).collect();
    items.dedup();
    let values = items
        .iter()
        .map(|_| rng.random_range(1..=5) as f32)
        .collect();
    UserRatings { items, values }
}

fn paillier_key() -> &'static (PrivateKey, TrustedKey) {
    static KEY: OnceLock<(PrivateKey, TrustedKey)> = OnceLock::new();
    KEY.get_or_init(|| {
        let sk = KeyGenerator::new(2048)
            .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(11))
            .expect("keygen");
        let trusted = TrustedKey::verify(
            sk.public_key(),
            &prove_key(&sk).expect("prove"),
            &KeyPolicy::default(),
        )
        .expect("verify");
        (sk, trusted)
    })
}

struct Bfv {
    dim: usize,
    server: FastServer,
    client: FastClient,
    keys: ClientKeys,
}

fn bfv_setups() -> &'static Vec<Bfv> {
    static S: OnceLock<Vec<Bfv>> = OnceLock::new();
    S.get_or_init(|| {
        dims()
            .into_iter()
            .map(|dim| {
                let q = model(dim);
                let cfg = LatticeConfig {
                    allow_below_128_bit_security: test_mode(),
                    degree: if test_mode() { 1024 } else { 16384 },
                    ..LatticeConfig::default()
                };
                let start = Instant::now();
                let server = FastServer::new(&q, &cfg).expect("server");
                let prep = start.elapsed();
                let client = FastClient::new(&server.setup_bytes().unwrap(), test_mode()).unwrap();
                let key_bytes = client.key_bytes().unwrap();
                let keys = server.client_keys(&key_bytes).unwrap();
                // Untimed check: exact, and the sizes.
                let user = user();
                let (query, state) = client.query(&user).unwrap();
                let reply = server.answer(&keys, &query).unwrap();
                let x = QuantizedModel::quantize_input(&q.params, &user).unwrap();
                assert_eq!(client.decode_integers(&reply).unwrap(), q.predict_integers(&x));
                let _ = client.decode(&state, &reply).unwrap();
                let p = client.parameters();
                eprintln!(
                    "veil-bench: cryptorec_lattice fast/scheme=bfv/m={}/d={dim}: N {}, t {} bits, {} ciphertext primes of {} bits, reply level {}, zero weights {:.1}%, server preparation {:.1} s; query bytes {}, reply bytes {}, one-time setup bytes {} (server to client), key bytes {} ({} Galois keys)",
                    q.params.items,
                    p.degree(),
                    64 - p.plaintext_modulus().leading_zeros(),
                    p.ciphertext_moduli().len(),
                    64 - p.ciphertext_moduli()[0].leading_zeros(),
                    client.reply_ciphertext(&reply).unwrap().level(),
                    100.0 * q.zero_fraction(),
                    prep.as_secs_f64(),
                    query.len(),
                    reply.len(),
                    server.setup_bytes().unwrap().len(),
                    key_bytes.len(),
                    server.setup().layout.rotation_steps().len(),
                );
                Bfv {
                    dim,
                    server,
                    client,
                    keys,
                }
            })
            .collect()
    })
}

/// CPU seconds of this process so far (user + system, from /proc/self/stat at 100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the ")": state is field 0, utime field 11, stime field 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn wall_and_cpu(id: &str, threads: usize, mut f: impl FnMut() + Send) {
    on(threads, || {
        f();
        // At least 3 runs, and at least 0.5 s of CPU time (the tick is 10 ms), at most 200.
        let (w0, c0) = (Instant::now(), cpu_seconds());
        let mut runs = 0u32;
        while runs < 3 || (cpu_seconds() - c0 < 0.5 && runs < 200) {
            f();
            runs += 1;
        }
        let (wall, cpu) = (
            w0.elapsed().as_secs_f64() / f64::from(runs),
            (cpu_seconds() - c0) / f64::from(runs),
        );
        eprintln!(
            "veil-bench: cryptorec_lattice {id}/threads={threads}: wall {wall:.4} s, cpu {cpu:.4} s ({runs} runs)"
        );
    });
}

/// Whether a criterion group runs: `VEIL_LATTICE_GROUPS=fast,accurate` (default: both).
fn group_enabled(name: &str) -> bool {
    std::env::var("VEIL_LATTICE_GROUPS").map_or(true, |v| v.split(',').any(|g| g == name))
}

/// Which parts of the wall/CPU pass to run: `VEIL_LATTICE_SUMMARY=fast|accurate|none` (default:
/// both).
fn summary_part(part: &str) -> bool {
    std::env::var("VEIL_LATTICE_SUMMARY").map_or(true, |v| v == part || v == "all")
}

/// The wall/CPU pass (outside criterion) and the sizes, BFV and Paillier for each d.
fn summary(_: &mut Criterion) {
    if !summary_part("fast") {
        return;
    }
    let (sk, trusted) = paillier_key();
    let pk = sk.public_key();
    for s in bfv_setups() {
        let m = items();
        let user = user();
        let (query, state) = s.client.query(&user).unwrap();
        let reply = s.server.answer(&s.keys, &query).unwrap();
        let q = model(s.dim);
        let pq = encrypt_query(sk, &q.params, &user, Randomness::Fresh).unwrap();
        let pq_bytes = pq.to_bytes(pk).unwrap();
        let pr = respond(trusted, &q, &pq).unwrap();
        let pr_bytes = pr.to_bytes(pk).unwrap();
        eprintln!(
            "veil-bench: cryptorec_lattice fast/scheme=paillier/m={m}/d={}: query bytes {}, reply bytes {}",
            s.dim,
            pq_bytes.len(),
            pr_bytes.len()
        );
        for t in thread_counts() {
            let base = format!("fast/scheme=bfv/m={m}/d={}", s.dim);
            wall_and_cpu(&format!("{base}/server"), t, || {
                black_box(s.server.answer(&s.keys, &query).unwrap());
            });
            wall_and_cpu(&format!("{base}/client_query"), t, || {
                black_box(s.client.query(&user).unwrap());
            });
            wall_and_cpu(&format!("{base}/client_decode"), t, || {
                black_box(s.client.decode(&state, &reply).unwrap());
            });
            let base = format!("fast/scheme=paillier/m={m}/d={}", s.dim);
            wall_and_cpu(&format!("{base}/server"), t, || {
                let query = Query::from_bytes(pk, &q.params, &pq_bytes).unwrap();
                black_box(
                    respond(trusted, &q, &query)
                        .and_then(|r| r.to_bytes(pk))
                        .unwrap(),
                );
            });
            wall_and_cpu(&format!("{base}/client_query"), t, || {
                let query = encrypt_query(sk, &q.params, &user, Randomness::Fresh).unwrap();
                black_box(query.to_bytes(pk).unwrap());
            });
            wall_and_cpu(&format!("{base}/client_decode"), t, || {
                let r = Response::from_bytes(pk, &q.params, &pr_bytes).unwrap();
                black_box(decrypt_response(sk, &q.params, &r).unwrap());
            });
        }
    }
}

fn bench_fast(c: &mut Criterion) {
    if !group_enabled("fast") {
        return;
    }
    let mut g = c.benchmark_group("fast");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(5));
    let (sk, trusted) = paillier_key();
    let pk = sk.public_key();
    let user = user();
    let m = items();
    for s in bfv_setups() {
        let q = model(s.dim);
        let (query, state) = s.client.query(&user).unwrap();
        let reply = s.server.answer(&s.keys, &query).unwrap();
        let pq_bytes = encrypt_query(sk, &q.params, &user, Randomness::Fresh)
            .and_then(|x| x.to_bytes(pk))
            .unwrap();
        let pr_bytes = Query::from_bytes(pk, &q.params, &pq_bytes)
            .and_then(|x| respond(trusted, &q, &x))
            .and_then(|r| r.to_bytes(pk))
            .unwrap();
        for t in thread_counts() {
            let base = format!("scheme=bfv/m={m}/d={}", s.dim);
            g.bench_function(format!("{base}/server/threads={t}"), |b| {
                on(t, || {
                    b.iter(|| s.server.answer(&s.keys, black_box(&query)).unwrap())
                })
            });
            g.bench_function(format!("{base}/client_query/threads={t}"), |b| {
                on(t, || b.iter(|| s.client.query(black_box(&user)).unwrap()))
            });
            g.bench_function(format!("{base}/client_decode/threads={t}"), |b| {
                on(t, || {
                    b.iter(|| s.client.decode(&state, black_box(&reply)).unwrap())
                })
            });
            let base = format!("scheme=paillier/m={m}/d={}", s.dim);
            g.bench_function(format!("{base}/server/threads={t}"), |b| {
                on(t, || {
                    b.iter(|| {
                        let query = Query::from_bytes(pk, &q.params, black_box(&pq_bytes)).unwrap();
                        respond(trusted, &q, &query)
                            .and_then(|r| r.to_bytes(pk))
                            .unwrap()
                    })
                })
            });
            g.bench_function(format!("{base}/client_query/threads={t}"), |b| {
                on(t, || {
                    b.iter(|| {
                        encrypt_query(sk, &q.params, black_box(&user), Randomness::Fresh)
                            .and_then(|x| x.to_bytes(pk))
                            .unwrap()
                    })
                })
            });
            g.bench_function(format!("{base}/client_decode/threads={t}"), |b| {
                on(t, || {
                    b.iter(|| {
                        let r = Response::from_bytes(pk, &q.params, black_box(&pr_bytes)).unwrap();
                        decrypt_response(sk, &q.params, &r).unwrap()
                    })
                })
            });
        }
    }
    g.finish();
}

struct Accurate {
    dim: usize,
    server: AccurateServer,
    client: AccurateClient,
    keys: AccurateKeys,
}

/// One accurate-mode setup at a time (the d = 500 one holds about 2 GB of prepared diagonals).
fn accurate_setup(dim: usize) -> Accurate {
    let model = float_model(dim);
    let start = Instant::now();
    let server = AccurateServer::new(&model, &AccurateConfig::one_step(0.05)).expect("server");
    let prep = start.elapsed();
    let client = AccurateClient::new(&server.setup_bytes().unwrap(), false).unwrap();
    let key_bytes = client.key_bytes().unwrap();
    let keys = server.client_keys(&key_bytes).unwrap();
    let user = user();
    let (query, state) = client.query(&user).unwrap();
    let reply = server.answer(&keys, &query).unwrap();
    let got = client.decode(&state, &reply).unwrap();
    let want = model
        .fine_tune(&user, &AccurateConfig::one_step(0.05).step)
        .predictions;
    let rms = (got
        .iter()
        .zip(want.iter())
        .map(|(a, b)| f64::from(a - b).powi(2))
        .sum::<f64>()
        / got.len() as f64)
        .sqrt();
    eprintln!(
        "veil-bench: cryptorec_lattice accurate/scheme=ckks/m={}/d={dim}: N {}, server preparation {:.1} s; query bytes {}, reply bytes {}, key bytes {}, RMS difference from the plaintext a(1) step {rms:.2e}",
        items(),
        server.setup().params.degree(),
        prep.as_secs_f64(),
        query.len(),
        reply.len(),
        key_bytes.len()
    );
    Accurate {
        dim,
        server,
        client,
        keys,
    }
}

struct AccurateBfv {
    dim: usize,
    server: AccurateBfvServer,
    client: AccurateBfvClient,
    keys: AccurateBfvKeys,
}

/// The exact BFV accurate mode for the float model of dimension `dim`: checks the decrypted
/// integers against the clear reference and prints lanes, bytes and the noise budget.
fn accurate_bfv_setup(dim: usize) -> AccurateBfv {
    let model = float_model(dim);
    let mut cfg = AccurateBfvConfig::one_step(0.05);
    cfg.keep_prepared = std::env::var("VEIL_LATTICE_BFV_KEEP").is_ok_and(|v| v == "1");
    if test_mode() {
        cfg.lattice.degree = 1024.max(2 * items().next_power_of_two());
        cfg.lattice.allow_below_128_bit_security = true;
    }
    let start = Instant::now();
    let server = AccurateBfvServer::new(&model, &cfg).expect("server");
    let prep = start.elapsed();
    let client =
        AccurateBfvClient::new(&server.setup_bytes().unwrap(), test_mode()).expect("client");
    let key_bytes = client.key_bytes().unwrap();
    let keys = server.client_keys(&key_bytes).unwrap();
    let user = user();
    let (query, _) = client.query(&user).unwrap();
    let reply = server.answer(&keys, &query).unwrap();
    let input = quantize_user(&client.setup().public, &user).unwrap();
    let exact = client.decode_integers(&reply).unwrap()
        == server.exact_model().step_integers(&input).unwrap();
    assert!(exact, "the decrypted integers differ from the reference");
    let lanes = server.setup().lanes.primes();
    let first = client.setup().first().clone();
    let parsed = server.parse_query(&query).unwrap();
    let [x, phi, c] = &parsed[0];
    let (_, r) = server.evaluate_lane(&keys, 0, x, phi, c).unwrap();
    let budget = client.secret_key(0).unwrap().noise_budget(&r).unwrap();
    let reserve = sanitize_reserve_bits(first.degree())
        + (2 * lanes.len()).next_power_of_two().trailing_zeros();
    eprintln!(
        "veil-bench: cryptorec_lattice accurate/scheme=bfv/m={}/d={dim}: N {}, {} lanes of {} bits, {} primes of Q, log2 QP {}, |R| bound 2^{}; server preparation {:.1} s; query bytes {}, reply bytes {}, key bytes {} (once); lane 0 noise budget before sanitization {budget} bits (reserve 42 + log2 N + log2(2k) = {}); decrypted integers equal the clear reference: {exact}",
        items(),
        first.degree(),
        lanes.len(),
        64 - lanes[0].leading_zeros(),
        first.ciphertext_moduli().len(),
        first.log_qp(),
        server.setup().public.r_bound.bits(),
        prep.as_secs_f64(),
        query.len(),
        reply.len(),
        key_bytes.len(),
        reserve,
    );
    AccurateBfv {
        dim,
        server,
        client,
        keys,
    }
}

/// `VEIL_LATTICE_ACCURATE_SCHEMES=ckks,bfv` (default: both).
fn accurate_scheme(name: &str) -> bool {
    std::env::var("VEIL_LATTICE_ACCURATE_SCHEMES").map_or(true, |v| v.split(',').any(|g| g == name))
}

fn accurate_dims() -> Vec<usize> {
    match std::env::var("VEIL_LATTICE_ACCURATE_DIMS") {
        Ok(v) => v.split(',').filter_map(|d| d.parse().ok()).collect(),
        Err(_) => dims(),
    }
}

fn bench_accurate(c: &mut Criterion) {
    if !group_enabled("accurate") {
        return;
    }
    let run_summary = summary_part("accurate");
    let mut g = c.benchmark_group("accurate");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(5));
    let user = user();
    for dim in accurate_dims() {
        if accurate_scheme("ckks") {
            let a = accurate_setup(dim);
            let m = items();
            let (query, state) = a.client.query(&user).unwrap();
            let reply = a.server.answer(&a.keys, &query).unwrap();
            let base = format!("scheme=ckks/m={m}/d={}", a.dim);
            for t in thread_counts() {
                if run_summary {
                    wall_and_cpu(&format!("accurate/{base}/server"), t, || {
                        black_box(a.server.answer(&a.keys, &query).unwrap());
                    });
                    wall_and_cpu(&format!("accurate/{base}/client_query"), t, || {
                        black_box(a.client.query(&user).unwrap());
                    });
                    wall_and_cpu(&format!("accurate/{base}/client_decode"), t, || {
                        black_box(a.client.decode(&state, &reply).unwrap());
                    });
                }
                g.bench_function(format!("{base}/server/threads={t}"), |b| {
                    on(t, || {
                        b.iter(|| a.server.answer(&a.keys, black_box(&query)).unwrap())
                    })
                });
                g.bench_function(format!("{base}/client_query/threads={t}"), |b| {
                    on(t, || b.iter(|| a.client.query(black_box(&user)).unwrap()))
                });
                g.bench_function(format!("{base}/client_decode/threads={t}"), |b| {
                    on(t, || {
                        b.iter(|| a.client.decode(&state, black_box(&reply)).unwrap())
                    })
                });
            }
        }
        if accurate_scheme("bfv") {
            let a = accurate_bfv_setup(dim);
            let m = items();
            let (query, state) = a.client.query(&user).unwrap();
            let reply = a.server.answer(&a.keys, &query).unwrap();
            let base = format!("scheme=bfv/m={m}/d={}", a.dim);
            for t in thread_counts() {
                if run_summary {
                    wall_and_cpu(&format!("accurate/{base}/server"), t, || {
                        black_box(a.server.answer(&a.keys, &query).unwrap());
                    });
                    wall_and_cpu(&format!("accurate/{base}/client_query"), t, || {
                        black_box(a.client.query(&user).unwrap());
                    });
                    wall_and_cpu(&format!("accurate/{base}/client_decode"), t, || {
                        black_box(a.client.decode(&state, &reply).unwrap());
                    });
                }
                g.bench_function(format!("{base}/server/threads={t}"), |b| {
                    on(t, || {
                        b.iter(|| a.server.answer(&a.keys, black_box(&query)).unwrap())
                    })
                });
                g.bench_function(format!("{base}/client_query/threads={t}"), |b| {
                    on(t, || b.iter(|| a.client.query(black_box(&user)).unwrap()))
                });
                g.bench_function(format!("{base}/client_decode/threads={t}"), |b| {
                    on(t, || {
                        b.iter(|| a.client.decode(&state, black_box(&reply)).unwrap())
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, summary, bench_fast, bench_accurate);
criterion_main!(benches);
