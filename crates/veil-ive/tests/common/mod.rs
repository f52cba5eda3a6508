//! Tiny (insecure, fast) parameters and keys shared by the integration tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};

use veil_bfv::{BfvParameters, BfvParametersBuilder, SecretKey};
use veil_ive::bfv::{BfvClient, BfvServer, NoiseModel};
use veil_ring::sample::Sampler;

/// t = 12289 = 3 * 2^12 + 1: prime, = 1 mod 2N for N = 1024, and p | t - 1 for p = 2^a 3^b.
pub const T: u64 = 12289;
pub const SEED: [u8; 32] = [7; 32];

pub fn params(primes: usize) -> Arc<BfvParameters> {
    BfvParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&vec![50; primes])
        .plaintext_modulus(T)
        .allow_below_128_bit_security()
        .build()
        .unwrap()
}

/// A client whose secret key comes from `SEED` (so tests can recompute s).
pub fn client(params: &Arc<BfvParameters>) -> BfvClient {
    let sk = SecretKey::generate_with(params, &mut Sampler::from_seed(SEED)).unwrap();
    BfvClient::from_secret_key(sk).unwrap()
}

/// The secret's coefficients, as `SecretKey::generate_with` draws them from `SEED`.
pub fn secret_coefficients(n: usize) -> Vec<i64> {
    Sampler::from_seed(SEED).ternary(n)
}

pub struct Setup {
    pub params: Arc<BfvParameters>,
    pub client: BfvClient,
    pub server: BfvServer,
}

fn setup(primes: usize, terms: usize) -> Setup {
    let params = params(primes);
    let client = client(&params);
    let model = NoiseModel::for_circuit(&params, terms, 0);
    let server = BfvServer::new(
        &params,
        client.public_key().unwrap(),
        client.relinearization_key().unwrap(),
        model,
    )
    .unwrap();
    Setup {
        params,
        client,
        server,
    }
}

/// Enough modulus for IVE tables up to p = 16 (depth 4).
pub fn ive() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| setup(7, 16))
}

/// Enough modulus for the one-hot baseline at t = 12289 (depth 14).
pub fn one_hot() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| setup(12, 16))
}
