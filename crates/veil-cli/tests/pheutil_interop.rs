//! `veil paillier` and python-paillier's `pheutil` read each other's files: every command of
//! one tool is applied to files made by the other, and both print the same decryptions.
//! Needs `pheutil` (`$VEIL_PHEUTIL`, or `.peers/bin/pheutil` at the workspace root); skipped with a
//! printed reason when it is absent. `.ci/run` installs it.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::scratch_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pheutil() -> Option<PathBuf> {
    let candidate = std::env::var_os("VEIL_PHEUTIL")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".peers/bin/pheutil"));
    candidate.exists().then_some(candidate)
}

/// Runs a tool; `args` may contain a plaintext after `--`.
fn run(tool: &Path, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        tool.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

struct Tool {
    exe: PathBuf,
    /// `veil` needs the `paillier` subcommand prefix.
    prefix: Vec<&'static str>,
}

impl Tool {
    fn cmd(&self, args: &[&str]) -> String {
        let mut all: Vec<&str> = self.prefix.clone();
        all.extend_from_slice(args);
        run(&self.exe, &all)
    }
    /// `<cmd> --output OUT <files...> -- <plaintext>`: the form both tools accept for negatives.
    fn with_plain(&self, cmd: &str, out: &Path, files: &[&Path], plaintext: &str) {
        let mut args = vec![cmd, "--output", out.to_str().unwrap()];
        args.extend(files.iter().map(|f| f.to_str().unwrap()));
        args.extend(["--", plaintext]);
        self.cmd(&args);
    }
    fn decrypt(&self, private: &Path, ct: &Path) -> String {
        self.cmd(&["decrypt", private.to_str().unwrap(), ct.to_str().unwrap()])
    }
}

#[test]
fn every_command_reads_the_other_tools_files() {
    let Some(phe_exe) = pheutil() else {
        eprintln!(
            "SKIPPED: pheutil not found (set VEIL_PHEUTIL or run: python3 -m venv .peers && .peers/bin/pip install phe gmpy2 click)"
        );
        return;
    };
    let phe = Tool {
        exe: phe_exe,
        prefix: vec![],
    };
    let veil = Tool {
        exe: PathBuf::from(env!("CARGO_BIN_EXE_veil")),
        prefix: vec!["paillier"],
    };
    let dir = scratch_dir("interop");
    let f = |name: &str| dir.join(name);

    // One key pair made by each tool; every check runs under both.
    for (keymaker, tag) in [(&phe, "phe"), (&veil, "veil")] {
        let (private, public) = (
            f(&format!("{tag}-private.json")),
            f(&format!("{tag}-public.json")),
        );
        keymaker.cmd(&["genpkey", "--keysize", "1024", private.to_str().unwrap()]);
        keymaker.cmd(&[
            "extract",
            private.to_str().unwrap(),
            public.to_str().unwrap(),
        ]);
        for (a, b, dir_tag) in [(&phe, &veil, "phe->veil"), (&veil, &phe, "veil->phe")] {
            for (x, y) in [("42", "-2.5"), ("3.14159", "1e-10"), ("-123456789", "0.5")] {
                let (ex, ey) = (f("ex.json"), f("ey.json"));
                a.with_plain("encrypt", &ex, &[&public], x);
                a.with_plain("encrypt", &ey, &[&public], y);
                // encrypt by a, decrypt by b (and a agrees).
                assert_eq!(
                    b.decrypt(&private, &ex),
                    a.decrypt(&private, &ex),
                    "{tag} key, {dir_tag}: encrypt {x}"
                );
                // addenc, add, multiply by b on a's ciphertexts; both decrypt identically.
                let out = f("out.json");
                b.cmd(&[
                    "addenc",
                    "--output",
                    out.to_str().unwrap(),
                    public.to_str().unwrap(),
                    ex.to_str().unwrap(),
                    ey.to_str().unwrap(),
                ]);
                let sum = a.decrypt(&private, &out);
                assert_eq!(
                    sum,
                    b.decrypt(&private, &out),
                    "{tag} key, {dir_tag}: addenc {x} {y}"
                );
                b.with_plain("add", &out, &[&public, &ex], y);
                assert_eq!(
                    a.decrypt(&private, &out),
                    sum,
                    "{tag} key, {dir_tag}: add {x} {y}"
                );
                b.with_plain("multiply", &out, &[&public, &ex], y);
                let product = a.decrypt(&private, &out);
                assert_eq!(
                    product,
                    b.decrypt(&private, &out),
                    "{tag} key, {dir_tag}: multiply {x} {y}"
                );
                let expected = x.parse::<f64>().unwrap() * y.parse::<f64>().unwrap();
                assert!(
                    (product.parse::<f64>().unwrap() - expected).abs()
                        <= 1e-9 * expected.abs().max(1.0),
                    "{product} vs {expected}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
