"""The course site's build time: `python -m course_utils.site`, a fresh process each run, no network.

    python benchmarks/site_build.py [--runs 3]

Each run builds the whole site into a temporary folder, imports included, as the documented command
does. Where `unshare -rn` works (a Linux user and network namespace with no interface but loopback),
the build runs inside it, so any download it tried would fail the run; elsewhere it runs as is and
says so. The course needs under two minutes on a 2-core machine (issue 20).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 120


def offline_prefix() -> list:
    """`unshare -rn` if this machine lets an unprivileged process drop its network, else nothing."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn"]
    return []


def time_build(prefix: list, out: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(prefix + [sys.executable, "-m", "course_utils.site", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the build failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    if not (out / "index.html").is_file():
        raise RuntimeError(f"the build wrote no index.html into {out}:\n{done.stdout[-2000:]}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    prefix = offline_prefix()
    print("network: " + ("none (unshare -rn)" if prefix else "not blocked (unshare -rn unavailable here)"))
    with tempfile.TemporaryDirectory(prefix="site-bench-") as work:
        seconds = [time_build(prefix, Path(work) / f"run{i}") for i in range(args.runs)]
    median = statistics.median(seconds)
    print("builds (s): " + ", ".join(f"{s:.1f}" for s in seconds))
    print(f"median {median:.1f} s; budget {BUDGET_SECONDS} s: {'within' if median < BUDGET_SECONDS else 'OVER'}")


if __name__ == "__main__":
    main(sys.argv[1:])
