//! `veil cryptorec train|predict|eval` on small synthetic data, and clean failures.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::scratch_dir;
use std::process::Command;

fn veil(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_veil"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `cryptorec train` on the synthetic data, d = 8, 5 epochs, saved to `out`.
fn small_train(out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "cryptorec",
        "train",
        "--dim",
        "8",
        "--epochs",
        "5",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    veil(&args)
}

#[test]
fn train_then_predict_through_the_encrypted_protocol() {
    let dir = scratch_dir("cryptorec");
    let model = dir.join("model.json");
    let out = small_train(model.to_str().unwrap(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let ratings = dir.join("me.csv");
    std::fs::write(&ratings, "# item,rating\n1,5\n2,1\n50,4\n").unwrap();
    let out = veil(&[
        "cryptorec",
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--ratings",
        ratings.to_str().unwrap(),
        "--bits",
        "1024",
        "--top",
        "5",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("of the top 5 agree"), "{stdout}");
    // Rated items are not recommended back.
    for line in stdout.lines().filter(|l| l.contains(" | item")) {
        assert!(
            !line.contains("item     1 ") && !line.contains("item    50 "),
            "{line}"
        );
    }
    assert!(stdout.contains("items you rated are left out"), "{stdout}");
    // Bad inputs: unknown item, bad rating, empty file, ratings off the scale, a repeated item,
    // extra columns, missing model.
    for (body, why) in [
        ("99999,3\n", "unknown item"),
        ("1,x\n", "expected a rating"),
        ("#\n", "no ratings"),
        ("1,7\n", "outside the model's rating scale 1..5"),
        ("1,-1\n", "outside the model's rating scale 1..5"),
        ("1,4\n2,3\n1,5\n", ":3: item 1 is rated twice"),
        ("1,4,2020\n", "expected two fields"),
    ] {
        std::fs::write(&ratings, body).unwrap();
        let out = veil(&[
            "cryptorec",
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--ratings",
            ratings.to_str().unwrap(),
            "--bits",
            "1024",
        ]);
        assert!(!out.status.success());
        assert!(text(&out).contains(why), "{}", text(&out));
    }
    let out = veil(&[
        "cryptorec",
        "predict",
        "--model",
        "/nonexistent.json",
        "--ratings",
        ratings.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("/nonexistent.json"), "{}", text(&out));
}

/// `cryptorec eval` on one split of the synthetic data, d = 8, without baselines.
fn small_eval(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "cryptorec",
        "eval",
        "--repeats",
        "1",
        "--dim",
        "8",
        "--no-baselines",
    ];
    args.extend_from_slice(extra);
    veil(&args)
}

#[test]
fn eval_prints_the_tables_and_bad_data_fails_with_a_line_number() {
    let out = small_eval(&[]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for want in [
        "CryptoRec-f",
        "CryptoRec-a(1)",
        "pruning ratio",
        "reuse ratio",
        "| most popular |",
        "NDCG@10",
    ] {
        assert!(stdout.contains(want), "{want} missing:\n{stdout}");
    }
    let dir = scratch_dir("cryptorec-bad");
    let bad = dir.join("bad.data");
    std::fs::write(&bad, "1\t2\t3\t0\n1\t2\n").unwrap();
    let out = veil(&["cryptorec", "eval", "--data", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("line 2"), "{}", text(&out));
}

fn write(dir: &std::path::Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_owned()
}

/// `cryptorec predict --json` (1024-bit key) of `model` for `ratings`; its parsed output.
fn predict_json(model: &str, ratings: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "cryptorec",
        "predict",
        "--model",
        model,
        "--ratings",
        ratings,
        "--bits",
        "1024",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = veil(&args);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Titles from a catalogue, the exclusion notice, scores within the scale, and `--json`.
#[test]
fn predict_names_items_and_keeps_scores_on_the_scale() {
    let dir = scratch_dir("cryptorec-titles");
    let model = dir.join("model.json");
    let m = model.to_str().unwrap();
    let out = small_train(m, &["--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scale"], serde_json::json!([1.0, 5.0]));
    assert!(v["validation_rmse"].as_f64().unwrap() > 0.0);
    // A u.item-style catalogue (Latin-1, as MovieLens ships it) of the synthetic items 1..1682.
    let mut catalogue = Vec::new();
    for i in 1..=1682 {
        catalogue.extend_from_slice(
            format!("{i}|Film n\u{b0} {i} (199{})|01-Jan-1995||x|0\n", i % 10).as_bytes(),
        );
    }
    let catalogue: Vec<u8> = String::from_utf8(catalogue)
        .unwrap()
        .chars()
        .map(|c| c as u8)
        .collect();
    std::fs::write(dir.join("u.item"), catalogue).unwrap();
    let items = dir.join("u.item");
    let ratings = write(&dir, "me.csv", "1,5\n2,1\n3,5\n4,4\n5,2\n6,5\n7,3\n");
    let args = |json: bool| {
        let mut a = vec!["cryptorec", "predict", "--model", m, "--ratings", &ratings];
        a.extend(["--bits", "1024", "--items", items.to_str().unwrap()]);
        if json {
            a.push("--json");
        }
        veil(&a)
    };
    let out = args(false);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("The 7 items you rated are left out"),
        "{stdout}"
    );
    assert!(stdout.contains("Film n\u{b0} "), "{stdout}");
    let out = args(true);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rated_items_excluded"], 7);
    let top = v["top"].as_array().unwrap();
    assert_eq!(top.len(), 10);
    for t in top {
        let score = t["score"].as_f64().unwrap();
        assert!((1.0..=5.0).contains(&score), "{t}");
        let item = t["item"].as_u64().unwrap();
        assert!(item > 7, "a rated item was recommended: {t}");
        assert!(t["title"].as_str().unwrap().starts_with("Film"), "{t}");
    }
    // A user who rated almost everything at 1 star: unclamped, the remaining items score below
    // the scale (rbar_u + b_i with b_i < 0); shown, they stay within it.
    let all: String = (1..=1600).map(|i| format!("{i},1\n")).collect();
    let ratings = write(&dir, "all.csv", &all);
    let v = predict_json(m, &ratings, &["--top", "100"]);
    assert_eq!(v["rated_items_excluded"], 1600);
    // Every one of the 82 unrated items, down to the worst.
    assert_eq!(v["top"].as_array().unwrap().len(), 82);
    for t in v["top"].as_array().unwrap() {
        assert!((1.0..=5.0).contains(&t["score"].as_f64().unwrap()), "{t}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Training data off a given scale, duplicates, and a catalogue that cannot be read: refused
/// before any training.
#[test]
fn training_data_is_checked_against_the_scale() {
    let dir = scratch_dir("cryptorec-scale");
    // Each file must be refused by `train` with the given message.
    for (name, body, extra, want) in [
        (
            "r.csv",
            "user,item,rating\n1,1,5\n1,2,7\n2,1,3\n",
            ["--scale", "1:5"].as_slice(),
            "rating 7 of item 2 by user 1 is outside the rating scale 1..5",
        ),
        (
            "d.csv",
            "1,1,5\n1,2,4\n1,1,3\n",
            [].as_slice(),
            "line 3: second rating of item 1 by user 1",
        ),
    ] {
        let data = write(&dir, name, body);
        let mut args = vec!["cryptorec", "train", "--data", &data, "--format", "csv"];
        args.extend_from_slice(extra);
        args.extend(["--out", "m.json"]);
        let out = veil(&args);
        assert!(!out.status.success());
        assert!(text(&out).contains(want), "{}", text(&out));
    }
    let out = veil(&["demo", "--items", "/nonexistent/u.item"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("/nonexistent/u.item") && !text(&out).contains("training"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `eval`: the top-N table, progress lines when stderr is not a terminal, and `--json`.
#[test]
fn eval_reports_top_n_and_progress() {
    let out = small_eval(&["--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("veil: repeat 1: CryptoRec"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let models: Vec<&str> = v["top_n"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["CryptoRec-f", "CryptoRec-a(1)", "most popular"]);
    for t in v["top_n"].as_array().unwrap() {
        for k in ["precision", "recall", "ndcg"] {
            let x = t[k]["mean"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{t}");
        }
    }
}

/// On MovieLens 100K: a user who rated seven films gets a top 10 of films with real support,
/// scored within 1..5 (before: items with 1-3 ratings, all at 5.3x). Skipped without the data.
#[test]
fn movielens_recommendations_are_worth_following() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/movielens-100k/u.data");
    if !path.exists() {
        eprintln!("skipped: {} is absent", path.display());
        return;
    }
    let data = std::fs::read_to_string(&path).unwrap();
    let mut support = std::collections::HashMap::<u64, usize>::new();
    for line in data.lines() {
        let item: u64 = line.split('\t').nth(1).unwrap().parse().unwrap();
        *support.entry(item).or_default() += 1;
    }
    let dir = scratch_dir("cryptorec-ml100k");
    let model = dir.join("model.json");
    let m = model.to_str().unwrap();
    let out = veil(&[
        "cryptorec",
        "train",
        "--data",
        path.to_str().unwrap(),
        "--dim",
        "20",
        "--out",
        m,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // Seven well-known films: Star Wars, Fargo, Return of the Jedi, Contact, Liar Liar, Scream,
    // Air Force One.
    let ratings = write(
        &dir,
        "me.csv",
        "50,5\n100,5\n181,4\n258,4\n294,2\n288,1\n300,3\n",
    );
    let v = predict_json(m, &ratings, &[]);
    for t in v["top"].as_array().unwrap() {
        let item = t["item"].as_u64().unwrap();
        let score = t["score"].as_f64().unwrap();
        assert!((1.0..=5.0).contains(&score), "{t}");
        assert!(
            support[&item] >= 20,
            "item {item} has {} ratings: {t}",
            support[&item]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
