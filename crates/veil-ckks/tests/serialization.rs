//! Every object survives to_bytes/from_bytes, and corrupted or foreign bytes are refused.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use veil_ckks::{
    Ciphertext, CkksParameters, CkksParametersBuilder, GaloisKeys, Plaintext, Preset, PublicKey,
    RelinearizationKey, Sampler, SecretKey, SeededCiphertext,
};

/// The parameters of the fuzz fixture (`fuzz/src/ckks.rs`), so that the objects written here
/// can seed the fuzz corpora (set `VEIL_CKKS_FUZZ_SEEDS` to a directory).
fn params() -> Arc<CkksParameters> {
    CkksParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&[40, 30, 40])
        .log_scale(30)
        .allow_below_128_bit_security()
        .build()
        .unwrap()
}

fn save_seed(target: &str, name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("VEIL_CKKS_FUZZ_SEEDS") {
        let dir = std::path::Path::new(&dir).join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn every_object_round_trips_and_corruption_is_refused() {
    let params = params();
    let mut sampler = Sampler::from_seed([9; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let rk = sk.relinearization_key_with(&mut sampler).unwrap();
    let gk = sk.galois_keys_for(&[1, -3], true, &mut sampler).unwrap();
    let v: Vec<f64> = (0..512).map(|i| (i as f64 * 0.1).cos()).collect();
    let pt = Plaintext::encode_real(&params, &v, 1, params.scale()).unwrap();
    let ct = pk.encrypt_with(&pt, &mut sampler).unwrap();
    let ct3 = ct.mul(&ct).unwrap();
    let low = ct.rescale().unwrap();

    let p2 = CkksParameters::from_bytes(&params.to_bytes(), true).unwrap();
    assert_eq!(*p2, *params);
    assert!(
        CkksParameters::from_bytes(&params.to_bytes(), false).is_err(),
        "below 128 bits"
    );
    let preset = CkksParameters::preset(Preset::N8192).unwrap();
    assert_eq!(
        *CkksParameters::from_bytes(&preset.to_bytes(), false).unwrap(),
        *preset
    );
    save_seed("ckks_parameters", "fixture", &params.to_bytes());
    save_seed("ckks_parameters", "preset8192", &preset.to_bytes());

    for (name, c) in [("fresh", &ct), ("three", &ct3), ("level0", &low)] {
        let bytes = c.to_bytes();
        let back = Ciphertext::from_bytes(&params, &bytes).unwrap();
        assert_eq!(&back, c);
        save_seed("ckks_ciphertext", name, &bytes);
    }
    let seeded = sk.encrypt_seeded_with(&pt, &mut sampler).unwrap();
    let bytes = seeded.to_bytes();
    assert_eq!(
        SeededCiphertext::from_bytes(&params, &bytes).unwrap(),
        seeded
    );
    save_seed("ckks_ciphertext", "seeded", &bytes);
    let bytes = pt.to_bytes();
    assert_eq!(Plaintext::from_bytes(&params, &bytes).unwrap(), pt);
    save_seed("ckks_ciphertext", "plaintext", &bytes);

    let bytes = pk.to_bytes();
    assert_eq!(PublicKey::from_bytes(&params, &bytes).unwrap(), pk);
    save_seed("ckks_keys", "public", &bytes);
    let bytes = rk.to_bytes();
    assert_eq!(RelinearizationKey::from_bytes(&params, &bytes).unwrap(), rk);
    save_seed("ckks_keys", "relin", &bytes);
    let bytes = gk.to_bytes();
    assert_eq!(GaloisKeys::from_bytes(&params, &bytes).unwrap(), gk);
    save_seed("ckks_keys", "galois", &bytes);
    let bytes = sk.to_bytes();
    let sk2 = SecretKey::from_bytes(&params, &bytes).unwrap();
    assert_eq!(
        sk2.decrypt_real(&ct).unwrap(),
        sk.decrypt_real(&ct).unwrap()
    );
    save_seed("ckks_keys", "secret", &bytes);
    assert_eq!(format!("{sk2:?}"), "SecretKey(<redacted>)");

    // Corruptions: truncation, trailing byte, wrong kind, residue above its prime, bad scale,
    // level outside the chain, foreign parameters.
    let bytes = ct.to_bytes();
    assert!(Ciphertext::from_bytes(&params, &bytes[..bytes.len() - 1]).is_err());
    let mut long = bytes.clone();
    long.push(0);
    assert!(Ciphertext::from_bytes(&params, &long).is_err());
    assert!(Plaintext::from_bytes(&params, &bytes).is_err());
    let mut high = bytes.clone();
    let header = 4 + 1 + 1 + 8 + 1 + 1 + 8;
    high[header..header + 5].fill(0xff);
    assert!(Ciphertext::from_bytes(&params, &high).is_err());
    for bad_scale in [f64::NAN, f64::INFINITY, 0.5, -1.0, 2f64.powi(80)] {
        let mut b = bytes.clone();
        b[16..24].copy_from_slice(&bad_scale.to_bits().to_le_bytes());
        assert!(
            Ciphertext::from_bytes(&params, &b).is_err(),
            "scale {bad_scale}"
        );
    }
    let mut b = bytes.clone();
    b[15] = 7;
    assert!(Ciphertext::from_bytes(&params, &b).is_err());
    assert!(Ciphertext::from_bytes(&preset, &bytes).is_err());
    let mut b = sk.to_bytes().to_vec();
    let last = b.len() - 1;
    b[last] = 3;
    assert!(SecretKey::from_bytes(&params, &b).is_err());
}
