//! Precision of CKKS per preset, as JSON lines: encode, encrypt/decrypt, one product (mul,
//! relinearize, rescale) and a Chebyshev basis T_1..T_(2^D - 1) of depth D = min(8, levels).
//! The inputs and the bit measure are those of `scripts/tenseal_ckks_precision.py`, so that
//! `scripts/ckks_precision.py` can put both side by side:
//!
//! ```text
//! cargo run --release -p veil-ckks --example precision -- --n 8192 16384 32768
//! ```
//!
//! x_j = 0.9 cos(0.37 j), y_j = 0.9 sin(0.11 j + 0.5) for j < N/2; the precision of a slot is
//! -log2 |decrypted - exact| (60 when exact); each line gives the mean and the minimum over slots.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use veil_ckks::{CkksParameters, Plaintext, Preset, Sampler, SecretKey, chebyshev_basis};

fn bits(got: &[f64], want: &[f64]) -> (f64, f64, usize) {
    let b: Vec<f64> = got
        .iter()
        .zip(want)
        .map(|(g, w)| {
            let e = (g - w).abs();
            if e == 0.0 {
                60.0
            } else {
                (-e.log2()).min(60.0)
            }
        })
        .collect();
    let mean = b.iter().sum::<f64>() / b.len() as f64;
    let min = b.iter().copied().fold(f64::INFINITY, f64::min);
    (mean, min, b.len())
}

fn line(
    n: usize,
    log_q: u32,
    stage: &str,
    depth: Option<usize>,
    (mean, min, _): (f64, f64, usize),
) {
    let depth = depth.map_or(String::new(), |d| format!(", \"depth\": {d}"));
    println!(
        "{{\"lib\": \"veil\", \"n\": {n}, \"log_q\": {log_q}, \"stage\": \"{stage}\"{depth}, \"mean_bits\": {mean:.2}, \"min_bits\": {min:.2}}}"
    );
}

fn chebyshev(k: usize, x: f64) -> f64 {
    (k as f64 * x.acos()).cos()
}

fn main() {
    let ns: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| a != "--n")
        .map(|a| a.parse().expect("ring degrees after --n"))
        .collect();
    let ns = if ns.is_empty() {
        vec![8192, 16384, 32768]
    } else {
        ns
    };
    for n in ns {
        let preset = Preset::ALL
            .into_iter()
            .find(|p| p.layout().0 == n)
            .expect("a preset of that degree");
        let params = CkksParameters::preset(preset).expect("preset");
        let log_q = params.log_qp();
        let mut sampler = Sampler::from_seed([42; 32]);
        let sk = SecretKey::generate_with(&params, &mut sampler).expect("secret key");
        let pk = sk.public_key_with(&mut sampler).expect("public key");
        let rk = sk
            .relinearization_key_with(&mut sampler)
            .expect("relin key");
        let slots = params.slots();
        let x: Vec<f64> = (0..slots).map(|j| 0.9 * (0.37 * j as f64).cos()).collect();
        let y: Vec<f64> = (0..slots)
            .map(|j| 0.9 * (0.11 * j as f64 + 0.5).sin())
            .collect();
        let top = params.max_level();
        let scale = params.scale();
        let px = Plaintext::encode_real(&params, &x, top, scale).expect("encode");
        let py = Plaintext::encode_real(&params, &y, top, scale).expect("encode");
        line(
            n,
            log_q,
            "encode",
            None,
            bits(&px.decode_real().expect("decode"), &x),
        );
        let cx = pk.encrypt_with(&px, &mut sampler).expect("encrypt");
        let cy = pk.encrypt_with(&py, &mut sampler).expect("encrypt");
        line(
            n,
            log_q,
            "encrypt",
            None,
            bits(&sk.decrypt_real(&cx).expect("decrypt"), &x),
        );
        let prod = cx.mul_relin_rescale(&cy, &rk).expect("product");
        let xy: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a * b).collect();
        line(
            n,
            log_q,
            "product",
            None,
            bits(&sk.decrypt_real(&prod).expect("decrypt"), &xy),
        );
        let depth = top.min(8);
        let basis = chebyshev_basis(&cx, 1 << depth, &rk).expect("basis");
        let (mut sum, mut min, mut count) = (0.0, f64::INFINITY, 0);
        for (i, t) in basis.iter().enumerate() {
            let want: Vec<f64> = x.iter().map(|&v| chebyshev(i + 1, v)).collect();
            let (mean, lo, len) = bits(&sk.decrypt_real(t).expect("decrypt"), &want);
            sum += mean * len as f64;
            count += len;
            min = min.min(lo);
        }
        line(
            n,
            log_q,
            "chebyshev",
            Some(depth),
            (sum / count as f64, min, count),
        );
    }
}
