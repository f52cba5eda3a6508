//! Regressions from the `cryptorec_*` fuzz targets (`fuzz/`).
#![allow(clippy::unwrap_used, clippy::panic)]

use ndarray::{Array1, Array2};
use veil_cryptorec::Error;
use veil_cryptorec::model::{Model, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};

fn model() -> QuantizedModel {
    let m = Model {
        mu: 3.5,
        item_bias: Array1::from_vec(vec![0.1, -0.2, 0.3]),
        a: Array2::from_shape_fn((3, 2), |(i, c)| (i + c) as f32 * 0.1 - 0.2),
        q: Array2::from_shape_fn((3, 2), |(i, c)| (i * 2 + c) as f32 * 0.05 - 0.1),
        scale: veil_cryptorec::data::RatingScale::default(),
        input_norm: 0.0,
    };
    QuantizedModel::new(&m, &QuantConfig::default()).unwrap()
}

/// A non-finite rating (fuzz input `artifacts-found/cryptorec_model/infinite-rating-quantize-input`:
/// ratings 1.3, 1.1 and +inf) made the mean infinite, and round(s_r (r - mean)) saturated to
/// `i64::MIN`, whose `abs()` overflowed: a panic with overflow checks, and without them a
/// negative "magnitude" that passed the rating-span check and went into the query. A NaN
/// rating became 0 silently. Both are now refused.
#[test]
fn non_finite_ratings_are_refused() {
    let q = model();
    let user = |values: Vec<f32>| UserRatings {
        items: (0..values.len() as u32).collect(),
        values,
    };
    for values in [
        vec![1.3, 1.1, f32::INFINITY],
        vec![f32::NEG_INFINITY, 4.0],
        vec![f32::NAN],
        vec![3.0, f32::NAN],
        vec![f32::MAX, f32::MAX], // the mean overflows
    ] {
        let u = user(values.clone());
        let e = QuantizedModel::quantize_input(&q.params, &u).unwrap_err();
        assert!(matches!(e, Error::Invalid { .. }), "{values:?}: {e:?}");
        assert!(q.predict(&u).is_err(), "{values:?}");
    }
    // Finite ratings within the span still work; beyond it they are refused as before.
    let x = QuantizedModel::quantize_input(&q.params, &user(vec![1.0, 5.0])).unwrap();
    assert_eq!(x, vec![-2 * 16, 2 * 16, 0]);
    let x = QuantizedModel::quantize_input(&q.params, &user(vec![-1.0, 7.0])).unwrap();
    assert_eq!(x, vec![-64, 64, 0]);
    let e = QuantizedModel::quantize_input(&q.params, &user(vec![0.0, 10.0])).unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
}
