//! Rating scales, shrunk item biases and refused training settings (issue 18).
#![allow(clippy::unwrap_used, clippy::panic)]

use veil_cryptorec::Error;
use veil_cryptorec::data::{Dataset, RatingScale};
use veil_cryptorec::model::{Model, TrainConfig, UserRatings};

/// 30 users who rate item 0 at 3 and item 1 at 4, and one user who rates item 2 at 5.
fn users() -> Vec<UserRatings> {
    let mut out: Vec<UserRatings> = (0..30)
        .map(|_| UserRatings {
            items: vec![0, 1],
            values: vec![3.0, 4.0],
        })
        .collect();
    out.push(UserRatings {
        items: vec![0, 2],
        values: vec![3.0, 5.0],
    });
    out
}

fn cfg() -> TrainConfig {
    TrainConfig {
        dim: 2,
        epochs: 2,
        ..TrainConfig::default()
    }
}

#[test]
fn a_single_five_star_rating_does_not_top_the_list() {
    let model = Model::train(&users(), 3, &cfg(), &[]).unwrap();
    let b = &model.item_bias;
    // Item 2's one 5-star rating is shrunk below item 1's thirty 4-star ratings.
    assert!(b[2] < b[1], "biases {b}");
    let plain = Model::train(
        &users(),
        3,
        &TrainConfig {
            bias_shrinkage: 0.0,
            ..cfg()
        },
        &[],
    )
    .unwrap();
    // Without shrinkage (the paper's b_i = rbar_i - mu) it would.
    assert!(plain.item_bias[2] > plain.item_bias[1]);
    assert_eq!(model.scale, RatingScale::new(3.0, 5.0).unwrap());
}

#[test]
fn biases_shrink_toward_their_prior() {
    let cfg = TrainConfig {
        bias_shrinkage: 10.0,
        bias_prior: -0.5,
        ..cfg()
    };
    // Item 3 has no ratings: its bias is the prior. Item 2's one rating moves it 1/11 of the way.
    let model = Model::train(&users(), 4, &cfg, &[]).unwrap();
    assert!(
        (model.item_bias[3] + 0.5).abs() < 1e-6,
        "{}",
        model.item_bias
    );
    let want = (5.0 - model.mu - 10.0 * 0.5) / 11.0;
    assert!(
        (model.item_bias[2] - want).abs() < 1e-5,
        "{}",
        model.item_bias
    );
    let nan = TrainConfig {
        bias_prior: f32::NAN,
        ..cfg
    };
    assert!(Model::train(&users(), 4, &nan, &[]).is_err());
}

#[test]
fn predictions_are_clamped_to_the_scale() {
    let mut model = Model::train(&users(), 3, &cfg(), &[]).unwrap();
    model.item_bias[2] = 10.0;
    let user = UserRatings {
        items: vec![0],
        values: vec![3.0],
    };
    assert!(model.predict(&user)[2] > 5.0);
    let p = model.predict_clamped(&user);
    assert!(p.iter().all(|&x| model.scale.contains(x)), "{p}");
    // The scale survives a save and load.
    let (back, _) = Model::from_json_with_ids(&model.to_json().unwrap()).unwrap();
    assert_eq!(back.scale, model.scale);
}

#[test]
fn bad_settings_and_ratings_are_refused() {
    let zero = TrainConfig { epochs: 0, ..cfg() };
    assert!(matches!(
        Model::train(&users(), 3, &zero, &[]),
        Err(Error::Invalid { .. })
    ));
    let given = TrainConfig {
        scale: Some(RatingScale::new(1.0, 4.0).unwrap()),
        ..cfg()
    };
    let e = Model::train(&users(), 3, &given, &[]).unwrap_err();
    assert!(
        matches!(e, Error::Scale { value, .. } if value == 5.0),
        "{e}"
    );
    let data = Dataset::parse_csv("1,1,5\n1,2,7\n2,1,-1\n").unwrap();
    assert_eq!(data.scale().unwrap(), RatingScale::new(-1.0, 7.0).unwrap());
    let e = data.check_scale(&RatingScale::default()).unwrap_err();
    assert!(
        e.to_string().contains("rating 7 of item 2 by user 1"),
        "{e}"
    );
    assert!(Dataset::parse_csv("1,1,5\n").unwrap().scale().is_err());
}
