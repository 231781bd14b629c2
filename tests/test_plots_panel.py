"""Plots and the live panel, driven from Python as a student's clicks would."""
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils import panel as panel_module
from course_utils.runs import TrainingRun

X, Y = (torch.from_numpy(a) for a in cu.data.one_batch(32))


def test_plots_draw_the_data_they_are_given_and_leak_no_figures():
    run = TrainingRun(losses=np.array([2.3, 1.0, 0.1]), diverged_at=None)
    fig, (a, b, c) = cu.plots.figure(ncols=3)
    cu.plots.loss_curve(a, {"run": run}, chance=2.3)
    np.testing.assert_allclose(a.lines[0].get_ydata(), [2.3, 1.0, 0.1])
    assert a.get_yscale() == "log"
    cu.plots.layer_bars(b, {"fc1": 0.5, "fc2": 0.25}, "dead")
    assert [p.get_height() for p in b.patches] == [0.5, 0.25]
    cu.plots.pred_vs_target(c, [1.0, 2.0], [1.5, 2.5])
    np.testing.assert_allclose(c.collections[0].get_offsets(), [[1.5, 1.0], [2.5, 2.0]])
    with pytest.raises(ValueError, match="2 predictions for 3 targets"):
        cu.plots.pred_vs_target(c, [1.0, 2.0], [1.0, 2.0, 3.0])
    assert plt.get_fignums() == []


def make_panel(live=True, check=None, train_override=None):
    def train(values, progress):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, values["width"]), nn.ReLU(), nn.Linear(values["width"], 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=values["lr"])
        return cu.train_torch(model, X, Y, nn.functional.cross_entropy, optimizer, values["steps"],
                              on_sample=progress.on_sample(values["steps"]))

    def draw(fig, run, values):
        cu.plots.loss_curve(fig.subplots(), run)

    return cu.Panel(
        controls={"lr": cu.panel.log_slider("lr", 1e-3, 100.0, 0.1),
                  "steps": cu.panel.int_slider("steps", 1, 500, 50),
                  "width": cu.panel.int_slider("width", 1, 64, 16)},
        train=train_override or train, draw=draw, live=live, check=check,
    )


def plotted_losses(panel):
    return panel.figure.axes[0].lines[0].get_ydata()


def test_panel_retrains_when_a_control_changes():
    panel = make_panel()
    first = panel.run()
    assert panel.runs == 1 and first.steps_done == 50
    np.testing.assert_allclose(plotted_losses(panel), first.losses)
    png = panel.image.value
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    panel.set(steps=120)
    assert panel.runs == 2 and panel.last_result.steps_done == 120
    assert len(plotted_losses(panel)) == 120 and panel.image.value != png
    assert panel.status_kind == "ok" and "Run 2: 120 steps" in panel.status.value
    assert panel.progress.value == 1.0
    assert len(panel.figure.axes) == 1  # redrawn into the same figure, not stacked


def test_sliders_follow_the_widget_rules():
    panel = make_panel()
    assert all(c.continuous_update is False for c in panel.controls.values())
    forced = cu.Panel(controls={"n": widgets.IntSlider(value=1, min=1, max=3, continuous_update=True)},
                      train=lambda v, p: None, draw=lambda f, r, v: None)
    assert forced.controls["n"].continuous_update is False
    assert panel_module.PANEL_CSS_CLASS in panel.widget._dom_classes


def test_diverging_setting_is_reported_not_raised():
    panel = make_panel()
    result = panel.set(lr=100.0).last_result
    assert result.diverged and panel.last_error is None
    assert panel.status_kind == "finding"
    assert f"diverged at step {result.diverged_at}" in panel.status.value and "smaller learning rate" in panel.status.value


def test_extreme_value_is_clamped_by_the_slider():
    panel = make_panel()
    panel.set(width=10_000)
    assert panel.controls["width"].value == 64 and panel.last_values["width"] == 64
    assert "width is at its maximum (64); values beyond it are clamped" in panel.status.value
    panel.set(width=32)
    assert "clamped" not in panel.status.value


def test_an_exception_is_shown_and_the_panel_keeps_working():
    def train(values, progress):
        if values["width"] == 3:
            raise ValueError("width 3 is cursed")
        return TrainingRun(losses=np.array([1.0, 0.5]))

    panel = make_panel(train_override=train)
    panel.set(width=3)
    assert panel.status_kind == "error" and "ValueError: width 3 is cursed" in panel.status.value
    assert isinstance(panel.last_error, ValueError) and panel.progress.bar_style == "danger"
    panel.set(width=4)
    assert panel.status_kind == "ok" and panel.last_error is None


def test_check_can_refuse_settings_with_a_message():
    panel = make_panel(check=lambda v: "too many steps for width 1" if v["width"] == 1 and v["steps"] > 100 else None)
    panel.set(width=1)
    runs = panel.runs
    panel.set(steps=200)
    assert panel.runs == runs and panel.status_kind == "refused"
    assert "too many steps for width 1" in panel.status.value


def test_run_button_mode_waits_for_the_button():
    panel = make_panel(live=False)
    panel.set(steps=30)
    assert panel.runs == 0 and "press <b>Run</b>" in panel.status.value
    panel.run_button.click()
    assert panel.runs == 1 and panel.last_result.steps_done == 30


def test_progress_redraws_while_training(monkeypatch):
    monkeypatch.setattr(panel_module, "REDRAW_SECONDS", 0.01)

    def slow_train(values, progress):
        losses = []
        for step in range(5):
            losses.append(1.0 / (step + 1))
            time.sleep(0.02)
            progress.report(step / 10, TrainingRun(losses=np.array(losses)))
        return TrainingRun(losses=np.array(losses))

    panel = make_panel(train_override=slow_train)
    panel.run()
    assert panel.last_progress.redraws >= 3
    assert 0 < panel.last_progress.first_redraw_seconds < panel.last_seconds


def test_unknown_control_is_a_clear_error():
    with pytest.raises(KeyError, match="no control"):
        make_panel().set(learning_rate=0.1)
    with pytest.raises(ValueError, match="0 < low < high"):
        cu.panel.log_slider("lr", 0.0, 1.0, 0.1)
