//! `veil cryptorec serve` and `veil cryptorec query` as two processes on loopback (the crate
//! README's commands) for the fast mode over Paillier and BFV and the accurate mode over CKKS,
//! checked against the model in the clear; short `loadtest`s; the combinations not offered.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::scratch_dir;
use serde_json::json;
use veil_cryptorec::finetune::FineTune;
use veil_cryptorec::model::{Model, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_cryptorec::topn::top_items;

fn veil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_veil"))
}

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A 30-item, d = 3 model from a fixed formula (through the model file format).
fn model() -> Model {
    model_of(30, 3)
}

/// An m-item, dimension-d model from a fixed formula.
fn model_of(m: usize, d: usize) -> Model {
    let w = |i: usize, c: usize, k: usize| ((i * 7 + c * 3 + k * 5) % 13) as f32 / 65.0 - 0.1;
    let matrix = |k: usize| {
        let data: Vec<f32> = (0..m)
            .flat_map(|i| (0..d).map(move |c| w(i, c, k)))
            .collect();
        json!({"v": 1, "dim": [m, d], "data": data})
    };
    let bias: Vec<f32> = (0..m).map(|i| ((i % 5) as f32 - 2.0) * 0.15).collect();
    let text = json!({
        "format": "veil-cryptorec-model/1", "mu": 3.5,
        "item_bias": {"v": 1, "dim": [m], "data": bias},
        "a": matrix(1), "q": matrix(2), "scale": [1.0, 5.0], "input_norm": 0.5,
    });
    Model::from_json(&text.to_string()).unwrap()
}

/// Lattice settings of the tests: N = 1024, below 128-bit security (fast; tests only).
const SMALL_LATTICE: [&str; 3] = ["--lattice-degree", "1024", "--allow-below-128-bit-security"];

/// Starts `serve` on a free port offering the fast modes over Paillier and BFV; returns the
/// process and its address.
fn serve(model_path: &str) -> (Serving, String) {
    serve_with(model_path, &["--offer", "paillier,bfv"])
}

fn serve_with(model_path: &str, extra: &[&str]) -> (Serving, String) {
    let mut child = veil()
        .args([
            "cryptorec",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--min-key-bits",
            "1024",
        ])
        .args(SMALL_LATTICE)
        .args(extra)
        .args(["--model", model_path])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    (Serving(child), addr)
}

#[test]
fn serve_and_query_as_two_processes() {
    let dir = scratch_dir("cryptorec-serve");
    let m = model();
    let path = dir.join("model.json");
    // Items named 100, 101, ... as a data set would.
    let ids: Vec<u64> = (100..130).collect();
    m.save(&path, &ids).unwrap();
    let (_server, addr) = serve(path.to_str().unwrap());
    let ratings = dir.join("me.csv");
    std::fs::write(&ratings, "# item,rating\n101,5\n104,1\n120,4\n").unwrap();
    let out = veil()
        .args([
            "cryptorec",
            "query",
            "--server",
            &addr,
            "--bits",
            "1024",
            "--json",
        ])
        .args(["--top", "5", "--ratings", ratings.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The same list from the quantized model in the clear.
    let q = QuantizedModel::new(&m, &QuantConfig::default()).unwrap();
    let user = UserRatings {
        items: vec![1, 4, 20],
        values: vec![5.0, 1.0, 4.0],
    };
    let plain = q.predict(&user).unwrap();
    let expected: Vec<u64> = top_items(&plain, &user.items, 5)
        .iter()
        .map(|&i| ids[i])
        .collect();
    let got: Vec<u64> = v["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["item"].as_u64().unwrap())
        .collect();
    assert_eq!(got, expected);
    for (e, &i) in v["top"].as_array().unwrap().iter().zip(&expected) {
        let want = m.scale.clamp(plain[(i - 100) as usize]);
        assert!((e["score"].as_f64().unwrap() - f64::from(want)).abs() < 1e-5);
    }

    // The fast mode over BFV: the same list, and every score equal to the integer model's.
    let out = query(&addr, &ratings, &["--scheme", "bfv"]);
    assert_eq!(out["scheme"], "bfv");
    let got: Vec<u64> = out["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["item"].as_u64().unwrap())
        .collect();
    assert_eq!(got, expected);
    let scores: Vec<f32> = out["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(scores, plain, "BFV scores differ from predict_integers'");
    assert!(out["bytes"]["keys"].as_u64().unwrap() > 100_000);

    // Not offered by this server, or by this build: a clear refusal, no answer.
    for (args, says) in [
        (&["--mode", "accurate"][..], "does not offer"),
        (
            &["--mode", "accurate", "--scheme", "bfv"][..],
            "does not offer",
        ),
        (
            &["--scheme", "ckks"][..],
            "fast mode runs over paillier or bfv",
        ),
    ] {
        let out = veil()
            .args(["cryptorec", "query", "--server", &addr])
            .args(args)
            .args(["--ratings", ratings.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

/// `veil cryptorec query --json` with `extra` arguments; its JSON output.
fn query(addr: &str, ratings: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let out = veil()
        .args(["cryptorec", "query", "--server", addr, "--json"])
        .args(["--allow-below-128-bit-security", "--top", "5"])
        .args(extra)
        .args(["--ratings", ratings.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn accurate_mode_over_exact_bfv_as_two_processes() {
    let dir = scratch_dir("cryptorec-serve-accurate-bfv");
    let m = model_of(40, 6);
    let path = dir.join("model.json");
    m.save(&path, &[]).unwrap();
    let (_server, addr) = serve_with(
        path.to_str().unwrap(),
        &["--offer", "accurate-bfv", "--lambda", "0.05"],
    );
    let ratings = dir.join("me.csv");
    std::fs::write(&ratings, "1,5\n4,1\n20,4\n33,2\n").unwrap();
    let out = query(&addr, &ratings, &["--mode", "accurate", "--scheme", "bfv"]);
    assert_eq!(out["scheme"], "bfv");
    let user = UserRatings {
        items: vec![1, 4, 20, 33],
        values: vec![5.0, 1.0, 4.0, 2.0],
    };
    let plain = m.fine_tune(&user, &FineTune::one_step(0.05)).predictions;
    let worst = out["scores"]
        .as_array()
        .unwrap()
        .iter()
        .zip(plain.iter())
        .map(|(a, &b)| (a.as_f64().unwrap() - f64::from(b)).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 2e-3,
        "exact accurate mode off the float step by {worst}"
    );
}

#[test]
fn accurate_mode_over_ckks_as_two_processes() {
    let dir = scratch_dir("cryptorec-serve-accurate");
    let m = model_of(40, 6);
    let path = dir.join("model.json");
    m.save(&path, &[]).unwrap();
    let (_server, addr) = serve_with(
        path.to_str().unwrap(),
        &["--offer", "accurate", "--lambda", "0.05"],
    );
    let ratings = dir.join("me.csv");
    std::fs::write(&ratings, "1,5\n4,1\n20,4\n33,2\n").unwrap();
    let out = query(&addr, &ratings, &["--mode", "accurate"]);
    assert_eq!(out["scheme"], "ckks");
    let scores: Vec<f64> = out["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let user = UserRatings {
        items: vec![1, 4, 20, 33],
        values: vec![5.0, 1.0, 4.0, 2.0],
    };
    let plain = m.fine_tune(&user, &FineTune::one_step(0.05)).predictions;
    let fast = m.predict(&user);
    let worst = scores
        .iter()
        .zip(plain.iter())
        .map(|(a, &b)| (a - f64::from(b)).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 1e-3,
        "accurate mode off the plaintext step by {worst}"
    );
    // The step moved the predictions, so the check tests the step.
    let moved = plain
        .iter()
        .zip(fast.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0_f32, f32::max);
    assert!(moved > 1e-3, "{moved}");
}

#[test]
fn short_loadtest_checks_every_answer() {
    let dir = scratch_dir("cryptorec-load");
    let path = dir.join("model.json");
    model().save(&path, &[]).unwrap();
    let out = veil()
        .args([
            "cryptorec",
            "loadtest",
            "--clients",
            "4",
            "--seconds",
            "2",
            "--bits",
            "1024",
        ])
        .args([
            "--keys",
            "2",
            "--single",
            "2",
            "--json",
            "--model",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["answers"].as_u64().unwrap() > 0);
    assert_eq!(v["wrong"], 0);
    assert_eq!(v["lost"], 0);
    assert!(v["rss_kib"]["max"].as_u64().unwrap() > 0);
}

#[test]
fn short_bfv_loadtest_checks_every_answer() {
    let out = veil()
        .args([
            "cryptorec",
            "loadtest",
            "--synthetic",
            "120x12",
            "--scheme",
            "bfv",
        ])
        .args(SMALL_LATTICE)
        .args(["--clients", "32", "--seconds", "2", "--keys", "2"])
        .args(["--single", "2", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["answers"].as_u64().unwrap() > 0);
    assert_eq!(v["wrong"], 0);
    assert_eq!(v["lost"], 0);
    assert_eq!(v["keys"]["sets"], 2);
    assert_eq!(v["keys"]["re_uploads_in_window"], 0);
    assert_eq!(v["items"], 120);
}
