//! `CkksParameters::from_bytes` (with and without the 128-bit bound): errors only, and a
//! canonical round trip for every accepted input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_ckks::CkksParameters;

fuzz_target!(|data: &[u8]| {
    for weak in [false, true] {
        if let Ok(p) = CkksParameters::from_bytes(data, weak) {
            assert_eq!(p.to_bytes(), data, "parameters encode canonically");
        }
    }
});
