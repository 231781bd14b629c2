"""The nbgrader export: in step with labs/ and solutions/, and valid for nbgrader's own `validate`."""
import shutil
import subprocess
import sys

import pytest

from course_utils.grade import nbgrader_export
from notebook_tools import ROOT, read, tagged

LABS = sorted((ROOT / "labs").glob("*_lab.ipynb"))
VALIDATED = "01_missing_zero_grad_lab"  # the quickest lab to run


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("nbgrader")
    done = subprocess.run([sys.executable, "-m", "course_utils.grade.nbgrader_export", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"wrote {2 * len(LABS)} notebooks" in done.stdout
    return out


def _is_test(cell) -> bool:
    return cell.metadata.get("nbgrader", {}).get("grade") is True


@pytest.mark.parametrize("kind, folder", [("release", "labs"), ("source", "solutions")])
@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_the_export_holds_the_lab_cell_by_cell_with_a_test_after_each_check(exported, lab, kind, folder):
    original = read(ROOT / folder / lab.name)
    export = read(exported / kind / lab.stem / lab.name)
    kept = [c for c in export.cells if not _is_test(c)]
    assert [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in kept] == \
        [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in original.cells]
    for cell in kept:
        meta = cell.metadata["nbgrader"]
        exercise = "exercise" in cell.metadata.get("tags", [])
        assert (meta["solution"], meta["locked"], meta["grade"]) == (exercise, not exercise, False)
    follows = [export.cells[i - 1] for i, c in enumerate(export.cells) if _is_test(c)]
    assert follows == tagged(export, "check") and all(c.metadata["nbgrader"]["points"] == 1
                                                      for c in export.cells if _is_test(c))
    ids = [c.metadata["nbgrader"]["grade_id"] for c in export.cells]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("kind, verdict", [("source", "Success! Your notebook passes all the tests."),
                                           ("release", "VALIDATION FAILED ON 1 CELL(S)!")])
def test_nbgrader_validate_passes_the_solution_and_fails_the_untouched_lab(exported, kind, verdict):
    pytest.importorskip("nbgrader", reason="nbgrader is pinned in requirements.txt: pip install -r requirements.txt")
    path = exported / kind / VALIDATED / f"{VALIDATED}.ipynb"
    done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path)],
                          capture_output=True, text=True, timeout=600, cwd=path.parent)
    assert verdict in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    if kind == "release":
        assert "lab 01: the regression loop: not fixed yet" in done.stdout


def test_the_export_is_written_from_the_course_folders():
    assert nbgrader_export.ROOT == ROOT


def test_nbgrader_autograde_gives_the_fixed_lab_its_points_and_the_untouched_lab_none(exported, tmp_path):
    """The README's classroom round in nbgrader, offline: generate_assignment on our source, our release copied
    over nbgrader's, two collected submissions (one with the exercise fixed as the solution fixes it, one as
    released), autograde, and the gradebook's scores."""
    pytest.importorskip("nbgrader", reason="nbgrader is pinned in requirements.txt: pip install -r requirements.txt")
    import nbformat
    from nbgrader.api import Gradebook

    lab, course = VALIDATED, tmp_path / "course"
    (course / "source").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "course"\n')
    shutil.copytree(exported / "source" / lab, course / "source" / lab)

    def nbgrader(*args):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], capture_output=True, text=True,
                              timeout=600, cwd=course)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    nbgrader("generate_assignment", lab, "--force")
    released = exported / "release" / lab / f"{lab}.ipynb"
    shutil.copy(released, course / "release" / lab / f"{lab}.ipynb")
    fixed = nbformat.read(released, as_version=4)
    solution = {c.metadata["nbgrader"]["grade_id"]: c.source
                for c in read(exported / "source" / lab / f"{lab}.ipynb").cells if c.metadata["nbgrader"]["solution"]}
    for cell in fixed.cells:
        cell.source = solution.get(cell.metadata["nbgrader"]["grade_id"], cell.source)
    assert fixed != nbformat.read(released, as_version=4), "the solution must change an exercise cell"
    for student, notebook in (("fixed", fixed), ("untouched", nbformat.read(released, as_version=4))):
        (course / "submitted" / student / lab).mkdir(parents=True)
        nbformat.write(notebook, course / "submitted" / student / lab / f"{lab}.ipynb")

    nbgrader("autograde", lab, "--create", "--force")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {s: gradebook.find_submission(lab, s) for s in ("fixed", "untouched")}
        points = {s: (sub.score, sub.max_score) for s, sub in scores.items()}
    checks = sum(1 for c in read(released).cells if _is_test(c))
    assert checks >= 1 and points == {"fixed": (checks, checks), "untouched": (0, checks)}, points
