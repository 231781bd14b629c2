"""Notebook settings for nbval, shared by every notebook the suite collects.

- stderr is not compared: TensorFlow and friends write warnings there that
  vary by machine (the hygiene test separately demands that committed
  notebooks carry no stderr at all);
- labs/ are run end to end without comparing outputs: a lab is where the
  student's own code goes, and its checks are proven by tests/test_labs.py.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def pytest_collectstart(collector):
    path = getattr(collector, "path", None)
    if path is None or path.suffix != ".ipynb":
        return
    collector.skip_compare += ("stderr",)
    if path.parent.name == "labs":
        collector.compare_outputs = False
