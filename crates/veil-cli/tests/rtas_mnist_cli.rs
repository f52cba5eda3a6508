//! `veil rtas launch --mnist DIR`: three processes on real MNIST (a short run on 1,000 training
//! images when `../shared/data/mnist` is present), per-epoch accuracy in the report, and clear
//! errors for a directory without IDX files.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn veil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_veil"))
}

#[test]
fn launcher_trains_on_mnist_with_per_epoch_accuracy() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if !dir.join("t10k-images-idx3-ubyte.gz").exists() {
        eprintln!("skipped: no MNIST test set in {}", dir.display());
        return;
    }
    // --test 9000 leaves 1,000 of the 10,000 images for training: 31 steps per epoch.
    let out = veil()
        .args([
            "rtas", "launch", "--model", "lr", "--mode", "rtas", "--epochs", "2",
        ])
        .args(["--test", "9000", "--json", "--mnist"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let p0 = &v["parties"][0];
    assert_eq!(p0["role"], "P0");
    assert_eq!(p0["steps"], 62);
    let epochs: Vec<f64> = p0["epoch_accuracy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_f64().unwrap())
        .collect();
    assert_eq!(epochs.len(), 2);
    let last = p0["accuracy"].as_f64().unwrap();
    assert_eq!(epochs[1], last);
    // "Is it a 0" on 9,000 images: 90% by always answering "no"; training must do better.
    assert!(last > 0.92, "{last}");
}

#[test]
fn a_directory_without_mnist_is_a_clear_error() {
    let out = veil()
        .args(["rtas", "launch", "--mnist", "/nonexistent/mnist"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("t10k-images-idx3-ubyte"), "{stderr}");
    let out = veil()
        .args(["rtas", "launch", "--mnist", "/tmp", "--data", "/tmp/x.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}
