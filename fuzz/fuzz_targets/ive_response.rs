//! `veil_ive::Response::from_bytes` and `BfvClient::read_response` on untrusted bytes (IVE
//! parameters at N = 4096, t = 65537, 2 columns): errors only, canonical round trips.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use veil_ive::Response;
use veil_ive::bfv::{BfvClient, ive_parameters};

static CLIENT: LazyLock<BfvClient> = LazyLock::new(|| {
    let params = ive_parameters(veil_bfv::Preset::N4096).expect("parameters");
    let sk = veil_bfv::SecretKey::generate_with(
        &params,
        &mut veil_ring::sample::Sampler::from_seed([3; 32]),
    )
    .expect("secret key");
    BfvClient::from_secret_key(sk).expect("client")
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
