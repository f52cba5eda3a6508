//! Untrusted input gives a clear error, never a panic.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{KEY, OTHER_KEY};
use rug::Integer;
use veil_paillier::{Error, PrivateKey, PublicKey, UncheckedCiphertext, phe};

#[test]
fn ciphertexts_outside_the_unit_group_are_refused() {
    let pk = KEY.public_key();
    let n = pk.n().clone();
    let n2 = pk.n_squared().clone();
    let p_factor = {
        let json = serde_json::to_value(&*KEY).unwrap();
        let s = json["p"].as_str().unwrap().to_owned();
        serde_json::from_value::<UncheckedCiphertext>(serde_json::Value::String(s))
            .unwrap()
            .0
    };
    for bad in [
        Integer::new(),
        Integer::from(-5),
        n2.clone(),
        Integer::from(&n2 + 1),
        n.clone(),
        Integer::from(&n * 3),
        p_factor,
    ] {
        assert!(matches!(
            pk.validate(UncheckedCiphertext(bad)),
            Err(Error::InvalidCiphertext { .. })
        ));
    }
    assert!(pk.validate(UncheckedCiphertext(Integer::from(1))).is_ok());
}

#[test]
fn ciphertext_bytes_of_wrong_length_or_value() {
    let pk = KEY.public_key();
    let ct = pk.encrypt(5).unwrap();
    let bytes = pk.ciphertext_to_bytes(&ct).unwrap();
    assert_eq!(bytes.len(), pk.ciphertext_len());
    assert_eq!(
        KEY.decrypt_i64(&pk.ciphertext_from_bytes(&bytes).unwrap())
            .unwrap(),
        5
    );
    assert!(matches!(
        pk.ciphertext_from_bytes(&bytes[1..]),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        pk.ciphertext_from_bytes(&[bytes.clone(), vec![0]].concat()),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        pk.ciphertext_from_bytes(&vec![0xff; bytes.len()]),
        Err(Error::InvalidCiphertext { .. })
    ));
    assert!(matches!(
        pk.ciphertext_from_bytes(&vec![0; bytes.len()]),
        Err(Error::InvalidCiphertext { .. })
    ));
    assert!(matches!(
        pk.ciphertext_from_bytes(&[]),
        Err(Error::Malformed { .. })
    ));
}

#[test]
fn mixing_keys_is_refused() {
    let a = KEY.public_key().encrypt(1).unwrap();
    let b = OTHER_KEY.public_key().encrypt(1).unwrap();
    assert!(matches!(
        KEY.public_key().add(&a, &b),
        Err(Error::KeyMismatch)
    ));
    assert!(matches!(OTHER_KEY.decrypt(&a), Err(Error::KeyMismatch)));
    assert!(matches!(
        KEY.public_key().mul_scalar(&b, 2),
        Err(Error::KeyMismatch)
    ));
}

#[test]
fn bad_moduli_and_primes() {
    assert!(matches!(
        PublicKey::from_modulus(Integer::from(15)),
        Err(Error::InvalidKeySize { .. })
    ));
    let big_even = Integer::from(1) << 2047u32;
    assert!(matches!(
        PublicKey::from_modulus(big_even),
        Err(Error::InvalidKey { .. })
    ));
    let square = ((Integer::from(1) << 1023u32) + 1u32).square();
    assert!(PublicKey::from_modulus(square).is_err());
    let with_small_factor = (Integer::from(1) << 2047u32) * 3u32 + 3u32;
    assert!(PublicKey::from_modulus(with_small_factor).is_err());
    assert!(matches!(
        PublicKey::from_modulus(Integer::from(1) << 20000u32),
        Err(Error::InvalidKeySize { .. })
    ));
    // Non-prime factors, equal factors, mismatched public key.
    // 2^511 + 2^510 + 3 is divisible by 3; both factors have 512 bits, so n has 1024.
    let top = (Integer::from(1) << 511u32) + (Integer::from(1) << 510u32);
    let composite = Integer::from(&top + 3u32);
    let prime = Integer::from(&top + 5u32).next_prime();
    assert!(matches!(
        PrivateKey::from_primes(composite, prime.clone()),
        Err(Error::InvalidKey { .. })
    ));
    assert!(matches!(
        PrivateKey::from_primes(prime.clone(), prime.clone()),
        Err(Error::InvalidKey { .. })
    ));
    // Unequal lengths (n = 3 q would be trivial to factor, and is not a valid public modulus).
    assert!(matches!(
        PrivateKey::from_primes(Integer::from(3), prime.clone() << 510u32),
        Err(Error::InvalidKey { .. })
    ));
    let short = Integer::from(1u32 << 30).next_prime();
    let long = (Integer::from(1) << 1000u32).next_prime();
    assert!(matches!(
        PrivateKey::from_primes(short, long),
        Err(Error::InvalidKey { .. })
    ));
    let other = Integer::from(&prime + 2u32).next_prime();
    let key = PrivateKey::from_primes(prime.clone(), other.clone()).unwrap();
    assert!(PrivateKey::from_public_and_primes(KEY.public_key(), prime, other).is_err());
    assert_eq!(key.public_key().bits(), 1024);
}

#[test]
fn serde_keys_round_trip_and_reject_junk() {
    let json = serde_json::to_string(&*KEY).unwrap();
    assert_eq!(serde_json::from_str::<PrivateKey>(&json).unwrap(), *KEY);
    let pk_json = serde_json::to_string(KEY.public_key()).unwrap();
    assert_eq!(
        &serde_json::from_str::<PublicKey>(&pk_json).unwrap(),
        KEY.public_key()
    );
    for junk in [
        r#"{"n": "AQAB"}"#,
        r#"{"n": "not base64!"}"#,
        r#"{"n": 5}"#,
        r#"{}"#,
        r#"[]"#,
        r#"{"n": "AQAB", "extra": 1}"#,
    ] {
        assert!(serde_json::from_str::<PublicKey>(junk).is_err(), "{junk}");
    }
    assert!(serde_json::from_str::<PrivateKey>(r#"{"p": "Fw", "q": "HQ"}"#).is_err());
    let huge = format!(r#"{{"n": "{}"}}"#, "A".repeat(1 << 20));
    assert!(serde_json::from_str::<PublicKey>(&huge).is_err());
    // Debug never shows the primes.
    assert!(format!("{:?}", *KEY).contains("<redacted>"));
    assert!(!format!("{:?}", *KEY).contains(&json[6..20]));
}

#[test]
fn malformed_pheutil_json() {
    let pk = KEY.public_key();
    let good = phe::encrypted_number_to_json(
        &pk.encrypt_number(&veil_paillier::EncodedNumber::from_integer(3))
            .unwrap(),
    );
    assert!(phe::encrypted_number_from_json(pk, &good).is_ok());
    for bad in [
        "",
        "{",
        "[1, 2]",
        r#"{"e": -32}"#,
        r#"{"v": "12"}"#,
        r#"{"v": "12abc", "e": 0}"#,
        r#"{"v": "-12", "e": 0}"#,
        r#"{"v": "0", "e": 0}"#,
        r#"{"v": "12", "e": "-32"}"#,
        r#"{"v": "12", "e": 1e300}"#,
        r#"{"v": "12", "e": 0.5}"#,
    ] {
        assert!(phe::encrypted_number_from_json(pk, bad).is_err(), "{bad}");
    }
    let long = format!(r#"{{"v": "{}", "e": 0}}"#, "9".repeat(20_000));
    assert!(matches!(
        phe::encrypted_number_from_json(pk, &long),
        Err(Error::Malformed { .. })
    ));
    for bad in [
        r#"{"kty": "RSA", "alg": "PAI-GN1", "n": "AQAB"}"#,
        r#"{"kty": "DAJ", "alg": "PAI-GN2", "n": "AQAB"}"#,
        r#"{"kty": "DAJ", "alg": "PAI-GN1"}"#,
        r#"{"kty": "DAJ", "alg": "PAI-GN1", "n": "AQAB"}"#,
        r#"{"kty": "DAJ", "alg": "PAI-GN1", "n": "A"}"#,
    ] {
        assert!(phe::public_key_from_json(bad).is_err(), "{bad}");
    }
    let public = phe::public_key_to_json(pk, "k");
    for bad in [
        format!(
            r#"{{"kty": "DAJ", "key_ops": ["encrypt"], "p": "Fw", "q": "HQ", "pub": {public}}}"#
        ),
        format!(
            r#"{{"kty": "DAJ", "key_ops": ["decrypt"], "p": "Fw", "q": "HQ", "pub": {public}}}"#
        ),
        r#"{"kty": "DAJ", "key_ops": ["decrypt"], "p": "Fw", "q": "HQ"}"#.to_owned(),
    ] {
        assert!(phe::private_key_from_json(&bad).is_err(), "{bad}");
    }
}

/// Issue 14, item 5: private-key equality compares no secret (the public keys decide, since n
/// has one factorization), and it still tells keys apart; keys rebuilt from their primes, in
/// either order and through the key-file paths, are equal to the original.
#[test]
fn private_key_equality_is_decided_by_the_public_key() {
    let json = serde_json::to_value(&*KEY).unwrap();
    let prime = |name: &str| {
        let s = json[name].as_str().unwrap().to_owned();
        serde_json::from_value::<UncheckedCiphertext>(serde_json::Value::String(s))
            .unwrap()
            .0
    };
    let (p, q) = (prime("p"), prime("q"));
    let a = PrivateKey::from_primes(p.clone(), q.clone()).unwrap();
    let b = PrivateKey::from_primes(q.clone(), p.clone()).unwrap();
    let c = PrivateKey::from_public_and_primes(KEY.public_key(), q.clone(), p.clone()).unwrap();
    assert!(a == *KEY && b == *KEY && c == *KEY);
    assert!(*KEY != *OTHER_KEY);
    // The error paths of from_primes (now wiping p and q on every early return) still refuse.
    assert!(PrivateKey::from_primes(p.clone(), p.clone()).is_err());
    assert!(PrivateKey::from_primes(p.clone(), Integer::from(&q + 2)).is_err());
    assert!(PrivateKey::from_public_and_primes(OTHER_KEY.public_key(), p, q).is_err());
}
