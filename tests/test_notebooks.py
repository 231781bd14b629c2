"""Notebook hygiene, lab/solution pairing, and lab checks that really decide.

nbval (run by `pytest` over lessons/, solutions/ and labs/) re-executes the
notebooks and compares outputs; these tests check what nbval does not.
"""
import json
import re

import pytest

from notebook_tools import ROOT, all_notebooks, code_cells, lab_check_results, read, tagged

NOTEBOOKS = all_notebooks()
LABS = sorted((ROOT / "labs").glob("*_lab.ipynb"))
APPROX = "\u2248"  # course_utils.fmt.APPROX: nbval's sanitize rule masks the figure after it
CHECKED = re.compile(r"\bclaim\(|\bassert\b")
MACHINE_PATH = re.compile(r"(/(root|home|tmp|work|Users)/|[A-Z]:\\\\)")


def ids(paths):
    return [p.relative_to(ROOT).as_posix() for p in paths]


def test_there_are_notebooks_and_every_lesson_has_a_number():
    assert (ROOT / "lessons" / "00_the_overfit_test.ipynb") in NOTEBOOKS
    for path in NOTEBOOKS:
        assert re.match(r"\d\d_[a-z0-9_]+\.ipynb$", path.name), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_is_committed_executed_and_clean(path):
    nb = read(path)
    cells = code_cells(nb)
    assert cells, "no code"
    counts = [c.execution_count for c in cells]
    assert None not in counts, "some code cells were never executed"
    assert counts == list(range(1, len(cells) + 1)), f"not executed once, in order, from the top: {counts}"
    assert "cu.setup(" in cells[0].source or "cu.setup(" in cells[1].source, "seed everything at the top"
    for cell in cells:
        for output in cell.outputs:
            if output.output_type == "error":
                assert "NBVAL_RAISES_EXCEPTION" in cell.source, f"error output: {output.ename}"
            assert not (output.output_type == "stream" and output.name == "stderr"), f"stderr: {output.text[:200]}"
            assert not MACHINE_PATH.search(json.dumps(output)), "an absolute path of this machine in an output"
            if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
                assert cell.source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT"), "widget cell must be ignored by nbval"
            assert "image/svg+xml" not in output.get("data", {}), "use PNG figures (SVG embeds a date)"
            if APPROX in json.dumps(output, ensure_ascii=False):
                assert CHECKED.search(cell.source), "a figure marked as machine-dependent needs its claim checked in the same cell (cu.claim or assert)"


LONGEST_CELL = 30  # lines; a longer cell must be the bug itself, tagged "the-bug"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_code_cells_are_short_so_the_notebook_reads_as_prose(path):
    """Plumbing lives in course_utils/lessons/; the notebook keeps what a student must read."""
    long_cells = [(index, len(cell.source.splitlines())) for index, cell in enumerate(code_cells(read(path)))
                  if len(cell.source.splitlines()) > LONGEST_CELL and "the-bug" not in cell.metadata.get("tags", [])]
    assert not long_cells, f"code cells (index, lines) over {LONGEST_CELL} lines: {long_cells}"


@pytest.mark.parametrize("lab", LABS, ids=ids(LABS))
def test_lab_and_solution_differ_only_in_exercise_cells(lab):
    solution = ROOT / "solutions" / lab.name
    assert solution.exists(), f"{lab.name} has no solution"
    lab_nb, solution_nb = read(lab), read(solution)
    assert len(lab_nb.cells) == len(solution_nb.cells)
    assert tagged(lab_nb, "exercise") and tagged(lab_nb, "check"), "tag the exercise and the check cells"
    differing = 0
    for a, b in zip(lab_nb.cells, solution_nb.cells):
        a_tags, b_tags = a.get("metadata", {}).get("tags", []), b.get("metadata", {}).get("tags", [])
        assert a_tags == b_tags and a.cell_type == b.cell_type
        if "exercise" in a_tags:
            differing += a.source != b.source
        else:
            assert a.source == b.source, f"a non-exercise cell differs:\n{a.source[:200]}"
    assert differing >= 1, "the solution solves nothing"


def test_every_solution_has_a_lab():
    for solution in (ROOT / "solutions").glob("*.ipynb"):
        assert (ROOT / "labs" / solution.name).exists()


@pytest.mark.parametrize("lab", LABS, ids=ids(LABS))
def test_lab_check_fails_on_the_lab_and_passes_on_the_solution(lab):
    lab_results = lab_check_results(lab)
    solution_results = lab_check_results(ROOT / "solutions" / lab.name)
    assert lab_results and solution_results, "the notebooks ran no check"
    assert not any(r["passed"] for r in lab_results), lab_results
    assert all(r["passed"] for r in solution_results), solution_results
    assert [r["check"] for r in lab_results] == [r["check"] for r in solution_results]


def test_outputs_and_lab_verdicts_hold_in_another_configuration():
    """nbval (outputs compared) over lessons/ and solutions/, and every lab check, on the scalar paths.

    The committed outputs were made natively on one CPU; an instructor's CPU picks other
    kernels and rounds differently. tests/output_matrix.py names the configurations; the
    suite adds the one that differed most from native, and `output_matrix.py --release`
    runs them all.
    """
    from output_matrix import SUITE_CONFIGURATION, release_check

    assert release_check([SUITE_CONFIGURATION], []) == 0
