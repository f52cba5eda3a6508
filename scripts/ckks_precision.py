#!/usr/bin/env python3
"""Precision of Veil's CKKS against Microsoft SEAL's (through TenSEAL), on the same inputs and
parameters, in one invocation, as a Markdown table (issue 10, item 3).

    python3 scripts/ckks_precision.py [--n 8192 16384 32768] [--out docs/ckks-precision.md]

1. runs `cargo run --release -p veil-ckks --example precision -- --n N..` (JSON lines, "lib": "veil");
2. runs `tenseal_ckks_precision.py --n N..` with the Python of the `.peers` virtual environment
   (created, and TenSEAL installed, when missing);
3. writes, per N and stage (encode, encrypt, product, chebyshev), the mean and minimum precision
   in bits over the slots on both sides and their difference (Veil minus TenSEAL: positive means
   Veil is more precise), to --out.

--veil-json FILE / --tenseal-json FILE read a side's JSON lines from a file instead of running it
(the document then says so). Every JSON line: {"lib", "n", "log_q", "stage", "mean_bits", "min_bits"},
plus "depth" for chebyshev, or "error" instead of the figures. log_q (every prime, the special one
included) lets the document check that both sides used the same chain; TenSEAL runs on Veil's presets
(seal_ckks_bench.PRESETS) unless --chain N=q0,40xL,P says otherwise.

Python standard library only.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench_bfv_vs_seal import ensure_venv, peer_versions
from benchlib import REPO, log, machine_line, publish
from seal_ckks_bench import CHAIN_HELP, chain_args, chain_bits, chains, describe_chain, parse_chain

STAGES = ["encode", "encrypt", "product", "chebyshev"]
# A row comparing Veil's product with SEAL's own product precision (sealapi, exact scale).
EXACT_SCALE_ROW = ("product vs SEAL at its exact scale", "product", "product_exact_scale")
MEAN_TOLERANCE, MIN_TOLERANCE = 0.5, 1.0


def veil_command(ns):
    return ["cargo", "run", "--release", "-p", "veil-ckks", "--example", "precision", "--",
            "--n", *map(str, ns)]


def tenseal_command(python, script, ns, overrides):
    return [str(python), str(script), "--n", *map(str, ns), *chain_args(overrides)]


def parse_lines(text, lib):
    """{(n, stage): record} from the JSON lines of `lib` in text (other lines are skipped)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            r = json.loads(line)
        except ValueError:
            log(f"skipping a line that is not JSON: {line[:80]}")
            continue
        if r.get("lib") != lib or "n" not in r or "stage" not in r:
            continue
        out[(int(r["n"]), r["stage"])] = r
        log(f"  {lib} N={r['n']} {r['stage']}: " + ", ".join(f"{k}={v}" for k, v in r.items()
                                                             if k not in ("lib", "n", "stage")))
    return out


def collect(cmd, json_file, lib, source):
    """JSON lines of one side: from json_file when given, else from running cmd."""
    if json_file:
        source.append(f"{lib}: read from `{json_file}` (not produced by this run)")
        return parse_lines(Path(json_file).read_text(), lib)
    source.append(f"{lib}: `{' '.join(cmd)}`")
    log("$ " + " ".join(cmd))
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    sys.stderr.write(proc.stderr[-4000:])
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed with exit code {proc.returncode}")
    return parse_lines(proc.stdout, lib)


def bits(r, key):
    return None if r is None or key not in r else float(r[key])


def fmt_bits(x):
    return "—" if x is None else f"{x:.1f}"


def fmt_diff(a, b):
    return "—" if a is None or b is None else f"{a - b:+.1f}"


def verdict(v, t):
    figures = [bits(v, "mean_bits"), bits(t, "mean_bits"), bits(v, "min_bits"), bits(t, "min_bits")]
    if any(x is None for x in figures):
        return "n/a"
    vm, tm, vn, tn = figures
    return "yes" if vm >= tm - MEAN_TOLERANCE and vn >= tn - MIN_TOLERANCE else "**no**"


def cell_pair(r):
    if r is None:
        return "—", "—"
    if "error" in r:
        return f"error: {r['error']}", "—"
    return fmt_bits(bits(r, "mean_bits")), fmt_bits(bits(r, "min_bits"))


def table(veil, tenseal, n):
    lines = [
        "| stage | depth | Veil mean | Veil min | TenSEAL mean | TenSEAL min | Δ mean | Δ min | matched? |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    rows = [(s, s, s) for s in STAGES] + [EXACT_SCALE_ROW]
    tally = [0, 0]
    for label, veil_stage, peer_stage in rows:
        v, t = veil.get((n, veil_stage)), tenseal.get((n, peer_stage))
        depth = (v or {}).get("depth", (t or {}).get("depth", ""))
        ok = verdict(v, t)
        if ok != "n/a":
            tally[0] += ok == "yes"
            tally[1] += 1
        lines.append(f"| {label} | {depth} | {' | '.join(cell_pair(v))} | {' | '.join(cell_pair(t))} | "
                     f"{fmt_diff(bits(v, 'mean_bits'), bits(t, 'mean_bits'))} | "
                     f"{fmt_diff(bits(v, 'min_bits'), bits(t, 'min_bits'))} | {ok} |")
    return lines, tally


def drift_line(tenseal, n):
    r = tenseal.get((n, "scale_drift"))
    if not r or not r.get("log2_rel_offsets"):
        return None
    xs = r["log2_rel_offsets"]
    return (f"N = {n}: log2 |q_i / 2^40 - 1| of the rescaling primes, first rescaled first: "
            + ", ".join(f"{x:g}" for x in xs) + f" (worst {max(xs):g}).")


def chain_check(veil, tenseal, n):
    """A warning line when the two sides' log_q differ at degree n (or cannot be compared), else None."""
    def log_qs(side):
        return {r["log_q"] for (m, _), r in side.items() if m == n and "log_q" in r}
    v, t = log_qs(veil), log_qs(tenseal)
    if not v:
        return f"Veil's lines at N = {n} carry no log_q: the chains are not checked to be the same."
    if v != t:
        return f"**Parameters differ at N = {n}: Veil log_q {sorted(v)}, TenSEAL log_q {sorted(t)} (fix with --chain).**"
    return None


def document(args, veil, tenseal, versions, source, seconds):
    out = [
        "# CKKS precision: Veil vs Microsoft SEAL (through TenSEAL)", "",
        machine_line(versions), "",
        "Parameters (q_0 + rescaling primes + special prime; Veil's presets unless --chain says otherwise, "
        "checked against the log_q of Veil's lines): "
        + "; ".join(f"N = {n}: {describe_chain(chain_bits(n, chains(args.chain)))}" for n in args.n)
        + "; scale 2^40, N/2 real slots. Inputs, j < N/2: "
        "x_j = 0.9 cos(0.37 j), y_j = 0.9 sin(0.11 j + 0.5). Stages: encode (encode then decode x), "
        "encrypt (encrypt then decrypt x), product (x * y with relinearization and one rescale), "
        "chebyshev (T_1..T_(2^D - 1) of x, D = min(8, L), with T_2k = T_k^2 + T_k^2 - 1 and "
        "T_2k+1 = T_k T_(k+1) + T_k T_(k+1) - T_1; figures over every k and slot). Precision of a "
        "slot: -log2 |decrypted - exact| bits, capped at 60; mean and min over the slots. Δ is Veil "
        f"minus TenSEAL (positive: Veil more precise); matched? is yes when Veil's mean is at least "
        f"TenSEAL's - {MEAN_TOLERANCE} bit and its min at least TenSEAL's - {MIN_TOLERANCE} bit (the "
        "minimum over slots of random noise moves by about a bit from run to run).", "",
    ]
    total = [0, 0]
    for n in args.n:
        lines, tally = table(veil, tenseal, n)
        total = [total[0] + tally[0], total[1] + tally[1]]
        warning = chain_check(veil, tenseal, n)
        out += [f"## N = {n}", "", *([warning, ""] if warning else []), *lines, ""]
    out += [f"Matched or beaten: {total[0]} of {total[1]} rows.", "", "## Notes", "",
            "- TenSEAL resets a ciphertext's scale to the global scale 2^40 after each automatic rescale, "
            "although the true scale is 2^80 / q_i: the relative offset of each rescaling prime from 2^40 "
            "becomes an error of the result that no bookkeeping sees. The row \"product vs SEAL at its "
            "exact scale\" compares with the same product done through `sealapi` and decoded at SEAL's "
            "own scale, which is SEAL's real precision. Offsets of SEAL's primes (CoeffModulus::Create):"]
    out += [f"  - {line}" for n in args.n if (line := drift_line(tenseal, n))]
    out += ["", "## Commands", "", *(f"- {s}" for s in source),
            f"- whole comparison: `python3 scripts/ckks_precision.py {' '.join(sys.argv[1:])}`",
            "", f"Wall time: {seconds:.0f} s.", ""]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[8192, 16384, 32768], help="ring degrees")
    ap.add_argument("--out", default="docs/ckks-precision.md", help="Markdown file (relative to the repo)")
    ap.add_argument("--venv", default=".peers", help="virtual environment for TenSEAL (relative to the repo)")
    ap.add_argument("--tenseal-script", default=str(REPO / "scripts" / "tenseal_ckks_precision.py"))
    ap.add_argument("--veil-json", help="read Veil's JSON lines from this file instead of running cargo")
    ap.add_argument("--tenseal-json", help="read TenSEAL's JSON lines from this file instead of running it")
    ap.add_argument("--chain", type=parse_chain, action="append", default=[], help=CHAIN_HELP + " (for TenSEAL)")
    args = ap.parse_args()

    started = time.time()
    python = ensure_venv(REPO / args.venv)
    source = []
    veil = collect(veil_command(args.n), args.veil_json, "veil", source)
    tenseal = collect(tenseal_command(python, args.tenseal_script, args.n, args.chain), args.tenseal_json,
                      "tenseal", source)
    text = "\n".join(document(args, veil, tenseal, peer_versions(python), source, time.time() - started))
    publish(text, args.out)


if __name__ == "__main__":
    main()
