//! The Chebyshev basis, linear combinations and polynomial evaluation against f64.
#![allow(clippy::unwrap_used, clippy::panic)]

use veil_ckks::{
    CkksParametersBuilder, Plaintext, Sampler, SecretKey, chebyshev_basis, evaluate_chebyshev,
    linear_combination,
};

fn worst_bits(got: &[f64], want: &[f64]) -> f64 {
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    -worst.log2()
}

/// T_k(x) by the recurrence, in f64.
fn chebyshev(k: usize, x: f64) -> f64 {
    let (mut a, mut b) = (1.0, x);
    if k == 0 {
        return 1.0;
    }
    for _ in 1..k {
        (a, b) = (b, 2.0 * x * b - a);
    }
    b
}

#[test]
fn basis_combination_and_evaluation_match_f64() {
    // N = 4096 with depth 6, opted in below 128 bits for speed; the presets are measured in the
    // precision table (docs/ckks.md).
    let params = CkksParametersBuilder::new()
        .degree(4096)
        .moduli_sizes(&[60, 40, 40, 40, 40, 40, 40, 60])
        .log_scale(40)
        .allow_below_128_bit_security()
        .build()
        .unwrap();
    let mut sampler = Sampler::from_seed([11; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let rk = sk.relinearization_key_with(&mut sampler).unwrap();
    let xs: Vec<f64> = (0..params.slots())
        .map(|j| ((j * 37 % 2001) as f64 / 1000.0 - 1.0).clamp(-1.0, 1.0))
        .collect();
    let pt = Plaintext::encode_real(&params, &xs, params.max_level(), params.scale()).unwrap();
    let x = pk.encrypt_with(&pt, &mut sampler).unwrap();

    // Depth 4: T_1 .. T_15.
    let basis = chebyshev_basis(&x, 16, &rk).unwrap();
    assert_eq!(basis.len(), 15);
    for (i, t) in basis.iter().enumerate() {
        let k = i + 1;
        let depth = (k as f64).log2().ceil() as usize;
        assert_eq!(t.level(), params.max_level() - depth, "T_{k}");
        let want: Vec<f64> = xs.iter().map(|&v| chebyshev(k, v)).collect();
        let b = worst_bits(&sk.decrypt_real(t).unwrap(), &want);
        assert!(b > 18.0, "T_{k}: {b:.1} bits");
    }

    // A linear combination of terms at different levels and scales.
    let terms: Vec<_> = basis.iter().collect();
    let coeffs: Vec<f64> = (0..15).map(|k| 0.5 / (k + 1) as f64).collect();
    let comb = linear_combination(&terms, &coeffs, 0.25).unwrap();
    assert_eq!(comb.scale(), params.scale());
    let want: Vec<f64> = xs
        .iter()
        .map(|&v| {
            0.25 + (1..16)
                .map(|k| coeffs[k - 1] * chebyshev(k, v))
                .sum::<f64>()
        })
        .collect();
    let b = worst_bits(&sk.decrypt_real(&comb).unwrap(), &want);
    assert!(b > 17.0, "combination: {b:.1} bits");

    // All coefficients zero: the constant alone, at the chosen level and scale.
    let zeros = vec![0.0; terms.len()];
    let constant = linear_combination(&terms, &zeros, -0.5).unwrap();
    let got = sk.decrypt_real(&constant).unwrap();
    assert!(got.iter().all(|&v| (v + 0.5).abs() < 1e-6));

    // Degree 20 by baby-step giant-step.
    let c: Vec<f64> = (0..=20)
        .map(|i| ((i * 7 % 5) as f64 - 2.0) / 10.0)
        .collect();
    let y = evaluate_chebyshev(&x, &c, &rk).unwrap();
    let want: Vec<f64> = xs
        .iter()
        .map(|&v| {
            c.iter()
                .enumerate()
                .map(|(i, ci)| ci * chebyshev(i, v))
                .sum()
        })
        .collect();
    let b = worst_bits(&sk.decrypt_real(&y).unwrap(), &want);
    assert!(b > 15.0, "degree 20: {b:.1} bits, level {}", y.level());
    eprintln!("degree-20 evaluation: {b:.1} bits at level {}", y.level());
}
