//! `veil_reacthe::Network::from_json` (what `Network::from_json_file` and `veil reacthe infer
//! --model FILE` read), then everything a loaded model is used for without keys: the float
//! forward pass and decisions, the CKKS depth it needs, and, for a residual z + alpha z^2
//! network, the exact path's quantisation (bounds, the integer model, the CRT plaintext primes).
//!
//! Checked for a model that loads: it saves and loads again with the same shapes; the forward
//! pass gives one row of `task.outputs()` values per sample; one decision per sample; every value
//! of the integer model stays within its tracked bound; the CRT primes' product exceeds twice it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_reacthe::exact::{QuantizedNetwork, plaintext_primes};
use veil_reacthe::ndarray::Array2;
use veil_reacthe::{Network, depth_needed};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(net) = Network::from_json(text) else {
        return;
    };
    let back = Network::from_json(&net.to_json().expect("a loaded model saves"))
        .expect("a saved model loads");
    assert_eq!((back.arch, back.task), (net.arch, net.task));
    assert_eq!(back.features(), net.features());

    let d = net.features();
    let x = Array2::from_shape_fn((3, d), |(i, j)| (i as f64 - 1.0) * (1.0 + (j % 5) as f64));
    let out = net.forward(&x);
    assert_eq!(out.dim(), (3, net.task.outputs()));
    assert_eq!(net.decide(&out).len(), 3);
    let _ = depth_needed(&net);

    for bits in [(3, 5, 6), (4, 6, 8), (20, 0, 20)] {
        let Ok(q) = QuantizedNetwork::new(&net, bits, 4.0) else {
            continue;
        };
        for row in q.forward(&q.quantize_inputs(&x)) {
            assert_eq!(row.len(), net.task.outputs());
            assert!(row.iter().all(|v| v.abs() <= q.bound));
        }
        if let Ok(primes) = plaintext_primes(&q, 4096) {
            let product: f64 = primes.iter().map(|&t| t as f64).product();
            assert!(product > 2.0 * q.bound as f64);
        }
    }
});
