"""The command: python -m course_utils.grade LAB.ipynb SUBMISSION.ipynb ... --out DIR [--jobs N].

Exit status: 0 when every submission was graded (whatever its verdicts), 2 on a usage error.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import DEFAULT_MEMORY_LIMIT_GB, DEFAULT_OUTPUT_LIMIT_MB, DEFAULT_TIME_LIMIT_S, Lab, grade_class, summary


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils.grade", description=(
        "Grade students' copies of one lab: each student's exercise cells run inside the official lab notebook "
        "in a fresh kernel, under a time limit, an output cap and a memory limit, with checks for tampering."))
    p.add_argument("lab", help="the official lab notebook, e.g. labs/03_dying_relu_lab.ipynb")
    p.add_argument("submissions", nargs="+", help="the students' notebooks (student id: the file name's stem; for files "
                   "that kept the lab's name, the folder that tells them apart)")
    p.add_argument("--out", default="grades", help="folder for grades.csv, feedback/ and executed/ (default: grades)")
    p.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                   help="submissions graded at once, one kernel each (default: half the cores)")
    p.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S,
                   help=f"seconds for one whole notebook (default: {DEFAULT_TIME_LIMIT_S})")
    p.add_argument("--output-limit", type=float, default=DEFAULT_OUTPUT_LIMIT_MB,
                   help=f"megabytes of output one notebook may send (default: {DEFAULT_OUTPUT_LIMIT_MB:g})")
    p.add_argument("--memory-limit", type=float, default=DEFAULT_MEMORY_LIMIT_GB,
                   help=f"GiB of private memory one notebook's kernel may take, Linux only; 0: no limit "
                        f"(default: {DEFAULT_MEMORY_LIMIT_GB:g})")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        Lab.load(args.lab)
    except Exception as error:
        print(f"cannot use {args.lab} as the lab: {error}", file=sys.stderr)
        return 2
    print(f"grading {len(args.submissions)} submission(s) of {args.lab}, {args.jobs} at a time", flush=True)
    try:
        grades = grade_class(args.lab, args.submissions, args.out, jobs=args.jobs, time_limit_s=args.time_limit,
                             output_limit_mb=args.output_limit, progress=lambda line: print(line, flush=True),
                             memory_limit_gb=args.memory_limit)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print()
    print(summary(grades))
    out = Path(args.out)
    print(f"\nwrote {out / 'grades.csv'}, {out / 'feedback'}/ and {out / 'executed'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
