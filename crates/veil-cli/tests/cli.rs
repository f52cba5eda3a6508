//! The `veil` binary: round trips, the demo, and clean failures on bad files.
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

#[test]
fn demo_runs_and_checks_itself() {
    let out = veil(&["demo", "--bits", "1024"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("equal the quantized plaintext model's exactly: OK"),
        "{stdout}"
    );
    assert!(stdout.contains("of the top 10 agree"), "{stdout}");
}

#[test]
fn paillier_round_trip_and_errors() {
    let dir = scratch_dir("cli");
    let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    assert!(
        veil(&["paillier", "genpkey", "--keysize", "1024", &p("sk.json")])
            .status
            .success()
    );
    assert!(
        veil(&["paillier", "extract", &p("sk.json"), &p("pk.json")])
            .status
            .success()
    );
    assert!(
        veil(&[
            "paillier",
            "encrypt",
            &p("pk.json"),
            "-7.25",
            "--output",
            &p("c.json")
        ])
        .status
        .success()
    );
    assert!(
        veil(&[
            "paillier",
            "multiply",
            &p("pk.json"),
            &p("c.json"),
            "4",
            "--output",
            &p("d.json")
        ])
        .status
        .success()
    );
    let out = veil(&["paillier", "decrypt", &p("sk.json"), &p("d.json")]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "-29.0\n");

    // A key smaller than 1024 bits, a missing file, junk JSON, a key file given as ciphertext:
    // each fails with exit code 1 and a one-line error, never a panic.
    std::fs::write(p("junk.json"), "{\"v\": \"12x\", \"e\": 0}").unwrap();
    for args in [
        vec!["paillier", "genpkey", "--keysize", "512", &p("small.json")],
        vec!["paillier", "decrypt", &p("sk.json"), &p("missing.json")],
        vec!["paillier", "decrypt", &p("sk.json"), &p("junk.json")],
        vec!["paillier", "decrypt", &p("sk.json"), &p("pk.json")],
        vec!["paillier", "encrypt", &p("pk.json"), "abc"],
        vec!["paillier", "encrypt", &p("c.json"), "1"],
    ] {
        let out = veil(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // 2: refused by the argument parser (the key size, since it is range-checked there).
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.starts_with("error: ") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `veil demo | head -1`: the reader goes away after one line; veil must stop quietly, not
/// panic (exit 101, "failed printing to stdout").
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_veil"))
        .args(["demo", "--bits", "1024", "--dim", "4", "--epochs", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("Veil demo"), "{first}");
    // The reader is dropped here: every later write of the demo meets a closed pipe.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error"),
        "{stderr}"
    );
}

/// Every failure, whether clap's or veil's, is one `error: ` line style, exit code 1 or 2, and
/// numeric options are refused before any work starts.
#[test]
fn bad_options_fail_fast_in_one_error_style() {
    for args in [
        vec!["demo", "--bits", "1023"],
        vec!["demo", "--top", "0"],
        vec!["demo", "--dim", "0"],
        vec!["cryptorec", "train", "--epochs", "0", "--out", "m.json"],
        vec!["cryptorec", "eval", "--repeats", "0"],
        vec!["cryptorec", "eval", "--scale", "5:1"],
        vec!["rtas", "launch", "--batch", "0"],
        vec!["rtas", "launch", "--test", "0"],
        vec!["rtas", "launch", "--lr", "-1"],
        vec!["rtas", "launch", "--deadline", "0"],
        vec!["paillier", "genpkey", "--keysize", "1023", "k.json"],
        vec!["nonsense"],
    ] {
        let t = std::time::Instant::now();
        let out = veil(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("Error:"), "{args:?}: {stderr}");
        // Refused at parsing: no training, no key generation.
        assert!(
            t.elapsed().as_secs_f64() < 2.0,
            "{args:?} took {:?}",
            t.elapsed()
        );
        assert!(out.stdout.is_empty(), "{args:?} printed output");
    }
}

#[test]
fn private_keys_are_0600_and_never_overwritten_without_force() {
    let dir = scratch_dir("keys");
    let key = dir.join("private.json");
    let k = key.to_str().unwrap();
    std::fs::write(&key, "precious").unwrap();
    let out = veil(&["paillier", "genpkey", "--keysize", "1024", k]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), "precious");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = veil(&["paillier", "genpkey", "--keysize", "1024", "--force", k]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read_to_string(&key).unwrap().contains("\"kty\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "mode {mode:o}");
        let fresh = dir.join("fresh.json");
        veil(&[
            "paillier",
            "genpkey",
            "--keysize",
            "1024",
            fresh.to_str().unwrap(),
        ]);
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "mode {mode:o}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn decrypting_with_another_key_says_so() {
    let dir = scratch_dir("wrong-key");
    let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    for (name, bits) in [("big.json", "2048"), ("small.json", "1024")] {
        let out = veil(&["paillier", "genpkey", "--keysize", bits, &p(name)]);
        assert!(out.status.success());
        veil(&["paillier", "extract", &p(name), &p(&format!("pub-{name}"))]);
        let out = veil(&[
            "paillier",
            "encrypt",
            &p(&format!("pub-{name}")),
            "3",
            "--output",
            &p(&format!("c-{name}")),
        ]);
        assert!(out.status.success());
    }
    // A 2048-bit key's ciphertext is out of a 1024-bit key's range: always refused, and the
    // message must name the likely cause rather than quote the range check alone.
    let out = veil(&["paillier", "decrypt", &p("small.json"), &p("c-big.json")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("another key"),
        "{stderr}"
    );
    // The other way round the value is in range and decrypts to junk: an error must say so too.
    let out = veil(&["paillier", "decrypt", &p("big.json"), &p("c-small.json")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        assert!(stderr.contains("another key"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_for_three_shells() {
    for (shell, want) in [
        ("bash", "_veil()"),
        ("zsh", "#compdef veil"),
        ("fish", "complete -c veil"),
    ] {
        let out = veil(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(want), "{shell}: {script:.200}");
        assert!(script.contains("cryptorec"), "{shell}");
    }
}

/// `demo --json`: one JSON document with scores on the scale; progress lines on stderr when it is
/// not a terminal (the randomness pool took seconds of silence before).
#[test]
fn demo_json_and_progress_lines() {
    let out = veil(&[
        "demo", "--bits", "1024", "--dim", "4", "--epochs", "3", "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for stage in [
        "veil: training",
        "veil: client: precomputing 1682",
        "veil: server:",
    ] {
        assert!(stderr.contains(stage), "{stage} missing: {stderr}");
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scale"], serde_json::json!([1.0, 5.0]));
    assert!(v["rated_items_excluded"].as_u64().unwrap() > 0);
    let top = v["top"].as_array().unwrap();
    assert_eq!(top.len(), 10);
    assert!(
        top.iter()
            .all(|t| (1.0..=5.0).contains(&t["score"].as_f64().unwrap()))
    );
    assert!(v["test_rmse"].as_f64().unwrap() > 0.0);
}
