//! The CryptoRec client's response parsing: `service::wire::decode` with the client's limits,
//! then per kind `ModelInfo::decode` (and each service's parameters: `PaillierParameters::decode`,
//! the lattice setups through `lattice::PublicSetup::from_bytes` and
//! `lattice::AccurateSetup::from_bytes`), `wire::decode_service` + the answer's decoder
//! (`decrypt_answer` under the fixture key for the `small` and `wide` models; the
//! `small` model's BFV client's (N = 1024) `decode_integers`; an accurate-mode client's
//! `decode_both` for CKKS), the key id of a key upload (`KeyId::from_bytes`), or `wire::decode_error`.
//!
//! Checked: a model information that parses encodes and parses back to the same value; an
//! answer that decrypts gives one value per item. A panic, hang or huge allocation is a finding.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::lattice::{
    AccurateClient, AccurateConfig, AccurateServer, AccurateSetup, FastClient, FastServer,
    LatticeConfig, PublicSetup,
};
use veil_cryptorec::service::wire::{self, Kind, MAX_REASON_BYTES};
use veil_cryptorec::service::{
    InfoLimits, KeyId, ModelInfo, PaillierParameters, ServiceId, decrypt_answer,
};

/// A BFV fast-mode client for the `small` fixture model at N = 1024 (the setup of
/// `cryptorec_msg_request`'s server and of the seeds).
fn bfv_client() -> &'static FastClient {
    static C: OnceLock<FastClient> = OnceLock::new();
    C.get_or_init(|| {
        let fx = veil_paillier_fuzz::cryptorec::cryptorec();
        let cfg = LatticeConfig {
            degree: 1024,
            allow_below_128_bit_security: true,
            ..LatticeConfig::default()
        };
        let server = FastServer::new(&fx.models[0].1, &cfg).expect("BFV server");
        FastClient::new(&server.setup_bytes().expect("setup"), true).expect("client")
    })
}

/// A CKKS accurate-mode client for the `small` fixture model (N = 16384; no keys needed to
/// decode).
fn accurate_client() -> &'static AccurateClient {
    static C: OnceLock<AccurateClient> = OnceLock::new();
    C.get_or_init(|| {
        let fx = veil_paillier_fuzz::cryptorec::cryptorec();
        let server = AccurateServer::new(&fx.models[0].0, &AccurateConfig::one_step(0.05))
            .expect("accurate server");
        AccurateClient::new(&server.setup_bytes().expect("setup"), false).expect("client")
    })
}

fuzz_target!(|data: &[u8]| {
    let limits = InfoLimits {
        max_items: 1 << 12,
        max_parameter_bytes: 1 << 12,
    };
    let max = |k: Kind| match k {
        Kind::Info => limits.max_payload(),
        Kind::Answer => 1 << 22,
        Kind::KeyId => 33,
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
            if let Some(s) = info.service(ServiceId::BfvFast) {
                let _ = PublicSetup::from_bytes(&s.parameters, true);
            }
            if let Some(s) = info.service(ServiceId::Accurate) {
                let _ = AccurateSetup::from_bytes(&s.parameters, true);
            }
        }
        Kind::KeyId => {
            if let Ok((_, id)) = wire::decode_service(payload) {
                let _ = KeyId::from_bytes(id);
            }
        }
        Kind::Answer => match wire::decode_service(payload) {
            Ok((ServiceId::PaillierFast, body)) => {
                let fx = veil_paillier_fuzz::cryptorec::cryptorec();
                for (_, q) in &fx.models {
                    if let Ok(v) = decrypt_answer(&fx.sk, &q.params, body) {
                        assert_eq!(v.len(), q.params.items);
                    }
                }
            }
            Ok((ServiceId::BfvFast, body)) => {
                let client = bfv_client();
                if let Ok(v) = client.decode_integers(body) {
                    assert_eq!(v.len(), client.setup().public.items);
                }
            }
            Ok((ServiceId::Accurate, body)) => {
                let client = accurate_client();
                if let Ok((u, stepped)) = client.decode_both(body) {
                    assert_eq!(u.len(), client.setup().layout.items);
                    assert_eq!(stepped.len(), u.len());
                }
            }
            _ => {}
        },
        Kind::Error => {
            let _ = wire::decode_error(payload);
        }
        _ => {}
    }
});
