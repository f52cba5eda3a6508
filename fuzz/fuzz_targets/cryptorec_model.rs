//! `veil_cryptorec::model::Model::from_json_with_ids` (the model file loader), then predictions
//! from every model that loads.
//!
//! Input: the model JSON, optionally followed by a NUL byte and a user (3 bytes per rating: item
//! u16 LE, value byte; see `cryptorec::user_from_bytes`). JSON text cannot contain a raw NUL, so
//! the split is unambiguous.
//!
//! Checked for a model that loads: item ids empty or one per item; save/load gives the same model
//! and ids; `Model::predict` gives one finite-or-not (never panicking) value per item for the
//! fixture users and the fuzzed user; quantizing (default settings, and 16-bit weights with half
//! of them pruned) succeeds, and the quantized model's `predict` and `zero_fraction` do not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::model::Model;
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_paillier_fuzz::cryptorec::{sample_users, user_from_bytes};

fuzz_target!(|data: &[u8]| {
    let (text, user) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok((model, ids)) = Model::from_json_with_ids(text) else {
        return;
    };
    let m = model.items();
    assert!(ids.is_empty() || ids.len() == m);
    assert_eq!(
        (model.a.dim(), model.q.dim()),
        ((m, model.a.ncols()), (m, model.a.ncols()))
    );
    let saved = model.to_json_with_ids(&ids).expect("a loaded model saves");
    let (back, back_ids) = Model::from_json_with_ids(&saved).expect("a saved model loads");
    assert_eq!(back, model);
    assert_eq!(back_ids, ids);

    let mut users = sample_users(m.min(64));
    users.push(user_from_bytes(user));
    let configs = [
        QuantConfig::default(),
        QuantConfig {
            weight_bits: 16,
            prune_fraction: 0.5,
            ..QuantConfig::default()
        },
    ];
    let quantized: Vec<QuantizedModel> = configs
        .iter()
        .map(|cfg| QuantizedModel::new(&model, cfg).expect("valid settings quantize"))
        .collect();
    for u in &users {
        assert_eq!(model.predict(u).len(), m);
        for q in &quantized {
            if let Ok(p) = q.predict(u) {
                assert_eq!(p.len(), m);
            }
        }
    }
    for q in &quantized {
        let _ = q.zero_fraction();
    }
});
