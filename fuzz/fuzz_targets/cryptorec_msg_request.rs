//! The CryptoRec server's request parsing: `service::Service::handle_message` (header, kind,
//! length limits, info requests, the service byte; the Paillier request: modulus, proof, query;
//! key uploads through the lattice key parsers of the BFV fast mode and the CKKS accurate mode;
//! keyed queries: key id, registry lookup, the BFV query evaluated under the fixture's keys)
//! for the `small` fixture model (`src/cryptorec.rs`): Paillier keys down to 1024 bits, BFV at
//! N = 1024 (below 128-bit security, to keep runs short), CKKS at N = 16384 (keys never held:
//! its queries end at `UnknownKey`).
//!
//! Before each input the key registry holds exactly the fixture client's BFV keys under the id
//! [`FIXTURE_KEY_ID`] (the seeds' keyed queries name it), so runs are reproducible.
//!
//! Checked: the reply is one whole message of the server's kinds (info, answer, key id or
//! error) whose error payload parses; an answer comes only for a query of the service asked; a
//! key id only for a key upload, naming its service; a BFV answer is a reply the client parses;
//! a Paillier answer under the fixture key that decrypts has one value per item. A panic, hang
//! or huge allocation is a finding.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::lattice::{AccurateConfig, FastClient, LatticeConfig};
use veil_cryptorec::quant::QuantizedModel;
use veil_cryptorec::service::wire::{self, Kind};
use veil_cryptorec::service::{
    AccurateStep, BfvFast, Handler, KeyId, LoadedKeys, PaillierFast, PaillierParameters, Service,
    ServiceId, decrypt_answer,
};

/// The id under which the fixture's BFV keys are held (the seeds use it).
const FIXTURE_KEY_ID: KeyId = KeyId([0x5e; 32]);

struct Fixture {
    service: Service,
    quantized: QuantizedModel,
    client: FastClient,
    keys: LoadedKeys,
    key_charge: u64,
}

fn fixture() -> &'static Fixture {
    static S: OnceLock<Fixture> = OnceLock::new();
    S.get_or_init(|| {
        let fx = veil_paillier_fuzz::cryptorec::cryptorec();
        let (model, q) = &fx.models[0];
        let keys = PaillierParameters {
            min_modulus_bits: 1024,
            max_modulus_bits: 2048,
        };
        let shared = Arc::new(q.clone());
        let paillier = PaillierFast::new(Arc::clone(&shared), keys).expect("handler");
        let cfg = LatticeConfig {
            degree: 1024,
            allow_below_128_bit_security: true,
            ..LatticeConfig::default()
        };
        let bfv = BfvFast::new(q, &cfg).expect("BFV handler");
        let client = FastClient::new(&bfv.parameters(), true).expect("client");
        let loaded = bfv
            .load_keys(&client.key_bytes().expect("key bytes"))
            .expect("keys");
        let key_charge = bfv.max_key_bytes();
        let accurate =
            AccurateStep::new(model, &AccurateConfig::one_step(0.05)).expect("accurate handler");
        let handlers: Vec<Box<dyn Handler>> =
            vec![Box::new(paillier), Box::new(bfv), Box::new(accurate)];
        let service = Service::new(q, model.scale, vec![], handlers).expect("service");
        Fixture {
            service,
            quantized: q.clone(),
            client,
            keys: loaded,
            key_charge,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    let registry = fx.service.registry();
    registry.clear();
    registry
        .insert(
            FIXTURE_KEY_ID,
            ServiceId::BfvFast,
            Arc::clone(&fx.keys),
            fx.key_charge,
        )
        .expect("the fixture keys fit");
    let reply = fx.service.handle_message(data);
    let (kind, payload) =
        wire::decode(&reply.message, |_| u64::from(u32::MAX)).expect("the reply is a message");
    let request = || wire::decode(data, |_| u64::from(u32::MAX)).expect("answered a message");
    match kind {
        Kind::Error => {
            wire::decode_error(payload).expect("the error payload parses");
        }
        Kind::Info => assert_eq!(payload, &fx.service.info().encode().expect("encodes")[..]),
        Kind::KeyId => {
            let (request_kind, body) = request();
            assert_eq!(request_kind, Kind::Keys);
            let (service_id, id) = wire::decode_service(payload).expect("service byte");
            assert_eq!(wire::decode_service(body).expect("keys").0, service_id);
            KeyId::from_bytes(id).expect("a 32-byte id");
        }
        Kind::Answer => {
            let (request_kind, request) = request();
            assert_eq!(request_kind, Kind::Query);
            let (service_id, body) = wire::decode_service(payload).expect("service byte");
            assert_eq!(wire::decode_service(request).expect("query").0, service_id);
            match service_id {
                ServiceId::PaillierFast => {
                    let pfx = veil_paillier_fuzz::cryptorec::cryptorec();
                    let n = pfx.pk().n().to_digits::<u8>(rug::integer::Order::Msf);
                    // Under the fixture key the answer decrypts to one value per item, unless
                    // the query's plaintexts were out of range (a dishonest query may overflow
                    // the packed slots).
                    if request.get(3..3 + n.len()) == Some(&n[..]) {
                        if let Ok(v) = decrypt_answer(&pfx.sk, &fx.quantized.params, body) {
                            assert_eq!(v.len(), fx.quantized.params.items);
                        }
                    }
                }
                ServiceId::BfvFast => {
                    fx.client
                        .reply_ciphertext(body)
                        .expect("the BFV reply parses");
                }
                other => panic!("an answer of the {other:?} without its keys"),
            }
        }
        other => panic!("the server sent a {other:?}"),
    }
});
