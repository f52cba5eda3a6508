//! Fixed-width big-endian ciphertext bytes: `PublicKey::ciphertext_from_bytes` against the fixed
//! 2048-bit key (512-byte ciphertexts).
//!
//! The input is tried as is (mostly exercising the length check) and also cut or left-padded with
//! zeros to `ciphertext_len()` bytes, so that most inputs reach the range and gcd checks. A
//! ciphertext that parses must be written back to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pk = veil_paillier_fuzz::public_key();
    let len = pk.ciphertext_len();

    check(data);
    if data.len() != len {
        let mut fixed = vec![0u8; len.saturating_sub(data.len())];
        fixed.extend_from_slice(&data[data.len().saturating_sub(len)..]);
        check(&fixed);
    }
});

fn check(bytes: &[u8]) {
    let pk = veil_paillier_fuzz::public_key();
    if let Ok(ct) = pk.ciphertext_from_bytes(bytes) {
        assert_eq!(bytes.len(), pk.ciphertext_len());
        let out = pk
            .ciphertext_to_bytes(&ct)
            .expect("a ciphertext of this key has a byte encoding");
        assert_eq!(out, bytes);
    }
}
