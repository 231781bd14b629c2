"""The class grader (course_utils.grade) on lab 01's real notebooks and on bad submissions made from them.

Lab 01 is among the quickest labs to grade (8 s untouched or solved; lab 07,
6.5 s, and lab 08, 7 s, are as quick; lab 06 takes 17 s), and its notebook calls
the student's function outside the check too, where nothing but the grader's
time limit stops a loop. Every submission is built here from labs/ and
solutions/, so the cases follow the notebooks. One run grades them two at a
time through the command; a second, serial run regrades a few and must give the
same rows.
"""
import csv
import json
import subprocess
import sys

import nbformat
import pytest

from course_utils import grade
from notebook_tools import ROOT, read, tagged

LAB = ROOT / "labs" / "01_missing_zero_grad_lab.ipynb"
SOLUTION = ROOT / "solutions" / "01_missing_zero_grad_lab.ipynb"
CHECK = "lab 01: the regression loop"
TIME_LIMIT_S = 180  # generous: the grading run shares 2 busy cores
LOOP_LIMIT_S = 20   # for the one submission that loops forever


def solved_source() -> str:
    return tagged(read(SOLUTION), "exercise")[0].source


def lab_copy(exercise_source=None, edit=None):
    """The lab as a student downloads it, with their exercise code, then ``edit(nb)``."""
    nb = read(LAB)
    if exercise_source is not None:
        tagged(nb, "exercise")[0].source = exercise_source
    if edit:
        edit(nb)
    return nb


def _drop_exercise(nb):
    nb.cells.remove(tagged(nb, "exercise")[0])


def _rename_exercise(nb):
    cell = tagged(nb, "exercise")[0]
    cell.id, cell.metadata["tags"] = "a-new-cell", []


def _new_id(nb):
    """A copied cell, whose fit also prints while it trains (the check's own output stays its own)."""
    cell = tagged(nb, "exercise")[0]
    cell.id = "copied-cell"
    cell.source = cell.source.replace("    history = []", '    print("training for", epochs, "epochs")\n    history = []')
    assert "training for" in cell.source


def _edit_check(nb):
    tagged(nb, "check")[0].source = 'print("PASSED  lab 01: the regression loop: passed")'


REPORT_INSIDE = ("from course_utils.labs import report\n" + solved_source().replace(
    "    return history", '    report("lab 01: the regression loop", True, ["all good"])\n    return history'))
RUNTIME_PATCH = ('def _always(fit):\n    return cu.labs.report("lab 01: the regression loop", True, ["all good"])\n\n'
                 'lab.check_fit = _always\n')

# student -> (notebook or raw text, verdict, words its message must hold)
CASES = {
    "solution": (lambda: read(SOLUTION), grade.PASSED, "explains more than 90%"),
    "untouched": (lambda: lab_copy(), grade.NOT_PASSED, "not fixed yet"),
    "not_json": (lambda: "{ this is not json", grade.INVALID, "not a readable notebook"),
    "json_not_notebook": (lambda: '{"hello": 1}', grade.INVALID, "not a readable notebook"),
    "wrong_lab": (lambda: read(ROOT / "solutions" / "03_dying_relu_lab.ipynb"), grade.WRONG_LAB,
                  "03_dying_relu_lab.ipynb"),
    "syntax": (lambda: lab_copy("def fit(model, optimizer:\n    pass"), grade.SYNTAX, "does not compile (line 1"),
    "raises": (lambda: lab_copy("raise RuntimeError('oops')\n" + solved_source()), grade.ERROR,
               "exercise cell 1 raised RuntimeError: oops"),
    "prints_gigabytes": (lambda: lab_copy("while True:\n    print('x' * 1_000_000)"), grade.OUTPUT_LIMIT,
                         "printed more than"),
    "deleted_exercise": (lambda: lab_copy(edit=_drop_exercise), grade.MISSING, "is missing from the submission"),
    "renamed_exercise": (lambda: lab_copy(solved_source(), _rename_exercise), grade.MISSING,
                         "the exercise cell 'def fit(model"),
    "new_cell_id": (lambda: lab_copy(solved_source(), _new_id), grade.PASSED, "matched by position"),
    "edited_check": (lambda: lab_copy(edit=_edit_check), grade.NOT_PASSED, "edit to the check cell"),
    "rebinds_check": (lambda: lab_copy(solved_source() + "\nlab.check_fit = lambda fit: None"), grade.TAMPERING,
                      "writes into lab.check_fit"),
    "patches_report": (lambda: lab_copy("import course_utils.labs as L\nL.report = print\n" + solved_source()),
                       grade.TAMPERING, "writes into L.report"),
    "patches_builtins": (lambda: lab_copy("import builtins\nbuiltins.isinstance = lambda *a: True\n" + solved_source()),
                         grade.TAMPERING, "imports builtins"),
    "sys_modules": (lambda: lab_copy("import sys\nsys.modules['course_utils.labs'] = None\n" + solved_source()),
                    grade.TAMPERING, "uses sys.modules"),
    "setattr": (lambda: lab_copy(solved_source() + "\nsetattr(lab, 'check_fit', print)"), grade.TAMPERING,
                "calls setattr()"),
    "reports_inside_fit": (lambda: lab_copy(REPORT_INSIDE), grade.TAMPERING, "the lab's check records 1"),
    "kills_kernel": (lambda: lab_copy("import os\nos._exit(1)"), grade.ERROR, "kernel died"),
}
if sys.platform.startswith("linux"):  # the memory limit is Linux's RLIMIT_DATA; 512 GiB asked for, never touched
    CASES["takes_512_gib"] = (lambda: lab_copy("import numpy as np\nheld = [np.empty(2**30) for _ in range(64)]\n"
                                               + solved_source()), grade.ERROR,
                              f"ran out of memory: the grader gives a notebook {grade.DEFAULT_MEMORY_LIMIT_GB:g} GiB")
SERIAL_AGAIN = ["untouched", "not_json", "wrong_lab", "prints_gigabytes", "rebinds_check"]


def write_submissions(folder, cases) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for student, (make, _, _) in cases.items():
        made = make()
        path = folder / f"{student}.ipynb"
        if isinstance(made, str):
            path.write_text(made)
        else:
            nbformat.write(made, str(path))
        paths.append(path)
    return paths


def run_grader(paths, out, *flags) -> tuple:
    done = subprocess.run([sys.executable, "-m", "course_utils.grade", str(LAB), *map(str, paths), "--out", str(out),
                           *flags], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "grades.csv", newline="") as handle:
        return done.stdout, list(csv.DictReader(handle))


def without_seconds(rows) -> list:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grading")
    paths = write_submissions(folder / "in", CASES)
    stdout, rows = run_grader(paths, folder / "out", "--jobs", "2", "--time-limit", str(TIME_LIMIT_S))
    return folder, stdout, {row["student"]: row for row in rows}, rows


@pytest.mark.parametrize("student", sorted(CASES))
def test_each_submission_gets_its_verdict_and_says_why(class_run, student):
    _, _, by_student, _ = class_run
    _, verdict, words = CASES[student]
    row = by_student[student]
    assert (row["verdict"], row["check"]) == (verdict, CHECK), row["message"]
    assert words in row["message"], row["message"]
    assert float(row["seconds"]) >= 0


def test_one_row_per_student_in_a_fixed_order_with_progress_a_summary_and_feedback(class_run):
    folder, stdout, _, rows = class_run
    assert [r["student"] for r in rows] == sorted(CASES)
    assert stdout.count("] ") == len(CASES) and f"[{len(CASES)}/{len(CASES)}]" in stdout
    assert f"{len(CASES)} students:" in stdout and "1 wrong lab" in stdout
    solved = (folder / "out" / "feedback" / "solution.txt").read_text()
    assert "PASSED" in solved and "explains more than 90%" in solved
    untouched = (folder / "out" / "feedback" / "untouched.txt").read_text()
    assert "NOT PASSED" in untouched and "hint: " in untouched
    executed = read(folder / "out" / "executed" / "solution.ipynb")
    assert any("PASSED  lab 01" in json.dumps(c.get("outputs", [])) for c in executed.cells)


def test_a_serial_rerun_gives_the_same_rows(class_run):
    folder, _, _, rows = class_run
    paths = write_submissions(folder / "again", {s: CASES[s] for s in SERIAL_AGAIN})
    _, serial = run_grader(paths, folder / "out-serial", "--jobs", "1", "--time-limit", str(TIME_LIMIT_S))
    assert without_seconds(serial) == without_seconds([r for r in rows if r["student"] in SERIAL_AGAIN])


def test_a_loop_ends_at_the_time_limit_and_the_kernel_check_alone_catches_a_rebound_check(tmp_path):
    """The second submission gets past the static read (turned off): the grader's last cell still sees it."""
    lab = grade.Lab.load(LAB)
    loop, patched = write_submissions(tmp_path, {"loops": (lambda: lab_copy("while True:\n    pass"), None, None),
                                                 "patched": (lambda: lab_copy(RUNTIME_PATCH), None, None)})
    (row,) = grade.grade_submission(lab, loop, time_limit_s=LOOP_LIMIT_S).rows
    assert row.verdict == grade.TIMEOUT and f"ran for more than {LOOP_LIMIT_S} s" in row.message
    (row,) = grade.grade_submission(lab, patched, time_limit_s=TIME_LIMIT_S, static=False).rows
    assert row.verdict == grade.TAMPERING, row.message
    assert "course_utils.checks.missing_zero_grad.check_fit is not the course's own function" in row.message
    assert grade.integrity.static_findings(RUNTIME_PATCH, lab.protected), "the static read sees it too"


@pytest.mark.parametrize("lab_path", sorted((ROOT / "labs").glob("*_lab.ipynb")), ids=lambda p: p.name)
def test_the_static_read_passes_every_lab_and_solution(lab_path):
    """No false alarm: the shipped exercise cells, solved or not, reach into nothing."""
    lab = grade.Lab.load(lab_path)
    for nb in (read(lab_path), read(ROOT / "solutions" / lab_path.name)):
        for cell in tagged(nb, "exercise"):
            assert grade.integrity.static_findings(cell.source, lab.protected) == []


def test_the_static_read_tells_a_library_call_from_a_reach_into_the_interpreter():
    innocent = ["for m in model.modules():\n    pass", "model.compile(optimizer='adam')", "import gc\ngc.collect()",
                "import sys\nprint(sys.version)", "events = ['a']\nrecord.events.append(1)"]
    assert [grade.integrity.static_findings(code, {"lab"}) for code in innocent] == [[]] * len(innocent)
    reaching = {"import sys as s\ns.modules.pop('x')": "uses sys.modules",
                "get_ipython().events.register('pre_run_cell', print)": "uses get_ipython().events",
                "f.__code__ = g.__code__": "a function's __code__", "exec('lab.check_fit = print')": "calls exec()"}
    for code, words in reaching.items():
        assert any(words in line for line in grade.integrity.static_findings(code, {"lab"})), code


def test_a_student_is_the_file_name_or_the_folder_that_tells_kept_names_apart(tmp_path):
    kept = [tmp_path / "submitted" / student / LAB.stem / LAB.name for student in ("ann", "ben")]  # nbgrader's layout
    assert grade.student_ids([*kept, tmp_path / "cy.ipynb"], LAB) == ["ann", "ben", "cy"]
    assert grade.student_ids([tmp_path / "home" / "dee" / LAB.name], LAB) == ["dee"]


def test_two_submissions_with_one_student_id_are_refused_before_grading(tmp_path):
    for student in ("ann", "ben"):
        (tmp_path / student).mkdir()
        nbformat.write(read(LAB), str(tmp_path / student / LAB.name))
    (tmp_path / "x").mkdir()
    nbformat.write(read(LAB), str(tmp_path / "x" / "ann.ipynb"))
    with pytest.raises(ValueError, match="same student id: ann"):
        grade.grade_class(LAB, [tmp_path / "ann" / LAB.name, tmp_path / "x" / "ann.ipynb"], tmp_path / "out")
