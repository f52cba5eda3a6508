//! The baselines of sec. 4 (BiasedMF and I-AutoRec) under the paper's protocol on MovieLens
//! 100K: five random splits (`Split::paper`, seeds 1-5), each model trained from scratch on all
//! known ratings with early stopping on the validation users, RMSE on the test set D; prints
//! mean ± std.
//!
//! `cargo run --release -p veil-cryptorec --example baselines -- [path/to/u.data] [--grid]`
//!
//! With `--grid` (or `--grid-mf`, `--grid-autorec`), runs instead the final grid searches that
//! chose the defaults of `BiasedMfConfig` and `IAutoRecConfig` (the first, coarser passes are
//! recorded in their `Default` docs): validation RMSE (never the test users) averaged over
//! three splits with 20% of the users for validation (seeds 101-103, disjoint from the
//! evaluation seeds).

use std::path::PathBuf;
use std::time::Instant;

use veil_cryptorec::baselines::{
    BiasedMf, BiasedMfConfig, IAutoRec, IAutoRecConfig, bias_only_rmse,
};
use veil_cryptorec::data::Dataset;
use veil_cryptorec::eval::{MeanStd, Split};

/// The three splits of the grid searches: 20% of the users for validation.
fn grid_splits(data: &Dataset) -> Vec<Split> {
    (101..=103)
        .map(|seed| Split::new(data, seed, 0.2, 0.9, 0.2))
        .collect()
}

fn grid_mf(data: &Dataset) -> Result<(), veil_cryptorec::Error> {
    let splits = grid_splits(data);
    println!("BiasedMF grid (mean validation RMSE over 3 splits):");
    for dim in [10, 50, 100] {
        for learning_rate in [0.005, 0.01] {
            for lambda in [0.05, 0.08, 0.1, 0.12, 0.15] {
                let cfg = BiasedMfConfig {
                    dim,
                    learning_rate,
                    lambda,
                    ..BiasedMfConfig::default()
                };
                let t = Instant::now();
                let (mut rmse, mut epochs) = (Vec::new(), Vec::new());
                for split in &splits {
                    let m = BiasedMf::train(split, &cfg)?;
                    rmse.push(m.validation_rmse(split));
                    epochs.push(m.best_epoch);
                }
                println!(
                    "  d {dim:3} lr {learning_rate:.3} lambda {lambda:.2}: {:.4} (best epochs {epochs:?}, {:.1} s)",
                    MeanStd::of(&rmse).mean,
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    Ok(())
}

fn grid_autorec(data: &Dataset) -> Result<(), veil_cryptorec::Error> {
    let splits = grid_splits(data);
    println!("I-AutoRec grid (mean validation RMSE over 3 splits):");
    for hidden in [300, 500] {
        for batch in [128, 256, 512] {
            for lambda in [50.0, 100.0, 150.0] {
                let cfg = IAutoRecConfig {
                    hidden,
                    batch,
                    lambda,
                    ..IAutoRecConfig::default()
                };
                let t = Instant::now();
                let (mut rmse, mut epochs) = (Vec::new(), Vec::new());
                for split in &splits {
                    let m = IAutoRec::train(split, &cfg)?;
                    rmse.push(m.validation_rmse(split));
                    epochs.push(m.best_epoch);
                }
                println!(
                    "  hidden {hidden} batch {batch:3} lr {:.0e} lambda {lambda:5.1}: {:.4} (best epochs {epochs:?}, {:.1} s)",
                    cfg.learning_rate,
                    MeanStd::of(&rmse).mean,
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    Ok(())
}

fn main() -> Result<(), veil_cryptorec::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = PathBuf::from(
        args.iter()
            .find(|a| !a.starts_with("--"))
            .cloned()
            .unwrap_or_else(|| "../shared/data/movielens-100k/u.data".into()),
    );
    let data = Dataset::load_movielens(&path)?;
    if args.iter().any(|a| a == "--grid" || a == "--grid-mf") {
        grid_mf(&data)?;
    }
    if args.iter().any(|a| a == "--grid" || a == "--grid-autorec") {
        grid_autorec(&data)?;
    }
    if args.iter().any(|a| a.starts_with("--grid")) {
        return Ok(());
    }
    let (mf_cfg, ar_cfg) = (BiasedMfConfig::default(), IAutoRecConfig::default());
    println!("MovieLens 100K, sec. 4 protocol, seeds 1-5");
    println!("BiasedMF:  {mf_cfg:?}");
    println!("I-AutoRec: {ar_cfg:?}");
    let (mut floor, mut mf, mut ar, mut mf_time, mut ar_time) =
        (vec![], vec![], vec![], vec![], vec![]);
    for seed in 1..=5 {
        let split = Split::paper(&data, seed);
        floor.push(bias_only_rmse(&split));
        let t = Instant::now();
        let m = BiasedMf::train(&split, &mf_cfg)?;
        mf_time.push(t.elapsed().as_secs_f64());
        mf.push(m.test_rmse(&split));
        let t = Instant::now();
        let a = IAutoRec::train(&split, &ar_cfg)?;
        ar_time.push(t.elapsed().as_secs_f64());
        ar.push(a.test_rmse(&split));
        println!(
            "seed {seed}: bias-only {:.4} | BiasedMF {:.4} ({} epochs, best {}, {:.1} s) | I-AutoRec {:.4} ({} epochs, best {}, {:.1} s)",
            floor[floor.len() - 1],
            mf[mf.len() - 1],
            m.epochs_run,
            m.best_epoch,
            mf_time[mf_time.len() - 1],
            ar[ar.len() - 1],
            a.epochs_run,
            a.best_epoch,
            ar_time[ar_time.len() - 1],
        );
    }
    println!("bias-only: RMSE {}", MeanStd::of(&floor));
    println!(
        "BiasedMF:  RMSE {} (train {} s)",
        MeanStd::of(&mf),
        MeanStd::of(&mf_time)
    );
    println!(
        "I-AutoRec: RMSE {} (train {} s)",
        MeanStd::of(&ar),
        MeanStd::of(&ar_time)
    );
    Ok(())
}
