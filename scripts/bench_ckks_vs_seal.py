#!/usr/bin/env python3
"""Side-by-side timing of Veil's CKKS crate and Microsoft SEAL's CKKS (through TenSEAL's `sealapi`),
on the same machine in one invocation, as a Markdown table (the CKKS sibling of
bench_bfv_vs_seal.py, whose plumbing it imports).

    python3 scripts/bench_ckks_vs_seal.py [options] [-- CRITERION_ARGS...]

1. builds the criterion bench (`cargo bench -p veil-benches --bench ckks --no-run`);
2. runs `seal_ckks_bench.py --n N.. --reps R` with the Python of the `.peers` virtual environment
   (created, and TenSEAL installed, when missing);
3. runs `cargo bench -p veil-benches --bench ckks -- CRITERION_ARGS` and reads the median of every
   `{op}/n={N}/log_q={B}/threads={T}` result this run wrote;
4. runs SEAL a second time (unless --seal-runs 1) and keeps the lower median of each op;
5. prints the tables and writes them to --out (default docs/ckks-bench.md).

Targets (issue 10): every op at most 1.0x SEAL's time on one thread; mul + relinearize + rescale at
most 0.8x SEAL's. The all-cores speed-up table has no target and is shown for information.

Full comparison:   python3 scripts/bench_ckks_vs_seal.py
Smoke test:        python3 scripts/bench_ckks_vs_seal.py --n 8192 --reps 5 --seal-runs 1 -- --quick

Python standard library only.
"""
import argparse
import json
import sys
import time

import bench_bfv_vs_seal as bfv
from benchlib import REPO, criterion_dir, log, machine_line, publish, run_checked, split_argv
from seal_ckks_bench import CHAIN_HELP, chain_args, chain_bits, chains, describe_chain, parse_chain

BENCH_CMD = ["cargo", "bench", "-p", "veil-benches", "--bench", "ckks"]
SEAL_SCRIPT = REPO / "scripts" / "seal_ckks_bench.py"

# Every op alone, in table order; the combined row follows rescale.
OPS = ["encode", "decode", "encrypt_public", "decrypt", "add", "mul_plain", "mul", "relinearize", "rescale",
       "rotate_1"]
PIPELINE = ("mul", "relinearize", "rescale")
LABELS = {"mul": "mul (ct x ct, no relin)"}
# (label, ops summed, target ratio Veil/SEAL on one thread)
ROWS = [(LABELS.get(op, op), (op,), 1.0) for op in OPS]
ROWS.insert(OPS.index("rescale") + 1, ("**mul + relinearize + rescale**", PIPELINE, 0.8))
# (label, ops summed, minimum speed-up of all cores over one thread: issue 10 sets none)
SPEEDUP_ROWS = [(op, (op,), None) for op in OPS if op not in ("encode", "decode", "add")]
SPEEDUP_ROWS.append(("mul + relinearize + rescale", PIPELINE, None))


def tables(seal, veil, ns):
    """(comparison lines, tally), (speed-up lines, tally), built by bench_bfv_vs_seal's table
    functions, which read their row lists from that module's globals: point them at the CKKS rows."""
    bfv.ROWS, bfv.SPEEDUP_ROWS = ROWS, SPEEDUP_ROWS
    return bfv.comparison_table(seal, veil, ns), bfv.speedup_table(veil, ns)


class Timings:
    """Wall time per phase, in seconds, in the order the phases ran."""

    def __init__(self):
        self.phases, self.start = {}, time.time()

    def run(self, phase, fn, *a, **kw):
        t = time.time()
        out = fn(*a, **kw)
        self.phases[phase] = self.phases.get(phase, 0.0) + time.time() - t
        return out

    def line(self):
        parts = ", ".join(f"{k} {v:.0f} s" for k, v in self.phases.items())
        return f"Wall time: {parts}, total {time.time() - self.start:.0f} s."


def run_seal(python, args):
    """{(op, n): (median µs, log_q)} from one run of seal_ckks_bench.py."""
    cmd = [str(python), args.seal_bench, "--n", *map(str, args.n), "--reps", str(args.reps), *chain_args(args.chain)]
    out = run_checked(cmd, capture_output=True, text=True).stdout
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    log(f"  {len(records)} SEAL figures")
    return {(r["op"], int(r["n"])): (float(r["median_us"]), int(r["log_q"])) for r in records}


def chain_mismatches(seal, veil, ns):
    """Lines naming every degree where SEAL's log_q differs from Veil's (different parameters)."""
    out = []
    for n in ns:
        seal_q = {v[1] for (op, m), v in seal.items() if m == n}
        if n in veil.log_q and seal_q and seal_q != {veil.log_q[n]}:
            out.append(f"**Parameters differ at N = {n}: SEAL log_q {sorted(seal_q)}, Veil log_q "
                       f"{veil.log_q[n]}; these ratios compare different chains (fix with --chain).**")
    return out


def bench_veil(criterion_args):
    """Runs the criterion suite (its output goes to stderr); returns the start time."""
    started = time.time()
    run_checked(BENCH_CMD + ["--", *criterion_args], cwd=REPO, stdout=sys.stderr)
    return started


def measure(args, criterion_args, clock):
    """(seal figures, seal spread, number of SEAL runs, Veil results, peer versions)."""
    if not args.reuse_veil:
        clock.run("build", run_checked, BENCH_CMD + ["--no-run"], cwd=REPO)
    python = bfv.ensure_venv(REPO / args.venv)
    seal_runs = [clock.run("SEAL", run_seal, python, args)]
    since = None if args.reuse_veil else clock.run("Veil benches", bench_veil, criterion_args)
    if args.seal_runs > 1:
        seal_runs.append(clock.run("SEAL", run_seal, python, args))
    seal, spread = bfv.combine_seal(seal_runs)
    veil = bfv.Veil(bfv.read_criterion(criterion_dir(), since))
    if not veil.results:
        sys.exit("no criterion results of the form op/n=N/log_q=B/threads=T found "
                 "(did the filter match anything?)")
    return seal, spread, len(seal_runs), veil, bfv.peer_versions(python)


def render(args, criterion_args, measured, clock):
    seal, spread, runs, veil, versions = measured
    (table, tally), (speedups, _) = tables(seal, veil, args.n)
    mode = ("criterion --quick (smoke test: few samples, noisy)" if "--quick" in criterion_args
            else "criterion full sampling")
    crit = " ".join(criterion_args) if criterion_args else "(none: whole suite)"
    seal_cmd = " ".join(["seal_ckks_bench.py --n", *map(str, args.n), "--reps", str(args.reps),
                         *chain_args(args.chain)])
    table_of_chains = chains(args.chain)
    chain_text = "; ".join(f"N = {n}: {describe_chain(chain_bits(n, table_of_chains))}" for n in args.n)
    intro = (
        f"SEAL: `{seal_cmd}` (TenSEAL's `sealapi` bindings; single-threaded; median of {args.reps}, "
        f"Python call overhead included). Veil: `{' '.join(BENCH_CMD)} -- {crit}`, {mode}; criterion "
        f"median. SEAL's chains (q_0 + rescaling primes + special prime; log_q counts them all; Veil's "
        f"presets unless --chain says otherwise, checked against Veil's log_q): {chain_text}; scale 2^40, "
        f"N/2 real slots 0.9 cos(0.37 j). Ratios are Veil/SEAL (lower is "
        f"better); met? is judged on the one-thread figure, since SEAL uses one thread. A dash means "
        f"not measured."
    )
    return [
        "# CKKS: Veil vs Microsoft SEAL", "",
        machine_line(versions), "",
        intro, "",
        *(f"{line}\n" for line in chain_mismatches(seal, veil, args.n)),
        "## Veil vs SEAL", "",
        *table, "",
        f"Targets met: {tally[0]} of {tally[1]} (every op ≤ 1.0x SEAL on one thread; mul + relinearize + "
        f"rescale, the sum of the three medians on each side, ≤ 0.8x SEAL).", "",
        "## Veil: all cores vs one thread", "",
        *speedups, "",
        "Issue 10 sets no speed-up target; shown for information.", "",
        "## Notes", "",
        *(f"- {line}" for line in bfv.noise_lines(spread, runs)),
        "- rescale is timed on a relinearized product (2 polynomials at scale 2^80) on both sides.",
        "- rotate_1 uses one Galois key (SEAL: element 3, its generator; Veil: element 5, its generator).",
        "- encrypt_public draws fresh randomness from the operating system on each call, on both sides.",
        "- SEAL's encode and decode convert between Python lists and C++ vectors inside the timed call.",
        "", clock.line(), "",
    ]


OPTIONS = {
    "--n": dict(type=int, nargs="+", default=[8192, 16384, 32768], help="ring degrees"),
    "--reps": dict(type=int, default=20, help="repetitions per SEAL operation (median)"),
    "--seal-runs": dict(type=int, default=2, choices=(1, 2),
                        help="run SEAL once (before Veil) or twice (before and after)"),
    "--out": dict(default="docs/ckks-bench.md", help="Markdown file to write (relative to the repo)"),
    "--venv": dict(default=".peers", help="virtual environment for TenSEAL (relative to the repo)"),
    "--seal-bench": dict(default=str(SEAL_SCRIPT), help="the SEAL timing script"),
    "--chain": dict(type=parse_chain, action="append", default=[], help=CHAIN_HELP + " (for SEAL)"),
    "--reuse-veil": dict(action="store_true",
                         help="do not run cargo bench; read every result already in the criterion directory"),
}


def main():
    own, criterion_args = split_argv(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for flag, spec in OPTIONS.items():
        ap.add_argument(flag, **spec)
    args = ap.parse_args(own)

    clock = Timings()
    text = "\n".join(render(args, criterion_args, measure(args, criterion_args, clock), clock))
    publish(text, args.out)


if __name__ == "__main__":
    main()
