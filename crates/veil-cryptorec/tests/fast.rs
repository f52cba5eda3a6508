//! Fast-mode prediction over Paillier returns exactly the quantized plaintext model's
//! predictions, and refuses malformed messages.
#![allow(clippy::unwrap_used, clippy::panic)]

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use veil_cryptorec::Error;
use veil_cryptorec::data::SyntheticConfig;
use veil_cryptorec::eval::Split;
use veil_cryptorec::fast::{
    KeyPolicy, Query, Randomness, Response, TrustedKey, decrypt_response, encrypt_query, prove_key,
    respond,
};
use veil_cryptorec::model::{Model, TrainConfig};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_paillier::{KeyGenerator, PrivateKey, RandomnessPool};

fn key(seed: u64) -> PrivateKey {
    KeyGenerator::new(1024)
        .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(seed))
        .unwrap()
}

/// The server's view of a client key: checked with its proof (1024-bit test keys allowed).
fn trusted(sk: &PrivateKey) -> TrustedKey {
    let proof = prove_key(sk).unwrap();
    TrustedKey::verify(
        sk.public_key(),
        &proof,
        &KeyPolicy::insecure_small_keys_for_tests(),
    )
    .unwrap()
}

fn small_model() -> (Model, Split) {
    let data = SyntheticConfig {
        users: 200,
        items: 120,
        density: 0.1,
        seed: 5,
        ..SyntheticConfig::default()
    }
    .generate();
    let split = Split::paper(&data, 1);
    let cfg = TrainConfig {
        dim: 8,
        epochs: 5,
        ..TrainConfig::default()
    };
    let model = Model::train(&split.train, split.items, &cfg, &split.validation).unwrap();
    (model, split)
}

#[test]
fn encrypted_predictions_equal_the_quantized_model_exactly() {
    let (model, split) = small_model();
    let sk = key(7);
    let pk = sk.public_key();
    let server_key = trusted(&sk);
    for bits in [4, 8, 12] {
        let qm = QuantizedModel::new(
            &model,
            &QuantConfig {
                weight_bits: bits,
                ..QuantConfig::default()
            },
        )
        .unwrap();
        for (feed, _) in split.test.iter().take(2) {
            let query = encrypt_query(&sk, &qm.params, feed, Randomness::Fresh).unwrap();
            let query = Query::from_bytes(pk, &qm.params, &query.to_bytes(pk).unwrap()).unwrap();
            let response = respond(&server_key, &qm, &query).unwrap();
            let response =
                Response::from_bytes(pk, &qm.params, &response.to_bytes(pk).unwrap()).unwrap();
            let got = decrypt_response(&sk, &qm.params, &response).unwrap();
            let x = QuantizedModel::quantize_input(&qm.params, feed).unwrap();
            assert_eq!(got, qm.predict_integers(&x), "{bits}-bit weights");
            assert!(
                response.packed.len() < qm.params.items / 4,
                "results are packed"
            );
        }
    }
    // The same through a randomness pool.
    let qm = QuantizedModel::new(&model, &QuantConfig::default()).unwrap();
    let mut pool = RandomnessPool::new(pk);
    pool.fill_with_private_key(&sk, qm.params.items).unwrap();
    let feed = &split.test[0].0;
    let query = encrypt_query(&sk, &qm.params, feed, Randomness::Pool(&mut pool)).unwrap();
    let got =
        decrypt_response(&sk, &qm.params, &respond(&server_key, &qm, &query).unwrap()).unwrap();
    let x = QuantizedModel::quantize_input(&qm.params, feed).unwrap();
    assert_eq!(got, qm.predict_integers(&x));
    // And with fixed-base randomness of a safe-prime key.
    let safe = KeyGenerator::new(1024)
        .safe_primes(true)
        .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(3))
        .unwrap();
    let fb = safe.fixed_base_randomness_vartime().unwrap();
    let query = encrypt_query(&safe, &qm.params, feed, Randomness::FixedBaseVartime(&fb)).unwrap();
    let response = respond(&trusted(&safe), &qm, &query).unwrap();
    assert_eq!(
        decrypt_response(&safe, &qm.params, &response).unwrap(),
        qm.predict_integers(&x)
    );
}

#[test]
fn quantized_model_stays_close_to_the_float_model() {
    let (model, split) = small_model();
    let qm = QuantizedModel::new(&model, &QuantConfig::default()).unwrap();
    let float = model.rmse(&split.test);
    let quant =
        veil_cryptorec::eval::rmse_with(&split.test, 1.0, 5.0, |_, u| qm.predict(u).unwrap());
    assert!(
        (float - quant).abs() < 0.002,
        "float {float} vs quantized {quant}"
    );
}

#[test]
fn malformed_messages_are_errors() {
    let (model, split) = small_model();
    let qm = QuantizedModel::new(&model, &QuantConfig::default()).unwrap();
    let sk = key(7);
    let pk = sk.public_key();
    let server_key = trusted(&sk);
    let query = encrypt_query(&sk, &qm.params, &split.test[0].0, Randomness::Fresh).unwrap();
    let bytes = query.to_bytes(pk).unwrap();
    for bad in [
        &bytes[..5],
        &bytes[..bytes.len() - 1],
        &[b"XXXX", &bytes[4..]].concat()[..],
    ] {
        assert!(matches!(
            Query::from_bytes(pk, &qm.params, bad),
            Err(Error::Message { .. })
        ));
    }
    // A ciphertext of zero is not a unit mod n^2.
    let mut zeroed = bytes.clone();
    zeroed[8..8 + pk.ciphertext_len()].fill(0);
    assert!(matches!(
        Query::from_bytes(pk, &qm.params, &zeroed),
        Err(Error::Paillier(_))
    ));
    // Too few ciphertexts, and a key mismatch.
    let short = Query {
        ciphertexts: query.ciphertexts[1..].to_vec(),
    };
    assert!(matches!(
        respond(&server_key, &qm, &short),
        Err(Error::Message { .. })
    ));
    let other = key(8);
    assert!(matches!(
        respond(&trusted(&other), &qm, &query),
        Err(Error::Paillier(_))
    ));
    let response = respond(&server_key, &qm, &query).unwrap();
    let rb = response.to_bytes(pk).unwrap();
    assert!(Response::from_bytes(pk, &qm.params, &rb[..rb.len() - pk.ciphertext_len()]).is_err());
}

#[test]
fn quantized_model_rmse_within_0_002_on_movielens_100k() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/movielens-100k/u.data");
    if !path.exists() {
        eprintln!(
            "skipped: {} is absent (MovieLens may not be redistributed)",
            path.display()
        );
        return;
    }
    let data = veil_cryptorec::data::Dataset::load_movielens(&path).unwrap();
    for seed in 0..2 {
        let split = Split::paper(&data, seed);
        let model = Model::train(
            &split.train,
            split.items,
            &TrainConfig::default(),
            &split.validation,
        )
        .unwrap();
        let qm = QuantizedModel::new(&model, &QuantConfig::default()).unwrap();
        let float = model.rmse(&split.test);
        let quant =
            veil_cryptorec::eval::rmse_with(&split.test, 1.0, 5.0, |_, u| qm.predict(u).unwrap());
        eprintln!("ML-100K seed {seed}: float {float:.4}, integer model {quant:.4}");
        assert!(
            (float - quant).abs() <= 0.002,
            "float {float} vs quantized {quant}"
        );
    }
}

#[test]
fn query_count_is_checked_before_any_ciphertext() {
    // Issue 14: every ciphertext was validated (a gcd with n each) before the count was
    // compared with the model's. A query announcing one item too few, made of invalid
    // ciphertexts, must fail on the count: a count error, not a ciphertext error.
    let (model, _) = small_model();
    let qm = QuantizedModel::new(&model, &QuantConfig::default()).unwrap();
    let sk = key(7);
    let pk = sk.public_key();
    let len = pk.ciphertext_len();
    for items in [qm.params.items - 1, qm.params.items + 1] {
        let mut bytes = b"VCQ1".to_vec();
        bytes.extend_from_slice(&(items as u32).to_le_bytes());
        bytes.resize(8 + items * len, 0);
        assert!(matches!(
            Query::from_bytes(pk, &qm.params, &bytes),
            Err(Error::Message { .. })
        ));
    }
    // The right count with invalid ciphertexts still reaches the ciphertext check.
    let mut bytes = b"VCQ1".to_vec();
    bytes.extend_from_slice(&(qm.params.items as u32).to_le_bytes());
    bytes.resize(8 + qm.params.items * len, 0);
    assert!(matches!(
        Query::from_bytes(pk, &qm.params, &bytes),
        Err(Error::Paillier(_))
    ));
}

#[test]
fn server_refuses_keys_it_cannot_trust() {
    // Issue 14: any modulus that passed `from_modulus` was answered.
    let sk = key(7);
    let pk = sk.public_key();
    let proof = prove_key(&sk).unwrap();
    let tests = KeyPolicy::insecure_small_keys_for_tests();
    assert!(TrustedKey::verify(pk, &proof, &tests).is_ok());
    // 1024 bits is below the default policy's 2048.
    assert!(matches!(
        TrustedKey::verify(pk, &proof, &KeyPolicy::default()),
        Err(Error::Paillier(veil_paillier::Error::InvalidKeySize {
            bits: 1024,
            ..
        }))
    ));
    // Above the configured maximum.
    let small_max = KeyPolicy {
        min_bits: 512,
        max_bits: 1000,
    };
    assert!(TrustedKey::verify(pk, &proof, &small_max).is_err());
    // Another key's proof, or a proof for another context, does not vouch for this key.
    let other = key(8);
    assert!(TrustedKey::verify(pk, &prove_key(&other).unwrap(), &tests).is_err());
    let elsewhere = sk.prove_modulus(b"some other protocol").unwrap();
    assert!(TrustedKey::verify(pk, &elsewhere, &tests).is_err());
    // A proof that went through the wire intact still verifies.
    let bytes = proof.to_bytes(pk).unwrap();
    let parsed = veil_paillier::ModulusProof::from_bytes(pk, &bytes).unwrap();
    assert!(TrustedKey::verify(pk, &parsed, &tests).is_ok());
}
