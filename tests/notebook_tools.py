"""Helpers for tests that run or read notebooks."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# Reading notebooks is shared with the class grader.
from course_utils.grade.notebooks import code_cells, read, stdout_of, tagged  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_FOLDERS = ("lessons", "labs", "solutions")


def all_notebooks():
    return sorted(p for folder in NOTEBOOK_FOLDERS for p in (ROOT / folder).glob("*.ipynb"))


def execute(path, append_source: str | None = None, timeout: int = 600, env: dict | None = None):
    """Run a notebook in a fresh kernel of this environment (in its own folder).

    append_source: one more code cell to run at the end (e.g. to read results).
    env: extra environment variables for the kernel.
    Returns the executed notebook.
    """
    nb = read(path)
    if append_source:
        nb.cells.append(nbformat.v4.new_code_cell(append_source))
    saved = dict(os.environ)
    os.environ.update(env or {})
    # The python3 kernel spec runs "python" from PATH: make it this environment's.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(Path(path).parent)}})
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def lab_check_results(path):
    """Run a lab or solution notebook and return what its checks decided."""
    nb = execute(path, append_source="import course_utils.labs as _labs\nprint(_labs.results_json())")
    return json.loads(stdout_of(nb.cells[-1]).strip().splitlines()[-1])
