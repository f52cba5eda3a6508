//! Every homomorphic operation against its f64 reference, with a precision bound in bits.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use veil_ckks::{
    Ciphertext, CkksParameters, CkksParametersBuilder, Complex64, GaloisKeys, Plaintext, Preset,
    PublicKey, RelinearizationKey, Sampler, SecretKey,
};

struct Fixture {
    params: Arc<CkksParameters>,
    sk: SecretKey,
    pk: PublicKey,
    rk: RelinearizationKey,
    gk: GaloisKeys,
    sampler: Sampler,
}

fn fixture(params: Arc<CkksParameters>) -> Fixture {
    let mut sampler = Sampler::from_seed([7; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let rk = sk.relinearization_key_with(&mut sampler).unwrap();
    let gk = sk
        .galois_keys_for(&[1, 2, 3, -1, 16], true, &mut sampler)
        .unwrap();
    Fixture {
        params,
        sk,
        pk,
        rk,
        gk,
        sampler,
    }
}

/// A small chain (N = 4096, depth 3), opted in below 128 bits: fast tests of the mechanics.
fn small() -> Fixture {
    let params = CkksParametersBuilder::new()
        .degree(4096)
        .moduli_sizes(&[60, 40, 40, 40, 60])
        .log_scale(40)
        .allow_below_128_bit_security()
        .build()
        .unwrap();
    fixture(params)
}

/// Fresh-encryption precision bound at N = 4096, scale 2^40 (docs/ckks.md): public-key
/// encryption divides its noise by P, which leaves the rounding errors r_0 + r_1 s (|r_i| <= 1/2):
/// per coefficient variance N / 18, per slot (real part) standard deviation N / 6, that is
/// 2^-30.6 of the scale; eight of those are 2^-27.6. The assertion keeps one more bit for the
/// encoding error (measured: 28.1 bits).
const FRESH_BITS: f64 = 26.5;

fn values(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| ((i as u64 * 2654435761 + seed * 97) % 2001) as f64 / 1000.0 - 1.0)
        .collect()
}

fn encrypt(f: &mut Fixture, v: &[f64]) -> Ciphertext {
    let pt = Plaintext::encode_real(&f.params, v, f.params.max_level(), f.params.scale()).unwrap();
    f.pk.encrypt_with(&pt, &mut f.sampler).unwrap()
}

/// -log2 of the largest slot error.
fn bits(got: &[f64], want: &[f64]) -> f64 {
    let b = bits_of(got, want);
    eprintln!("precision {b:.2} bits");
    b
}

fn bits_of(got: &[f64], want: &[f64]) -> f64 {
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    -worst.log2()
}

#[test]
fn encrypt_decrypt_public_and_secret() {
    let mut f = small();
    let v = values(f.params.slots(), 1);
    let ct = encrypt(&mut f, &v);
    assert!(bits(&f.sk.decrypt_real(&ct).unwrap(), &v) > FRESH_BITS);
    let pt = Plaintext::encode_real(&f.params, &v, 2, f.params.scale()).unwrap();
    let ct = f.sk.encrypt_with(&pt, &mut f.sampler).unwrap();
    assert_eq!(ct.level(), 2);
    assert!(bits(&f.sk.decrypt_real(&ct).unwrap(), &v) > FRESH_BITS);
}

#[test]
fn products_relinearize_and_rescale() {
    let mut f = small();
    let (a, b) = (values(f.params.slots(), 1), values(f.params.slots(), 2));
    let (ca, cb) = (encrypt(&mut f, &a), encrypt(&mut f, &b));
    let prod = ca.mul_relin_rescale(&cb, &f.rk).unwrap();
    assert_eq!(prod.level(), f.params.max_level() - 1);
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
    let got = f.sk.decrypt_real(&prod).unwrap();
    assert!(bits(&got, &want) > 20.0, "{}", bits(&got, &want));
    // Three-polynomial ciphertexts decrypt too.
    let raw = ca.mul(&cb).unwrap();
    assert_eq!(raw.size(), 3);
    assert!(bits(&f.sk.decrypt_real(&raw).unwrap(), &want) > 20.0);
    // Square and a product at different levels.
    let sq = ca
        .square()
        .unwrap()
        .relinearize(&f.rk)
        .unwrap()
        .rescale()
        .unwrap();
    let want_sq: Vec<f64> = a.iter().map(|x| x * x).collect();
    assert!(bits(&f.sk.decrypt_real(&sq).unwrap(), &want_sq) > 20.0);
    let cube = sq.mul_relin_rescale(&ca, &f.rk).unwrap();
    let want_cube: Vec<f64> = a.iter().map(|x| x * x * x).collect();
    assert!(bits(&f.sk.decrypt_real(&cube).unwrap(), &want_cube) > 19.0);
}

#[test]
fn additions_align_levels_and_scales() {
    let mut f = small();
    let (a, b) = (values(f.params.slots(), 3), values(f.params.slots(), 4));
    let (ca, cb) = (encrypt(&mut f, &a), encrypt(&mut f, &b));
    let prod = ca.mul_relin_rescale(&cb, &f.rk).unwrap();
    // prod is one level lower, with scale 2^80 / q_L != 2^40.
    assert!(prod.scale() != ca.scale());
    let sum = prod.add(&ca).unwrap();
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y + x).collect();
    assert!(bits(&f.sk.decrypt_real(&sum).unwrap(), &want) > 20.0);
    let diff = ca.sub(&prod).unwrap();
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - x * y).collect();
    assert!(bits(&f.sk.decrypt_real(&diff).unwrap(), &want) > 20.0);
    let neg = ca.neg().add(&cb).unwrap();
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
    assert!(bits(&f.sk.decrypt_real(&neg).unwrap(), &want) > FRESH_BITS);
}

#[test]
fn plaintext_and_constant_operations() {
    let mut f = small();
    let (a, b) = (values(f.params.slots(), 5), values(f.params.slots(), 6));
    let ca = encrypt(&mut f, &a);
    let top = f.params.max_level();
    let pb = Plaintext::encode_real(&f.params, &b, top, f.params.scale()).unwrap();
    let sum = ca.add_plain(&pb).unwrap();
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    assert!(bits(&f.sk.decrypt_real(&sum).unwrap(), &want) > FRESH_BITS);
    let prod = ca.mul_plain(&pb).unwrap().rescale().unwrap();
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
    assert!(bits(&f.sk.decrypt_real(&prod).unwrap(), &want) > 20.0);
    let scaled = ca.mul_const_rescale(-0.375).unwrap();
    assert_eq!(scaled.scale(), ca.scale());
    let want: Vec<f64> = a.iter().map(|x| -0.375 * x).collect();
    assert!(bits(&f.sk.decrypt_real(&scaled).unwrap(), &want) > FRESH_BITS);
    let shifted = ca.add_const(1.25).unwrap().mul_integer(3);
    let want: Vec<f64> = a.iter().map(|x| 3.0 * (x + 1.25)).collect();
    // The integer product triples the noise too.
    assert!(bits(&f.sk.decrypt_real(&shifted).unwrap(), &want) > FRESH_BITS - 3f64.log2());
}

#[test]
fn rotations_and_conjugation() {
    let mut f = small();
    let slots = f.params.slots();
    let z: Vec<Complex64> = (0..slots)
        .map(|j| Complex64::new((j as f64 * 0.01).sin(), (j as f64 * 0.03).cos()))
        .collect();
    let pt = Plaintext::encode(&f.params, &z, f.params.max_level(), f.params.scale()).unwrap();
    let ct = f.pk.encrypt_with(&pt, &mut f.sampler).unwrap();
    let steps = [1i64, 2, 3, -1, 19, 16, 0];
    let hoisted = ct.rotate_many(&steps, &f.gk).unwrap();
    for (&k, h) in steps.iter().zip(&hoisted) {
        let single = ct.rotate(k, &f.gk).unwrap();
        for got in [
            f.sk.decrypt_complex(&single).unwrap(),
            f.sk.decrypt_complex(h).unwrap(),
        ] {
            let worst = (0..slots)
                .map(|j| (got[j] - z[(j as i64 + k).rem_euclid(slots as i64) as usize]).norm())
                .fold(0.0, f64::max);
            assert!(worst < 1e-6, "step {k}: {worst:e}");
        }
    }
    let conj = f.sk.decrypt_complex(&ct.conjugate(&f.gk).unwrap()).unwrap();
    let worst = (0..slots)
        .map(|j| (conj[j] - z[j].conj()).norm())
        .fold(0.0, f64::max);
    assert!(worst < 1e-6, "{worst:e}");
    assert!(
        ct.rotate(4, &f.gk).is_err(),
        "no key for 4 and no decomposition over keyed powers"
    );
}

#[test]
fn mismatches_are_errors_not_panics() {
    let mut f = small();
    let v = values(8, 9);
    let ct = encrypt(&mut f, &v);
    let low = ct.mod_drop_to(0).unwrap();
    assert!(low.rescale().is_err());
    assert!(low.mul_const(2.0).is_err());
    assert!(ct.mod_drop_to(9).is_err());
    let other = CkksParameters::preset(Preset::N8192).unwrap();
    let pt = Plaintext::encode_real(&other, &v, 0, other.scale()).unwrap();
    assert!(ct.add_plain(&pt).is_err());
    assert!(
        f.sk.decrypt(&f.pk.encrypt(&pt).unwrap_or_else(|_| ct.clone()))
            .is_ok()
    );
    let three = ct.mul(&ct).unwrap();
    assert!(three.mul(&ct).is_err());
    assert!(three.rotate(1, &f.gk).is_err());
    // Same level, different scales: refused rather than silently wrong.
    let prod = ct.mul(&ct).unwrap().relinearize(&f.rk).unwrap();
    assert!(prod.add(&ct).is_err());
}
