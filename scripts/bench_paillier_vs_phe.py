#!/usr/bin/env python3
"""Side-by-side timing of Veil's Paillier crate and python-paillier (`phe` with gmpy2), on the same
machine in one invocation, as a Markdown table.

    python3 scripts/bench_paillier_vs_phe.py [options] [-- CRITERION_ARGS...]

1. builds the criterion bench (`cargo bench -p veil-benches --bench paillier --no-run`);
2. runs the peer benchmark `phe_bench.py --bits B.. --reps N` with the Python of the `.peers`
   virtual environment (created with phe, gmpy2 and click when missing);
3. runs `cargo bench -p veil-benches --bench paillier -- CRITERION_ARGS` (a filter regex and flags
   such as `--quick` pass through) and reads the median of every benchmark that this run wrote
   (`<target>/criterion/**/new/estimates.json`);
4. prints the tables and writes them to --out (default docs/paillier-bench.md).

Full comparison (about 20 minutes on 2 cores, on a quiet machine):
    python3 scripts/bench_paillier_vs_phe.py --reps 50
Smoke test of the plumbing (a minute or two):
    python3 scripts/bench_paillier_vs_phe.py --reps 5 -- --quick \
        '^(encrypt|encrypt_keyholder|encrypt_pool|decrypt|add|mul_scalar|mul_scalar_precomputed|rerandomize)/'

Python standard library only.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from benchlib import REPO, command_output, criterion_dir, fmt_us, log, machine_line, parse_id, ratio, run_checked, split_argv  # noqa: E402
BENCH_CMD = ["cargo", "bench", "-p", "veil-benches", "--bench", "paillier"]

# Packing of the encrypt_vec/layout=packed benchmark (benches/benches/paillier.rs).
PACK_VALUE_BITS, PACK_GUARD_BITS = 32, 16
VEC_VALUES, VEC_BITS = 3952, 2048

# (label, veil op, phe op, target ratio Veil/phe or None, note)
ROWS = [
    ("keygen", "keygen", "keygen", None, "phe: one run, not a median"),
    ("encrypt (public key)", "encrypt", "encrypt", None, ""),
    ("encrypt_keyholder (CRT)", "encrypt_keyholder", "encrypt", 0.6, ""),
    ("encrypt_pool (online part)", "encrypt_pool", "encrypt", 0.01, "pool filled offline, not timed"),
    ("decrypt", "decrypt", "decrypt", 1.0, ""),
    ("add", "add", "add", 0.5, ""),
    ("mul_scalar", "mul_scalar", "mul_scalar", 0.5, ""),
    ("mul_scalar_precomputed (amortized)", "mul_scalar_precomputed", "mul_scalar", None,
     "amortized: per-ciphertext table built once, not timed"),
]



# --------------------------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# phe
# --------------------------------------------------------------------------------------------

def ensure_venv(venv):
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating the peers' virtual environment {venv}")
        run_checked([sys.executable, "-m", "venv", str(venv)])
    probe = subprocess.run([str(python), "-c", "import phe, gmpy2, click"], capture_output=True)
    if probe.returncode != 0:
        run_checked([str(venv / "bin" / "pip"), "install", "phe", "gmpy2", "click"])
    return python


def peer_versions(python):
    code = ("import importlib.metadata as m, platform; "
            "print(f\"python {platform.python_version()}, phe {m.version('phe')}, gmpy2 {m.version('gmpy2')}\")")
    return command_output([str(python), "-c", code])


def run_phe(python, script, bits, reps):
    cmd = [str(python), str(script), "--bits", *map(str, bits), "--reps", str(reps)]
    log("$ " + " ".join(cmd))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    results = {}
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        log(f"  phe {r['op']:<11} bits={r['bits']}: {r['median_us']} us")
        results[(r["op"], int(r["bits"]))] = float(r["median_us"])
    return results


# --------------------------------------------------------------------------------------------
# Veil (criterion)
# --------------------------------------------------------------------------------------------


def run_veil(criterion_args):
    """Runs the benches, echoing their output; returns (start time, captured output)."""
    cmd = BENCH_CMD + ["--", *criterion_args]
    log("$ " + " ".join(cmd))
    started = time.time()
    captured = []
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", bufsize=1)
    for line in proc.stdout:
        sys.stderr.write(line)
        captured.append(line)
    if proc.wait() != 0:
        sys.exit(f"cargo bench failed with exit code {proc.returncode}")
    return started, "".join(captured)



def read_criterion(root, since):
    """{(op, frozenset(params)): median ns} for every `new/` result written at or after `since`."""
    results = {}
    if not root.is_dir():
        return results
    for bench_json in root.glob("**/new/benchmark.json"):
        estimates = bench_json.with_name("estimates.json")
        if not estimates.exists() or (since is not None and estimates.stat().st_mtime < since - 1):
            continue
        try:
            full_id = json.loads(bench_json.read_text())["full_id"]
            median = float(json.loads(estimates.read_text())["median"]["point_estimate"])
        except (ValueError, KeyError, OSError):
            continue
        op, kv = parse_id(full_id)
        results[(op, frozenset(kv.items()))] = median
    return results


class Veil:
    def __init__(self, results):
        self.results = results
        threads = {int(dict(k)["threads"]) for (_, k) in results if "threads" in dict(k)}
        many = [t for t in threads if t > 1]
        self.all_threads = max(many) if many else (os.cpu_count() or 1)

    def ns(self, op, **params):
        return self.results.get((op, frozenset((k, str(v)) for k, v in params.items())))

    def us(self, op, **params):
        ns = self.ns(op, **params)
        return None if ns is None else ns / 1000.0


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def fmt_ratio(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x >= 0.001 else f"{x:.1e}"



def verdict(r, target):
    if target is None:
        return "—"
    if r is None:
        return "n/a"
    return "yes" if r <= target else "**no**"


def fmt_target(t):
    return "—" if t is None else f"≤ {t:g}"


def comparison_table(phe, veil, bits_list):
    t = veil.all_threads
    lines = [
        f"| operation | bits | phe median (µs) | Veil 1 thread (µs) | Veil all cores, {t} threads (µs) "
        f"| Veil/phe 1 thread | Veil/phe all cores | target (Veil/phe) | met? |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    notes = []
    for bits in bits_list:
        for label, op, phe_op, target, note in ROWS:
            p = phe.get((phe_op, bits))
            v1 = veil.us(op, bits=bits, threads=1)
            va = veil.us(op, bits=bits, threads=t) if t > 1 else None
            r1, ra = ratio(v1, p), ratio(va, p)
            # phe is single-threaded: judge on the one-thread figure when there is one.
            judged = r1 if r1 is not None else ra
            lines.append(f"| {label} | {bits} | {fmt_us(p)} | {fmt_us(v1)} | {fmt_us(va)} | {fmt_ratio(r1)} "
                         f"| {fmt_ratio(ra)} | {fmt_target(target)} | {verdict(judged, target)} |")
            if note and f"{label}: {note}" not in notes:
                notes.append(f"{label}: {note}")
    return lines, notes


def packing_table(veil, output):
    t = veil.all_threads
    slots = (VEC_BITS - 2) // (PACK_VALUE_BITS + PACK_GUARD_BITS + 1)
    counts = {}
    for layout in ("unpacked", "packed"):
        m = re.findall(rf"encrypt_vec values={VEC_VALUES} bits={VEC_BITS} layout={layout}\b.*?ciphertexts=(\d+)",
                       output)
        counts[layout] = (int(m[-1]), "") if m else (
            (VEC_VALUES if layout == "unpacked" else math.ceil(VEC_VALUES / slots)), " (computed, not measured)")
    target = 1 / 20
    lines = [
        f"| encrypt_vec, {VEC_VALUES} values, {VEC_BITS}-bit key | unpacked | packed "
        f"({PACK_VALUE_BITS}-bit values, {PACK_GUARD_BITS} guard bits, {slots} slots) | packed/unpacked "
        f"| target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    (cu, nu), (cp, np_) = counts["unpacked"], counts["packed"]
    rc = ratio(cp, cu)
    lines.append(f"| ciphertexts | {cu}{nu} | {cp}{np_} | {fmt_ratio(rc)} | ≤ 1/20 | {verdict(rc, target)} |")
    for threads in sorted({1, t}):
        key = dict(values=VEC_VALUES, bits=VEC_BITS, threads=threads)
        u, p = veil.us("encrypt_vec", layout="unpacked", **key), veil.us("encrypt_vec", layout="packed", **key)
        r = ratio(p, u)
        ms = lambda x: "—" if x is None else f"{x / 1000:,.1f} ms"
        lines.append(f"| time, {threads} thread{'s' if threads > 1 else ''} | {ms(u)} | {ms(p)} | {fmt_ratio(r)} "
                     f"| ≤ 1/20 | {verdict(r, target)} |")
    return lines


def veil_only_table(veil, bits_list):
    t = veil.all_threads
    threads = sorted({1, t})
    head = " | ".join(f"{n} thread{'s' if n > 1 else ''} (µs)" for n in threads)
    lines = [f"| Veil benchmark | {head} |", "|---|" + "---:|" * len(threads)]

    def row(label, op, **params):
        cells = [fmt_us(veil.us(op, threads=n, **params)) for n in threads]
        if any(c != "—" for c in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for bits in bits_list:
        row(f"rerandomize/bits={bits}", "rerandomize", bits=bits)
    for layout in ("unpacked", "packed"):
        row(f"encrypt_vec/values={VEC_VALUES}/bits={VEC_BITS}/layout={layout}", "encrypt_vec",
            values=VEC_VALUES, bits=VEC_BITS, layout=layout)
    for op in ("dot", "dot_naive"):
        row(f"{op}/terms={VEC_VALUES}/bits={VEC_BITS}", op, terms=VEC_VALUES, bits=VEC_BITS)
    speedups = []
    for n in threads:
        d, naive = veil.us("dot", terms=VEC_VALUES, bits=VEC_BITS, threads=n), \
            veil.us("dot_naive", terms=VEC_VALUES, bits=VEC_BITS, threads=n)
        speedups.append("—" if d is None or naive is None else f"{naive / d:.1f}x")
    if any(s != "—" for s in speedups):
        lines.append("| dot speed-up over dot_naive | " + " | ".join(speedups) + " |")
    return lines


# --------------------------------------------------------------------------------------------

def main():
    own, criterion_args = split_argv(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bits", type=int, nargs="+", default=[2048, 3072])
    ap.add_argument("--reps", type=int, default=50, help="repetitions per phe operation (median)")
    ap.add_argument("--out", default="docs/paillier-bench.md", help="Markdown file to write (relative to the repo)")
    ap.add_argument("--venv", default=".peers", help="virtual environment for phe (relative to the repo)")
    ap.add_argument("--phe-bench", default=str(REPO.parent / "shared" / "peers" / "phe_bench.py"))
    ap.add_argument("--reuse-veil", action="store_true",
                    help="do not run cargo bench; read every result already in target/criterion")
    args = ap.parse_args(own)

    t0 = time.time()
    quick = "--quick" in criterion_args
    if not args.reuse_veil:
        run_checked(BENCH_CMD + ["--no-run"], cwd=REPO)
    t_build = time.time()

    python = ensure_venv(REPO / args.venv)
    versions = peer_versions(python)
    phe = run_phe(python, Path(args.phe_bench), args.bits, args.reps)
    t_phe = time.time()

    if args.reuse_veil:
        since, output = None, ""
    else:
        since, output = run_veil(criterion_args)
    t_veil = time.time()
    veil = Veil(read_criterion(criterion_dir(), since))
    if not veil.results:
        sys.exit("no criterion results found (did the filter match anything?)")

    table, notes = comparison_table(phe, veil, args.bits)
    mode = "criterion --quick (smoke test: few samples, noisy)" if quick else "criterion full sampling"
    crit = " ".join(criterion_args) if criterion_args else "(none: whole suite)"
    doc = [
        "# Paillier: Veil vs python-paillier",
        "",
        machine_line(versions),
        "",
        f"phe: `phe_bench.py --bits {' '.join(map(str, args.bits))} --reps {args.reps}` (single-threaded, "
        f"median of {args.reps}). Veil: `{' '.join(BENCH_CMD)} -- {crit}`, {mode}; criterion median. "
        f"Ratios are Veil/phe (lower is better); met? is judged on the one-thread figure, since phe uses "
        f"one thread. A dash means not measured in this run (or not applicable: ops that never use rayon "
        f"run with one thread only).",
        "",
        *table,
        "",
        *(f"- {n}" for n in notes),
        "",
        "## Packing (encrypt_vec)",
        "",
        *packing_table(veil, output),
        "",
        "## Veil only",
        "",
        *veil_only_table(veil, args.bits),
        "",
        f"Wall time: build {t_build - t0:.0f} s, phe {t_phe - t_build:.0f} s, Veil benches {t_veil - t_phe:.0f} s.",
        "",
    ]
    text = "\n".join(doc)
    print(text)
    out = Path(args.out)
    out = out if out.is_absolute() else REPO / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
