//! Files made by python-paillier's `pheutil` (tests/data/pheutil, see its README) are read, and
//! decrypt to exactly what `pheutil decrypt` printed.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use veil_paillier::phe;

fn data(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "pheutil", name]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_pheutil_ciphertext_decrypts_to_pheutils_output() {
    let sk = phe::private_key_from_json(&data("private.json")).unwrap();
    let pk = phe::public_key_from_json(&data("public.json")).unwrap();
    assert_eq!(&pk, sk.public_key());
    let manifest: Vec<serde_json::Value> = serde_json::from_str(&data("manifest.json")).unwrap();
    assert!(manifest.len() >= 16);
    for entry in manifest {
        let file = entry["file"].as_str().unwrap();
        let enc = phe::encrypted_number_from_json(&pk, &data(file)).unwrap();
        let printed = phe::format_decoded(&sk.decrypt_number(&enc).unwrap()).unwrap();
        assert_eq!(
            printed,
            entry["decrypted"].as_str().unwrap(),
            "{file} ({})",
            entry["op"]
        );
    }
}

#[test]
fn keys_written_back_are_byte_identical_apart_from_kid() {
    let text = data("private.json");
    let sk = phe::private_key_from_json(&text).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ours = phe::private_key_to_json(
        &sk,
        v["pub"]["kid"].as_str().unwrap(),
        v["kid"].as_str().unwrap(),
    );
    assert_eq!(ours, text.trim_end());
    let public_text = data("public.json");
    let ours = phe::public_key_to_json(sk.public_key(), v["pub"]["kid"].as_str().unwrap());
    assert_eq!(ours, public_text.trim_end());
}

#[test]
fn our_ciphertexts_follow_pheutils_layout() {
    let sk = phe::private_key_from_json(&data("private.json")).unwrap();
    let pk = sk.public_key();
    let x = veil_paillier::EncodedNumber::from_f64_exact(42.0).unwrap();
    let enc = phe::prepare_for_pheutil(pk, &pk.encrypt_number(&x).unwrap()).unwrap();
    assert_eq!(enc.exponent, -32);
    let text = phe::encrypted_number_to_json(&enc);
    assert!(
        text.starts_with(r#"{"v": ""#) && text.ends_with(r#"", "e": -32}"#),
        "{text}"
    );
    let back = phe::encrypted_number_from_json(pk, &text).unwrap();
    assert_eq!(
        phe::format_decoded(&sk.decrypt_number(&back).unwrap()).unwrap(),
        "42.0"
    );
}
