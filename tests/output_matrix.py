"""The configuration matrix: does a notebook print the same on every machine?

The math libraries pick their kernels, and so their rounding, by CPU; a printed
figure must be a fact of the bug, not of the CPU. On one machine, these
configurations stand in for other machines (see the course guide):

    native    whatever this CPU has (AVX-512 on the project's machines)
    avx2      torch, oneDNN, MKL and OpenBLAS pinned to AVX2 (most laptops)
    scalar    the portable paths: no vector kernels above SSE4 (the most different)
    threads2  torch and TensorFlow on two threads (sums split another way)

The libraries read these variables when they load, so they are set in the
environment of each kernel that is started. Uses:

    python tests/output_matrix.py lessons/01_missing_zero_grad.ipynb ...
        run each notebook once per configuration and list the cells whose
        compared outputs differ between configurations or from the committed
        outputs (for authors: find fragile figures before committing)

    python tests/output_matrix.py --release [pytest args]
        the instructors' check before a release: nbval over lessons/ and
        solutions/ with outputs compared, and every lab check, once per
        configuration; prints one line per configuration

    --configs native,scalar   choose configurations (default: all four)
    --jobs N                  notebooks run at once (default 2)
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_tools import ROOT, read  # noqa: E402

CONFIGURATIONS = {
    "native": {},
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
    },
    "scalar": {
        "ATEN_CPU_CAPABILITY": "default",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
        "OPENBLAS_CORETYPE": "Nehalem",
    },
    "threads2": {"COURSE_THREADS": "2"},
}
# The configuration `pytest` adds to the native run: the one that differed most.
SUITE_CONFIGURATION = "scalar"

COMPARED_FOLDERS = ("lessons", "solutions")
IGNORED_MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")
SKIPPED_DATA = {"image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json"}


def environment(config: str) -> dict:
    """This process's environment with one configuration's variables set (and no stale ones)."""
    matrix_variables = {name for variables in CONFIGURATIONS.values() for name in variables}
    env = {k: v for k, v in os.environ.items() if k not in matrix_variables}
    env.update(CONFIGURATIONS[config])
    # The python3 kernel spec runs "python" from PATH: make it this environment's.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def sanitize_patterns():
    """The suite's sanitize rules, read the way nbval reads them."""
    from nbval.plugin import get_sanitize_patterns

    text = (ROOT / "tests" / "sanitize.cfg").read_text(encoding="ascii")
    return [(re.compile(regex), replace) for regex, replace in get_sanitize_patterns(text)]


def compared_outputs(nb) -> list[str | None]:
    """What nbval compares in each code cell, sanitized; None for a cell it ignores."""
    patterns = sanitize_patterns()
    cells = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        if any(marker in cell.source for marker in IGNORED_MARKERS):
            cells.append(None)
            continue
        parts = []
        for output in cell.outputs:
            if output.output_type == "stream":
                if output.name == "stdout":
                    parts.append(output.text)
            elif output.output_type == "error":
                parts.append(f"{output.ename}: {output.evalue}")
            else:
                parts += [str(v) for k, v in output.get("data", {}).items() if k not in SKIPPED_DATA]
        text = "".join(parts)
        for regex, replace in patterns:
            text = regex.sub(replace, text)
        cells.append(text)
    return cells


def execute_in(path: Path, config: str, timeout: int = 900):
    """Run a notebook top to bottom in a fresh kernel under one configuration."""
    code = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        f"NotebookClient(nb, timeout={timeout}, kernel_name='python3', allow_errors=True,\n"
        "               resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "nbformat.write(nb, sys.stdout)\n"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, str(path), str(path.parent)],
        env=environment(config), capture_output=True, text=True, timeout=timeout * 4,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{path.name} under {config} did not run:\n{result.stderr[-2000:]}")
    return nbformat.reads(result.stdout, as_version=4), time.perf_counter() - started


def fragile_cells(path: Path, configs, jobs: int = 2) -> dict[int, dict[str, str]]:
    """Code cells (nbval's numbering) whose compared outputs differ; per cell, each variant's text."""
    with ThreadPoolExecutor(jobs) as pool:
        runs = dict(zip(configs, pool.map(lambda c: execute_in(path, c), configs)))
    outputs = {"committed": compared_outputs(read(path))}
    for config, (nb, seconds) in runs.items():
        outputs[config] = compared_outputs(nb)
        print(f"  {config:9} {seconds:6.1f} s", flush=True)
    fragile = {}
    for index, committed in enumerate(outputs["committed"]):
        variants = {name: cells[index] if index < len(cells) else "<missing>" for name, cells in outputs.items()}
        if committed is not None and len(set(variants.values())) > 1:
            fragile[index] = variants
    return fragile


def show_differences(fragile: dict[int, dict[str, str]]) -> None:
    import difflib

    for index, variants in fragile.items():
        names = [n for n, text in variants.items() if text != variants["committed"]]
        print(f"  Cell {index}: differs from the committed output under {', '.join(names)}")
        for name in names:
            diff = difflib.unified_diff(
                variants["committed"].splitlines(), variants[name].splitlines(), "committed", name, lineterm="", n=0
            )
            for line in list(diff)[2:]:
                print(f"      {line}")


def release_check(configs, pytest_args) -> int:
    """nbval with outputs compared, and every lab check, under each configuration."""
    targets = [*COMPARED_FOLDERS, "tests/test_notebooks.py::test_lab_check_fails_on_the_lab_and_passes_on_the_solution"]
    failed = []
    for config in configs:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *targets, *pytest_args],
            cwd=ROOT, env=environment(config), capture_output=True, text=True,
        )
        summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"{config:9} {'passed' if result.returncode == 0 else 'FAILED':6} in {time.perf_counter() - started:5.0f} s: {summary}", flush=True)
        if result.returncode != 0:
            failed.append(config)
            print(result.stdout[-4000:])
    print("every configuration passed" if not failed else f"failed under: {', '.join(failed)}")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--release", action="store_true", help="nbval and lab checks under every configuration")
    parser.add_argument("--configs", default=",".join(CONFIGURATIONS))
    parser.add_argument("--jobs", type=int, default=2)
    args, rest = parser.parse_known_args(argv)
    configs = args.configs.split(",")
    unknown = set(configs) - set(CONFIGURATIONS)
    if unknown:
        parser.error(f"unknown configuration(s) {sorted(unknown)}; choose from {list(CONFIGURATIONS)}")
    if args.release:
        return release_check(configs, rest)
    if rest or not args.notebooks:
        parser.error("name notebooks to check, or use --release")
    any_fragile = False
    for path in args.notebooks:
        print(f"{path}:", flush=True)
        fragile = fragile_cells(path.resolve(), configs, args.jobs)
        if fragile:
            any_fragile = True
            show_differences(fragile)
        else:
            print("  every compared cell is the same in every configuration")
    return 1 if any_fragile else 0


if __name__ == "__main__":
    sys.exit(main())
