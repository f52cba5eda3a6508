#!/usr/bin/env bash
# Regenerate the python-paillier `pheutil` interop fixtures used by the
# veil-paillier tests (crates/veil-paillier/tests/data/pheutil/).
#
# Run from the repository root:
#
#   python3 -m venv .peers && .peers/bin/pip install phe gmpy2 click
#   scripts/make_pheutil_fixtures.sh
#
# Environment:
#   PHEUTIL       pheutil executable      (default: .peers/bin/pheutil)
#   PHE_PYTHON    python that has `phe`   (default: interpreter from pheutil's shebang)
#   FIXTURE_DATE  date written to README  (default: today, UTC, YYYY-MM-DD)
#
# Every run makes a NEW throwaway 2048-bit key and new (randomised)
# ciphertexts, so the files change on each run; only the decrypted values in
# manifest.json are stable.
set -euo pipefail

PHEUTIL="${PHEUTIL:-.peers/bin/pheutil}"
OUT="crates/veil-paillier/tests/data/pheutil"

if [[ ! -f Cargo.toml || ! -d crates/veil-paillier ]]; then
    echo "error: run this script from the repository root" >&2
    exit 1
fi
if ! PHEUTIL_PATH="$(command -v "$PHEUTIL")"; then
    echo "error: pheutil not found at '$PHEUTIL' (set PHEUTIL=...)" >&2
    exit 1
fi
# absolute path, since the script cd's into the output folder below
PHEUTIL_PATH="$(cd "$(dirname "$PHEUTIL_PATH")" && pwd)/$(basename "$PHEUTIL_PATH")"
if [[ -z "${PHE_PYTHON:-}" ]]; then
    PHE_PYTHON="$(head -n1 "$PHEUTIL_PATH" | sed -n 's/^#![[:space:]]*//p')"
    [[ -n "$PHE_PYTHON" ]] || PHE_PYTHON=python3
fi
PHE_VERSION="$("$PHE_PYTHON" -c 'import phe; print(phe.__version__)')"
GMPY2_VERSION="$("$PHE_PYTHON" -c 'import gmpy2; print(gmpy2.version())' 2>/dev/null || echo 'not installed')"
CLICK_VERSION="$("$PHE_PYTHON" -c 'import importlib.metadata as m; print(m.version("click"))')"
PHEUTIL_VERSION="$("$PHEUTIL_PATH" --version)"
FIXTURE_DATE="${FIXTURE_DATE:-$(date -u +%F)}"

mkdir -p "$OUT"
rm -f "$OUT"/*.json
cd "$OUT"

ph() { "$PHEUTIL_PATH" "$@"; }

echo "== key (2048 bits)" >&2
ph genpkey --keysize 2048 private.json
ph extract private.json public.json

# manifest entries, in creation order: "file<TAB>op"
MANIFEST_ROWS=()

# encrypt FILE VALUE  -- OPTIONS must come before `--`; `--` protects negative values.
enc() {
    local file="$1" value="$2"
    ph encrypt --output "$file" public.json -- "$value"
    MANIFEST_ROWS+=("$file"$'\t'"encrypt $value")
}
# add FILE ENC_FILE PLAINTEXT
add() {
    local file="$1" enc_file="$2" value="$3"
    ph add --output "$file" public.json "$enc_file" -- "$value"
    MANIFEST_ROWS+=("$file"$'\t'"add $enc_file $value")
}
# mul FILE ENC_FILE PLAINTEXT
mul() {
    local file="$1" enc_file="$2" value="$3"
    ph multiply --output "$file" public.json "$enc_file" -- "$value"
    MANIFEST_ROWS+=("$file"$'\t'"multiply $enc_file $value")
}
# addenc FILE ENC_A ENC_B
addenc() {
    local file="$1" a="$2" b="$3"
    ph addenc --output "$file" public.json "$a" "$b"
    MANIFEST_ROWS+=("$file"$'\t'"addenc $a $b")
}

echo "== encrypt" >&2
enc enc_0.json                0
enc enc_1.json                1
enc enc_m1.json               -1
enc enc_42.json               42
enc enc_m123456789.json       -123456789
enc enc_9007199254740993.json 9007199254740993
enc enc_3_14159.json          3.14159
enc enc_m2_5.json             -2.5
enc enc_1em10.json            1e-10
enc enc_123456_789.json       123456.789

echo "== homomorphic ops" >&2
addenc addenc_42_m1.json        enc_42.json      enc_m1.json
add    add_42_8.json            enc_42.json      8
add    add_3_14159_m1_25.json   enc_3_14159.json -1.25
mul    mul_42_3.json            enc_42.json      3
mul    mul_m2_5_m4.json         enc_m2_5.json    -4
mul    mul_42_0_5.json          enc_42.json      0.5

echo "== decrypt -> manifest.json" >&2
ROWS_WITH_PLAIN=()
for row in "${MANIFEST_ROWS[@]}"; do
    file="${row%%$'\t'*}"
    plain="$(ph decrypt private.json "$file")"
    ROWS_WITH_PLAIN+=("$row"$'\t'"$plain")
done

"$PHE_PYTHON" - "${ROWS_WITH_PLAIN[@]}" > manifest.json <<'PY'
import json, sys
entries = []
for row in sys.argv[1:]:
    file, op, decrypted = row.split("\t")
    entries.append({"file": file, "op": op, "decrypted": decrypted})
json.dump(entries, sys.stdout, indent=2)
sys.stdout.write("\n")
PY

cat > README.md <<EOF
# pheutil interop fixtures

Test data for interoperability between \`veil-paillier\` and python-paillier's
\`pheutil\` command-line tool. **\`private.json\` is a throwaway test key**
generated only for these fixtures: it protects nothing and must never be used
for anything else.

Produced on ${FIXTURE_DATE} by running, from the repository root:

    python3 -m venv .peers && .peers/bin/pip install phe gmpy2 click
    scripts/make_pheutil_fixtures.sh

with phe ${PHE_VERSION}, gmpy2 ${GMPY2_VERSION}, click ${CLICK_VERSION}
(\`pheutil --version\`: "${PHEUTIL_VERSION}").

- \`private.json\`: \`pheutil genpkey --keysize 2048 private.json\`
- \`public.json\`: \`pheutil extract private.json public.json\`
- \`enc_*.json\`: \`pheutil encrypt --output FILE public.json -- VALUE\`
- \`addenc_*.json\`: \`pheutil addenc --output FILE public.json ENC_A ENC_B\`
- \`add_*.json\`: \`pheutil add --output FILE public.json ENC -- VALUE\`
- \`mul_*.json\`: \`pheutil multiply --output FILE public.json ENC -- VALUE\`
- \`manifest.json\`: for every ciphertext file, how it was made (\`op\`) and the
  exact stdout of \`pheutil decrypt private.json FILE\` without its trailing
  newline (\`decrypted\`).

Note that \`pheutil\` parses every plaintext with Python's \`float()\`, so
\`9007199254740993\` (2^53+1) is encrypted as 9007199254740992.0, and every
decryption prints a Python float (e.g. \`42.0\`).

Re-running the script makes a new key and new ciphertexts (encryption is
randomised); the \`decrypted\` values stay the same.
EOF

echo "== done: $(ls | wc -l) files in $OUT" >&2
