//! Fixed-point numbers and packing against plain arithmetic.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::KEY;
use proptest::prelude::*;
use veil_paillier::{EncodedNumber, Error, PackingLayout};

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 32,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn floats_round_trip_exactly(x in -1e30f64..1e30) {
        let pk = KEY.public_key();
        let enc = pk.encrypt_number(&EncodedNumber::from_f64_exact(x)?)?;
        prop_assert_eq!(KEY.decrypt_number(&enc)?.to_f64()?, x);
    }

    #[test]
    fn fixed_point_sum_and_product_are_exact(a in -1e6f64..1e6, b in -1e6f64..1e6, k in -1000i32..1000) {
        let pk = KEY.public_key();
        // At exponent -8 (scale 2^32) both values are rounded once; arithmetic is then exact.
        let ea = EncodedNumber::from_f64(a, -8)?;
        let eb = EncodedNumber::from_f64(b, -8)?;
        let (ca, cb) = (pk.encrypt_number(&ea)?, pk.encrypt_number(&eb)?);
        let sum = KEY.decrypt_number(&pk.add_numbers(&ca, &cb)?)?;
        prop_assert_eq!(&sum.mantissa, &rug::Integer::from(&ea.mantissa + &eb.mantissa));
        let scaled = KEY.decrypt_number(&pk.mul_plain_number(&ca, &EncodedNumber::from_integer(k))?)?;
        prop_assert_eq!(scaled.mantissa, rug::Integer::from(&ea.mantissa * k));
        prop_assert!((sum.to_f64()? - (a + b)).abs() <= 2.0 * 2f64.powi(-33) + 1e-9 * (a + b).abs());
    }

    #[test]
    fn mixed_exponents_align(a in -1e3f64..1e3, b in -1e3f64..1e3) {
        let pk = KEY.public_key();
        let ea = EncodedNumber::from_f64(a, -4)?;
        let eb = EncodedNumber::from_f64(b, -9)?;
        let sum = pk.add_numbers(&pk.encrypt_number(&ea)?, &pk.encrypt_number(&eb)?)?;
        prop_assert_eq!(sum.exponent, -9);
        let plain = pk.add_plain_number(&pk.encrypt_number(&ea)?, &eb)?;
        let expected = ea.to_f64()? + eb.to_f64()?;
        prop_assert_eq!(KEY.decrypt_number(&sum)?.to_f64()?, expected);
        prop_assert_eq!(KEY.decrypt_number(&plain)?.to_f64()?, expected);
    }

    #[test]
    fn packing_round_trips(values in proptest::collection::vec(-(1i64 << 31)..(1i64 << 31), 0..120)) {
        let pk = KEY.public_key();
        let layout = PackingLayout::new(pk, 32, 8)?;
        let packed = pk.encrypt_packed(&layout, &values)?;
        prop_assert_eq!(packed.len(), values.len().div_ceil(layout.slots()));
        let back = KEY.decrypt_packed_batch(&packed)?;
        prop_assert_eq!(back, values.iter().map(|&v| i128::from(v)).collect::<Vec<_>>());
    }

    #[test]
    fn packed_add_and_scalar(
        pairs in proptest::collection::vec((-(1i64 << 31)..(1i64 << 31), -(1i64 << 31)..(1i64 << 31)), 1..20),
        k in -100i64..100,
    ) {
        let pk = KEY.public_key();
        let layout = PackingLayout::new(pk, 32, 8)?;
        let a: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let b: Vec<i64> = pairs.iter().map(|p| p.1).collect();
        let pa = &pk.encrypt_packed(&layout, &a)?[0];
        let pb = &pk.encrypt_packed(&layout, &b)?[0];
        let sum = KEY.decrypt_packed(&pk.add_packed(pa, pb)?)?;
        let prod = KEY.decrypt_packed(&pk.mul_packed_scalar(pa, k)?)?;
        for i in 0..a.len() {
            prop_assert_eq!(sum[i], i128::from(a[i]) + i128::from(b[i]));
            prop_assert_eq!(prod[i], i128::from(a[i]) * i128::from(k));
        }
    }

    #[test]
    fn packed_weights_in_one_exponentiation(x in -(1i64 << 20)..(1i64 << 20), w in proptest::collection::vec(-(1i64 << 16)..(1i64 << 16), 1..=26)) {
        let pk = KEY.public_key();
        let layout = PackingLayout::new(pk, 16, 21)?;
        let cx = pk.encrypt(x)?;
        let packed = pk.mul_by_packed_weights(&cx, 1 << 20, &layout, &w)?;
        let got = KEY.decrypt_packed(&packed)?;
        prop_assert_eq!(got, w.iter().map(|&wi| i128::from(x) * i128::from(wi)).collect::<Vec<_>>());
    }
}

#[test]
fn slot_overflow_is_refused_before_it_happens() {
    let pk = KEY.public_key();
    let layout = PackingLayout::new(pk, 32, 2).unwrap();
    let max = (1i64 << 32) - 1;
    let p = &pk.encrypt_packed(&layout, &[max, -max]).unwrap()[0];
    let p2 = pk.add_packed(p, p).unwrap();
    let p4 = pk.add_packed(&p2, &p2).unwrap();
    assert_eq!(
        KEY.decrypt_packed(&p4).unwrap(),
        vec![4 * i128::from(max), -4 * i128::from(max)]
    );
    assert!(matches!(
        pk.add_packed(&p4, &p4),
        Err(Error::SlotOverflow { .. })
    ));
    assert!(matches!(
        pk.mul_packed_scalar(p, 9),
        Err(Error::SlotOverflow { .. })
    ));
    assert!(matches!(
        pk.encrypt_packed(&layout, &[1i64 << 32]),
        Err(Error::Packing { .. })
    ));
    assert!(PackingLayout::new(pk, 100, 100).is_err());
}

#[test]
fn non_finite_and_absurd_scales_are_errors() {
    assert!(matches!(
        EncodedNumber::from_f64(f64::NAN, 0),
        Err(Error::NotFinite { .. })
    ));
    assert!(matches!(
        EncodedNumber::from_f64_exact(f64::INFINITY),
        Err(Error::NotFinite { .. })
    ));
    assert!(EncodedNumber::from_f64(1.0, i32::MIN).is_err());
    assert_eq!(EncodedNumber::from_f64(1.0, i32::MAX).unwrap().mantissa, 0);
    // An exponent gap wider than the key's plaintext space is refused, not exponentiated.
    let pk = KEY.public_key();
    let far = pk
        .encrypt_number(&EncodedNumber {
            mantissa: 1.into(),
            exponent: 1000,
        })
        .unwrap();
    assert!(pk.decrease_exponent_to(&far, -32).is_err());
    assert!(pk.decrease_exponent_to(&far, 1000 - 256).is_ok());
    let x = EncodedNumber::from_integer(3);
    assert!(x.decrease_exponent_to(i32::MIN).is_err());
    assert!(x.decrease_exponent_to(1).is_err());
}
