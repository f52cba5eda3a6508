"""Helpers shared by the side-by-side benchmark scripts (bench_paillier_vs_phe.py,
bench_bfv_vs_seal.py): running commands, machine description, criterion's result layout and
number formatting. Python standard library only."""
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def split_argv(argv):
    """Everything after the first `--` is passed to criterion."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def run_checked(cmd, **kw):
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=True, **kw)


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command_output(cmd, cwd=REPO):
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine_line(peer_versions):
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rev = command_output(["git", "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "status", "--porcelain", "--untracked-files=no"])
    if rev != "?" and dirty not in ("", "?"):
        rev += " (with uncommitted changes)"
    return (f"Machine: {cpu_model()}, nproc={nproc}, {platform.system()} {platform.release()}; {date}; "
            f"{command_output(['rustc', '--version'])}; {peer_versions}; veil commit {rev}")


def criterion_dir():
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    meta = command_output(["cargo", "metadata", "--format-version", "1", "--no-deps"])
    try:
        return Path(json.loads(meta)["target_directory"]) / "criterion"
    except (ValueError, KeyError):
        return REPO / "target" / "criterion"


def parse_id(full_id):
    op, *params = full_id.split("/")
    kv = dict(p.split("=", 1) for p in params if "=" in p)
    return op, kv


def fmt_us(x):
    if x is None:
        return "—"
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def publish(text, out):
    """Prints a Markdown report and writes it to `out` (relative paths are under the repo)."""
    print(text)
    path = Path(out) if Path(out).is_absolute() else REPO / out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    log(f"wrote {path}")
