"""The layout of course_utils: the engine apart from one lesson's helpers.

The engine (everything but ``lessons/`` and ``checks/``) is what every lesson
uses; a lesson's module and a lab's check may use the engine, never the other
way round, so a change to one lesson's module can break only that lesson.
"""
import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import course_utils

PACKAGE = Path(course_utils.__file__).parent
LESSON_ROOMS = ("lessons", "checks")  # one lesson's (or one lab's) code


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, name: str, is_package: bool = False) -> set:
    """Every module ``source`` (the module ``name``) imports, relative imports resolved, at any depth of the code."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import x` imports x
    return found


def in_lesson_room(module: str) -> bool:
    return any(module == f"course_utils.{room}" or module.startswith(f"course_utils.{room}.") for room in LESSON_ROOMS)


def engine_files():
    return [p for p in sorted(PACKAGE.rglob("*.py")) if not in_lesson_room(module_name(p))]


def test_the_import_reader_sees_a_lesson_import_however_it_is_written():
    """The rule below is only as good as this reader: each of these imports a lesson's module."""
    for source, name in [("from ..lessons import tiny_data", "course_utils.training.retrain"),
                         ("from ..lessons.tiny_data import Standardizer", "course_utils.training.retrain"),
                         ("def f():\n    from .lessons import dying_relu", "course_utils.plots"),
                         ("import course_utils.lessons.linear_convs", "course_utils.panel"),
                         ("from . import lessons", "course_utils"),
                         ("from .checks.tiny_data import check_memorised", "course_utils")]:
        is_package = name == "course_utils"
        assert any(in_lesson_room(m) for m in imported_modules(source, name, is_package)), source
    assert not any(in_lesson_room(m) for m in imported_modules("from .checks import check_dead",
                                                               "course_utils.diagnosis.checklist"))


def test_the_engine_never_imports_a_lesson_module():
    files = engine_files()
    assert len(files) >= 20 and any(p.name == "retrain.py" for p in files)
    offenders = {}
    for path in files:
        name = module_name(path)
        bad = sorted(m for m in imported_modules(path.read_text(), name, path.name == "__init__.py")
                     if in_lesson_room(m))
        if bad:
            offenders[name] = bad
    assert not offenders, f"the engine imports one lesson's code: {offenders}"


def test_every_module_opens_with_a_short_docstring():
    """One or two lines saying what the module is for; more may follow after a blank line."""
    for path in sorted(PACKAGE.rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc, f"{path.relative_to(PACKAGE.parent)} has no docstring"
        summary = doc.split("\n\n")[0]
        assert len(summary.splitlines()) <= 2, f"{path.relative_to(PACKAGE.parent)}: {summary!r}"


def test_the_package_docstring_is_a_map_of_every_room():
    rooms = {info.name for info in pkgutil.iter_modules([str(PACKAGE)])}
    assert {"lessons", "checks", "training", "instruments", "diagnosis"} <= rooms
    missing = [room for room in rooms if room not in course_utils.__doc__]
    assert not missing, f"course_utils/__init__.py does not say what these are: {missing}"
    lesson_modules = {info.name for info in pkgutil.iter_modules([str(PACKAGE / "lessons")])}
    lessons_doc = importlib.import_module("course_utils.lessons").__doc__
    assert lesson_modules and all(f"{m} " in lessons_doc for m in lesson_modules)
    notebooks = {p.stem.split("_", 1)[1] for p in (PACKAGE.parent / "lessons").glob("*.ipynb")}
    assert lesson_modules <= notebooks, "a lesson's module is named after its notebook"


@pytest.mark.parametrize("old, new", sorted(course_utils.MOVED.items()))
def test_a_module_that_moved_still_imports_by_its_old_name(old, new):
    """Notebooks saved before the rooms (a student's copy) keep running: the old name is the same module."""
    moved = importlib.import_module(f"course_utils.{new}")
    assert importlib.import_module(f"course_utils.{old}") is moved
    assert getattr(course_utils, old) is moved
    assert moved.__name__ == f"course_utils.{new}"
    namespace = {}
    exec(f"from course_utils import {old}", namespace)
    assert namespace[old] is moved


def test_an_unknown_name_is_still_an_import_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("course_utils.no_such_module")
    with pytest.raises(AttributeError):
        course_utils.no_such_module  # noqa: B018
