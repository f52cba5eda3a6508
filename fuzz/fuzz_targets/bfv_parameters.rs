//! `BfvParameters::from_bytes` on arbitrary bytes: errors only, and canonical round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_bfv::BfvParameters;

fuzz_target!(|data: &[u8]| {
    for allow in [false, true] {
        if let Ok(p) = BfvParameters::from_bytes(data, allow) {
            assert_eq!(p.to_bytes(), data, "parameters encode canonically");
        }
    }
});
