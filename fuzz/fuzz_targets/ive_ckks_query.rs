//! `veil_ive::Query::from_bytes` with the CKKS backend on untrusted bytes (small insecure CKKS
//! parameters: N = 1024, q_0 50 bits, 5 x 49-bit primes, scale 2^49; an 8-row DCT table): errors
//! only, never a panic; an accepted query is answered.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use veil_ckks::{CkksParametersBuilder, Sampler, SecretKey};
use veil_ive::ckks::{CkksClient, CkksServer};
use veil_ive::protocol::IveServer;
use veil_ive::{IveTable, RealTable};

static SERVER: LazyLock<IveServer<CkksServer>> = LazyLock::new(|| {
    let params = CkksParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&[50, 49, 49, 49, 49, 49, 50])
        .log_scale(49)
        .allow_below_128_bit_security()
        .build()
        .expect("parameters");
    let sk = SecretKey::generate_with(&params, &mut Sampler::from_seed([3; 32])).expect("key");
    let client = CkksClient::from_secret_key(sk);
    let rows: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64 / 8.0, -0.5]).collect();
    let table = IveTable::dct(&RealTable::new(&rows).expect("table")).expect("prepared");
    let scheme = CkksServer::new(
        client.public_key().expect("pk"),
        client.relinearization_key().expect("rk"),
        &params,
    );
    IveServer::new(scheme, table)
});

fuzz_target!(|data: &[u8]| {
    // Parsing validates everything; an accepted query is a valid ciphertext and can be answered
    // (the answer may be an error, e.g. a query below the level the circuit needs, never a panic).
    let _ = SERVER.answer(data);
});
