//! Circuit privacy of the exact accurate mode: every reply ciphertext is sanitized
//! (`PublicKey::sanitize`, 2^-40 statistical distance; derivation in veil-bfv's `sanitize` module
//! docs), so the decrypted noise of the replies has the same distribution for two different
//! models; the raw results before sanitization visibly differ (so the test can fail).
//!
//! The two models share the lanes (`AccurateBfvServer::with_lanes`): a random one and the same
//! with A = 0 (every P is zero: the raw result carries almost no product noise). The invariant
//! noise of every coefficient of both reply ciphertexts (U and R) of every lane forms one sample,
//! compared by the two-sample Kolmogorov-Smirnov statistic D at the 0.1% critical value.
#![allow(clippy::unwrap_used, clippy::panic)]

mod lattice_common;

use lattice_common::{random_model, random_user};
use num_traits::ToPrimitive;
use veil_bfv::Ciphertext;
use veil_cryptorec::lattice::accurate_bfv::{
    AccurateBfvClient, AccurateBfvConfig, AccurateBfvServer, Lanes,
};
use veil_cryptorec::model::Model;
use veil_ring::sample::Sampler;
use veil_ring::stats::{ks_critical_value, ks_statistic};
use veil_ring::{Poly, RnsBasis};

const SECRET_SEED: [u8; 32] = [3; 32];

fn cfg() -> AccurateBfvConfig {
    let mut cfg = AccurateBfvConfig::one_step(0.05);
    cfg.lattice.degree = 2048;
    cfg.lattice.allow_below_128_bit_security = true;
    cfg.keep_prepared = true;
    cfg
}

/// [t (c_0 + c_1 s)]_Q / Q for every coefficient, exactly, with s recomputed from the seed.
fn invariant_noise(ct: &Ciphertext) -> Vec<f64> {
    let [c0, c1] = ct.polynomials() else {
        panic!("two polynomials")
    };
    let ctx = c0.context().clone();
    let n = ctx.degree();
    let s = Poly::from_small(&ctx, &Sampler::from_seed(SECRET_SEED).ternary(n))
        .unwrap()
        .into_ntt();
    let phase = c0
        .add(&c1.clone().into_ntt().mul(&s).unwrap().into_coeff())
        .unwrap();
    let t = ct.parameters().plaintext_modulus();
    let primes: Vec<u64> = ctx.moduli().iter().map(|q| q.value()).collect();
    let basis = RnsBasis::new(&primes).unwrap();
    let q = basis.product().to_f64().unwrap();
    let scaled = phase.mul_scalar(i64::try_from(t).unwrap());
    basis
        .compose_poly_centered(scaled.as_slice(), n)
        .unwrap()
        .iter()
        .map(|v| v.to_f64().unwrap() / q)
        .collect()
}

/// The invariant noise of `model`'s replies to three fixed users: as sent (sanitized), or the
/// raw per-lane results.
fn reply_noise(model: &Model, lanes: &Lanes, sanitized: bool) -> Vec<f64> {
    let server = AccurateBfvServer::with_lanes(model, &cfg(), Some(lanes)).unwrap();
    let client = AccurateBfvClient::with_secret(
        server.setup().clone(),
        &mut Sampler::from_seed(SECRET_SEED),
    )
    .unwrap();
    let keys = server.client_keys(&client.key_bytes().unwrap()).unwrap();
    let mut noise = Vec::new();
    for seed in 0..3 {
        let user = random_user(40, 12, seed);
        let (query, _) = client.query(&user).unwrap();
        let cts: Vec<Ciphertext> = if sanitized {
            let reply = server.answer(&keys, &query).unwrap();
            // The noise is measured against the decryption the client does.
            assert_eq!(
                client.decode_integers(&reply).unwrap().u.len(),
                40,
                "the reply decodes"
            );
            client
                .reply_ciphertexts(&reply)
                .unwrap()
                .into_iter()
                .flat_map(|(u, r)| [u, r])
                .collect()
        } else {
            server
                .parse_query(&query)
                .unwrap()
                .iter()
                .enumerate()
                .flat_map(|(j, [x, phi, c])| {
                    let (u, r) = server.evaluate_lane(&keys, j, x, phi, c).unwrap();
                    [u, r]
                })
                .collect()
        };
        for ct in &cts {
            noise.extend(invariant_noise(ct));
        }
    }
    noise
}

#[test]
fn sanitized_replies_have_the_same_noise_for_two_models() {
    let dense = random_model(40, 6, 11);
    let mut zero_a = dense.clone();
    zero_a.a.fill(0.0);
    let lanes = AccurateBfvServer::new(&dense, &cfg())
        .unwrap()
        .setup()
        .lanes
        .clone();
    for sanitized in [true, false] {
        let (a, b) = (
            reply_noise(&dense, &lanes, sanitized),
            reply_noise(&zero_a, &lanes, sanitized),
        );
        let d = ks_statistic(&a, &b);
        let critical = ks_critical_value(0.001, a.len(), b.len());
        println!(
            "sanitized {sanitized}: KS D = {d:.4} over {} + {} coefficients (0.1% critical value {critical:.4})",
            a.len(),
            b.len()
        );
        if sanitized {
            assert!(d < critical, "sanitized replies differ: D = {d}");
            // Flooded to about 1/8 of the decryption bound, as veil-bfv documents.
            let spread = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!((0.05..0.25).contains(&spread), "max noise {spread}");
        } else {
            // Measured about 0.25: far above the critical value.
            assert!(d > 0.1, "the raw results should differ: D = {d}");
        }
    }
}
