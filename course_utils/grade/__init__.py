"""Grade a class's lab submissions: each student's exercise cells run inside the official lab, checked for tampering.

    python -m course_utils.grade labs/03_dying_relu_lab.ipynb submissions/*.ipynb --out grades/

writes grades/grades.csv (student, check, verdict, message, seconds),
grades/feedback/<student>.txt and grades/executed/<student>.ipynb, prints a
line per submission as it finishes and a summary table at the end. The README's
"For instructors" says what each verdict means.
"""
from __future__ import annotations

import csv
import os
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import assemble, integrity
from .notebooks import error_of, read, result_text, run_capped, tagged, text_of

PASSED, NOT_PASSED, ERROR, SYNTAX = "passed", "not passed", "error", "syntax error"
TIMEOUT, OUTPUT_LIMIT, TAMPERING = "timeout", "output limit", "tampering"
INVALID, WRONG_LAB, MISSING = "invalid notebook", "wrong lab", "missing exercise"
GRADER_ERROR = "grader error"
VERDICTS = (PASSED, NOT_PASSED, MISSING, ERROR, SYNTAX, TIMEOUT, OUTPUT_LIMIT, TAMPERING, INVALID, WRONG_LAB, GRADER_ERROR)

DEFAULT_TIME_LIMIT_S = 600      # the whole notebook, kernel start included; a lab runs in seconds to a minute
DEFAULT_OUTPUT_LIMIT_MB = 20    # everything the notebook sends; a lab's figures and text are well under 1 MB
# private memory of one notebook's kernel: the solutions' largest is lab 06's, 0.82 GiB (VmData, 2 cores), and each
# 64 cores add about 1 GiB of thread stacks and BLAS buffers (measured: 0.6 -> 1.6 GiB after numpy, torch and
# TensorFlow at 2 and 64 threads); 4 GiB plus that stops a runaway allocation long before it takes a laptop
DEFAULT_MEMORY_LIMIT_GB = 4 + (os.cpu_count() or 2) // 64
CSV_COLUMNS = ("student", "check", "verdict", "message", "seconds")


@dataclass
class Row:
    check: str
    verdict: str
    message: str
    evidence: list = field(default_factory=list)
    hint: str = ""


@dataclass
class StudentGrade:
    student: str
    path: Path
    rows: list
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    executed: object = None   # the executed notebook, when one ran


@dataclass
class Lab:
    """What the grader needs from the official lab, read once for the whole class."""

    path: Path
    nb: object
    checks: list            # per check cell: its check names
    called: list            # names the check cells call
    protected: set          # names the lab's own cells import from course_utils
    course: dict            # integrity.course_code()

    @classmethod
    def load(cls, path) -> "Lab":
        path = Path(path)
        nb = read(path)
        if not tagged(nb, assemble.EXERCISE) or not tagged(nb, assemble.CHECK):
            raise ValueError(f"{path} has no cell tagged 'exercise' or none tagged 'check': is it a lab of the course?")
        fixed = [c for c in nb.cells if c.cell_type == "code" and assemble.EXERCISE not in c.metadata.get("tags", [])]
        return cls(path, nb, assemble.expected_checks(nb), assemble.called_names(nb),
                   integrity.course_names(fixed), integrity.course_code())

    @property
    def check_names(self) -> list:
        return [name for names in self.checks for name in names]


def student_ids(paths, lab_path: Path) -> list:
    """Each submission's student: its file name's stem, unless the file kept the lab's own name.

    Files that kept the lab's name sit in one folder per student (nbgrader's
    submitted/<student>/<lab>/, or /home/<user>/labs/ on a JupyterHub): their
    student is the first folder, below the folders they all share, that tells them
    apart (the folder holding the file, if there is only one such file).
    """
    paths = [Path(p).resolve() for p in paths]
    kept = [p for p in paths if p.stem == Path(lab_path).stem]
    shared = Path(os.path.commonpath([p.parent for p in kept])) if len(kept) > 1 else None
    ids = []
    for path in paths:
        if path.stem != Path(lab_path).stem:
            ids.append(path.stem)
        elif shared is None or path.parent == shared:
            ids.append(path.parent.name)
        else:
            ids.append(path.relative_to(shared).parts[0])
    return ids


def _whole(lab: Lab, verdict: str, message: str) -> list:
    return [Row(name, verdict, message) for name in lab.check_names]


def grade_submission(lab: Lab, path, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
                     output_limit_mb: float = DEFAULT_OUTPUT_LIMIT_MB, static: bool = True,
                     student: str | None = None, memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB) -> StudentGrade:
    """Grade one submission. Never raises: a failure of the grader itself becomes a 'grader error' row."""
    path = Path(path)
    grade = StudentGrade(student or student_ids([path], lab.path)[0], path, [])
    started = time.monotonic()
    try:
        _grade(lab, path, grade, time_limit_s, output_limit_mb, static, memory_limit_gb)
    except Exception as error:  # the grader's own bug must not stop the class
        last = traceback.extract_tb(error.__traceback__)[-1]
        grade.rows = _whole(lab, GRADER_ERROR, f"the grader failed on this submission: {type(error).__name__}: "
                                               f"{error} ({Path(last.filename).name}:{last.lineno})")
    grade.seconds = time.monotonic() - started
    return grade


def _grade(lab: Lab, path: Path, grade: StudentGrade, time_limit_s, output_limit_mb, static, memory_limit_gb) -> None:
    try:
        submission = read(path)
        submission.cells  # noqa: B018 (a JSON object without cells is not a notebook)
    except Exception as error:
        grade.rows = _whole(lab, INVALID, f"{path.name} is not a readable notebook ({type(error).__name__}: "
                                          f"{str(error).splitlines()[0][:200] if str(error) else 'empty'})")
        return
    wrong = assemble.wrong_lab(lab.path, lab.nb, submission)
    if wrong:
        grade.rows = _whole(lab, WRONG_LAB, wrong)
        return
    placement = assemble.place_exercises(lab.nb, submission)
    grade.notes = placement.notes + assemble.edited_cells(lab.nb, submission)
    student_sources = placement.student_sources
    broken = [(i + 1, e) for i, s in enumerate(student_sources) if (e := integrity.syntax_error(s))]
    if broken:
        grade.rows = _whole(lab, SYNTAX, "; ".join(f"exercise cell {i} does not compile ({e})" for i, e in broken)
                            + ": nothing was run")
        return
    findings = [f for s in student_sources for f in integrity.static_findings(s, lab.protected)] if static else []
    if findings:
        grade.rows = _whole(lab, TAMPERING, "the exercise code reaches into the course or the interpreter: "
                                            + "; ".join(findings[:4]) + ("; ..." if len(findings) > 4 else ""))
        return
    _run_and_judge(lab, placement, grade, time_limit_s, output_limit_mb, memory_limit_gb)


def _run_and_judge(lab: Lab, placement, grade: StudentGrade, time_limit_s, output_limit_mb, memory_limit_gb) -> None:
    token = integrity.new_token()
    limit_bytes = int(output_limit_mb * 1e6)
    graded = assemble.assemble(lab.nb, placement, integrity.preamble_source(limit_bytes),
                               lambda label: integrity.record_source(token, label),
                               integrity.final_source(token, lab.called))
    with tempfile.TemporaryDirectory(prefix="grade-") as folder:  # the student's files land here, then vanish
        outcome = run_capped(graded.nb, folder, time_limit_s, limit_bytes, int(memory_limit_gb * 2**30))
    grade.executed = graded.nb
    whole = _notebook_verdict(lab, graded, outcome, token, output_limit_mb)
    if whole:
        grade.rows = _whole(lab, *whole)
        return
    grade.rows = [row for index, names in enumerate(lab.checks)
                  for row in _judge_check(graded, index, names, token, placement)]
    if _exercise_errors(graded):
        grade.notes.append(_exercise_errors(graded))
    if any(_out_of_memory(error_of(c)) for c in graded.nb.cells):
        grade.notes.append(f"a cell ran out of memory: the grader gives a notebook {memory_limit_gb:g} GiB")


def _notebook_verdict(lab: Lab, graded, outcome, token: str, output_limit_mb):
    """(verdict, message) for the whole notebook when it did not run to a trusted end, else None."""
    cells = graded.nb.cells
    if outcome.status == "output limit" or any(integrity.GRADER_OUTPUT_MARK in text_of(c)
                                               or getattr(error_of(c), "ename", "") == "OutputLimitReached" for c in cells):
        return OUTPUT_LIMIT, f"the notebook printed more than {output_limit_mb:g} MB and was stopped"
    if outcome.status == "timeout":
        return TIMEOUT, outcome.detail + _exercise_errors(graded, prefix="; ")
    if outcome.status == "kernel died":
        return ERROR, outcome.detail
    final = integrity.payload(cells[graded.final], token)
    if final is None:
        return TAMPERING, "the grader's last cell could not verify the kernel" + _cell_error(cells[graded.final])
    findings = integrity.runtime_findings(final, lab.course)
    if findings:
        return TAMPERING, "after the run: " + "; ".join(findings[:4]) + ("; ..." if len(findings) > 4 else "")
    return None


def _out_of_memory(error) -> bool:
    """An allocation refused: Python's MemoryError, or PyTorch's allocator saying so."""
    return error is not None and (error.ename == "MemoryError" or "allocate memory" in str(error.evalue))


def _cell_error(cell) -> str:
    error = error_of(cell)
    return f" ({error.ename}: {error.evalue})" if error else ""


def _exercise_errors(graded, prefix="") -> str:
    errors = [f"exercise cell {n + 1} raised {e.ename}: {e.evalue}"
              for n, index in enumerate(graded.exercise_cells) if (e := error_of(graded.nb.cells[index]))]
    return prefix + "; ".join(errors) if errors else ""


def _judge_check(graded, index: int, names: list, token: str, placement) -> list:
    cells = graded.nb.cells
    before_cell, after_cell = graded.records[index]
    check_cell = cells[graded.check_cells[index]]
    before, after = integrity.payload(cells[before_cell], token), integrity.payload(cells[after_cell], token)
    missing = [f"the exercise cell '{line}' is missing from the submission: the lab's own (unsolved) cell ran "
               "in its place" for line in placement.missing]
    error = error_of(check_cell)
    if error:
        why = _exercise_errors(graded) or "the exercise cells ran without error"
        message = "; ".join([*missing, f"the check could not run: {error.ename}: {error.evalue} ({why})"])
        return [Row(name, MISSING if missing else ERROR, message) for name in names]
    problem = _record_problem(before, after, names, check_cell)
    if problem:
        return [Row(name, TAMPERING, problem) for name in names]
    rows = []
    for result in after["results"][len(before["results"]):]:
        verdict = MISSING if missing else PASSED if result["passed"] else NOT_PASSED
        headline = "passed" if result["passed"] else "not fixed yet"
        evidence = [*missing, *result["evidence"]]
        rows.append(Row(result["check"], verdict, "; ".join([*missing, headline, *result["evidence"]]),
                        evidence, result["hint"]))
    return rows


def _record_problem(before, after, names: list, check_cell) -> str | None:
    """Why the grader's records around a check cell cannot be trusted, or None."""
    if before is None or after is None:
        return "the grader's record of the check results is missing: its cell was disturbed"
    old, new = before["results"], after["results"]
    if [r["id"] for r in new[: len(old)]] != [r["id"] for r in old] or \
            any(a != b for a, b in zip(new[: len(old)], old)):
        return "results recorded before the check cell were removed or changed"
    added = new[len(old):]
    if len(added) != len(names):
        return f"the check cell recorded {len(added)} results, the lab's check records {len(names)}"
    if not all(r["exact_type"] for r in added):
        return "a recorded result is not the course's CheckResult"
    if [r["check"] for r in added] != names:
        return f"the check cell recorded {[r['check'] for r in added]}, the lab's check is {names}"
    shown = result_text(check_cell).strip()  # not its prints: a student's function may print while checked
    if shown and shown != "\n".join(r["text"] for r in added).strip():
        return "what the check cell displayed differs from the result it recorded"
    return None


# ---------------------------------------------------------------- a whole class

def grade_class(lab_path, submissions, out, jobs: int = 1, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
                output_limit_mb: float = DEFAULT_OUTPUT_LIMIT_MB, static: bool = True, progress=print,
                memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB) -> list:
    """Grade every submission (``jobs`` at a time), write the CSV, the feedback and the executed notebooks.

    Returns the StudentGrades sorted by student. Raises ValueError before
    grading anything if two submissions would get the same student id.
    """
    lab = Lab.load(lab_path)
    paths = [Path(p) for p in submissions]
    ids = student_ids(paths, lab.path)
    clashes = sorted({i for i in ids if ids.count(i) > 1})
    if clashes:
        raise ValueError(f"two submissions give the same student id: {', '.join(clashes)} (rename one)")
    fingerprint = integrity.source_fingerprint()
    grades = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_submission, lab, p, time_limit_s, output_limit_mb, static, student,
                               memory_limit_gb)
                   for p, student in zip(paths, ids)]
        for done, future in enumerate(as_completed(futures), 1):
            grade = future.result()
            grades.append(grade)
            progress(f"[{done}/{len(paths)}] {grade.student}: {_overall(grade)} ({grade.seconds:.1f} s)")
    grades.sort(key=lambda g: g.student)
    if integrity.source_fingerprint() != fingerprint:
        progress("WARNING: files of course_utils changed while grading (a submission may have rewritten them); "
                 "reinstall the course and grade again")
    write_outputs(grades, lab, Path(out))
    return grades


def _overall(grade: StudentGrade) -> str:
    verdicts = sorted({r.verdict for r in grade.rows}, key=VERDICTS.index)
    return ", ".join(verdicts)


def csv_rows(grades) -> list:
    return [{"student": g.student, "check": r.check, "verdict": r.verdict,
             "message": r.message + (f" [notes: {'; '.join(g.notes)}]" if g.notes else ""),
             "seconds": f"{g.seconds:.1f}"} for g in grades for r in g.rows]


def write_outputs(grades, lab: Lab, out: Path) -> None:
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    (out / "executed").mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_rows(grades))
    for grade in grades:
        (out / "feedback" / f"{grade.student}.txt").write_text(feedback(grade, lab))
        if grade.executed is not None:
            nbformat.write(grade.executed, str(out / "executed" / f"{grade.student}.ipynb"))


def feedback(grade: StudentGrade, lab: Lab) -> str:
    lines = [f"{lab.path.name}: feedback for {grade.student} ({grade.path.name})", ""]
    for row in grade.rows:
        lines.append(f"{row.check}: {row.verdict.upper()}")
        lines += [f"  - {line}" for line in (row.evidence or [row.message])]
        if row.hint and row.verdict != PASSED:
            lines.append(f"  hint: {row.hint}")
        lines.append("")
    if grade.notes:
        lines += ["Notes:"] + [f"  - {note}" for note in grade.notes]
    return "\n".join(lines).rstrip() + "\n"


def summary(grades) -> str:
    """A plain-text table: one line per student and check, then the count of each verdict."""
    rows = [(g.student, r.check, r.verdict, f"{g.seconds:.1f}") for g in grades for r in g.rows]
    header = ("student", "check", "verdict", "seconds")
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    line = lambda values: "  ".join(str(v).ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    counts = {v: sum(r[2] == v for r in rows) for v in VERDICTS}
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows), "", f"{len(grades)} students: {tally}"])
