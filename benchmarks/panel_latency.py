"""Each lesson's live panel: time from a value change to the finished redraw.

    python benchmarks/panel_latency.py [lessons/NN_name.ipynb ...]

Runs each lesson in a fresh kernel (as a student would, top to bottom), then
finds its course_utils Panel(s) and changes one numeric control back and forth
several times, as a student releasing a slider. Reports per panel the median
time from the change to the finished redraw, and the time from the start of a
run to its first intermediate redraw (None when a run finished before one was
due). Panels with a Run button (live=False) are timed through the button.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from notebook_tools import execute, stdout_of  # noqa: E402

MEASURE = r'''
import json as _json, statistics as _statistics
from course_utils.panel import Panel as _Panel

def _measure(panel, changes=5):
    numeric = [(n, c) for n, c in panel.controls.items()
               if hasattr(c, "min") and hasattr(c, "max") and not isinstance(c.value, bool)]
    name, control = numeric[-1]
    original = control.value
    other = control.min if original != control.min else control.max
    # a nearby value: one slider step away, so that the run costs about what the default costs
    step = getattr(control, "step", None) or 1
    nearby = original + step if original + step <= control.max else original - step
    seconds, first_redraws = [], []
    for i in range(changes):
        control.value = nearby if i % 2 == 0 else original
        if not panel.live:
            panel.run()
        seconds.append(panel.last_seconds)
        first_redraws.append(panel.last_progress.first_redraw_seconds if panel.last_progress else None)
    shown = [s for s in first_redraws if s is not None]
    return {"control": name, "median_s": _statistics.median(seconds),
            "first_redraw_s": _statistics.median(shown) if shown else None, "live": panel.live}

_panels = {}
for _name, _value in sorted(globals().items(), key=lambda item: item[0].startswith("_")):
    if isinstance(_value, _Panel) and all(_value is not p for p in _panels.values()):
        _panels[_name] = _value  # named panels first; IPython's _, _12 are the same objects
print(_json.dumps({k: _measure(v) for k, v in _panels.items()}))
'''


def main(paths):
    paths = paths or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "lessons").glob("*.ipynb"))
    print(f"{'lesson':40} {'panel':12} {'control':14} {'median redraw':>14} {'first partial':>14}")
    for path in paths:
        nb = execute(ROOT / path, append_source=MEASURE)
        results = json.loads(stdout_of(nb.cells[-1]).strip().splitlines()[-1])
        for panel, r in results.items():
            first = "-" if r["first_redraw_s"] is None else f"{r['first_redraw_s']:.2f} s"
            mode = "" if r["live"] else " (Run)"
            print(f"{Path(path).stem:40} {panel:12} {r['control']:14} {r['median_s']:>12.2f} s {first:>14}{mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
