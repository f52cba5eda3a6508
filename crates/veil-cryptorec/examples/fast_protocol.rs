//! One fast-mode query (sec. 5.1) on a MovieLens-1M-shaped model: client and server time, bytes.
//!
//! `cargo run --release -p veil-cryptorec --example fast_protocol -- [dim] [epochs]`
//! The model is trained for a few epochs on synthetic data of MovieLens 1M's shape and density
//! (6,040 x 3,952 at 4.2%); the timings depend on its size and weight distribution only.

use std::time::Instant;

use veil_cryptorec::data::SyntheticConfig;
use veil_cryptorec::eval::Split;
use veil_cryptorec::fast::{
    KeyPolicy, Query, Randomness, Response, TrustedKey, decrypt_response, encrypt_query, prove_key,
    respond,
};
use veil_cryptorec::model::{Model, TrainConfig};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel, dequantize};
use veil_paillier::{KeyGenerator, RandomnessPool};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dim: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(500);
    let epochs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2);
    let t = Instant::now();
    let data = SyntheticConfig::movielens_1m().generate();
    let split = Split::paper(&data, 0);
    let cfg = TrainConfig {
        dim,
        epochs,
        ..TrainConfig::default()
    };
    let model = Model::train(&split.train, split.items, &cfg, &[])?;
    let qm = QuantizedModel::new(&model, &QuantConfig::default())?;
    println!(
        "model m = {}, d = {dim}: trained {epochs} epochs in {:.1} s; {:.1}% zero weights",
        qm.params.items,
        t.elapsed().as_secs_f64(),
        100.0 * qm.zero_fraction()
    );
    let t = Instant::now();
    let sk = KeyGenerator::new(2048).safe_primes(true).generate()?;
    let keygen = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let fb = sk.fixed_base_randomness_vartime()?;
    let tables = t.elapsed().as_secs_f64();
    let pk = sk.public_key();
    let user = &split.test[0].0;

    let t = Instant::now();
    let query = encrypt_query(&sk, &qm.params, user, Randomness::Fresh)?;
    let client_encrypt = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let _ = encrypt_query(&sk, &qm.params, user, Randomness::FixedBaseVartime(&fb))?;
    let client_fixed = t.elapsed().as_secs_f64();
    println!(
        "safe-prime key {keygen:.1} s, fixed-base tables {tables:.2} s; encrypt fresh {client_encrypt:.2} s, fixed-base {client_fixed:.2} s"
    );
    let mut pool = RandomnessPool::new(pk);
    let t = Instant::now();
    pool.fill_with_private_key(&sk, qm.params.items)?;
    let pool_fill = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let query_pooled = encrypt_query(&sk, &qm.params, user, Randomness::Pool(&mut pool))?;
    let client_online = t.elapsed().as_secs_f64();
    let query_bytes = query_pooled.to_bytes(pk)?;
    drop(query);

    // Once per key: the client proves gcd(n, phi(n)) = 1, the server checks it.
    let t = Instant::now();
    let proof = prove_key(&sk)?;
    let prove = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let server_key = TrustedKey::verify(pk, &proof, &KeyPolicy::default())?;
    println!(
        "key proof: prove {:.1} ms, verify {:.1} ms, {} bytes",
        1e3 * prove,
        1e3 * t.elapsed().as_secs_f64(),
        proof.to_bytes(pk)?.len()
    );

    let t = Instant::now();
    let received = Query::from_bytes(pk, &qm.params, &query_bytes)?;
    let response = respond(&server_key, &qm, &received)?;
    let response_bytes = response.to_bytes(pk)?;
    let server = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let got = Response::from_bytes(pk, &qm.params, &response_bytes)?;
    let v = decrypt_response(&sk, &qm.params, &got)?;
    let preds = dequantize(&qm.params, &v, user.mean());
    let client_decrypt = t.elapsed().as_secs_f64();
    let x = QuantizedModel::quantize_input(&qm.params, user)?;
    assert_eq!(v, qm.predict_integers(&x));
    println!(
        "threads {}: server {server:.2} s; client encrypt (fresh) {client_encrypt:.2} s, pool fill {pool_fill:.2} s, encrypt from pool {client_online:.3} s, decrypt+decode {client_decrypt:.3} s; bytes up {} down {} ({} packed ciphertexts); {} predictions",
        rayon::current_num_threads(),
        query_bytes.len(),
        response_bytes.len(),
        response.packed.len(),
        preds.len()
    );
    Ok(())
}
