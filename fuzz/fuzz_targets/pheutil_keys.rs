//! python-paillier `pheutil` key files: `phe::public_key_from_json`, `phe::private_key_from_json`.
//!
//! Every input is tried as both. A key that parses must be read back unchanged from what
//! `public_key_to_json` / `private_key_to_json` write for it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_paillier::phe;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(pk) = phe::public_key_from_json(text) {
        let json = phe::public_key_to_json(&pk, "fuzz \"kid\" \u{e9}");
        let back =
            phe::public_key_from_json(&json).expect("a written pheutil public key reads back");
        assert_eq!(back, pk);
    }

    if let Ok(sk) = phe::private_key_from_json(text) {
        let json = phe::private_key_to_json(&sk, "public kid", "private kid");
        let back =
            phe::private_key_from_json(&json).expect("a written pheutil private key reads back");
        assert_eq!(back, sk);
    }
});
