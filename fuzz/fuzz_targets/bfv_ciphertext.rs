//! `Ciphertext::from_bytes` and `SeededCiphertext::from_bytes` against the fixed N = 4096
//! parameters: errors only, canonical round trips, and decryption never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_bfv::{Ciphertext, SeededCiphertext};

fuzz_target!(|data: &[u8]| {
    let f = veil_paillier_fuzz::bfv();
    if let Ok(ct) = Ciphertext::from_bytes(&f.params, data) {
        assert_eq!(ct.to_bytes(), data, "ciphertexts encode canonically");
        let _ = f.sk.decrypt(&ct);
    }
    if let Ok(sc) = SeededCiphertext::from_bytes(&f.params, data) {
        assert_eq!(sc.to_bytes(), data, "seeded ciphertexts encode canonically");
        let _ = f.sk.decrypt(&sc.expand());
    }
});
