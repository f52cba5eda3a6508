//! The top-N table of `evaluate` (issue 18): every model of the paper's comparison and the
//! most-popular baseline get precision, recall and NDCG@10, from their own scores.
#![allow(clippy::unwrap_used, clippy::panic)]

use veil_cryptorec::Error;
use veil_cryptorec::baselines::{BiasedMfConfig, IAutoRecConfig};
use veil_cryptorec::data::SyntheticConfig;
use veil_cryptorec::model::TrainConfig;
use veil_cryptorec::report::{EvalOptions, evaluate};

#[test]
fn every_model_and_most_popular_get_top_n_metrics() {
    let data = SyntheticConfig {
        users: 200,
        items: 150,
        density: 0.2,
        noise: 0.3,
        seed: 4,
        ..SyntheticConfig::default()
    }
    .generate();
    let opts = EvalOptions {
        repeats: 1,
        train: TrainConfig {
            dim: 8,
            epochs: 20,
            ..TrainConfig::default()
        },
        biased_mf: BiasedMfConfig {
            dim: 8,
            epochs: 20,
            ..BiasedMfConfig::default()
        },
        autorec: IAutoRecConfig {
            hidden: 16,
            epochs: 20,
            ..IAutoRecConfig::default()
        },
        ..EvalOptions::default()
    };
    let report = evaluate(&data, &opts, |_, _| {}).unwrap();
    let names: Vec<&str> = report.top_n.iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        [
            "I-AutoRec",
            "BiasedMF",
            "CryptoRec-f",
            "CryptoRec-a(1)",
            "most popular"
        ]
    );
    for r in &report.top_n {
        let t = r.runs[0];
        eprintln!(
            "{}: P {:.3} R {:.3} NDCG {:.3}",
            r.name, t.precision, t.recall, t.ndcg
        );
        assert!(t.users > 0, "{}", r.name);
        for x in [t.precision, t.recall, t.ndcg] {
            assert!((0.0..=1.0).contains(&x), "{}: {t:?}", r.name);
        }
    }
    // Each model is ranked by its own scores: the planted preferences make the learned models'
    // lists differ from the popularity list.
    let popular = report.top_n[4].runs[0];
    assert!(
        report.top_n[..4].iter().any(|r| r.runs[0] != popular),
        "every model scored exactly as most-popular"
    );
    assert!(report.to_string().contains("| most popular |"));
    let none = EvalOptions { repeats: 0, ..opts };
    assert!(matches!(
        evaluate(&data, &none, |_, _| {}),
        Err(Error::Invalid { .. })
    ));
}
