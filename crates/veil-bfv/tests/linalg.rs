//! Sums of slots, inner products and plaintext matrix x encrypted vector against plaintext
//! arithmetic mod t, for several shapes.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::LazyLock;

use common::modt;
use proptest::prelude::*;
use veil_bfv::{
    BfvParameters, Encoder, GaloisKeys, PlainMatrix, Preset, RelinearizationKey, SecretKey,
};
use veil_ring::sample::Sampler;

struct Setup {
    enc: Encoder,
    sk: SecretKey,
    rk: RelinearizationKey,
    gk: GaloisKeys,
    t: u64,
}

static S: LazyLock<Setup> = LazyLock::new(|| {
    let params = BfvParameters::preset(Preset::N4096).unwrap();
    let mut sampler = Sampler::from_seed([33; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let rk = sk.relinearization_key_with(&mut sampler).unwrap();
    let steps: Vec<i64> = (0..11).map(|b| 1i64 << b).collect();
    let gk = sk.galois_keys_for(&steps, true, &mut sampler).unwrap();
    Setup {
        enc: Encoder::new(&params).unwrap(),
        t: params.plaintext_modulus(),
        sk,
        rk,
        gk,
    }
});

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn matrix_times_vector(
        (m, d) in prop_oneof![Just((64usize, 16usize)), Just((10, 37)), Just((33, 33)), Just((2048, 8)), Just((1, 100))],
        seed in any::<u64>(),
    ) {
        let s = &*S;
        let mut state = seed;
        let mut next = move || { state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((state >> 33) % 201) as i64 - 100 };
        let matrix: Vec<Vec<i64>> = (0..m).map(|_| (0..d).map(|_| next()).collect()).collect();
        let v: Vec<i64> = (0..d).map(|_| next()).collect();
        let pm = PlainMatrix::new(&s.enc, &matrix, None)?;
        let ct = s.sk.encrypt(&pm.encode_vector(&s.enc, &v)?)?;
        let y = pm.mul_vector(&ct, &s.gk)?;
        let got = s.enc.decode_signed(&s.sk.decrypt(&y)?)?;
        for (i, row) in matrix.iter().enumerate() {
            let dot: i128 = row.iter().zip(&v).map(|(&a, &b)| i128::from(a) * i128::from(b)).sum();
            prop_assert_eq!(got[i], modt(dot, s.t), "row {} of {}x{}", i, m, d);
        }
        prop_assert!(pm.rotation_count(&s.gk).is_some());
    }
}

#[test]
fn sums_and_inner_products() {
    let s = &*S;
    let a: Vec<i64> = (0..4096).map(|i| i % 17 - 8).collect();
    let b: Vec<i64> = (0..4096).map(|i| i % 5 - 2).collect();
    let ca = s.sk.encrypt(&s.enc.encode_signed(&a).unwrap()).unwrap();
    let cb = s.sk.encrypt(&s.enc.encode_signed(&b).unwrap()).unwrap();
    let total = modt(a.iter().map(|&x| i128::from(x)).sum(), s.t);
    let dot = modt(
        a.iter().zip(&b).map(|(&x, &y)| i128::from(x * y)).sum(),
        s.t,
    );
    let dec = |c: &veil_bfv::Ciphertext| s.enc.decode_signed(&s.sk.decrypt(c).unwrap()).unwrap();
    assert_eq!(dec(&ca.sum_slots(&s.gk).unwrap()), vec![total; 4096]);
    assert_eq!(
        dec(&ca.inner_product(&cb, &s.rk, &s.gk).unwrap()),
        vec![dot; 4096]
    );
    let pb = s.enc.encode_signed(&b).unwrap();
    assert_eq!(
        dec(&ca.inner_product_plain(&pb, &s.gk).unwrap()),
        vec![dot; 4096]
    );
}

#[test]
fn bad_shapes_are_refused() {
    let s = &*S;
    assert!(PlainMatrix::new(&s.enc, &[], None).is_err());
    assert!(PlainMatrix::new(&s.enc, &[vec![1, 2], vec![3]], None).is_err());
    assert!(PlainMatrix::new(&s.enc, &vec![vec![1]; 2049], None).is_err());
    let pm = PlainMatrix::new(&s.enc, &[vec![1, 2, 3]], None).unwrap();
    assert!(pm.encode_vector(&s.enc, &[1, 2]).is_err());
    assert_eq!(pm.shape(), (1, 3));
    assert_eq!(pm.rotation_steps(), vec![1, 2]); // D = 4, b = 2: baby step 1, giant step 2
}
