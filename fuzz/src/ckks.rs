//! The fixed CKKS key set of the `ckks_*` targets: N = 1024, Q = 40 + 30 bits, P = 40 bits,
//! scale 2^30 (small on purpose, so that inputs stay short; opted in below 128 bits).

use std::sync::{Arc, LazyLock};

use veil_ckks::{CkksParameters, CkksParametersBuilder, Sampler, SecretKey};

/// Parameters and a secret key with a fixed seed.
pub struct CkksFixture {
    /// The parameters.
    pub params: Arc<CkksParameters>,
    /// A secret key (fixed seed).
    pub sk: SecretKey,
}

static CKKS: LazyLock<CkksFixture> = LazyLock::new(|| {
    let params = CkksParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&[40, 30, 40])
        .log_scale(30)
        .allow_below_128_bit_security()
        .build()
        .expect("fuzz parameters");
    let sk =
        SecretKey::generate_with(&params, &mut Sampler::from_seed([9; 32])).expect("secret key");
    CkksFixture { params, sk }
});

/// The fixed CKKS key set.
pub fn ckks() -> &'static CkksFixture {
    &CKKS
}
