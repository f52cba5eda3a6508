//! `Ciphertext::from_bytes`, `SeededCiphertext::from_bytes` and `Plaintext::from_bytes` against the fixed CKKS parameters: errors
//! only, canonical round trips, and decryption and decoding never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_ckks::{Ciphertext, Plaintext, SeededCiphertext};

fuzz_target!(|data: &[u8]| {
    let f = veil_paillier_fuzz::ckks::ckks();
    if let Ok(ct) = Ciphertext::from_bytes(&f.params, data) {
        assert_eq!(ct.to_bytes(), data, "ciphertexts encode canonically");
        let _ = f.sk.decrypt_complex(&ct);
        let _ = ct.rescale();
    }
    if let Ok(seeded) = SeededCiphertext::from_bytes(&f.params, data) {
        assert_eq!(
            seeded.to_bytes(),
            data,
            "seeded ciphertexts encode canonically"
        );
        if let Ok(ct) = seeded.expand() {
            let _ = f.sk.decrypt_complex(&ct);
        }
    }
    if let Ok(pt) = Plaintext::from_bytes(&f.params, data) {
        assert_eq!(pt.to_bytes(), data, "plaintexts encode canonically");
        let _ = pt.decode();
    }
});
