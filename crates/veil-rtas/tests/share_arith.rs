//! Local share arithmetic against plaintext: sharing, linear operations, public scalars and the
//! SecureML truncation (with its failure probability measured).
#![allow(clippy::unwrap_used, clippy::panic)]

use ndarray::Array2;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use veil_rtas::{FixedPoint, Party, Public, Share, reconstruct, share, share_f64};

fn matrix(rows: usize, cols: usize, max: f64) -> impl Strategy<Value = Array2<f64>> {
    proptest::collection::vec(-max..max, rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).unwrap())
}

fn ring_matrix(rows: usize, cols: usize) -> impl Strategy<Value = Array2<u64>> {
    proptest::collection::vec(any::<u64>(), rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).unwrap())
}

proptest! {
    #[test]
    fn reconstruct_of_share_is_identity(x in ring_matrix(3, 4), seed in any::<u64>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let p = Public::from_ring(x.clone(), 16);
        let (a, b) = share(&p, &mut rng);
        prop_assert_eq!(a.party(), Party::P0);
        let ab = reconstruct(&a, &b).unwrap();
        let ba = reconstruct(&b, &a).unwrap();
        prop_assert_eq!(ab.ring(), x.view());
        prop_assert_eq!(ba.ring(), x.view());
    }

    #[test]
    fn linear_ops_match_wrapping_arithmetic(x in ring_matrix(2, 3), y in ring_matrix(2, 3), k in any::<i64>(), seed in any::<u64>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (x0, x1) = share(&Public::from_ring(x.clone(), 16), &mut rng);
        let (y0, y1) = share(&Public::from_ring(y.clone(), 16), &mut rng);
        let sum = reconstruct(&x0.add(&y0).unwrap(), &x1.add(&y1).unwrap()).unwrap();
        let diff = reconstruct(&x0.sub(&y0).unwrap(), &x1.sub(&y1).unwrap()).unwrap();
        let neg = reconstruct(&x0.neg(), &x1.neg()).unwrap();
        let scaled = reconstruct(&x0.mul_int(k), &x1.mul_int(k)).unwrap();
        let c = Public::from_ring(y.clone(), 16);
        let plus_c = reconstruct(&x0.add_public(&c).unwrap(), &x1.add_public(&c).unwrap()).unwrap();
        for idx in 0..6 {
            let (i, j) = (idx / 3, idx % 3);
            let (a, b) = (x[[i, j]], y[[i, j]]);
            prop_assert_eq!(sum.ring()[[i, j]], a.wrapping_add(b));
            prop_assert_eq!(plus_c.ring()[[i, j]], a.wrapping_add(b));
            prop_assert_eq!(diff.ring()[[i, j]], a.wrapping_sub(b));
            prop_assert_eq!(neg.ring()[[i, j]], a.wrapping_neg());
            prop_assert_eq!(scaled.ring()[[i, j]], a.wrapping_mul(k as u64));
        }
    }

    #[test]
    fn public_scalar_then_truncation_is_within_one_ulp(x in matrix(4, 4, 1000.0), c in -8.0..8.0_f64, seed in any::<u64>()) {
        let fp = FixedPoint::default();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (x0, x1) = share_f64(x.view(), fp, &mut rng).unwrap();
        let raw0 = x0.mul_scalar(c, fp).unwrap();
        let raw1 = x1.mul_scalar(c, fp).unwrap();
        prop_assert_eq!(raw0.frac_bits(), 32);
        let t = reconstruct(&raw0.truncate(16).unwrap(), &raw1.truncate(16).unwrap()).unwrap();
        let exact = reconstruct(&raw0, &raw1).unwrap();
        for (got, want) in t.ring().iter().zip(exact.ring().iter()) {
            let floor = (*want as i64) >> 16;
            let got = *got as i64;
            prop_assert!(got == floor || got == floor + 1, "{got} vs floor {floor}");
        }
        let cx = t.decode();
        let encoded_c = fp.decode(fp.encode(c).unwrap());
        for (g, v) in cx.iter().zip(x.iter()) {
            let v = fp.decode(fp.encode(*v).unwrap());
            prop_assert!((g - v * encoded_c).abs() <= 2.0 / fp.scale());
        }
    }

    #[test]
    fn lift_then_truncate_round_trips(x in matrix(3, 2, 100.0), seed in any::<u64>()) {
        let fp = FixedPoint::default();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (x0, x1) = share_f64(x.view(), fp, &mut rng).unwrap();
        let l = reconstruct(&x0.lift(16).unwrap(), &x1.lift(16).unwrap()).unwrap();
        prop_assert_eq!(l.frac_bits(), 32);
        let back = reconstruct(&x0.lift(16).unwrap().truncate(16).unwrap(), &x1.lift(16).unwrap().truncate(16).unwrap()).unwrap();
        let orig = reconstruct(&x0, &x1).unwrap();
        for (b, o) in back.ring().iter().zip(orig.ring().iter()) {
            let d = b.wrapping_sub(*o) as i64;
            prop_assert!((0..=1).contains(&d));
        }
    }
}

/// The truncation error bound, measured: for a value of l_x bits the failure rate is about
/// 2^(l_x + 1 - 64); here a 52-bit value, shared 100,000 times.
#[test]
fn truncation_failure_rate_matches_the_bound() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let trials = 100_000;
    let l_x = 52;
    let x = Array2::from_elem((trials, 1), (1_u64 << (l_x - 1)) + 12_345);
    let mut failures = 0;
    let mut off_by_one = 0;
    for chunk in 0..10 {
        let (a, b) = share(
            &Public::from_ring(
                x.slice(ndarray::s![chunk * 10_000..(chunk + 1) * 10_000, ..])
                    .to_owned(),
                32,
            ),
            &mut rng,
        );
        let t = reconstruct(&a.truncate(16).unwrap(), &b.truncate(16).unwrap()).unwrap();
        let want = x[[0, 0]] >> 16;
        for &got in t.ring() {
            match got.wrapping_sub(want) {
                0 => {}
                1 => off_by_one += 1,
                _ => failures += 1,
            }
        }
    }
    // A positive x fails exactly when x_0 < x: probability x / 2^64 ~ 2^-13, below the bound
    // 2^(l_x + 1 - 64) = 2^-11. Expected ~12.2 failures, standard deviation ~3.5.
    let expected = (trials as f64) * (x[[0, 0]] as f64) / 2f64.powi(64);
    assert!(
        (failures as f64) < expected + 6.0 * expected.sqrt() && failures as f64 > 1.0,
        "{failures} failures, expected about {expected}"
    );
    assert!(
        off_by_one > 0,
        "rounding is randomized: some results are floor + 1"
    );
    // At a realistic size (l_x = 33, |x| < 2 at scale 2^32) no failure in 100,000 trials.
    let small = Array2::from_elem((trials, 1), (-(1_i64 << 32) - 77) as u64);
    let (a, b) = share(&Public::from_ring(small.clone(), 32), &mut rng);
    let t = reconstruct(&a.truncate(16).unwrap(), &b.truncate(16).unwrap()).unwrap();
    let want = ((small[[0, 0]] as i64) >> 16) as u64;
    assert!(t.ring().iter().all(|&g| g.wrapping_sub(want) <= 1));
}

#[test]
fn shares_are_redacted_and_checked() {
    let fp = FixedPoint::default();
    let (a, b) = share_f64(Array2::zeros((2, 2)).view(), fp, &mut rand::rng()).unwrap();
    let dbg = format!("{a:?}");
    assert!(dbg.contains("<redacted>") && !dbg.contains(&a.ring()[[0, 0]].to_string()));
    assert!(reconstruct(&a, &a.clone()).is_err());
    assert!(a.add(&b).is_err(), "shares of different parties do not add");
    let other_scale = Share::from_ring(Party::P0, 32, Array2::zeros((2, 2)));
    assert!(a.add(&other_scale).is_err());
    assert!(
        a.add(&Share::from_ring(Party::P0, 16, Array2::zeros((3, 2))))
            .is_err()
    );
    assert!(a.truncate(17).is_err());
}
