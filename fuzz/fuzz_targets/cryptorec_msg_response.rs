//! The CryptoRec client's response parsing: `service::wire::decode` with the client's limits,
//! then per kind `ModelInfo::decode` (and `PaillierParameters::decode` of each Paillier entry),
//! `wire::decode_service` + `decrypt_answer` under the fixture key for the `small` and `wide`
//! models (`src/cryptorec.rs`), or `wire::decode_error`.
//!
//! Checked: a model information that parses encodes and parses back to the same value; an
//! answer that decrypts gives one value per item. A panic, hang or huge allocation is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::service::wire::{self, Kind, MAX_REASON_BYTES};
use veil_cryptorec::service::{
    InfoLimits, ModelInfo, PaillierParameters, ServiceId, decrypt_answer,
};

fuzz_target!(|data: &[u8]| {
    let limits = InfoLimits {
        max_items: 1 << 12,
        max_parameter_bytes: 1 << 12,
    };
    let max = |k: Kind| match k {
        Kind::Info => limits.max_payload(),
        Kind::Answer => 1 << 20,
        Kind::Error => (4 + MAX_REASON_BYTES) as u64,
        _ => 0,
    };
    let Ok((kind, payload)) = wire::decode(data, max) else {
        return;
    };
    match kind {
        Kind::Info => {
            let Ok(info) = ModelInfo::decode(payload, &limits) else {
                return;
            };
            let again = ModelInfo::decode(&info.encode().expect("encodes"), &limits);
            assert_eq!(again.expect("parses back"), info);
            if let Some(s) = info.service(ServiceId::PaillierFast) {
                let _ = PaillierParameters::decode(&s.parameters);
            }
        }
        Kind::Answer => {
            let Ok((ServiceId::PaillierFast, body)) = wire::decode_service(payload) else {
                return;
            };
            let fx = veil_paillier_fuzz::cryptorec::cryptorec();
            for (_, q) in &fx.models {
                if let Ok(v) = decrypt_answer(&fx.sk, &q.params, body) {
                    assert_eq!(v.len(), q.params.items);
                }
            }
        }
        Kind::Error => {
            let _ = wire::decode_error(payload);
        }
        _ => {}
    }
});
