//! RMSE of the quantized model against the float model on MovieLens 100K (sec. 3.2, 5.1).
//!
//! `cargo run --release -p veil-cryptorec --example quant_rmse -- [path]`

use std::path::PathBuf;

use veil_cryptorec::data::Dataset;
use veil_cryptorec::eval::{Split, rmse_with};
use veil_cryptorec::model::{Model, TrainConfig};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};

fn main() -> Result<(), veil_cryptorec::Error> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/data/movielens-100k/u.data".into()),
    );
    let data = Dataset::load_movielens(&path)?;
    let split = Split::paper(&data, 0);
    let model = Model::train(
        &split.train,
        split.items,
        &TrainConfig::default(),
        &split.validation,
    )?;
    let float = model.rmse(&split.test);
    println!("float model: {float:.5}");
    let prunes: Vec<f64> = std::env::var("VEIL_PRUNE")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or(vec![0.0, 0.4]);
    for prune_below in prunes {
        for bits in [2, 3, 4, 8] {
            for frac in [2, 4] {
                let qm = QuantizedModel::new(
                    &model,
                    &QuantConfig {
                        weight_bits: bits,
                        rating_frac_bits: frac,
                        prune_fraction: prune_below,
                        ..QuantConfig::default()
                    },
                )?;
                let q = rmse_with(&split.test, 1.0, 5.0, |_, u| {
                    qm.predict(u).unwrap_or_default()
                });
                println!(
                    "prune {prune_below}: weights {bits:2} bits, ratings 2^-{frac}: {q:.5} (change {:+.5}), zeros {:.1}%, output bound 2^{}",
                    q - float,
                    100.0 * qm.zero_fraction(),
                    128 - qm.params.output_bound.leading_zeros()
                );
            }
        }
    }
    Ok(())
}
