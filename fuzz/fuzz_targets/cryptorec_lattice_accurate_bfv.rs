//! The exact accurate mode of CryptoRec over BFV (`veil_cryptorec::lattice::accurate_bfv`) on
//! untrusted bytes, both directions: the first byte picks the parser, the rest is the message.
//!
//! - 0: the server's setup as a client reads it (`AccurateBfvClient::new`);
//! - 1: a client's key message as the server reads it (`AccurateBfvServer::client_keys`);
//! - 2: a query as the server answers it (`AccurateBfvServer::answer` with the fixture's keys);
//! - 3: a reply as the client decodes it (`AccurateBfvClient::decode_integers`).
//!
//! Any error is fine; a panic, hang or huge allocation is not. The fixture (a toy model, 8 items,
//! d = 2, at N = 1024, below 128-bit security, to keep each run short; matrices kept prepared) is
//! built once per process, here rather than in `src/` so that the target is self-contained.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ndarray::{Array1, Array2};
use veil_cryptorec::data::RatingScale;
use veil_cryptorec::lattice::{
    AccurateBfvClient, AccurateBfvConfig, AccurateBfvKeys, AccurateBfvServer,
};
use veil_cryptorec::model::Model;
use veil_ring::sample::Sampler;

struct Fixture {
    server: AccurateBfvServer,
    client: AccurateBfvClient,
    keys: AccurateBfvKeys,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
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
            &mut Sampler::from_seed([11; 32]),
        )
        .expect("client");
        let keys = server
            .client_keys(&client.key_bytes().expect("keys"))
            .expect("parsed keys");
        Fixture {
            server,
            client,
            keys,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, message)) = data.split_first() else {
        return;
    };
    let fx = fixture();
    match which % 4 {
        0 => {
            let _ = AccurateBfvClient::new(message, true);
        }
        1 => {
            let _ = fx.server.client_keys(message);
        }
        2 => {
            let _ = fx.server.answer(&fx.keys, message);
        }
        _ => {
            let _ = fx.client.decode_integers(message);
        }
    }
});
