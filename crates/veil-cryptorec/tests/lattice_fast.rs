//! CryptoRec-f over BFV: decrypted predictions equal the integer model's exactly, at the extreme
//! inputs the bound allows too; the noise left for the sanitization; message validation.
#![allow(clippy::unwrap_used, clippy::panic)]

mod lattice_common;

use lattice_common::{random_model, random_user, small_config};
use veil_cryptorec::lattice::{FastClient, FastServer, PublicSetup, sanitize_reserve_bits};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_ring::sample::Sampler;

fn setup(model: &QuantizedModel) -> (FastServer, FastClient) {
    let server = FastServer::new(model, &small_config()).unwrap();
    let setup = PublicSetup::from_bytes(&server.setup_bytes().unwrap(), true).unwrap();
    let client =
        FastClient::with_secret(setup, &mut Sampler::from_seed(lattice_common::SEED)).unwrap();
    (server, client)
}

#[test]
fn decrypted_predictions_equal_the_integer_model() {
    let model = QuantizedModel::new(&random_model(40, 6, 1), &QuantConfig::default()).unwrap();
    let (server, client) = setup(&model);
    let keys = server.client_keys(&client.key_bytes().unwrap()).unwrap();
    for seed in 0..3 {
        let user = random_user(40, 12, seed);
        let (query, state) = client.query(&user).unwrap();
        let reply = server.answer(&keys, &query).unwrap();
        let x = QuantizedModel::quantize_input(&model.params, &user).unwrap();
        assert_eq!(
            client.decode_integers(&reply).unwrap(),
            model.predict_integers(&x)
        );
        assert_eq!(
            client.decode(&state, &reply).unwrap(),
            model.predict(&user).unwrap()
        );
    }
}

/// Inputs x_j = +-X sign(M_ji), M = A' Q'^T, reach |v_i| = X sum_j |M_ji| + |B_i|-ish, the largest
/// value any admissible query can produce for item i: it decodes exactly with the chosen t, and
/// wraps when the server is given a bound four times too small (so the check can fail).
#[test]
fn extreme_inputs_do_not_wrap_and_a_too_small_bound_would() {
    let model = QuantizedModel::new(&random_model(40, 6, 2), &QuantConfig::default()).unwrap();
    let m = model.params.items;
    let big = model.params.input_bound;
    let column = |i: usize| -> Vec<i64> {
        (0..m)
            .map(|j| {
                (0..model.dim())
                    .map(|c| model.a[(j, c)] * model.q_t[(c, i)])
                    .sum()
            })
            .collect()
    };
    let (item, _) = (0..m)
        .map(|i| (i, column(i).iter().map(|v| v.abs()).sum::<i64>()))
        .max_by_key(|&(_, s)| s)
        .unwrap();
    let extreme: Vec<i64> = column(item)
        .iter()
        .map(|&v| if v >= 0 { big } else { -big })
        .collect();
    let want = model.predict_integers(&extreme);
    let reached = want[item].unsigned_abs();
    println!(
        "item {item}: |v| = {reached} of the bound {} (t = {})",
        model.params.output_bound,
        setup(&model).0.setup().params.plaintext_modulus()
    );
    assert!(reached <= model.params.output_bound);
    for sign in [1i64, -1] {
        let x: Vec<i64> = extreme.iter().map(|v| v * sign).collect();
        let (server, client) = setup(&model);
        let keys = server.client_keys(&client.key_bytes().unwrap()).unwrap();
        let reply = server
            .answer(&keys, &client.query_integers(&x).unwrap())
            .unwrap();
        assert_eq!(
            client.decode_integers(&reply).unwrap(),
            model.predict_integers(&x)
        );
    }
    let mut understated = model.clone();
    understated.params.output_bound = reached / 4;
    let (server, client) = setup(&understated);
    let t = server.setup().params.plaintext_modulus();
    assert!(
        u128::from(t) <= 2 * reached,
        "t = {t} should be at most 2 |v| = {}",
        2 * reached
    );
    let keys = server.client_keys(&client.key_bytes().unwrap()).unwrap();
    let reply = server
        .answer(&keys, &client.query_integers(&extreme).unwrap())
        .unwrap();
    assert_ne!(
        client.decode_integers(&reply).unwrap(),
        want,
        "a small t must wrap"
    );
}

/// The computation leaves at least the sanitization's reserve of noise budget (calibrates the
/// noise plan of `lattice::params`).
#[test]
fn the_computation_leaves_the_sanitization_reserve() {
    let model = QuantizedModel::new(&random_model(40, 6, 3), &QuantConfig::default()).unwrap();
    let (server, client) = setup(&model);
    let keys = server.client_keys(&client.key_bytes().unwrap()).unwrap();
    let params = client.parameters().clone();
    let x = QuantizedModel::quantize_input(&model.params, &random_user(40, 20, 9)).unwrap();
    let query_bytes = client.query_integers(&x).unwrap();
    // Re-parse the query as the server does (the seeded ciphertext after the 5-byte header and
    // the 4-byte length).
    let ct = veil_bfv::SeededCiphertext::from_bytes(&params, &query_bytes[9..])
        .unwrap()
        .expand();
    let fresh = client.secret_key().noise_budget(&ct).unwrap();
    let v = server.evaluate(&ct, &keys.galois).unwrap();
    let left = client.secret_key().noise_budget(&v).unwrap();
    let q_bits: u32 = params
        .ciphertext_moduli()
        .iter()
        .map(|q| 64 - q.leading_zeros())
        .sum();
    println!(
        "log Q {q_bits}, t {} bits: fresh budget {fresh}, after the two products {left}, reserve {}",
        64 - params.plaintext_modulus().leading_zeros(),
        sanitize_reserve_bits(params.degree())
    );
    assert!(left >= sanitize_reserve_bits(params.degree()));
}

#[test]
fn malformed_messages_are_refused() {
    let model = QuantizedModel::new(&random_model(20, 4, 4), &QuantConfig::default()).unwrap();
    let (server, client) = setup(&model);
    let setup_bytes = server.setup_bytes().unwrap();
    // Setup: below 128-bit security is refused unless asked; truncated or extended bytes too.
    assert!(PublicSetup::from_bytes(&setup_bytes, false).is_err());
    assert!(PublicSetup::from_bytes(&setup_bytes[..setup_bytes.len() - 1], true).is_err());
    let mut longer = setup_bytes.clone();
    longer.push(0);
    assert!(PublicSetup::from_bytes(&longer, true).is_err());
    // Keys: truncated, or missing a rotation the server needs.
    let key_bytes = client.key_bytes().unwrap();
    assert!(
        server
            .client_keys(&key_bytes[..key_bytes.len() / 2])
            .is_err()
    );
    let partial =
        veil_cryptorec::lattice::ClientKeys::generate(client.setup(), client.secret_key(), &[1])
            .unwrap()
            .to_bytes()
            .unwrap();
    assert!(server.client_keys(&partial).is_err());
    // Queries: garbage, a length prefix larger than the message, flipped magic.
    let keys = server.client_keys(&key_bytes).unwrap();
    let (query, _) = client.query(&random_user(20, 5, 1)).unwrap();
    for bad in [
        vec![],
        b"VCLQ\x01\xff\xff\xff\xff".to_vec(),
        query[..query.len() - 3].to_vec(),
        [b"VCLR".as_slice(), &query[4..]].concat(),
    ] {
        assert!(server.answer(&keys, &bad).is_err());
    }
    // Replies: a query is not a reply.
    assert!(client.decode_integers(&query).is_err());
}

/// The noise budget left at the ML-1M shape (m = 3,952, d = 500 and 100, N = 16384, Gaussian
/// weights quantized to 4 bits): the sanitization's reserve must hold at the real parameters too.
/// Slow (about 10 s of CPU per shape and a 0.7 GB model), so ignored by default:
/// `cargo test --release -p veil-cryptorec --test lattice_fast -- --ignored --nocapture`.
#[test]
#[ignore = "slow: ML-1M-shaped model at N = 16384"]
fn ml1m_shape_leaves_the_sanitization_reserve() {
    for d in [500, 100] {
        let float = lattice_common::gaussian_model(3952, d, d as u64);
        let model = QuantizedModel::new(&float, &QuantConfig::default()).unwrap();
        let server =
            FastServer::new(&model, &veil_cryptorec::lattice::LatticeConfig::default()).unwrap();
        let client = FastClient::with_secret(
            server.setup().clone(),
            &mut Sampler::from_seed(lattice_common::SEED),
        )
        .unwrap();
        let keys = server.client_keys(&client.key_bytes().unwrap()).unwrap();
        let params = client.parameters().clone();
        let x = QuantizedModel::quantize_input(&model.params, &random_user(3952, 165, 1)).unwrap();
        let query = client.query_integers(&x).unwrap();
        let ct = veil_bfv::SeededCiphertext::from_bytes(&params, &query[9..])
            .unwrap()
            .expand();
        let fresh = client.secret_key().noise_budget(&ct).unwrap();
        let v = server.evaluate(&ct, &keys.galois).unwrap();
        let left = client.secret_key().noise_budget(&v).unwrap();
        let reply = server.answer(&keys, &query).unwrap();
        assert_eq!(
            client.decode_integers(&reply).unwrap(),
            model.predict_integers(&x)
        );
        let q_bits: u32 = params
            .ciphertext_moduli()
            .iter()
            .map(|q| 64 - q.leading_zeros())
            .sum();
        println!(
            "m 3952, d {d}: log Q {q_bits}, t {} bits: fresh budget {fresh}, after the two products {left}, reserve {}",
            64 - params.plaintext_modulus().leading_zeros(),
            sanitize_reserve_bits(params.degree())
        );
        assert!(left >= sanitize_reserve_bits(params.degree()));
    }
}
