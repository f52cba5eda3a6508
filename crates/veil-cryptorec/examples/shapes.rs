//! The synthetic-shape matrix of issue 16: CryptoRec-f, -a(1), BiasedMF and I-AutoRec over 5
//! random splits (the protocol of sec. 4) on synthetic data of other shapes than MovieLens 100K:
//! density 1% to 6%, items per user 0.5 to 15, whole and half stars.
//!
//! `cargo run --release -p veil-cryptorec --example shapes -- [--fast] [--repeats N]
//! [--budget SECONDS] [--margin STANDARD_ERRORS] [--bias-prior DELTA] [--only NAME]
//! [--data RATINGS_FILE] [--no-baselines]`
//!
//! With `--data`, the same row for a ratings file (any format of `Dataset::load_any`) instead
//! of the synthetic shapes.
//!
//! Prints one markdown row per shape (the table of docs/cryptorec.md), and with model selection
//! (the default; `--fast` keeps the fixed defaults) the chosen settings of each split.

use std::time::Instant;

use veil_cryptorec::data::{Dataset, SyntheticConfig};
use veil_cryptorec::eval::Figure;
use veil_cryptorec::model::TrainConfig;
use veil_cryptorec::report::{EvalOptions, evaluate};
use veil_cryptorec::select::SelectOptions;

/// (name, users, items, density, half stars). `issue-16` (the shape of the report that opened issue
/// 16: 671 users, ~9,000 items, half stars) runs only when named with `--only` (minutes per split).
const SHAPES: [(&str, usize, usize, f64, bool); 7] = [
    ("dense-tall", 600, 300, 0.06, false),
    ("dense-tall-half", 600, 300, 0.06, true),
    ("mid-wide", 400, 800, 0.03, false),
    ("mid-wide-half", 400, 800, 0.03, true),
    ("sparse-x15", 300, 4500, 0.01, false),
    ("sparse-x15-half", 300, 4500, 0.01, true),
    ("issue-16", 671, 9066, 0.0164, true),
];

fn main() -> Result<(), veil_cryptorec::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|k| args.get(k + 1))
            .cloned()
    };
    let fast = args.iter().any(|a| a == "--fast");
    let baselines = !args.iter().any(|a| a == "--no-baselines");
    let repeats = value("--repeats").and_then(|s| s.parse().ok()).unwrap_or(5);
    let budget = value("--budget")
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let only = value("--only");
    let margin = value("--margin").and_then(|s| s.parse().ok());
    let bias_prior = value("--bias-prior").and_then(|s| s.parse().ok());
    println!(
        "| shape | users x items | density | I-AutoRec | BiasedMF | CryptoRec-f | CryptoRec-a(1) | \
         bias only | f / MF | f / AutoRec | a(1) / MF | integer - float |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut chosen = Vec::new();
    let file = value("--data");
    let mut sets: Vec<(String, Dataset)> = Vec::new();
    if let Some(path) = &file {
        sets.push((path.clone(), Dataset::load_any(std::path::Path::new(path))?));
    } else {
        for (name, users, items, density, half_stars) in SHAPES {
            if only.as_deref().is_some_and(|o| o != name)
                || (only.is_none() && name.starts_with("issue"))
            {
                continue;
            }
            let data = SyntheticConfig {
                users,
                items,
                density,
                half_stars,
                ..SyntheticConfig::default()
            }
            .generate();
            sets.push((name.to_string(), data));
        }
    }
    for (name, data) in sets {
        let opts = EvalOptions {
            repeats,
            baselines,
            select: (!fast).then(|| {
                let d = SelectOptions::default();
                SelectOptions {
                    budget_seconds: budget,
                    margin_standard_errors: margin.unwrap_or(d.margin_standard_errors),
                    // An explicit prior is kept, as the CLI keeps explicit options.
                    keep: if bias_prior.is_some() {
                        vec!["delta"]
                    } else {
                        vec![]
                    },
                    ..d
                }
            }),
            train: TrainConfig {
                bias_prior: bias_prior.unwrap_or(TrainConfig::default().bias_prior),
                ..TrainConfig::default()
            },
            ..EvalOptions::default()
        };
        let t = Instant::now();
        let report = evaluate(&data, &opts, |stage, _| {
            if !stage.is_empty() {
                eprintln!("{name}: {stage}");
            }
        })?;
        let get = |model: &str| {
            report
                .rmse
                .iter()
                .find(|(n, _)| *n == model)
                .map(|(_, f)| f.clone())
                .unwrap_or_default()
        };
        let (ar, mf, f, a1, bias) = (
            get("I-AutoRec"),
            get("BiasedMF"),
            get("CryptoRec-f"),
            get("CryptoRec-a(1)"),
            get("bias only"),
        );
        let ratio = |x: &Figure, y: &Figure| match (x.measured(), y.measured()) {
            (Some(x), Some(y)) => format!("{:.3}", x.mean / y.mean),
            _ => "undefined".into(),
        };
        let cell = |x: &Figure| match x.measured() {
            Some(m) => format!("{:.4} ± {:.4}", m.mean, m.std),
            None => x.to_string(),
        };
        println!(
            "| {name} | {} x {} | {:.1}% | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            data.users(),
            data.items(),
            100.0 * data.density(),
            cell(&ar),
            cell(&mf),
            cell(&f),
            cell(&a1),
            cell(&bias),
            ratio(&f, &mf),
            ratio(&f, &ar),
            ratio(&a1, &mf),
            cell(&report.quant_change),
        );
        eprintln!("{name}: {:.0} s", t.elapsed().as_secs_f64());
        for (((model, _), runs), se) in report
            .rmse
            .iter()
            .zip(&report.runs)
            .zip(&report.test_standard_error)
        {
            let runs: Vec<String> = runs.iter().map(|r| format!("{r:.4}")).collect();
            let line = format!(
                "- {name}, {model} per split: {} (test-set standard error {:.4})",
                runs.join(" "),
                se.mean
            );
            eprintln!("{line}");
            chosen.push(line);
        }
        for (k, s) in report.selections.iter().enumerate() {
            chosen.push(format!("- {name}, split {}: {}", k + 1, s.summary()));
        }
    }
    if !chosen.is_empty() {
        println!("\nPer split, and the chosen settings:\n");
        for line in chosen {
            println!("{line}");
        }
    }
    Ok(())
}
