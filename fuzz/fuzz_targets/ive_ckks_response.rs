//! `veil_ive::Response::from_bytes` and `CkksClient::read_response` on untrusted bytes (the
//! parameters of `ive_ckks_query`, 2 columns): errors only, canonical round trips.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use veil_ckks::{CkksParametersBuilder, Sampler, SecretKey};
use veil_ive::Response;
use veil_ive::ckks::CkksClient;

static CLIENT: LazyLock<CkksClient> = LazyLock::new(|| {
    let params = CkksParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&[50, 49, 49, 49, 49, 49, 50])
        .log_scale(49)
        .allow_below_128_bit_security()
        .build()
        .expect("parameters");
    let sk = SecretKey::generate_with(&params, &mut Sampler::from_seed([3; 32])).expect("key");
    CkksClient::from_secret_key(sk)
});

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Response::from_bytes(&*CLIENT, 2, data) {
        assert_eq!(
            r.to_bytes(&*CLIENT).expect("encodes"),
            data,
            "responses encode canonically"
        );
    }
    let _ = CLIENT.read_response(2, data);
});
