//! Public, relinearization and Galois key deserializers against the fixed N = 4096 parameters:
//! errors only, and canonical round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_bfv::{GaloisKeys, PublicKey, RelinearizationKey};

fuzz_target!(|data: &[u8]| {
    let params = &veil_paillier_fuzz::bfv().params;
    if let Ok(k) = PublicKey::from_bytes(params, data) {
        assert_eq!(k.to_bytes(), data);
    }
    if let Ok(k) = RelinearizationKey::from_bytes(params, data) {
        assert_eq!(k.to_bytes(), data);
    }
    if let Ok(k) = GaloisKeys::from_bytes(params, data) {
        assert_eq!(k.to_bytes(), data);
    }
});
