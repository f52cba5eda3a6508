//! Writes the named seed inputs of the `cryptorec_msg_request` and `cryptorec_msg_response`
//! targets into `corpus/<target>/` (run from `fuzz/`:
//! `cargo run --release --example cryptorec_msg_seeds`): honest requests and the server's
//! replies for the `small` fixture model under the fixture key, and near-misses. Queries use
//! fresh randomness, so each run writes different bytes.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use veil_cryptorec::fast::{Randomness, encrypt_query};
use veil_cryptorec::service::wire::{self, Header, Kind};
use veil_cryptorec::service::{
    ErrorCode, PaillierFast, PaillierParameters, Service, ServiceId, encode_request_proving,
};
use veil_paillier_fuzz::cryptorec::{cryptorec, sample_users};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir).expect("corpus directory");
    fs::write(dir.join(name), bytes).expect("seed written");
}

fn main() {
    let fx = cryptorec();
    let (float, q) = &fx.models[0];
    let keys = PaillierParameters {
        min_modulus_bits: 1024,
        max_modulus_bits: 2048,
    };
    let shared = Arc::new(q.clone());
    let handler = PaillierFast::new(Arc::clone(&shared), keys).expect("handler");
    let service = Service::new(q, float.scale, vec![], vec![Box::new(handler)]).expect("service");
    let req = "cryptorec_msg_request";
    let resp = "cryptorec_msg_response";
    let info_request = wire::encode(Kind::InfoRequest, &[]).expect("encodes");
    write(req, "info-request", &info_request);
    let info = service.handle_message(&info_request).message;
    write(resp, "info", &info);
    let mut with_ids = service.info().clone();
    with_ids.item_ids = (100..100 + q.params.items as u64).collect();
    write(
        resp,
        "info-with-ids",
        &wire::encode(Kind::Info, &with_ids.encode().expect("encodes")).expect("encodes"),
    );
    for (k, user) in sample_users(q.params.items).iter().enumerate().take(3) {
        let query = encrypt_query(&fx.sk, &q.params, user, Randomness::Fresh).expect("query");
        let body = encode_request_proving(&fx.sk, &query).expect("request");
        let msg = wire::encode(
            Kind::Query,
            &wire::encode_service(ServiceId::PaillierFast, &body),
        )
        .expect("encodes");
        write(req, &format!("query-user{k}"), &msg);
        let reply = service.handle_message(&msg);
        assert_eq!(reply.message.get(5), Some(&Kind::Answer.code()));
        write(resp, &format!("answer-user{k}"), &reply.message);
        if k == 0 {
            let mut trailing = msg.clone();
            trailing.push(0);
            write(req, "query-trailing-byte", &trailing);
            let mut bad_proof = msg.clone();
            let at = wire::HEADER_LEN + 1 + 2 + 128 + 4 + 10;
            bad_proof[at] ^= 1;
            write(req, "query-bad-proof", &bad_proof);
            write(req, "query-truncated", &msg[..msg.len() - 1]);
        }
    }
    write(
        req,
        "oversized-length",
        &Header::encode(Kind::Query, u32::MAX),
    );
    write(
        req,
        "bfv-query",
        &wire::encode(
            Kind::Query,
            &wire::encode_service(ServiceId::BfvFast, &[0; 8]),
        )
        .expect("encodes"),
    );
    for code in [ErrorCode::Busy, ErrorCode::Timeout, ErrorCode::Invalid] {
        write(
            resp,
            &format!("error-{code}").replace(' ', "-"),
            &wire::encode(Kind::Error, &wire::encode_error(code, "why")).expect("encodes"),
        );
    }
    println!("seeds written");
}
