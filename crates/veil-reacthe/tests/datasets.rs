//! The bundled scikit-learn data sets (skipped, with a printed reason, when absent).

use veil_ckks::CkksParametersBuilder;
use veil_reacthe::experiment::{encrypted_run, resolve_data};
use veil_reacthe::{Architecture, Dataset, Result, TrainConfig, score, train};

fn load(name: &str) -> Result<Option<Dataset>> {
    match resolve_data(name) {
        Some(p) => Ok(Some(Dataset::from_csv(&p)?)),
        None => {
            println!("skipped: {name}.csv not found (set VEIL_DATA or run from the repository)");
            Ok(None)
        }
    }
}

#[test]
fn breast_cancer_trains_and_runs_encrypted() -> Result<()> {
    let Some(data) = load("breast_cancer")? else {
        return Ok(());
    };
    let (tr, te) = data.split(0.2, 1);
    let cfg = TrainConfig {
        epochs: 60,
        ..TrainConfig::default()
    };
    let net = train(Architecture::reacthe(8, 1, 0.1), &tr, &cfg)?.network;
    let acc = score(&net, &te);
    assert!(acc > 0.93, "accuracy {acc}");
    // Opted-in small parameters (N = 4096, below 128-bit security) to keep the test quick.
    let params = CkksParametersBuilder::new()
        .degree(4096)
        .moduli_sizes(&[49, 40, 40, 40, 40, 40, 49])
        .log_scale(40)
        .allow_below_128_bit_security()
        .build()?;
    let r = encrypted_run(&net, &te, &params, None)?;
    assert_eq!(r.flipped, 0, "{r:?}");
    assert!(r.error.0 < 1e-3, "{r:?}");
    Ok(())
}

#[test]
fn diabetes_regression_beats_the_mean() -> Result<()> {
    let Some(data) = load("diabetes")? else {
        return Ok(());
    };
    let (tr, te) = data.split(0.2, 1);
    let cfg = TrainConfig {
        epochs: 60,
        ..TrainConfig::default()
    };
    let net = train(Architecture::reacthe(8, 1, 0.1), &tr, &cfg)?.network;
    let rmse = score(&net, &te);
    let mean = te.y.mean().unwrap_or(0.0);
    let sd =
        te.y.mapv(|v| (v - mean).powi(2))
            .mean()
            .unwrap_or(0.0)
            .sqrt();
    assert!(rmse < 0.85 * sd, "RMSE {rmse} vs sd {sd}");
    Ok(())
}
