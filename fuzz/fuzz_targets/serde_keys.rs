//! serde JSON keys: `{"n": <base64url>}` as `PublicKey`, `{"p": .., "q": ..}` as `PrivateKey`.
//!
//! Every input is tried as both. A key that parses must survive a serialize/parse round trip
//! unchanged (the serde impls are a format, so this is their contract).

#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_paillier::{PrivateKey, PublicKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(pk) = serde_json::from_str::<PublicKey>(text) {
        let json = serde_json::to_string(&pk).expect("a parsed public key serializes");
        let back: PublicKey = serde_json::from_str(&json).expect("a serialized public key parses");
        assert_eq!(back, pk);
    }

    if let Ok(sk) = serde_json::from_str::<PrivateKey>(text) {
        let json = serde_json::to_string(&sk).expect("a parsed private key serializes");
        let back: PrivateKey =
            serde_json::from_str(&json).expect("a serialized private key parses");
        assert_eq!(back, sk);
        // Not asserted: that the serialized public key of `sk` parses as a `PublicKey`.
        // `PrivateKey::from_primes` accepts a prime as small as 3, and `PublicKey::from_modulus`
        // refuses a modulus with a prime factor below 1000, so it does not always
        // (fuzz/artifacts-found/serde_keys/private-p3-public-key-refused.json).
        let json = serde_json::to_string(sk.public_key()).expect("its public key serializes");
        let _ = serde_json::from_str::<PublicKey>(&json);
    }
});
