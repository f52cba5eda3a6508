//! Circuit privacy: sanitized replies decrypt correctly, end at a short level, and their noise
//! no longer depends on the computation that made them.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use veil_bfv::{BfvParameters, Ciphertext, Encoder, Preset, SecretKey, sanitize_reserve_bits};
use veil_ring::sample::Sampler;

fn params() -> Arc<BfvParameters> {
    BfvParameters::preset(Preset::N8192).unwrap()
}

/// Two-sample Kolmogorov-Smirnov statistic (veil-ring's, ties handled).
fn ks(a: Vec<f64>, b: Vec<f64>) -> f64 {
    veil_ring::stats::ks_statistic(&a, &b)
}

/// Two "models" compute the same slots with very different noise: m * 1, and m + k Enc(0) with
/// k about t/2 (noise about t/2 times larger). Unsanitized, their noise distributions differ completely;
/// sanitized, a KS test cannot tell them apart (8192 coefficients each; the 0.1% critical value is
/// 1.95 sqrt(2 / 8192) = 0.030), and both decrypt to the same slots.
#[test]
fn sanitized_noise_does_not_depend_on_the_computation() {
    let params = params();
    let mut sampler = Sampler::from_seed([21; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let encoder = Encoder::new(&params).unwrap();
    let t = params.plaintext_modulus();
    let values: Vec<u64> = (0..params.degree() as u64)
        .map(|i| (i * 7919) % t)
        .collect();
    let ct = pk
        .encrypt_with(&encoder.encode(&values).unwrap(), &mut sampler)
        .unwrap();
    let quiet = ct.mul_scalar(1);
    // mul_scalar reduces its factor mod t, so the loud path adds k Enc(0) with k about t/2.
    let zero = pk
        .encrypt_with(&encoder.encode_scalar(0), &mut sampler)
        .unwrap();
    let k = i64::try_from(t / 2 - 1).unwrap();
    let loud = ct.add(&zero.mul_scalar(k)).unwrap();
    for c in [&quiet, &loud] {
        assert!(sk.noise_budget(c).unwrap() >= sanitize_reserve_bits(&params));
    }
    let raw = ks(
        sk.invariant_noise_vartime(&quiet).unwrap(),
        sk.invariant_noise_vartime(&loud).unwrap(),
    );
    assert!(raw > 0.5, "unsanitized noise should differ, KS = {raw}");
    // Fresh noise is tiny (t e / Q with Q of 174 bits) but resolved, not rounded to zero.
    let fresh = sk.invariant_noise_vartime(&quiet).unwrap();
    let largest = fresh.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        largest > 0.0 && largest < 2f64.powi(-100),
        "fresh noise {largest:e}"
    );
    assert!(fresh.iter().filter(|v| **v == 0.0).count() < fresh.len() / 4);

    let a = pk.sanitize(&quiet, &mut sampler).unwrap();
    let b = pk.sanitize(&loud, &mut sampler).unwrap();
    assert_eq!(a.level(), b.level());
    assert_eq!(
        a.level(),
        params.max_level(),
        "the 8192 preset's last prime holds t and N"
    );
    let flooded = ks(
        sk.invariant_noise_vartime(&a).unwrap(),
        sk.invariant_noise_vartime(&b).unwrap(),
    );
    assert!(flooded < 0.030, "sanitized noise differs, KS = {flooded}");
    for c in [&a, &b] {
        assert_eq!(encoder.decode(&sk.decrypt(c).unwrap()).unwrap(), values);
    }
    // The flooding really is large: the noise spreads over about 1/8 of the interval.
    let spread = sk
        .invariant_noise_vartime(&a)
        .unwrap()
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        (0.05..0.25).contains(&spread),
        "max invariant noise {spread}"
    );
}

#[test]
fn sanitize_refuses_unrelinearized_and_foreign_ciphertexts() {
    let params = params();
    let mut sampler = Sampler::from_seed([22; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let encoder = Encoder::new(&params).unwrap();
    let ct = pk
        .encrypt_with(&encoder.encode_scalar(3), &mut sampler)
        .unwrap();
    let three = ct.mul(&ct).unwrap();
    assert_eq!(three.len(), 3);
    assert!(pk.sanitize(&three, &mut sampler).is_err());
    let other = BfvParameters::preset(Preset::N4096).unwrap();
    let other_pk = SecretKey::generate_with(&other, &mut sampler)
        .unwrap()
        .public_key_with(&mut sampler)
        .unwrap();
    assert!(other_pk.sanitize(&ct, &mut sampler).is_err());
}

#[test]
fn from_polynomials_checks_size_and_ring() {
    let params = params();
    let mut sampler = Sampler::from_seed([23; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let encoder = Encoder::new(&params).unwrap();
    let ct = pk
        .encrypt_with(&encoder.encode_scalar(5), &mut sampler)
        .unwrap();
    let polys = ct.polynomials().to_vec();
    let same = Ciphertext::from_polynomials(&params, 0, polys.clone()).unwrap();
    assert_eq!(same, ct);
    assert!(Ciphertext::from_polynomials(&params, 1, polys.clone()).is_err());
    assert!(Ciphertext::from_polynomials(&params, 0, polys[..1].to_vec()).is_err());
    assert!(Ciphertext::from_polynomials(&params, params.max_level() + 1, polys).is_err());
    assert!(std::ptr::eq(pk.parameters().as_ref(), params.as_ref()));
}
