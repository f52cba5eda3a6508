//! `veil rtas`: three real processes over loopback TCP (the launcher, and parties started one by
//! one), a party killed mid-run, and clear errors for missing data.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn veil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_veil"))
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn launcher_runs_three_processes_and_prints_a_table() {
    let out = veil()
        .args(["rtas", "launch", "--model", "lr", "--mode", "rtas"])
        .args(["--synthetic-mnist", "96", "--test", "32", "--epochs", "1"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for role in ["P0", "P1", "P2"] {
        assert!(stdout.contains(&format!("| {role} |")), "{stdout}");
    }
    // The parties' machine-readable lines stay out of the readable output ...
    assert!(!stdout.contains("VEIL-RTAS-REPORT"), "{stdout}");
    // ... and come as one JSON document with --json.
    let out = veil()
        .args([
            "rtas", "launch", "--model", "lr", "--mode", "rtas", "--json",
        ])
        .args(["--synthetic-mnist", "96", "--test", "32", "--epochs", "1"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let reports = doc["parties"].as_array().unwrap();
    // Three steps of batch 32; every party sent something.
    assert_eq!(reports.len(), 3);
    assert_eq!(reports[0]["steps"], 3);
    assert!(
        reports
            .iter()
            .all(|r| r["bytes_sent"].as_u64().unwrap() > 0)
    );
}

#[test]
fn launcher_trains_on_digits_when_present() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sklearn/digits.csv");
    if !path.exists() {
        eprintln!("skipped: {} is absent", path.display());
        return;
    }
    let out = veil()
        .args([
            "rtas", "launch", "--model", "cnn", "--mode", "fast", "--epochs", "3",
        ])
        .arg("--data")
        .arg(&path)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("P0: test accuracy"), "{stdout}");
}

#[test]
fn missing_data_is_a_clear_error() {
    let out = veil()
        .args(["rtas", "launch", "--data", "/nonexistent/digits.csv"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--data") && stderr.contains("--synthetic-mnist"),
        "{stderr}"
    );
}

fn free_addrs() -> String {
    let ls: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    ls.iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A fresh folder with keys for the three parties (`veil rtas keygen`).
fn key_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("veil-rtas-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = veil()
        .args(["rtas", "keygen", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    dir
}

fn key_args(dir: &std::path::Path, role: &str) -> Vec<String> {
    let p = |f: String| dir.join(f).display().to_string();
    vec![
        "--key".into(),
        p(format!("{role}.key")),
        "--peer-keys".into(),
        ["p0", "p1", "p2"].map(|r| p(format!("{r}.pub"))).join(","),
    ]
}

fn start(role: &str, addrs: &str, keys: &std::path::Path) -> Child {
    veil()
        .args(["rtas", "party", "--role", role, "--addrs", addrs])
        .args(key_args(keys, role))
        .args([
            "--model",
            "lr",
            "--mode",
            "rtas",
            "--synthetic-mnist",
            "2048",
        ])
        .args(["--test", "32", "--epochs", "1000", "--timeout", "10"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` to exit, at most `limit`; returns its output and the time it took.
fn wait_limited(mut child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), start.elapsed());
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killing_a_party_stops_the_others_with_a_clear_error() {
    let addrs = free_addrs();
    let keys = key_dir("kill");
    let p2 = start("p2", &addrs, &keys);
    let mut p1 = start("p1", &addrs, &keys);
    let p0 = start("p0", &addrs, &keys);
    // Let them connect and train for a while, then kill P1 mid-run.
    thread::sleep(Duration::from_millis(1500));
    assert!(p1.try_wait().unwrap().is_none(), "P1 ended early");
    p1.kill().unwrap();
    let _ = p1.wait();
    for (name, child) in [("P0", p0), ("P2", p2)] {
        let (out, took) = wait_limited(child, Duration::from_secs(30));
        let (_, stderr) = text(&out);
        assert!(!out.status.success(), "{name} succeeded without P1");
        assert!(
            stderr.contains("P1"),
            "{name} should name the party that went away: {stderr}"
        );
        println!("{name} stopped after {took:?}: {}", stderr.trim());
    }
}

/// Settings that cannot run are refused by the launcher itself, before any party starts, with
/// the cause as the headline.
#[test]
fn impossible_settings_are_refused_before_launch() {
    let out = veil()
        .args(["rtas", "launch", "--synthetic-mnist", "96", "--test", "32"])
        .args(["--batch", "5000"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.starts_with("error: --batch 5000 exceeds the 96 training images"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("P2") && stdout.is_empty(),
        "{stdout}\n{stderr}"
    );
}

/// A run stopped at the deadline says so, without empty per-party lines.
#[test]
fn the_deadline_message_is_clear() {
    let out = veil()
        .args([
            "rtas",
            "launch",
            "--synthetic-mnist",
            "2048",
            "--test",
            "32",
        ])
        .args(["--epochs", "1000", "--deadline", "1"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: the parties did not finish within the --deadline of 1 s"),
        "{stderr}"
    );
    for line in stderr.lines().skip(1) {
        let rest = line.split_once(':').map_or("", |(_, r)| r).trim();
        assert!(
            !rest.is_empty() && rest != "error:",
            "empty party line in {stderr}"
        );
    }
}

/// The default digits path is found from any working directory below the data's parent, and
/// from the executable's location (not only from the repository root).
#[test]
fn default_data_is_found_outside_the_repository_root() {
    let digits =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sklearn/digits.csv");
    if !digits.exists() {
        eprintln!("skipped: {} is absent", digits.display());
        return;
    }
    let out = veil()
        .current_dir(std::env::temp_dir())
        .args(["rtas", "launch", "--model", "lr", "--epochs", "1"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("P0: test accuracy"), "{stdout}");
}

/// A party needs keys unless told to run in plaintext; `keygen` never overwrites a key; a party
/// whose peer holds a different key is refused at the handshake.
#[test]
fn keys_are_required_and_checked() {
    let addrs = free_addrs();
    let out = veil()
        .args(["rtas", "party", "--role", "p2", "--addrs", &addrs])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--key") || stderr.contains("--insecure-plaintext"),
        "{stderr}"
    );

    let keys = key_dir("checked");
    let again = veil()
        .args(["rtas", "keygen", "--role", "p0", "--out"])
        .arg(&keys)
        .output()
        .unwrap();
    assert!(!again.status.success(), "overwrote a key");

    // P1 with keys from another folder: P0 and P2 must refuse it.
    let other = key_dir("other");
    let p2 = start("p2", &addrs, &keys);
    let p0 = start("p0", &addrs, &keys);
    let p1 = start("p1", &addrs, &other);
    for (name, child) in [("P0", p0), ("P1", p1), ("P2", p2)] {
        let (out, _) = wait_limited(child, Duration::from_secs(40));
        assert!(!out.status.success(), "{name} ran with a wrong key");
    }
    let _ = std::fs::remove_dir_all(&keys);
    let _ = std::fs::remove_dir_all(&other);
}
