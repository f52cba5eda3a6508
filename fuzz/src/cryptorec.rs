//! Fixtures of the `cryptorec_*` targets: one fixed 1024-bit Paillier key and two small
//! deterministic models, built once per process.

use std::sync::OnceLock;

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use veil_cryptorec::data::RatingScale;
use veil_cryptorec::fast::{KeyPolicy, TrustedKey, prove_key};
use veil_cryptorec::lattice::{
    AccurateBfvClient, AccurateBfvConfig, AccurateBfvKeys, AccurateBfvServer, ClientKeys,
    FastClient, FastServer, LatticeConfig,
};
use veil_cryptorec::model::{Model, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_paillier::{KeyGenerator, PrivateKey, PublicKey};

/// Seed of the fixed key: the committed query and response seeds are encryptions under the key
/// it generates, so it must not change.
pub const KEY_SEED: u64 = 0x7665_696c_2d72_6563; // "veil-rec"

/// The fixed key and models of the CryptoRec targets.
pub struct CryptoRecFixture {
    /// A 1024-bit key from `KeyGenerator::generate_with_rng` seeded with [`KEY_SEED`].
    pub sk: PrivateKey,
    /// `small`: 6 items, d = 2, default 4-bit weights (one packed ciphertext per response).
    /// `wide`: 26 items, d = 3, 16-bit weights (wide slots: two packed ciphertexts).
    pub models: [(Model, QuantizedModel); 2],
    /// The key as the fast-mode server accepts it: checked with its modulus proof under the
    /// test policy that admits 1024-bit keys.
    pub trusted: TrustedKey,
}

impl CryptoRecFixture {
    /// The public key.
    pub fn pk(&self) -> &PublicKey {
        self.sk.public_key()
    }
}

/// A float model with `items` items and dimension `dim`; weights from a fixed formula.
pub fn tiny_model(items: usize, dim: usize) -> Model {
    let w = |i: usize, c: usize, k: usize| {
        let v = ((i * 7 + c * 3 + k * 5) % 13) as f32 / 13.0 - 0.5;
        if (i + c) % 4 == 3 { 0.0 } else { v * 0.2 }
    };
    Model {
        mu: 3.5,
        item_bias: Array1::from_shape_fn(items, |i| ((i % 5) as f32 - 2.0) * 0.15),
        a: Array2::from_shape_fn((items, dim), |(i, c)| w(i, c, 1)),
        q: Array2::from_shape_fn((items, dim), |(i, c)| w(i, c, 2)),
        scale: veil_cryptorec::data::RatingScale::default(),
        input_norm: 0.0,
    }
}

static CRYPTOREC: OnceLock<CryptoRecFixture> = OnceLock::new();

/// The fixed key and models (built on first use: the key takes a moment).
pub fn cryptorec() -> &'static CryptoRecFixture {
    CRYPTOREC.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(KEY_SEED);
        let sk = KeyGenerator::new(1024)
            .generate_with_rng(&mut rng)
            .expect("a 1024-bit key generates");
        let small = tiny_model(6, 2);
        let wide = tiny_model(26, 3);
        let q_small = QuantizedModel::new(&small, &QuantConfig::default()).expect("quantizes");
        let wide_cfg = QuantConfig {
            weight_bits: 16,
            ..QuantConfig::default()
        };
        let q_wide = QuantizedModel::new(&wide, &wide_cfg).expect("quantizes");
        let proof = prove_key(&sk).expect("the fixed key proves its modulus");
        let trusted = TrustedKey::verify(
            sk.public_key(),
            &proof,
            &KeyPolicy::insecure_small_keys_for_tests(),
        )
        .expect("the fixed key's proof verifies");
        CryptoRecFixture {
            sk,
            models: [(small, q_small), (wide, q_wide)],
            trusted,
        }
    })
}

/// A few honest users for `items` items (ratings 1..=5, within the default rating span).
pub fn sample_users(items: usize) -> Vec<UserRatings> {
    let all = |f: fn(usize) -> f32| UserRatings {
        items: (0..items as u32).collect(),
        values: (0..items).map(f).collect(),
    };
    vec![
        UserRatings::default(),
        UserRatings {
            items: vec![0],
            values: vec![4.0],
        },
        UserRatings {
            items: (0..items as u32).step_by(2).collect(),
            values: (0..items).step_by(2).map(|i| (i % 5 + 1) as f32).collect(),
        },
        all(|i| if i % 2 == 0 { 1.0 } else { 5.0 }),
        all(|i| ((i * 3) % 5 + 1) as f32),
    ]
}

/// A small user read from fuzz bytes: 3 bytes per rating (item as u16 LE, then a value byte),
/// at most 64 ratings. Value bytes 250..=254 give NaN, +inf, -inf, `f32::MAX` and -0.0; the
/// others b / 40 (0 to 6.2 stars).
pub fn user_from_bytes(bytes: &[u8]) -> UserRatings {
    let mut user = UserRatings::default();
    for c in bytes.chunks_exact(3).take(64) {
        user.items.push(u32::from(u16::from_le_bytes([c[0], c[1]])));
        user.values.push(match c[2] {
            250 => f32::NAN,
            251 => f32::INFINITY,
            252 => f32::NEG_INFINITY,
            253 => f32::MAX,
            254 => -0.0,
            b => f32::from(b) / 40.0,
        });
    }
    user
}

/// The lattice fast mode's fixture: a server for a toy model (8 items, d = 2) at N = 1024, a
/// client and the client's keys as the server holds them.
pub struct LatticeFixture {
    /// The server.
    pub server: FastServer,
    /// The client.
    pub client: FastClient,
    /// The client's keys, parsed by the server.
    pub keys: ClientKeys,
}

/// The lattice fixture (built on first use).
pub fn lattice() -> &'static LatticeFixture {
    static FIXTURE: OnceLock<LatticeFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (m, d) = (8, 2);
        let model = Model {
            mu: 3.5,
            item_bias: Array1::zeros(m),
            a: Array2::from_shape_fn((m, d), |(j, c)| (j + c) as f32 * 0.01 - 0.03),
            q: Array2::from_shape_fn((m, d), |(i, c)| (i * c) as f32 * 0.01 - 0.02),
            scale: RatingScale::default(),
            input_norm: 0.5,
        };
        let quantized = QuantizedModel::new(&model, &QuantConfig::default()).expect("quantizes");
        let cfg = LatticeConfig {
            degree: 1024,
            allow_below_128_bit_security: true,
            ..LatticeConfig::default()
        };
        let server = FastServer::new(&quantized, &cfg).expect("server");
        let client = FastClient::new(&server.setup_bytes().expect("setup"), true).expect("client");
        let keys = server
            .client_keys(&client.key_bytes().expect("key bytes"))
            .expect("keys");
        LatticeFixture {
            server,
            client,
            keys,
        }
    })
}

/// The exact accurate mode's fixture (`cryptorec_lattice_accurate_bfv`): a toy model (8 items,
/// d = 2) at N = 1024, below 128-bit security to keep each run short, matrices kept prepared; a
/// client with a fixed-seed secret key and its keys as the server holds them.
pub struct AccurateBfvFixture {
    /// The server.
    pub server: AccurateBfvServer,
    /// The client.
    pub client: AccurateBfvClient,
    /// The client's keys, parsed by the server.
    pub keys: AccurateBfvKeys,
}

/// The exact accurate-mode fixture (built on first use).
pub fn lattice_accurate_bfv() -> &'static AccurateBfvFixture {
    static FIXTURE: OnceLock<AccurateBfvFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (m, d) = (8, 2);
        let model = Model {
            mu: 3.5,
            item_bias: Array1::from_shape_fn(m, |i| i as f32 * 0.05 - 0.2),
            a: Array2::from_shape_fn((m, d), |(j, c)| (j + c) as f32 * 0.01 - 0.03),
            q: Array2::from_shape_fn((m, d), |(i, c)| (i * c) as f32 * 0.01 - 0.02),
            scale: RatingScale::default(),
            input_norm: 0.5,
        };
        let mut cfg = AccurateBfvConfig::one_step(0.05);
        cfg.lattice.degree = 1024;
        cfg.lattice.allow_below_128_bit_security = true;
        cfg.keep_prepared = true;
        let server = AccurateBfvServer::new(&model, &cfg).expect("server");
        let client = AccurateBfvClient::with_secret(
            server.setup().clone(),
            &mut veil_ring::sample::Sampler::from_seed([11; 32]),
        )
        .expect("client");
        let keys = server
            .client_keys(&client.key_bytes().expect("keys"))
            .expect("parsed keys");
        AccurateBfvFixture {
            server,
            client,
            keys,
        }
    })
}
