//! python-paillier `pheutil` ciphertext files: `phe::encrypted_number_from_json` against the
//! fixed 2048-bit key, then what `pheutil decrypt` does with it: decrypt with the fixed private
//! key and `phe::format_decoded`. None of it may panic; errors (overflow, a float out of range)
//! are fine.
//!
//! A ciphertext that parses must read back the same from `encrypted_number_to_json`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_paillier::phe;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sk = veil_paillier_fuzz::private_key();
    let pk = sk.public_key();
    let Ok(x) = phe::encrypted_number_from_json(pk, text) else {
        return;
    };

    let json = phe::encrypted_number_to_json(&x);
    let back = phe::encrypted_number_from_json(pk, &json)
        .expect("a written pheutil ciphertext reads back");
    assert_eq!(back.ciphertext, x.ciphertext);
    assert_eq!(back.exponent, x.exponent);

    if let Ok(decoded) = sk.decrypt_number(&x) {
        let _ = phe::format_decoded(&decoded);
    }

    // What `pheutil` does before writing a number back (see `phe::prepare_for_pheutil`, minus the
    // re-randomization): bring the exponent down to -32. Only for small gaps, whose exponentiation
    // stays cheap; the exponent arithmetic itself is covered by the `encoding` target.
    if x.exponent > phe::PHEUTIL_MAX_EXPONENT
        && x.exponent <= 32
        && let Ok(lower) = pk.decrease_exponent_to(&x, phe::PHEUTIL_MAX_EXPONENT)
    {
        assert_eq!(lower.exponent, phe::PHEUTIL_MAX_EXPONENT);
        if let Ok(decoded) = sk.decrypt_number(&lower) {
            let _ = phe::format_decoded(&decoded);
        }
    }
});
