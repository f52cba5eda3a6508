//! Encrypted matrix-vector products and Horner packing against plaintext integer arithmetic.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{KEY, OTHER_KEY};
use proptest::prelude::*;
use veil_paillier::{Error, MATVEC_MAX_WEIGHT, PackingLayout};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn matvec_matches_plaintext_product(
        rows in 0usize..12,
        cols in 1usize..6,
        seed in any::<u64>(),
        range in prop_oneof![Just(1i64), Just(3), Just(300), Just(MATVEC_MAX_WEIGHT)],
    ) {
        // A small LCG keeps the shapes and the values independent of proptest's shrinking.
        let mut s = seed | 1;
        let mut next = |r: i64| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 17) as i64).rem_euclid(2 * r + 1) - r
        };
        let x: Vec<i64> = (0..rows).map(|_| next(1 << 20)).collect();
        let w: Vec<i64> = (0..rows * cols).map(|_| next(range)).collect();
        let pk = KEY.public_key();
        let cts = pk.encrypt_batch(&x)?;
        let y = pk.matvec_vartime(&cts, &w, cols)?;
        prop_assert_eq!(y.len(), cols);
        for (c, yc) in y.iter().enumerate() {
            let want: i64 = (0..rows).map(|j| x[j] * w[j * cols + c]).sum();
            prop_assert_eq!(KEY.decrypt_i64(yc)?, want);
        }
    }

    #[test]
    fn packing_by_horner_round_trips(values in proptest::collection::vec(-(1i64 << 40)..(1i64 << 40), 1..20)) {
        let pk = KEY.public_key();
        let layout = PackingLayout::new(pk, 40, 2)?;
        let cts = pk.encrypt_batch(&values)?;
        let packed = pk.pack_vartime(&cts, layout, 1 << 40)?;
        let got = KEY.decrypt_packed(&packed)?;
        prop_assert_eq!(&got[..values.len()], &values.iter().map(|&v| i128::from(v)).collect::<Vec<_>>()[..]);
    }
}

#[test]
fn matvec_with_more_outputs_than_inputs_uses_pair_tables_correctly() {
    // 5 inputs (two pairs and a single), 300 outputs with 4-bit weights, a third of them zero:
    // the per-input table path with pairs of inputs.
    let pk = KEY.public_key();
    let x: Vec<i64> = vec![3, -1_000_000, 0, 77, -5];
    let cols = 300;
    let w: Vec<i64> = (0..x.len() * cols)
        .map(|k| ((k * 7919 + k / 13) % 15) as i64 - 7)
        .map(|v| if v.abs() <= 2 { 0 } else { v })
        .collect();
    let cts = pk.encrypt_batch(&x).unwrap();
    let y = pk.matvec_vartime(&cts, &w, cols).unwrap();
    for (c, yc) in y.iter().enumerate() {
        let want: i64 = (0..x.len()).map(|j| x[j] * w[j * cols + c]).sum();
        assert_eq!(KEY.decrypt_i64(yc).unwrap(), want, "column {c}");
    }
}

#[test]
fn matvec_refuses_bad_shapes_weights_and_keys() {
    let pk = KEY.public_key();
    let cts = pk.encrypt_batch(&[1, 2, 3]).unwrap();
    assert!(matches!(
        pk.matvec_vartime(&cts, &[1, 2], 1),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        pk.matvec_vartime(&cts, &[1, 2, MATVEC_MAX_WEIGHT + 1], 1),
        Err(Error::Malformed { .. })
    ));
    let other = OTHER_KEY.public_key().encrypt_batch(&[1, 2, 3]).unwrap();
    assert!(matches!(
        pk.matvec_vartime(&other, &[1, 2, 3], 1),
        Err(Error::KeyMismatch)
    ));
    assert!(
        pk.matvec_vartime(&[], &[], 4)
            .unwrap()
            .iter()
            .all(|c| KEY.decrypt_i64(c).unwrap() == 0)
    );
}

#[test]
fn packing_refuses_overflowing_bounds_and_too_many_values() {
    let pk = KEY.public_key();
    let layout = PackingLayout::new(pk, 20, 0).unwrap();
    let cts = pk.encrypt_batch(&[1, 2]).unwrap();
    assert!(matches!(
        pk.pack_vartime(&cts, layout, 1 << 21),
        Err(Error::SlotOverflow { .. })
    ));
    let many = pk.encrypt_batch(&vec![0; layout.slots() + 1]).unwrap();
    assert!(matches!(
        pk.pack_vartime(&many, layout, 1),
        Err(Error::Packing { .. })
    ));
    assert!(matches!(
        pk.pack_vartime(&[], layout, 1),
        Err(Error::Packing { .. })
    ));
}
