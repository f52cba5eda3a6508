//! serde JSON ciphertexts: a bare base64url string as `UncheckedCiphertext`, then
//! `PublicKey::validate` against the fixed 2048-bit key.
//!
//! A ciphertext that validates must round-trip through serde and through the fixed-width byte
//! encoding unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_paillier::UncheckedCiphertext;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(unchecked) = serde_json::from_str::<UncheckedCiphertext>(text) else {
        return;
    };
    let pk = veil_paillier_fuzz::public_key();
    let Ok(ct) = pk.validate(unchecked.clone()) else {
        return;
    };
    assert_eq!(ct.to_unchecked(), unchecked);

    let json = serde_json::to_string(&ct).expect("a validated ciphertext serializes");
    let back: UncheckedCiphertext =
        serde_json::from_str(&json).expect("a serialized ciphertext parses");
    assert_eq!(back, unchecked);

    let bytes = pk
        .ciphertext_to_bytes(&ct)
        .expect("a ciphertext of this key has a byte encoding");
    assert_eq!(bytes.len(), pk.ciphertext_len());
    let again = pk
        .ciphertext_from_bytes(&bytes)
        .expect("the byte encoding of a valid ciphertext parses");
    assert_eq!(again, ct);
});
