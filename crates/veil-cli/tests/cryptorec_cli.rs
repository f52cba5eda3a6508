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

#[test]
fn train_then_predict_through_the_encrypted_protocol() {
    let dir = scratch_dir("cryptorec");
    let model = dir.join("model.json");
    let out = veil(&[
        "cryptorec",
        "train",
        "--dim",
        "8",
        "--epochs",
        "5",
        "--out",
        model.to_str().unwrap(),
    ]);
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
    // Bad inputs: unknown item, bad rating, empty file, missing model.
    for (body, why) in [
        ("99999,3\n", "unknown item"),
        ("1,x\n", "expected a rating"),
        ("#\n", "no ratings"),
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

#[test]
fn eval_prints_the_tables_and_bad_data_fails_with_a_line_number() {
    let out = veil(&[
        "cryptorec",
        "eval",
        "--repeats",
        "1",
        "--dim",
        "8",
        "--no-baselines",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for want in [
        "CryptoRec-f",
        "CryptoRec-a(1)",
        "pruning ratio",
        "reuse ratio",
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
