//! Circuit privacy: sanitized replies' noise no longer depends on the computation, at the stated
//! cost in precision.
#![allow(clippy::unwrap_used, clippy::panic)]

use veil_ckks::{CkksParameters, Plaintext, Preset, Sampler, SecretKey, flooding_bits};

/// Two-sample Kolmogorov-Smirnov statistic (veil-ring's, ties handled).
fn ks(a: Vec<f64>, b: Vec<f64>) -> f64 {
    veil_ring::stats::ks_statistic(&a, &b)
}

/// Two computations of the same message, m and m + 9 Enc(0) (error about 9 times larger): their
/// error distributions differ before sanitizing and cannot be told apart after (KS over 8192
/// coefficients, 0.1% critical value 0.030); the slot error after flooding matches the module's
/// estimate B sqrt(N / 3) / scale within a factor of 8.
#[test]
fn sanitized_error_does_not_depend_on_the_computation() {
    let params = CkksParameters::preset(Preset::N8192).unwrap();
    let mut sampler = Sampler::from_seed([31; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let level = params.max_level();
    let scale = params.scale();
    let values: Vec<f64> = (0..params.degree() / 2)
        .map(|i| (i as f64 * 0.37).sin())
        .collect();
    let pt = Plaintext::encode_real(&params, &values, level, scale).unwrap();
    let ct = pk.encrypt_with(&pt, &mut sampler).unwrap();
    let quiet = ct.clone();
    let zero = Plaintext::encode_real(&params, &[], level, scale).unwrap();
    let noise = pk.encrypt_with(&zero, &mut sampler).unwrap();
    let loud = ct.add(&noise.mul_integer(9)).unwrap();
    let raw = ks(
        sk.error_vartime(&quiet, &pt).unwrap(),
        sk.error_vartime(&loud, &pt).unwrap(),
    );
    assert!(
        raw > 0.3,
        "the two computations' errors should differ, KS = {raw}"
    );

    let b = sk.error_bits_vartime(&loud, &pt).unwrap();
    assert!(b >= sk.error_bits_vartime(&quiet, &pt).unwrap());
    let a = pk.sanitize(&quiet, b, &mut sampler).unwrap();
    let c = pk.sanitize(&loud, b, &mut sampler).unwrap();
    let flooded = ks(
        sk.error_vartime(&a, &pt).unwrap(),
        sk.error_vartime(&c, &pt).unwrap(),
    );
    assert!(flooded < 0.030, "sanitized errors differ, KS = {flooded}");
    assert_eq!((a.level(), a.scale()), (level, scale));

    let n = params.degree() as f64;
    let estimate = 2f64.powi(flooding_bits(params.degree(), b) as i32) * (n / 3.0).sqrt() / scale;
    let decoded = sk.decrypt_real(&a).unwrap();
    let rms = (decoded
        .iter()
        .zip(&values)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        / values.len() as f64)
        .sqrt();
    assert!(
        rms > estimate / 8.0 && rms < estimate * 8.0,
        "slot error {rms:e}, estimate {estimate:e}"
    );
}

#[test]
fn sanitize_refuses_what_it_cannot_hide() {
    let params = CkksParameters::preset(Preset::N8192).unwrap();
    let mut sampler = Sampler::from_seed([32; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let pt = Plaintext::encode_real(&params, &[1.0], 0, params.scale()).unwrap();
    let ct = pk.encrypt_with(&pt, &mut sampler).unwrap();
    // Level 0 has a 49-bit modulus: 2^(10 + 13 + 39) does not fit.
    assert!(pk.sanitize(&ct, 10, &mut sampler).is_err());
    let mut scaled = ct.clone();
    assert!(scaled.set_scale(f64::NAN).is_err());
    assert!(scaled.set_scale(-1.0).is_err());
    scaled.set_scale(2.0 * params.scale()).unwrap();
    let half = sk.decrypt_real(&scaled).unwrap()[0];
    assert!((half - 0.5).abs() < 1e-6, "{half}");
}
