//! The README's "Using `veil`" commands, run as written (with `cargo run --release -p veil-cli --`
//! replaced by the built binary and `PATH` by `../shared/data/movielens-100k`), one after the
//! other in a scratch directory, so that the README cannot drift from the command line again.
//! A trailing `# prints X` comment is checked against the output. Lines that need data absent
//! from `../shared/data` are skipped with a printed reason.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::scratch_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

const PREFIX: &str = "cargo run --release -p veil-cli -- ";

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// The commands of the README's "Using `veil`" block, with their comments.
fn readme_commands() -> Vec<(String, Option<String>)> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme.split("## Using `veil`").nth(1).unwrap();
    let block = section.split("```").nth(1).unwrap();
    block
        .lines()
        .filter_map(|l| l.strip_prefix(PREFIX))
        .map(|l| match l.split_once('#') {
            Some((cmd, comment)) => (cmd.trim().to_owned(), Some(comment.trim().to_owned())),
            None => (l.trim().to_owned(), None),
        })
        .collect()
}

#[test]
fn the_readme_commands_work_as_written() {
    let commands = readme_commands();
    assert!(commands.len() >= 8, "README block not found: {commands:?}");
    let dir = scratch_dir("readme");
    let movielens = shared().join("movielens-100k");
    let digits = shared().join("sklearn/digits.csv");
    // The user's own ratings that `predict --ratings me.csv` reads (MovieLens item ids).
    std::fs::write(
        dir.join("me.csv"),
        "# item,rating\n1,5\n50,5\n181,4\n258,2\n",
    )
    .unwrap();
    let mut ran = 0;
    for (cmd, comment) in &commands {
        if cmd.contains("PATH/") && !movielens.join("u.data").exists() {
            println!("skipped (no {}): {cmd}", movielens.display());
            continue;
        }
        if cmd.contains("--model model.json") && !dir.join("model.json").exists() {
            println!("skipped (no model.json: the train line was skipped): {cmd}");
            continue;
        }
        if cmd.starts_with("rtas launch") && !cmd.contains("--data") && !digits.exists() {
            println!("skipped (no {}): {cmd}", digits.display());
            continue;
        }
        let args: Vec<String> = cmd
            .split_whitespace()
            .map(|a| a.replace("PATH/", &format!("{}/", movielens.display())))
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_veil"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "README command failed: veil {cmd}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(want) = comment.as_deref().and_then(|c| c.strip_prefix("prints ")) {
            assert_eq!(stdout.trim(), want, "veil {cmd}");
        }
        println!("ok: veil {cmd}");
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} README commands ran");
    let _ = std::fs::remove_dir_all(&dir);
}
