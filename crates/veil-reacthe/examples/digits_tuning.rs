//! The digits accuracy gap (issue 12, item 4 of the second session): ReActHE variants against
//! the ReLU MLP of the same width and depth, 5 seeded 80/20 repeats each (seeds 1..=5, the
//! splits of `veil reacthe eval`), on `digits.csv` (skipped when absent).
//!
//! `cargo run --release -p veil-reacthe --example digits_tuning [-- NAME...]` runs the variants
//! named (all by default) and prints one table row per variant.

use veil_reacthe::experiment::resolve_data;
use veil_reacthe::train::mean_std;
use veil_reacthe::{Activation, Architecture, Dataset, Result, TrainConfig, repeated};

fn main() -> Result<()> {
    let Some(path) = resolve_data("digits") else {
        println!("skipped: digits.csv not found (set VEIL_DATA or run from the repository)");
        return Ok(());
    };
    let data = Dataset::from_csv(&path)?;
    let base = TrainConfig::default();
    let smooth = |eps| TrainConfig {
        label_smoothing: eps,
        ..base
    };
    let slow = TrainConfig {
        learning_rate: 1e-3,
        patience: 50,
        ..base
    };
    let relu = |w| Architecture::plain(w, 2, Activation::Relu);
    let variants: Vec<(&str, Architecture, TrainConfig)> = vec![
        ("relu-w32", relu(32), base),
        ("reacthe-w32", Architecture::reacthe(32, 2, 0.1), base),
        (
            "reacthe-w32-ls0.1",
            Architecture::reacthe(32, 2, 0.1),
            smooth(0.1),
        ),
        (
            "reacthe-w32-ls0.2",
            Architecture::reacthe(32, 2, 0.1),
            smooth(0.2),
        ),
        (
            "reacthe-w32-a0.05",
            Architecture::reacthe(32, 2, 0.05),
            base,
        ),
        ("reacthe-w32-slow", Architecture::reacthe(32, 2, 0.1), slow),
        (
            "reacthe-w32-wd1e-3",
            Architecture::reacthe(32, 2, 0.1),
            TrainConfig {
                weight_decay: 1e-3,
                ..base
            },
        ),
        ("relu-w64", relu(64), base),
        ("reacthe-w64", Architecture::reacthe(64, 2, 0.1), base),
        (
            "reacthe-w64-ls0.1",
            Architecture::reacthe(64, 2, 0.1),
            smooth(0.1),
        ),
        ("relu-w32-ls0.1", relu(32), smooth(0.1)),
    ];
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    println!("| variant | test accuracy (mean +- sd, 5 repeats) | per seed | epochs |");
    println!("| --- | ---: | --- | ---: |");
    for (name, arch, cfg) in variants {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let runs = repeated(arch, &data, &cfg, 5)?;
        let scores: Vec<f64> = runs.iter().map(|r| r.score).collect();
        let (m, sd) = mean_std(&scores);
        let per: Vec<String> = scores.iter().map(|s| format!("{s:.4}")).collect();
        let epochs = runs.iter().map(|r| r.epochs as f64).sum::<f64>() / runs.len() as f64;
        println!(
            "| {name} | {m:.4} +- {sd:.4} | {} | {epochs:.0} |",
            per.join(" ")
        );
    }
    Ok(())
}
