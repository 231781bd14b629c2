"""The notebook that is graded: the official lab with the student's exercise cells in their places.

Exercise cells are matched by cell id when the lab's cell has one and the
submission holds a cell with that id (its tag may have been lost); the
lab's exercise cells left over are matched by position with the submission's
exercise cells left over. A lab exercise cell with no match keeps the lab's own
code and is reported; an exercise cell of the submission that matches none is
run right after the exercise cell before it, and reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .notebooks import read, tagged, text_of

EXERCISE, CHECK = "exercise", "check"


@dataclass
class Placement:
    """Which student cell goes where, and what the grader noticed on the way."""

    sources: list            # per lab exercise cell: the student's source(s) to run there
    missing: list = field(default_factory=list)   # lab exercise cells the submission lacks (their first lines)
    notes: list = field(default_factory=list)
    student_sources: list = field(default_factory=list)  # every cell of the student's that will run


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def first_line(source: str) -> str:
    line = next((l.strip() for l in source.splitlines() if l.strip()), "(empty)")
    return line if len(line) <= 60 else line[:57] + "..."


def place_exercises(lab, submission) -> Placement:
    lab_cells = tagged(lab, EXERCISE)
    by_id = {c.get("id"): c for c in submission.cells if c.get("id")}
    chosen, notes = [None] * len(lab_cells), []
    for index, cell in enumerate(lab_cells):
        match = by_id.get(cell.get("id")) if cell.get("id") else None
        if match is not None and match.cell_type == "code":
            chosen[index] = match
            if EXERCISE not in _tags(match):
                notes.append(f"the exercise cell '{first_line(cell.source)}' lost its 'exercise' tag; graded anyway")
    taken = {id(c) for c in chosen if c is not None}
    spare = [c for c in tagged(submission, EXERCISE) if id(c) not in taken and c.cell_type == "code"]
    open_slots = [i for i, c in enumerate(chosen) if c is None]
    if open_slots and len(spare) == len(open_slots):  # ids differ (a copied cell, an old format): by position
        for index, cell in zip(open_slots, spare):
            chosen[index] = cell
        notes.append(f"{len(spare)} exercise cell(s) matched by position: their cell ids differ from the lab's")
        spare = []
    sources = [[c.source] if c is not None else [lab_cells[i].source] for i, c in enumerate(chosen)]
    missing = [first_line(lab_cells[i].source) for i, c in enumerate(chosen) if c is None]
    _attach_extras(submission, chosen, spare, sources, notes)
    return Placement(sources, missing, notes, [c.source for c in chosen if c is not None] + [c.source for c in spare])


def _attach_extras(submission, chosen, spare, sources, notes) -> None:
    """Each extra exercise cell runs after the matched exercise cell that precedes it in the submission."""
    position = {id(c): i for i, c in enumerate(submission.cells)}
    slots = sorted((position[id(c)], slot) for slot, c in enumerate(chosen) if c is not None)
    for cell in spare:
        before = [slot for where, slot in slots if where < position[id(cell)]]
        slot = before[-1] if before else 0
        sources[slot].append(cell.source)
        notes.append(f"an extra exercise cell '{first_line(cell.source)}' was run after exercise cell {slot + 1}")


def edited_cells(lab, submission) -> list:
    """Notes on the lab's check cells (and other code cells) that the submission changed: the lab's own ran."""
    by_id = {c.get("id"): c for c in submission.cells if c.get("id")}
    their_checks = tagged(submission, CHECK)
    notes = []
    for cell in lab.cells:
        if cell.cell_type != "code" or EXERCISE in _tags(cell):
            continue
        theirs = by_id.get(cell.get("id"))
        if theirs is None and CHECK in _tags(cell):  # ids differ: the check cell at the same position
            position = tagged(lab, CHECK).index(cell)
            theirs = their_checks[position] if position < len(their_checks) else None
        if theirs is None or theirs.source.strip() == cell.source.strip():
            continue
        what = "check cell" if CHECK in _tags(cell) else "lab cell"
        notes.append(f"your edit to the {what} '{first_line(cell.source)}' was ignored: the official one ran")
    return notes


# ---------------------------------------------------------------- the right lab?

def title_of(nb) -> str:
    cell = next((c for c in nb.cells if c.cell_type == "markdown" and c.source.strip()), None)
    return first_line(cell.source).lstrip("# ").strip() if cell else ""


def _fixed_sources(nb) -> set:
    return {c.source.strip() for c in nb.cells if EXERCISE not in _tags(c) and c.source.strip()}


def likeness(lab, submission) -> float:
    """The share of the lab's own (non-exercise) cells the submission holds unchanged."""
    ours = _fixed_sources(lab)
    return len(ours & {c.source.strip() for c in submission.cells}) / max(1, len(ours))


def wrong_lab(lab_path: Path, lab, submission) -> str | None:
    """Why the submission is not for this lab, or None. Another lab it resembles more is named."""
    own = likeness(lab, submission)
    best_name, best = None, own
    for other in sorted(lab_path.parent.glob("*.ipynb")):
        if other.resolve() == lab_path.resolve():
            continue
        try:
            score = likeness(read(other), submission)
        except Exception:  # an unreadable file next to the lab is not this submission's fault
            continue
        if score > best:
            best_name, best = other.name, score
    if best_name:
        return (f"this is a submission for {best_name} ('{title_of(read(lab_path.parent / best_name))}'), "
                f"not for {lab_path.name}: {best:.0%} of that lab's cells against {own:.0%} of this one's")
    ids = {c.get("id") for c in submission.cells}
    if own < 0.5 and not any(c.get("id") in ids for c in tagged(lab, EXERCISE)):
        return (f"this does not look like {lab_path.name} ('{title_of(lab)}'): it holds {own:.0%} of the lab's cells "
                f"and none of its exercise cells")
    return None


# ---------------------------------------------------------------- the notebook to run

@dataclass
class Graded:
    """The notebook to execute and where its cells of interest are."""

    nb: nbformat.NotebookNode
    exercise_cells: list      # indices in nb of the student's cells
    check_cells: list         # indices of the official check cells
    records: list             # (index before, index after) of the grader's record cells around each check cell
    final: int


def assemble(lab, placement: Placement, preamble: str, record, final: str) -> Graded:
    """The lab's cells, the student's exercise code in place, the grader's cells around the checks and at the end."""
    cells = [nbformat.v4.new_code_cell(preamble)]
    exercise_cells, check_cells, records = [], [], []
    slot = 0
    for cell in lab.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        if EXERCISE in _tags(cell):
            for source in placement.sources[slot]:
                exercise_cells.append(len(cells))
                cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": [EXERCISE]}))
            slot += 1
        elif CHECK in _tags(cell):
            before = len(cells)
            cells.append(nbformat.v4.new_code_cell(record(f"before {len(check_cells)}")))
            check_cells.append(len(cells))
            cells.append(nbformat.v4.new_code_cell(cell.source, metadata={"tags": [CHECK]}))
            records.append((before, len(cells)))
            cells.append(nbformat.v4.new_code_cell(record(f"after {len(check_cells) - 1}")))
        else:
            cells.append(nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata)))
    cells.append(nbformat.v4.new_code_cell(final))
    nb = nbformat.v4.new_notebook(cells=cells, metadata=lab.metadata)
    return Graded(nb, exercise_cells, check_cells, records, len(cells) - 1)


HEADLINE = re.compile(r"^(?:PASSED  |NOT YET )(?P<name>.*?): (?:passed|not fixed yet)$")


def expected_checks(lab) -> list:
    """Per check cell of the lab: the check names its committed output shows (the cell's first line if none)."""
    expected = []
    for index, cell in enumerate(tagged(lab, CHECK)):
        names = [m.group("name") for line in text_of(cell).splitlines() if (m := HEADLINE.match(line))]
        expected.append(names or [f"check {index + 1}: {first_line(cell.source)}"])
    return expected


def called_names(lab) -> list:
    """The dotted names the lab's check cells call (``check_fit``, ``lab.check_fit``)."""
    import ast

    names = set()
    for cell in tagged(lab, CHECK):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                try:
                    names.add(ast.unparse(node.func))
                except Exception:
                    pass
    return sorted(n for n in names if re.fullmatch(r"[A-Za-z_][\w.]*", n))
