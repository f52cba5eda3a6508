#!/bin/sh
# Veil and TenSEAL on the same trained network and the same standardised test rows, inside one
# script run, alternating (veil, TenSEAL, veil, TenSEAL) so that both see the same machine load.
#
# Usage (from the repository root, after `cargo build --release -p veil-cli`):
#   crates/veil-reacthe/scripts/side_by_side.sh [DATA] [ROUNDS]
# DATA: breast_cancer | diabetes | digits (default digits); ROUNDS: default 2.
# Needs .peers/bin/python with TenSEAL (see tenseal_peer.py).
set -eu
data=${1:-digits}
rounds=${2:-2}
veil=${VEIL:-target/release/veil}
python=${PEER_PYTHON:-.peers/bin/python}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$veil" reacthe train --data "$data" --out "$dir/model.json" --export-test "$dir/test.csv" > "$dir/train.txt"
i=1
while [ "$i" -le "$rounds" ]; do
    v=$("$veil" reacthe infer --data "$data" --model "$dir/model.json" | grep '^| [0-9]')
    t=$("$python" crates/veil-reacthe/scripts/tenseal_peer.py "$dir/model.json" "$dir/test.csv")
    veil_s=$(echo "$v" | awk -F'|' '{gsub(/ /, "", $4); print $4}')
    veil_cpu=$(echo "$v" | awk -F'|' '{gsub(/ /, "", $5); print $5}')
    veil_err=$(echo "$v" | awk -F'|' '{gsub(/ /, "", $9); print $9}')
    veil_flip=$(echo "$v" | awk -F'|' '{gsub(/ /, "", $11); print $11}')
    ts_s=$(echo "$t" | sed -n 's/.*server \([0-9.]*\) s.*/\1/p')
    ts_err=$(echo "$t" | sed -n 's/.*max err \([^,]*\),.*/\1/p')
    ts_flip=$(echo "$t" | sed -n 's/.*flipped \([0-9/]*\).*/\1/p')
    ratio=$(awk "BEGIN { printf \"%.3f\", $veil_s / $ts_s }")
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "| $i | $veil_s | $veil_cpu | $veil_err | $veil_flip | $ts_s | $ts_err | $ts_flip | $ratio | $load |"
    i=$((i + 1))
done
