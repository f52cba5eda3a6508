#!/usr/bin/env python3
"""Side-by-side timing of Veil's BFV crate and Microsoft SEAL (through TenSEAL's `sealapi`), on the
same machine in one invocation, as a Markdown table.

    python3 scripts/bench_bfv_vs_seal.py [options] [-- CRITERION_ARGS...]

1. builds the criterion bench (`cargo bench -p veil-benches --bench bfv --no-run`);
2. runs the peer benchmark `seal_bfv_bench.py --n N.. --reps R` with the Python of the `.peers`
   virtual environment (created, and TenSEAL installed, when missing);
3. runs `cargo bench -p veil-benches --bench bfv -- CRITERION_ARGS` (a filter regex and flags such
   as `--quick` pass through) and reads the median of every benchmark that this run wrote
   (`<target>/criterion/**/new/estimates.json`);
4. runs the SEAL benchmark a second time (unless --seal-runs 1), so that background load during
   either run shows up as a disagreement between the two; each SEAL figure is the lower of its
   medians (load only slows a run down), which is the conservative choice for Veil;
5. prints the tables and writes them to --out (default docs/bfv-bench.md).

Targets: every op at most 1.0x SEAL's time on one thread; mul + relinearize together at most 0.8x
SEAL's; mul and relinearize at least 1.6x faster on all cores than on one thread.

Full comparison (about 6 minutes on 2 cores, on a quiet machine):
    python3 scripts/bench_bfv_vs_seal.py
Smoke test of the plumbing (under a minute):
    python3 scripts/bench_bfv_vs_seal.py --reps 5 --seal-runs 1 -- --quick

Python standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchlib import REPO, command_output, criterion_dir, fmt_us, log, machine_line, parse_id, ratio, run_checked, split_argv  # noqa: E402
BENCH_CMD = ["cargo", "bench", "-p", "veil-benches", "--bench", "bfv"]

# (label, ops summed, target ratio Veil/SEAL on one thread)
ROWS = [
    ("encode", ("encode",), 1.0),
    ("decode", ("decode",), 1.0),
    ("encrypt_public", ("encrypt_public",), 1.0),
    ("decrypt", ("decrypt",), 1.0),
    ("add", ("add",), 1.0),
    ("mul_plain", ("mul_plain",), 1.0),
    ("mul (ct x ct, no relin)", ("mul",), 1.0),
    ("relinearize", ("relinearize",), 1.0),
    ("**mul + relinearize**", ("mul", "relinearize"), 0.8),
    ("rotate_rows_1", ("rotate_rows_1",), 1.0),
    ("mod_switch_next", ("mod_switch_next",), 1.0),
]
# (label, ops summed, minimum speed-up of all cores over one thread, or None)
SPEEDUP_ROWS = [
    ("encrypt_public", ("encrypt_public",), None),
    ("decrypt", ("decrypt",), None),
    ("mul_plain", ("mul_plain",), None),
    ("mul", ("mul",), 1.6),
    ("relinearize", ("relinearize",), 1.6),
    ("mul + relinearize", ("mul", "relinearize"), None),
    ("rotate_rows_1", ("rotate_rows_1",), None),
]
NOISE_LIMIT = 0.20



# --------------------------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# SEAL
# --------------------------------------------------------------------------------------------

def ensure_venv(venv):
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating the peers' virtual environment {venv}")
        run_checked([sys.executable, "-m", "venv", str(venv)])
    probe = subprocess.run([str(python), "-c", "import tenseal.sealapi"], capture_output=True)
    if probe.returncode != 0:
        run_checked([str(venv / "bin" / "pip"), "install", "tenseal"])
    return python


# The SEAL version, read from the header of a serialized object (magic 0xA15E, header size, then
# SEAL_VERSION_MAJOR and SEAL_VERSION_MINOR): sealapi exposes no version string.
SEAL_VERSION_PROBE = r"""
import os, platform, tempfile, tenseal, tenseal.sealapi as s
fd, path = tempfile.mkstemp(); os.close(fd)
try:
    s.EncryptionParameters(s.SCHEME_TYPE.BFV).save(path)
    h = open(path, 'rb').read(5)
    seal = f'SEAL {h[3]}.{h[4]}' if h[:2] == b'\x5e\xa1' else 'SEAL ?'
finally:
    os.remove(path)
print(f'python {platform.python_version()}, TenSEAL {tenseal.__version__} ({seal}, from its serialization header)')
"""


def peer_versions(python):
    return command_output([str(python), "-c", SEAL_VERSION_PROBE])


def run_seal(python, script, ns, reps):
    """{(op, n): (median µs, log_q)} from one run of seal_bfv_bench.py."""
    cmd = [str(python), str(script), "--n", *map(str, ns), "--reps", str(reps)]
    log("$ " + " ".join(cmd))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    results = {}
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        log(f"  seal {r['op']:<16} n={r['n']:<5} log_q={r['log_q']}: {r['median_us']} us")
        results[(r["op"], int(r["n"]))] = (float(r["median_us"]), int(r["log_q"]))
    return results


def combine_seal(runs):
    """Lower median per (op, n) over the runs, and the relative spread (max/min - 1) of each."""
    best, spread = {}, {}
    for key in set().union(*runs):
        xs = [r[key][0] for r in runs if key in r]
        log_q = next(r[key][1] for r in runs if key in r)
        best[key] = (min(xs), log_q)
        spread[key] = (max(xs) / min(xs) - 1) if min(xs) > 0 else 0.0
    return best, spread


# --------------------------------------------------------------------------------------------
# Veil (criterion)
# --------------------------------------------------------------------------------------------


def run_veil(criterion_args):
    """Runs the benches, echoing their output; returns the start time."""
    cmd = BENCH_CMD + ["--", *criterion_args]
    log("$ " + " ".join(cmd))
    started = time.time()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", bufsize=1)
    for line in proc.stdout:
        sys.stderr.write(line)
    if proc.wait() != 0:
        sys.exit(f"cargo bench failed with exit code {proc.returncode}")
    return started



def read_criterion(root, since):
    """{(op, n, log_q, threads): median ns} for every `op/n=N/log_q=B/threads=T` result written at
    or after `since` (ids of the other suites, without n and log_q, are skipped)."""
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
        if set(kv) != {"n", "log_q", "threads"}:
            continue
        try:
            results[(op, int(kv["n"]), int(kv["log_q"]), int(kv["threads"]))] = median
        except ValueError:
            continue
    return results


class Veil:
    def __init__(self, results):
        self.results = results
        many = [k[3] for k in results if k[3] > 1]
        self.all_threads = max(many) if many else (os.cpu_count() or 1)
        self.log_q = {k[1]: k[2] for k in results}

    def us(self, ops, n, threads):
        """Sum of the medians of `ops` (µs), or None when one is missing."""
        total = 0.0
        for op in ops:
            ns = self.results.get((op, n, self.log_q.get(n), threads))
            if ns is None:
                return None
            total += ns / 1000.0
        return total


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def fmt_ratio(x, suffix=""):
    return "—" if x is None else f"{x:.2f}{suffix}"



def seal_sum(seal, ops, n):
    xs = [seal.get((op, n)) for op in ops]
    return None if any(x is None for x in xs) else sum(x[0] for x in xs)


def comparison_table(seal, veil, ns):
    t = veil.all_threads
    lines = [
        f"| operation | N | log_q | SEAL (µs) | Veil 1 thread (µs) | Veil all cores, {t} threads (µs) "
        f"| Veil/SEAL 1 thread | Veil/SEAL all cores | target (Veil/SEAL, 1 thread) | met? |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    tally = [0, 0]
    for n in ns:
        log_q = veil.log_q.get(n) or next((v[1] for (op, m), v in seal.items() if m == n), "?")
        for label, ops, target in ROWS:
            s = seal_sum(seal, ops, n)
            v1 = veil.us(ops, n, 1)
            va = veil.us(ops, n, t) if t > 1 else None
            r1, ra = ratio(v1, s), ratio(va, s)
            met = "n/a" if r1 is None else ("yes" if r1 <= target else "**no**")
            if r1 is not None:
                tally[0] += r1 <= target
                tally[1] += 1
            lines.append(f"| {label} | {n} | {log_q} | {fmt_us(s)} | {fmt_us(v1)} | {fmt_us(va)} "
                         f"| {fmt_ratio(r1)} | {fmt_ratio(ra)} | ≤ {target:.1f} | {met} |")
    return lines, tally


def speedup_table(veil, ns):
    t = veil.all_threads
    lines = [
        f"| operation | N | Veil 1 thread (µs) | Veil {t} threads (µs) | speed-up | target | met? |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    tally = [0, 0]
    for n in ns:
        for label, ops, target in SPEEDUP_ROWS:
            v1, va = veil.us(ops, n, 1), veil.us(ops, n, t)
            sp = ratio(v1, va)
            if target is None:
                tgt, met = "—", "—"
            elif sp is None:
                tgt, met = f"≥ {target:g}x", "n/a"
            else:
                tgt, met = f"≥ {target:g}x", ("yes" if sp >= target else "**no**")
                tally[0] += sp >= target
                tally[1] += 1
            lines.append(f"| {label} | {n} | {fmt_us(v1)} | {fmt_us(va)} | {fmt_ratio(sp, 'x')} | {tgt} | {met} |")
    return lines, tally


def noise_lines(spread, runs):
    if runs < 2:
        return ["SEAL was run once (--seal-runs 1): no check of its run-to-run spread."]
    noisy = sorted((k for k, v in spread.items() if v > NOISE_LIMIT), key=lambda k: (k[1], k[0]))
    worst = max(spread.items(), key=lambda kv: kv[1]) if spread else None
    out = [f"SEAL was run {runs} times (before and after the Veil benches); the table keeps the lower "
           f"median of each op. Largest spread between the runs: "
           + (f"{worst[1] * 100:.0f}% ({worst[0][0]}, N = {worst[0][1]})." if worst else "—")]
    if noisy:
        out.append("Spread above 20% (machine busy during one run; figures less reliable): "
                   + ", ".join(f"{op} N={n} ({spread[(op, n)] * 100:.0f}%)" for op, n in noisy) + ".")
    return out


# --------------------------------------------------------------------------------------------

def main():
    own, criterion_args = split_argv(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[4096, 8192, 16384], help="ring degrees for SEAL")
    ap.add_argument("--reps", type=int, default=20, help="repetitions per SEAL operation (median)")
    ap.add_argument("--seal-runs", type=int, default=2, choices=(1, 2),
                    help="run SEAL once (before Veil) or twice (before and after)")
    ap.add_argument("--out", default="docs/bfv-bench.md", help="Markdown file to write (relative to the repo)")
    ap.add_argument("--venv", default=".peers", help="virtual environment for TenSEAL (relative to the repo)")
    ap.add_argument("--seal-bench", default=str(REPO.parent / "shared" / "peers" / "seal_bfv_bench.py"))
    ap.add_argument("--reuse-veil", action="store_true",
                    help="do not run cargo bench; read every result already in target/criterion")
    args = ap.parse_args(own)

    t0 = time.time()
    if not args.reuse_veil:
        run_checked(BENCH_CMD + ["--no-run"], cwd=REPO)
    t_build = time.time()

    python = ensure_venv(REPO / args.venv)
    versions = peer_versions(python)
    seal_runs = [run_seal(python, Path(args.seal_bench), args.n, args.reps)]
    t_seal = time.time() - t_build

    t_v = time.time()
    since = None if args.reuse_veil else run_veil(criterion_args)
    t_veil = time.time() - t_v

    if args.seal_runs > 1:
        t_s = time.time()
        seal_runs.append(run_seal(python, Path(args.seal_bench), args.n, args.reps))
        t_seal += time.time() - t_s
    seal, spread = combine_seal(seal_runs)

    veil = Veil(read_criterion(criterion_dir(), since))
    if not veil.results:
        sys.exit("no criterion results found (did the filter match anything?)")

    table, tally = comparison_table(seal, veil, args.n)
    speedups, sp_tally = speedup_table(veil, args.n)
    quick = "--quick" in criterion_args
    mode = "criterion --quick (smoke test: few samples, noisy)" if quick else "criterion full sampling"
    crit = " ".join(criterion_args) if criterion_args else "(none: whole suite)"
    doc = [
        "# BFV: Veil vs Microsoft SEAL",
        "",
        machine_line(versions),
        "",
        f"SEAL: `seal_bfv_bench.py --n {' '.join(map(str, args.n))} --reps {args.reps}` (TenSEAL's `sealapi` "
        f"bindings; single-threaded; median of {args.reps}, Python call overhead included). Veil: "
        f"`{' '.join(BENCH_CMD)} -- {crit}`, {mode}; criterion median. Same parameters on both sides: "
        f"SEAL's `CoeffModulus::BFVDefault` chain (log_q counts every prime, the special one included) and a "
        f"20-bit batching plaintext modulus; values `i % 1000` in all N slots. Ratios are Veil/SEAL (lower "
        f"is better); met? is judged on the one-thread figure, since SEAL uses one thread. A dash means not "
        f"measured (ops that never use rayon run with one thread only).",
        "",
        "## Veil vs SEAL",
        "",
        *table,
        "",
        f"Targets met: {tally[0]} of {tally[1]} (every op ≤ 1.0x SEAL on one thread; mul + relinearize, the "
        f"sum of the two medians on each side, ≤ 0.8x SEAL).",
        "",
        "## Veil: all cores vs one thread",
        "",
        *speedups,
        "",
        f"Targets met: {sp_tally[0]} of {sp_tally[1]} (mul and relinearize ≥ 1.6x faster on "
        f"{veil.all_threads} cores than on one).",
        "",
        "## Notes",
        "",
        *(f"- {line}" for line in noise_lines(spread, len(seal_runs))),
        "- encrypt_public draws fresh randomness from the operating system on each call, on both sides.",
        "- SEAL's encode and decode convert between Python lists and C++ vectors inside the timed call.",
        "",
        f"Wall time: build {t_build - t0:.0f} s, SEAL {t_seal:.0f} s, Veil benches {t_veil:.0f} s, "
        f"total {time.time() - t0:.0f} s.",
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
