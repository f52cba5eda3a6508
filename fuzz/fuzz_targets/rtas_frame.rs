//! veil-rtas frame and message decoding, through the public API: the input is a scenario and the
//! messages a party receives from its peers (format and scenarios in `src/rtas.rs`), fed through
//! a scripted in-memory transport into a `Session` (P0 or P1 running a fixed program), the
//! `Helper`, or `run_party_owner` (P0 or P1, with the size and settings-digest exchange).
//!
//! This reaches the frame decoder (header, kind, exact length, matrix payload, abort text), the
//! seed and fixed-point check of the setup, the shape checks of every received matrix, the
//! helper's triple-request and function-call decoding, and the sizes and digest P1 takes from
//! P0. Every message the program does not get counts as a disconnect, so each run ends; the
//! party must return (an error, or success for an honest transcript) and never panic, hang or
//! allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_paillier_fuzz::rtas::{parse_input, run};

fuzz_target!(|data: &[u8]| {
    if let Some((scenario, messages)) = parse_input(data) {
        let _ = run(scenario, messages);
    }
});
