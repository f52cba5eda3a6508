//! `veil_cryptorec::fast::Response::from_bytes` against the fixed 1024-bit key and the two
//! fixture models (`src/cryptorec.rs`), then the client's `decrypt_response` and `dequantize`.
//!
//! Checked: a response that parses has `ceil(items / slots)` packed ciphertexts and writes back
//! to the same bytes; decrypting it gives an error or exactly one value per item.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::fast::{Response, decrypt_response, layout};
use veil_cryptorec::quant::dequantize;

fuzz_target!(|data: &[u8]| {
    let fx = veil_paillier_fuzz::cryptorec::cryptorec();
    let (pk, sk) = (fx.pk(), &fx.sk);
    for (_, model) in &fx.models {
        let params = &model.params;
        let Ok(response) = Response::from_bytes(pk, params, data) else {
            continue;
        };
        let slots = layout(pk, params).expect("layout").slots();
        assert_eq!(response.packed.len(), params.items.div_ceil(slots));
        assert_eq!(
            response.packed.iter().map(|p| p.len).sum::<usize>(),
            params.items
        );
        assert_eq!(response.to_bytes(pk).expect("writes"), data);
        if let Ok(v) = decrypt_response(sk, params, &response) {
            assert_eq!(v.len(), params.items);
            assert_eq!(dequantize(params, &v, 3.0).len(), params.items);
        }
    }
});
