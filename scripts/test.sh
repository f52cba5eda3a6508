#!/usr/bin/env bash
# The README's second command (and what CI runs): install what is needed, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --peers
export VEIL_PHEUTIL="$PWD/.peers/bin/pheutil"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings
cargo test --workspace --release
# veil-ring's scalar reference path, as on a CPU without AVX-512 (the vector kernels are chosen at
# run time; VEIL_RING_ISA caps the choice).
VEIL_RING_ISA=scalar cargo test --release -p veil-ring -p veil-bfv
RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps --workspace
# The fuzz targets live outside the workspace; make sure they still compile.
if [ -f fuzz/Cargo.toml ]; then
    cargo check -q --manifest-path fuzz/Cargo.toml
fi
echo "scripts/test.sh: all tests passed"
