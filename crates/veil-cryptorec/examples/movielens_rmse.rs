//! The paper's evaluation protocol (sec. 4) on MovieLens 100K for CryptoRec-f:
//! users split 80/20; each held-out user's ratings split 90% fed / 10% predicted.
//!
//! `cargo run --release -p veil-cryptorec --example movielens_rmse -- [path] [dim] [seeds]`
//! Hyperparameters can be overridden with VEIL_LR, VEIL_LAMBDA, VEIL_DROPOUT, VEIL_BATCH, VEIL_INIT.

use std::path::PathBuf;
use std::time::Instant;

use veil_cryptorec::data::Dataset;
use veil_cryptorec::eval::{MeanStd, Split, rmse_with};
use veil_cryptorec::finetune::FineTune;
use veil_cryptorec::model::{Model, TrainConfig};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), veil_cryptorec::Error> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "../shared/data/movielens-100k/u.data".into()),
    );
    let dim: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let seeds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let data = Dataset::load_movielens(&path)?;
    let d = TrainConfig::default();
    let cfg = TrainConfig {
        dim,
        learning_rate: env("VEIL_LR", d.learning_rate),
        lambda: env("VEIL_LAMBDA", d.lambda),
        input_dropout: env("VEIL_DROPOUT", d.input_dropout),
        batch: env("VEIL_BATCH", d.batch),
        init_scale: env("VEIL_INIT", d.init_scale),
        epochs: env("VEIL_EPOCHS", d.epochs),
        ..d
    };
    let (mut f, mut b) = (vec![], vec![]);
    for seed in 0..seeds {
        let split = Split::paper(&data, seed);
        let t = Instant::now();
        let model = Model::train_with(&split.train, split.items, &cfg, &split.validation, |r| {
            if std::env::var_os("VEIL_VERBOSE").is_some() {
                eprintln!("  epoch {} valid {:?}", r.epoch, r.validation_rmse);
            }
        })?;
        f.push(model.rmse(&split.test));
        for (name, ft) in [
            ("a(1)", FineTune::one_step(cfg.lambda)),
            ("a(n)", FineTune::until_converged(cfg.lambda)),
        ] {
            let v = rmse_with(&split.validation, 1.0, 5.0, |_, u| {
                model.fine_tune(u, &ft).predictions.to_vec()
            });
            let mut total = 0;
            let t = rmse_with(&split.test, 1.0, 5.0, |_, u| {
                let r = model.fine_tune(u, &ft);
                total += r.steps;
                r.predictions.to_vec()
            });
            println!(
                "  {name}: valid {v:.4} test {t:.4} mean steps {:.1}",
                total as f64 / split.test.len() as f64
            );
        }
        b.push(model.bias_only_rmse(&split.test));
        println!(
            "seed {seed}: CryptoRec-f {:.4}, bias-only {:.4}, valid {:.4} ({:.1} s)",
            f[f.len() - 1],
            b[b.len() - 1],
            model.rmse(&split.validation),
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "MovieLens 100K, d = {dim}: CryptoRec-f {}, bias-only {}",
        MeanStd::of(&f),
        MeanStd::of(&b)
    );
    Ok(())
}
