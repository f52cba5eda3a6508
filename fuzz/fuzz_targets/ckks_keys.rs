//! Public, relinearization, Galois and secret key deserializers against the fixed CKKS
//! parameters: errors only, and canonical round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_ckks::{GaloisKeys, PublicKey, RelinearizationKey, SecretKey};

fuzz_target!(|data: &[u8]| {
    let params = &veil_paillier_fuzz::ckks::ckks().params;
    if let Ok(k) = PublicKey::from_bytes(params, data) {
        assert_eq!(k.to_bytes(), data);
    }
    if let Ok(k) = RelinearizationKey::from_bytes(params, data) {
        assert_eq!(k.to_bytes(), data);
    }
    if let Ok(k) = GaloisKeys::from_bytes(params, data) {
        assert_eq!(k.to_bytes(), data);
    }
    if let Ok(k) = SecretKey::from_bytes(params, data) {
        assert_eq!(k.to_bytes().as_slice(), data);
    }
});
