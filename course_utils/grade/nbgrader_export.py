"""Export the labs for nbgrader: python -m course_utils.grade.nbgrader_export --out DIR.

For each lab it writes ``DIR/source/<lab>/<lab>.ipynb`` (the solution, for
nbgrader's gradebook) and ``DIR/release/<lab>/<lab>.ipynb`` (what students
get: the lab's starting code). Both carry nbgrader's cell metadata (schema 3):

- an exercise cell is a solution cell (the student writes there);
- every other cell is locked (nbgrader restores it before autograding);
- after each check cell comes one autograder test cell worth 1 point that
  fails unless the check just recorded a pass. The lab's own check decides;
  the test cell only turns its verdict into an error nbgrader can count.

nbgrader's ``generate_assignment`` replaces a whole solution cell with its
"YOUR CODE HERE" stub, while a lab's exercise is to fix the code it gives; so
the release notebook is written here, with the lab's starting code, to be
copied over the one ``generate_assignment`` makes (README, "For instructors").
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from .assemble import CHECK, EXERCISE
from .notebooks import read

ROOT = Path(__file__).resolve().parents[2]
TEST_SOURCE = (
    "# Autograder test (nbgrader): the lab's check above must have passed.\n"
    "import course_utils.labs as _labs\n"
    "assert _labs.RESULTS and _labs.RESULTS[-1].passed, str(_labs.RESULTS[-1]) if _labs.RESULTS else 'no check ran'"
)


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def for_nbgrader(nb) -> nbformat.NotebookNode:
    """A lab or solution notebook with nbgrader's metadata and a test cell after each check cell, outputs cleared."""
    cells, checks = [], 0
    for index, cell in enumerate(nb.cells):
        cell = nbformat.from_dict(cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        exercise = EXERCISE in _tags(cell)
        cell.metadata["nbgrader"] = _meta(f"cell_{index:02d}", solution=exercise, locked=not exercise)
        cells.append(cell)
        if CHECK in _tags(cell):
            checks += 1
            test = nbformat.v4.new_code_cell(TEST_SOURCE, id=f"nbgrader-test-{checks}")
            test.metadata["nbgrader"] = _meta(f"check_{checks}", grade=True, locked=True, points=1)
            cells.append(test)
    return nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)


def export(out, root: Path = ROOT) -> list:
    """Write every lab's source and release notebooks under ``out``; returns the files written."""
    out, written = Path(out), []
    for lab in sorted((root / "labs").glob("*_lab.ipynb")):
        for kind, path in (("source", root / "solutions" / lab.name), ("release", lab)):
            target = out / kind / lab.stem / lab.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(for_nbgrader(read(path)), str(target))
            written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.grade.nbgrader_export", description=(
        "Write the labs in nbgrader's format: source/<lab>/ (solved) and release/<lab>/ (the students' version)."))
    parser.add_argument("--out", default="nbgrader_export", help="folder to write (default: nbgrader_export)")
    args = parser.parse_args(argv)
    written = export(args.out)
    print(f"wrote {len(written)} notebooks under {args.out}/source/ and {args.out}/release/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
