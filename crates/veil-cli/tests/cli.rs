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
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
