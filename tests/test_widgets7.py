"""The live panel under ipywidgets 7.7, the series Colab ships, driven from Python as a student's clicks would.

It runs in the environment tests/widgets7_env.py builds (the course's packages, ipywidgets 7.7.1
in front of them) and skips, naming that command, when the environment is absent: the suite
installs nothing. Run as a script, this file is the smoke itself; it prints its findings as
JSON for the test to check. Keywords 7.7 lacks are turned into errors (traitlets only warns
about them and drops them), so a control built with an 8.x-only option fails here.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from widgets7_env import PYTHON, VENV, WIDGETS7_REQUIREMENT, widgets_version

ROOT = Path(__file__).resolve().parents[1]


def status_text(panel) -> str:
    return re.sub(r"<[^>]+>", "", panel.status.value)


def drive_lesson08() -> dict:
    """Lesson 08's panel (toggles, float sliders): a toggle retrains and redraws, an extreme dropout is refused."""
    from course_utils.lessons import weights_never_move

    panel = weights_never_move.explore_panel()
    facts = {"controls": sorted(type(control).__name__ for control in panel.controls.values())}
    panel.set(skip_step=True)  # one retrain (the lesson's 150 steps): the cost of this test
    facts["skip_step"] = {"status": status_text(panel), "moved": float(max(panel.last_result.ratios.values())),
                          "figure_is_png": panel.image.value.startswith(b"\x89PNG")}
    panel.set(dropout=0.95)
    facts["extreme"] = {"status": status_text(panel), "runs": panel.runs}
    return facts


def drive_other_controls(cu) -> dict:
    """The control makers lesson 08 does not use (log slider, int slider, dropdown) in a panel that trains nothing."""
    def train(values, progress):
        progress.report(1.0)
        return values

    def draw(fig, values, _current):
        fig.subplots().plot([values["lr"], values["steps"]])

    panel = cu.Panel(controls={"lr": cu.panel.log_slider("learning rate", 1e-4, 1.0, 1e-2),
                               "steps": cu.panel.int_slider("steps", 10, 100, 20),
                               "case": cu.panel.choice("case", ["broken", "fixed"])},
                     train=train, draw=draw, describe=lambda values: f"{values['case']}, {values['steps']} steps")
    panel.set(case="fixed", steps=50, lr=1.0)
    return {"status": status_text(panel), "runs": panel.runs, "values": panel.values}


def smoke() -> dict:
    import warnings

    warnings.filterwarnings("error", message="Passing unrecognized arguments")
    import ipywidgets

    import course_utils as cu

    return {"ipywidgets": ipywidgets.__version__, "lesson08": drive_lesson08(), "other": drive_other_controls(cu)}


@pytest.fixture(scope="module")
def findings() -> dict:
    version = widgets_version()
    if version is None:
        pytest.skip(f"no ipywidgets 7.7 environment at {VENV}: build it once with `python tests/widgets7_env.py`")
    try:
        done = subprocess.run([str(PYTHON), __file__], capture_output=True, text=True, cwd=ROOT, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.fail("the ipywidgets 7.7 smoke did not finish within 600 s")
    assert done.returncode == 0, f"the panel failed under ipywidgets {version}:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_environment_imports_ipywidgets_7_7(findings):
    assert findings["ipywidgets"] == WIDGETS7_REQUIREMENT.split("==")[1]


def test_lesson08_panel_retrains_draws_and_refuses_under_7_7(findings):
    lesson = findings["lesson08"]
    assert lesson["controls"] == ["Checkbox", "Checkbox", "Checkbox", "FloatSlider", "FloatSlider"]
    assert lesson["skip_step"]["status"].startswith("Run 1:"), lesson["skip_step"]
    assert lesson["skip_step"]["moved"] == 0, "with optimizer.step() skipped no weight may move"
    assert lesson["skip_step"]["figure_is_png"], "the panel drew no figure"
    assert lesson["extreme"]["status"].startswith("Not run:") and lesson["extreme"]["runs"] == 1, lesson["extreme"]


def test_log_slider_int_slider_and_dropdown_work_under_7_7(findings):
    other = findings["other"]
    assert other["values"] == {"lr": 1.0, "steps": 50, "case": "fixed"}
    assert other["runs"] == 3, other  # one retrain per change
    assert other["status"].startswith("Run 3: fixed, 50 steps"), other["status"]
    assert "learning rate is at its maximum" in other["status"], other["status"]


if __name__ == "__main__":
    print(json.dumps(smoke()))
