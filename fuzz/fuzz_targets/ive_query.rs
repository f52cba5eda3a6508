//! `veil_ive::Query::from_bytes` on untrusted bytes (IVE parameters at N = 4096, t = 65537, a
//! 16-row table): errors only, never a panic; an accepted query is answered, by the single-digit
//! server and by a digit server (the same table split into 4 x 4, two query ciphertexts).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use veil_ive::bfv::{BfvClient, BfvServer, NoiseModel, ive_parameters};
use veil_ive::protocol::{DigitIveServer, IveServer};
use veil_ive::{DigitBasis, DigitTable, EmbeddingTable, ExactBasis, IveTable};

struct Fixture {
    server: IveServer<BfvServer>,
    digits: DigitIveServer<BfvServer>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let params = ive_parameters(veil_bfv::Preset::N4096).expect("parameters");
    let sk = veil_bfv::SecretKey::generate_with(
        &params,
        &mut veil_ring::sample::Sampler::from_seed([3; 32]),
    )
    .expect("secret key");
    let client = BfvClient::from_secret_key(sk).expect("client");
    let rows: Vec<Vec<i64>> = (0..16).map(|i| vec![i, -i]).collect();
    let table = EmbeddingTable::new(&rows).expect("table");
    let basis = ExactBasis::roots_of_unity(16, params.plaintext()).expect("basis");
    let model = NoiseModel::for_circuit(&params, 16, 0);
    let scheme = || {
        BfvServer::new(
            &params,
            client.public_key().expect("pk"),
            client.relinearization_key().expect("rk"),
            model,
        )
        .expect("server")
    };
    let digit_basis = DigitBasis::new(&[4, 4], params.plaintext()).expect("digits");
    let digit_table =
        DigitTable::exact(&table, &digit_basis, params.plaintext()).expect("digit table");
    let table = IveTable::exact(&table, &basis, params.plaintext()).expect("prepared");
    Fixture {
        server: IveServer::new(scheme(), table),
        digits: DigitIveServer::new(scheme(), digit_table),
    }
});

fuzz_target!(|data: &[u8]| {
    // Parsing validates everything; an accepted query is a valid ciphertext and can be answered
    // (the answer may be an error, e.g. too little modulus, but never a panic).
    let _ = FIXTURE.server.answer(data);
    let _ = FIXTURE.digits.answer(data);
});
