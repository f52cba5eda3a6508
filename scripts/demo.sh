#!/usr/bin/env bash
# The README's first command: install what is needed, then run `veil demo` on embedded data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo run --release -q -p veil-cli -- demo "$@"
