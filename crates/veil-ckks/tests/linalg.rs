//! Plaintext matrix x encrypted vector and sum of slots against f64.
#![allow(clippy::unwrap_used, clippy::panic)]

use veil_ckks::{CkksParametersBuilder, PlainMatrix, Plaintext, Sampler, SecretKey};

#[test]
fn matrix_vector_products_and_sums_match_f64() {
    let params = CkksParametersBuilder::new()
        .degree(4096)
        .moduli_sizes(&[60, 40, 40, 60])
        .log_scale(40)
        .allow_below_128_bit_security()
        .build()
        .unwrap();
    let mut sampler = Sampler::from_seed([5; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let (m, d) = (37usize, 50usize);
    let matrix: Vec<Vec<f64>> = (0..m)
        .map(|r| {
            (0..d)
                .map(|c| (((r * 31 + c * 17) % 23) as f64 - 11.0) / 11.0)
                .collect()
        })
        .collect();
    let v: Vec<f64> = (0..d).map(|c| (c as f64 * 0.37).sin()).collect();
    for baby in [None, Some(1), Some(16)] {
        let mat = PlainMatrix::new(&params, &matrix, params.max_level(), baby).unwrap();
        let mut steps = mat.rotation_steps();
        steps.extend((0..11).map(|b| 1i64 << b));
        let gk = sk.galois_keys_for(&steps, false, &mut sampler).unwrap();
        let pt = Plaintext::encode_real(
            &params,
            &mat.replicate(&v).unwrap(),
            params.max_level(),
            params.scale(),
        )
        .unwrap();
        let ct = pk.encrypt_with(&pt, &mut sampler).unwrap();
        let y = mat.mul_vector(&ct, &gk).unwrap();
        assert_eq!(y.level(), params.max_level() - 1);
        assert_eq!(y.scale(), ct.scale());
        let got = sk.decrypt_real(&y).unwrap();
        for r in 0..m {
            let want: f64 = (0..d).map(|c| matrix[r][c] * v[c]).sum();
            assert!(
                (got[r] - want).abs() < 1e-5,
                "row {r}, baby {baby:?}: {} vs {want}",
                got[r]
            );
        }
        // The sum of the first d slots of a vector with zeros elsewhere.
        let padded =
            Plaintext::encode_real(&params, &v, params.max_level(), params.scale()).unwrap();
        let s = pk
            .encrypt_with(&padded, &mut sampler)
            .unwrap()
            .sum_slots(&gk)
            .unwrap();
        let total: f64 = v.iter().sum();
        let got = sk.decrypt_real(&s).unwrap();
        assert!(got.iter().all(|&x| (x - total).abs() < 1e-5));
    }
    assert!(PlainMatrix::new(&params, &[vec![1.0, 2.0], vec![3.0]], 1, None).is_err());
    assert!(PlainMatrix::new(&params, &[vec![f64::NAN]], 1, None).is_err());
    assert!(PlainMatrix::new(&params, &[vec![1.0]], 0, None).is_err());
}
