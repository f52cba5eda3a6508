//! Shared fixtures of the fuzz targets: one fixed key pair, loaded once per process, and the
//! fixtures of the CryptoRec ([`cryptorec`]) and RTAS ([`rtas`]) targets.

use std::sync::LazyLock;

pub mod ckks;
pub mod cryptorec;
pub mod rtas;

use veil_paillier::{PrivateKey, PublicKey, phe};

/// The throwaway 2048-bit test key of the pheutil fixtures
/// (`crates/veil-paillier/tests/data/pheutil/private.json`). The ciphertext seeds in
/// `fuzz/corpus/` are encryptions under it, so they are valid inputs for the targets.
pub const PRIVATE_KEY_JSON: &str =
    include_str!("../../crates/veil-paillier/tests/data/pheutil/private.json");

static PRIVATE_KEY: LazyLock<PrivateKey> = LazyLock::new(|| {
    phe::private_key_from_json(PRIVATE_KEY_JSON).expect("the pheutil fixture private key loads")
});

/// The fixed private key.
pub fn private_key() -> &'static PrivateKey {
    &PRIVATE_KEY
}

/// Its public key.
pub fn public_key() -> &'static PublicKey {
    PRIVATE_KEY.public_key()
}

/// A fixed BFV key set under the 128-bit N = 4096 preset, for the BFV deserializer targets.
pub struct BfvFixture {
    /// The parameters.
    pub params: std::sync::Arc<veil_bfv::BfvParameters>,
    /// A secret key (fixed seed).
    pub sk: veil_bfv::SecretKey,
}

static BFV: LazyLock<BfvFixture> = LazyLock::new(|| {
    let params = veil_bfv::BfvParameters::preset(veil_bfv::Preset::N4096).expect("preset");
    let mut sampler = veil_ring::sample::Sampler::from_seed([5; 32]);
    let sk = veil_bfv::SecretKey::generate_with(&params, &mut sampler).expect("secret key");
    BfvFixture { params, sk }
});

/// The fixed BFV key set.
pub fn bfv() -> &'static BfvFixture {
    &BFV
}
