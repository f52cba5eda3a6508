//! veil-rtas: the size exchange of `run_party_owner` at P1, with the settings digest forged to
//! match any announced sizes (`src/rtas.rs`, `sizes` module), then arbitrary messages. Every
//! announced dimension must be bounded before anything is allocated: an error, never a panic or
//! an allocation beyond the protocol's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_paillier_fuzz::rtas::sizes::run;

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});
