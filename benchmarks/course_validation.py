"""Whole-course validation cost: each notebook's wall time and its kernel's peak memory.

    python benchmarks/course_validation.py          # every notebook, one at a time
    python benchmarks/course_validation.py --suite  # also time the whole `pytest` run

Each notebook runs top to bottom in a fresh kernel (what nbval does); the
kernel's peak resident memory is read from inside it at the end
(resource.getrusage, in MiB). The suite's wall time is what CI pays on top of
installing requirements.txt (CI allows 90 minutes in all on 2 cores).
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from notebook_tools import all_notebooks, execute, stdout_of  # noqa: E402

PEAK_MEMORY = "import resource\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"


def main(argv):
    total = 0.0
    print(f"{'notebook':50} {'wall time':>10} {'peak memory':>12}")
    for path in all_notebooks():
        started = time.perf_counter()
        nb = execute(path, append_source=PEAK_MEMORY)
        seconds = time.perf_counter() - started
        total += seconds
        peak_mib = float(stdout_of(nb.cells[-1]).strip().splitlines()[-1])
        print(f"{path.relative_to(ROOT).as_posix():50} {seconds:>8.1f} s {peak_mib:>8.0f} MiB")
    print(f"{'all notebooks, one run each':50} {total:>8.1f} s")
    if "--suite" in argv:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT)
        print(f"{'the whole suite (pytest)':50} {time.perf_counter() - started:>8.1f} s (exit {result.returncode})")


if __name__ == "__main__":
    main(sys.argv[1:])
