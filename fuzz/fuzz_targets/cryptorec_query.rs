//! `veil_cryptorec::fast::Query::from_bytes` against the fixed 1024-bit key and the two fixture
//! models (`src/cryptorec.rs`), then the server's `respond` and the client's `decrypt_response`.
//!
//! Checked: a query that parses writes back to the same bytes and is answered; the answer
//! serializes to a response that parses; and when every query plaintext lies within the model's
//! input bound (an honest query), the decrypted answer equals `predict_integers` in the clear.
//! A parse error or a dishonest query's garbage answer is fine; a panic, hang or huge
//! allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::fast::{Query, Response, decrypt_response, respond};

fuzz_target!(|data: &[u8]| {
    let fx = veil_paillier_fuzz::cryptorec::cryptorec();
    let (pk, sk) = (fx.pk(), &fx.sk);
    for (_, model) in &fx.models {
        let params = &model.params;
        let Ok(query) = Query::from_bytes(pk, params, data) else {
            continue;
        };
        assert_eq!(query.ciphertexts.len(), params.items);
        assert_eq!(query.to_bytes(pk).expect("writes"), data);
        let response = respond(&fx.trusted, model, &query).expect("a parsed query is answered");
        let bytes = response.to_bytes(pk).expect("writes");
        let parsed = Response::from_bytes(pk, params, &bytes).expect("own response parses");
        assert_eq!(parsed.packed.len(), response.packed.len());
        let v = decrypt_response(sk, params, &response);
        // The plaintexts the client sent, if they are all honest inputs.
        let x: Option<Vec<i64>> = query
            .ciphertexts
            .iter()
            .map(|c| {
                sk.decrypt_i64(c)
                    .ok()
                    .filter(|x| x.unsigned_abs() <= params.input_bound.unsigned_abs())
            })
            .collect();
        if let Some(x) = x {
            let v = v.expect("an honest query's answer decrypts");
            assert_eq!(v, model.predict_integers(&x));
        }
    }
});
