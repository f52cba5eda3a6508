//! CryptoRec fast-mode prediction over Paillier (sec. 5.1) on a MovieLens-1M-shaped model
//! (m = 3,952 items; d = 500 as in the paper's Table 6, and d = 100), 2048-bit key.
//!
//! IDs: `server/m=3952/d=500/bits=4/threads=2` (decode the query bytes, both encrypted
//! products, packing, biases, re-randomization, encode the response), `client/encrypt_fresh`
//! (key-holder CRT randomness, constant time), `client/encrypt_fixed_base` (fixed-base tables
//! of the safe-prime key, variable time), `client/encrypt_pool` (online part, randomness
//! precomputed), `client/decrypt`. Message sizes
//! are printed once per model on stderr (`veil-bench: cryptorec ... bytes`).
//!
//! The models are trained (early stopping on validation users) on synthetic data of MovieLens
//! 1M's shape and density: server time depends on the model's size and on how many quantized
//! weights are zero, which is printed as well.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use veil_benches::{on, thread_counts};
use veil_cryptorec::data::SyntheticConfig;
use veil_cryptorec::eval::Split;
use veil_cryptorec::fast::{
    KeyPolicy, Query, Randomness, Response, TrustedKey, decrypt_response, encrypt_query, prove_key,
    respond,
};
use veil_cryptorec::model::{Model, TrainConfig, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_paillier::{KeyGenerator, PrivateKey, RandomnessPool};

const BITS: u32 = 2048;

fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

struct Data {
    split: Split,
    sk: PrivateKey,
}

/// The server's check of the client's key (once per key, outside the timings).
fn trusted(sk: &PrivateKey) -> TrustedKey {
    TrustedKey::verify(
        sk.public_key(),
        &prove_key(sk).expect("prove"),
        &KeyPolicy::default(),
    )
    .expect("verify")
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let cfg = if test_mode() {
            SyntheticConfig {
                users: 300,
                items: 200,
                ..SyntheticConfig::default()
            }
        } else {
            SyntheticConfig::movielens_1m()
        };
        // Safe primes, so that fixed-base randomness can be measured too.
        let sk = KeyGenerator::new(BITS)
            .safe_primes(true)
            .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(11))
            .expect("keygen");
        Data {
            split: Split::paper(&cfg.generate(), 0),
            sk,
        }
    })
}

/// The quantized model for (d, bits), trained once per d.
fn model(dim: usize, bits: u32) -> &'static QuantizedModel {
    static MODELS: OnceLock<Mutex<HashMap<(usize, u32), &'static QuantizedModel>>> =
        OnceLock::new();
    static FLOATS: OnceLock<Mutex<HashMap<usize, &'static Model>>> = OnceLock::new();
    let mut models = MODELS.get_or_init(Default::default).lock().unwrap();
    if let Some(m) = models.get(&(dim, bits)) {
        return m;
    }
    let d = data();
    let float = *FLOATS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(dim)
        .or_insert_with(|| {
            let cfg = TrainConfig {
                dim,
                ..TrainConfig::default()
            };
            let m = Model::train(&d.split.train, d.split.items, &cfg, &d.split.validation)
                .expect("train");
            Box::leak(Box::new(m))
        });
    let q = QuantizedModel::new(
        float,
        &QuantConfig {
            weight_bits: bits,
            ..QuantConfig::default()
        },
    )
    .expect("quantize");
    let q: &'static QuantizedModel = Box::leak(Box::new(q));
    // Untimed check and message sizes.
    let pk = d.sk.public_key();
    let user = user();
    let query = encrypt_query(&d.sk, &q.params, user, Randomness::Fresh).expect("query");
    let response = respond(&trusted(&d.sk), q, &query).expect("respond");
    let v = decrypt_response(&d.sk, &q.params, &response).expect("decrypt");
    let x = QuantizedModel::quantize_input(&q.params, user).expect("input");
    assert_eq!(v, q.predict_integers(&x), "encrypted = quantized plaintext");
    eprintln!(
        "veil-bench: cryptorec m={} d={dim} bits={bits}: zero weights {:.1}%, query bytes {}, response bytes {} ({} packed ciphertexts)",
        q.params.items,
        100.0 * q.zero_fraction(),
        query.to_bytes(pk).expect("bytes").len(),
        response.to_bytes(pk).expect("bytes").len(),
        response.packed.len()
    );
    models.insert((dim, bits), q);
    q
}

fn user() -> &'static UserRatings {
    &data().split.test[0].0
}

fn shapes() -> Vec<(usize, u32)> {
    if test_mode() {
        vec![(8, 4)]
    } else {
        vec![(500, 4), (100, 4), (500, 8)]
    }
}

fn bench_server(c: &mut Criterion) {
    let mut g = c.benchmark_group("server");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(20));
    for (dim, bits) in shapes() {
        let q = model(dim, bits);
        let d = data();
        let pk = d.sk.public_key();
        let server_key = trusted(&d.sk);
        let bytes = encrypt_query(&d.sk, &q.params, user(), Randomness::Fresh)
            .and_then(|x| x.to_bytes(pk))
            .expect("query");
        for t in thread_counts() {
            let id = format!("m={}/d={dim}/bits={bits}/threads={t}", q.params.items);
            g.bench_function(id, |b| {
                on(t, || {
                    b.iter(|| {
                        let query = Query::from_bytes(pk, &q.params, black_box(&bytes)).unwrap();
                        respond(&server_key, q, &query)
                            .and_then(|r| r.to_bytes(pk))
                            .unwrap()
                    })
                })
            });
        }
    }
    g.finish();
}

fn bench_client(c: &mut Criterion) {
    let mut g = c.benchmark_group("client");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(10));
    let (dim, bits) = shapes()[0];
    let q = model(dim, bits);
    let d = data();
    let pk = d.sk.public_key();
    let m = q.params.items;
    for t in thread_counts() {
        g.bench_function(format!("encrypt_fresh/m={m}/threads={t}"), |b| {
            on(t, || {
                b.iter(|| {
                    encrypt_query(&d.sk, &q.params, black_box(user()), Randomness::Fresh).unwrap()
                })
            })
        });
    }
    let fb =
        d.sk.fixed_base_randomness_vartime()
            .expect("safe-prime key");
    for t in thread_counts() {
        g.bench_function(format!("encrypt_fixed_base/m={m}/threads={t}"), |b| {
            on(t, || {
                b.iter(|| {
                    encrypt_query(
                        &d.sk,
                        &q.params,
                        black_box(user()),
                        Randomness::FixedBaseVartime(&fb),
                    )
                    .unwrap()
                })
            })
        });
    }
    g.bench_function(format!("encrypt_pool/m={m}/threads=1"), |b| {
        b.iter_batched(
            || {
                let mut pool = RandomnessPool::new(pk);
                pool.fill_with_private_key(&d.sk, m).unwrap();
                pool
            },
            |mut pool| {
                encrypt_query(
                    &d.sk,
                    &q.params,
                    black_box(user()),
                    Randomness::Pool(&mut pool),
                )
                .and_then(|x| x.to_bytes(pk))
                .unwrap()
            },
            criterion::BatchSize::PerIteration,
        )
    });
    let response = respond(
        &trusted(&d.sk),
        q,
        &encrypt_query(&d.sk, &q.params, user(), Randomness::Fresh).unwrap(),
    )
    .and_then(|r| r.to_bytes(pk))
    .unwrap();
    for t in thread_counts() {
        g.bench_function(
            format!("decrypt/m={m}/d={dim}/bits={bits}/threads={t}"),
            |b| {
                on(t, || {
                    b.iter(|| {
                        let r = Response::from_bytes(pk, &q.params, black_box(&response)).unwrap();
                        decrypt_response(&d.sk, &q.params, &r).unwrap()
                    })
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench_server, bench_client);
criterion_main!(benches);
