//! Issue 16: no table cell is ever NaN. The integer model's RMSE change printed `NaN ± NaN` on
//! half-star data: a user whose centred rating r - rbar_u exceeded the quantizer's fixed input
//! range of 4 stars (a 0.5 among mostly 5s: 0.5 - 4.79 = -4.29) was refused, the refusal became
//! an empty prediction vector, and the RMSE of a missing prediction is NaN.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fmt::Write as _;

use veil_cryptorec::data::{Dataset, SyntheticConfig};
use veil_cryptorec::eval::{Figure, MeanStd};
use veil_cryptorec::model::{Model, TrainConfig, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_cryptorec::report::{EvalOptions, evaluate};

/// Half-star synthetic ratings in MovieLens' CSV format, plus `extreme` users who rate 20 items
/// 5 stars and one 0.5.
fn half_star_csv(extreme: usize) -> String {
    let data = SyntheticConfig {
        users: 150,
        items: 400,
        density: 0.04,
        half_stars: true,
        seed: 5,
        ..SyntheticConfig::default()
    }
    .generate();
    let mut csv = String::from("userId,movieId,rating,timestamp\n");
    for r in data.ratings() {
        let (u, i) = (data.user_id(r.user).unwrap(), data.item_id(r.item).unwrap());
        writeln!(csv, "{u},{i},{},1260759144", r.value).unwrap();
    }
    for k in 0..extreme as u64 {
        for item in 1..=21u64 {
            let value = if item == 21 { 0.5 } else { 5.0 };
            writeln!(csv, "{},{},{value},1", 10_000 + k, item + k).unwrap();
        }
    }
    csv
}

#[test]
fn integer_model_serves_half_star_users_far_from_their_mean() {
    let data = Dataset::parse_csv(&half_star_csv(0)).unwrap();
    let users = veil_cryptorec::model::by_user(data.ratings(), data.users());
    let cfg = TrainConfig {
        dim: 8,
        epochs: 5,
        ..TrainConfig::default()
    };
    let model = Model::train(&users, data.items(), &cfg, &[]).unwrap();
    assert_eq!((model.scale.min, model.scale.max), (0.5, 5.0));
    let qm = QuantizedModel::new(&model, &QuantConfig::default()).unwrap();
    let mut user = UserRatings {
        items: (0..20).collect(),
        values: vec![5.0; 20],
    };
    user.items.push(20);
    user.values.push(0.5);
    assert!(user.mean() - 0.5 > 4.0);
    let predictions = qm.predict(&user).unwrap();
    assert_eq!(predictions.len(), data.items());
    assert!(predictions.iter().all(|p| p.is_finite()));
}

#[test]
fn evaluation_on_half_star_csv_prints_no_nan() {
    let data = Dataset::parse_csv(&half_star_csv(40)).unwrap();
    let opts = EvalOptions {
        repeats: 2,
        baselines: false,
        train: TrainConfig {
            dim: 8,
            epochs: 10,
            ..TrainConfig::default()
        },
        ..EvalOptions::default()
    };
    let report = evaluate(&data, &opts, |_, _| {}).unwrap();
    let table = report.to_string();
    assert!(!table.contains("NaN"), "{table}");
    let change = report.quant_change.measured().unwrap();
    assert!(change.mean.abs() < 0.05, "{change:?}");
    for (name, rmse) in &report.rmse {
        assert!(rmse.measured().is_some(), "{name}: {rmse}");
    }
}

#[test]
fn undefined_figures_say_why() {
    let diverged = Figure::of(&[Ok(0.9), Ok(f64::NAN)]);
    assert_eq!(diverged.to_string(), "undefined (not finite in repeat 2)");
    let refused = Figure::of(&[Err("no test ratings".into())]);
    assert_eq!(refused.to_string(), "undefined (repeat 1: no test ratings)");
    assert!(Figure::of(&[]).to_string().starts_with("undefined"));
    assert_eq!(
        Figure::of(&[Ok(1.0), Ok(3.0)]),
        Figure::Measured(MeanStd {
            mean: 2.0,
            std: 2f64.sqrt()
        })
    );
    assert!(!MeanStd::of(&[]).to_string().contains("NaN"));
}
