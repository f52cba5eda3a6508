//! The CryptoRec server's request parsing: `service::Service::handle_message` (header, kind,
//! length limits, info requests, the service byte, the Paillier request: modulus, proof, query)
//! for the `small` fixture model with keys down to 1024 bits (`src/cryptorec.rs`).
//!
//! Checked: the reply is one whole message of the server's kinds (info, answer or error) whose
//! error payload parses; an answer comes only for a query of the service asked; for a query
//! under the fixture key, an answer that decrypts has one value per item. A panic, hang or huge
//! allocation is a finding.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::quant::QuantizedModel;
use veil_cryptorec::service::wire::{self, Kind};
use veil_cryptorec::service::{
    PaillierFast, PaillierParameters, Service, ServiceId, decrypt_answer,
};

fn service() -> &'static (Service, QuantizedModel) {
    static S: OnceLock<(Service, QuantizedModel)> = OnceLock::new();
    S.get_or_init(|| {
        let fx = veil_paillier_fuzz::cryptorec::cryptorec();
        let (model, q) = &fx.models[0];
        let keys = PaillierParameters {
            min_modulus_bits: 1024,
            max_modulus_bits: 2048,
        };
        let q = Arc::new(q.clone());
        let handler = PaillierFast::new(Arc::clone(&q), keys).expect("handler");
        let service =
            Service::new(&q, model.scale, vec![], vec![Box::new(handler)]).expect("service");
        (service, (*q).clone())
    })
}

fuzz_target!(|data: &[u8]| {
    let (service, q) = service();
    let reply = service.handle_message(data);
    let (kind, payload) =
        wire::decode(&reply.message, |_| u64::from(u32::MAX)).expect("the reply is a message");
    match kind {
        Kind::Error => {
            wire::decode_error(payload).expect("the error payload parses");
        }
        Kind::Info => assert_eq!(payload, &service.info().encode().expect("encodes")[..]),
        Kind::Answer => {
            let (request_kind, request) =
                wire::decode(data, |_| u64::from(u32::MAX)).expect("answered a message");
            assert_eq!(request_kind, Kind::Query);
            let (service_id, body) = wire::decode_service(payload).expect("service byte");
            assert_eq!(service_id, ServiceId::PaillierFast);
            assert_eq!(wire::decode_service(request).expect("query").0, service_id);
            let fx = veil_paillier_fuzz::cryptorec::cryptorec();
            let n = fx.pk().n().to_digits::<u8>(rug::integer::Order::Msf);
            // Under the fixture key the answer decrypts to one value per item, unless the query's
            // plaintexts were out of range (a dishonest query may overflow the packed slots).
            if request.get(3..3 + n.len()) == Some(&n[..]) {
                if let Ok(v) = decrypt_answer(&fx.sk, &q.params, body) {
                    assert_eq!(v.len(), q.params.items);
                }
            }
        }
        other => panic!("the server sent a {other:?}"),
    }
});
