#!/usr/bin/env python3
"""Three-process RTAS benchmark: runs `veil rtas launch` (P0, P1, P2 as separate OS processes over
loopback TCP) for the paper's MNIST shapes and writes docs/rtas-bench.md.

    python3 scripts/bench_rtas.py [--repeat N] [--out docs/rtas-bench.md] [--quick]

Shapes (synthetic 28 x 28 images, values uniform in [0, 1]; timing only):
  LR train:  784 features, batch 32, 100 steps (time per step)
  LR infer:  784 features, batch 32
  CNN train: 28 x 28, conv 4 x 4 x 4 stride 2, dense 100, dense 10, batch 32, 50 steps
  CNN infer: same CNN, batch 8192
each in RTAS and RTAS-fast, with RAYON_NUM_THREADS=1 and with all cores. Every figure is the median
of --repeat runs. Environment: VEIL (path of the veil binary; default: build it with cargo).
Python standard library only."""
import argparse
import json
import os
import statistics
import subprocess
import sys

from benchlib import REPO, command_output, cpu_model, log, run_checked

PREFIX = "VEIL-RTAS-REPORT "
# Paper, Table 3 (LAN, seconds) and Table 4 (Mb per batch), RTAS column.
PAPER = {
    ("cnn", "infer"): ("10.61", "10.23"),
    ("cnn", "train"): ("0.54", "333.6"),
}

CASES = [
    # (model, task, synthetic images, test images, label)
    ("lr", "train", 3200, 32, "LR train step, batch 32, 784 features"),
    ("lr", "infer", 32, None, "LR inference, batch 32, 784 features"),
    ("cnn", "train", 1600, 32, "CNN train step, batch 32, 28x28"),
    ("cnn", "infer", 8192, None, "CNN inference, batch 8192, 28x28"),
]


# CrypTen peer (run with --crypten PYTHON, a Python that has crypten and torch 2.1 installed).
CRYPTEN_SCRIPT = r'''
"""CrypTen timings of the RTAS shapes: LR train step (784 features, batch 32) and CNN inference
(28x28, conv 4x4x4 stride 2 + sigmoid, dense 100 + sigmoid, dense 10), two parties over gloo/TCP
on localhost (crypten.mpc.run_multiprocess), default provider (TFP: triples from a trusted first
party, no dealing traffic)."""
import json, sys, time
import torch
import crypten
import crypten.mpc as mpc
import crypten.communicator as comm

BATCH_INFER = int(sys.argv[1]) if len(sys.argv) > 1 else 8192
STEPS = 20

@mpc.run_multiprocess(world_size=2)
def bench():
    crypten.cfg.communicator.verbose = True
    torch.manual_seed(0)
    # LR train step
    x = crypten.cryptensor(torch.rand(32, 784))
    y = crypten.cryptensor((torch.rand(32, 1) > 0.9).float())
    w = crypten.cryptensor(torch.randn(784, 1) * 0.01)
    b = crypten.cryptensor(torch.zeros(1))
    comm.get().reset_communication_stats()
    t = time.perf_counter()
    for _ in range(STEPS):
        z = x.matmul(w) + b
        a = z.sigmoid()
        dz = (a - y) * a * (1 - a)
        gw = x.t().matmul(dz)
        w = w - gw * (0.1 / 32)
        b = b - dz.sum(0) * (0.1 / 32)
    w.get_plain_text()
    lr_step = (time.perf_counter() - t) / STEPS
    lr_bytes = comm.get().get_communication_stats()["bytes"] / STEPS
    # CNN inference
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 4, stride=2), torch.nn.Sigmoid(), torch.nn.Flatten(),
        torch.nn.Linear(676, 100), torch.nn.Sigmoid(), torch.nn.Linear(100, 10))
    dummy = torch.rand(1, 1, 28, 28)
    enc = crypten.nn.from_pytorch(model, dummy).encrypt()
    xi = crypten.cryptensor(torch.rand(BATCH_INFER, 1, 28, 28))
    comm.get().reset_communication_stats()
    t = time.perf_counter()
    out = enc(xi)
    out.get_plain_text()
    cnn = time.perf_counter() - t
    cnn_bytes = comm.get().get_communication_stats()["bytes"]
    if comm.get().get_rank() == 0:
        print("CRYPTEN " + json.dumps({"lr_train_step_s": lr_step, "lr_bytes_per_step": lr_bytes,
                                      "cnn_infer_s": cnn, "cnn_batch": BATCH_INFER,
                                      "cnn_bytes": cnn_bytes}), flush=True)

if __name__ == "__main__":
    crypten.cfg.communicator.verbose = True
    crypten.init()
    bench()
'''


def crypten_figures(python, batch):
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(CRYPTEN_SCRIPT)
    log(f"$ {python} {f.name} {batch}")
    out = subprocess.run([python, f.name, str(batch)], capture_output=True, text=True, timeout=1800)
    for line in out.stdout.splitlines():
        if line.startswith("CRYPTEN "):
            return json.loads(line[len("CRYPTEN "):])
    sys.exit(f"CrypTen run failed:\n{out.stdout}\n{out.stderr[-3000:]}")


def veil_binary():
    exe = os.environ.get("VEIL")
    if exe:
        return exe
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    run_checked(["cargo", "build", "--release", "-p", "veil-cli"], cwd=REPO)
    return os.path.join(target, "release", "veil")


# Set by --insecure-plaintext: launch the parties over plain TCP instead of Noise (the default).
PLAINTEXT = False


def launch(exe, model, mode, task, n, test, threads):
    cmd = [exe, "rtas", "launch", "--model", model, "--mode", mode, "--task", task,
           "--synthetic-mnist", str(n), "--epochs", "1"]
    if PLAINTEXT:
        cmd.append("--insecure-plaintext")
    if test is not None:
        cmd += ["--test", str(test)]
    env = dict(os.environ)
    if threads == 1:
        env["RAYON_NUM_THREADS"] = "1"
    else:
        env.pop("RAYON_NUM_THREADS", None)
    log("$ " + " ".join(cmd) + (" (RAYON_NUM_THREADS=1)" if threads == 1 else ""))
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit(f"launch failed:\n{out.stdout}\n{out.stderr}")
    reports = [json.loads(l[len(PREFIX):]) for l in out.stdout.splitlines() if l.startswith(PREFIX)]
    return {r["role"]: r for r in reports}


def measure(exe, model, mode, task, n, test, threads, repeat):
    """Per-batch time at P0 (s), bytes sent per batch by each party, rounds per batch at P1."""
    runs = [launch(exe, model, mode, task, n, test, threads) for _ in range(repeat)]
    if task == "train":
        steps = runs[0]["P0"]["steps"]
        t = statistics.median(r["P0"]["train_seconds"] / steps for r in runs)
        sent = {p: runs[0][p]["train_bytes_sent"] / steps for p in ("P0", "P1")}
        # The helper does not know the phases: its total, which includes one inference on 32 test
        # images, divided by the number of steps.
        sent["P2"] = runs[0]["P2"]["bytes_sent"] / steps
        rounds = runs[0]["P1"]["train_rounds"] / steps
    else:
        t = statistics.median(r["P0"]["infer_seconds"] for r in runs)
        sent = {p: runs[0][p]["infer_bytes_sent"] for p in ("P0", "P1")}
        sent["P2"] = runs[0]["P2"]["bytes_sent"]
        rounds = runs[0]["P1"]["infer_rounds"]
    spread = [r["P0"]["train_seconds"] / max(r["P0"]["steps"], 1) if task == "train"
              else r["P0"]["infer_seconds"] for r in runs]
    return t, min(spread), max(spread), sent, rounds


def fmt_time(s):
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.3f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "docs" / "rtas-bench.md"))
    ap.add_argument("--quick", action="store_true", help="one run, all cores only")
    ap.add_argument("--crypten", metavar="PYTHON", help="also time CrypTen with this Python")
    ap.add_argument("--crypten-batch", type=int, default=8192)
    ap.add_argument("--insecure-plaintext", action="store_true",
                    help="parties over plain TCP instead of Noise (for the channel's overhead)")
    args = ap.parse_args()
    global PLAINTEXT
    PLAINTEXT = args.insecure_plaintext
    exe = veil_binary()
    repeat = 1 if args.quick else args.repeat
    threads_list = [0] if args.quick else [1, 0]
    load_before = os.getloadavg()
    rows = []
    for model, task, n, test, label in CASES:
        for mode in ("rtas", "fast"):
            for threads in threads_list:
                t, lo, hi, sent, rounds = measure(exe, model, mode, task, n, test, threads, repeat)
                rows.append((label, model, task, mode, threads, t, lo, hi, sent, rounds))
    load_after = os.getloadavg()
    cores = os.cpu_count()
    lines = [
        "# RTAS: three-process benchmark",
        "",
        "Written by `scripts/bench_rtas.py`: `veil rtas launch` runs P0, P1 and P2 as separate OS "
        "processes over loopback TCP ("
        + ("plaintext, `--insecure-plaintext`" if PLAINTEXT else "Noise KK, AES-GCM: the default")
        + "); synthetic 28 x 28 images (timing only). Time is P0's "
        "wall-clock time for one batch (median of "
        f"{repeat} run(s), min-max in brackets); bytes are whole frames sent by each party for "
        "that batch (MB = 10^6 bytes; the paper's Mb are megabits: multiply MB by 8); rounds are "
        "P1's waits for a message. Threads: `1` = RAYON_NUM_THREADS=1 in every party, `all` = "
        f"rayon's default ({cores} per process, three processes on {cores} cores).",
        "",
        f"Machine: {cpu_model()}, {cores} cores; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after (the machine is shared: another engineer's builds and "
        "benchmarks may have run at the same time).",
        f"Commit: `{command_output(['git', 'rev-parse', '--short', 'HEAD']).strip()}`.",
        "",
        "| case | mode | threads | time per batch (P0) | P0 sent | P1 sent | P2 sent | rounds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, model, task, mode, threads, t, lo, hi, sent, rounds in rows:
        mode_name = "RTAS" if mode == "rtas" else "RTAS-fast"
        th = "1" if threads == 1 else "all"
        mb = lambda b: f"{b / 1e6:.3f} MB"
        lines.append(
            f"| {label} | {mode_name} | {th} | {fmt_time(t)} ({fmt_time(lo)}-{fmt_time(hi)}) | "
            f"{mb(sent['P0'])} | {mb(sent['P1'])} | {mb(sent['P2'])} | {rounds:g} |")
    if args.crypten:
        ct = crypten_figures(args.crypten, args.crypten_batch)
        ours = {(r[1], r[2], r[3], r[4]): r[5] for r in rows}
        lr = ours.get(("lr", "train", "rtas", 0))
        cnn = ours.get(("cnn", "infer", "rtas", 0))
        lines += [
            "",
            "CrypTen 0.4.1 (torch 2.1.2), two processes over gloo/TCP on localhost, default "
            "provider (triples from a trusted first party, not counted as traffic), same run:",
            "",
            "| case | CrypTen | Veil RTAS (all cores) | ratio |",
            "|---|---|---|---|",
            f"| LR train step, batch 32, 784 features | {fmt_time(ct['lr_train_step_s'])} "
            f"({ct['lr_bytes_per_step'] / 1e6:.3f} MB) | {fmt_time(lr)} | "
            f"{ct['lr_train_step_s'] / lr:.0f}x |",
            f"| CNN inference, batch {ct['cnn_batch']} | {fmt_time(ct['cnn_infer_s'])} "
            f"({ct['cnn_bytes'] / 1e6:.1f} MB) | {fmt_time(cnn)} (batch 8192) | "
            f"{ct['cnn_infer_s'] * 8192 / ct['cnn_batch'] / cnn:.0f}x (per image) |",
        ]
    lines += [
        "",
        "Paper (sec. 5.4, Tables 3 and 4, LAN, RTAS): CNN inference 10.61 s and 10.23 Mb, "
        "CNN training 0.54 s and 333.6 Mb per batch (16 cores and a T4 GPU). See docs/rtas.md "
        "for the comparison.",
        "",
    ]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    log(f"wrote {args.out}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
